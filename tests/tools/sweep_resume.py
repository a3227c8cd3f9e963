#!/usr/bin/env python3
"""`gift sweep` on SmolLM2 cut to its first 4 blocks (tool_test.smollm2_cut: the real model's shapes
and code at 4/30 of the cost) with tiny sizes: a 2-cell grid (the quantized model without training,
and GIFT-SW after quantization) runs; results.jsonl/.csv hold both rows; a second run recomputes
nothing (no command runs, the results file is byte-identical); after a simulated kill (the last row
lost, a half-written line left behind) only the lost cell runs again and reproduces its numbers bit
for bit, also in a new folder that tools/sweep_carry.py filled without the statistics and models; --dry-run lists the cells; a fully quantized grid (fraction 0: NPFT, then every column
quantized) runs without a selection and trains once for two bit-widths; several "grids" share their
settings and a cell two of them describe runs once; bad configurations are refused naming the field.

Usage: sweep_resume.py <path to the gift binary>. Exits 77 (skipped) without the model."""
import csv as csvmodule
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

from tool_test import checklist, smollm2_cut

gift = os.path.abspath(sys.argv[1])

work = tempfile.mkdtemp(prefix="gift_sweep_")
model = smollm2_cut("sweep_resume", work, layers=4)
env = dict(os.environ, GIFT_MODEL=model, OMP_NUM_THREADS="2")
checks = checklist()
failures, check = checks.failures, checks.check


def sweep(config_name, *extra):
    r = subprocess.run([gift, "sweep", "--config", config_name, "--out", "out", "--json", *extra],
                       capture_output=True, text=True, timeout=900, env=env, cwd=work)
    summary = None
    if r.returncode == 0 and "--dry-run" not in extra:
        summary = json.loads(r.stdout.strip().splitlines()[-1])
    return r, summary


