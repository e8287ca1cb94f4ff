#!/usr/bin/env bash
# What the tests need beyond the Rust toolchain, in place before `cargo test`: Debian
# packages (GNU parallel, make, the compressors, man), installed with apt-get when missing and root (else named,
# and the tests are not run: they would fail, never skip), and a virtualenv with pandas.
set -euo pipefail
need=(parallel:parallel make:make zstd:zstd bzip2:bzip2 xz:xz-utils man:man-db)
missing=()
for pair in "${need[@]}"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/deps.sh: the tests need: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  echo "tests/deps.sh: installed ${missing[*]}" >&2
fi

# The --py tests: a virtualenv with pandas (frame functions), from PyPI.
venv=target/test-venv
if ! "$venv/bin/python" -c 'import pandas, numpy' 2>/dev/null; then
  echo "tests/deps.sh: making $venv with pandas" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check pandas numpy
fi
