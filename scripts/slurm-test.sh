#!/usr/bin/env bash
# scripts/slurm-test.sh - issue 13: docs/batch.md's SLURM job script run by a
# real SLURM: Debian 12's slurm-wlm on this one machine (slurmctld, slurmd and
# munged started by hand, no systemd, no cgroups). Long, needs root, installs
# packages; not part of CI (test/tools/batch-slurm.test is the CI version,
# with a stub scontrol).
#
# Usage: scripts/slurm-test.sh BUILD_DIR
#
#   1. installs slurm-wlm and munge with apt-get if missing (with a
#      policy-rc.d that keeps the packages' own services from starting),
#      writes a throwaway munge key and slurm.conf in a temporary directory
#      (free TCP ports, state under that directory, JobRequeue=1,
#      AuthInfo cred_expire=10: a requeued job waits cred_expire+1 s before
#      it may start again, 121 s by default), starts munged, slurmctld and
#      slurmd and waits until sinfo shows the node idle; they are stopped and
#      the directory removed on exit, whatever happens;
#   2. builds test/restart/Inputs/onsignal/job.c with BUILD_DIR's ckpt-cc
#      and takes the slurm-job.sh block from docs/batch.md exactly as
#      test/tools/batch-slurm.test does; submits it unchanged:
#          CKPT_DIR=... sbatch [OPTIONS] slurm-job.sh ./job STEPS
#      with BUILD_DIR/bin first in PATH (sbatch passes the environment on);
#   3. the cases, each a job of its own:
#        usr1-batch  while the job runs, scancel --signal=USR1 --batch JOBID:
#                    what --signal=B:USR1@300 does 300 s before the time
#                    limit, now (slurmd sends it to the batch shell alone);
#        scancel     while the job runs, a plain scancel JOBID: SIGTERM to
#                    every process of the job, the script and the program.
#                    docs/batch.md passes it on "the same way": checkpoint,
#                    75, scontrol requeue, which brings the cancelled job
#                    back (a plain scancel does not end such a job).
#                    slurmstepd's "*** JOB N ON NODE CANCELLED AT T ***",
#                    written before the checkpoint, stays in the output;
#        time-limit  sbatch --time=6: the script's own --signal=B:USR1@300
#                    comes from slurmctld, 30 to 60 s after each start (a
#                    requeued run gets a new time limit and a new warning):
#                    ~120 s of work, three to five runs; skipped with
#                    CKPT_SLURM_TIMELIMIT=0 (it takes ~2.5 min);
#      and checks that each signalled run ends with status 75 (slurmd's
#      job_rc), after ckpt's checkpoint note, that the job is requeued
#      (Restarts, PENDING, then RUNNING again), that every requeued run
#      resumes from the checkpoint (the job's one output file, kept by
#      --open-mode=append, has more steps after each run and each step
#      once), and that the job ends with the program's own exit status
#      (ExitCode=3:0) and the output of an uninterrupted run (stdout and
#      stderr in one file: sbatch's default slurm-JOBID.out);
#   4. prints a table and "N passed, N failed"; exits 1 if a check failed,
#      2 if SLURM itself could not be run.
#
# Environment: CKPT_SLURM_KEEP=1 keeps the work directory (it is kept when a
# check failed), CKPT_SLURM_TIMELIMIT=0 skips the time-limit case,
# CKPT_SLURM_STEPS (steps of the usr1-batch and scancel jobs, default 2000:
# ~10 s).

# Conditions are passed to check() in single quotes and evaluated there.
# shellcheck disable=SC2016,SC2034
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
start_time=$SECONDS

die() {
  echo "slurm-test: error: $*" >&2
  exit 2
}

[ $# = 1 ] || die "usage: scripts/slurm-test.sh BUILD_DIR"
[ "$(id -u)" = 0 ] || die "must run as root (apt-get, slurmd)"
[ -d "$1" ] || die "build directory $1 does not exist"
build=$(cd "$1" && pwd -P)
for t in ckpt-cc ckpt-run; do
  [ -x "$build/bin/$t" ] || die "$build/bin/$t is missing: is $build a ckpt build directory?"
done
steps=${CKPT_SLURM_STEPS:-2000}
timelimit_case=${CKPT_SLURM_TIMELIMIT:-1}

# Descriptors inherited from whoever started us would pass on to the daemons
# (and keep a caller's pipe open after we exit). 255 is bash's own.
for fd in "/proc/$$/fd"/*; do
  fd=${fd##*/}
  case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" ;; esac
