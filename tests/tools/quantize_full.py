#!/usr/bin/env python3
"""`gift quantize --no-salient` on SmolLM2 cut to its first 4 blocks (tool_test.smollm2_cut: the real
model's shapes and code at 4/30 of the cost): every column of every layer is quantized (NPFT's fully
quantized model), nothing is kept in full precision.

Checked against numpy and the GGUF weights read by PyPI `gguf` (not gift's reader), on layers of the
first and last blocks:
- RTN: every weight is Δ_i times an integer code in [-2^(b-1), 2^(b-1) - 1] (a column kept in fp32
  would not be); Δ_i is a candidate of the paper's grid (k/100 · max|w_i| / (2^(b-1) - 1)) whose
  squared error over *all* columns of the row is the least of the grid (a brute-force search in
  double); the weights are round-to-nearest of the GGUF weights with that Δ;
- GPTQ (with a small Gram): the same Δ as RTN (the steps are searched once, before the updates),
  every column on the grid again, and weights that differ from RTN's (GPTQ moved them).
A selection with salient columns, by contrast, leaves those columns off the grid (the check can
fail). Usage: quantize_full.py <gift binary>. Exits 77 (skipped) without the model."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

from tool_test import checklist, smollm2_cut

gift = os.path.abspath(sys.argv[1])
try:
    import gguf
    from gguf.quants import dequantize
except ImportError as e:
    print(f"quantize_full: python package missing ({e}); run bash .ci/setup")
    sys.exit(77)

BITS = 3
QMAX = 2 ** (BITS - 1) - 1
# Not attn_q/attn_k: gift stores those rows in Hugging Face order, the GGUF in llama.cpp's.
LAYERS = ["blk.0.attn_v", "blk.0.ffn_down", "blk.3.ffn_gate", "blk.3.attn_output"]

work = tempfile.mkdtemp(prefix="gift_quantize_full_")
model = smollm2_cut("quantize_full", work, layers=4)
env = dict(os.environ, GIFT_MODEL=model, OMP_NUM_THREADS="2")
checks = checklist()
failures, check = checks.failures, checks.check


def run(args):
    r = subprocess.run([gift, *args], capture_output=True, text=True, timeout=900, env=env, cwd=work)
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-2000:])
    return r


def read_safetensors(path, names):
    """The named F32 tensors of a safetensors file (parsed here, not by gift)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        base = 8 + size
        out = {}
        for name in names:
            entry = header[name]
            assert entry["dtype"] == "F32", entry
            begin, end = entry["data_offsets"]
            f.seek(base + begin)
            out[name] = np.frombuffer(f.read(end - begin), dtype="<f4").reshape(entry["shape"])
        return out, header.get("__metadata__", {})


def grid_codes(weights, delta):
    """The codes w / Δ and their largest distance from an integer."""
    codes = weights.astype(np.float64) / delta.astype(np.float64)[:, None]
    return codes, float(np.max(np.abs(codes - np.round(codes))))


def grid_errors(w):
    """Squared error of every candidate of the paper's 100-point grid, per row: (rows, 100), and the
    candidate steps, in double (the brute-force reference)."""
    w = w.astype(np.float64)
    top = np.max(np.abs(w), axis=1)
    ratios = np.array([np.float32(k / 100) for k in range(100, 0, -1)], dtype=np.float64)
    deltas = top[:, None] * ratios[None, :] / QMAX
    errors = np.empty_like(deltas)
    for c in range(len(ratios)):
        d = deltas[:, c][:, None]
        q = np.clip(np.round(w / d), -QMAX - 1, QMAX) * d
        errors[:, c] = np.sum((w - q) ** 2, axis=1)
    return deltas, errors


