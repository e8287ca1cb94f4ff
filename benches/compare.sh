#!/usr/bin/env bash
# End-to-end benchmark: dfpar apply count_range on a generated 20M x 5 file at --jobs 1
# and --jobs 2, beside a plain copy of the file and, when a Python with polars is given
# (PYTHON=/path/to/python make bench), polars' lazy scan_csv/sink_csv on the same work.
# Reports the median of RUNS runs (wall seconds), rows/s, MB/s, peak RSS and speedup.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dfpar}
ROWS=${ROWS:-20000000}
RUNS=${RUNS:-5}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
INPUT="$DATA/gen_${ROWS}x5.csv"
OUT="$DATA/out.csv"
[ -f "$INPUT" ] || "$BIN" gen --rows "$ROWS" --cols 5 --seed 1 -o "$INPUT"
BYTES=$(wc -c < "$INPUT")
cat "$INPUT" > /dev/null # warm the page cache

# median_of CMD...: runs CMD $RUNS times; prints "median_seconds peak_rss_kb".
median_of() {
  local times=() rss=0 t m stats
  stats=$(mktemp)
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o "$stats" -f "%e %M" "$@" > /dev/null
    read -r t m < "$stats"
    times+=("$t")
    (( m > rss )) && rss=$m
  done
  rm -f "$stats"
  printf '%s\n' "${times[@]}" | sort -g | awk -v rss="$rss" '{a[NR]=$1} END {print a[int((NR+1)/2)], rss}'
}

report() { # name seconds rss base_seconds
  awk -v n="$1" -v s="$2" -v r="$3" -v b="$4" -v rows="$ROWS" -v bytes="$BYTES" 'BEGIN {
    printf "%-28s %8.3f s %12.0f rows/s %8.1f MB/s %8.1f MB peak %6.2fx\n", n, s, rows/s, bytes/s/1e6, r/1024, b/s }'
}

APPLY=(apply --by row --fn count_range --arg min=4 --arg max=8 "$INPUT" -o "$OUT")
echo "input: $INPUT ($BYTES bytes, $ROWS rows), median of $RUNS runs, output written to a file"
read -r copy copy_rss < <(median_of sh -c "cat '$INPUT' > '$OUT'")
read -r j1 j1_rss < <(median_of "$BIN" "${APPLY[@]}" -j 1)
read -r j2 j2_rss < <(median_of "$BIN" "${APPLY[@]}" -j 2)
printf '%-28s %10s %19s %13s %13s %7s\n' case wall rows/s MB/s "peak RSS" speedup
report "plain copy (cat > file)" "$copy" "$copy_rss" "$j1"
report "dfpar --jobs 1" "$j1" "$j1_rss" "$j1"
report "dfpar --jobs 2" "$j2" "$j2_rss" "$j1"
if [ -n "${PYTHON:-}" ]; then
  read -r pl pl_rss < <(median_of "$PYTHON" -c "
import polars as pl
pl.scan_csv('$INPUT').with_columns(count_range=pl.sum_horizontal(pl.all().is_between(4, 8))).sink_csv('$OUT')")
  report "polars lazy (Python)" "$pl" "$pl_rss" "$j1"
  awk -v a="$pl" -v b="$j2" 'BEGIN { printf "dfpar --jobs 2 is %.2fx faster than polars lazy\n", a/b }'
fi
awk -v a="$j1" -v b="$j2" 'BEGIN { printf "speedup --jobs 2 over --jobs 1: %.2fx\n", a/b }'
rm -f "$OUT"
