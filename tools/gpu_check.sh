#!/usr/bin/env bash
# The GPU check in one call (under 8 minutes on one H100/H200): builds gift's CUDA targets, runs
# the gpu-labelled tests (CPU vs GPU: same salient columns, same noise bits, the model's logits,
# losses and gradients within their stated tolerances) and the GPU benchmarks, and prints one table:
#
#   per-layer GIFT-SW forward + backward ÷ dense forward + dX (bf16; T = 4096 and 512; 4096² and
#   11008 × 4096), the α search on 4096² with 100 candidates, and the whole SmolLM2 training step
#   (8 × 512 tokens) in tokens/s with its ratio to a frozen step.
#
# Where the machine has no Eigen/Boost.Test/Google Benchmark (a GPU machine without a package
# registry), run `bash tools/gpu_deps.sh` on a machine with apt first and carry `.gpu` along; they
# are unpacked into a private prefix. Everything written lands in ${GIFT_GPU_OUT:-build/gpu-check}.
#   bash tools/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${GIFT_GPU_OUT:-build/gpu-check}
jobs=${GIFT_GPU_JOBS:-$(nproc)}
arch=${GIFT_CUDA_ARCHITECTURES:-90}
mkdir -p "$out"
start=$(date +%s)
stage() { echo "=== [$(( $(date +%s) - start ))s] $*"; }

prefix_args=()
if ls .gpu/*.deb >/dev/null 2>&1; then
  stage "unpacking the carried build dependencies (.gpu/*.deb) into $out/prefix"
  for deb in .gpu/*.deb; do dpkg -x "$deb" "$out/prefix"; done
  p="$PWD/$out/prefix/usr"
  prefix_args=(-DCMAKE_PREFIX_PATH="$p" -DEigen3_DIR="$p/share/eigen3/cmake"
               -DBoost_ROOT="$p" -DBoost_NO_SYSTEM_PATHS=ON -Dbenchmark_DIR="$p/lib/x86_64-linux-gnu/cmake/benchmark")
  export LD_LIBRARY_PATH="$p/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi

stage "configure (CUDA for sm_$arch)"
cmake -S . -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DGIFT_ENABLE_CUDA=ON -DGIFT_CUDA_ARCHITECTURES="$arch" \
      -DGIFT_BUILD_TOOLS=OFF -DGIFT_BUILD_EXAMPLES=OFF -DGIFT_INSTALL=OFF -DGIFT_HEADER_CHECK=OFF \
      -DGIFT_TEST_AREAS="core;nn;quant;model" "${prefix_args[@]}" > "$out/configure.log"
stage "build the CUDA tests and benchmarks ($jobs jobs)"
cmake --build "$out/build" -j"$jobs" --target test_core_cuda test_nn_cuda test_quant_cuda test_model_cuda \
      bench_gift_linear_cuda bench_alpha_search_cuda bench_model_cuda > "$out/build.log" 2>&1 ||
  { tail -40 "$out/build.log"; exit 1; }

stage "gpu tests"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
tests_ok=0
ctest --test-dir "$out/build" -L gpu --output-on-failure --timeout 300 2>&1 | tee "$out/tests.log" || tests_ok=$?

stage "benchmarks"
"$out/build/benchmarks/bench_gift_linear_cuda" --benchmark_min_time=0.3s \
  --benchmark_out="$out/gift_linear.json" --benchmark_out_format=json > "$out/gift_linear.txt"
"$out/build/benchmarks/bench_alpha_search_cuda" --benchmark_min_time=0.3s \
  --benchmark_out="$out/alpha_search.json" --benchmark_out_format=json > "$out/alpha_search.txt"
"$out/build/benchmarks/bench_model_cuda" --benchmark_min_time=3x \
  --benchmark_out="$out/model.json" --benchmark_out_format=json > "$out/model.txt"

stage "table"
python3 tools/gpu_table.py "$out" | tee "$out/table.md"
stage "done (tests: $([ "$tests_ok" -eq 0 ] && echo passed || echo FAILED))"
exit "$tests_ok"
