#!/usr/bin/env bash
# scripts/portability.sh - issue 13 item 2: checkpoints taken on this host,
# restarted somewhere else. Long, downloads, needs root; not part of CI.
#
# Usage: scripts/portability.sh [BUILD_DIR]      (default: this checkout's build/)
#
# For every program in test/portability/programs/:
#   1. a reference: the program built with the plain C compiler, run
#      uninterrupted on the host;
#   2. the program built with BUILD_DIR's ckpt-cc, run under ckpt-run on the
#      host, checkpointed mid-way and killed with SIGKILL;
#   3. that checkpoint restarted, each time from the same copy of the killed
#      run's files, in three places:
#        host          ckpt-run --restart on the host;
#        host-lowcpu   on the host, with glibc told to use fewer CPU features
#                      (GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,...), so that
#                      the C library picks other string/memory routines;
#        trixie-chroot ckpt-run --restart inside a Debian 13 (trixie) root,
#                      another glibc, with the work directory and the build's
#                      bin/ and lib/ at the same absolute paths;
#      each restarted run's output files must equal the reference's, byte
#      for byte.
# Prints a table (case, where restarted, result) and "N passed, N failed";
# exits 1 if any case failed, 2 if the harness itself could not run.
#
# The trixie root is made once with debootstrap and reused:
# $CKPT_PORT_CACHE/trixie (default /var/cache/ckpt-portability/trixie).
# Delete the directory to make it again.
# Environment: CKPT_PORT_CACHE, CKPT_PORT_MIRROR (default
# http://deb.debian.org/debian), CKPT_PORT_TUNABLES (the hwcaps mask),
# CKPT_PORT_KEEP=1 (keep the work directory even when every case passed; it
# is always kept when one failed), CC (the reference compiler, default cc).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
cache=${CKPT_PORT_CACHE:-/var/cache/ckpt-portability}
mirror=${CKPT_PORT_MIRROR:-http://deb.debian.org/debian}
suite=trixie
root=$cache/$suite
# glibc >= 2.33 spells the features without the old "_Usable" suffix (with it,
# 2.36 ignores every name but ERMS, silently). Masking AVX, AVX2 and AVX-512
# makes glibc choose its SSE2 memcpy/strlen/...; ERMS and FSRM its non
# "rep movsb" copies.
tunables=${CKPT_PORT_TUNABLES:-glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD,-AVX2,-AVX,-FMA,-ERMS,-FSRM}
restart_timeout=300 # seconds for one run or restart, far above the ~5 s needed
start_time=$SECONDS

die() {
  echo "portability: error: $*" >&2
  exit 2
}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and mount need it)"
[ -d "$build" ] || die "build directory $build does not exist"
build=$(cd "$build" && pwd -P)
ckpt_cc=$build/bin/ckpt-cc
ckpt_run=$build/bin/ckpt-run
ckpt_inspect=$build/bin/ckpt-inspect
for t in "$ckpt_cc" "$ckpt_run" "$ckpt_inspect"; do
  [ -x "$t" ] || die "$t is missing: is $build a ckpt build directory?"
done
[ -f "$build/include/ckpt.h" ] || die "$build/include/ckpt.h is missing"

# Descriptors inherited from whoever started us would pass on to the
# programs, be recorded in their checkpoints and named in "was not restored"
# warnings on the programs' stderr, which must equal the reference's. 255 is
# bash's own (close-on-exec) descriptor for this script.
for fd in "/proc/$$/fd"/*; do
  fd=${fd##*/}
  case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" ;; esac
done

mkdir -p "$cache"
# One run at a time uses the cache: the root is built and mounted into.
# Every program below is started with 9>&- so that it does not inherit the lock.
exec 9>"$cache/lock"
flock -w 3600 9 || die "$cache/lock is held by another run for an hour"

work=$(mktemp -d /tmp/ckpt-portability.XXXXXX) # 0700: ckpt wants private dirs
mounts=()  # mounted targets, unmounted in reverse order on exit
made=()    # directories created inside the root as mount points
pids=()    # background programs we started
keep_work=${CKPT_PORT_KEEP:-0}

