#!/usr/bin/env python3
"""Independent numpy LLaMA forward for the real SmolLM2 GGUF, compared with gift's C++ model.

The tensors are read through PyPI `gguf` (GGUFReader + gguf.quants.dequantize), not gift's reader.
The reference undoes llama.cpp's q/k row permutation and applies Hugging Face's half-rotation
RoPE in float64, so agreement with gift (adjacent-pair RoPE on the GGUF rows) also confirms
that the pairing gift uses matches the file.

usage: reference_llama.py <model_check executable>
Exit: 0 pass, 1 mismatch, 77 skipped (model missing and GIFT_ALLOW_MISSING_MODEL=1).
"""
import os
import subprocess
import sys
import tempfile

# The shared helpers (tests/support/reference_support.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from reference_support import find_model, missing  # noqa: E402 (the path first)


def main():
    exe = sys.argv[1]
    model_path = find_model()
    if model_path is None:
        missing("the SmolLM2-135M-Instruct GGUF model is not installed")
    try:
        import numpy as np
        import gguf
        from gguf.quants import dequantize
    except ImportError as e:
        missing(f"python package missing: {e}")

    reader = gguf.GGUFReader(model_path)

    def field(key):
        return reader.fields[key].contents()

    arch = field("general.architecture")
    n_layer = int(field(f"{arch}.block_count"))
    n_embd = int(field(f"{arch}.embedding_length"))
    n_head = int(field(f"{arch}.attention.head_count"))
    n_kv = int(field(f"{arch}.attention.head_count_kv"))
    eps = float(field(f"{arch}.attention.layer_norm_rms_epsilon"))
    base = float(field(f"{arch}.rope.freq_base"))
    head_dim = n_embd // n_head
    tensors = {t.name: t for t in reader.tensors}

    def weight(name):
        t = tensors[name]
        # GGUF shape is (ne0, ne1) with ne0 fastest: the numpy array is (out, in).
        return dequantize(t.data, t.tensor_type).reshape(tuple(reversed([int(d) for d in t.shape]))).astype(np.float64)

    def unpermute(w, heads):
        # Inverse of llama.cpp convert_hf_to_gguf's permute(): back to Hugging Face row order.
        out = w.shape[0]
        return w.reshape(heads, out // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    # A fixed prompt: the ids of whole words in the vocabulary (byte-level BPE marks a space as 'Ġ').
    vocab = [bytes(reader.fields["tokenizer.ggml.tokens"].parts[i]).decode("utf-8", "replace")
             for i in reader.fields["tokenizer.ggml.tokens"].data]
    index = {s: i for i, s in enumerate(vocab)}
    words = ["The", "Ġkernel", "Ġschedules", "Ġtasks", "Ġon", "Ġeach", "ĠCPU", "Ġand", "Ġthe", "Ġmemory",
             "Ġmanager", "Ġallocates", "Ġpages", "."]
    ids = [index[w] for w in words if w in index][:12]
    assert len(ids) >= 10, f"too few prompt words in the vocabulary: {ids}"
    T = len(ids)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    inv = base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(angles)] * 2, -1)
    sin = np.concatenate([np.sin(angles)] * 2, -1)

    def rope_hf(x):  # x: (heads, T, head_dim), half rotation
        half = head_dim // 2
        rotated = np.concatenate([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin

    emb = weight("token_embd.weight")
    x = emb[ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for b in range(n_layer):
        p = f"blk.{b}."
        h = rms(x, weight(p + "attn_norm.weight"))
        q = h @ unpermute(weight(p + "attn_q.weight"), n_head).T
        k = h @ unpermute(weight(p + "attn_k.weight"), n_kv).T
        v = h @ weight(p + "attn_v.weight").T
        q = rope_hf(q.reshape(T, n_head, head_dim).transpose(1, 0, 2))
        k = rope_hf(k.reshape(T, n_kv, head_dim).transpose(1, 0, 2))
        v = v.reshape(T, n_kv, head_dim).transpose(1, 0, 2)
        rep = n_head // n_kv
        k = np.repeat(k, rep, axis=0)
        v = np.repeat(v, rep, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(head_dim) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = (s @ v).transpose(1, 0, 2).reshape(T, n_embd)
        x = x + o @ weight(p + "attn_output.weight").T
        h = rms(x, weight(p + "ffn_norm.weight"))
        g = h @ weight(p + "ffn_gate.weight").T
        u = h @ weight(p + "ffn_up.weight").T
        x = x + ((g / (1 + np.exp(-g))) * u) @ weight(p + "ffn_down.weight").T
    head = weight("output.weight") if "output.weight" in tensors else emb
    reference = rms(x, weight("output_norm.weight")) @ head.T

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.f32")
        run = subprocess.run([exe, model_path, "logits", out] + [str(i) for i in ids], capture_output=True, text=True)
        print(run.stdout, run.stderr, end="")
        if run.returncode != 0:
            print(f"FAIL: {exe} exited with {run.returncode}")
            return 1
        ours = np.fromfile(out, dtype=np.float32).reshape(T, -1).astype(np.float64)
    if ours.shape != reference.shape:
        print(f"FAIL: gift logits are {ours.shape}, reference {reference.shape}")
        return 1
    relative = np.abs(ours - reference).max() / np.abs(reference).max()
    top_ours, top_ref = ours.argmax(-1), reference.argmax(-1)
    print(f"prompt ids {ids}")
    print(f"max |gift - numpy| / max |numpy| = {relative:.3e} (limit 1e-4); "
          f"argmax agrees at {int((top_ours == top_ref).sum())}/{T} positions")
    if not relative < 1e-4:
        print("FAIL: logits differ from the numpy reference")
        return 1

    for mode in ("config", "gradient"):
        run = subprocess.run([exe, model_path, mode], capture_output=True, text=True)
        print(run.stdout, run.stderr, end="")
        if run.returncode != 0:
            print(f"FAIL: {exe} {mode} exited with {run.returncode}")
            return 1
        if mode == "config":
            got = dict(line.split() for line in run.stdout.strip().splitlines())
            expected = {"layers": n_layer, "hidden": n_embd, "heads": n_head, "kv_heads": n_kv,
                        "head_dim": head_dim, "ffn": int(field(f"{arch}.feed_forward_length")),
                        "vocab": len(vocab)}
            for key, value in expected.items():
                if int(got[key]) != value:
                    print(f"FAIL: config {key} = {got[key]}, the file says {value}")
                    return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
