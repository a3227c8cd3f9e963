#!/usr/bin/env python3
"""Carries an unfinished `gift sweep` to another machine or session, without its large files.

A sweep resumes where it stopped when started again with the same --out, but its folder (runs/...)
is not committed and a new checkout starts without it. `save` copies what the finished cells and
the cached evaluations consist of into a folder that can be committed (experiments/in_progress/
NAME): every file up to 1 MiB (results, per-sequence losses, item scores, salient-column files,
settings), but not the calibration statistics or the models, which are hundreds of MB each.
`restore` puts them back into a run folder, after which `gift sweep --config ... --out RUN`
continues with the first unfinished cell: it recomputes a calibration sample when a cell still
needs it (so the marker `shared/calibrate*.json` of a sample whose statistics were not carried is
left behind, else the sweep would take the statistics for present) and a quantized model from its
carried salient columns; every product is deterministic, so the result is the same as one
uninterrupted run's.

    python3 tools/sweep_carry.py save runs/e1 experiments/in_progress/e1_metrics
    python3 tools/sweep_carry.py restore experiments/in_progress/e1_metrics runs/e1

`restore` refuses (exit 2, naming the file) to overwrite a file of the run folder that differs
from the carried one: two runs of different sweeps are never mixed.
"""

import argparse
import filecmp
import json
import os
import shutil
import sys

LIMIT = 1 << 20  # bytes: statistics and models are far larger, every result file far smaller
MANIFEST = "carried.json"


def fail(message):
    print(f"sweep_carry: error: {message}", file=sys.stderr)
    sys.exit(2)


def carried_files(run):
    """The run folder's files to carry (relative paths, sorted), and those left behind."""
    kept, left = [], []
    for folder, _, files in os.walk(run):
        for name in files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, run)
            parts = relative.split(os.sep)
            # A calibration sample's statistics folder stays behind whole (one file of it would make
            # the recalibration's --out a foreign folder), and its marker with it: without the
            # marker the sweep recalibrates.
            marker = len(parts) >= 2 and parts[0] == "shared" and (
                (len(parts) == 2 and name.startswith("calibrate")) or (len(parts) > 2 and parts[1].startswith("stats")))
            temporary = ".tmp" in name or name.startswith(".")
            if marker or temporary or os.path.getsize(path) > LIMIT:
                # A statistics folder is listed once, as the folder.
                folder_entry = "/".join(parts[:2]) + "/" if len(parts) > 2 and parts[0] == "shared" else None
                if folder_entry is None:
                    left.append(relative)
                elif folder_entry not in left:
                    left.append(folder_entry)
            else:
                kept.append(relative)
    return sorted(kept), sorted(left)


def finished_cells(folder):
    path = os.path.join(folder, "results.jsonl")
    if not os.path.isfile(path):
        return []
    cells = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    cells.append(json.loads(line)["cell"])
                except (ValueError, KeyError):
                    fail(f"{path} line {number} is not a result row with a \"cell\"; is this a gift sweep folder?")
    return cells


def save(run, dest):
    if not os.path.isfile(os.path.join(run, "config.json")):
        fail(f"'{run}' holds no config.json: pass the --out folder of a gift sweep")
    kept, left = carried_files(run)
    if os.path.exists(dest):
        if not os.path.isfile(os.path.join(dest, MANIFEST)):
            fail(f"'{dest}' exists and is not a carried sweep (no {MANIFEST}); name a new folder")
        shutil.rmtree(dest)  # a carried sweep is replaced whole: a file no longer in the run goes
    for relative in kept:
        target = os.path.join(dest, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(run, relative), target)
    cells = finished_cells(run)
    manifest = {"from": os.path.abspath(run), "finished_cells": len(cells), "cells": cells,
                "files": kept, "left_behind": left}
    with open(os.path.join(dest, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"sweep_carry: {len(kept)} files of '{run}' in '{dest}' ({len(cells)} finished cells); "
          f"{len(left)} left behind (statistics, models, calibration markers)")


def restore(source, run):
    manifest_path = os.path.join(source, MANIFEST)
    if not os.path.isfile(manifest_path):
        fail(f"'{source}' holds no {MANIFEST}: pass a folder written by sweep_carry.py save")
    with open(manifest_path, encoding="utf-8") as f:
        files = json.load(f)["files"]
    for relative in files:
        carried, target = os.path.join(source, relative), os.path.join(run, relative)
        if not os.path.isfile(carried):
            fail(f"'{carried}' is listed in {manifest_path} but missing")
        if os.path.exists(target) and not filecmp.cmp(carried, target, shallow=False):
            fail(f"'{target}' differs from the carried '{carried}': '{run}' holds another run; "
                 "restore into an empty folder")
    for relative in files:
        target = os.path.join(run, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(source, relative), target)
    print(f"sweep_carry: {len(files)} files restored into '{run}' ({len(finished_cells(run))} finished cells); "
          f"continue with gift sweep --out {run}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save", help="copy a run folder's small files into a folder to commit")
    s.add_argument("run")
    s.add_argument("dest")
    r = sub.add_parser("restore", help="put carried files back into a run folder")
    r.add_argument("source")
    r.add_argument("run")
    args = parser.parse_args()
    if args.command == "save":
        save(args.run, args.dest)
    else:
        restore(args.source, args.run)


if __name__ == "__main__":
    main()