cleanup() {
  local rc=$? i
  for p in "${pids[@]}"; do
    kill -9 "$p" 2>/dev/null || true
    { wait "$p"; } 2>/dev/null || true # (braces: no "Killed" report from bash)
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" ||
      echo "portability: warning: could not unmount ${mounts[i]}" >&2
  done
  # Only the (now empty) mount points this run made; rmdir refuses others.
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do
    rmdir "${made[i]}" 2>/dev/null || true
  done
  if [ "$keep_work" = 1 ] || [ "$rc" != 0 ]; then
    echo "portability: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Refuse to delete a directory with anything mounted below it (a failed
# debootstrap can leave its /proc mounted): rm would walk into the mount.
safe_remove() {
  local dir=$1 m
  for m in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r); do
    umount "$m" || umount -l "$m" || die "cannot unmount $m under $dir"
  done
  rm -rf --one-file-system "$dir"
}

# ---- the trixie root ---------------------------------------------------------

make_root() {
  if [ -f "$root/.ckpt-portability-complete" ]; then
    echo "trixie root: cached at $root (debootstrap took $(cat "$root/.ckpt-debootstrap-seconds" 2>/dev/null || echo '?') s when made)"
    return
  fi
  if ! command -v debootstrap >/dev/null; then
    echo "trixie root: installing debootstrap"
    apt-get install -y debootstrap >/dev/null ||
      { apt-get update >/dev/null && apt-get install -y debootstrap >/dev/null; } ||
      die "cannot install debootstrap with apt-get"
  fi
  local tmp=$root.partial t0=$SECONDS
  [ -e "$tmp" ] && safe_remove "$tmp"
  [ -e "$root" ] && safe_remove "$root" # incomplete: no marker
  echo "trixie root: debootstrap --variant=minbase $suite $tmp $mirror (log: $cache/debootstrap.log)"
  debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 9>&- ||
    die "debootstrap failed; see $cache/debootstrap.log"
  echo $((SECONDS - t0)) >"$tmp/.ckpt-debootstrap-seconds"
  touch "$tmp/.ckpt-portability-complete"
  mv "$tmp" "$root" # the cache is complete or absent, never half made
  echo "trixie root: made in $((SECONDS - t0)) s"
}

