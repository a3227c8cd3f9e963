#!/usr/bin/env python3
"""`gift eval --files N --sequence-losses` and `gift compare` on SmolLM2 cut to its first 4 blocks
(tool_test.smollm2_cut): the window sample draws from N distinct files of the validation split at
valid offsets; the per-sequence losses add up to the reported total; an evaluation compared with
itself differs by exactly 0 with a zero-width interval; the original against a 3-bit quantized
model gives the difference of the totals, with an interval that contains it and whose width
agrees with the normal approximation computed here with numpy; evaluations of different samples
are refused; `--task next_passage` reports the item file's accuracy with its Wilson interval, the
same for the same seed; `--task final_word` asks for words that end a sentence at each item's source;
replicate lists (comma-separated, paired by position) give the mean of the paired differences.

Usage: compare.py <path to the gift binary>. Exits 77 (skipped) without the model."""
import csv
import gzip
import math
import os
import re
import shutil
import sys
import tempfile

import numpy as np

from tool_test import gift_runner, smollm2_cut

work = tempfile.mkdtemp(prefix="gift_compare_")
model = smollm2_cut("compare", work, layers=4)
tool = gift_runner(sys.argv[1], work, dict(os.environ, GIFT_MODEL=model))
run, gift_run, check = tool.run, tool.json, tool.check


def rows(name):
    with open(os.path.join(work, name), newline="") as f:
        return list(csv.DictReader(f))


