#!/usr/bin/env python3
"""CI's time budget as a check: the stage table, the slowest tests, and a failure past the budget.

.ci/run writes one line per finished stage to a tab-separated file (stage name, seconds) and keeps
ctest's output of each test run. This script prints both as tables, so a stage or a test that
grows is seen in every CI log, and exits with status 1 when the stages together took longer than
the budget (docs/ci.md explains the figure: CI must land within 90 minutes, and stays well under).

    python3 tools/ci_budget.py --stages build/ci-stages.tsv \
        --tests build/ci-tests.log build/asan-tests.log --budget-minutes 45
"""

import argparse
import re
import sys

# ctest's result line: "  3/79 Test  #12: model_kv_cache ......   Passed    4.21 sec"
TEST_LINE = re.compile(
    r"^\s*\d+/\d+\s+Test\s+#\d+:\s+(?P<name>\S+)\s+\.*\s*(?P<status>.*?)\s+(?P<sec>[0-9.]+) sec\s*$")


def read_stages(path):
    """(name, seconds) per finished stage, in order; a malformed line is an error naming it."""
    stages = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != 2 or not fields[1].isdigit():
                raise SystemExit(f"ci_budget: {path}:{number}: expected '<stage>\\t<seconds>', "
                                 f"got {line!r}")
            stages.append((fields[0], int(fields[1])))
    return stages


def read_tests(path, run):
    """(seconds, test name, run, status) for every test ctest reported in the log at path."""
    tests = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                match = TEST_LINE.match(line)
                if match:
                    tests.append((float(match["sec"]), match["name"], run,
                                  match["status"].strip()))
    except FileNotFoundError:
        pass  # that run did not happen (an earlier stage failed); the stage table says so
    return tests


def minutes(seconds):
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", required=True, help="tab-separated: stage, seconds")
    parser.add_argument("--tests", nargs="*", default=[], help="ctest output logs")
    parser.add_argument("--budget-minutes", type=float, required=True,
                        help="fail when the stages together take longer than this")
    parser.add_argument("--slowest", type=int, default=10, help="how many tests to list")
    args = parser.parse_args()
    if args.budget_minutes <= 0:
        parser.error(f"--budget-minutes: expected a positive number, got {args.budget_minutes}")

    stages = read_stages(args.stages)
    total = sum(seconds for _, seconds in stages)
    width = max([len(name) for name, _ in stages] + [5])
    print(f"\nCI stages (wall clock, m:ss)")
    for name, seconds in stages:
        print(f"  {name:<{width}}  {minutes(seconds):>6}")
    print(f"  {'total':<{width}}  {minutes(total):>6}")

    tests = []
    for path in args.tests:
        run = "asan" if "asan" in path else "release"
        tests += read_tests(path, run)
    if tests:
        tests.sort(reverse=True)
        print(f"\n{min(args.slowest, len(tests))} slowest tests (of {len(tests)}, seconds)")
        for seconds, name, run, status in tests[:args.slowest]:
            print(f"  {seconds:8.1f}  {name}  [{run}]  {status}")

    budget = round(args.budget_minutes * 60)
    if total > budget:
        print(f"\nci_budget: FAILED: the stages took {minutes(total)}, over the budget of "
              f"{minutes(budget)}. Find the stage that grew in the table above (docs/ci.md has "
              f"the last measured table) and make it smaller before adding more.")
        return 1
    print(f"\nci_budget: {minutes(total)} of {minutes(budget)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
