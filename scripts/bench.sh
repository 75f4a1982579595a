#!/usr/bin/env bash
# The ptk benchmark: speed and peak memory of issue, ingest, report and review on
# N synthetic returns, against the floor (what calamine / rust_xlsxwriter alone cost on
# the same files with the same threads), as medians of RUNS runs.
#
#   scripts/bench.sh                 # N = 1000 and 10000, 3 runs each
#   N_LIST="1000" RUNS=5 scripts/bench.sh
#   MODE=ingest N_LIST=2000 RUNS=5 RAYON_NUM_THREADS=2 scripts/bench.sh
#                                    # floor and ingest only, run alternately (fairer on a
#                                    # shared machine), each pair printed, then medians
#
# Seconds are wall clock; "CPU s" is user + system time of the process and the reader
# processes it waited for (ingest reads in worker processes); ratios are of CPU time.
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

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# once CMD...: runs CMD once; prints "seconds peak_kb cpu_seconds".
once() {
  # GNU time appends its line to the command's stderr; ptk exits 1 when returns are
  # rejected (the data has some on purpose), which is not a failure here.
  /usr/bin/time -f "__T %e %M %U %S" "$@" >/dev/null 2>/tmp/ptk-bench-err || true
  grep '^__T' /tmp/ptk-bench-err | tail -1 | awk '{printf "%s %s %.2f\n", $2, $3, $4 + $5}'
}

# measure SETUP CMD...: runs SETUP then CMD, RUNS times; prints medians
# "seconds peak_kb cpu_seconds".
measure() {
  local setup=$1; shift
  local times=() rss=() cpu=()
  for _ in $(seq "$RUNS"); do
    eval "$setup"
    read -r t m c < <(once "$@")
    times+=("$t"); rss+=("$m"); cpu+=("$c")
  done
  echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${rss[@]}" | median) $(printf '%s\n' "${cpu[@]}" | median)"
}

row() { # N step seconds rss_kb cpu_seconds floor_cpu_seconds files
  awk -v n="$1" -v step="$2" -v s="$3" -v kb="$4" -v c="$5" -v f="$6" -v files="$7" 'BEGIN {
    ratio = (f > 0) ? sprintf("%.2f", c / f) : "";
    printf "| %s | %s | %.2f | %.2f | %.0f | %.0f | %s |\n", n, step, s, c, (s > 0 ? files / s : 0), kb / 1024, ratio }'
}

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); rayon threads: ${RAYON_NUM_THREADS:-all cores}; runs per step: $RUNS (medians)"
echo
gen() {
  if [ ! -f "bench/n$1/register.csv" ]; then
    echo "generating $1 returns in bench/n$1" >&2
    target/release/examples/bench_data --n "$1" --out "bench/n$1" >/dev/null
  fi
}

# The benchmark's own register has no respondents beyond the leads; this header-only file
# keeps ptk.toml's sample respondents file (for the sample register) out of the runs.
NO_RESPONDENTS=bench/respondents-none.csv
mkdir -p bench && printf 'partnership_id,respondent_id,name,email\n' > "$NO_RESPONDENTS"

if [ "${MODE:-all}" = ingest ]; then
  for N in $N_LIST; do
    gen "$N"
    D=bench/n$N W=bench/work-$N
    fc=() ic=() iw=() ik=()
    echo "| N | pair | floor CPU s | ingest CPU s | ratio | ingest wall s | ingest peak RSS MB |"
    echo "|---|---|---|---|---|---|---|"
    for i in $(seq "$RUNS"); do
      read -r _ _ f < <(once $FLOOR read "$D/returns")
      rm -rf "$W"
      read -r s kb c < <(once $PTK ingest "$D/returns" --year 2026 --register "$D/register.csv" --respondents "$NO_RESPONDENTS" --templates $TEMPLATES --store "$W/s.db" --quiet)
      if [ ! -s "$W/s.db" ]; then
        echo "ptk ingest did not run (no store written): run the command above by hand to see why" >&2
        exit 1
      fi
      fc+=("$f"); ic+=("$c"); iw+=("$s"); ik+=("$kb")
      awk -v n="$N" -v i="$i" -v f="$f" -v c="$c" -v s="$s" -v kb="$kb" 'BEGIN {
        printf "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.0f |\n", n, i, f, c, c / f, s, kb / 1024 }'
    done
    awk -v n="$N" -v f="$(printf '%s\n' "${fc[@]}" | median)" -v c="$(printf '%s\n' "${ic[@]}" | median)" \
        -v s="$(printf '%s\n' "${iw[@]}" | median)" -v kb="$(printf '%s\n' "${ik[@]}" | median)" 'BEGIN {
      printf "| %s | **median** | %.2f | %.2f | **%.2f** | %.2f | %.0f |\n", n, f, c, c / f, s, kb / 1024 }'
  done
  exit 0
fi

echo "| N | step | seconds | CPU s | files/s | peak RSS MB | ratio (CPU) |"
echo "|---|---|---|---|---|---|---|"
for N in $N_LIST; do
  gen "$N"
  D=bench/n$N
  W=bench/work-$N
  REG=$D/register.csv
  COMMON="--year 2026 --register $REG --respondents $NO_RESPONDENTS --templates $TEMPLATES"

  read -r floor_s floor_kb floor_c < <(measure ":" $FLOOR read "$D/returns")
  row "$N" "floor: calamine reads identity + answers" "$floor_s" "$floor_kb" "$floor_c" 0 "$N"

  read -r s kb c < <(measure "rm -rf $W" $PTK ingest "$D/returns" $COMMON --store "$W/s.db" --quiet)
  row "$N" "ptk ingest (fresh store) / floor" "$s" "$kb" "$c" "$floor_c" "$N"
  ingest_c=$c

  read -r s kb c < <(measure ":" $PTK ingest "$D/returns" $COMMON --store "$W/s.db" --quiet)
  row "$N" "ptk ingest again: unchanged skipped, rejected re-read / first ingest" "$s" "$kb" "$c" "$ingest_c" "$N"

  read -r report_s kb report_c < <(measure ":" $PTK report $COMMON --store "$W/s.db" --out "$W/review.xlsx")
  row "$N" "ptk report" "$report_s" "$kb" "$report_c" 0 "$N"

  read -r s kb c < <(measure "rm -rf $W-review" $PTK review "$D/returns" $COMMON --history "$D/history.csv" --store "$W-review/s.db" --quiet)
  row "$N" "ptk review (history + ingest + report) / (2 x floor + report)" "$s" "$kb" "$c" "$(awk -v a="$floor_c" -v b="$report_c" 'BEGIN {print 2 * a + b}')" "$N"

  read -r fw_s fw_kb fw_c < <(measure "rm -rf $W-floor-out" $FLOOR write "$REG" "$W-floor-out")
  row "$N" "floor: rust_xlsxwriter writes the same forms" "$fw_s" "$fw_kb" "$fw_c" 0 "$N"

  read -r s kb c < <(measure "rm -rf $W-outbox" $PTK issue --template self-assessment $COMMON --out "$W-outbox" --issued-on 2026-11-23 --return-address p@example.gov.uk --store "$W-none.db")
  row "$N" "ptk issue / floor write" "$s" "$kb" "$c" "$fw_c" "$N"
done
