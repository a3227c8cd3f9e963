#!/usr/bin/env python3
"""Seed corpora for the safetensors, statistics/salient, tokenizer, config.json and training
checkpoint fuzzers: small valid files written independently of gift (struct and json).
Usage: fuzz_seeds.py <safetensors folder> <stats folder> <tokenizer folder> <config folder>
                     <checkpoint folder>."""
import json
import os
import struct
import sys

safetensors_dir, stats_dir, tokenizer_dir, config_dir, checkpoint_dir = sys.argv[1:6]
os.makedirs(checkpoint_dir, exist_ok=True)
os.makedirs(config_dir, exist_ok=True)
os.makedirs(tokenizer_dir, exist_ok=True)
os.makedirs(safetensors_dir, exist_ok=True)
os.makedirs(stats_dir, exist_ok=True)


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


seeds = {
    "f32.safetensors": safetensors({"w": ("F32", [2, 3], struct.pack("<6f", 1, -2, 0.5, 3, 4, -1))},
                                   {"gift.bits": "4"}),
    "mixed.safetensors": safetensors({"a": ("F16", [4], struct.pack("<4H", 0x3C00, 0xC000, 0x7BFF, 0x0001)),
                                      "b": ("BF16", [2], struct.pack("<2H", 0x3F80, 0xBF80)),
                                      "c": ("F64", [1], struct.pack("<d", 0.25)),
                                      "s": ("F32", [], struct.pack("<f", 7))}),
}
for name, data in seeds.items():
    with open(os.path.join(safetensors_dir, name), "wb") as f:
        f.write(data)

# Statistics: magic, columns, tokens, extra-power count, powers, then (3 + count) vectors.
def stats(columns, tokens, powers):
    body = b"GIFTSTA1" + struct.pack("<QQI", columns, tokens, len(powers))
    body += b"".join(struct.pack("<i", p) for p in powers)
    for v in range(3 + len(powers)):
        body += b"".join(struct.pack("<d", 0.5 * (v + 1) + c) for c in range(columns))
    return body


with open(os.path.join(stats_dir, "stats_plain"), "wb") as f:
    f.write(b"\x00" + stats(5, 64, []))
with open(os.path.join(stats_dir, "stats_powers"), "wb") as f:
    f.write(b"\x03" + stats(3, 10, [3, 5]))
with open(os.path.join(stats_dir, "manifest"), "wb") as f:
    f.write(b"\x02# gift calibration v1: tokens, then file <name> <bytes> <fnv1a-64>\ntokens 4096\n"
            b"file blk.0.attn_q.stats 13896 5be3a4d7c2f19e01\nfile gram.safetensors 8 cbf29ce484222325\n")
with open(os.path.join(stats_dir, "salient"), "wb") as f:
    f.write(b"\x01# gift salient columns v1: layer in k indices...\nblk.0.attn_q 8 2 1 5\nblk.0.ffn_down 4 0\n")

# Tokenizer: text for the fixed tokenizer (first byte even), and a small vocabulary with merges
# followed by text (first byte odd).
tokenizer_seeds = {
    "english": b"\x00The theory of everything: 12 + 120 = 132, isn't it?\n\tEnd.",
    "chat": b"\x02<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "unicode": b"\x04caf\xc3\xa9 \xe2\x82\xac5 \xf0\x9f\x98\x80 na\xc3\xafve  spaces   \r\n",
    "invalid_utf8": b"\x06ab\xff\xfe\xc3(\xe2\x82 tail",
    "vocabulary": b"\x01t a\nt b\nt ab\nt c\nm a b\n\nabcab cab",
}
for name, data in tokenizer_seeds.items():
    with open(os.path.join(tokenizer_dir, name), "wb") as f:
        f.write(data)

# config.json: SmolLM2-135M's values (as transformers writes them), a tiny model, and one with
# every optional key the reader knows.
smollm2 = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576,
           "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
           "num_key_value_heads": 3, "vocab_size": 49152, "rms_norm_eps": 1e-5, "rope_theta": 100000.0,
           "max_position_embeddings": 8192, "tie_word_embeddings": True, "hidden_act": "silu"}
configs = {
    "smollm2.json": smollm2,
    "tiny.json": dict(smollm2, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                      num_key_value_heads=1, vocab_size=10),
    "options.json": dict(smollm2, head_dim=64, attention_bias=False, mlp_bias=False, pretraining_tp=1,
                         rope_scaling=None, torch_dtype="bfloat16"),
}
for name, value in configs.items():
    with open(os.path.join(config_dir, name), "w") as f:
        json.dump(value, f)

# Training checkpoints (gift/io/training_checkpoint.hpp): weights, two blocks of AdamW moments, the
# step, the block count, the shards and a run's settings and input fingerprint; one from before
# the shard key; one whose second block's moments disagree in size.
def checkpoint(blocks, metadata):
    tensors = {"blk.0.attn_q.weight": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))}
    for b, (m, v) in enumerate(blocks):
        tensors[f"gift.state.{b}.m"] = ("F32", [len(m)], struct.pack(f"<{len(m)}f", *m))
        tensors[f"gift.state.{b}.v"] = ("F32", [len(v)], struct.pack(f"<{len(v)}f", *v))
    return safetensors(tensors, metadata)


run = {"gift.lr": "0.001", "gift.method": "gift_sw", "gift.base_fingerprint": "00000000000000ff"}
checkpoints = {
    "two_blocks": checkpoint([([0.1, 0.2], [0.01, 0.04]), ([1.0], [2.0])],
                             dict(run, **{"gift.step": "3", "gift.state.count": "2", "gift.shards": "1"})),
    "no_shards_key": checkpoint([([0.5], [0.25])], dict(run, **{"gift.step": "0", "gift.state.count": "1"})),
    "uneven": checkpoint([([0.5], [0.25]), ([1.0, 2.0], [3.0])],
                         dict(run, **{"gift.step": "7", "gift.state.count": "2", "gift.shards": "2"})),
}
for name, data in checkpoints.items():
    with open(os.path.join(checkpoint_dir, name), "wb") as f:
        f.write(data)
