#!/usr/bin/env bash
# Proves the hardened stewardd units work under a real systemd: boots a Debian 12 container
# with systemd-nspawn, installs a staged Steward tree into it, and starts, reloads, queries
# and stops stewardd there.
#
# Usage: Tests/system/nspawn-systemd.sh STAGED_ROOT   run the test (STAGED_ROOT: a DESTDIR tree)
#        Tests/system/nspawn-systemd.sh --prepare     only build the cached Debian root
#
# Needs root, debootstrap and systemd-container. PID 1 on the host need not be systemd.
# Environment:
#   STEWARD_NSPAWN_CACHE    cached bookworm root (default /var/tmp/steward-nspawn/bookworm)
#   STEWARD_NSPAWN_MIRROR   Debian mirror (default: the host's apt source, else deb.debian.org)
#   STEWARD_SWIFT_RUNTIME   Swift runtime dir bound read-only at the same path inside
#                           (default /opt/swift/usr/lib/swift/linux)
#   STEWARD_NSPAWN_TIMEOUT  seconds to wait for the container to boot, and for each step
#                           inside it (default 60)
#   STEWARD_NSPAWN_KEEP=1   keep the temporary root for inspection
#   SYSTEMD_NSPAWN_UNIFIED_HIERARCHY  cgroup v2 inside the container, as on a real Debian 12
#                           host (default 1; set 0 for the host's own layout)
set -euo pipefail

PROG=nspawn-systemd
CACHE=${STEWARD_NSPAWN_CACHE:-/var/tmp/steward-nspawn/bookworm}
SUITE=bookworm
SWIFT_RUNTIME=${STEWARD_SWIFT_RUNTIME:-/opt/swift/usr/lib/swift/linux}
BOOT_TIMEOUT=${STEWARD_NSPAWN_TIMEOUT:-60}
# What the container needs beyond minbase: systemd as init, dbus for systemctl/logind, and the
# daemon's libraries (the Swift runtime itself comes from the host by bind mount).
PACKAGES=systemd,dbus,libssl3,libsqlite3-0,zlib1g,libstdc++6,libgcc-s1,ca-certificates
# Bump when the recipe below changes, so an older cache is rebuilt.
RECIPE="v1 $SUITE $PACKAGES"

log() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

host_mirror() {
    local m
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v '^[[:space:]]*#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ') || true
    echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=${STEWARD_NSPAWN_MIRROR:-$(host_mirror)}

