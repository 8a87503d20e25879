#!/usr/bin/env bash
# Checks the hardening of systemd/stewardd.service: the overall exposure reported by
# `systemd-analyze security --offline=true` must be 1.5 or lower.
# Usage: Tests/system/unit-exposure.sh [MAX]   (MAX defaults to 1.5; needs systemd >= 250)
set -euo pipefail

PROG=unit-exposure
MAX=${1:-1.5}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UNIT=$REPO/systemd/stewardd.service

[[ -f $UNIT ]] || { echo "$PROG: $UNIT not found" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "$PROG: systemd-analyze not found" >&2; exit 1; }

rc=0
out=$(systemd-analyze security --offline=true --no-pager "$UNIT" 2>&1) || rc=$?
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\(\.[0-9]*\)\{0,1\}\).*/\1/p' <<<"$out" | tail -n 1)
if [[ -z $score ]]; then
    printf '%s\n' "$out" >&2
    echo "$PROG: could not read the exposure score (systemd-analyze exit status $rc)" >&2
    exit 1
fi
if awk -v s="$score" -v m="$MAX" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
    echo "$PROG: stewardd.service exposure $score (max $MAX): ok"
else
    grep '✗' <<<"$out" >&2 || true
    echo "$PROG: stewardd.service exposure $score is above $MAX" >&2
    exit 1
fi