try:
    sample = ("--files", "16", "--seq", "64", "--sample-seed", "3")
    base = gift_run("eval", *sample, "--sequence-losses", "base.csv", "--json")
    again = gift_run("eval", *sample, "--batch", "1", "--sequence-losses", "again.csv", "--json")
    gift_run("quantize", "--no-salient", "--bits", "3", "--out", "q3.safetensors", "--json")
    low = gift_run("eval", *sample, "--weights", "q3.safetensors", "--sequence-losses", "q3.csv", "--json")

    table = rows("base.csv")
    files = {row["file"] for row in table}
    check(len(table) == 16 and len(files) == 16 and base["files"] == 16,
          f"--files 16: 16 windows from 16 distinct files ({len(table)} rows, {len(files)} files)")
    check(all(int(row["tokens"]) == 63 and int(row["offset"]) >= 0 for row in table),
          "every window predicts 63 tokens from a non-negative offset")
    total = sum(float(row["nll"]) for row in table)
    check(abs(total / base["tokens_predicted"] - base["mean_nll"]) <= 1e-8 * base["mean_nll"],
          f"per-sequence losses add up to the total ({total / base['tokens_predicted']} vs {base['mean_nll']})")

    same = gift_run("compare", "--a", "base.csv", "--b", "again.csv", "--json")
    # Batches of 4 and of 1 differ at most by the rounding of the batched GEMMs.
    check(max(abs(same["difference_nats_per_token"]), abs(same["ci_low"]), abs(same["ci_high"])) <= 1e-6,
          f"batch 4 against batch 1: no difference ({same['difference_nats_per_token']}, "
          f"[{same['ci_low']}, {same['ci_high']}])")

    d = gift_run("compare", "--a", "base.csv", "--b", "q3.csv", "--resamples", "4000", "--json")
    a = np.array([float(row["nll"]) for row in table])
    b = np.array([float(row["nll"]) for row in rows("q3.csv")])
    expected = (b.sum() - a.sum()) / (63 * len(a))
    check(abs(d["difference_nats_per_token"] - expected) <= 1e-9 * abs(expected) + 1e-12,
          f"the difference {d['difference_nats_per_token']} is q3's mean nll minus the base's ({expected})")
    check(d["ci_low"] <= d["difference_nats_per_token"] <= d["ci_high"], "the interval contains the difference")
    check(abs(low["mean_nll"] - base["mean_nll"] - expected) <= 1e-8, "and the reports' mean losses agree")
    half = 1.959964 * np.std(b - a, ddof=1) / math.sqrt(len(a)) / 63.0
    got = (d["ci_high"] - d["ci_low"]) / 2
    check(0.6 * half <= got <= 1.4 * half, f"interval half-width {got:.4g} near the normal approximation {half:.4g}")
    check(abs(d["perplexity_ratio"] - math.exp(d["difference_nats_per_token"])) <= 1e-9 * d["perplexity_ratio"],
          "perplexity ratio = exp(difference)")

    # Replicates (a sweep's seeds): lists paired by position. Two replicates, base -> q3 and
    # base -> q4: the difference is the mean of the two single differences (numpy here); a side
    # with one file pairs with every file of the other (the same numbers); unequal lists refused.
    gift_run("quantize", "--no-salient", "--bits", "4", "--out", "q4.safetensors", "--json")
    gift_run("eval", *sample, "--weights", "q4.safetensors", "--sequence-losses", "q4.csv", "--json")
    c = np.array([float(row["nll"]) for row in rows("q4.csv")])
    two = gift_run("compare", "--a", "base.csv,base.csv", "--b", "q3.csv,q4.csv", "--json")
    one_side = gift_run("compare", "--a", "base.csv", "--b", "q3.csv,q4.csv", "--json")
    expected_two = ((b.sum() - a.sum()) + (c.sum() - a.sum())) / 2 / (63 * len(a))
    check(two["replicates"] == 2 and abs(two["difference_nats_per_token"] - expected_two) <= 1e-9 * abs(expected_two)
          and two["ci_low"] <= two["difference_nats_per_token"] <= two["ci_high"],
          f"two replicates: the mean of the two differences ({two['difference_nats_per_token']} vs {expected_two}), "
          f"inside its interval")
    check(all(one_side[k] == two[k] for k in ("difference_nats_per_token", "ci_low", "ci_high", "b_perplexity")),
          "one file on a side pairs with every replicate of the other")
    r = run("compare", "--a", "base.csv,base.csv", "--b", "q3.csv,q4.csv,q3.csv")
    check(r.returncode == 1 and "--a lists 2 files and --b 3" in r.stderr,
          f"unequal replicate lists are refused ({r.stderr.strip()[-160:]!r})")

    gift_run("eval", "--files", "16", "--seq", "64", "--sample-seed", "4", "--sequence-losses", "other.csv", "--json")
    r = run("compare", "--a", "base.csv", "--b", "other.csv")
    check(r.returncode == 1 and "evaluate different sequences" in r.stderr,
          f"different samples are refused ({r.stderr.strip()[-160:]!r})")
    r = run("eval", "--files", "4", "--data", os.path.join(work, "base.csv"), "--seq", "16")
    check(r.returncode == 1 and "--files samples windows across the files of a corpus" in r.stderr,
          f"--files on a single --data file is refused ({r.stderr.strip()[-160:]!r})")

    # Zero-shot accuracy: next_passage items from the validation split, scored by log-likelihood.
    task = ("--task", "next_passage", "--task-items", "8", "--task-context", "32", "--task-continuation", "8")
    acc = gift_run("eval", *task, "--item-results", "items.csv", "--json")
    items = rows("items.csv")
    check(acc["items"] == 8 and len(items) == 8 and acc["choices"] == 4 and acc["chance"] == 0.25,
          f"--task-items 8: 8 items of 4 choices ({acc['items']} items, {len(items)} rows)")
    right = sum(1.0 - float(row["nll"]) for row in items)
    check(abs(acc["accuracy"] - right / 8) <= 1e-12, f"accuracy {acc['accuracy']} = the item file's {right}/8")
    z = 1.959963984540054
    p, n = right / 8, 8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    check(abs(acc["accuracy_ci_low"] - max(0.0, centre - half)) <= 1e-9
          and abs(acc["accuracy_ci_high"] - min(1.0, centre + half)) <= 1e-9,
          f"the interval is Wilson's ([{acc['accuracy_ci_low']:.4f}, {acc['accuracy_ci_high']:.4f}])")
    again_acc = gift_run("eval", *task, "--json")
    check(again_acc["accuracy"] == acc["accuracy"] and again_acc["accuracy_norm"] == acc["accuracy_norm"],
          "the same seed builds and scores the same items")
    # final_word: every item asks for a word that ends a sentence at its source (checked here on
    # the decompressed document, independently of gift), and the accuracy is the item file's.
    fw = gift_run("eval", "--task", "final_word", "--task-items", "8", "--task-context", "32",
                  "--item-results", "final_word.csv", "--json")
    fw_items = rows("final_word.csv")
    docs = "/usr/share/doc/linux-doc-6.1/Documentation"
    ends_sentence = re.compile(rb"[A-Za-z]{3,}[.!?](\s|$)")
    where = [row["file"].rsplit("@", 1) for row in fw_items]
    found = [bool(ends_sentence.match(gzip.open(os.path.join(docs, name)).read()[int(offset):]))
             for name, offset in where]
    check(fw["items"] == 8 and len(fw_items) == 8 and all(found)
          and abs(fw["accuracy"] - sum(1.0 - float(row["nll"]) for row in fw_items) / 8) <= 1e-12,
          f"final_word: 8 items, each at a sentence-final word ({found}), accuracy from the item file")
    r = run("eval", "--task", "last_word")
    check(r.returncode == 1 and "--task must be" in r.stderr, f"an unknown task is refused ({r.stderr.strip()[-120:]!r})")
finally:
    shutil.rmtree(work, ignore_errors=True)

tool.finish("compare")
