#!/usr/bin/env python3
"""--device through the command line on SmolLM2 cut to its first 4 blocks (tool_test.smollm2_cut: the
real model's shapes and code at 4/30 of the cost): `gift eval` on eigen, thrust-omp and
thrust-cpp report the same perplexity; `gift finetune` (GIFT-SW) on thrust-omp writes the noise
scales of the Eigen run and its weights and optimizer moments to float rounding; a checkpoint written on thrust-omp
(--stop-after) resumes on eigen to the uninterrupted run; the options --device cannot serve are
refused by name.

Usage: devices.py <path to the gift binary>. Exits 77 (skipped) without the model."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

from tool_test import gift_runner, smollm2_cut

work = tempfile.mkdtemp(prefix="gift_devices_")
model = smollm2_cut("devices", work, layers=4)
tool = gift_runner(sys.argv[1], work, dict(os.environ, GIFT_MODEL=model))
gift, run, gift_run, check = tool.gift, tool.run, tool.json, tool.check


def read_safetensors(path):
    """Every F32 tensor of a safetensors file, read by its own header (no gift code)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (name, entry["dtype"])
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
    return out, header.get("__metadata__", {})


def compare(a_path, b_path, label, lr, steps):
    """Two fine-tuned checkpoints of the same run on two devices. The noise scales must be equal;
    the optimizer's moments (the gradients' running averages) within 1e-4 relative (Frobenius) —
    the model's gradients agree to float rounding, not bit for bit, on the real model —; and the
    weights within a tenth of the largest move AdamW can make in the run (lr per step), so a
    wrong gradient, step or schedule on either device fails."""
    a, meta_a = read_safetensors(os.path.join(work, a_path))
    b, meta_b = read_safetensors(os.path.join(work, b_path))
    check(sorted(a) == sorted(b), f"{label}: the same {len(a)} tensors")
    moments, weights, deltas_equal, identical = 0.0, 0.0, True, 0
    for name in a:
        x, y = a[name].astype(np.float64), b[name].astype(np.float64)
        identical += int(np.array_equal(a[name], b[name]))
        if name.endswith(".delta"):
            deltas_equal &= bool(np.array_equal(a[name], b[name]))
        elif name.endswith(".m") or name.endswith(".v"):
            moments = max(moments, np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-30))
        else:
            weights = max(weights, np.abs(x - y).max())
    bound = 0.1 * lr * steps
    check(deltas_equal, f"{label}: the noise scales are bit-identical")
    check(moments <= 1e-4, f"{label}: optimizer moments within {moments:.3g} relative (<= 1e-4)")
    check(weights <= bound, f"{label}: weights within {weights:.3g} (<= {bound:.3g}, a tenth of lr x steps); "
                            f"{identical} of {len(a)} tensors bit-identical")
    check(meta_a.get("gift.step") == meta_b.get("gift.step") and meta_a.get("gift.state.count") == meta_b.get(
        "gift.state.count"), f"{label}: step {meta_a.get('gift.step')} and {meta_a.get('gift.state.count')} "
                             f"optimizer blocks in both")


try:
    evals = {d: gift_run("eval", "--tokens", "512", "--seq", "128", "--device", d, "--json")
             for d in ("eigen", "thrust-omp", "thrust-cpp")}
    base = evals["eigen"]["perplexity"]
    for d in ("thrust-omp", "thrust-cpp"):
        got = evals[d]["perplexity"]
        check(abs(got - base) <= 1e-6 * base and evals[d]["device"] == d,
              f"eval --device {d}: perplexity {got!r} vs eigen {base!r} (within 1e-6 relative)")

    gift_run("calibrate", "--split", "train", "--tokens", "512", "--seq", "128", "--out", "stats", "--json")
    gift_run("select", "--stats", "stats", "--out", "salient.txt", "--json")
    common = ("finetune", "--salient", "salient.txt", "--steps", "3", "--seq", "64", "--lr", "1e-4", "--json")
    eigen = gift_run(*common, "--out", "eigen.safetensors")
    omp = gift_run(*common, "--out", "omp.safetensors", "--device", "thrust-omp")
    check(abs(omp["last_loss"] - eigen["last_loss"]) <= 1e-5 * abs(eigen["last_loss"]),
          f"finetune --device thrust-omp: last loss {omp['last_loss']!r} vs eigen {eigen['last_loss']!r}")
    check(omp["optimizer_state_values"] == eigen["optimizer_state_values"] > 0,
          f"finetune --device thrust-omp: {omp['optimizer_state_values']} optimizer values, as on eigen")
    compare("eigen.safetensors", "omp.safetensors", "finetune eigen vs thrust-omp", 1e-4, 3)

    gift_run(*common, "--out", "half.safetensors", "--device", "thrust-omp", "--stop-after", "1")
    gift_run(*common, "--out", "half.safetensors", "--resume", "half.safetensors")
    compare("eigen.safetensors", "half.safetensors", "1 step on thrust-omp, resumed on eigen", 1e-4, 3)

    for args, words in (
        (("eval", "--device", "tpu"), ["--device", "eigen, thrust-omp, thrust-cpp or cuda", "'tpu'"]),
        (("finetune", "--method", "lora", "--device", "thrust-omp", "--steps", "1", "--out", "x.safetensors"),
         ["--device thrust-omp", "gift_sw only", "lora"]),
        (("finetune", "--salient", "salient.txt", "--device", "thrust-omp", "--shards", "2", "--batch", "2",
          "--steps", "1", "--out", "x.safetensors"), ["one shard in one process"]),
    ):
        r = run(*args)
        check(r.returncode != 0 and all(w in r.stderr for w in words),
              f"gift {' '.join(args[:1])} {' '.join(args[1:4])}...: refused naming {words} ({r.stderr.strip()[-200:]!r})")
    # --device cuda: handed to gift-cuda where a CUDA build made one; without a GPU it must end
    # with an error that says so, never a crash.
    r = run("eval", "--tokens", "256", "--seq", "128", "--device", "cuda")
    sibling = os.path.join(os.path.dirname(gift), "gift-cuda")
    if os.path.exists(sibling):
        gpu = subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0 if shutil.which("nvidia-smi") else False
        if gpu:
            check(r.returncode == 0, f"eval --device cuda through gift-cuda ({r.stderr.strip()[-200:]!r})")
        else:
            check(r.returncode == 1 and "no usable CUDA device" in r.stderr,
                  f"eval --device cuda without a GPU: gift-cuda says so, exit 1 ({r.returncode}, "
                  f"{r.stderr.strip()[-200:]!r})")
    else:
        check(r.returncode == 1 and "gift-cuda" in r.stderr, f"eval --device cuda without gift-cuda: refused naming it "
                                                              f"({r.stderr.strip()[-200:]!r})")
finally:
    shutil.rmtree(work, ignore_errors=True)

tool.finish("devices")
