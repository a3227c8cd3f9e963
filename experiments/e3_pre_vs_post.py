#!/usr/bin/env python3
"""E3's comparisons across settings (the paper's "quantization before and after training"): the
sweep's comparisons.csv compares each arm with GIFT-SW without noise *of the same setting*; the
paper's claims compare the settings with each other. This script runs `gift compare` with the
three seeds of each arm as replicates (paired by seed, two-level bootstrap, as comparisons.csv)
for the paper's arms:

  Pre-GIFT-SW   fine-tune with the noise of the target grid, then quantize    (setting pre)
  Post-GIFT-SW  quantize, then fine-tune the salient columns with 4-bit noise  (setting post;
                the paper always injects 4-bit noise after quantization)
  Salient FT    quantize, then fine-tune the salient columns without noise    (post, no noise)
  STE           quantization-aware training of every weight from the full-precision model
                (setting pre: trained through the target grid, then quantized)

and its claims: at 4 bits Pre-GIFT-SW beats the other two; at 3 bits fine-tuning after
quantization (Post-GIFT-SW, Salient FT) beats Pre-GIFT-SW, and Post-GIFT-SW and Salient FT are
alike; at 4 and 3 bits GIFT-SW comes close to STE at a fraction of its cost (Table 3). Loss rows:
b − a in nats per token (negative: b is better); accuracy rows: b − a.

Usage: e3_pre_vs_post.py <sweep folder> <gift binary> [bits ...] (default: 4 3); writes
<folder>/pre_vs_post.csv, <folder>/pre_vs_post.png (each loss difference with its interval, per
domain) and prints a Markdown table."""
import csv
import json
import os
import subprocess
import sys


def arm(bits, setting, method, noise_bits=None):
    """The cell id stem of an arm of experiments/e3_noise.json (seed suffix left out)."""
    suffix = f"_nb{noise_bits}" if noise_bits is not None and noise_bits != bits else ""
    lr = "0.0003" if method.startswith("gift_sw") else "0.0001"
    return f"gift_sw_b{bits}_f0.03125_c{{seed}}_rtn_{setting}_{method}{suffix}_lr{lr}_s{{seed}}"


def paper_arms(bits):
    return {"Pre-GIFT-SW": arm(bits, "pre", "gift_sw"),
            "Post-GIFT-SW": arm(bits, "post", "gift_sw", noise_bits=4),
            "Salient FT": arm(bits, "post", "gift_sw_no_noise"),
            "STE": arm(bits, "pre", "ste")}


# (bits, b, a): each row is b − a; the paper predicts a negative sign for the first four rows and
# about 0 for the others.
PAIRS = [(4, "Pre-GIFT-SW", "Post-GIFT-SW"), (4, "Pre-GIFT-SW", "Salient FT"),
         (3, "Post-GIFT-SW", "Pre-GIFT-SW"), (3, "Salient FT", "Pre-GIFT-SW"),
         (3, "Post-GIFT-SW", "Salient FT"), (4, "Post-GIFT-SW", "STE"), (3, "Post-GIFT-SW", "STE")]
FILES = {("in", "loss"): "eval-in.losses.csv", ("ood", "loss"): "eval-ood.losses.csv",
         ("in", "accuracy"): "task-in.items.csv", ("ood", "accuracy"): "task-ood.items.csv"}


def plot(rows, path):
    """One panel per domain: each loss difference b − a with its 95 % interval (red: excludes 0)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    domains = [("in", "linux-doc"), ("ood", "fortunes")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.5 * len(PAIRS) + 1.6), sharey=True)
    for ax, (domain, title) in zip(axes, domains):
        chosen = [r for r in rows if r["domain"] == domain and r["measure"] == "loss"]
        for y, r in enumerate(chosen):
            colour = "tab:red" if r["excludes_zero"] else "tab:blue"
            ax.errorbar(r["difference"], y, xerr=[[r["difference"] - r["ci_low"]], [r["ci_high"] - r["difference"]]],
                        fmt="o", color=colour, capsize=3)
        ax.set_yticks(range(len(chosen)))
        ax.set_yticklabels([f"{r['bits']}-bit: {r['b']} − {r['a']}" for r in chosen], fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("difference in mean loss, nats/token (< 0: the first arm is better)")
        ax.set_title(title)
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("E3 across settings: 95% two-level bootstrap intervals (3 seeds x 64 sequences); red: excludes 0",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    run, gift = sys.argv[1], os.path.abspath(sys.argv[2])
    wanted = {int(b) for b in sys.argv[3:]} or {4, 3}
    rows = []
    for bits, b_name, a_name in PAIRS:
        if bits not in wanted:
            continue
        arms = paper_arms(bits)
        for (domain, measure), name in FILES.items():
            def files(stem):
                paths = [os.path.join(run, "cells", stem.format(seed=s), name) for s in (0, 1, 2)]
                missing = [p for p in paths if not os.path.isfile(p)]
                if missing:
                    sys.exit(f"e3_pre_vs_post: {missing[0]} is missing; run the sweep to the end first")
                return ",".join(paths)
            r = subprocess.run([gift, "compare", "--a", files(arms[a_name]), "--b", files(arms[b_name]), "--json"],
                               capture_output=True, text=True, check=True)
            d = json.loads(r.stdout.strip().splitlines()[-1])
            sign = -1.0 if measure == "accuracy" else 1.0  # items store 1 − correct as their loss
            low, high = sorted((sign * d["ci_low"] + 0.0, sign * d["ci_high"] + 0.0))
            rows.append({"bits": bits, "b": b_name, "a": a_name, "domain": domain, "measure": measure,
                         "replicates": d["replicates"], "difference": sign * d["difference_nats_per_token"] + 0.0,
                         "ci_low": low, "ci_high": high,
                         "ppl_ratio": d["perplexity_ratio"] if measure == "loss" else "",
                         "excludes_zero": d["differ"]})
    with open(os.path.join(run, "pre_vs_post.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, os.path.join(run, "pre_vs_post.png"))
    print("| bits | b − a | domain | measure | difference [95 % CI] | ppl ratio |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = f"{row['ppl_ratio']:.4f}" if row["ppl_ratio"] != "" else "–"
        print(f"| {row['bits']} | {row['b']} − {row['a']} | {row['domain']} | {row['measure']} | "
              f"{row['difference']:+.4f} [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}] | {ratio} |")


if __name__ == "__main__":
    main()
