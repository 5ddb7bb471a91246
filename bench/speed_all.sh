#!/usr/bin/env bash
# Every speed figure of the research base in one run, on one freshly generated 10,000-interview base:
#   1. bench/build_bench.py: generate, full build, incremental build after one edit, no-op build, then the
#      in-process search bench (median / p95 over 200 mixed Russian/English queries with filters);
#   2. bench/load_bench.py on the same built base: `custdev serve` with 20 clients and no pause between requests
#      (target >= 60 requests/s, p95 <= 300 ms), then with a pause, then while `custdev build` rewrites 200 files.
# Wall-clock and CPU figures, with the load average before, between and after, and bench/machine_speed.py's fixed
# workload before and after (the same code runs slower when the machine does: compare runs by it). 2½ to 8 minutes on
# 2 idle cores, by the hour.
#
#   bench/speed_all.sh [WORKDIR]     (WORKDIR is kept when given; a temporary one is removed at the end)
#   SPEED_SIZE=300 SPEED_REQUESTS=100 bench/speed_all.sh    (a quick smoke run of the same steps)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
if [ $# -ge 1 ]; then WORK=$1; KEEP=1; else WORK=$(mktemp -d /tmp/custdev-speed-XXXXXX); KEEP=0; fi
mkdir -p "$WORK"
echo "== $(date -u '+%F %T UTC') $(uptime)"
SIZE=${SPEED_SIZE:-10000}
"$PY" bench/machine_speed.py
"$PY" bench/build_bench.py --sizes "$SIZE" --queries 200 --workdir "$WORK" --keep
echo "== $(date -u '+%F %T UTC') $(uptime)"
"$PY" bench/load_bench.py --base "$WORK/base-$SIZE" --clients 20 --requests "${SPEED_REQUESTS:-1000}"
"$PY" bench/machine_speed.py
echo "== $(date -u '+%F %T UTC') $(uptime)"
if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
