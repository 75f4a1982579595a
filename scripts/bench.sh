#!/usr/bin/env bash
# The ptk benchmark: speed and peak memory of issue, ingest, report and review on
# N synthetic returns, against the floor (what calamine / rust_xlsxwriter alone cost on
# the same files with the same threads), as medians of RUNS runs.
#
#   scripts/bench.sh                 # N = 1000 and 10000, 3 runs each
#   N_LIST="1000" RUNS=5 scripts/bench.sh
#
# Prints a Markdown table (the one in docs/performance.md). Needs GNU time
# (/usr/bin/time; installed with apt-get if missing). Data goes in bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

N_LIST=${N_LIST:-"1000 10000"}
RUNS=${RUNS:-3}
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  (apt-get update -qq && apt-get install -y -qq time) >/dev/null
fi

cargo build --release --quiet --bins --examples
PTK=target/release/ptk
FLOOR=target/release/examples/floor
TEMPLATES=templates

# measure SETUP CMD...: runs SETUP then CMD, RUNS times; prints "median_seconds median_peak_kb".
measure() {
  local setup=$1; shift
  local times=() rss=()
  for _ in $(seq "$RUNS"); do
    eval "$setup"
    # GNU time appends its line to the command's stderr; ptk exits 1 when returns are
    # rejected (the data has some on purpose), which is not a failure here.
    /usr/bin/time -f "__T %e %M" "$@" >/dev/null 2>/tmp/ptk-bench-err || true
    local out
    out=$(grep '^__T' /tmp/ptk-bench-err | tail -1)
    times+=("$(echo "$out" | awk '{print $2}')")
    rss+=("$(echo "$out" | awk '{print $3}')")
  done
  local mt mr
  mt=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mr=$(printf '%s\n' "${rss[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$mt $mr"
}

row() { # N step seconds rss_kb floor_seconds files
  awk -v n="$1" -v step="$2" -v s="$3" -v kb="$4" -v f="$5" -v files="$6" 'BEGIN {
    ratio = (f > 0) ? sprintf("%.2f", s / f) : "";
    printf "| %s | %s | %.2f | %.0f | %.0f | %s |\n", n, step, s, (s > 0 ? files / s : 0), kb / 1024, ratio }'
}

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); rayon threads: ${RAYON_NUM_THREADS:-all cores}; runs per step: $RUNS (medians)"
echo
echo "| N | step | seconds | files/s | peak RSS MB | ratio |"
echo "|---|---|---|---|---|---|"
for N in $N_LIST; do
  D=bench/n$N
  if [ ! -f "$D/register.csv" ]; then
    echo "generating $N returns in $D" >&2
    target/release/examples/bench_data --n "$N" --out "$D" >/dev/null
  fi
  W=bench/work-$N
  REG=$D/register.csv
  COMMON="--year 2026 --register $REG --templates $TEMPLATES"

  read -r floor_s floor_kb < <(measure ":" $FLOOR read "$D/returns")
  row "$N" "floor: calamine reads identity + answers" "$floor_s" "$floor_kb" 0 "$N"

  read -r s kb < <(measure "rm -rf $W" $PTK ingest "$D/returns" $COMMON --store "$W/s.db" --quiet)
  row "$N" "ptk ingest (fresh store) / floor" "$s" "$kb" "$floor_s" "$N"
  ingest_s=$s

  read -r s kb < <(measure ":" $PTK ingest "$D/returns" $COMMON --store "$W/s.db" --quiet)
  row "$N" "ptk ingest again: unchanged skipped, rejected re-read / first ingest" "$s" "$kb" "$ingest_s" "$N"

  read -r report_s kb < <(measure ":" $PTK report $COMMON --store "$W/s.db" --out "$W/review.xlsx")
  row "$N" "ptk report" "$report_s" "$kb" 0 "$N"

  read -r s kb < <(measure "rm -rf $W-review" $PTK review "$D/returns" $COMMON --history "$D/history.csv" --store "$W-review/s.db" --quiet)
  row "$N" "ptk review (history + ingest + report) / (2 x floor + report)" "$s" "$kb" "$(awk -v a="$floor_s" -v b="$report_s" 'BEGIN {print 2 * a + b}')" "$N"

  read -r fw_s fw_kb < <(measure "rm -rf $W-floor-out" $FLOOR write "$REG" "$W-floor-out")
  row "$N" "floor: rust_xlsxwriter writes the same forms" "$fw_s" "$fw_kb" 0 "$N"

  read -r s kb < <(measure "rm -rf $W-outbox" $PTK issue --template self-assessment $COMMON --out "$W-outbox" --issued-on 2026-11-23 --return-address p@example.gov.uk --store "$W-none.db")
  row "$N" "ptk issue / floor write" "$s" "$kb" "$fw_s" "$N"
done
