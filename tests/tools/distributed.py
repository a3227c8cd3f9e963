#!/usr/bin/env python3
"""Data-parallel runs through the command line on SmolLM2 cut to its first 4 blocks
(tool_test.smollm2_cut: the real model's shapes and code at 4/30 of the cost), 2 MPI ranks of one
thread.

Same bits as one process: `mpirun -np 2 gift calibrate --gram | eval | finetune` (GIFT-SW, LoRA)
writes byte-identical files and reports identical losses as one process with `--shards 2` (the
reduction order is fixed by the shards, not by the ranks). Against the unsharded single process
(`--shards 1`, what plain `gift` does): the maxima and the GIFT-SW salient columns are identical,
sums agree to 1e-12 relative, fine-tuned weights to 1e-6 (a hundredth of an AdamW step of lr 1e-4). Failures end every rank with a clear error and no output: a rank started with another
option, a rank that cannot read its data, a batch too small for the ranks, a checkpoint resumed
with other shards, and a command that does not run over MPI.

Usage: distributed.py <gift binary> <mpiexec> [launcher flags...]. Exits 77 (skipped) without the
model."""
import filecmp
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

from tool_test import checklist, safetensors_blobs, smollm2_cut

gift = os.path.abspath(sys.argv[1])
mpiexec = [sys.argv[2], *sys.argv[3:]]

work = tempfile.mkdtemp(prefix="gift_distributed_")
model = smollm2_cut("distributed", work, layers=4)
env = dict(os.environ, GIFT_MODEL=model, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
checks = checklist()
failures, check = checks.failures, checks.check


def run(command, expect_ok=True, timeout=600):
    started = time.time()
    r = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=work)
    if expect_ok and r.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({r.returncode}): {r.stderr[-1500:]}")
    return r, time.time() - started


def last_json(r):
    return json.loads(r.stdout.strip().splitlines()[-1])


def single(*args):
    return last_json(run([gift, *args, "--threads", "1", "--json"])[0])


def ranks(n, *args):
    return last_json(run([*mpiexec, "-np", str(n), gift, *args, "--threads", "1", "--json"])[0])


def read_stats(path):
    """A .stats file: (tokens, max_abs, sum_squares, sum_abs)."""
    with open(path, "rb") as f:
        data = f.read()
    columns, tokens, powers = struct.unpack_from("<QQI", data, 8)
    values = np.frombuffer(data, dtype="<f8", offset=8 + 20 + 4 * powers).reshape(3 + powers, columns)
    return tokens, values[0], values[1], values[2]


def read_safetensors(path):
    header, blobs = safetensors_blobs(path)
    return {name: np.frombuffer(blob, dtype="<f4") for name, blob in blobs.items() if header[name]["dtype"] == "F32"}


def same_folder(a, b):
    names = sorted(os.listdir(os.path.join(work, a)))
    differ = [n for n in names if not filecmp.cmp(os.path.join(work, a, n), os.path.join(work, b, n), shallow=False)]
    return names, differ


def same_file(a, b):
    return filecmp.cmp(os.path.join(work, a), os.path.join(work, b), shallow=False)


