#!/usr/bin/env python3
"""Write samples/history.csv: 2023-2025 self-assessment scores for the sample register.

Long format, as `ptk history import` reads it: year,partnership_id,section_id,percent
(section_id is a section of templates/self-assessment.toml, or `overall`). YTH13 has no
history (first reviewed this year), so reports show it as new. Deterministic.
"""
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = ["foundations", "partners", "communication", "measuring"]
# partnership: (first year reviewed, 2023 level in %, trend per year)
PARTNERSHIPS = {
    "LSP01": (2023, 66, 4), "CSP02": (2023, 70, 2), "HWB03": (2023, 55, 3), "SEP04": (2023, 61, -3),
    "WST05": (2023, 72, 5), "LEI06": (2023, 58, -2), "HOU07": (2024, 52, 4), "CAB08": (2023, 64, 1),
    "ASS09": (2023, 49, -4), "CVS10": (2023, 68, 3), "TOU11": (2023, 57, 0), "ICT12": (2024, 45, 8),
    "ENV14": (2023, 74, 1), "DIG15": (2023, 50, -5),
}

rows = []
for pid, (first, level, trend) in PARTNERSHIPS.items():
    rng = random.Random(pid)
    for year in range(first, 2026):
        base = level + trend * (year - 2023)
        values = [round(min(100, max(0, base + rng.uniform(-9, 9))) * 2) / 2 for _ in SECTIONS]
        for s, v in zip(SECTIONS, values):
            rows.append((year, pid, s, v))
        rows.append((year, pid, "overall", round(sum(values) / len(values), 3)))

rows.sort(key=lambda r: (r[0], r[1], r[2] == "overall", r[2]))
fmt = lambda v: str(int(v)) if float(v).is_integer() else repr(v)
with open(os.path.join(ROOT, "samples", "history.csv"), "w", newline="") as f:
    f.write("year,partnership_id,section_id,percent\r\n")
    for y, p, s, v in rows:
        f.write(f"{y},{p},{s},{fmt(v)}\r\n")
print(len(rows), "rows")