try:
    r = run(["quantize", "--no-salient", "--bits", str(BITS), "--alpha", "grid100", "--out", "rtn.safetensors",
             "--json"])
    check(r.returncode == 0, "gift quantize --no-salient (RTN) exits 0")
    if r.returncode != 0:
        raise SystemExit
    result = json.loads(r.stdout.strip().splitlines()[-1])
    check(result["salient"] == "none", "the JSON result says no salient file was used")

    names = [n + ".weight" for n in LAYERS] + [n + ".delta" for n in LAYERS]
    rtn, metadata = read_safetensors(os.path.join(work, "rtn.safetensors"), names)
    check(metadata.get("gift.salient") == "none", "the file's metadata says every column is quantized")

    reader = gguf.GGUFReader(model)
    tensors = {t.name: t for t in reader.tensors}

    def original(name):
        t = tensors[name + ".weight"]
        return dequantize(t.data, t.tensor_type).reshape(tuple(reversed([int(d) for d in t.shape]))).astype(np.float32)

    for layer in LAYERS:
        w = original(layer)
        q, delta = rtn[layer + ".weight"], rtn[layer + ".delta"].reshape(-1)
        check(q.shape == w.shape and delta.shape == (w.shape[0],), f"{layer}: shapes {q.shape}, Δ {delta.shape}")
        codes, off_grid = grid_codes(q, delta)
        check(off_grid < 1e-3, f"{layer}: every weight of every column is Δ_i · integer (largest offset {off_grid:.2e})")
        check(codes.min() >= -QMAX - 1 - 1e-3 and codes.max() <= QMAX + 1e-3,
              f"{layer}: codes within [{-QMAX - 1}, {QMAX}] (seen {codes.min():.0f}..{codes.max():.0f})")
        deltas, errors = grid_errors(w)
        picked = np.argmin(np.abs(deltas - delta.astype(np.float64)[:, None]), axis=1)
        rows = np.arange(w.shape[0])
        on_candidate = np.abs(deltas[rows, picked] - delta) <= 1e-6 * deltas[rows, picked]
        check(bool(on_candidate.all()), f"{layer}: every Δ_i is a candidate of the 100-point grid "
                                        f"({int((~on_candidate).sum())} rows off)")
        best = errors.min(axis=1)
        optimal = errors[rows, picked] <= best * (1 + 1e-5) + 1e-30
        check(bool(optimal.all()), f"{layer}: every Δ_i minimises the squared error over all {w.shape[1]} columns "
                                   f"({int((~optimal).sum())} rows not)")
        expected = (np.clip(np.round(w.astype(np.float64) / delta[:, None]), -QMAX - 1, QMAX) * delta[:, None])
        mismatch = np.abs(expected - q) > 1e-6 * delta[:, None]
        # Only a weight within rounding of a half-step may land on the other neighbour.
        ties = np.abs(np.abs(w / delta[:, None] - np.floor(w / delta[:, None])) - 0.5) < 1e-4
        check(bool((~mismatch | ties).all()) and mismatch.mean() < 1e-4,
              f"{layer}: weights are round-to-nearest of the GGUF weights ({int(mismatch.sum())} differ, at ties)")

    # GPTQ without salient columns: same steps, every column on the grid, other weights.
    r = run(["calibrate", "--split", "train", "--tokens", "256", "--seq", "64", "--gram", "--out", "stats"])
    check(r.returncode == 0, "gift calibrate --gram (256 tokens) exits 0")
    r = run(["quantize", "--no-salient", "--method", "gptq", "--gram", "stats/gram.safetensors", "--bits", str(BITS),
             "--alpha", "grid100", "--out", "gptq.safetensors"])
    check(r.returncode == 0, "gift quantize --no-salient --method gptq exits 0")
    if r.returncode == 0:
        gptq, _ = read_safetensors(os.path.join(work, "gptq.safetensors"), names)
        for layer in LAYERS:
            delta = gptq[layer + ".delta"].reshape(-1)
            check(np.array_equal(delta, rtn[layer + ".delta"].reshape(-1)), f"{layer}: GPTQ's Δ equals RTN's")
            codes, off_grid = grid_codes(gptq[layer + ".weight"], delta)
            check(off_grid < 1e-3 and codes.min() >= -QMAX - 1 - 1e-3 and codes.max() <= QMAX + 1e-3,
                  f"{layer}: GPTQ puts every column on the grid (largest offset {off_grid:.2e})")
            moved = float(np.mean(gptq[layer + ".weight"] != rtn[layer + ".weight"]))
            check(moved > 0.01, f"{layer}: GPTQ's weights differ from RTN's ({moved:.1%} of them)")

    # The property can fail: with salient columns, those columns stay off the grid.
    r = run(["select", "--stats", "stats", "--bits", str(BITS), "--k", "8", "--out", "salient.txt"])
    r2 = run(["quantize", "--salient", "salient.txt", "--bits", str(BITS), "--out", "mixed.safetensors"])
    check(r.returncode == 0 and r2.returncode == 0, "gift select --k 8 and gift quantize --salient exit 0")
    if r2.returncode == 0:
        mixed, _ = read_safetensors(os.path.join(work, "mixed.safetensors"), names)
        layer = LAYERS[0]
        _, off_grid = grid_codes(mixed[layer + ".weight"], mixed[layer + ".delta"].reshape(-1))
        check(off_grid > 0.01, f"{layer}: with 8 salient columns kept in fp32 the grid check fails "
                               f"(largest offset {off_grid:.2f})")
finally:
    shutil.rmtree(work, ignore_errors=True)

checks.finish("quantize_full")
