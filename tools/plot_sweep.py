#!/usr/bin/env python3
"""Plots and tables of a `gift sweep` run.

Usage: python3 tools/plot_sweep.py <sweep --out folder> [--title TEXT]

Reads <out>/results.jsonl (the last row of every cell) and the per-cell loss logs, and writes
into <out>/plots/:
  ppl_vs_bits.png   perplexity after quantization against bit-width, one line per metric, one
                    panel per (quantizer, text): the cells without training (method "none"), the
                    mean over seeds with its 95 % t-interval (only with two or more metrics);
  ppl_by_metric.png the same means and intervals per metric, one panel per (quantizer, bits)
                    that did not collapse (perplexity < 1000), linear scale (two or more metrics);
  methods.png       perplexity after fine-tuning per method (and setting), a row of panels per
                    bit-width on its own axis: the mean over seeds with its 95 % t-interval (a
                    single run is drawn hollow, without an interval: it has none), in-domain and
                    out-of-domain;
  comparisons.png   every arm against the sweep's "reference" (<out>/comparisons.csv): the
                    difference in mean loss per token and, with a task, in accuracy, each with
                    its 95 % two-level bootstrap interval, and a line at no difference;
  methods_vs_bits.png  perplexity of the final model against bit-width, one line per method,
                    setting, quantizer and salient share (untrained quantized models included);
  loss_curves.png   training loss per step, mean over seeds with a ±1 std band, per method;
  lr_selection.png  with finetune.choose_lr_on_dev: each method's dev perplexity against its
                    learning rates (mean over seeds, 95 % t-interval), the chosen rate filled;
                    methods.png, loss_curves.png and summary.md then show the chosen rates only
                    (validation never sees the others, as in groups.csv);
  summary.md        the same numbers as markdown tables (mean ± std over seeds, n = seeds), the
                    accuracy per arm (<out>/groups.csv) and the comparisons with their intervals.
Rows differ by their salient share too ("none": size 0, every column quantized).
matplotlib is installed by .ci/setup.
"""
import argparse
import collections
import csv
import json
import math
import re
import os
import statistics
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("plot_sweep: matplotlib is missing; run bash .ci/setup (it installs it)", file=sys.stderr)
    sys.exit(1)


def load_rows(out):
    rows = collections.OrderedDict()
    with open(os.path.join(out, "results.jsonl")) as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if row.get("status") == "ok":
                rows[row["cell"]] = row
    return list(rows.values())


def mean_std(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return float("nan"), float("nan"), 0
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0), len(values)


T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086]


def t_half_width(sd, n):
    """Half-width of the 95 % t-interval of a mean of n values with sample std sd (nan for n < 2)."""
    if n < 2:
        return float("nan")
    t = T_975[n - 2] if n - 1 <= len(T_975) else 1.960 + 2.4 / (n - 1)
    return t * sd / math.sqrt(n)


def read_csv(path):
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def short_names(ids):
    """The ids without the underscore-separated words all of them start with and end with (a
    learning rate every arm shares); an id left with nothing is named by its method's last two
    words. GIFT-SW's noise factor "nbK" reads "K-bit noise"."""
    parts = [i.split("_") for i in ids]
    common = 0
    while parts and all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    tail = 0
    while len(parts) > 1 and all(len(p) > common + tail and p[-1 - tail] == parts[0][-1 - tail] for p in parts):
        tail += 1
    names = {}
    for i, p in zip(ids, parts):
        core = p[common:len(p) - tail] or p[max(0, common - 2):common]
        core = [f"{w[2:]}-bit noise" if re.fullmatch(r"nb\d", w) else w for w in core]
        names[i] = "_".join(core)
    return names


def fmt(m, s, n):
    if not math.isfinite(m):
        return "–"
    return f"{m:.3f} ± {s:.3f} (n={n})" if n > 1 else f"{m:.3f}"


def quantizer_label(r):
    """The quantizer with its scale groups: "rtn", "rtn g64" (one scale per 64 columns)."""
    group = r.get("group_size") or 0
    return r["quantizer"] + (f" g{group:g}" if group else "")


def salient_label(r):
    """The salient share of a row: "3.125%", "k=32", or "none" (size 0: every column quantized)."""
    if "k" in r and r["k"] is not None:
        return "none" if r["k"] == 0 else f"k={r['k']:g}"
    fraction = r.get("fraction")
    if fraction is None:
        return "?"
    return "none" if fraction == 0 else f"{100 * fraction:g}%"


