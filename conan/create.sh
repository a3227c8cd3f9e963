#!/usr/bin/env bash
# Creates the gift Conan package and runs its test_package, from a fresh machine and offline:
#   conan/create.sh [work dir]        (default: build/conan in the repository)
#
# - A fresh CONAN_HOME inside the work dir, so nothing depends on ~/.conan2.
# - No remote is ever contacted: Conan Center is removed from that home and every command runs
#   with --no-remote; Eigen is the system's, declared in conan/profiles/ci as [platform_requires].
# - The recipe, headers and test_package are staged into the work dir first, so `conan create`
#   writes nothing into the source tree (test_package/build, CMakeUserPresets.json).
# - gift::thrust is tested where the CCCL headers exist, gift::cuda where nvcc exists (its test
#   program is built with nvcc and runs only where a CUDA device exists). Override with
#   GIFT_CONAN_WITH_THRUST / GIFT_CONAN_WITH_CUDA = True | False.
# Needs: Conan 2 (pip install "conan>=2,<3"), CMake >= 3.25, a C++20 compiler, libeigen3-dev.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mkdir -p "${1:-$root/build/conan}" && cd "${1:-$root/build/conan}" && pwd)

command -v conan >/dev/null || { echo "conan/create.sh: conan not found; pip install 'conan>=2,<3'" >&2; exit 1; }
case "$(conan --version)" in
  *"version 2."*) ;;
  *) echo "conan/create.sh: needs Conan 2, found: $(conan --version)" >&2; exit 1 ;;
esac

export CONAN_HOME="$work/conan-home"
rm -rf "$CONAN_HOME" "$work/src"
# detect warns that its guess may change between Conan versions; the CI profile pins what matters.
detect_log=$(conan profile detect --exist-ok 2>&1) || { echo "$detect_log" >&2; exit 1; }
# A fresh home lists Conan Center; these machines cannot reach it, and nothing needs it.
conan remote remove "*" >/dev/null 2>&1 || true

# Stage exactly what the recipe exports plus the test_package.
mkdir -p "$work/src"
cp -R "$root/conanfile.py" "$root/include" "$root/test_package" "$work/src/"
mkdir -p "$work/src/conan" && cp -R "$root/conan/cmake" "$root/conan/profiles" "$work/src/conan/"
for f in "$root"/LICENSE*; do
  [ -e "$f" ] && cp "$f" "$work/src/"
done

detect() {  # $1: override variable value, $2: test that says the machine has it
  case "${1:-auto}" in
    True|False) echo "$1" ;;
    *) if eval "$2"; then echo True; else echo False; fi ;;
  esac
}
with_thrust=$(detect "${GIFT_CONAN_WITH_THRUST:-}" \
  '[ -e /usr/local/cuda/include/cccl/thrust/version.h ] || [ -e /usr/local/cuda/include/thrust/version.h ] || [ -e /usr/include/thrust/version.h ]')
with_cuda=$(detect "${GIFT_CONAN_WITH_CUDA:-}" 'command -v nvcc >/dev/null')
echo "conan/create.sh: CONAN_HOME=$CONAN_HOME with_thrust=$with_thrust with_cuda=$with_cuda"

profile="$work/src/conan/profiles/ci"
# The package with every component the machine supports, tested by test_package...
conan create "$work/src" --no-remote -pr:a "$profile" --build=missing \
  -o "gift/*:with_thrust=$with_thrust" -o "gift/*:with_cuda=$with_cuda"
# ...and the same package as a default consumer sees it (gift::gift only).
conan test "$work/src/test_package" "gift/$(conan inspect "$work/src" --format=json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')" \
  --no-remote -pr:a "$profile"
echo "conan/create.sh: OK"
