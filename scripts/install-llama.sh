#!/usr/bin/env bash
# Install llama-cpp-python built from source with portable CPU flags.
#
# The default native build crashes on these VMs (the CPU advertises AMX the VM cannot use), and
# OpenMP's spin-waiting threads starve the gateway's event loop; see ../shared/OFFLINE.md.
# pip's wheel cache ignores CMAKE_ARGS, so the wheel is built with --no-cache-dir into our own
# cache, keyed by version and flags, and reused by later installs on the same machine.
# The source archive is pinned by hash (requirements/llama-cpp.txt); the wheel is installed
# --no-deps: its dependencies come from the lock files (requirements/llama.in).
set -euo pipefail
pip="$1"
req="$(cd "$(dirname "$0")/.." && pwd)/requirements/llama-cpp.txt"
version=$(sed -n 's/^llama-cpp-python==\([^ ]*\) .*/\1/p' "$req")
flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_OPENMP=OFF"
key=$(printf '%s %s' "$version" "$flags" | sha256sum | cut -c1-12)
cache="${HYBRIDGW_WHEEL_CACHE:-$HOME/.cache/hybridgw-wheels}/llama-$version-$key"
if ! ls "$cache"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $version (portable flags, ~5 min on 2 cores)…"
  mkdir -p "$cache"
  CMAKE_ARGS="$flags" "$pip" wheel --quiet --no-cache-dir --no-deps --require-hashes \
    -w "$cache" -r "$req"
fi
"$pip" install --quiet --no-deps "$cache"/llama_cpp_python-*.whl