def series_label(r, rows):
    """The metric, with the salient share when the sweep has more than one."""
    if len({salient_label(x) for x in rows}) > 1:
        return f"{r['metric']} salient {salient_label(r)}"
    return r["metric"]


def quantized_groups(rows):
    """The untrained quantized cells (method "none") grouped over their seeds: (quantizer label,
    bits, series label) -> rows, in the order the cells first appear."""
    groups = collections.OrderedDict()
    quantized = [r for r in rows if r["method"] == "none"]
    for r in quantized:
        groups.setdefault((quantizer_label(r), r["bits"], series_label(r, quantized)), []).append(r)
    return groups


def mean_t_interval(members, key):
    """Mean over a group's runs of one measure and the half-width of its 95 % t-interval (nan for
    a single run: it has no interval)."""
    m, sd, n = mean_std([r.get(key) for r in members])
    return m, t_half_width(sd, n), n


def save_figure(fig, path, title=None, **title_style):
    """Gives the figure its title (if any, in `title_style`), lays it out, writes it to `path` and
    frees it; True, so that a plot function can end with `return save_figure(...)` (False means it
    drew nothing)."""
    if title is not None:
        fig.suptitle(title, **title_style)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def compares_metrics(groups):
    """Whether the untrained cells hold two or more series (metrics) to set side by side: with one,
    the metric plots would be one-point panels, and methods_vs_bits.png already draws that line."""
    return len({series for _, _, series in groups}) >= 2


def plot_bits(rows, path, title):
    groups = quantized_groups(rows)
    if not compares_metrics(groups):
        return False
    quantizers = sorted({q for q, _, _ in groups})
    texts = [("quantized_ppl_in", "linux-doc (in-domain)"), ("quantized_ppl_ood", "fortunes (out-of-domain)")]
    fig, axes = plt.subplots(len(texts), len(quantizers), figsize=(6 * len(quantizers), 4.2 * len(texts)),
                             squeeze=False)
    metrics = list(dict.fromkeys(s for _, _, s in groups))
    runs = max(len(members) for members in groups.values())
    for row_index, (key, label) in enumerate(texts):
        for col, q in enumerate(quantizers):
            ax = axes[row_index][col]
            for metric in metrics:
                points = sorted((bits,) + mean_t_interval(members, key)[:2] for (gq, bits, s), members in groups.items()
                                if gq == q and s == metric)
                points = [p for p in points if math.isfinite(p[1])]
                if points:
                    ax.errorbar([p[0] for p in points], [p[1] for p in points],
                                yerr=[0 if math.isnan(p[2]) else p[2] for p in points],
                                marker="o", capsize=3, label=metric)
            ax.set_yscale("log")
            ax.set_xlabel("bits (non-salient columns)")
            ax.set_ylabel("perplexity (log scale)" + ("\nmean, 95% t-interval over seeds" if runs > 1 else ""))
            ax.set_title(f"{q.upper()}: {label}")
            ax.set_xticks(sorted({bits for _, bits, _ in groups}))
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=2)
    return save_figure(fig, path, title)


def plot_metric_bars(rows, path, title):
    """Per metric, the mean perplexity over seeds with its 95 % t-interval, for every (quantizer,
    bits) whose perplexities stay below 1000: the log-scale line plot is dominated by the
    bit-widths where every metric collapses. Points, not bars from zero, so that the axis can
    start near the values."""
    groups = quantized_groups(rows)
    if not compares_metrics(groups):
        return False
    panels = sorted({(q, bits) for q, bits, _ in groups})
    panels = [p for p in panels
              if max(r["quantized_ppl_in"] for (q, bits, _), members in groups.items() if (q, bits) == p for r in members) < 1e3]
    if not panels:
        return False
    metrics = list(dict.fromkeys(s for _, _, s in groups))
    runs = max(len(members) for members in groups.values())
    fig, axes = plt.subplots(2, len(panels), figsize=(3.2 * len(panels) + 1, 7.5), squeeze=False)
    for col, (q, bits) in enumerate(panels):
        for row_index, (key, label) in enumerate((("quantized_ppl_in", "linux-doc"), ("quantized_ppl_ood", "fortunes"))):
            ax = axes[row_index][col]
            low, high = [], []
            for x, metric in enumerate(metrics):
                members = groups.get((q, bits, metric))
                if not members:
                    continue
                m, half, n = mean_t_interval(members, key)
                if not math.isfinite(m):
                    continue
                color = "#c44e52" if metric == "gift_sw" else "#4c72b0"
                if n > 1:
                    ax.errorbar([x], [m], yerr=[half], marker="o", capsize=4, color=color)
                else:
                    ax.plot([x], [m], marker="o", color=color, markerfacecolor="white")
                low.append(m - (half if n > 1 else 0))
                high.append(m + (half if n > 1 else 0))
            if low:
                span = max(high) - min(low) or max(high) * 0.05
                ax.set_ylim(min(low) - 0.08 * span, max(high) + 0.08 * span)
            ax.set_xticks(range(len(metrics)))
            ax.set_xticklabels(metrics, rotation=70, ha="right", fontsize=7)
            ax.set_title(f"{q.upper()} {bits}-bit: {label}", fontsize=9)
            ax.grid(True, axis="y", alpha=0.3)
        if col == 0:
            axes[0][col].set_ylabel("perplexity (lower is better)" +
                                    ("\nmean, 95% t-interval over seeds" if runs > 1 else ""))
    return save_figure(fig, path, title + " — perplexity per metric (gift_sw in red" + ("; hollow: one run)" if runs == 1 else ")"))


