#!/usr/bin/env bash
# What the tests need beyond the Rust toolchain: Debian packages (GNU parallel, make), in
# place before `cargo test`. As root they are installed with apt-get when missing; otherwise
# the missing ones are named and the tests are not run (they would fail, never skip).
set -euo pipefail
need=(parallel:parallel make:make)
missing=()
for pair in "${need[@]}"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/deps.sh: the tests need: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
echo "tests/deps.sh: installed ${missing[*]}" >&2
