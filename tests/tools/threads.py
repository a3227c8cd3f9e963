#!/usr/bin/env python3
"""Same bits on any thread count, through the command line on SmolLM2 cut to its first 4 blocks
(tool_test.smollm2_cut: the real model's shapes and code at 4/30 of the cost):
`gift calibrate --gram`, `gift eval` and `gift finetune` (GIFT-SW, and LoRA) run with --threads 1,
2 and 3 write byte-identical files and report identical perplexities and losses; GIFT-SW with the
noisy-weight cache writes the same bytes as without it; with bf16 weight storage (`--storage
bf16`) eval and GIFT-SW are just as thread-independent, and differ from fp32 by little.

Usage: threads.py <path to the gift binary>. Exits 77 (skipped) without the model."""
import filecmp
import os
import shutil
import sys
import tempfile

from tool_test import gift_runner, smollm2_cut

work = tempfile.mkdtemp(prefix="gift_threads_")
model = smollm2_cut("threads", work, layers=4)
env = dict(os.environ, GIFT_MODEL=model)
env.pop("OMP_NUM_THREADS", None)
tool = gift_runner(sys.argv[1], work, env)
gift_run, check = tool.json, tool.check


try:
    results = {}
    for threads in (1, 2, 3):
        t = str(threads)
        cal = gift_run("calibrate", "--split", "train", "--tokens", "512", "--seq", "128", "--gram", "--out",
                       f"stats{t}", "--threads", t, "--json")
        ev = gift_run("eval", "--tokens", "512", "--seq", "128", "--threads", t, "--json")
        if threads == 1:
            gift_run("select", "--stats", "stats1", "--out", "salient.txt", "--json")
        ft = gift_run("finetune", "--salient", "salient.txt", "--steps", "2", "--seq", "64", "--threads", t,
                      "--out", f"ft{t}.safetensors", "--json")
        lora = gift_run("finetune", "--method", "lora", "--rank", "4", "--steps", "2", "--seq", "64", "--threads", t,
                        "--out", f"lora{t}.safetensors", "--json")
        # The noisy-weight cache changes no bit either (on three threads: several panels each).
        if threads == 3:
            cached = gift_run("finetune", "--salient", "salient.txt", "--steps", "2", "--seq", "64", "--threads", t,
                              "--noisy-weight-cache", "--out", "ft_cached.safetensors", "--json")
            check(cached["last_loss"] == ft["last_loss"] and filecmp.cmp(
                os.path.join(work, "ft3.safetensors"), os.path.join(work, "ft_cached.safetensors"), shallow=False),
                "finetune gift_sw --noisy-weight-cache: the same loss and a byte-identical weights file")
        # bf16 storage: the same bits at any thread count too (compared below).
        ev16 = gift_run("eval", "--tokens", "512", "--seq", "128", "--threads", t, "--storage", "bf16", "--json")
        ft16 = gift_run("finetune", "--salient", "salient.txt", "--steps", "2", "--seq", "64", "--threads", t,
                        "--storage", "bf16", "--out", f"ft16_{t}.safetensors", "--json")
        if threads == 1:
            for label, bf16, fp32, key in (("eval", ev16, ev, "perplexity"), ("finetune", ft16, ft, "last_loss")):
                check(bf16[key] != fp32[key] and abs(bf16[key] - fp32[key]) <= 1e-2 * fp32[key],
                      f"{label} --storage bf16: {key} {bf16[key]} near (within 1 %) but not equal to f32's {fp32[key]}")
        results[threads] = (cal, ev, ft, lora, ev16, ft16)
    for threads in (2, 3):
        t = str(threads)
        names = sorted(os.listdir(os.path.join(work, "stats1")))
        differ = [n for n in names if not filecmp.cmp(os.path.join(work, "stats1", n), os.path.join(work, f"stats{t}", n),
                                                      shallow=False)]
        check("gram.safetensors" in names and len(names) == 4 * 7 + 2 and not differ,
              f"calibrate --gram: all {len(names)} files identical at 1 and {t} threads (differ: {differ[:3]})")
        check(results[threads][1]["perplexity"] == results[1][1]["perplexity"],
              f"eval: perplexity {results[threads][1]['perplexity']} at {t} threads == {results[1][1]['perplexity']} at 1")
        check(results[threads][4]["perplexity"] == results[1][4]["perplexity"],
              f"eval --storage bf16: the same perplexity at 1 and {t} threads")
        for label, index, stem in (("finetune gift_sw", 2, "ft"), ("finetune lora", 3, "lora"),
                                   ("finetune gift_sw --storage bf16", 5, "ft16_")):
            check(results[threads][index]["last_loss"] == results[1][index]["last_loss"],
                  f"{label}: last loss identical at 1 and {t} threads")
            check(filecmp.cmp(os.path.join(work, f"{stem}1.safetensors"), os.path.join(work, f"{stem}{t}.safetensors"),
                              shallow=False), f"{label}: weights file byte-identical at 1 and {t} threads")
finally:
    shutil.rmtree(work, ignore_errors=True)

tool.finish("threads")