def method_label(r):
    """The method, with GIFT-SW's noise grid ("gift_sw, 3-bit noise") when the row records it."""
    noise = r.get("noise_bits") or 0
    return r["method"] + (f", {noise:g}-bit noise" if r["method"] == "gift_sw" and noise else "")


def group_key(r):
    return (method_label(r), r.get("setting", "-"), r["bits"], quantizer_label(r), r["metric"], salient_label(r))


def grouped(rows):
    groups = collections.OrderedDict()
    for r in rows:
        if r["method"] == "none":
            continue
        groups.setdefault(group_key(r), []).append(r)
    return groups


def arm_of(cell):
    """A cell's arm: its id without the seed fields ("_c<seed>" of the calibration, "_s<seed>")."""
    return re.sub(r"_s\d+$", "", re.sub(r"_c\d+(?=_)", "", cell))


def chosen_rows(out, rows):
    """With finetune.choose_lr_on_dev (lr_selection.csv present): the untrained rows and the
    trained rows at each arm's chosen learning rate (the arms of groups.csv); otherwise all rows."""
    if not read_csv(os.path.join(out, "lr_selection.csv")):
        return rows
    chosen = {g["arm"] for g in read_csv(os.path.join(out, "groups.csv"))}
    return [r for r in rows if r["method"] == "none" or arm_of(r["cell"]) in chosen]