try:
    # Calibration: 10 sequences of 32 tokens, batches of 3 (a shard's last batch is short).
    calibrate = ("calibrate", "--split", "train", "--tokens", "320", "--seq", "32", "--batch", "3")
    started = time.time()
    np2 = ranks(2, *calibrate, "--gram", "--out", "stats_np2")
    print(f"     (mpirun -np 2 calibrate --gram: {time.time() - started:.1f} s)")
    s2 = single(*calibrate, "--gram", "--shards", "2", "--out", "stats_s2")
    s1 = single(*calibrate, "--out", "stats_s1")
    names, differ = same_folder("stats_np2", "stats_s2")
    check(np2["shards"] == 2 and np2["ranks"] == 2 and s2["ranks"] == 1, "calibrate: 2 ranks, 2 shards reported")
    check("gram.safetensors" in names and "manifest.txt" in names and len(names) == 4 * 7 + 2 and not differ,
          f"calibrate --gram: all {len(names)} files of 2 ranks byte-identical to one process with --shards 2 "
          f"(differ: {differ[:3]})")
    check(np2["calibration_perplexity"] == s2["calibration_perplexity"], "calibrate: same calibration perplexity")
    worst, max_same, layers = 0.0, True, 0
    for name in sorted(os.listdir(os.path.join(work, "stats_s1"))):
        if not name.endswith(".stats"):
            continue
        layers += 1
        t1, max1, sq1, abs1 = read_stats(os.path.join(work, "stats_s1", name))
        t2, max2, sq2, abs2 = read_stats(os.path.join(work, "stats_np2", name))
        max_same = max_same and t1 == t2 and np.array_equal(max1, max2)
        worst = max(worst, float(np.max(np.abs(sq1 - sq2) / sq1)), float(np.max(np.abs(abs1 - abs2) / abs1)))
    check(layers == 4 * 7 and max_same, "calibrate: maxima and token counts of 2 ranks equal the unsharded run's exactly")
    check(worst <= 1e-12, f"calibrate: sums of 2 ranks within 1e-12 of the unsharded run's (worst {worst:.2e})")

    # GIFT-SW selects by maxima: the same salient columns as the unsharded run.
    run([gift, "select", "--stats", "stats_np2", "--out", "salient_np2.txt", "--json"])
    run([gift, "select", "--stats", "stats_s1", "--out", "salient.txt", "--json"])
    check(same_file("salient_np2.txt", "salient.txt"), "select: salient columns from 2 ranks' statistics identical "
                                                       "to the unsharded run's")

    # Evaluation: the loss sums of the shards added in shard order.
    evaluate = ("eval", "--tokens", "320", "--seq", "32", "--batch", "3")
    e_np2, e_s2, e_s1 = ranks(2, *evaluate), single(*evaluate, "--shards", "2"), single(*evaluate)
    check(e_np2["mean_nll"] == e_s2["mean_nll"] and e_np2["perplexity"] == e_s2["perplexity"] and
          e_np2["tokens_predicted"] == e_s2["tokens_predicted"] == 10 * 31,
          f"eval: 2 ranks report the loss of one process with --shards 2 ({e_np2['mean_nll']})")
    check(abs(e_np2["mean_nll"] - e_s1["mean_nll"]) <= 1e-9 * e_s1["mean_nll"],
          f"eval: 2 ranks within 1e-9 of the unsharded loss ({e_np2['mean_nll']} vs {e_s1['mean_nll']})")

    # Fine-tuning: each step's 2 sequences are 2 shards, one per rank. (NPFT's Fisher diagonal over
    # shards is checked in model_data_parallel_np2: on the whole model it takes a minute here.)
    for method, extra in (("gift_sw", ("--salient", "salient.txt", "--alpha", "max")), ("lora", ("--rank", "4"))):
        common = ("finetune", "--method", method, *extra, "--steps", "2", "--batch", "2", "--seq", "32")
        started = time.time()
        f_np2 = ranks(2, *common, "--out", f"{method}_np2.safetensors", "--loss-log", f"{method}_np2.csv")
        print(f"     (mpirun -np 2 finetune --method {method}: {time.time() - started:.1f} s)")
        f_s2 = single(*common, "--shards", "2", "--out", f"{method}_s2.safetensors", "--loss-log", f"{method}_s2.csv")
        check(same_file(f"{method}_np2.safetensors", f"{method}_s2.safetensors") and
              same_file(f"{method}_np2.csv", f"{method}_s2.csv") and f_np2["last_loss"] == f_s2["last_loss"],
              f"finetune {method}: weights file and loss log of 2 ranks byte-identical to one process with --shards 2")
        check(f_np2["combined_gradient_values"] == f_np2["trainable_parameters"] > 0 and f_np2["combine_seconds"] > 0,
              f"finetune {method}: the ranks combined the {f_np2['trainable_parameters']} trainable values per step")
        if method == "gift_sw":
            single(*common, "--out", "gift_sw_s1.safetensors")
            a, b = read_safetensors(os.path.join(work, "gift_sw_s1.safetensors")), \
                read_safetensors(os.path.join(work, "gift_sw_np2.safetensors"))
            moved = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a if k.endswith(".weight"))
            check(moved <= 1e-6, f"finetune gift_sw: weights of 2 ranks within 1e-6 of the unsharded run's "
                                 f"(largest difference {moved:.2e})")

    # A checkpoint of 2 shards resumes only with 2 shards.
    r, _ = run([gift, "finetune", "--salient", "salient.txt", "--alpha", "max", "--steps", "2", "--batch", "2", "--seq", "32",
                "--resume", "gift_sw_np2.safetensors", "--out", "resumed.safetensors", "--threads", "1"],
               expect_ok=False)
    check(r.returncode != 0 and "written with 2 shard(s), but this run has 1" in r.stderr,
          "finetune --resume: a 2-shard checkpoint refuses a 1-shard run, naming both")

    # Failures end every rank, with the reason, and write nothing.
    base = ("finetune", "--salient", "salient.txt", "--alpha", "max", "--steps", "1", "--batch", "2", "--seq", "32",
            "--threads", "1")
    r, seconds = run([*mpiexec, "-np", "1", gift, *base, "--lr", "1e-4", "--out", "mismatch.safetensors", ":",
                      "-np", "1", gift, *base, "--lr", "2e-4", "--out", "mismatch.safetensors"],
                     expect_ok=False, timeout=300)
    check(r.returncode != 0 and r.stderr.count("the ranks disagree on the options") == 1 and
          not os.path.exists(os.path.join(work, "mismatch.safetensors")),
          f"ranks started with different --lr: one clear error, exit {r.returncode}, nothing written")
    r, seconds = run([*mpiexec, "-np", "1", gift, *evaluate, "--output-json", "bad.json", ":", "-np", "1", gift,
                      *evaluate, "--data", os.path.join(work, "missing.txt"), "--output-json", "bad.json"],
                     expect_ok=False, timeout=300)
    check(r.returncode != 0 and "rank 1 of 2" in r.stderr and "cannot read --data" in r.stderr and
          not os.path.exists(os.path.join(work, "bad.json")),
          f"a rank that cannot read its data ends both ranks in {seconds:.0f} s (exit {r.returncode}), nothing written")
    r, _ = run([*mpiexec, "-np", "2", gift, "finetune", "--salient", "salient.txt", "--steps", "1", "--batch", "1",
                "--out", "small.safetensors"], expect_ok=False, timeout=300)
    check(r.returncode != 0 and "--batch 1 cannot fill 2 shards" in r.stderr,
          "finetune on 2 ranks with --batch 1: refused, naming the batch and the shards")
    r, _ = run([*mpiexec, "-np", "2", gift, "select", "--stats", "stats_s1", "--out", "x.txt"], expect_ok=False,
               timeout=300)
    check(r.returncode != 0 and "runs in one process" in r.stderr and not os.path.exists(os.path.join(work, "x.txt")),
          "gift select under mpirun -np 2: refused")
finally:
    shutil.rmtree(work, ignore_errors=True)

checks.finish("distributed")