# mkdir -p inside the root, remembering what we created, to remove it again.
make_mount_point() {
  local path=$1 cur=""
  local IFS=/
  for part in ${path#"$root"/}; do
    cur=${cur:+$cur/}$part
    if [ ! -e "$root/$cur" ]; then
      mkdir "$root/$cur"
      made+=("$root/$cur")
    fi
  done
}

bind() { # bind SRC [ro]: SRC at the same absolute path inside the root
  local src_dir=$1 target=$root$1
  make_mount_point "$target"
  mounts+=("$target")
  mount --bind ${2:+-o "$2"} "$src_dir" "$target"
}

mount_root() {
  make_mount_point "$root/proc"
  mounts+=("$root/proc")
  mount -t proc proc "$root/proc"
  bind /dev
  bind "$build/bin" ro
  bind "$build/lib" ro
  bind "$work" # the programs, the checkpoints and the outputs
}

# Shared libraries that ldd inside the root cannot find, for BINARY.
missing_in_root() {
  chroot "$root" /usr/bin/ldd "$1" 9>&- 2>&1 | awk '/=> not found/ { print $1 }' | sort -u
}

# The Debian package that holds the host's copy of SONAME, as BINARY uses it.
host_package() {
  local soname=$1 bin=$2 path alt pkg
  path=$(ldd "$bin" | awk -v s="$soname" '$1 == s && $2 == "=>" { print $3 }')
  [ -n "$path" ] || return 1
  # usrmerge: dpkg knows the file by whichever path its package shipped.
  for alt in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    pkg=$(dpkg -S "$alt" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$pkg" ] && {
      echo "$pkg"
      return 0
    }
  done
  return 1
}

# Install in the root what BINARIES need at run time and the root lacks: the
# host's package of each missing library, or its "t64" successor (trixie
# renamed libraries with a time_t in their ABI, e.g. libdw1 -> libdw1t64).
install_runtime_deps() {
  local bin soname pkg missing=() updated=0
  for bin in "$@"; do
    for soname in $(missing_in_root "$bin"); do
      pkg=$(host_package "$soname" "$bin") ||
        die "trixie root lacks $soname (needed by $bin), and no host package holds it"
      missing+=("$pkg")
    done
  done
  [ ${#missing[@]} -gt 0 ] || {
    echo "trixie root: has every library ckpt-run, ckpt-inspect and the programs need"
    return
  }
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" # apt-get inside needs DNS
  for pkg in "${missing[@]}"; do
    if [ $updated = 0 ]; then
      chroot "$root" apt-get update >>"$cache/apt.log" 2>&1 9>&- || die "apt-get update in the root failed; see $cache/apt.log"
      updated=1
    fi
    local name got="" status
    for name in "$pkg" "${pkg}t64"; do
      status=0
      chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$name" \
        >"$work/apt.out" 2>&1 9>&- || status=$?
      cat "$work/apt.out" >>"$cache/apt.log"
      if [ $status = 0 ]; then
        got=$name
        break
      fi
    done
    [ -n "$got" ] || die "cannot install $pkg (or ${pkg}t64) in the root; see $cache/apt.log"
    echo "trixie root: for the host's $pkg, apt-get install $got set up:" \
      "$(awk '/^Setting up/ { printf "%s ", $3 }' "$work/apt.out")"
  done
  for bin in "$@"; do
    soname=$(missing_in_root "$bin" | head -1)
    [ -z "$soname" ] || die "trixie root still lacks $soname for $bin after installing ${missing[*]}"
  done
}

# ---- the reduced-CPU restart -------------------------------------------------

# The mask must change what glibc sees as usable, or the case tests nothing.
check_tunables() {
  local ld=/lib64/ld-linux-x86-64.so.2 plain masked
  plain=$("$ld" --list-diagnostics | grep -E '^x86\.cpu_features\.features.*\.active')
  masked=$(GLIBC_TUNABLES=$tunables "$ld" --list-diagnostics | grep -E '^x86\.cpu_features\.features.*\.active')
  if [ "$plain" = "$masked" ]; then
    echo "GLIBC_TUNABLES=$tunables masks no CPU feature glibc uses here"
    return 1
  fi
  echo "host-lowcpu: GLIBC_TUNABLES=$tunables ($(diff <(echo "$plain") <(echo "$masked") | grep -c '^>') feature words changed)"
}

# ---- running the programs ----------------------------------------------------

# The environment every run of a program starts with. A checkpoint records
# it and ckpt-run --restart hands the recorded one to the program again.
prog_env=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LC_ALL=C)

# wait_lines FILE N PID: until FILE has N lines (0); PID exits first (1).
wait_lines() {
  local file=$1 n=$2 pid=$3 t0=$SECONDS
  while [ "$(wc -l <"$file")" -lt "$n" ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ $((SECONDS - t0)) -lt $restart_timeout ] || return 1
    sleep 0.05
  done
}

has_checkpoint() { compgen -G "$1/ckpt-*.ckpt" >/dev/null; }

# Every output file of the reference must be in DIR, the same; DIR must have
# no other. Prints the first difference.
compare_dir() {
  local ref=$1 got=$2 f name
  for f in "$ref"/*; do
    name=${f##*/}
    [ -f "$got/$name" ] || {
      echo "$name is missing"
      return 1
    }
    cmp -s "$f" "$got/$name" || {
      echo "$name differs from the reference ($(cmp "$f" "$got/$name" 2>&1 | sed 's/.*differ: //'))"
      return 1
    }
  done
  for f in "$got"/*; do
    name=${f##*/}
    [ "$name" = ck ] || [ -e "$ref/$name" ] || {
      echo "$name is not in the reference"
      return 1
    }
  done
}

results=() # "case|where|result"
passed=0
failed=0

record() { # record CASE WHERE MESSAGE (empty message: passed)
  if [ -z "$3" ]; then
    results+=("$1|$2|PASS")
    passed=$((passed + 1))
    echo "PASS $1 $2"
  else
    results+=("$1|$2|FAIL: $3")
    failed=$((failed + 1))
    echo "FAIL $1 $2: $3"
  fi
}

