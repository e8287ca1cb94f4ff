#!/usr/bin/env bash
# Soak test (not run in CI): a generated file of about 2 GB through row mode, checking
# that peak RSS stays under LIMIT_MB and that ordered output at --jobs 2 (from a file and
# from a pipe) equals --jobs 1 output (checksums).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dfpar}
ROWS=${ROWS:-200000000}
LIMIT_MB=${LIMIT_MB:-300}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
INPUT="$DATA/soak_${ROWS}x5.csv"
[ -f "$INPUT" ] || "$BIN" gen --rows "$ROWS" --cols 5 --seed 2 -o "$INPUT"
echo "input: $INPUT ($(wc -c < "$INPUT") bytes)"
stats=$(mktemp)
run() { # label, then the command; prints wall, peak RSS and the output checksum
  local label=$1; shift
  /usr/bin/time -o "$stats" -f "%e %M" "$@" | md5sum | cut -d' ' -f1 > "$stats.sum"
  read -r wall rss < "$stats"
  echo "$label: ${wall} s, peak RSS $((rss / 1024)) MB, output md5 $(cat "$stats.sum")" >&2
  if (( rss / 1024 >= LIMIT_MB )); then echo "FAIL: peak RSS over ${LIMIT_MB} MB" >&2; exit 1; fi
  cat "$stats.sum"
}
APPLY=(apply --fn count_range --arg min=4 --arg max=8)
a=$(run "--jobs 1" "$BIN" "${APPLY[@]}" -j 1 "$INPUT")
b=$(run "--jobs 2" "$BIN" "${APPLY[@]}" -j 2 "$INPUT")
c=$(run "--jobs 2 from a pipe" sh -c "cat '$INPUT' | '$BIN' ${APPLY[*]} -j 2 -")
rm -f "$stats" "$stats.sum"
if [ "$a" = "$b" ] && [ "$a" = "$c" ]; then echo "OK: outputs identical"; else echo "FAIL: outputs differ"; exit 1; fi
