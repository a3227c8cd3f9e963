#!/usr/bin/env python3
"""tools/ci_budget.py: the stage table, the slowest tests, and the exit status at the budget.

Feeds it a hand-written stage file and ctest log and checks what it prints and returns: within
the budget (exit 0), one second over it (exit 1), and a malformed stage line (refused, naming the
file and the line). Needs no build.
"""

import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "ci_budget.py")

CTEST_LOG = """\
Test project /tmp/build
      Start  1: core_select
 1/3 Test  #1: core_select ......................   Passed    1.50 sec
      Start  2: model_kv_cache
 2/3 Test  #2: model_kv_cache ...................   Passed   12.25 sec
 3/3 Test  #3: model_gpu .........................***Skipped   0.01 sec
100% tests passed, 0 tests failed out of 3
"""


def run(stage_lines, budget_minutes, logs):
    with tempfile.TemporaryDirectory() as folder:
        stages = os.path.join(folder, "stages.tsv")
        with open(stages, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in stage_lines))
        paths = []
        for name, text in logs.items():
            path = os.path.join(folder, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            paths.append(path)
        done = subprocess.run([sys.executable, SCRIPT, "--stages", stages, "--tests", *paths,
                               "--budget-minutes", str(budget_minutes)],
                              capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr


def check(condition, what, output):
    if not condition:
        print(f"FAILED: {what}\n--- output ---\n{output}")
        sys.exit(1)


def main():
    # 100 s + 200 s = 5:00, inside a 5-minute budget (the limit itself passes).
    code, out = run(["setup\t100", "release build\t200"], 5, {"ci-tests.log": CTEST_LOG})
    check(code == 0, "5:00 of a 5-minute budget passes", out)
    check("total" in out and "5:00" in out, "the total is printed as m:ss", out)
    check("release build" in out and "3:20" in out, "each stage is printed with its time", out)
    lines = out.splitlines()
    slowest = [i for i, line in enumerate(lines) if "slowest tests" in line]
    check(len(slowest) == 1, "one table of slowest tests", out)
    first = lines[slowest[0] + 1]
    check("model_kv_cache" in first and "12.2" in first, "the slowest test is listed first", out)
    check("(of 3," in lines[slowest[0]], "all three ctest results are read, skipped ones too", out)

    # One second over the budget fails and says which table to read.
    code, out = run(["setup\t100", "release build\t201"], 5, {})
    check(code == 1, "5:01 against a 5-minute budget fails", out)
    check("over the budget" in out, "the failure says it is over the budget", out)

    # A line without a tab or with a non-integer time is refused, naming file and line.
    code, out = run(["setup\t100", "release build 200"], 5, {})
    check(code != 0 and "stages.tsv:2" in out, "a malformed stage line is refused by number", out)

    # A log from a run that never happened is not an error (the stage table tells).
    code, out = run(["setup\t10"], 5, {})
    check(code == 0, "no test logs at all is fine", out)
    print("ci_budget: all checks passed")


if __name__ == "__main__":
    main()