# Why a restart failed: ckpt's first error line if it gave one, else STATUS.
restart_error() {
  local err=$1 status=$2 line
  line=$(grep -m1 -E '^ckpt[a-z-]*: .*error' "$err" || true)
  [ -n "$line" ] || line=$(grep -m1 . "$err" || true)
  echo "exit $status${line:+; $line}"
}

# setup_case NAME MODE CKPT_AT KILL_AT: reference, checkpointed run, kill.
# MODE: request (ckpt-run --checkpoint once stdout has CKPT_AT lines),
# interval (ckpt-run --interval 1), self (the program calls
# ckpt_checkpoint()). The kill comes once stdout has KILL_AT lines and a
# checkpoint exists. Sets why, and returns 1, if the case cannot start.
setup_case() {
  local name=$1 mode=$2 ckpt_at=$3 kill_at=$4 d=$work/$1 status
  local exe=$work/bin/$name
  mkdir -p "$d/ref" "$d/run"
  local cflags=(-std=c11 -O2 -Wall -Wextra -Werror -pthread)
  "${CC:-cc}" "${cflags[@]}" -I"$build/include" "$src/test/portability/programs/$name.c" \
    -o "$exe.ref" >"$d/build.log" 2>&1 9>&- || {
    why="the reference build failed: $(head -1 "$d/build.log")"
    return 1
  }
  "$ckpt_cc" "${cflags[@]}" "$src/test/portability/programs/$name.c" -o "$exe" >>"$d/build.log" 2>&1 9>&- || {
    why="ckpt-cc failed: $(head -1 "$d/build.log")"
    return 1
  }

  status=0
  (cd "$d/ref" && exec timeout -k 5 $restart_timeout env -i "${prog_env[@]}" "$exe.ref") \
    </dev/null >"$d/ref/stdout" 2>"$d/ref/stderr" 9>&- || status=$?
  [ $status = 0 ] || {
    why="the reference run exited with $status: $(head -1 "$d/ref/stderr")"
    return 1
  }

  local opts=(--dir ck)
  [ "$mode" != interval ] || opts+=(--interval 1)
  (cd "$d/run" && exec env -i "${prog_env[@]}" "$ckpt_run" "${opts[@]}" -- "$exe") \
    </dev/null >"$d/run/stdout" 2>"$d/run/stderr" 9>&- &
  local pid=$!
  pids+=("$pid")
  if [ "$mode" = request ]; then
    wait_lines "$d/run/stdout" "$ckpt_at" "$pid" || {
      why="the program ended or stalled before line $ckpt_at of its output"
      return 1
    }
    "$ckpt_run" --checkpoint "$pid" >"$d/checkpoint.out" 2>"$d/checkpoint.err" 9>&- || {
      why="ckpt-run --checkpoint $pid failed: $(head -1 "$d/checkpoint.err")"
      return 1
    }
  fi
  wait_lines "$d/run/stdout" "$kill_at" "$pid" || {
    why="the program ended or stalled before line $kill_at of its output (it must still run when killed)"
    return 1
  }
  has_checkpoint "$d/run/ck" || {
    why="no checkpoint in $d/run/ck by line $kill_at of the output"
    return 1
  }
  kill -9 "$pid" 2>/dev/null || true
  status=0
  # (braces: bash's own "Killed" report for the job goes to /dev/null too)
  { wait "$pid"; } 2>/dev/null || status=$?
  pids=()
  [ $status = 137 ] || {
    why="the program was not killed by SIGKILL (status $status): it ended first"
    return 1
  }
  # Every restart starts from this copy of what the killed run left.
  cp -a "$d/run" "$d/pristine"
}