done

# ---- 1. SLURM and munge ------------------------------------------------------

installed_policy=""
install_packages() {
  local missing="" c
  for c in munged munge slurmctld slurmd sbatch scontrol scancel sinfo; do
    command -v "$c" >/dev/null || missing="$missing $c"
  done
  [ -n "$missing" ] || return 0
  echo "slurm-test: missing:$missing; apt-get install slurm-wlm munge"
  # Without systemd, the packages' postinst would start munged (and try
  # slurmctld) with the system's configuration: not wanted here.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    installed_policy=/usr/sbin/policy-rc.d
  fi
  local status=0
  { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge; }; } \
    >/tmp/slurm-test-apt.log 2>&1 || status=$?
  if [ -n "$installed_policy" ]; then
    rm -f "$installed_policy"
    installed_policy=""
  fi
  [ $status = 0 ] || die "apt-get install slurm-wlm munge failed; see /tmp/slurm-test-apt.log"
}

work=$(mktemp -d /tmp/ckpt-slurm.XXXXXX) # 0700: ckpt wants private directories
s=$work/slurm
keep_work=${CKPT_SLURM_KEEP:-0}
munged_pid="" ctld_pid="" slurmd_pid="" ref_pid=""
export SLURM_CONF=$s/slurm.conf

# stop PID...: TERM, up to 15 s, then KILL; only the daemons started here.
stop_pids() {
  local p _
  for p in "$@"; do [ -z "$p" ] || kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 150); do
    local alive=0
    for p in "$@"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 1 ] || break
    sleep 0.1
  done
  for p in "$@"; do
    [ -z "$p" ] && continue
    kill -KILL "$p" 2>/dev/null || true
    { wait "$p"; } 2>/dev/null || true
  done
}

cleanup() {
  local rc=$? i
  [ -z "$installed_policy" ] || rm -f "$installed_policy"
  if [ -n "$ref_pid" ] && kill -0 "$ref_pid" 2>/dev/null; then
    pkill -TERM -P "$ref_pid" # the reference ./job, then its subshell
    kill -TERM "$ref_pid" 2>/dev/null
  fi
  [ -z "$ctld_pid" ] || [ "$rc" = 0 ] || echo "slurm-test: stopping the jobs, slurmctld, slurmd and munged" >&2
  if [ -n "$ctld_pid" ] && kill -0 "$ctld_pid" 2>/dev/null; then
    # Jobs first: slurmstepd and the job's processes outlive slurmd.
    # A plain scancel does not end a job running docs/batch.md's script:
    # the program checkpoints on SIGTERM and the script requeues the job.
    # Requeue=0 first (scontrol requeue then fails), and scancel again
    # whatever still comes back.
    local jobs j
    jobs=$(squeue -h -o %i 2>/dev/null)
    if [ -n "$jobs" ]; then
      for j in $jobs; do scontrol update JobId="$j" Requeue=0 >/dev/null 2>&1; done
      for i in $(seq 100); do
        jobs=$(squeue -h -o %i 2>/dev/null)
        [ -z "$jobs" ] && break
        # shellcheck disable=SC2086
        [ $((i % 10)) != 1 ] || scancel $jobs 2>/dev/null
        sleep 0.2
      done
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] ||
        echo "slurm-test: warning: jobs still in the queue at shutdown: $(squeue -h -o '%i %T' | tr '\n' ' ')" >&2
    fi
    scontrol shutdown >/dev/null 2>&1
  fi
  stop_pids "$slurmd_pid" "$ctld_pid"
  stop_pids "$munged_pid"
  if [ "$keep_work" = 1 ] || [ "$rc" != 0 ]; then
    echo "slurm-test: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free TCP ports, next to each other (slurmctld, slurmd).
