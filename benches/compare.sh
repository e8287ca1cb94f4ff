#!/usr/bin/env bash
# End-to-end benchmark of the three targets, each at --jobs 1 and --jobs 2 beside a plain
# copy of its input and, when a Python with polars is given (PYTHON=/path/to/python make
# bench), polars' lazy engine doing the same work:
#   T1  --by row --fn count_range --arg min=4 --arg max=8 on 20,000,000 x 5 integers (200 MB)
#   T2  --by column --fn sum_sq on the same file
#   T3  --expr 'hypotenuse = sqrt(f0*f0 + f1*f1)' and --fn hypot --cols f0,f1 on
#       2,000,000 x 20 decimals (360 MB)
# Reports the median of RUNS runs (wall seconds), rows/s, MB/s of input, peak RSS, the
# speedup over --jobs 1 and the serial fraction Amdahl's law gives for it. ONLY=T2 runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dfpar}
ROWS=${ROWS:-20000000}
RUNS=${RUNS:-5}
DATA=${DATA:-bench-data}
ONLY=${ONLY:-}
mkdir -p "$DATA"
T1_INPUT="$DATA/gen_${ROWS}x5.csv"
T3_ROWS=$((ROWS / 10))
T3_INPUT="$DATA/gen_${T3_ROWS}x20_decimals.csv"
OUT="$DATA/out.csv"
[ -f "$T1_INPUT" ] || "$BIN" gen --rows "$ROWS" --cols 5 --seed 1 -o "$T1_INPUT"
[ -f "$T3_INPUT" ] || "$BIN" gen --rows "$T3_ROWS" --cols 20 --decimals 6 --seed 3 -o "$T3_INPUT"

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

# report NAME SECONDS RSS_KB BASE_SECONDS: one line of the table.
report() {
  awk -v n="$1" -v s="$2" -v r="$3" -v b="$4" -v rows="$ROWS_NOW" -v bytes="$BYTES" 'BEGIN {
    printf "  %-34s %7.3f s %7.1f M rows/s %7.0f MB/s %7.1f MB %6.2fx\n", n, s, rows/s/1e6, bytes/s/1e6, r/1024, b/s }'
}

# polars CODE: runs a polars program (IN and OUT are its input and output paths).
polars() {
  median_of "$PYTHON" -c "import polars as pl
IN, OUT = '$INPUT', '$OUT'
$1"
}

# target NAME INPUT ROWS POLARS_CODE -- DFPAR_ARGS...: one target's table.
target() {
  local name=$1 code=$4
  INPUT=$2 ROWS_NOW=$3
  shift 5
  [ -z "$ONLY" ] || [ "$ONLY" = "${name%% *}" ] || return 0
  BYTES=$(wc -c < "$INPUT")
  cat "$INPUT" > /dev/null # warm the page cache
  echo "$name: $INPUT ($BYTES bytes, $ROWS_NOW rows), median of $RUNS runs, output to a file"
  local copy copy_rss j1 j1_rss j2 j2_rss pl pl_rss
  read -r copy copy_rss < <(median_of sh -c "cat '$INPUT' > '$OUT'")
  read -r j1 j1_rss < <(median_of "$BIN" apply "$@" "$INPUT" -o "$OUT" -j 1)
  read -r j2 j2_rss < <(median_of "$BIN" apply "$@" "$INPUT" -o "$OUT" -j 2)
  report "plain copy (cat > file)" "$copy" "$copy_rss" "$j1"
  report "dfpar --jobs 1" "$j1" "$j1_rss" "$j1"
  report "dfpar --jobs 2" "$j2" "$j2_rss" "$j1"
  awk -v a="$j1" -v b="$j2" 'BEGIN { s = a / b;
    printf "  speedup --jobs 2 over --jobs 1: %.2fx (Amdahl serial fraction %.3f)\n", s, 2 / s - 1 }'
  if [ -n "${PYTHON:-}" ]; then
    read -r pl pl_rss < <(polars "$code")
    report "polars lazy (Python)" "$pl" "$pl_rss" "$j1"
    awk -v a="$pl" -v b="$j2" 'BEGIN { printf "  dfpar --jobs 2 is %.2fx faster than polars lazy\n", a / b }'
  fi
}

printf '  %-34s %9s %15s %12s %10s %7s\n' case wall rows/s MB/s "peak RSS" speedup
target "T1 --by row --fn count_range" "$T1_INPUT" "$ROWS" \
  "pl.scan_csv(IN).with_columns(count_range=pl.sum_horizontal(pl.all().is_between(4, 8))).sink_csv(OUT)" \
  -- --by row --fn count_range --arg min=4 --arg max=8
target "T2 --by column --fn sum_sq" "$T1_INPUT" "$ROWS" \
  "pl.scan_csv(IN).select((pl.all().cast(pl.Float64) ** 2).sum()).sink_csv(OUT)" \
  -- --by column --fn sum_sq
HYPOT="pl.scan_csv(IN).with_columns(hypotenuse=(pl.col('f0') ** 2 + pl.col('f1') ** 2).sqrt()).sink_csv(OUT)"
target "T3 --expr hypotenuse" "$T3_INPUT" "$T3_ROWS" "$HYPOT" \
  -- --expr 'hypotenuse = sqrt(f0*f0 + f1*f1)'
target "T3 --fn hypot --cols f0,f1" "$T3_INPUT" "$T3_ROWS" "$HYPOT" \
  -- --fn hypot --cols f0,f1
rm -f "$OUT"
