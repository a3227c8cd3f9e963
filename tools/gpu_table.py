#!/usr/bin/env python3
"""Prints the GPU check's table (markdown) from the Google Benchmark JSON files gpu_check.sh wrote.

usage: gpu_table.py <folder with gift_linear.json, alpha_search.json, model.json>
Each row names its target (measured with PyTorch 2.11 + peft on an H100, issue 13).
"""
import json
import os
import sys


def load(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f).get("benchmarks", [])


def main():
    folder = sys.argv[1]
    rows = []
    for b in load(folder, "gift_linear.json"):
        name = b["name"]  # training_step_vs_dense<__nv_bfloat16>/T:4096/out:4096/in:4096/manual_time
        if "bfloat16" not in name:
            continue
        parts = dict(p.split(":") for p in name.split("/") if ":" in p)
        target = "<= 1.10 (PyTorch 2.42)" if parts.get("T") == "4096" else "<= 1.30 (PyTorch 5.98)"
        rows.append((f"GIFT-SW layer fwd+bwd / dense fwd+dX, bf16, T={parts.get('T')}, "
                     f"{parts.get('out')}x{parts.get('in')}", f"{b['ratio']:.3f}", target))
    for b in load(folder, "alpha_search.json"):
        if b["name"].startswith("alpha_search_grid100"):
            rows.append(("alpha search 4096^2, 100 candidates (ms)", f"{b['real_time']:.3f}", "<= 0.4 (PyTorch 38)"))
    for b in load(folder, "model.json"):
        if b["name"].startswith("whole_step"):
            rows.append(("SmolLM2 step 8x512, GIFT-SW (tokens/s)", f"{b['tokens_per_s']:.0f}",
                         ">= 200000 (PyTorch 26.5k)"))
            rows.append(("SmolLM2 step 8x512, GIFT-SW / frozen step", f"{b['ratio']:.3f}", "<= 1.15"))
            rows.append(("SmolLM2 step, optimizer state (MiB)", f"{b['optimizer_state_MiB']:.1f}", "salient only"))
            rows.append(("SmolLM2 step, device memory in use after the step (MiB)", f"{b['device_used_MiB']:.0f}", "-"))
    print("| measure | gift | target |")
    print("|---|---|---|")
    for measure, value, target in rows:
        print(f"| {measure} | {value} | {target} |")
    if not rows:
        print("| (no benchmark output found) | - | - |")


if __name__ == "__main__":
    main()