free_ports() {
  local p _
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (: </dev/tcp/127.0.0.1/$p) 2>/dev/null && ! (: </dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null; then
      echo "$p $((p + 1))"
      return 0
    fi
  done
  return 1
}

logs_tail() {
  local f
  for f in "$s"/log/*.log; do
    [ -f "$f" ] || continue
    echo "---- $f (last lines, errors)"
    grep -E 'error|fatal|Error|Fatal' "$f" | grep -v 'mpi/pmix\|MPI: Cannot create context' | tail -5
    tail -5 "$f"
  done
}

start_slurm() {
  local node ports ctld_port d_port i
  node=$(hostname -s)
  ports=$(free_ports) || die "no two free TCP ports found"
  read -r ctld_port d_port <<<"$ports"
  mkdir -p "$s/munge" "$s/ctld" "$s/spool" "$s/log"
  chmod 700 "$s/munge"
  head -c 128 /dev/urandom >"$s/munge/munge.key"
  chmod 600 "$s/munge/munge.key"
  # --force: the socket is in our 0700 directory, out of other users'
  # reach; every job here runs as root.
  munged -F --force --key-file="$s/munge/munge.key" --socket="$s/munge/socket" \
    --pid-file="$s/munge/munged.pid" --log-file="$s/log/munged.log" \
    --seed-file="$s/munge/seed" </dev/null >"$s/log/munged.out" 2>&1 &
  munged_pid=$!
  for i in $(seq 100); do
    [ -S "$s/munge/socket" ] && break
    kill -0 "$munged_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -S "$s/munge/socket" ] || { logs_tail; die "munged did not start ($(cat "$s/log/munged.out"))"; }
  munge -S "$s/munge/socket" -n | unmunge -S "$s/munge/socket" >/dev/null ||
    die "munge/unmunge through $s/munge/socket failed"
  : >"$s/plugstack.conf" # not /etc/slurm's
  cat >"$SLURM_CONF" <<EOF
# slurm-test.sh: a throwaway single-node cluster, removed on exit
ClusterName=ckpttest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: also how long a requeued job waits before it may start again
AuthInfo=socket=$s/munge/socket,cred_expire=10
StateSaveLocation=$s/ctld
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/slurmctld.pid
SlurmdPidFile=$s/slurmd.pid
SlurmctldLogFile=$s/log/slurmctld.log
SlurmdLogFile=$s/log/slurmd.log
SlurmctldDebug=debug
SlurmdDebug=debug
PlugStackConfig=$s/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
MpiDefault=none
JobRequeue=1
KillWait=5
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -D -i </dev/null >"$s/log/slurmctld.out" 2>&1 &
  ctld_pid=$!
  for i in $(seq 100); do
    scontrol ping >/dev/null 2>&1 && break
    kill -0 "$ctld_pid" 2>/dev/null || break
    sleep 0.2
  done
  scontrol ping >/dev/null 2>&1 || { logs_tail; die "slurmctld did not start"; }
  slurmd -D </dev/null >"$s/log/slurmd.out" 2>&1 &
  slurmd_pid=$!
  local state=""
  for i in $(seq 150); do
    state=$(sinfo -h -N -n "$node" -o %T 2>/dev/null)
    [ "$state" = idle ] && break
    kill -0 "$slurmd_pid" 2>/dev/null || break
    sleep 0.2
  done
  [ "$state" = idle ] || { logs_tail; die "node $node is not idle after 30 s (sinfo: '${state}')"; }
  echo "slurm-test: $(sinfo -V), node $node idle: slurmctld :$ctld_port, slurmd :$d_port, munged $s/munge/socket"
}

# ---- results -------------------------------------------------------------------

passed=0 failed=0 results=()
record() { # record CASE CHECK ok|FAIL|"" DETAIL ("": information, not a check)
  results+=("$1|$2|$3|$4")
  case $3 in ok) passed=$((passed + 1)) ;; FAIL) failed=$((failed + 1)) ;; esac
}
# check CASE CHECK DETAIL 'CONDITION': CONDITION is evaluated (in the
# caller's scope: bash's locals are dynamic).
check() {
  if eval "$4"; then record "$1" "$2" ok "$3"; else record "$1" "$2" FAIL "$3"; fi
}

# field JOBINFO NAME: NAME's value in one line of scontrol show -o job.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1" | head -1; }

# job_rcs JOBID: the status of each run of the batch script, as slurmd logged
# it ("job N completed with slurm_rc = 0, job_rc = 19200": wait() status).
job_rcs() {
  sed -n "s/.*\[$1\.batch\] job $1 completed with slurm_rc = [0-9]*, job_rc = \([0-9]*\).*/\1/p" "$s/log/slurmd.log" |
    while read -r w; do
      if [ $((w & 127)) = 0 ]; then echo -n "$((w >> 8)) "; else echo -n "sig$((w & 127)) "; fi
    done
}

# usr1_times JOBID: for each USR1 slurmd passed on to the batch shell, how
# many seconds after the run's launch, and the pid it went to.
usr1_times() {
  local line ts launch="" pid
  while IFS= read -r line; do
    ts=${line:1:23}
    case $line in
    *"Launching batch job $1 "*) launch=$(date -d "$ts" +%s.%N) ;;
    *"[$1.batch] _handle_signal_container: sent signal 10 to pid "*)
      pid=${line##*to pid }
      pid=${pid%% *}
      printf '%.1f s after launch to pid %s; ' "$(echo "$(date -d "$ts" +%s.%N) - ${launch:-0}" | bc)" "$pid"
      ;;
    esac
  done <"$s/log/slurmd.log"
}