def plot_lr_selection(out, rows, path, title):
    """Dev perplexity against learning rate, one line per arm (without its rate)."""
    if not read_csv(os.path.join(out, "lr_selection.csv")):
        return False
    chosen = {g["arm"] for g in read_csv(os.path.join(out, "groups.csv"))}
    lines = collections.OrderedDict()
    for r in rows:
        if r["method"] != "none" and r.get("ppl_dev") is not None:
            lines.setdefault(group_key(r), collections.OrderedDict()).setdefault(r["lr"], []).append(r)
    if not lines:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for (method, setting, bits, quantizer, metric, salient), by_lr in lines.items():
        rates = sorted(by_lr)
        stats = [mean_std([m["ppl_dev"] for m in by_lr[lr]]) for lr in rates]
        label = method + ("" if setting == "-" else f" ({setting} {quantizer} {bits}b)")
        line = ax.errorbar(rates, [m for m, _, _ in stats], yerr=[t_half_width(sd, n) for _, sd, n in stats],
                           fmt="-o", capsize=3, markerfacecolor="white", label=label)
        for lr, (mean, _, _) in zip(rates, stats):
            if any(arm_of(m["cell"]) in chosen for m in by_lr[lr]):
                color = line[0].get_color()
                ax.plot([lr], [mean], "o", color=color, markerfacecolor=color, markersize=9, zorder=5)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("dev perplexity (linux-doc dev split)\nmean, 95% t-interval over seeds")
    ax.set_title(f"{title}\nlearning rate chosen on dev (filled); validation never decides", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_methods(rows, path, title):
    groups = grouped(rows)
    if not groups:
        return False
    # A row of panels per bit-width, each on its own axis: on one shared axis the 3-bit spread
    # hides the 4-bit differences.
    by_bits = collections.OrderedDict()
    for (method, setting, bits, quantizer, metric, salient), members in sorted(groups.items(), key=lambda kv: -kv[0][2]):
        entry = by_bits.setdefault(bits, ([], [], []))
        entry[0].append(f"{method}\n{setting} {quantizer} {bits}b" + (" all-q" if salient == "none" else ""))
        entry[1].append(mean_std([m.get("ppl_in") for m in members]))
        entry[2].append(mean_std([m.get("ppl_ood") for m in members]))
    width = max(len(labels) for labels, _, _ in by_bits.values())
    fig, axes = plt.subplots(len(by_bits), 2, figsize=(max(8, 1.1 * width + 4), 4.8 * len(by_bits)), squeeze=False)
    for row, (labels, stats_in, stats_ood) in zip(axes, by_bits.values()):
        for ax, values, name in ((row[0], stats_in, "linux-doc validation"), (row[1], stats_ood, "fortunes validation")):
            # Points with their 95 % t-interval over seeds, not bars from zero: the axis can then
            # zoom on the differences, and a single run (no interval) is drawn hollow, not as certainty.
            spans = []
            for x, (mean, sd, n) in enumerate(values):
                if not math.isfinite(mean):
                    continue
                half = t_half_width(sd, n)
                if math.isfinite(half):
                    ax.errorbar([x], [mean], yerr=[half], fmt="o", color="#4c72b0", capsize=4)
                    spans += [mean - half, mean + half]
                else:
                    ax.plot([x], [mean], "o", markerfacecolor="white", color="#4c72b0")
                    spans.append(mean)
                ax.annotate(f"n={n}", (x, mean), textcoords="offset points", xytext=(6, -3), fontsize=7)
            ax.set_xticks(list(range(len(labels))))
            ax.set_xticklabels(labels, fontsize=7, rotation=60, ha="right")
            ax.set_ylabel("perplexity after fine-tuning\n(mean, 95% t-interval over seeds; hollow: one run)")
            ax.set_title(name)
            if spans:
                low, high = min(spans), max(spans)
                ax.set_ylim(low - 0.15 * (high - low + 1e-9), high + 0.15 * (high - low + 1e-9))
            ax.set_xlim(-0.5, len(labels) - 0.5)
            ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, path, title)


