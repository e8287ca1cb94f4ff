#!/usr/bin/env bash
# --py beside what Python users do today, on the 20M x 5 file of `make bench`: the classic
# row function through dfpar's workers at --jobs 2 against multiprocessing.Pool(2).map over
# pandas' df.values.tolist(), and a vectorized frame function against the builtin
# count_range. Medians of RUNS (the Pool.map baseline POOL_RUNS times: it takes a minute);
# peak RSS summed over the whole process tree (dfpar and its workers, or the pool).
#   benches/python.sh          # PYTHON: an interpreter with pandas [target/test-venv]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/dfpar}
PYTHON=${PYTHON:-target/test-venv/bin/python}
ROWS=${ROWS:-20000000}
RUNS=${RUNS:-3}
POOL_RUNS=${POOL_RUNS:-1}
DATA=${DATA:-bench-data}
mkdir -p "$DATA"
INPUT="$DATA/gen_${ROWS}x5.csv"
OUT="$DATA/py.out"
[ -f "$INPUT" ] || "$BIN" gen --rows "$ROWS" --cols 5 --seed 1 -o "$INPUT"
cat "$INPUT" >/dev/null
cat >"$DATA/funcs.py" <<'PY'
def howmany_within_range(row, minimum, maximum):
    count = 0
    for n in row:
        if minimum <= n <= maximum:
            count = count + 1
    return count

def within(df, minimum, maximum):
    return ((df >= minimum) & (df <= maximum)).sum(axis=1)
PY
cat >"$DATA/pool.py" <<'PY'
import sys
from functools import partial
from multiprocessing import Pool
import pandas as pd
from funcs import howmany_within_range
if __name__ == "__main__":
    rows = pd.read_csv(sys.argv[1]).values.tolist()
    with Pool(2) as p:
        counts = p.map(partial(howmany_within_range, minimum=4, maximum=8), rows)
    print(sum(counts))
PY

# tree CMD...: runs CMD, prints "seconds peak_tree_rss_kb" (RSS of CMD and all its
# descendants, summed, sampled every 50 ms).
tree() {
  local start end pid peak=0 sum p q kb
  start=$(date +%s.%N)
  "$@" >/dev/null & pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sum=0
    for p in $pid $(pgrep -d ' ' -P "$pid" 2>/dev/null) ; do
      for q in $p $(pgrep -d ' ' -P "$p" 2>/dev/null); do
        kb=$(awk '/^VmRSS/ {print $2}' /proc/$q/status 2>/dev/null || true)
        sum=$((sum + ${kb:-0}))
      done
    done
    ((sum > peak)) && peak=$sum
    sleep 0.05
  done
  wait "$pid"
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $peak"
}

median_tree() { # runs CMD N times: "median_seconds max_peak_kb"
  local n=$1; shift; local out=() rss=0 t m
  for _ in $(seq "$n"); do read -r t m < <(tree "$@"); out+=("$t"); ((m > rss)) && rss=$m; done
  printf '%s\n' "${out[@]}" | sort -g | awk -v r="$rss" '{a[NR]=$1} END {print a[int((NR+1)/2)], r}'
}

report() { awk -v n="$1" -v s="$2" -v r="$3" -v rows="$ROWS" 'BEGIN {
  printf "%-52s %8.2f s %11.0f rows/s %8.0f MB peak (tree)\n", n, s, rows/s, r/1024 }'; }

echo "input: $INPUT ($ROWS rows); medians of $RUNS runs (Pool.map: $POOL_RUNS)"
read -r py py_rss < <(median_tree "$RUNS" "$BIN" apply --py "$DATA/funcs.py:howmany_within_range" \
  --arg minimum=4 --arg maximum=8 -j 2 "$INPUT" -o "$OUT")
report "dfpar --py classic row function, --jobs 2" "$py" "$py_rss"
read -r pool pool_rss < <(cd "$DATA" && median_tree "$POOL_RUNS" "$OLDPWD/$PYTHON" pool.py "$(basename "$INPUT")")
report "Pool(2).map over df.values.tolist()" "$pool" "$pool_rss"
read -r fr fr_rss < <(median_tree "$RUNS" "$BIN" apply --by frame --py "$DATA/funcs.py:within" \
  --arg minimum=4 --arg maximum=8 --python "$PYTHON" -j 2 "$INPUT" -o "$OUT")
report "dfpar --by frame --py vectorized, --jobs 2" "$fr" "$fr_rss"
read -r fn fn_rss < <(median_tree "$RUNS" "$BIN" apply --fn count_range --arg min=4 --arg max=8 -j 2 "$INPUT" -o "$OUT")
report "dfpar --fn count_range, --jobs 2" "$fn" "$fn_rss"
awk -v a="$pool" -v b="$py" -v c="$fr" -v d="$fn" 'BEGIN {
  printf "--py row is %.1fx faster than Pool.map; the frame function takes %.2fx the builtin'"'"'s time\n", a/b, c/d }'
rm -f "$OUT"
