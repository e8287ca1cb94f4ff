#!/usr/bin/env bash
# The Slurm test (`make test-slurm`): on a single-node cluster started by cluster.sh, a job
# array runs `dfpar apply --shard auto` and a job that depends on it (afterok) runs `dfpar
# merge`; the result must equal a single run, for row, column and frame mode. Then an array
# with a bad row in one shard must fail, its merge job must never run, and merge by hand must
# refuse the incomplete parts. Every wait is bounded.
#
#   tests/slurm/cluster.sh run /tmp/dfpar-slurm -- tests/slurm/shards.sh DFPAR
set -euo pipefail
DFPAR=$(realpath "${1:?usage: shards.sh DFPAR}")
[ -n "${SLURM_CONF:-}" ] || { echo "shards.sh: run me under cluster.sh run" >&2; exit 2; }
T=${SLURM_TEST_TIMEOUT:-300}
work=$(dirname "$SLURM_CONF")/shards
rm -rf "$work"; mkdir -p "$work"; cd "$work"

say()  { echo "slurm test: $*" >&2; }
fail() { say "FAIL: $*"; squeue >&2 || true; tail -n 20 logs/* >&2 2>/dev/null || true; exit 1; }
submit() { timeout -k 5 "$T" sbatch --parsable --chdir="$PWD" "$@"; }
state() { timeout 10 scontrol -o show job "$1" | grep -oE 'JobState=[A-Z_]+' | sort -u | tr '\n' ' '; }

# Two tables equal field by field, numbers within 1e-12 relative (merge order of floats).
same_table() {
  awk -F, 'NR == FNR { a[FNR] = $0; n = FNR; next }
    { if (FNR > n) exit 1; split(a[FNR], x, ","); if (length(x) != NF) exit 1
      for (i = 1; i <= NF; i++) if (x[i] != $i) {
        d = x[i] - $i; m = (x[i] < 0 ? -x[i] : x[i]); if (d < 0) d = -d
        if (x[i] + 0 != x[i] || d > 1e-12 * m) exit 1 } }
    END { if (FNR != n) exit 1 }' "$1" "$2"
}

"$DFPAR" gen --rows 200000 --cols 5 --seed 7 -o in.csv
mkdir -p logs

# run_case NAME ARGS...: the array of 4 shards, the dependent merge, and the comparison.
run_case() {
  local name=$1; shift
  mkdir -p "$name/parts"
  "$DFPAR" apply "$@" in.csv -o "$name/single.csv"
  cat >"$name/shard.sh" <<EOF
#!/bin/bash
set -eu
# --jobs is not given: it defaults to the CPUs Slurm gave the task (SLURM_CPUS_PER_TASK).
"$DFPAR" info | grep -q 'default --jobs: 1 (from SLURM_CPUS_PER_TASK)'
exec "$DFPAR" apply $* --shard auto ../in.csv -o parts/part-\$SLURM_ARRAY_TASK_ID.csv
EOF
  cat >"$name/merge.sh" <<EOF
#!/bin/bash
exec "$DFPAR" merge parts/part-*.csv -o merged.csv
EOF
  (
    cd "$name"
    aid=$(submit --wait --array=0-3 --cpus-per-task=1 -o "../logs/$name-%a.out" shard.sh) \
      || fail "$name: the array failed"
    mid=$(submit --wait --dependency=afterok:"$aid" --kill-on-invalid-dep=yes \
      -o "../logs/$name-merge.out" merge.sh) || fail "$name: the merge job failed"
    [ "$(state "$mid")" = "JobState=COMPLETED " ] || fail "$name: merge job $(state "$mid")"
  )
  case $name in
    rows) cmp "$name/single.csv" "$name/merged.csv" || fail "$name: merged differs from the single run" ;;
    *) same_table "$name/single.csv" "$name/merged.csv" || fail "$name: merged differs from the single run" ;;
  esac
  say "ok: $name: 4 shards merged equal the single run"
}

run_case rows --fn count_range --arg min=4 --arg max=8
run_case columns --by column --fn mean --fn std --fn sum_sq --fn count
run_case frame --by frame --fn describe

# A bad row in one shard: that task fails, so the array fails and the merge never runs.
{ head -100001 in.csv; echo "1,2"; tail -n +100002 in.csv; } >bad.csv
mkdir -p bad/parts
cat >bad/shard.sh <<EOF
#!/bin/bash
exec "$DFPAR" apply --fn sum --shard auto ../bad.csv -o parts/part-\$SLURM_ARRAY_TASK_ID.csv
EOF
cd bad
array_rc=0; aid=$(submit --wait --array=0-3 -o '../logs/bad-%a.out' shard.sh) || array_rc=$?
[ $array_rc -ne 0 ] || fail "sbatch --wait returned 0 for an array with a bad row"
[ $array_rc -ne 124 ] && [ $array_rc -ne 137 ] || fail "sbatch --wait timed out"
grep -h 'bad.csv:100002: expected 5 fields, found 2' ../logs/bad-*.out >/dev/null \
  || fail "no task named the bad row's line"
mid=$(submit --wait --dependency=afterok:"$aid" --kill-on-invalid-dep=yes \
  -o ../logs/bad-merge.out --wrap "'$DFPAR' merge parts/part-*.csv -o merged.csv") || true
[ "$(state "$mid")" = "JobState=CANCELLED " ] || fail "the merge job after a failed array: $(state "$mid")"
[ ! -e merged.csv ] || fail "a merge ran after the array failed"
if "$DFPAR" merge parts/part-*.csv -o merged.csv 2>merge.err; then fail "merge took an incomplete set"; fi
grep -q 'of 4 are missing' merge.err || fail "merge: $(cat merge.err)"
say "ok: a bad row fails the array (sbatch --wait $array_rc), the merge is cancelled and refuses the parts"
say "PASS"
