#!/usr/bin/env bash
# Runs `ptk ingest` once over a folder of foreign spreadsheets (for example the test files
# of public spreadsheet libraries) and reports whether every file was accounted for, the
# outcomes by status and finding code, the time and the peak memory. Not part of the
# tests: a check that no file can crash, hang or blow up the readers.
#
#   scripts/corpus-run.sh /work/corpus                 # release build of this checkout
#   PTK=target/debug/ptk scripts/corpus-run.sh DIR     # another binary
#   MEM_MB=600 TIMEOUT=3600 scripts/corpus-run.sh DIR  # limits for the whole run
#   EXTRA_ARGS="--max-file-mb 5" scripts/corpus-run.sh DIR  # more ingest options
#
# The files are foreign, so every one ends rejected (no _ptk sheet) or skipped; what
# matters is that the run finishes, writes its reports and names every file. Exit 0 when
# it did; 1 when the run crashed, timed out, or left files out. Work files go in a temp
# folder (KEEP=1 keeps it and prints where).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${1:?usage: scripts/corpus-run.sh FOLDER}
DIR=$(cd "$DIR" && pwd)
TIMEOUT=${TIMEOUT:-3600}
MEM_MB=${MEM_MB:-0}
if [ -z "${PTK:-}" ]; then
  cargo build --release --quiet --bin ptk
  PTK=target/release/ptk
fi
PTK=$(cd "$(dirname "$PTK")" && pwd)/$(basename "$PTK")
if [ ! -x /usr/bin/time ]; then
  echo "needs GNU time (/usr/bin/time): apt-get install time" >&2
  exit 2
fi

WORK=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "work folder: $WORK" || trap 'rm -rf "$WORK"' EXIT

limit=()
[ "$MEM_MB" != 0 ] && limit=(prlimit --as=$((MEM_MB * 1024 * 1024)) --)

set +e
/usr/bin/time -v -o "$WORK/time.txt" timeout "$TIMEOUT" "${limit[@]}" "$PTK" ingest "$DIR" \
  --year 2026 --quiet --templates templates --register samples/register.csv \
  --store "$WORK/ptk.db" --report-dir "$WORK" ${EXTRA_ARGS:-} >"$WORK/stdout.txt" 2>"$WORK/stderr.txt"
status=$?
set -e

echo "ptk:            $PTK"
echo "folder:         $DIR"
echo "exit status:    $status$([ $status = 124 ] && echo ' (timed out)')"
echo "files on disk:  $(find "$DIR" -type f | wc -l)"
grep -E "Elapsed \(wall|Maximum resident" "$WORK/time.txt" | sed 's/^\s*/                /'
echo "last lines of the run's output:"
tail -n 5 "$WORK/stdout.txt" "$WORK/stderr.txt" | sed 's/^/    /'

python3 - "$DIR" "$WORK" <<'EOF'
import collections, csv, os, sys
folder, work = sys.argv[1], sys.argv[2]
on_disk = set()
for root, _, files in os.walk(folder):
    for f in files:
        on_disk.add(os.path.join(root, f))
report = os.path.join(work, "ingest-report.csv")
if not os.path.exists(report):
    print("NO ingest-report.csv: the run did not finish")
    sys.exit(1)
rows = list(csv.DictReader(open(report, encoding="utf-8-sig", newline="")))
path_col = next(iter(rows[0])) if rows else "file"
status_col = next((k for k in (rows[0] if rows else {}) if k.lower() == "status"), None)
named = set()
by_status = collections.Counter()
for r in rows:
    p = r[path_col]
    # an email's attachment is named "<message file>/<attachment>" or "<mbox>#n/..."
    while p and p not in on_disk and os.path.dirname(p) != p:
        p = os.path.dirname(p.split("#")[0]) if "#" in p else os.path.dirname(p)
    named.add(p)
    by_status[r[status_col] if status_col else "?"] += 1
codes = collections.Counter()
findings = os.path.join(work, "findings.csv")
if os.path.exists(findings):
    for r in csv.reader(open(findings, encoding="utf-8-sig", newline="")):
        if len(r) > 6 and r[6] != "code":
            codes[r[6]] += 1
missing = sorted(on_disk - named)
print(f"report rows:    {len(rows)}")
print("by status:      " + ", ".join(f"{k} {v}" for k, v in by_status.most_common()))
print("finding codes:  " + ", ".join(f"{k} {v}" for k, v in codes.most_common()))
print(f"files not named in the report: {len(missing)}")
for m in missing[:20]:
    print("    " + m)
sys.exit(1 if missing else 0)
EOF
rc=$?
[ "$status" = 0 ] || [ "$status" = 1 ] || rc=1
exit $rc
