#!/usr/bin/env python3
"""gift's Hugging Face export of the real SmolLM2 model, checked by independent implementations.

1. `model_check <gguf> save-hf <folder>` writes the folder (F32, and a sharded F16 copy).
2. numpy reads the folder with its own safetensors parser (8-byte header length, JSON header,
   raw little-endian data) and config.json, and runs a LLaMA forward in float64 the way
   transformers' LlamaForCausalLM does: Hugging Face tensor names, the rows as stored (no
   permutation undone), rotate_half RoPE. Its logits must equal gift's logits of the original GGUF
   (to 1e-4 relative), which checks names, the q/k row order and the config together.
3. gift loading the folder gives the GGUF model's logits bit for bit; the sharded F16 folder
   gives them to F16 rounding.
4. PyPI `tokenizers` loads the exported tokenizer.json and encodes tricky strings and real text
   (control tokens in it) to the ids gift's tokenizer gives, from the GGUF and from the folder.

usage: hf_reference.py <model_check executable>
Exit: 0 pass, 1 mismatch, 77 skipped (model or packages missing and GIFT_ALLOW_MISSING_MODEL=1).
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

# The shared helpers (tests/support/reference_support.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from reference_support import find_model, missing  # noqa: E402 (the path first)

DOC_ROOT = "/usr/share/doc/linux-doc-6.1/Documentation"


try:
    import numpy as np
    from tokenizers import Tokenizer
except ImportError as exc:  # pragma: no cover - depends on the machine
    missing(f"python package missing ({exc}); pip install numpy tokenizers")


def read_safetensors(path):
    """name -> float64 array, by the format's definition (not through gift or the safetensors package)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    dtypes = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": None}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin:base + end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            values = bits.view(np.float32)
        else:
            values = np.frombuffer(raw, dtype=dtypes[info["dtype"]])
        tensors[name] = values.astype(np.float64).reshape(info["shape"])
    return tensors


