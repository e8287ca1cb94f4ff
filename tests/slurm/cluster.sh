#!/usr/bin/env bash
# cluster.sh - a throwaway single-node Slurm cluster on localhost, without systemd.
#
#   cluster.sh install            apt-get the Debian packages (idempotent)
#   cluster.sh up   DIR           write config into DIR, start munged+slurmctld+slurmd, wait for idle
#   cluster.sh down DIR           stop everything started from DIR (safe to repeat)
#   cluster.sh run  DIR -- CMD... up; SLURM_CONF=DIR/slurm.conf CMD; down (always); exit with CMD's status
#
# Everything (key, config, state, spool, pid files, logs, munge socket) lives under DIR, so nothing
# in /etc, /run or /var is used and several clusters can coexist if they use other ports.
# Tested with Debian 12 (Slurm 22.05.8, munge 0.5.15) as root. Findings are in NOTES.md.
#
# Environment knobs (all optional):
#   SLURM_PORT=16817        slurmctld port; slurmd uses SLURM_PORT+1 (not the 6817/6818 defaults)
#   SLURM_UP_TIMEOUT=60     seconds `up` waits for the node to become idle
#   SLURM_STOP_TIMEOUT=10   seconds `down` waits after SIGTERM before SIGKILL
#   SLURM_RUN_TIMEOUT=900   seconds `run` allows CMD (0 = no limit); CMD gets SIGTERM, then SIGKILL
set -euo pipefail

PORT=${SLURM_PORT:-16817}
UP_TIMEOUT=${SLURM_UP_TIMEOUT:-60}
STOP_TIMEOUT=${SLURM_STOP_TIMEOUT:-10}
RUN_TIMEOUT=${SLURM_RUN_TIMEOUT:-900}
PKGS=(slurmctld slurmd slurm-client munge)
DAEMONS='munged slurmctld slurmd slurmstepd'   # process names (comm) this script may stop

log()  { echo "slurm-cluster: $*" >&2; }
die()  { log "error: $*"; exit 1; }
t0()   { T0=$EPOCHREALTIME; }
took() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
q()    { timeout 10 "$@"; }                    # every Slurm client call is bounded

# ---------------------------------------------------------------------------------------- install
cmd_install() {
  local p missing=() out rc=0
  for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "install: already installed"; return 0; }
  t0
  export DEBIAN_FRONTEND=noninteractive
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  # Without systemd, the packages' postinst would run /etc/init.d/{munge,slurmd,slurmctld} through
  # invoke-rc.d unless a policy-rc.d forbids it; we never want those system-wide daemons.
  local policy=/usr/sbin/policy-rc.d added=''
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee $policy >/dev/null && "${sudo[@]}" chmod 755 $policy && added=1
  fi
  local apt=("${sudo[@]}" apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}")
  out=$(mktemp)
  if ! "${apt[@]}" >"$out" 2>&1; then               # package lists may be missing or stale
    log "install: apt-get install failed, retrying after apt-get update"
    { "${sudo[@]}" apt-get update -q && "${apt[@]}"; } >>"$out" 2>&1 || rc=$?
  fi
  [ -z "$added" ] || "${sudo[@]}" rm -f $policy
  [ $rc -eq 0 ] || { cat "$out" >&2; rm -f "$out"; die "install failed"; }
  rm -f "$out"
  log "install: installed ${missing[*]} in $(took)"
}

