#!/usr/bin/env python3
"""tools/sweep_carry.py: what is carried, what is left behind, and a refused mix of two runs.

A hand-made run folder holds every kind of file a sweep writes: the config and results, a cell's
small files, cached evaluations, a salient-column file, a calibration marker with its statistics
folder, a model over the size limit and a writer's temporary. `save` must carry the small files
only and list the rest; `restore` into an empty folder must give back the carried files byte for
byte; `restore` over a folder whose config differs must be refused (exit 2, naming the file) and
change nothing; `save` over a folder that is not a carried sweep must be refused. Needs no build.
"""

import json
import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "sweep_carry.py")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def run(*words):
    return subprocess.run([sys.executable, SCRIPT, *words], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as work:
    run_dir = os.path.join(work, "runs", "e1")
    small = {
        "config.json": '{"metrics": ["gift_sw"]}\n',
        "settings.txt": "--seq 256\n",
        "results.jsonl": '{"cell": "a_b3"}\n{"cell": "a_b4"}\n',
        "results.csv": "cell\na_b3\na_b4\n",
        "cells/a_b3/finetune.json": "{}\n",
        "shared/q-a_b3.eval-in.json": '{"perplexity": 37.8}\n',
        "shared/q-a_b3.eval-in.losses.csv": "file,window,tokens,nll\nx,0,255,900.5\n",
        "shared/salient-a_b3_c0.txt": "blk.0.attn_q 1 2 3\n",
    }
    for name, content in small.items():
        write(os.path.join(run_dir, name), content)
    left = {
        "shared/calibrate-c0.json": "{}\n",                      # its statistics stay behind
        "shared/stats-c0/manifest.txt": "x" * 10,                 # small, but of a statistics folder
        "shared/q-a_b4.safetensors": b"\0" * ((1 << 20) + 1),     # a model: over the limit
        "shared/.q-a_b4.safetensors.tmp.123.1": "partial",        # a writer's temporary
    }
    for name, content in left.items():
        write(os.path.join(run_dir, name), content)

    carried = os.path.join(work, "carried")
    saved = run("save", run_dir, carried)
    check(saved.returncode == 0, f"save failed: {saved.stderr}")
    manifest = json.load(open(os.path.join(carried, "carried.json"), encoding="utf-8"))
    expected = sorted(small)
    check(manifest["files"] == expected, f"carried {manifest['files']}, expected {expected}")
    check(manifest["finished_cells"] == 2 and manifest["cells"] == ["a_b3", "a_b4"],
          f"finished cells {manifest['cells']}")
    for name in left:
        listed = "shared/stats-c0/" if name.startswith("shared/stats-c0/") else name
        check(listed in manifest["left_behind"], f"{listed} not listed as left behind ({manifest['left_behind']})")
        check(not os.path.exists(os.path.join(carried, name)), f"{name} was carried")

    restored = os.path.join(work, "fresh", "e1")
    back = run("restore", carried, restored)
    check(back.returncode == 0, f"restore failed: {back.stderr}")
    for name, content in small.items():
        path = os.path.join(restored, name)
        check(os.path.isfile(path) and open(path, encoding="utf-8").read() == content, f"{name} not restored as it was")
    check(not os.path.exists(os.path.join(restored, "shared", "calibrate-c0.json")),
          "the calibration marker came back without its statistics")

    # Restoring again over the same files is harmless; over another run's config it is refused.
    again = run("restore", carried, restored)
    check(again.returncode == 0, f"a second restore of the same files failed: {again.stderr}")
    other = os.path.join(work, "other")
    write(os.path.join(other, "config.json"), '{"metrics": ["quik"]}\n')
    refused = run("restore", carried, other)
    check(refused.returncode == 2 and "config.json" in refused.stderr and "differs" in refused.stderr,
          f"restore over another run: rc {refused.returncode}, {refused.stderr!r}")
    check(not os.path.exists(os.path.join(other, "results.jsonl")), "a refused restore wrote files")

    # save refuses a destination that is not a carried sweep, and a source that is not a sweep.
    write(os.path.join(work, "notes", "mine.txt"), "a file of the user's\n")
    clobber = run("save", run_dir, os.path.join(work, "notes"))
    check(clobber.returncode == 2 and "carried.json" in clobber.stderr, f"save over a foreign folder: {clobber.stderr!r}")
    check(os.path.isfile(os.path.join(work, "notes", "mine.txt")), "save removed a foreign folder")
    not_sweep = run("save", os.path.join(work, "notes"), os.path.join(work, "x"))
    check(not_sweep.returncode == 2 and "config.json" in not_sweep.stderr, f"save of a non-sweep: {not_sweep.stderr!r}")

for failure in failures:
    print("FAIL:", failure)
print("sweep_carry:", "ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