def read_folder(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    tensors = {}
    for name in files:
        tensors.update(read_safetensors(os.path.join(folder, name)))
    return json.load(open(os.path.join(folder, "config.json"))), tensors


def hf_forward(config, w, ids):
    """LlamaForCausalLM's forward in float64 (eval mode, no cache)."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    kv, eps, theta = config["num_key_value_heads"], config["rms_norm_eps"], config["rope_theta"]
    head_dim = config.get("head_dim", hidden // heads)
    T = len(ids)

    def rms(x, weight):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * weight

    inv = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.cos(np.concatenate([angles, angles], -1)), np.sin(np.concatenate([angles, angles], -1))

    def rope(x):  # (heads, T, head_dim), rotate_half
        half = head_dim // 2
        return x * cos + np.concatenate([-x[..., half:], x[..., :half]], -1) * sin

    x = w["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for b in range(config["num_hidden_layers"]):
        p = f"model.layers.{b}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(T, heads, head_dim).transpose(1, 0, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(T, kv, head_dim).transpose(1, 0, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(T, kv, head_dim).transpose(1, 0, 2)
        q, k = rope(q), rope(k)
        k, v = np.repeat(k, heads // kv, axis=0), np.repeat(v, heads // kv, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(head_dim) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        x = x + (s @ v).transpose(1, 0, 2).reshape(T, hidden) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        g, u = h @ w[p + "mlp.gate_proj.weight"].T, h @ w[p + "mlp.up_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * u) @ w[p + "mlp.down_proj.weight"].T
    head = w["model.embed_tokens.weight"] if config["tie_word_embeddings"] else w["lm_head.weight"]
    return rms(x, w["model.norm.weight"]) @ head.T


def run(args):
    result = subprocess.run(args, capture_output=True, text=True)
    print(result.stdout, result.stderr, end="")
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {result.returncode}")


def logits(exe, model, ids, tmp):
    out = os.path.join(tmp, "logits.f32")
    run([exe, model, "logits", out] + [str(i) for i in ids])
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def gift_ids(exe, model, texts, tmp):
    source, target = os.path.join(tmp, "texts.bin"), os.path.join(tmp, "ids.bin")
    with open(source, "wb") as f:
        f.write(struct.pack("<I", len(texts)))
        for text in texts:
            data = text.encode("utf-8")
            f.write(struct.pack("<I", len(data)) + data)
    run([exe, model, "tokenize", source, target])
    raw = np.fromfile(target, dtype="<u4")
    out, pos = [], 0
    for _ in texts:
        n = int(raw[pos])
        out.append([int(i) for i in raw[pos + 1:pos + 1 + n]])
        pos += 1 + n
    return out


def sample_texts():
    texts = ["Hello world", "  two  spaces\tand\ttabs\n\n", "don't I'll we've 12345 3.14159",
             "ünïcödé 日本語 emoji 🙂👍🏽", "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
             "a<filename>b<file_sep><|endoftext|>", "    def f(x):\n        return x  # code\n", ""]
    if os.path.isdir(DOC_ROOT):
        files = []
        for folder, _, names in os.walk(DOC_ROOT):
            files += [os.path.join(folder, n) for n in names if n.endswith(".rst.gz")]
        for path in sorted(files)[::400][:12]:
            try:
                texts.append(gzip.open(path).read().decode("utf-8")[:20000])
            except UnicodeDecodeError:
                continue
    return texts


def main():
    exe = sys.argv[1]
    model = find_model()
    if model is None:
        missing("the SmolLM2-135M-Instruct GGUF model is not installed")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        folder, sharded = os.path.join(tmp, "hf"), os.path.join(tmp, "hf_f16")
        run([exe, model, "save-hf", folder, "f32"])
        run([exe, model, "save-hf", sharded, "f16", "100"])
        config, weights = read_folder(folder)
        ids = [504, 10768, 25311, 8890, 335, 1067, 13016, 284, 260, 2747, 4350, 30]  # a fixed prompt
        ids = [i for i in ids if i < config["vocab_size"]]
        reference = hf_forward(config, weights, ids)
        from_gguf = logits(exe, model, ids, tmp)
        relative = np.abs(from_gguf - reference).max() / np.abs(reference).max()
        print(f"numpy LlamaForCausalLM on the exported folder vs gift on the GGUF: max relative difference "
              f"{relative:.3e} (limit 1e-4); argmax agrees at {int((from_gguf.argmax(-1) == reference.argmax(-1)).sum())}"
              f"/{len(ids)}")
        if not relative < 1e-4:
            failures.append("the exported folder's logits (numpy) differ from gift's")
        from_folder = logits(exe, folder, ids, tmp)
        if not np.array_equal(from_folder, from_gguf):
            failures.append("gift's logits of the folder differ from those of the GGUF")
        from_half = logits(exe, sharded, ids, tmp)
        half_relative = np.abs(from_half - from_gguf).max() / np.abs(from_gguf).max()
        print(f"sharded F16 folder ({len(os.listdir(sharded))} files) vs GGUF: max relative difference {half_relative:.3e}")
        if not (half_relative < 2e-2 and os.path.exists(os.path.join(sharded, "model.safetensors.index.json"))):
            failures.append("the sharded F16 folder does not reproduce the model")

        texts = sample_texts()
        ours_gguf, ours_folder = gift_ids(exe, model, texts, tmp), gift_ids(exe, folder, texts, tmp)
        theirs = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        encoded = [e.ids for e in theirs.encode_batch(texts, add_special_tokens=False)]
        agree = sum(a == b == c for a, b, c in zip(encoded, ours_gguf, ours_folder))
        print(f"tokenizers on the exported tokenizer.json: {agree}/{len(texts)} texts give gift's ids "
              f"({sum(len(e) for e in encoded)} ids)")
        if agree != len(texts):
            failures.append("the exported tokenizer.json encodes differently")
        if theirs.decode(encoded[4], skip_special_tokens=False) != texts[4]:
            failures.append("tokenizers does not decode the chat text back")
    for failure in failures:
        print("FAIL:", failure)
    print("PASS" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