# restart_case NAME WHERE: one restart of NAME's checkpoint; records the result.
restart_case() {
  local name=$1 where=$2 d=$work/$1 status=0 msg ck
  rm -rf "$d/run"
  cp -a "$d/pristine" "$d/run"
  local out=$d/restart.$where.out err=$d/restart.$where.err
  case $where in
  host)
    timeout -k 5 $restart_timeout "$ckpt_run" --restart "$d/run/ck" \
      </dev/null >"$out" 2>"$err" 9>&- || status=$?
    ;;
  host-lowcpu)
    # GLIBC_TUNABLES set for ckpt-run --restart replaces the recorded one
    # (tools/ckpt-run.c do_restart): the restarted program's libc picks its
    # routines for fewer CPU features than the checkpointed one had.
    GLIBC_TUNABLES="$tunables" timeout -k 5 $restart_timeout "$ckpt_run" \
      --restart "$d/run/ck" </dev/null >"$out" 2>"$err" 9>&- || status=$?
    ;;
  trixie-chroot)
    # The checkpoint must at least be readable by the tools there.
    ck=$(compgen -G "$d/run/ck/ckpt-*.ckpt" | sort | tail -1)
    chroot "$root" "$ckpt_inspect" --verify "$ck" >"$d/verify.$where.out" 2>"$err" 9>&- || status=$?
    if [ $status = 0 ]; then
      timeout -k 5 $restart_timeout chroot "$root" /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
        "$ckpt_run" --restart "$d/run/ck" </dev/null >"$out" 2>"$err" 9>&- || status=$?
    fi
    ;;
  esac
  if [ $status != 0 ]; then
    msg=$(restart_error "$err" $status)
  elif [ -s "$out" ]; then
    # The program writes to the files it had; anything here means it did
    # not resume (a fresh start writes to the restart's stdout).
    msg="the restart wrote to its own stdout: $(head -c 100 "$out" | head -1)"
  else
    msg=$(compare_dir "$d/ref" "$d/run") || true
  fi
  mv "$d/run" "$d/run.$where" # kept for a look when the work dir is
  record "$name" "$where" "$msg"
}

# ---- main ----------------------------------------------------------------------

echo "portability: build $build, work directory $work"
make_root
mount_root

# name mode ckpt_at kill_at (lines of stdout; each program prints a line per
# step, ~5 s in all, and its total is in the comment)
cases=(
  "threads interval 0 30"  # 50 lines; checkpoints every second
  "stdio request 18 34"    # 62 lines
  "files request 18 34"    # 66 lines
  "exclude self 0 34"      # 62 lines; ckpt_checkpoint() at step 24 (line 25)
  "plugin request 18 34"   # 62 lines; libm opened with dlopen
)
wheres=(host host-lowcpu trixie-chroot)
lowcpu_problem=$(check_tunables) && { echo "$lowcpu_problem"; lowcpu_problem=""; }

mkdir -p "$work/bin"
names=()
for c in "${cases[@]}"; do
  read -r name mode ckpt_at kill_at <<<"$c"
  names+=("$name")
  echo "$name: reference, then ckpt-run ($mode), checkpoint, kill -9"
  mkdir -p "$work/$name"
  echo "$mode" >"$work/$name/mode"
  why=""
  if ! setup_case "$name" "$mode" "$ckpt_at" "$kill_at"; then
    for where in "${wheres[@]}"; do
      record "$name" "$where" "$why"
    done
    echo "skip" >"$work/$name/mode"
  fi
done

bins=("$ckpt_run" "$ckpt_inspect")
for n in "${names[@]}"; do
  [ ! -x "$work/bin/$n" ] || bins+=("$work/bin/$n")
done
install_runtime_deps "${bins[@]}"

for name in "${names[@]}"; do
  [ "$(cat "$work/$name/mode")" != skip ] || continue
  for where in "${wheres[@]}"; do
    if [ "$where" = host-lowcpu ] && [ -n "$lowcpu_problem" ]; then
      record "$name" "$where" "$lowcpu_problem"
      continue
    fi
    restart_case "$name" "$where"
  done
done

echo
printf '%-10s %-15s %s\n' case restarted result
for r in "${results[@]}"; do
  IFS='|' read -r c w m <<<"$r"
  printf '%-10s %-15s %s\n' "$c" "$w" "$m"
done
echo "portability: $((SECONDS - start_time)) s in all"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