usage() { sed -n '2,/^set /p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 2; }

[[ $# -eq 1 ]] || usage
trap 'exit 130' INT TERM   # so the EXIT traps below always clean up
[[ $(id -u) -eq 0 ]] || die "must run as root"
for tool in debootstrap systemd-nspawn nsenter flock; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install debootstrap systemd-container util-linux)"
done

# ---------------------------------------------------------------------------------------------
# 1. The cached Debian root: built in a temporary directory beside the cache and renamed into
#    place only when complete, so an interrupted debootstrap is never reused.
# ---------------------------------------------------------------------------------------------
# Removes a directory tree, unmounting first whatever is mounted below it (debootstrap mounts
# /proc and /sys in its target; an interrupted one leaves them).
remove_tree() {
    local dir=$1 mnt
    [[ -e $dir ]] || return 0
    dir=$(realpath "$dir")
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r \
        | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    rm -rf --one-file-system "$dir"
}

cache_is_valid() { [[ -f $CACHE/.steward-nspawn-recipe && $(cat "$CACHE/.steward-nspawn-recipe") == "$RECIPE" ]]; }

build_cache() {
    local parent tmp t0 old
    parent=$(dirname "$CACHE")
    mkdir -p "$parent"
    exec 8>"$parent/.lock"
    flock 8
    if cache_is_valid; then exec 8>&-; return; fi
    for old in "$parent"/.tmp-*; do remove_tree "$old"; done   # leftovers of interrupted builds
    tmp=$(mktemp -d "$parent/.tmp-XXXXXX")
    chmod 0755 "$tmp"   # becomes the container's /
    # shellcheck disable=SC2064  # expand $tmp now
    trap "[[ -z \${DEBOOTSTRAP_PID:-} ]] || kill -TERM -- -\$DEBOOTSTRAP_PID 2>/dev/null; sleep 1; remove_tree '$tmp'; rm -f '$tmp.log'" EXIT
    t0=$SECONDS
    log "building $SUITE root with debootstrap from $MIRROR (once; cached at $CACHE)"
    # In its own process group, so an interrupted build can stop all of it.
    setsid debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$MIRROR" >"$tmp.log" 2>&1 &
    DEBOOTSTRAP_PID=$!
    if ! wait "$DEBOOTSTRAP_PID"; then
        DEBOOTSTRAP_PID=
        tail -n 30 "$tmp.log" >&2
        die "debootstrap failed"
    fi
    DEBOOTSTRAP_PID=
    rm -f "$tmp.log"
    # Container identity and a quiet, quick boot.
    echo steward-test >"$tmp/etc/hostname"
    [[ -s $tmp/etc/machine-id ]] || systemd-machine-id-setup --root="$tmp" >/dev/null
    ln -sf /usr/lib/systemd/system/multi-user.target "$tmp/etc/systemd/system/default.target"
    # Units with nothing to do in a throw-away container (they only cost boot time).
    for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
                fstrim.timer systemd-timesyncd.service; do
        ln -sf /dev/null "$tmp/etc/systemd/system/$unit"
    done
    # Keep it small.
    chroot "$tmp" apt-get clean
    rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* \
           "$tmp"/usr/share/locale/* "$tmp"/usr/share/info/* "$tmp"/var/log/*.log
    echo "$RECIPE" >"$tmp/.steward-nspawn-recipe"
    if [[ -e $CACHE ]]; then
        old=$(mktemp -d "$parent/.tmp-old-XXXXXX")
        mv -T "$CACHE" "$old/root"
        remove_tree "$old"
    fi
    mv -T "$tmp" "$CACHE"
    trap - EXIT
    exec 8>&-
    log "cached root ready ($(du -sh "$CACHE" | cut -f1), $((SECONDS - t0))s)"
}

if [[ $1 == --prepare ]]; then
    cache_is_valid || build_cache
    log "cache ok: $CACHE"
    exit 0
fi
[[ $1 != -* ]] || usage

STAGED=$(realpath -e "$1") || die "staged root $1 does not exist"
for f in usr/bin/stewardd usr/bin/stewardctl usr/lib/systemd/system/stewardd.service \
         usr/lib/systemd/system/stewardd.socket usr/lib/sysusers.d/steward.conf \
         usr/lib/tmpfiles.d/steward.conf etc/steward/steward.conf; do
    [[ -e $STAGED/$f ]] || die "staged root lacks $f"
done
[[ -d $SWIFT_RUNTIME ]] || die "Swift runtime not found at $SWIFT_RUNTIME (set STEWARD_SWIFT_RUNTIME)"

T_START=$SECONDS
cache_is_valid || build_cache
# Runs share the cache; a rebuild (build_cache, exclusive) waits for them.
exec 9>"$(dirname "$CACHE")/.lock"
flock -s 9
cache_is_valid || die "cache $CACHE changed under us"

# ---------------------------------------------------------------------------------------------
# 2. A fresh root for this run: an overlay on the cache (a full copy where overlayfs fails).
# ---------------------------------------------------------------------------------------------
WORK=$(mktemp -d /var/tmp/steward-nspawn-run.XXXXXX)
ROOT=$WORK/root
CGROUP_NAME=steward-nspawn-$$
CGROUP_DIRS=()
NSPAWN_PID=
LEADER=
RESULT=FAIL

cleanup() {
    local rc=$? pid d
    set +e
    trap - EXIT
    trap "" INT TERM   # finish cleaning up even if interrupted again
    if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        # SIGTERM makes nspawn ask the container's systemd to power off cleanly.
        kill -TERM "$NSPAWN_PID" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    # Anything left in the container's cgroups goes too; then the cgroups are removed.
    for d in "${CGROUP_DIRS[@]}"; do
        [[ -d $d ]] || continue
        if [[ -e $d/cgroup.kill ]]; then echo 1 >"$d/cgroup.kill" 2>/dev/null; fi
        find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
    done
    for d in "${CGROUP_DIRS[@]}"; do
        [[ -d $d ]] || continue
        for _ in $(seq 1 50); do
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
            [[ -d $d ]] || break
            sleep 0.1
        done
        [[ -d $d ]] && echo "$PROG: warning: could not remove cgroup $d" >&2
    done
    if [[ ${STEWARD_NSPAWN_KEEP:-0} == 1 ]]; then
        echo "$PROG: keeping $WORK (STEWARD_NSPAWN_KEEP=1); remove with: umount -R $ROOT; rm -rf $WORK" >&2
    else
        remove_tree "$WORK"
    fi
    echo "$PROG: finished in $((SECONDS - T_START))s"
    if [[ $RESULT == PASS && $rc -eq 0 ]]; then
        echo "$PROG: PASS"
        exit 0
    fi
    echo "$PROG: FAIL"
    exit 1
}
trap cleanup EXIT

mkdir -p "$ROOT" "$WORK/upper" "$WORK/ovlwork"
if mount -t overlay overlay -o "lowerdir=$CACHE,upperdir=$WORK/upper,workdir=$WORK/ovlwork" "$ROOT" 2>/dev/null; then
    log "fresh root: overlay on the cache at $ROOT"
else
    log "fresh root: overlayfs unavailable, copying the cache to $ROOT"
    cp -a --reflink=auto "$CACHE/." "$ROOT/"
fi
cp -a "$STAGED/." "$ROOT/"
chmod 0755 "$ROOT"   # cp -a gave it the mode of the cache or the staged tree's top
# The daemon's socket comes up at boot, as it would on a real system.
if ! systemctl --root="$ROOT" enable stewardd.socket >/dev/null 2>&1; then
    mkdir -p "$ROOT/etc/systemd/system/sockets.target.wants"
    ln -sf /usr/lib/systemd/system/stewardd.socket "$ROOT/etc/systemd/system/sockets.target.wants/"
fi
mkdir -p "$ROOT$SWIFT_RUNTIME"

# ---------------------------------------------------------------------------------------------
# 3. Boot it. nspawn --keep-unit --register=no runs without a host systemd but needs a cgroup
#    of its own: create one in every hierarchy that tracks processes and move the subshell that
#    becomes nspawn into it.
# ---------------------------------------------------------------------------------------------
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
    CGROUP_DIRS=("/sys/fs/cgroup/$CGROUP_NAME")                       # unified
else
    [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]] \
        && CGROUP_DIRS+=("/sys/fs/cgroup/unified/$CGROUP_NAME")       # hybrid
    [[ -d /sys/fs/cgroup/systemd ]] && CGROUP_DIRS+=("/sys/fs/cgroup/systemd/$CGROUP_NAME")
    [[ ${#CGROUP_DIRS[@]} -gt 0 ]] || die "no cgroup hierarchy for nspawn (neither cgroup2 nor name=systemd)"
fi
for d in "${CGROUP_DIRS[@]}"; do mkdir "$d"; done

# A real Debian 12 host runs systemd on cgroup v2 only; do the same inside (nspawn runs a
# cgroup2 container on a hybrid host too). A no-op where the host is cgroup v2 already.
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=${SYSTEMD_NSPAWN_UNIFIED_HIERARCHY:-1}
BOOT_LOG=$WORK/console.log
log "booting the container (console log: $BOOT_LOG, kept with STEWARD_NSPAWN_KEEP=1)"
(
    for d in "${CGROUP_DIRS[@]}"; do echo "$BASHPID" >"$d/cgroup.procs"; done
    exec systemd-nspawn --quiet --boot --register=no --keep-unit --private-network \
        --machine="$CGROUP_NAME" -D "$ROOT" \
        --bind-ro="$SWIFT_RUNTIME" \
        --console=read-only \
        --setenv=SYSTEMD_COLORS=0
) </dev/null >"$BOOT_LOG" 2>&1 &
NSPAWN_PID=$!

# The container's PID 1 is the child of nspawn that lives in another PID namespace.
own_pidns=$(readlink /proc/self/ns/pid)
deadline=$((SECONDS + BOOT_TIMEOUT))
while [[ -z $LEADER ]]; do
    kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$BOOT_LOG" >&2; die "systemd-nspawn exited early"; }
    kids=()
    read -ra kids <"/proc/$NSPAWN_PID/task/$NSPAWN_PID/children" 2>/dev/null || true
    for pid in "${kids[@]}"; do
        if [[ $(readlink "/proc/$pid/ns/pid" 2>/dev/null) != "$own_pidns" ]]; then LEADER=$pid; break; fi
    done
    [[ $SECONDS -lt $deadline ]] || { cat "$BOOT_LOG" >&2; die "no container init after ${BOOT_TIMEOUT}s"; }
    [[ -n $LEADER ]] || sleep 0.1
done
log "container init is host pid $LEADER"

# Runs a command inside the container (all its namespaces, its root), with a clean environment
# and a time limit, so a hung start or reload fails the test instead of stalling it.
INSIDE=(nsenter --target "$LEADER" --mount --uts --ipc --net --pid --root --wd --
        /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_COLORS=0)
inside() { "${INSIDE[@]}" timeout -k 5 "$BOOT_TIMEOUT" "$@"; }   # timeout runs inside, next to the command

# Wait for the manager to answer on its private socket, then for start-up to finish.
until state=$(inside systemctl is-system-running 2>/dev/null)
      [[ $state =~ ^(initializing|starting|running|degraded|maintenance|stopping)$ ]]; do
    kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$BOOT_LOG" >&2; die "container stopped while booting"; }
    [[ $SECONDS -lt $deadline ]] || { cat "$BOOT_LOG" >&2; die "systemd did not answer within ${BOOT_TIMEOUT}s"; }
    sleep 0.1
done
left=$((deadline - SECONDS)); ((left > 0)) || left=1
state=$("${INSIDE[@]}" timeout "$left" systemctl is-system-running --wait 2>/dev/null) || true
log "systemd is up: $state ($((SECONDS - T_START))s)"

# ---------------------------------------------------------------------------------------------
# 4. The checks.
# ---------------------------------------------------------------------------------------------
diagnose() {
    echo "---- systemctl --failed ----" >&2
    inside systemctl --failed --no-pager >&2 || true
    echo "---- journalctl -u stewardd (last 50) ----" >&2
    inside journalctl -u stewardd -u stewardd.socket --no-pager | tail -n 50 >&2 || true
    echo "---- systemctl status stewardd ----" >&2
    inside systemctl status stewardd --no-pager >&2 || true
}
fail() { echo "$PROG: FAILED: $*" >&2; diagnose; exit 1; }
step() { log "$*"; }

if [[ $state != running ]]; then
    fail "system state after boot is '${state:-unknown}', not running"
fi

step "sysusers and tmpfiles"
inside getent passwd steward >/dev/null || { log "  steward user missing after boot; running systemd-sysusers"; inside systemd-sysusers; }
for g in steward steward-admin steward-data steward-ops steward-audit; do
    inside getent group "$g" >/dev/null || fail "group $g not created by sysusers"
done
inside systemd-tmpfiles --create >/dev/null || fail "systemd-tmpfiles --create failed"
inside test -d /var/lib/steward/inbox/processed -a -d /var/lib/steward/inbox/rejected || fail "inbox directories missing"

step "systemctl daemon-reload"
inside systemctl daemon-reload || fail "daemon-reload"

step "systemctl start stewardd.socket stewardd.service"
inside systemctl start stewardd.socket stewardd.service || fail "start"
inside systemctl is-active --quiet stewardd.service || fail "stewardd is not active after start"

step "sandbox in effect"
mode=$(inside stat -c %a /run/steward/control.sock) || fail "no control socket"
[[ $mode == 666 ]] || fail "control socket mode $mode, expected 666"
main_pid=$(inside systemctl show -p MainPID --value stewardd) || fail "systemctl show MainPID"
[[ $main_pid =~ ^[1-9][0-9]*$ ]] || fail "no main pid"
pstatus=$(inside cat "/proc/$main_pid/status") || fail "cannot read status of pid $main_pid"
expect_status() { grep -qE "^$1:[[:space:]]+$2\$" <<<"$pstatus" || fail "stewardd runs with $(grep "^$1:" <<<"$pstatus"), expected $2"; }
steward_uid=$(inside id -u steward) || fail "no steward user"
expect_status Uid "$steward_uid	$steward_uid	$steward_uid	$steward_uid"
expect_status CapEff 0000000000000000
expect_status CapBnd 0000000000000000
expect_status NoNewPrivs 1
expect_status Seccomp 2

step "stewardctl status"
inside stewardctl status || fail "stewardctl status"

step "callers are told apart by their credentials (SO_PEERCRED, SO_PEERGROUPS)"
inside useradd --system --no-create-home --groups steward-ops steward-test-ops || fail "useradd"
inside useradd --system --no-create-home steward-test-nobody || fail "useradd"
as_user() { local u=$1; shift; inside setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
as_user steward-test-ops stewardctl reload >/dev/null || fail "a member of steward-ops could not reload"
rc=0; as_user steward-test-nobody stewardctl reload >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a user without a Steward role could reload"
log "  steward-ops member: reload ok; user without a role: refused (exit $rc)"

step "systemctl reload stewardd"
inside systemctl reload stewardd || fail "reload"
inside systemctl is-active --quiet stewardd.service || fail "stewardd is not active after reload"

step "stewardctl status (after reload)"
inside stewardctl status || fail "stewardctl status after reload"

step "a refused reload fails and keeps the daemon running"
inside cp -p /etc/steward/steward.conf /etc/steward/steward.conf.good || fail "cannot save steward.conf"
inside sh -c 'printf "\n[Steward]\nINVALID-key-for-the-test=1\n" >>/etc/steward/steward.conf' || fail "cannot edit steward.conf"
if inside systemctl reload stewardd 2>/dev/null; then fail "reload of an invalid configuration succeeded"; fi
inside systemctl is-active --quiet stewardd.service || fail "stewardd stopped after a refused reload"
inside mv /etc/steward/steward.conf.good /etc/steward/steward.conf || fail "cannot restore steward.conf"
inside systemctl reload stewardd || fail "reload after restoring the configuration"
inside stewardctl status >/dev/null || fail "stewardctl status after the refused reload"

step "systemctl stop stewardd"
inside systemctl stop stewardd || fail "stop"

step "no failed units, clean result"
inside systemctl is-active --quiet stewardd.service && fail "stewardd still active after stop"
failed=$(inside systemctl --failed --no-legend --plain --no-pager) || fail "systemctl --failed"
[[ -z $failed ]] || fail "failed units: $failed"
result=$(inside systemctl show -p Result --value stewardd) || fail "systemctl show"
[[ $result == success ]] || fail "stewardd Result=$result"

RESULT=PASS