# --------------------------------------------------------------------------------- process helpers
# alive PID: exists and is not a zombie (PID 1 here reaps orphans lazily, and `kill -0` succeeds
# on zombies, so a plain kill -0 loop would wait for the reaper rather than for the process).
# Bash builtins only: these run in polling loops over all of /proc.
alive() {
  local st
  read -r st 2>/dev/null <"/proc/$1/stat" || return 1
  st=${st##*) }; [ "${st%% *}" != Z ]
}

# ours PID: the process belongs to the cluster in $DIR - it is munged/slurm* started with our
# SLURM_CONF in its environment or our DIR on its command line, or it is a job process (has a
# SLURM_JOB_ID and our SLURM_CONF). This guards against pid reuse and never matches the caller.
ours() {
  local comm e conf='' job='' env=() cmd=()
  read -r comm 2>/dev/null <"/proc/$1/comm" || return 1
  mapfile -d "" -t env 2>/dev/null <"/proc/$1/environ" || return 1
  for e in "${env[@]}"; do
    [ "$e" = "SLURM_CONF=$CONF" ] && conf=1
    [[ "$e" == SLURM_JOB_ID=* ]] && job=1
  done
  if [[ " $DAEMONS " == *" $comm "* ]]; then
    [ -n "$conf" ] && return 0
    mapfile -d "" -t cmd 2>/dev/null <"/proc/$1/cmdline" || return 1
    [[ " ${cmd[*]} " == *"$DIR/"* ]]
  else
    [ -n "$conf" ] && [ -n "$job" ]
  fi
}

# our_pids [COMM...]: every live process of this cluster (optionally only those names).
our_pids() {
  local d p comm
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = $$ ] && continue
    if [ $# -gt 0 ]; then
      read -r comm 2>/dev/null <"$d/comm" || continue
      [[ " $* " == *" $comm "* ]] || continue
    fi
    alive "$p" && ours "$p" && echo "$p"
  done
  return 0
}

# pidfile_pid NAME: the pid in DIR/run/NAME.pid if that process is alive and ours.
pidfile_pid() {
  local p
  p=$(cat "$DIR/run/$1.pid" 2>/dev/null) || return 1
  [[ "$p" =~ ^[0-9]+$ ]] && alive "$p" && ours "$p" && echo "$p"
}

# stop PID...: SIGTERM, wait up to GRACE (default STOP_TIMEOUT) s, SIGKILL, wait up to 5 s more.
stop() {
  local p left i grace=${GRACE:-$STOP_TIMEOUT}
  [ $# -eq 0 ] && return 0
  kill -TERM "$@" 2>/dev/null || true
  for ((i = 0; i < grace * 10 + 50; i++)); do
    left=(); for p in "$@"; do alive "$p" && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    if [ $i -eq $((grace * 10)) ]; then
      log "down: SIGKILL to ${left[*]} ($(cat /proc/"${left[0]}"/comm 2>/dev/null)...)"
      kill -KILL "${left[@]}" 2>/dev/null || true
    fi
    sleep 0.1
  done
  log "down: still alive after SIGKILL: ${left[*]}"
  return 1
}

# -------------------------------------------------------------------------------------- up / down
setdir() {
  [ -n "${1:-}" ] || die "missing DIR"
  DIR=$(realpath -m "$1")                # absolute; need not exist (down after rm -rf DIR)
  CONF=$DIR/slurm.conf
  # Unix socket paths are limited to 108 bytes: munged's DIR/munge/munge.sock and slurmstepd's
  # DIR/spool/localhost_<job>.<step> must fit, so keep DIR short (e.g. under /tmp).
  [ ${#DIR} -le 64 ] || die "DIR path too long (${#DIR} > 64 chars): $DIR"
}

write_conf() {
  # Real hardware from `slurmd -C` (no config needed): a node configured with more CPUs or memory
  # than slurmd detects is drained ("Low RealMemory"/"Low socket*core*thread count").
  local hw; hw=$(slurmd -C | head -1)
  hw=$(grep -oE '(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=[0-9]+' \
       <<<"$hw" | tr '\n' ' ')
  [ -n "$hw" ] || hw="CPUs=$(nproc)"
  cat >"$CONF" <<EOF
# Generated by slurm-cluster.sh: single node "localhost", everything under $DIR.
ClusterName=local
# "localhost" is accepted as the controller host whatever the hostname is.
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Our own munged socket, so the system one (/run/munge) is neither needed nor touched.
AuthInfo=socket=$DIR/munge/munge.sock
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups, no systemd: track job processes through /proc, no CPU binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Short timeouts so that a dead daemon shows up in seconds, not minutes.
SlurmctldTimeout=10
SlurmdTimeout=10
MessageTimeout=5
TCPTimeout=2
BatchStartTimeout=10
KillWait=5
InactiveLimit=0
Waittime=0
# Keep finished job records 5 min: afterok dependencies and sbatch --wait need them.
MinJobAge=300
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

dump_logs() {
  local f
  for f in "$DIR"/log/* "$DIR"/munge/munged.log; do
    [ -f "$f" ] && { echo "----- $f (last 40 lines)"; tail -n 40 "$f"; }
  done >&2
  q sinfo -N -l >&2 2>&1 || true
}

cmd_up() {
  setdir "$1"
  t0; local t_up=$T0
  command -v slurmctld >/dev/null || die "Slurm is not installed (run: $0 install)"
  cmd_down "$DIR" quiet                  # leftovers of an earlier, crashed run in the same DIR
  mkdir -p "$DIR"; rm -rf "$DIR"/{state,spool,log,run,slurm.conf}
  mkdir -p "$DIR"/{state,spool,log,run,munge}
  # munged insists that every directory on the way to its socket is executable by all
  # ("Socket is inaccessible: execute permissions for all required on ..."), so DIR must not
  # be under /root or a mktemp -d (0700) dir; the key must not be readable by group/other.
  chmod 755 "$DIR"; chmod 711 "$DIR/munge"
  if [ ! -s "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 400 "$DIR/munge/munge.key"
  write_conf

  # Each daemon forks into the background itself and writes its pid file under DIR/run. We
  # export SLURM_CONF to them so that they, slurmstepd and every job process carry this marker
  # (see ours()). Running as root needs no --force or other special flag.
  export SLURM_CONF=$CONF
  munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.sock" \
         --pid-file="$DIR/run/munged.pid" --log-file="$DIR/munge/munged.log" \
         --seed-file="$DIR/munge/munged.seed" </dev/null >>"$DIR/log/start.out" 2>&1 \
    || { dump_logs; cmd_down "$DIR" quiet; die "munged failed to start"; }
  munge -n -S "$DIR/munge/munge.sock" | unmunge -S "$DIR/munge/munge.sock" >/dev/null \
    || { dump_logs; cmd_down "$DIR" quiet; die "munge round trip failed"; }
  slurmctld -f "$CONF" </dev/null >>"$DIR/log/start.out" 2>&1 \
    || { dump_logs; cmd_down "$DIR" quiet; die "slurmctld failed to start"; }
  # -N: our NodeName is "localhost", not the machine's hostname.
  slurmd -f "$CONF" -N localhost </dev/null >>"$DIR/log/start.out" 2>&1 \
    || { dump_logs; cmd_down "$DIR" quiet; die "slurmd failed to start"; }

  # Wait for the node to register; give up early if a daemon died.
  local state='' d t_start=$SECONDS deadline=$((SECONDS + UP_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    state=$(q sinfo -h -N -n localhost -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
    for d in munged slurmctld slurmd; do         # dead, or no pid file 5 s after start
      pidfile_pid $d >/dev/null && continue
      [ -e "$DIR/run/$d.pid" ] || [ $SECONDS -ge $((t_start + 5)) ] && { state="$d died"; break 2; }
    done
  done
  if [ "$state" != idle ]; then
    dump_logs; cmd_down "$DIR" quiet
    die "up: node not idle after $((SECONDS - deadline + UP_TIMEOUT)) s (state: '${state:-none}')"
  fi
  T0=$t_up; log "up: node localhost idle in $(took) (SLURM_CONF=$CONF)"
}

cmd_down() {
  setdir "$1"; local quiet=${2:-}
  t0
  local p pids=() rc=0
  # 1. Cancel jobs while slurmctld and slurmd still run, so Slurm kills the job processes itself
  #    (slurmd does not kill running steps when it stops; slurmstepd outlives it).
  if pidfile_pid slurmctld >/dev/null && [ -n "$(our_pids slurmstepd)" ]; then
    SLURM_CONF=$CONF q scancel --user="$(id -un)" 2>/dev/null || true
    for ((p = 0; p < STOP_TIMEOUT * 10; p++)); do
      [ -z "$(our_pids slurmstepd)" ] && break; sleep 0.1
    done
  fi
  # 2. The daemons from our pid files: slurmd and slurmctld first, munged last (they use it).
  mapfile -t pids < <(pidfile_pid slurmd; pidfile_pid slurmctld)
  stop "${pids[@]}" || rc=1
  mapfile -t pids < <(pidfile_pid munged)
  stop "${pids[@]}" || rc=1
  # 3. Anything else of ours: daemons whose pid file is missing (a crashed or half-done `up`),
  #    slurmstepd and job processes orphaned by a dead slurmd. slurmstepd ignores SIGTERM, so
  #    these get only 1 s before SIGKILL.
  mapfile -t pids < <(our_pids)
  if [ ${#pids[@]} -gt 0 ]; then
    log "down: leftover processes: $(for p in "${pids[@]}"; do printf '%s(%s) ' "$p" "$(cat /proc/$p/comm 2>/dev/null)"; done)"
    GRACE=1 stop "${pids[@]}" || rc=1
  fi
  rm -f "$DIR"/run/*.pid 2>/dev/null || true
  # 4. Dead daemons stay zombies until PID 1 reaps them, which on this machine happens only every
  #    second or so, and `pgrep -a 'slurm|munge'` lists zombies too. Wait for that (up to 3 s),
  #    so that nothing shows up right after `down`. (Nothing to kill: zombies are already dead.)
  for ((p = 0; p < 30; p++)); do pgrep -r Z 'slurm|munge' >/dev/null 2>&1 || break; sleep 0.1; done
  [ -n "$quiet" ] || log "down: stopped in $(took)"
  return $rc
}

# ------------------------------------------------------------------------------------------- run
cmd_run() {
  local dir=$1; shift
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "run: missing CMD"
  setdir "$dir"
  CHILD=
  # Kill CMD's whole process group (set -m gives it its own), then stop the cluster.
  trap 'cmd_down "$DIR" || { log "down failed"; exit 1; }' EXIT
  trap 'log "run: caught signal, stopping"; [ -n "$CHILD" ] && kill -TERM -- -"$CHILD" 2>/dev/null; exit 130' INT
  trap 'log "run: caught signal, stopping"; [ -n "$CHILD" ] && kill -TERM -- -"$CHILD" 2>/dev/null; exit 143' TERM
  cmd_up "$DIR"
  # CMD runs in the background and we `wait` for it: bash runs traps only between commands, and
  # `wait` is interruptible, so INT/TERM reach the trap even while CMD is running.
  local tmo=(); [ "$RUN_TIMEOUT" -gt 0 ] && tmo=(timeout -k 10 "$RUN_TIMEOUT")
  set -m
  SLURM_CONF=$CONF "${tmo[@]}" "$@" &
  CHILD=$!
  set +m
  local rc=0; wait "$CHILD" || rc=$?
  CHILD=
  [ $rc -eq 124 ] && [ ${#tmo[@]} -gt 0 ] && log "run: CMD timed out after $RUN_TIMEOUT s"
  log "run: CMD exited with status $rc"
  return $rc
}

case "${1:-}" in
  install) cmd_install ;;
  up)      cmd_up "${2:-}" ;;
  down)    cmd_down "${2:-}" ;;
  run)     shift; [ $# -ge 1 ] || die "usage: $0 run DIR -- CMD..."; cmd_run "$@" ;;
  *)       sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
