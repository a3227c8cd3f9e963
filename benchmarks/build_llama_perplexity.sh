#!/usr/bin/env bash
# Builds llama.cpp's `llama-perplexity` for benchmarks/llama_cpp_eval.py, from the copy of
# llama.cpp inside PyPI's llama-cpp-python source package (the one registry this project may
# download from). Nothing of llama.cpp enters the repository: the source and the build stay in the
# folder given (default: build/llama.cpp).
#
# usage: bash benchmarks/build_llama_perplexity.sh [folder]   (prints the binary's path last)
# About 10 minutes on 2 cores. GGML_NATIVE: the host's instruction set, as gift's own benchmarks.
set -euo pipefail
folder=${1:-build/llama.cpp}
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
mkdir -p "$folder"
folder=$(cd "$folder" && pwd)
if [ ! -d "$folder/llama_cpp_python-$version" ]; then
  python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$folder" "llama-cpp-python==$version"
  tar -xzf "$folder/llama_cpp_python-$version.tar.gz" -C "$folder"
fi
source="$folder/llama_cpp_python-$version/vendor/llama.cpp"
cmake -S "$source" -B "$folder/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON \
      -DGGML_OPENMP=ON >/dev/null
cmake --build "$folder/build" --target llama-perplexity -j"${JOBS:-2}" >/dev/null
echo "$folder/build/bin/llama-perplexity"
