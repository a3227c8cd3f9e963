#!/usr/bin/env python3
"""Checks the include tree against its rules and against docs/map.md.

1. Layering: headers under backend/ and detail/ include only top-level headers, detail/ and
   backend/ -- never quant/, nn/, optim/, model/ or io/.
2. No cycle in the graph of the folders of include/gift/ (backend, detail, quant, nn, optim,
   model, io; nested folders count as their top folder; the top level is left out: it is the
   library's namespace, where front ends include their backends).
3. No file-level include cycle.
4. docs/map.md: every header, backend and test file it names exists, every entity it names is
   declared in the header of its row, and every public header (outside backend/ and detail/
   folders) has a row.
5. README.md's tour of one layer is the region of examples/readme_tour.cpp between
   "// README tour begins" and "// README tour ends", line for line (indentation aside): the
   example compiles and runs in CI, so the README's code does too.

Usage: check_layout.py <repository root>. Prints each violation; exits 1 if there is any.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
include = root / "include"
gift = include / "gift"
problems = []

headers = sorted(p for p in gift.rglob("*") if p.suffix in (".hpp", ".cuh"))
include_re = re.compile(r'^\s*#\s*include\s*<(gift/[^>]+)>', re.M)


def rel(path):
    return path.relative_to(gift).as_posix()


edges = {}
for header in headers:
    text = header.read_text(encoding="utf-8")
    targets = include_re.findall(text)
    edges[rel(header)] = [t[len("gift/"):] for t in targets]
    for target in targets:
        if not (include / target).is_file():
            problems.append(f"{rel(header)} includes <{target}>, which does not exist")


def top(path):
    parts = pathlib.PurePosixPath(path).parts
    return parts[0] if len(parts) > 1 else ""


# 1. Layering.
forbidden = {"quant", "nn", "optim", "model", "io"}
for source, targets in edges.items():
    if top(source) in ("backend", "detail"):
        for target in targets:
            if top(target) in forbidden:
                problems.append(f"{source} includes {target}: backend/ and detail/ must not depend on "
                                f"{top(target)}/ (pass a plan from detail/ instead)")

# 2. Folder cycles between the folders of include/gift/ (nested folders count as their top
# folder: backend/eigen/ is part of backend/; the top level itself is left out).
folder_edges = {}
for source, targets in edges.items():
    a = top(source)
    if a == "":
        continue
    for target in targets:
        b = top(target)
        if b and b != a:
            folder_edges.setdefault(a, set()).add(b)


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


cycle = find_cycle(folder_edges)
if cycle:
    problems.append("folder include cycle: " + " -> ".join(cycle))
cycle = find_cycle({k: set(v) for k, v in edges.items()})
if cycle:
    problems.append("file include cycle: " + " -> ".join(cycle))

# 4. The map.
map_path = root / "docs" / "map.md"
if not map_path.is_file():
    problems.append("docs/map.md is missing")
else:
    listed = set()
    backtick = re.compile(r"`([^`]+)`")
    rows = 0
    for number, line in enumerate(map_path.read_text(encoding="utf-8").splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 5 or cells[1] in ("public header", "---"):
            continue
        rows += 1
        _, header_cell, entity_cell, backend_cell, test_cell = cells
        header_names = backtick.findall(header_cell)
        if len(header_names) != 1:
            problems.append(f"docs/map.md:{number}: the header column must name one header")
            continue
        header = gift / header_names[0]
        listed.add(header_names[0])
        if not header.is_file():
            problems.append(f"docs/map.md:{number}: header {header_names[0]} does not exist")
            continue
        text = header.read_text(encoding="utf-8")
        code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
        for entity in backtick.findall(entity_cell):
            name = entity.split("::")[-1]
            declared = re.search(
                rf"(\b(struct|class|concept|using|namespace)\s+{name}\b)|(\b{name}\s*\()|"
                rf"(\bconstexpr\b[^;=(]*\b{name}\s*=)|(#\s*define\s+{name}\b)|(\busing\s+(\w+::)+{name}\s*;)", code)
            if not declared:
                problems.append(f"docs/map.md:{number}: '{entity}' is not declared in {header_names[0]}")
        for backend in backtick.findall(backend_cell):
            if not (gift / backend).is_file():
                problems.append(f"docs/map.md:{number}: backend file {backend} does not exist")
        for test in backtick.findall(test_cell):
            if not (root / test).is_file():
                problems.append(f"docs/map.md:{number}: test file {test} does not exist")
    if rows == 0:
        problems.append("docs/map.md has no table rows")
    for header in headers:
        name = rel(header)
        parts = pathlib.PurePosixPath(name).parts
        public = "detail" not in parts and (parts[0] != "backend" or name in (
            "backend/tags.hpp", "backend/traits.hpp", "backend/dispatch.hpp", "backend/thrust.hpp",
            "backend/cuda.cuh", "backend/thrust/matrix.hpp"))
        if public and name not in listed:
            problems.append(f"docs/map.md has no row for the public header {name}")

# 5. The README's tour is the compiled example's marked region.
example = root / "examples" / "readme_tour.cpp"
readme = root / "README.md"
if example.is_file() and readme.is_file():
    source = example.read_text(encoding="utf-8").splitlines()
    begin = [i for i, line in enumerate(source) if "// README tour begins" in line]
    end = [i for i, line in enumerate(source) if "// README tour ends" in line]
    if len(begin) != 1 or len(end) != 1 or end[0] <= begin[0]:
        problems.append("examples/readme_tour.cpp: expected one '// README tour begins' ... '// README tour ends' region")
    else:
        region = [line.strip() for line in source[begin[0] + 1:end[0]]]
        blocks = re.findall(r"```cpp\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
        shown = [[line.strip() for line in block.splitlines()] for block in blocks]
        if region not in shown:
            problems.append("README.md: no ```cpp block equals the tour region of examples/readme_tour.cpp; copy the "
                            "region (between its markers) into the README's tour")

for problem in problems:
    print(problem)
print(f"layout: {len(headers)} headers, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
