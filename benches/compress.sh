#!/usr/bin/env bash
# T1 (count_range on the 20M x 5 file of `make bench`) from compressed inputs and into a
# compressed output: read from .gz and from .zst, against the plain file and against
# decompressing in a pipe (zcat | dfpar -); written to .zst against writing plain CSV.
# Medians of RUNS at --jobs 2, output to a file, page cache warm.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dfpar}
ROWS=${ROWS:-20000000}
RUNS=${RUNS:-5}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
INPUT="$DATA/gen_${ROWS}x5.csv"
[ -f "$INPUT" ] || "$BIN" gen --rows "$ROWS" --cols 5 --seed 1 -o "$INPUT"
[ -f "$INPUT.gz" ] || gzip -c "$INPUT" >"$INPUT.gz"
[ -f "$INPUT.zst" ] || zstd -q -c "$INPUT" >"$INPUT.zst"
cat "$INPUT" "$INPUT.gz" "$INPUT.zst" >/dev/null
APPLY=(apply --fn count_range --arg min=4 --arg max=8 -j 2)

median_of() { # CMD...: the median wall seconds of RUNS runs
  local times=() s e
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
row() { awk -v n="$1" -v s="$2" -v b="$3" -v rows="$ROWS" 'BEGIN {
  printf "%-44s %7.2f s %6.1f M rows/s %6.2fx the plain run\n", n, s, rows/s/1e6, s/b }'; }

echo "input: $INPUT: $(wc -c <"$INPUT") bytes, .gz $(wc -c <"$INPUT.gz"), .zst $(wc -c <"$INPUT.zst"); medians of $RUNS"
plain=$(median_of "$BIN" "${APPLY[@]}" "$INPUT" -o "$DATA/c.csv")
row "plain CSV in, CSV out" "$plain" "$plain"
row ".gz in (decoded by dfpar)" "$(median_of "$BIN" "${APPLY[@]}" "$INPUT.gz" -o "$DATA/c.csv")" "$plain"
row "zcat .gz | dfpar -" "$(median_of sh -c "zcat '$INPUT.gz' | '$BIN' ${APPLY[*]} - -o '$DATA/c.csv'")" "$plain"
row ".zst in (decoded by dfpar)" "$(median_of "$BIN" "${APPLY[@]}" "$INPUT.zst" -o "$DATA/c.csv")" "$plain"
row "zstd -dc .zst | dfpar -" "$(median_of sh -c "zstd -q -dc '$INPUT.zst' | '$BIN' ${APPLY[*]} - -o '$DATA/c.csv'")" "$plain"
row ".csv.zst out (compressed in the workers)" "$(median_of "$BIN" "${APPLY[@]}" "$INPUT" -o "$DATA/c.csv.zst")" "$plain"
row "CSV out | zstd (one compressor)" "$(median_of sh -c "'$BIN' ${APPLY[*]} '$INPUT' | zstd -q -c > '$DATA/c.csv.zst'")" "$plain"
rm -f "$DATA/c.csv" "$DATA/c.csv.zst"
