#!/usr/bin/env python3
"""Bad options of the `gift` command line: each is refused before any work starts (no model is
loaded: these probes run without one), with exit code 1 and a message that names the option, the
value and the allowed range. Usage: cli_options.py <path to the gift binary>."""
import subprocess
import sys

gift = sys.argv[1]
failures = []
probes = 0


def probe(args, *fragments, code=1):
    global probes
    probes += 1
    run = subprocess.run([gift, *args], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "GIFT_MODEL": "/nonexistent/model.gguf"})
    output = run.stdout + run.stderr
    missing = [f for f in fragments if f not in output]
    if run.returncode != code or missing:
        failures.append(f"gift {' '.join(args)}: exit {run.returncode} (expected {code}), "
                        f"missing {missing} in: {output.strip()[:300]}")


# Thread counts that crashed libgomp (100000) or hung the machine (20000).
probe(["eval", "--threads", "100000"], "--threads must be in [0, 256]", "100000")
probe(["eval", "--threads", "20000"], "--threads must be in [0, 256]")
probe(["calibrate", "--out", "o", "--threads", "-1"], "--threads must be in [0, 256]", "-1")
probe(["eval", "--threads", "two"], "--threads must be an integer", "'two'")
# Learning rates that wrote non-finite weights with exit 0.
probe(["finetune", "--salient", "s", "--out", "o", "--lr", "1e38"], "--lr must be in [0, 1]", "1e38")
probe(["finetune", "--salient", "s", "--out", "o", "--lr", "1e6"], "--lr must be in [0, 1]")
probe(["finetune", "--salient", "s", "--out", "o", "--lr", "nan"], "--lr must be in [0, 1]", "nan")
# Negative counts that were accepted silently.
probe(["select", "--stats", "s", "--out", "o", "--k", "-3"], "--k must be in [0, 1048576]", "-3")
probe(["generate", "--max-new", "-1"], "--max-new must be in [0, 65536]")
probe(["generate", "--top-k", "-5"], "--top-k must be in [0, 1048576]")
probe(["finetune", "--salient", "s", "--out", "o", "--clip", "-1"], "--clip must be in [0, 1e+06]")
probe(["finetune", "--salient", "s", "--out", "o", "--checkpoint-every", "-2"], "--checkpoint-every must be in")
probe(["finetune", "--salient", "s", "--out", "o", "--steps", "0"], "--steps must be in [1, 1000000000]")
probe(["select", "--stats", "s", "--out", "o", "--fraction", "0"], "--fraction must be in")
probe(["quantize", "--salient", "s", "--out", "o", "--bits", "9"], "--bits must be in [2, 8]", "9")
# Fully quantized (--no-salient) or mixed precision (--salient): exactly one of the two.
probe(["quantize", "--salient", "s", "--no-salient", "--out", "o"], "either --salient", "--no-salient", "not both")
probe(["quantize", "--out", "o"], "either --salient", "--no-salient", "but neither was given")
probe(["quantize", "--help"], "--no-salient", "every column", code=0)
probe(["eval", "--seq", "1"], "--seq must be in [2, 1048576]")
probe(["eval", "--tokens", "10x"], "--tokens must be an integer", "'10x'")
probe(["select", "--stats", "s", "--out", "o", "--bits", "1"], "--bits must be in [2, 8]")
probe(["select", "--stats", "s", "--out", "o", "--alpha", "grid0"], "--alpha 'grid0'", "[1, 100000]")
probe(["finetune", "--salient", "s", "--out", "o", "--alpha", "wide"], "--alpha must be max, grid<N>")
probe(["finetune", "--out", "o", "--method", "qlora"], "--method must be one of gift_sw | lora")
probe(["finetune", "--out", "o", "--method", "gift_sw"], "--method gift_sw needs --salient")
probe(["finetune", "--out", "o", "--method", "ste"], "--method ste needs --salient")
probe(["finetune", "--out", "o", "--method", "full", "--match-params"], "--match-params sizes a LoRA/DoRA rank")
probe(["finetune", "--out", "o", "--method", "lora", "--match-params"], "and give --salient")
probe(["finetune", "--out", "o", "--method", "lora", "--no-noise"], "--no-noise applies to --method gift_sw and npft only")
probe(["finetune", "--out", "o", "--method", "lora", "--noisy-weight-cache"], "--noisy-weight-cache applies to --method gift_sw on --device eigen")
# Weight storage: a name that is not one, and bf16 where only f32 is implemented.
probe(["finetune", "--out", "o", "--salient", "s", "--noise-bits", "1"], "--noise-bits must be 0 (off) or 2..8, but is 1")
probe(["finetune", "--out", "o", "--method", "lora", "--noise-bits", "4"], "--noise-bits sets gift_sw's noise grid")
probe(["finetune", "--out", "o", "--salient", "s", "--storage", "fp16"], "--storage must be f32 or bf16", "'fp16'")
probe(["finetune", "--out", "o", "--method", "lora", "--storage", "bf16"], "--storage bf16 applies to --method gift_sw")
probe(["eval", "--storage", "bfloat"], "--storage must be f32 or bf16", "'bfloat'")
probe(["finetune", "--out", "o", "--method", "svft", "--svft-pattern", "diagonal"], "--svft-pattern must be plain, banded, random or top_k", "'diagonal'")
probe(["finetune", "--out", "o", "--method", "npft", "--npft-share", "0"], "--npft-share must be in [1e-06, 1]")
probe(["finetune", "--out", "o", "--method", "npft", "--npft-noise-scale", "-1"], "--npft-noise-scale must be in [0, 1e+06]")
probe(["finetune", "--out", "o", "--method", "svft", "--svft-k", "0"], "--svft-k must be in [1, ")
probe(["finetune", "--out", "o", "--method", "quik_lora"], "adapts a quantized model: give --weights")
probe(["finetune", "--out", "o", "--method", "lora", "--rank", "0"], "--rank must be in [1, 65536]")
# gift export: formats, types and options that belong to another format.
probe(["export", "--out", "o"], "option --format is required")
probe(["export", "--format", "onnx", "--out", "o"], "--format must be hf, gguf or packed", "'onnx'")
probe(["export", "--format", "hf", "--dtype", "q8_0", "--out", "o"], "--dtype must be f32, f16, bf16 for this format", "'q8_0'")
probe(["export", "--format", "gguf", "--dtype", "q4_1", "--out", "o.gguf"], "--dtype must be f32, f16, bf16 or q8_0", "'q4_1'")
probe(["export", "--format", "gguf", "--max-shard-size", "100", "--out", "o.gguf"], "--max-shard-size applies to --format hf")
probe(["export", "--format", "hf", "--max-shard-size", "-1", "--out", "o"], "--max-shard-size must be in [0, 1048576]")
probe(["export", "--format", "hf", "--bits", "4", "--out", "o"], "--bits applies to --format packed only")
probe(["export", "--format", "packed", "--bits", "1", "--out", "o"], "--bits must be in [2, 8]")
probe(["export", "--format", "packed", "--bits", "9", "--out", "o"], "--bits must be in [0, 8]", "9")
probe(["export", "--format", "packed", "--salient-dtype", "bf16", "--out", "o"], "--salient-dtype must be f32, f16", "'bf16'")
probe(["export", "--format", "packed", "--alpha", "wide", "--out", "o"], "--alpha must be max, grid<N>")
probe(["export", "--format", "gguf", "--out", "/etc/passwd/x/o.gguf"], "--out", "cannot create")
probe(["export", "--help"], "hf | gguf | packed", "--salient-dtype", code=0)
# Unknown and removed options are refused, not ignored.
probe(["eval", "--lr", "1"], "unknown option --lr")
probe(["generate", "--tokenizer-model", "x.gguf"], "unknown option --tokenizer-model")
# A good value passes the checks and reaches the next step (here: the missing model).
probe(["eval", "--threads", "2"], "model", code=1)
# --help shows the ranges.
probe(["finetune", "--help"], "(0 .. 1)", "--lr", code=0)

for failure in failures:
    print(failure)
print(f"cli: {probes - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