def rows():
    with open(os.path.join(work, "out", "results.jsonl")) as f:
        lines = [line for line in f if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            parsed.append({"unparsable": line})
    return parsed


def sweep_config(name, config, out, *extra, timeout=600):
    """Writes `config` to <name>.json in the work folder and runs `gift sweep` on it into `out`."""
    with open(os.path.join(work, name + ".json"), "w") as f:
        json.dump(config, f)
    return subprocess.run([gift, "sweep", "--config", name + ".json", "--out", out, *extra], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=work)


def results_of(out):
    """The rows of <out>/results.jsonl."""
    with open(os.path.join(work, out, "results.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


config = {
    "metrics": ["gift_sw"], "bits": [4], "quantizer": ["rtn"], "methods": ["none", "gift_sw"],
    "lr": [1e-4], "seeds": [0],
    "calibration": {"tokens": 256, "seq": 64},
    "eval": {"tokens": 256, "seq": 64, "out_of_domain": "fortunes"},
    "finetune": {"steps": 2, "batch": 1, "seq": 32},
}
with open(os.path.join(work, "tiny.json"), "w") as f:
    json.dump(config, f)

try:
    r, summary = sweep("tiny.json")
    check(r.returncode == 0, f"first run exits 0 (stderr: {r.stderr[-400:]!r})")
    if r.returncode == 0:
        check(summary["ran"] == 2 and summary["failed"] == 0, "first run: 2 cells ran, none failed")
        first = rows()
        check(len(first) == 2 and all(row["status"] == "ok" for row in first), "results.jsonl: 2 ok rows")
        for row in first:
            for key in ("ppl_in", "ppl_ood", "quantized_ppl_in", "quantized_ppl_ood"):
                # (JSON has one number type: a large perplexity may be written without a fraction.)
                check(isinstance(row.get(key), (int, float)) and math.isfinite(row[key]) and row[key] > 1,
                      f"{row['method']}: {key} = {row.get(key)} is a finite perplexity")
        none = next(row for row in first if row["method"] == "none")
        tuned = next(row for row in first if row["method"] == "gift_sw")
        check(none["ppl_in"] == none["quantized_ppl_in"], "method none reports the quantized model's perplexity")
        check(tuned["quantized_ppl_in"] == none["quantized_ppl_in"], "both cells share one quantized model")
        check(tuned["ppl_in"] != tuned["quantized_ppl_in"], "fine-tuning changed the model")
        check(tuned["trainable_parameters"] > 0, "the GIFT-SW cell reports its trainable count")
        with open(os.path.join(work, "out", "results.csv")) as f:
            csv = f.read().splitlines()
        check(len(csv) == 3 and csv[0].startswith("cell,"), "results.csv: header and 2 rows")
        with open(os.path.join(work, "out", "cells", tuned["cell"], "loss.csv")) as f:
            check(len(f.read().splitlines()) == 3, "the loss log has one line per step")
        with open(os.path.join(work, "out", "results.jsonl"), "rb") as f:
            before = f.read()

        r, summary = sweep("tiny.json")
        check(r.returncode == 0 and summary["ran"] == 0 and summary["commands_run"] == 0,
              f"a second run recomputes nothing ({summary})")
        with open(os.path.join(work, "out", "results.jsonl"), "rb") as f:
            check(f.read() == before, "results.jsonl is unchanged by the second run")

        # A kill during the second cell: its row never written, a half line left.
        with open(os.path.join(work, "out", "results.jsonl"), "w") as f:
            f.write(json.dumps(first[0]) + "\n" + '{"cell": "' + first[1]["cell"][:10])
        shutil.rmtree(os.path.join(work, "out", "cells", first[1]["cell"]))
        r, summary = sweep("tiny.json")
        check(r.returncode == 0 and summary["ran"] == 1, f"after a kill only the lost cell runs ({summary})")
        after = rows()
        check(sum("unparsable" in row for row in after) == 1 and after[-1].get("cell") == first[1]["cell"],
              "the half line stays on its own line; the new row follows it intact")
        again = [row for row in after if row.get("cell") == first[1]["cell"]]
        check(len(again) == 1 and again[0]["ppl_in"] == first[1]["ppl_in"] and again[0]["last_loss"] == first[1]["last_loss"],
              "the recomputed cell reproduces its numbers bit for bit")

        # Carried to a new folder without its large files (tools/sweep_carry.py, as between two
        # sessions): the lost cell recomputes the calibration and the quantized model it needs and
        # reproduces its numbers bit for bit.
        shutil.copytree(os.path.join(work, "out"), os.path.join(work, "killed"))
        with open(os.path.join(work, "killed", "results.jsonl"), "w") as f:
            f.write(json.dumps(first[0]) + "\n")
        shutil.rmtree(os.path.join(work, "killed", "cells", first[1]["cell"]))
        carry = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "sweep_carry.py")
        saved = subprocess.run([sys.executable, carry, "save", "killed", "carried"], capture_output=True, text=True,
                               cwd=work)
        restored = subprocess.run([sys.executable, carry, "restore", "carried", "out2"], capture_output=True,
                                  text=True, cwd=work)
        check(saved.returncode == 0 and restored.returncode == 0, f"sweep_carry save/restore ({saved.stderr}{restored.stderr})")
        check(not any(name.endswith(".safetensors") or name.startswith("stats")
                      for name in os.listdir(os.path.join(work, "out2", "shared"))),
              "the carried folder holds no statistics or models")
        r = subprocess.run([gift, "sweep", "--config", "tiny.json", "--out", "out2", "--json"], capture_output=True,
                           text=True, timeout=900, env=env, cwd=work)
        carried_summary = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
        check(r.returncode == 0 and carried_summary.get("ran") == 1,
              f"a carried sweep runs only the lost cell ({r.stderr[-300:]!r})")
        carried_rows = results_of("out2")
        check(len(carried_rows) == 2 and carried_rows[1]["ppl_in"] == first[1]["ppl_in"]
              and carried_rows[1]["last_loss"] == first[1]["last_loss"],
              "the carried sweep's recomputed cell reproduces its numbers bit for bit")

        r, _ = sweep("tiny.json", "--dry-run")
        check(r.returncode == 0 and r.stdout.count("done  ") == 2 and "2 cells, 0 to run" in r.stdout,
              "--dry-run lists both cells as done")

        # A continued sweep must keep the shared settings.
        changed = dict(config, eval={"tokens": 128, "seq": 64, "out_of_domain": "fortunes"})
        r = sweep_config("changed", changed, "out", timeout=60)
        check(r.returncode == 1 and "eval.tokens=256" in r.stderr and "eval.tokens=128" in r.stderr,
              f"a changed eval size in the same --out is refused ({r.stderr.strip()[-200:]!r})")
        # ... and the same inputs: another --docs (or --model) would make old and new cells incomparable.
        r = subprocess.run([gift, "sweep", "--config", "tiny.json", "--out", "out", "--docs", work],
                           capture_output=True, text=True, timeout=60, env=env, cwd=work)
        check(r.returncode == 1 and "docs=" in r.stderr and "--docs" in r.stderr,
              f"another --docs in the same --out is refused ({r.stderr.strip()[-200:]!r})")

    # The evaluation design of the experiments: windows across files, per-sequence losses stored,
    # seeds that vary the training data, statistics against a reference, provenance.
    stats_config = {
        "metrics": ["gift_sw"], "bits": [4], "quantizer": ["rtn"],
        "methods": ["none", "gift_sw_no_noise", "gift_sw"], "lr": [1e-4], "seeds": [0, 1],
        "calibration": {"tokens": 256, "seq": 64},
        "eval": {"files": 6, "windows_per_file": 1, "seq": 32, "batch": 3, "out_of_domain": "fortunes",
                 "task": {"name": "next_passage", "items": 4, "context": 16, "continuation": 8, "choices": 2}},
        "finetune": {"steps": 2, "batch": 1, "seq": 32},
        "reference": {"method": "gift_sw_no_noise"},
    }
    r = sweep_config("stats", stats_config, "stats", "--json", timeout=900)
    check(r.returncode == 0, f"the statistics sweep exits 0 (stderr: {r.stderr[-400:]!r})")
    if r.returncode == 0:
        summary_stats = json.loads(r.stdout.strip().splitlines()[-1])
        every = results_of("stats")
        check(len(every) == 5 and all(row["status"] == "ok" for row in every), "5 cells (none + 2 methods x 2 seeds)")
        for row in every:
            for key in ("losses_in", "losses_ood"):
                path = os.path.join(work, "stats", row.get(key, ""))
                ok = bool(row.get(key)) and os.path.isfile(path)
                if ok:
                    with open(path) as f:
                        lines = f.read().splitlines()
                    ok = lines[0] == "sequence,file,offset,tokens,nll" and len(lines) == 7
                    files = {line.split(",")[1] for line in lines[1:]}
                    ok = ok and len(files) == 6  # one window from each of 6 documents
                check(ok, f"{row['cell']}: {key} holds 6 windows from 6 documents")
        # No noise: only the training data differs between the seeds, so their losses differ.
        plain = sorted((row for row in every if row["method"] == "gift_sw_no_noise"), key=lambda row: row["seed"])
        check(len(plain) == 2 and plain[0]["first_loss"] != plain[1]["first_loss"],
              "a seed also draws the training documents (first losses differ without noise)")
        with open(os.path.join(work, "stats", "comparisons.csv")) as f:
            table = list(csvmodule.DictReader(f))
        gift_vs_plain = [row for row in table if row["arm"].endswith("gift_sw_lr0.0001") and row["measure"] == "loss"]
        check(len(gift_vs_plain) == 2 and all(row["replicates"] == "2" and row["sequences"] == "6" and
                                              float(row["ci_low"]) <= float(row["difference"]) <= float(row["ci_high"])
                                              for row in gift_vs_plain),
              f"comparisons.csv: GIFT-SW against the reference, both domains, 2 replicates, CI around the difference "
              f"({table})")
        # Accuracy: every row carries the task's numbers, and the paired accuracy difference is the
        # difference of the mean accuracies over the paired seeds.
        check(all(0.0 <= row["acc_in"] <= 1.0 and row["acc_in_ci_low"] <= row["acc_in"] <= row["acc_in_ci_high"]
                  and os.path.isfile(os.path.join(work, "stats", row["items_in"])) for row in every),
              "every row has an in-domain accuracy inside its Wilson interval and its item file")
        by_seed = {(row["method"], row["seed"]): row for row in every}
        for domain in ("in", "ood"):
            acc_rows = [row for row in table if row["arm"].endswith("gift_sw_lr0.0001") and row["measure"] == "accuracy"
                        and row["domain"] == domain]
            expected = sum(by_seed[("gift_sw", s)][f"acc_{domain}"] - by_seed[("gift_sw_no_noise", s)][f"acc_{domain}"]
                           for s in (0, 1)) / 2
            check(len(acc_rows) == 1 and acc_rows[0]["sequences"] == "4"
                  and abs(float(acc_rows[0]["difference"]) - expected) <= 1e-9
                  and float(acc_rows[0]["ci_low"]) <= float(acc_rows[0]["difference"]) <= float(acc_rows[0]["ci_high"]),
                  f"comparisons.csv: the {domain} accuracy difference is the mean paired difference ({expected}; {acc_rows})")
        check(summary_stats["comparisons"] == len(table), "the summary counts the comparisons written")
        with open(os.path.join(work, "stats", "groups.csv")) as f:
            groups = list(csvmodule.DictReader(f))
        untrained = [row for row in groups if row["method"] == "none"]
        trained = [row for row in groups if row["method"] == "gift_sw"]
        check(untrained and all(row["runs"] == "1" and row["ppl_std"] == "" for row in untrained),
              "an arm without a random part is one run, with no std")
        check(trained and all(row["runs"] == "2" and float(row["ppl_ci_low"]) < float(row["ppl_ci_high"]) for row in trained),
              "a seeded arm reports its t-interval over 2 runs")
        check(all(row["acc_mean"] != "" for row in groups), "groups.csv reports the accuracy of every arm")
        # The figures and tables: tools/plot_sweep.py draws the comparisons and tabulates them.
        plot = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                            "tools", "plot_sweep.py"), os.path.join(work, "stats")],
                              capture_output=True, text=True, timeout=300)
        summary_md = os.path.join(work, "stats", "plots", "summary.md")
        text = open(summary_md).read() if os.path.isfile(summary_md) else ""
        check(plot.returncode == 0 and os.path.isfile(os.path.join(work, "stats", "plots", "comparisons.png"))
              and "Against the reference" in text and text.count("| accuracy |") >= 2
              and "Zero-shot accuracy" in text,
              f"plot_sweep draws comparisons.png and tabulates the comparisons and accuracies "
              f"({plot.stderr[-300:]!r})")
        with open(os.path.join(work, "stats", "provenance.json")) as f:
            provenance = json.load(f)
        check(all(provenance.get(key) for key in ("gift_version", "commit", "cpu")) and provenance["seconds"] > 0,
              f"provenance.json records version, commit, CPU and time ({provenance})")

    # A seed that also draws the calibration sample: the untrained arm gets one run per seed, each
    # from its own statistics (other salient columns, so other perplexities); a seed listed twice
    # runs once; learning rates that differ past 6 digits are two cells.
    calibration_config = {
        "metrics": ["gift_sw"], "bits": [3], "quantizer": ["rtn"], "methods": ["none", "gift_sw_no_noise"],
        "lr": [1e-4, 1.0000001e-4], "seeds": [0, 0, 1],
        "calibration": {"tokens": 256, "seq": 64, "vary_with_seed": True},
        "eval": {"files": 4, "seq": 32, "batch": 4, "out_of_domain": ""},
        "finetune": {"steps": 1, "batch": 1, "seq": 32},
    }
    r = sweep_config("calibration", calibration_config, "calibration", "--dry-run", timeout=60)
    ids = [line.split()[-1] for line in r.stdout.splitlines() if line.startswith("to do")]
    check(r.returncode == 0 and len(ids) == 6 and len(set(ids)) == 6
          and sum(i.endswith("_none") for i in ids) == 2 and any("lr0.0001000000" in i for i in ids),
          f"seeds [0, 0, 1] x 2 learning rates: 2 untrained + 4 trained cells, distinct ids ({ids})")
    # GIFT-SW's noise grid as a factor: at 3 bits, noise of the 3-bit grid (the usual id) and of
    # the 4-bit grid (_nb4); the method without noise has no such factor and runs once.
    noise_config = dict(calibration_config, methods=["gift_sw", "gift_sw_no_noise"], noise_bits=[3, 4], lr=[1e-4],
                        seeds=[0])
    r = sweep_config("noise", noise_config, "noise", "--dry-run", timeout=60)
    ids = sorted(line.split()[-1] for line in r.stdout.splitlines() if line.startswith("to do"))
    check(r.returncode == 0 and len(ids) == 3 and sum("_gift_sw_nb4_" in i for i in ids) == 1
          and sum("_gift_sw_lr" in i for i in ids) == 1 and sum("gift_sw_no_noise" in i for i in ids) == 1,
          f"noise_bits [3, 4] at 3 bits: GIFT-SW twice (3-bit and 4-bit noise), no noise once ({ids})")
    # Scale groups as a factor (rtn): the 2-bit model with one scale per row and per 32 columns
    # are two cells with their own selection and quantized model (ids _g32), recorded in the rows;
    # GPTQ with groups is refused naming the field.
    group_config = dict(calibration_config, bits=[2], group_size=[0, 32], methods=["none"], seeds=[0],
                        calibration={"tokens": 256, "seq": 64})
    r = sweep_config("groups", group_config, "groups", "--json")
    check(r.returncode == 0, f"the group-size sweep exits 0 (stderr: {r.stderr[-400:]!r})")
    if r.returncode == 0:
        with open(os.path.join(work, "groups", "results.jsonl")) as f:
            runs = {row["group_size"]: row for row in map(json.loads, filter(str.strip, f))}
        shared_files = os.listdir(os.path.join(work, "groups", "shared"))
        check(sorted(runs) == [0, 32] and "_g32_" in runs[32]["cell"] and "_g" not in runs[0]["cell"]
              and runs[0]["quantized_ppl_in"] != runs[32]["quantized_ppl_in"]
              and sum(name.startswith("salient-") and "_g32_" in name for name in shared_files) == 1,
              f"group_size [0, 32]: two cells, their own selection and model ({[(g, row['cell'], row['quantized_ppl_in']) for g, row in runs.items()]})")
    r = sweep_config("groups", dict(group_config, quantizer=["gptq"]), "groups_gptq", "--dry-run", timeout=60)
    check(r.returncode == 1 and "pairs group_size 32 with quantizer gptq" in r.stderr,
          f"group_size with gptq refused ({r.stderr[-300:]!r})")
    untrained_config = dict(calibration_config, methods=["none"])
    r = sweep_config("calibration", untrained_config, "calibration", "--json")
    check(r.returncode == 0, f"the per-seed calibration sweep exits 0 (stderr: {r.stderr[-400:]!r})")
    if r.returncode == 0:
        runs = results_of("calibration")
        shared_dir = os.path.join(work, "calibration", "shared")
        check(len(runs) == 2 and runs[0]["ppl_in"] != runs[1]["ppl_in"]
              and all("calibration sample" in row["seed_drives"] for row in runs)
              and os.path.isdir(os.path.join(shared_dir, "stats-c0")) and os.path.isdir(os.path.join(shared_dir, "stats-c1")),
              f"two untrained runs from two calibration samples, with different perplexities "
              f"({[(row['cell'], row['ppl_in']) for row in runs]})")
        salient = sorted(name for name in os.listdir(shared_dir) if name.startswith("salient-"))
        with open(os.path.join(shared_dir, salient[0])) as f0, open(os.path.join(shared_dir, salient[-1])) as f1:
            check(len(salient) == 2 and f0.read() != f1.read(), f"each seed selects its own salient columns ({salient})")
        with open(os.path.join(work, "calibration", "groups.csv")) as f:
            groups = list(csvmodule.DictReader(f))
        check(len(groups) == 1 and groups[0]["runs"] == "2" and groups[0]["ppl_std"] != "",
              f"the untrained arm is one group of 2 runs with a spread ({groups})")

    # The dev split chooses the learning rate: every trained cell is also evaluated on dev, the
    # learning rate with the lowest mean dev loss over the seeds is reported, and only its cells
    # reach groups.csv.
    dev_config = {
        "metrics": ["gift_sw"], "bits": [4], "quantizer": ["rtn"], "methods": ["gift_sw_no_noise"],
        "lr": [1e-5, 3e-3], "seeds": [0, 1],
        "calibration": {"tokens": 256, "seq": 64},
        "eval": {"files": 4, "seq": 32, "batch": 4, "out_of_domain": ""},
        "finetune": {"steps": 2, "batch": 1, "seq": 32, "choose_lr_on_dev": True},
    }
    r = sweep_config("dev", dev_config, "dev", "--json")
    check(r.returncode == 0, f"the learning-rate selection sweep exits 0 (stderr: {r.stderr[-400:]!r})")
    if r.returncode == 0:
        runs = results_of("dev")
        check(len(runs) == 4 and all(row.get("ppl_dev", 0) > 0 and row.get("losses_dev") for row in runs),
              "every trained cell has a dev perplexity and its losses")
        dev_loss = {lr: sum(math.log(row["ppl_dev"]) for row in runs if row["lr"] == lr) / 2 for lr in (1e-5, 3e-3)}
        best = min(dev_loss, key=dev_loss.get)
        with open(os.path.join(work, "dev", "lr_selection.csv")) as f:
            selection = list(csvmodule.DictReader(f))
        chosen = [row for row in selection if row["chosen"] == "yes"]
        check(len(selection) == 2 and len(chosen) == 1 and float(chosen[0]["lr"]) == best,
              f"lr_selection.csv chooses the learning rate with the lowest mean dev loss ({best}; {selection})")
        with open(os.path.join(work, "dev", "groups.csv")) as f:
            groups = [row for row in csvmodule.DictReader(f) if row["method"] != "none"]
        check(len(groups) == 1 and float(groups[0]["lr"]) == best and groups[0]["runs"] == "2",
              f"groups.csv reports the chosen learning rate only ({groups})")
    bad_dev = dict(dev_config, eval={"tokens": 128, "seq": 32})
    r = sweep_config("bad_dev", bad_dev, "dev3", "--dry-run", timeout=60)
    check(r.returncode == 1 and "choose_lr_on_dev" in r.stderr and "files" in r.stderr,
          f"choose_lr_on_dev without the window design is refused ({r.stderr.strip()[-200:]!r})")

    # A fully quantized grid (size 0): NPFT trains the full-precision model (pre), then every column
    # is quantized; no selection is made.
    full = {"metrics": ["gift_sw"], "bits": [4, 3], "fraction": [0], "quantizer": ["rtn"], "settings": ["pre"],
            "methods": ["none", "npft"], "lr": [1e-4], "seeds": [0],
            "calibration": {"tokens": 256, "seq": 64},
            "eval": {"tokens": 256, "seq": 64, "out_of_domain": ""},
            "finetune": {"steps": 2, "batch": 1, "seq": 32, "match_params": True,
                         "method_options": {"npft": "--rank 2 --fisher-sequences 2"}}}
    r = sweep_config("full", full, "full", "--json", timeout=900)
    check(r.returncode == 0, f"a fully quantized NPFT sweep exits 0 (stderr: {r.stderr[-400:]!r})")
    # calibrate; per bit-width: quantize, 1 evaluation of it, quantize the fine-tuned model, 1
    # evaluation of that; and 1 fine-tune in all.
    full_commands = 1 + 2 * 4 + 1
    if r.returncode == 0:
        summary_full = json.loads(r.stdout.strip().splitlines()[-1])
        every = results_of("full")
        done = {row["method"]: row for row in every if row.get("bits") == 4}
        check(len(every) == 4 and set(done) == {"none", "npft"} and all(row["status"] == "ok" for row in every),
              "fully quantized: the none and npft cells of both bit-widths finished")
        # NPFT's pre training does not depend on the bits: one fine-tune serves both cells, then goes.
        logs = []
        for row in every:
            if row.get("method") == "npft":
                with open(os.path.join(work, "full", "cells", row["cell"], "loss.csv")) as f:
                    logs.append(f.read())
        check(len(logs) == 2 and logs[0] == logs[1] and len(logs[0].splitlines()) == 3,
              "both bit-widths' NPFT cells report the one shared fine-tune")
        check(summary_full["commands_run"] == full_commands,
              f"one fine-tune for both NPFT cells ({summary_full['commands_run']} commands, expected {full_commands})")
        check(not any(name.startswith("pre-") for name in os.listdir(os.path.join(work, "full", "shared"))),
              "the shared fine-tuned model is removed after its last cell")
        if set(done) == {"none", "npft"}:
            check(done["none"]["fraction"] == 0 and math.isfinite(done["none"]["ppl_in"]),
                  f"fully quantized RTN model evaluated (ppl {done['none']['ppl_in']})")
            check(done["npft"]["quantized_ppl_in"] == done["none"]["ppl_in"] and done["npft"]["setting"] == "pre",
                  "the pre NPFT cell compares with the same fully quantized model")
            check(done["npft"]["ppl_in"] != done["npft"]["quantized_ppl_in"] and done["npft"]["trainable_parameters"] > 0,
                  "NPFT's trained, fully quantized model differs from the untrained one")
        check(not any(name.startswith("salient-") for name in os.listdir(os.path.join(work, "full", "shared"))),
              "no salient selection was made for size 0")

    # Several grids over shared settings; a cell two grids describe runs once.
    grids = {"metrics": ["gift_sw"], "bits": [4],
             "grids": [{"fraction": [0], "quantizer": ["rtn", "gptq"]}, {"quantizer": ["rtn"]},
                       {"quantizer": ["rtn"], "methods": ["none"]}]}
    r = sweep_config("grids", grids, "grids", "--dry-run", timeout=60)
    check(r.returncode == 0 and "3 cells, 3 to run" in r.stdout and "gift_sw_b4_f0_gptq_none" in r.stdout,
          f"grids: 3 distinct cells listed ({r.stdout.strip()[-300:]!r})")

    # Bad configurations: the message names the field.
    for bad, message in [({"metrics": ["gift_sw"], "bitz": [4]}, 'unknown field "bitz"'),
                         ({"metrics": ["gift_sw"], "methods": ["qlora"]}, "method 'qlora' is not one of"),
                         ({"metrics": ["gift_sw"], "bits": [9]}, 'field "bits" must be an integer in [2, 8]'),
                         ({"bits": [4]}, 'needs "metrics"'),
                         ({"metrics": ["gift_sw"], "methods": ["lora"], "lr": {"full": [1e-5]}},
                          "gives no learning rate for method lora"),
                         ({"metrics": ["gift_sw"], "fraction": [0], "methods": ["gift_sw"], "lr": [1e-4]},
                          "pairs method gift_sw with fraction 0"),
                         ({"metrics": ["gift_sw"], "k": [0], "methods": ["lora"], "lr": [1e-4]},
                          "match_params sizes its rank"),
                         ({"metrics": ["gift_sw"], "fraction": [-0.5]}, "is not in [0, 1]"),
                         ({"metrics": ["gift_sw"], "grids": [{"eval": {"tokens": 64}}]},
                          'unknown field "eval" in grids[0]'),
                         ({"metrics": ["gift_sw"], "grids": []}, 'field "grids" must be a non-empty list')]:
        r = sweep_config("bad", bad, "bad", "--dry-run", timeout=60)
        check(r.returncode == 1 and message in r.stderr, f"bad config refused: {message} ({r.stderr.strip()[-200:]!r})")
finally:
    shutil.rmtree(work, ignore_errors=True)

checks.finish("sweep_resume")