def plot_methods_vs_bits(rows, path, title):
    """Perplexity of the final model against bit-width, one line per (method, setting, quantizer,
    salient share), the untrained quantized models included: E4's comparison across bit-widths."""
    series = collections.OrderedDict()
    several_metrics = len({r["metric"] for r in rows}) > 1
    for r in rows:
        key = (method_label(r), r.get("setting", "-"), quantizer_label(r),
               salient_label(r) + (f", {r['metric']}" if several_metrics else ""))
        series.setdefault(key, collections.defaultdict(list))[r["bits"]].append(r)
    series = {k: v for k, v in series.items() if len(v) > 1}
    if not series:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, (key, name) in zip(axes, (("ppl_in", "linux-doc validation"), ("ppl_ood", "fortunes validation"))):
        for (method, setting, quantizer, salient), by_bits in series.items():
            bits = sorted(by_bits)
            stats = [mean_std([m.get(key) for m in by_bits[b]]) for b in bits]
            label = f"{method}{'' if setting == '-' else ' ' + setting} {quantizer}, salient {salient}"
            ax.errorbar(bits, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("bits")
        ax.set_xticks(sorted({r["bits"] for r in rows}))
        ax.set_ylabel("perplexity (log scale; mean ± std over seeds)")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    return save_figure(fig, path, title)


def read_loss(out, cell):
    path = os.path.join(out, "cells", cell, "loss.csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def plot_losses(out, rows, path, title):
    groups = grouped(rows)
    curves = collections.OrderedDict()
    for key, members in groups.items():
        losses = [read_loss(out, m["cell"]) for m in members]
        losses = [l for l in losses if l]
        if losses:
            curves[key] = losses
    if not curves:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for (method, setting, bits, quantizer, metric, salient), losses in curves.items():
        steps = min(len(l) for l in losses)
        mean = [statistics.fmean(l[s] for l in losses) for s in range(steps)]
        std = [statistics.stdev([l[s] for l in losses]) if len(losses) > 1 else 0.0 for s in range(steps)]
        x = list(range(1, steps + 1))
        line, = ax.plot(x, mean, label=f"{method} {setting} {quantizer} {bits}b (n={len(losses)})")
        ax.fill_between(x, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                        color=line.get_color(), alpha=0.15)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (nats/token)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title)
    return save_figure(fig, path)


def plot_comparisons(out, path, title):
    table = read_csv(os.path.join(out, "comparisons.csv"))
    if not table:
        return False
    panels = [(measure, domain) for measure in ("loss", "accuracy") for domain in ("in", "ood")
              if any(r["measure"] == measure and r["domain"] == domain for r in table)]
    names = short_names(sorted({r["arm"] for r in table}))
    references = sorted({r["reference"] for r in table})
    all_names = short_names(sorted({r["arm"] for r in table} | set(references)))
    # One reference: the title names it. Several (the reference arm at each bit-width, say): each
    # row names its own, so no row reads as compared with another arm than the one it was.
    reference = all_names.get(references[0], "") if len(references) == 1 else "each row's reference"
    reference_names = short_names(references)  # what tells the references apart (e.g. "b3", "b4")
    label = (lambda r: names[r["arm"]]) if len(references) == 1 else \
        (lambda r: f"{names[r['arm']]} (vs {reference_names[r['reference']]})")
    # Loss above accuracy, a domain per column: each panel gets the width its long labels leave.
    measures = [m for m in ("loss", "accuracy") if any(p[0] == m for p in panels)]
    domains = [d for d in ("in", "ood") if any(p[1] == d for p in panels)]
    fig, axes = plt.subplots(len(measures), len(domains), figsize=(8.0 * len(domains), (0.4 * len(names) + 1.6) * len(measures)),
                             squeeze=False)
    for ax, (measure, domain) in zip([axes[measures.index(m)][domains.index(d)] for m, d in panels], panels):
        rows = [r for r in table if r["measure"] == measure and r["domain"] == domain]
        for y, r in enumerate(rows):
            d, low, high = float(r["difference"]), float(r["ci_low"]), float(r["ci_high"])
            color = "#c44e52" if r["excludes_zero"] == "true" else "#4c72b0"
            ax.errorbar([d], [y], xerr=[[d - low], [high - d]], fmt="o", color=color, capsize=4)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(list(range(len(rows))))
        ax.set_yticklabels([label(r) for r in rows], fontsize=7)
        text = "linux-doc" if domain == "in" else "fortunes"
        unit = "mean loss, nats/token (< 0: better)" if measure == "loss" else "accuracy (> 0: better)"
        ax.set_xlabel(f"difference in {unit}")
        ax.set_title(f"{text}: {measure} vs {reference}", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    return save_figure(fig, path, f"{title}\n95% two-level bootstrap intervals (seeds x sequences); red: excludes 0", fontsize=9)


def statistics_tables(out):
    """Markdown of groups.csv's accuracy and of comparisons.csv (empty without them)."""
    lines = []
    groups = [g for g in read_csv(os.path.join(out, "groups.csv")) if g.get("acc_mean")]
    if groups:
        task = "zero-shot"
        try:
            with open(os.path.join(out, "config.json")) as f:
                task = json.load(f)["eval"]["task"]["name"]
        except (OSError, KeyError, TypeError, json.JSONDecodeError):
            pass  # an older run without its config: the heading names no task
        lines += [f"## Zero-shot accuracy ({task}; mean over runs; 95 % interval: the hull of the t-interval "
                  "over seeds and the Wilson interval over the items, Wilson alone for one run)", "", "| arm | runs | text | accuracy | 95 % interval |", "|---|---|---|---|---|"]
        names = short_names([g["arm"] for g in groups])
        for g in groups:
            text = "linux-doc" if g["domain"] == "in" else "fortunes"
            lines.append(f"| {names[g['arm']]} | {g['runs']} | {text} | {float(g['acc_mean']):.3f} | "
                         f"[{float(g['acc_ci_low']):.3f}, {float(g['acc_ci_high']):.3f}] |")
        lines.append("")
    table = read_csv(os.path.join(out, "comparisons.csv"))
    if table:
        references = sorted({r["reference"] for r in table})
        names = short_names(sorted({r["arm"] for r in table} | set(references)))
        heading = names[references[0]] if len(references) == 1 else "per row: " + ", ".join(names[x] for x in references)
        lines += [f"## Against the reference ({heading}): difference and 95 % interval", "",
                  "Two-level bootstrap over seeds and evaluation sequences (items for accuracy). Loss: mean nll "
                  "per token, b − reference (negative: better); accuracy: b − reference (positive: better).", "",
                  "| arm | reference | text | measure | seeds | sequences | difference | 95 % interval | ppl ratio | excludes 0 |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in table:
            text = "linux-doc" if r["domain"] == "in" else "fortunes"
            ratio = f"{float(r['ppl_ratio']):.4f}" if r.get("ppl_ratio") else "–"
            lines.append(f"| {names[r['arm']]} | {names[r['reference']]} | {text} | {r['measure']} | {r['replicates']} | {r['sequences']} | "
                         f"{float(r['difference']):+.4f} | [{float(r['ci_low']):+.4f}, {float(r['ci_high']):+.4f}] | "
                         f"{ratio} | {'yes' if r['excludes_zero'] == 'true' else 'no'} |")
        lines.append("")
    return lines


def summary(rows, path):
    lines = []
    quantized = quantized_groups(rows)
    if quantized:
        lines += ["## Perplexity after quantization (no training; mean ± std over seeds, n = seeds)", "",
                  "| metric | salient (fp32) | quantizer | bits | linux-doc | fortunes |", "|---|---|---|---|---|---|"]
        ordered = sorted(quantized.items(),
                         key=lambda item: (item[0][0], item[0][1], mean_std([r["quantized_ppl_in"] for r in item[1]])[0]))
        for (q, bits, _), members in ordered:
            r = members[0]
            lines.append(f"| {r['metric']} | {salient_label(r)} | {q} | {bits} | "
                         f"{fmt(*mean_std([m.get('quantized_ppl_in') for m in members]))} | "
                         f"{fmt(*mean_std([m.get('quantized_ppl_ood') for m in members]))} |")
        lines.append("")
    groups = grouped(rows)
    if groups:
        lines += ["## After fine-tuning (mean ± std over seeds)", "",
                  "| method | setting | salient (fp32) | quantizer | bits | trainable | before (linux-doc) | linux-doc |"
                  " fortunes | final loss |", "|---|---|---|---|---|---|---|---|---|---|"]
        for (method, setting, bits, quantizer, metric, salient), members in groups.items():
            trainable = members[0].get("trainable_parameters", "")
            rank = members[0].get("rank", 0)
            count = f"{trainable:,}" + (f" (r={rank})" if rank else "")
            lines.append(f"| {method} | {setting} | {salient} | {quantizer} | {bits} | {count} | "
                         f"{fmt(*mean_std([m.get('quantized_ppl_in') for m in members]))} | "
                         f"{fmt(*mean_std([m.get('ppl_in') for m in members]))} | "
                         f"{fmt(*mean_std([m.get('ppl_ood') for m in members]))} | "
                         f"{fmt(*mean_std([m.get('last_loss') for m in members]))} |")
        lines.append("")
    lines += statistics_tables(os.path.dirname(os.path.dirname(os.path.abspath(path))))
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the --out folder of gift sweep")
    parser.add_argument("--title", default="", help="title of the figures")
    args = parser.parse_args()
    rows = load_rows(args.out)
    if not rows:
        print(f"plot_sweep: no finished cells in {args.out}/results.jsonl", file=sys.stderr)
        sys.exit(1)
    plots = os.path.join(args.out, "plots")
    os.makedirs(plots, exist_ok=True)
    title = args.title or os.path.basename(os.path.abspath(args.out))
    made = []
    if plot_lr_selection(args.out, rows, os.path.join(plots, "lr_selection.png"), title):
        made.append("lr_selection.png")
    cells = len(rows)
    rows = chosen_rows(args.out, rows)
    if plot_bits(rows, os.path.join(plots, "ppl_vs_bits.png"), title):
        made.append("ppl_vs_bits.png")
    if plot_metric_bars(rows, os.path.join(plots, "ppl_by_metric.png"), title):
        made.append("ppl_by_metric.png")
    if plot_methods(rows, os.path.join(plots, "methods.png"), title):
        made.append("methods.png")
    if plot_methods_vs_bits(rows, os.path.join(plots, "methods_vs_bits.png"), title):
        made.append("methods_vs_bits.png")
    if plot_comparisons(args.out, os.path.join(plots, "comparisons.png"), title):
        made.append("comparisons.png")
    if plot_losses(args.out, rows, os.path.join(plots, "loss_curves.png"), title):
        made.append("loss_curves.png")
    summary(rows, os.path.join(plots, "summary.md"))
    made.append("summary.md")
    print(f"plot_sweep: {cells} cells -> " + ", ".join(os.path.join(plots, m) for m in made))


if __name__ == "__main__":
    main()