# ---- 2. the job ------------------------------------------------------------------

prepare() {
  mkdir -p "$work/common"
  sed -n '/^```bash slurm-job.sh$/,/^```$/p' "$src/docs/batch.md" | sed '1d;$d' >"$work/common/slurm-job.sh"
  # What test/tools/batch-slurm.test checks of it too.
  if ! grep -q -- '--signal=B:USR1@300' "$work/common/slurm-job.sh" ||
    ! grep -q 'ckpt-run --dir "$CKPT_DIR" --resume' "$work/common/slurm-job.sh" ||
    ! grep -q 'scontrol requeue "$SLURM_JOB_ID"' "$work/common/slurm-job.sh"; then
    die "docs/batch.md's slurm-job.sh block is not the script this test expects"
  fi
  "$build/bin/ckpt-cc" -O1 "$src/test/restart/Inputs/onsignal/job.c" -o "$work/common/job" ||
    die "ckpt-cc could not build job.c"
}

# run_case NAME STEPS MODE [SBATCH OPTIONS...]: one job, signalled by MODE,
# followed to its end:
#   usr1-batch  scancel --signal=USR1 --batch JOBID (USR1 to the batch shell);
#   scancel     scancel JOBID (SIGTERM to all of the job's processes);
#   time-limit  nothing: slurmctld sends the script's --signal=B:USR1@300.
run_case() {
  local name=$1 n=$2 mode=$3
  shift 3
  local d=$work/$name t0=$SECONDS sig=USR1
  [ "$mode" != scancel ] || sig=TERM
  mkdir -p "$d"
  cp "$work/common/slurm-job.sh" "$work/common/job" "$d/"
  # The uninterrupted run, alongside the job: one file for stdout and
  # stderr, like sbatch's default slurm-JOBID.out.
  (
    t=$(date +%s%N)
    cd "$d" && ./job "$n" >reference.txt 2>&1
    rc=$?
    echo $((($(date +%s%N) - t) / n / 1000)) >"$d/us-per-step"
    exit $rc
  ) &
  ref_pid=$!

  local jid
  jid=$(cd "$d" && PATH=$build/bin:$PATH CKPT_DIR=$d/ck sbatch --parsable "$@" slurm-job.sh ./job "$n" 2>"$d/sbatch.err")
  jid=${jid%%;*}
  if [ -z "$jid" ]; then
    record "$name" "sbatch" FAIL "$(head -c 200 "$d/sbatch.err")"
    wait "$ref_pid"
    return
  fi
  local out=$d/slurm-$jid.out info state lines=0 _

  # Running, with some output.
  for _ in $(seq 600); do
    info=$(scontrol show -o job "$jid" 2>/dev/null)
    state=$(field "$info" JobState)
    [ -f "$out" ] && lines=$(grep -c '^step' "$out")
    [ "$state" = RUNNING ] && [ "$lines" -ge 20 ] && break
    case $state in PENDING | CONFIGURING | RUNNING) ;; *) break ;; esac
    sleep 0.1
  done
  check "$name" "job $jid running" "RUNNING after $((SECONDS - t0)) s, $lines steps out" \
    '[ "$state" = RUNNING ] && [ "$lines" -ge 20 ]'
  if [ "$state" != RUNNING ]; then
    scontrol update JobId="$jid" Requeue=0 2>/dev/null
    scancel "$jid" 2>/dev/null
    wait "$ref_pid"
    return
  fi

  local st=0
  case $mode in
  usr1-batch)
    scancel --signal=USR1 --batch "$jid" 2>"$d/scancel.err" || st=$?
    check "$name" "scancel --signal=USR1 --batch" "status $st$(head -c 100 "$d/scancel.err")" '[ $st = 0 ]'
    ;;
  scancel)
    scancel "$jid" 2>"$d/scancel.err" || st=$?
    check "$name" "scancel (SIGTERM)" "status $st$(head -c 100 "$d/scancel.err")" '[ $st = 0 ]'
    ;;
  esac

  # Follow the job to its end (a state that does not change for 3 s: a
  # cancelled job may come back, requeued by the script): the states it
  # goes through, a copy of the output file when a run has ended (copied
  # again for 3 s, for what slurmstepd writes last), how long each phase
  # took.
  # (SIGNALING: slurmctld is sending the time limit's warning; the run goes on.)
  local seq=RUNNING last=RUNNING phase=RUNNING last_phase=RUNNING runs=1 restarts=0
  local deadline=$((SECONDS + 900)) times="" t_run=$SECONDS t_state=$SECONDS
  while [ $SECONDS -lt $deadline ]; do
    info=$(scontrol show -o job "$jid" 2>/dev/null)
    state=$(field "$info" JobState)
    restarts=$(field "$info" Restarts)
    case $state in RUNNING | SIGNALING) phase=RUNNING ;; *) phase=$state ;; esac
    if [ -n "$state" ] && [ "$state" != "$last" ]; then
      seq="$seq $state"
      t_state=$SECONDS
      last=$state
    fi
    if [ -n "$state" ] && [ "$phase" != "$last_phase" ]; then
      if [ "$phase" = RUNNING ]; then
        times="$times queued $((SECONDS - t_run)) s;"
        t_run=$SECONDS
        runs=$((runs + 1))
      elif [ "$last_phase" = RUNNING ]; then
        cp "$out" "$d/run$runs.out"
        times="$times run$runs $((SECONDS - t_run)) s;"
        t_run=$SECONDS
      fi
      last_phase=$phase
    elif [ "$phase" != RUNNING ] && [ $((SECONDS - t_run)) -lt 3 ]; then
      cp "$out" "$d/run$runs.out"
    fi
    case $state in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | BOOT_FAIL | DEADLINE | OUT_OF_MEMORY)
      [ $((SECONDS - t_state)) -lt 3 ] || break
      ;;
    esac
    sleep 0.1
  done
  times=${times%;}
  echo "$name: job $jid: states $seq;$times"
  wait "$ref_pid"
  local ref_rc=$?

  # 3. The checks.
  if [ $sig = USR1 ]; then
    local usr1
    usr1=$(usr1_times "$jid")
    record "$name" "USR1 to the batch shell" "" "${usr1%; }"
  fi
  local requeues=$((runs - 1)) want_rcs="" rcs r
  rcs=$(job_rcs "$jid")
  rcs=${rcs% }
  for ((r = 0; r < requeues; r++)); do want_rcs="${want_rcs}75 "; done
  want_rcs="${want_rcs}3"
  check "$name" "signalled runs exit 75" "batch script statuses (slurmd's job_rc): $rcs" \
    '[ "$rcs" = "$want_rcs" ] && [ $requeues -ge 1 ]'
  local notes=0 missing="" stepd=0
  for ((r = 1; r <= requeues; r++)); do
    if grep -q "^ckpt: note: SIG$sig: checkpoint $d/ck/ckpt-[0-9]*\.ckpt is durable; the program stops (exit status 75)$" "$d/run$r.out"; then
      notes=$((notes + 1))
    else
      missing="$missing run$r"
    fi
    stepd=$((stepd + $(grep -c '^slurmstepd.*CANCELLED AT .* DUE TO JOB REQUEUE \*\*\*$' "$d/run$r.out")))
  done
  check "$name" "checkpoint note (SIG$sig)" "in $notes of $requeues ended runs' output${missing:+; missing in$missing}" \
    '[ $requeues -ge 1 ] && [ $notes = $requeues ]'
  check "$name" "requeued" "Restarts=$restarts, states: $seq" \
    '[ "$restarts" = "$requeues" ] && [ $requeues -ge 1 ] && [ "$state" = FAILED ]'
  check "$name" "exit status" "JobState=$state ExitCode=$(field "$info" ExitCode) (the program's: 3:0)" \
    '[ "$(field "$info" ExitCode)" = "3:0" ]'
  # Resumed, not started again: each run's output kept (--open-mode=append),
  # more steps after every run, and each step printed once (a fresh start
  # would print step 1 again).
  local per_run="" prev=0 growing=1 k step1 ck
  for ((r = 1; r <= requeues; r++)); do
    k=$(grep -c '^step' "$d/run$r.out")
    per_run="$per_run$k, "
    [ "$k" -gt "$prev" ] && [ "$k" -lt "$n" ] || growing=0
    prev=$k
  done
  step1=$(grep -c '^step 1 ' "$out")
  ck=$(cd "$d/ck" 2>/dev/null && echo ./*.ckpt)
  check "$name" "resumed from checkpoint" \
    "steps out when each signalled run ended: ${per_run%, }; 'step 1' in the end: $step1 time(s); ck/: $ck" \
    '[ $requeues -ge 1 ] && [ $growing = 1 ] && [ "$step1" = 1 ]'
  record "$name" "slurmstepd's requeue line" "" "\"*** JOB $jid ... DUE TO JOB REQUEUE ***\" in $stepd of $requeues ended runs' output (only when the script still runs as the requeue's SIGTERM comes); cut off by the restart"
  # scancel: slurmstepd writes "*** JOB N ON NODE CANCELLED AT T ***" to
  # the job's stderr as it sends SIGTERM, before the checkpoint that
  # SIGTERM starts: the restart keeps it. Expected there, and only there.
  local stepd_re="^slurmstepd[^ ]*: error: \*\*\* JOB $jid ON .* CANCELLED AT [^ ]* \*\*\*\$"
  local extra=0 extra_ok=0 diffs
  extra=$(grep -c "$stepd_re" "$out")
  if [ "$mode" = scancel ]; then
    [ "$extra" != "$requeues" ] || extra_ok=1
  else
    [ "$extra" != 0 ] || extra_ok=1
  fi
  grep -v "$stepd_re" "$out" >"$d/output-without-slurmstepd.txt"
  diffs=$(diff "$d/reference.txt" "$d/output-without-slurmstepd.txt" 2>&1 | head -5 | tr '\n' ' ')
  check "$name" "output = uninterrupted run" \
    "$(wc -l <"$out") lines (./job $n alone: exit $ref_rc, $(wc -l <"$d/reference.txt") lines)$(
      [ "$extra" = 0 ] || echo "; + slurmstepd's line, kept: $(grep -m1 "$stepd_re" "$out")")${diffs:+; diff: $diffs}" \
    '[ $ref_rc = 3 ] && [ $extra_ok = 1 ] && cmp -s "$d/reference.txt" "$d/output-without-slurmstepd.txt"'
  record "$name" "time" "" "$((SECONDS - t0)) s:$times"
}

# ---- main ------------------------------------------------------------------------

install_packages
start_slurm
prepare
run_case usr1-batch "$steps" usr1-batch
run_case scancel "$steps" scancel
if [ "$timelimit_case" != 0 ]; then
  # --time=6: the warning (@300) comes 30 to 60 s after each start (34 to
  # 48 s seen here; sbatch(1) allows up to 60 s early, which could be at the
  # start: a USR1 before the script's trap would end the job, status sig10).
  # ~120 s of work at the usr1-batch case's pace (3 to 7 ms a step here):
  # three to five runs.
  us=$(cat "$work/usr1-batch/us-per-step" 2>/dev/null) || us=5000
  [ "${us:-0}" -gt 0 ] || us=5000
  run_case time-limit $((120000000 / us)) time-limit --time=6
fi

echo
printf '%-11s %-30s %-5s %s\n' case check result detail
for r in "${results[@]}"; do
  IFS='|' read -r c k o m <<<"$r"
  printf '%-11s %-30s %-5s %s\n' "$c" "$k" "$o" "$m"
done
echo "slurm-test: $((SECONDS - start_time)) s in all"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] || exit 1
