#!/usr/bin/env bash
# Prepares what tools/gpu_check.sh needs on a GPU machine that reaches no package registry: the
# Debian packages of gift's build and test dependencies (Eigen, Boost.Test, Google Benchmark,
# zlib headers), downloaded HERE into .gpu/ (ignored by git). Carry `.gpu` to the GPU machine with
# the working tree; gpu_check.sh unpacks them into a private prefix there. Run once per machine
# that has apt (e.g. the CI/dev machine):  bash tools/gpu_deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu /tmp/gift-gpu-apt/lists/partial
apt_options=(-o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Dir::State::Lists=/tmp/gift-gpu-apt/lists)
apt-get "${apt_options[@]}" update -qq
packages=(libeigen3-dev libboost-test-dev libboost-test1.74-dev libboost-test1.74.0 libboost1.74-dev
          libbenchmark-dev libbenchmark1debian zlib1g-dev)
(cd .gpu && apt-get "${apt_options[@]}" download "${packages[@]}")
ls -1 .gpu
echo "gpu_deps: $(ls .gpu/*.deb | wc -l) packages in .gpu/ (carry '.gpu' to the GPU machine)"
