#!/usr/bin/env python3
"""Make samples/returns/ and tests/fixtures/returns/ by really filling issued forms.

Issues the forms with `ptk issue`, fills them with openpyxl (finding the answer cells
by their ptk_<question id> names, as a person filling the form would find the yellow
cells), and re-saves some through headless LibreOffice as .xlsx, .ods and .xls.
Also writes the broken files partnerships really send.

The outputs are committed; the test suite does not need this script, openpyxl or
LibreOffice. Re-run it only to change the samples:

    pip install openpyxl msoffcrypto-tool      # and: apt-get install libreoffice-calc-nogui
    python3 scripts/make-sample-returns.py

`--objectives-only` writes just samples/objectives/ (a version 2 self-assessment with
objectives and actions, kept apart so the returns in samples/returns keep their outcomes);
`--respondents-only` adds just the other respondents' returns of the Local Strategic
Partnership (the forms already in samples/returns stay as they were issued then);
PTK_BIN=target/debug/ptk uses a ptk already built instead of `cargo run --release`.
"""
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile

import openpyxl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples", "returns")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "returns")
ISSUED_ON = "2026-11-23"
SCALE = ["0 - Not in place", "1 - Planned or just started", "2 - Partly in place",
         "3 - In place", "4 - In place and reviewed"]


def ptk(*args):
    # PTK_BIN runs an already built ptk instead (e.g. target/debug/ptk).
    cmd = [os.environ["PTK_BIN"]] if os.environ.get("PTK_BIN") else ["cargo", "run", "--release", "-q", "--"]
    subprocess.run([*cmd, *args], cwd=ROOT, check=True)


def issue(out, template, year=2026, issued_on=ISSUED_ON, partnerships=()):
    args = ["issue", "--template", template, "--year", str(year), "--out", out,
            "--issued-on", issued_on, "--deadline", "2027-01-29",
            "--register", "samples/register.csv", "--templates", "templates",
            "--return-address", "partnerships@rochford.gov.uk", "--store", "/nonexistent.db"]
    for p in partnerships:
        args += ["--partnership", p]
    ptk(*args)


def cell(wb, qid):
    """The answer cell of a question, found by its defined name."""
    name = wb.defined_names["ptk_" + qid]
    sheet, coord = next(iter(name.destinations))
    return wb[sheet][coord.replace("$", "")]


def evidence(wb, qid):
    try:
        return cell(wb, qid + "__evidence")
    except KeyError:
        return None


def fill_self_assessment(wb, pid, level, rng, na=(), style="label"):
    """Scores around `level` (0-4); `style` is how the officer typed them."""
    ids = [f"F{i}" for i in range(1, 9)] + [f"P{i}" for i in range(1, 7)] + \
          [f"C{i}" for i in range(1, 6)] + [f"M{i}" for i in range(1, 7)]
    for q in ids:
        if q in na:
            cell(wb, q).value = "Not applicable"
            continue
        score = max(0, min(4, round(level + rng.uniform(-1.3, 1.3))))
        if style == "number":
            cell(wb, q).value = score
        elif style == "loose":
            cell(wb, q).value = "  " + SCALE[score].lower() + " "
        else:
            cell(wb, q).value = SCALE[score]
        if rng.random() < 0.5:
            ev = evidence(wb, q)
            if ev is not None:
                ev.value = rng.choice([
                    "Terms of reference reviewed at the March board.",
                    "See the annual report to partners.",
                    "Agreed at the partnership board; minutes available.",
                    "Work in progress: action plan agreed for next year.",
                    "Quarterly performance report to all partners.",
                ])
    stage = ["Forming", "Frustration", "Functioning", "Flying", "Failing"]
    cell(wb, "stage").value = stage[2] if level >= 2.5 else (stage[3] if level >= 3.4 else stage[1])
    cell(wb, "achievements").value = "Delivered the agreed action plan; new joint funding bid submitted."
    cell(wb, "support").value = "Help with measuring outcomes for residents."
    cell(wb, "completed_by").value = "Partnership lead officer"
    cell(wb, "completed_email").value = f"{pid.lower()}.lead@rochford.gov.uk"
    cell(wb, "completed_on").value = dt.datetime(2026, 12, 4)


def fill_exit(wb, pid, officer, email):
    cell(wb, "reason").value = "Objectives have been met"
    cell(wb, "reason_detail").value = "The estuary management plan is adopted and the Trust will lead it from April."
    cell(wb, "exit_date").value = dt.datetime(2027, 3, 31)
    cell(wb, "partnership_continues").value = "Yes"
    cell(wb, "achieved").value = "Management plan adopted; 12 km of footpath restored; volunteer rangers recruited."
    cell(wb, "lessons").value = "Agree the exit strategy at the start; keep membership under review."
    cell(wb, "recognition").value = "Celebration event with partners in March."
    cell(wb, "liabilities").value = "None"
    cell(wb, "liabilities_value").value = 0
    cell(wb, "assets").value = "Survey equipment transfers to Essex Wildlife Trust."
    cell(wb, "data").value = "Records transfer to the Trust under a data sharing agreement; council copies deleted after 6 years."
    cell(wb, "staff").value = "None affected."
    cell(wb, "communications").value = "Joint press release; parish councils informed by letter."
    cell(wb, "agreed_by_partners").value = "Yes"
    cell(wb, "signed_officer").value = f"{officer}, Partnership lead"
    cell(wb, "signed_officer_email").value = email
    cell(wb, "signed_ad").value = "Naomi Clarke"
    cell(wb, "signed_on").value = dt.datetime(2026, 12, 10)


def fill_new(wb, strategic, risks):
    cell(wb, "strategic").value = "Yes" if strategic else "No"
    cell(wb, "priority").value = "Become financially self-sufficient" if strategic else "Maximise our assets"
    cell(wb, "rationale").value = "Shared capacity to deliver the Business Plan with less cost."
    cell(wb, "added_value").value = "Resilience neither council has alone."
    cell(wb, "value_for_money").value = "Savings of about 10% on management costs."
    for q, a in [("governance", "Partly - in progress"), ("performance", "Yes - agreed and documented"),
                 ("financial", "Partly - in progress"), ("risk_management", "Yes - agreed and documented"),
                 ("termination", "No - not yet considered"), ("authorisation", "Yes - agreed and documented")]:
        cell(wb, q).value = a
    cell(wb, "council_contribution").value = 25000 if strategic else 3000
    cell(wb, "start_date").value = dt.datetime(2027, 4, 1)
    for n, (text, likelihood, impact) in enumerate(risks, start=1):
        cell(wb, f"risks_{n}_risk").value = text
        if likelihood is not None:
            cell(wb, f"risks_{n}_likelihood").value = likelihood
        if impact is not None:
            cell(wb, f"risks_{n}_impact").value = impact
        cell(wb, f"risks_{n}_owner").value = "Programme board"
    if strategic:
        status = ["Complete", "Complete", "Complete", "In progress", "In progress", "In progress", "Not started", "Not started"]
        ids = ["step1_ambition", "step2_priorities", "step3_red_lines", "step4_benefits",
               "step5_scope", "step6_platform", "step7_first_steps", "step8_timeframes"]
        for q, s in zip(ids, status):
            cell(wb, q).value = s
        cell(wb, "step1_ambition__evidence").value = "Council agreed a new local strategic partnership is the preferred option."
        cell(wb, "step3_red_lines__evidence").value = "The HRA is a political red line."
    cell(wb, "completed_by").value = "Helen Marsh, Strategic Partnership Officer"
    cell(wb, "completed_email").value = "helen.marsh@rochford.gov.uk"
    cell(wb, "ad_aware").value = "Yes"
    cell(wb, "completed_on").value = dt.datetime(2026, 12, 2)


def fill_known(wb):
    """Answers a test can check: question i of the 25 statements gets SCALE[i % 5],
    except M6, which is Not applicable."""
    ids = [f"F{i}" for i in range(1, 9)] + [f"P{i}" for i in range(1, 7)] + \
          [f"C{i}" for i in range(1, 6)] + [f"M{i}" for i in range(1, 7)]
    for i, q in enumerate(ids):
        cell(wb, q).value = SCALE[i % 5]
    cell(wb, "M6").value = "Not applicable"
    cell(wb, "F1__evidence").value = "Terms of reference reviewed at the March board."
    cell(wb, "stage").value = "Functioning"
    cell(wb, "completed_by").value = "Sarah Bentley, Waste Partnership Manager"
    cell(wb, "completed_email").value = "sarah.bentley@rochford.gov.uk"
    cell(wb, "completed_on").value = dt.datetime(2026, 12, 4)


def libreoffice(src, fmt, out_dir):
    """Re-save a workbook through headless LibreOffice; returns the new path."""
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods", "xls": "xls:MS Excel 97"}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                        "--convert-to", filters[fmt], "--outdir", tmp, src],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        made = os.path.join(tmp, os.path.splitext(os.path.basename(src))[0] + "." + fmt)
        dest = os.path.join(out_dir, os.path.basename(made))
        shutil.move(made, dest)
    return dest


def set_id(wb, key, value):
    ws = wb["_ptk"]
    for row in ws.iter_rows(min_col=1, max_col=2):
        if row[0].value == key:
            row[1].value = value
            return
    raise KeyError(key)


def main():
    for d in (SAMPLES, FIXTURES):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    work = tempfile.mkdtemp()
    issued = os.path.join(work, "issued")
    for t in ("self-assessment", "exit", "new-partnership"):
        issue(issued, t)
    issue(os.path.join(work, "reissued"), "self-assessment", issued_on="2026-12-07", partnerships=["ASS09"])
    issue(os.path.join(work, "2025"), "self-assessment", year=2025, issued_on="2025-11-24", partnerships=["TOU11"])

    def load(pid, template="self-assessment", folder=issued, year=2026):
        return openpyxl.load_workbook(os.path.join(folder, f"{pid}_{template}_{year}.xlsx"))

    stage = os.path.join(work, "stage")
    os.makedirs(stage)

    def save(wb, name, where=SAMPLES, via=None):
        if via is None:
            wb.save(os.path.join(where, name))
            return
        src = os.path.join(stage, name)
        wb.save(src)
        libreoffice(src, via, where)

    levels = {"LSP01": 3.2, "CSP02": 2.9, "HWB03": 2.4, "SEP04": 2.1, "WST05": 3.5, "LEI06": 2.0,
              "HOU07": 2.6, "ASS09": 1.8, "CVS10": 3.0, "TOU11": 2.2, "YTH13": 1.6}

    # Accepted returns, saved the ways returns really come back.
    for pid, name, via, kwargs in [
        ("LSP01", "Joint LSP self assessment 2026 FINAL.xlsx", None, {}),
        ("CSP02", "CSP02_self-assessment_2026.xlsx", "xlsx", {}),
        ("HWB03", "HWB03 self-assessment.ods", "ods", {}),
        ("SEP04", "SEP04_self-assessment_2026.xls", "xls", {}),
        ("WST05", "WST05 return.xlsx", None, {"style": "number"}),
        ("CVS10", "CVS10_self-assessment_2026.xlsx", None, {"na": ("F5", "F7", "C2")}),
        ("YTH13", "Youth strategy group review.ods", "ods", {"style": "loose"}),
    ]:
        wb = load(pid)
        fill_self_assessment(wb, pid, levels[pid], random.Random(pid), **kwargs)
        # LibreOffice names its output after the input file; the stage file carries the wanted name.
        stem = os.path.splitext(name)[0]
        save(wb, name if via is None else stem + ".xlsx", via=via)

    # ASS09 sent the first form, then the re-issued one: the later issue is used.
    wb = load("ASS09")
    fill_self_assessment(wb, "ASS09", 1.5, random.Random("ASS09a"))
    save(wb, "ASS09_self-assessment_2026.xlsx")
    wb = load("ASS09", folder=os.path.join(work, "reissued"))
    fill_self_assessment(wb, "ASS09", levels["ASS09"], random.Random("ASS09"))
    save(wb, "ASS09 self-assessment (re-issued).xlsx")

    # LEI06 left required answers blank, and pasted a formula that shows #DIV/0!.
    wb = load("LEI06")
    fill_self_assessment(wb, "LEI06", levels["LEI06"], random.Random("LEI06"))
    for q in ("P3", "P4", "M2"):
        cell(wb, q).value = None
    cell(wb, "C3").value = "=C2/0"
    save(wb, "LEI06_self-assessment_2026.xlsx", via="xlsx")

    # HOU07 typed words instead of choosing from the dropdown, and a date as words.
    wb = load("HOU07")
    fill_self_assessment(wb, "HOU07", levels["HOU07"], random.Random("HOU07"))
    cell(wb, "F2").value = "Good"
    cell(wb, "completed_on").value = "last Tuesday"
    save(wb, "HOU07_self-assessment_2026.xlsx")

    # TOU11 sent last year's form.
    wb = load("TOU11", folder=os.path.join(work, "2025"), year=2025)
    fill_self_assessment(wb, "TOU11", levels["TOU11"], random.Random("TOU11"))
    save(wb, "TOU11_self-assessment_2025.xlsx")

    # ICT12's file was damaged in transit (cut short).
    wb = load("ICT12")
    fill_self_assessment(wb, "ICT12", 2.5, random.Random("ICT12"))
    tmp = os.path.join(stage, "ICT12.xlsx")
    wb.save(tmp)
    data = open(tmp, "rb").read()
    open(os.path.join(SAMPLES, "ICT12_self-assessment_2026.xlsx"), "wb").write(data[: len(data) // 3])

    # Exit documents: ENV14 complete; DIG15 with a bad email and words for a number.
    wb = load("ENV14", "exit")
    fill_exit(wb, "ENV14", "Liam Turner", "liam.turner@rochford.gov.uk")
    save(wb, "ENV14_exit_2026.xlsx", via="xlsx")
    wb = load("DIG15", "exit")
    fill_exit(wb, "DIG15", "Grace Hughes", "grace.hughes@rochford")
    cell(wb, "liabilities_value").value = "about 5k"
    save(wb, "DIG15 exit document.xlsx")

    # New partnerships: MGT16 strategic with the 8 steps; ART17 with risk rows wrong.
    wb = load("MGT16", "new-partnership")
    fill_new(wb, True, [("Savings not realised", 3, 4), ("Loss of key staff", 2, 5), ("Political change", 4, 4)])
    save(wb, "MGT16_new-partnership_2026.xlsx", via="ods")
    wb = load("ART17", "new-partnership")
    fill_new(wb, False, [("Trust cannot raise match funding", 3, 3), ("Volunteers leave", 7, 2), ("Building repairs", None, 4)])
    save(wb, "ART17_new-partnership_2026.xlsx")

    # What else lands in the returns folder.
    open(os.path.join(SAMPLES, "~$Joint LSP self assessment 2026 FINAL.xlsx"), "wb").write(
        b"\x0bHelen Marsh" + b"\x00" * 40 + b"\x0bHelen Marsh" + b"\x20" * 100)
    other = openpyxl.Workbook()
    other.active.title = "Budget"
    other.active.append(["Line", "2026/27"])
    other.active.append(["Room hire", 1200])
    other.save(os.path.join(SAMPLES, "Partnership budget 2026.xlsx"))
    open(os.path.join(SAMPLES, "notes from Helen.txt"), "w").write("Chase CAB08 - not returned yet.\n")

    # Test fixtures: the codes that need a doctored file.
    def doctored(pid, name, key, value):
        wb = load(pid)
        fill_self_assessment(wb, pid, 2.5, random.Random(pid))
        set_id(wb, key, value)
        wb.save(os.path.join(FIXTURES, name))

    doctored("WST05", "unknown-partnership.xlsx", "partnership_id", "ZZZ99")
    doctored("WST05", "unknown-template.xlsx", "template_id", "annual-survey")
    doctored("WST05", "unknown-version.xlsx", "template_version", "9")
    wb = load("CVS10")
    fill_self_assessment(wb, "CVS10", 3, random.Random("CVS10"))
    wb["Assessment"].title = "My answers"
    wb.save(os.path.join(FIXTURES, "structure-changed.xlsx"))
    # A copy whose defined names were dropped: answers are found through the _ptk cell map.
    wb = load("CVS10")
    fill_self_assessment(wb, "CVS10", 3, random.Random("CVS10"))
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    wb.save(os.path.join(FIXTURES, "names-dropped.xlsx"))
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
        src = os.path.join(SAMPLES, "CVS10_self-assessment_2026.xlsx")
        with open(src, "rb") as f, open(os.path.join(FIXTURES, "encrypted.xlsx"), "wb") as out:
            office = OOXMLFile(f)
            office.encrypt("secret", out)
    except Exception as e:  # noqa: BLE001 - the fixture is optional for a re-run
        print("could not make encrypted.xlsx:", e, file=sys.stderr)
    # The same answers saved four ways, to prove identification and reading agree.
    savers = os.path.join(ROOT, "tests", "fixtures", "savers")
    shutil.rmtree(savers, ignore_errors=True)
    os.makedirs(savers)
    wb = load("WST05")
    fill_known(wb)
    wb.save(os.path.join(savers, "openpyxl.xlsx"))
    for fmt in ("xlsx", "ods", "xls"):
        src = os.path.join(stage, f"libreoffice-{fmt}.xlsx")
        wb.save(src)
        libreoffice(src, fmt, savers)
    os.rename(os.path.join(savers, "libreoffice-xlsx.xlsx"), os.path.join(savers, "libreoffice.xlsx"))
    os.rename(os.path.join(savers, "libreoffice-ods.ods"), os.path.join(savers, "libreoffice.ods"))
    os.rename(os.path.join(savers, "libreoffice-xls.xls"), os.path.join(savers, "libreoffice.xls"))
    shutil.rmtree(work)
    print("wrote", sorted(os.listdir(SAMPLES)), sorted(os.listdir(FIXTURES)))


def answers_of(path, ids):
    """The scale answers of a filled form, by question id."""
    wb = openpyxl.load_workbook(path)
    return {q: cell(wb, q).value for q in ids}


def respondent_returns():
    """The other two respondents of the Local Strategic Partnership (samples/respondents.csv)
    answer their own forms: close to the lead officer's return on most statements, two or
    more points apart on some (the review's disagreement sheet), one point apart on others
    (not a disagreement), Not applicable on a few. Adds to samples/returns without touching
    the other files, so the earlier forms stay as partnerships returned them."""
    work = tempfile.mkdtemp()
    ptk("issue", "--template", "self-assessment", "--year", "2026", "--out", work,
        "--issued-on", ISSUED_ON, "--deadline", "2027-01-29", "--register", "samples/register.csv",
        "--respondents", "samples/respondents.csv", "--templates", "templates",
        "--return-address", "partnerships@rochford.gov.uk", "--store", "/nonexistent.db",
        "--partnership", "LSP01")
    ids = [f"F{i}" for i in range(1, 9)] + [f"P{i}" for i in range(1, 7)] + \
          [f"C{i}" for i in range(1, 6)] + [f"M{i}" for i in range(1, 7)]
    lead = answers_of(os.path.join(SAMPLES, "Joint LSP self assessment 2026 FINAL.xlsx"), ids)
    # (respondent id, file name as saved, {question: change in points}, Not applicable, stage, who)
    plans = [
        ("castle-point", "LSP01 self-assessment - Castle Point.xlsx",
         {"F3": -2, "F6": -1, "P4": +1, "C2": -2, "M5": -1}, ("M6",), "Functioning",
         ("Mark Jennings", "mark.jennings@castlepoint.gov.uk")),
        ("essex-police", "LSP01_self-assessment_2026_essex-police.xlsx",
         {"F3": -3, "P1": +2, "P5": -1, "C2": -1, "C5": -2, "M2": +1}, ("P6", "M6"), "Frustration",
         ("Sergeant Kate Lowe", "kate.lowe@essex.police.uk")),
    ]
    for rid, name, changes, na, stage, (who, email) in plans:
        wb = openpyxl.load_workbook(os.path.join(work, f"LSP01_self-assessment_2026_{rid}.xlsx"))
        for q in ids:
            if q in na:
                cell(wb, q).value = "Not applicable"
                continue
            points = max(0, min(4, SCALE.index(lead[q]) + changes.get(q, 0)))
            cell(wb, q).value = SCALE[points]
        cell(wb, "stage").value = stage
        cell(wb, "achievements").value = "Joint community safety campaign delivered with the LSP."
        cell(wb, "support").value = "Clearer shared outcomes across the partners."
        cell(wb, "completed_by").value = who
        cell(wb, "completed_email").value = email
        cell(wb, "completed_on").value = dt.datetime(2026, 12, 8)
        wb.save(os.path.join(SAMPLES, name))
    shutil.rmtree(work)


OBJECTIVES = os.path.join(ROOT, "samples", "objectives")


def objectives_returns():
    """samples/objectives/: CSP02's self-assessment on the version 2 form, with three
    objectives in the objectives table, statement 4.1 scored 1 with an action (what, who,
    by when) and 4.2 scored 0 without one (the missing-action warning). Ingest it into a
    store of its own, then `ptk issue --year 2027` shows the objectives and the action on
    next year's form."""
    work = tempfile.mkdtemp()
    issue(work, "self-assessment", partnerships=["CSP02"])
    wb = openpyxl.load_workbook(os.path.join(work, "CSP02_self-assessment_2026.xlsx"))
    rng = random.Random(21)
    fill_self_assessment(wb, "CSP02", 3, rng)
    cell(wb, "M1").value = SCALE[1]
    cell(wb, "M2").value = SCALE[0]
    cell(wb, "M1_action").value = "Agree a performance framework with all partners"
    cell(wb, "M1_action_who").value = "David Okafor"
    cell(wb, "M1_action_by").value = dt.datetime(2027, 2, 26)
    objectives = [
        ("Cut repeat anti-social behaviour calls in Rayleigh town centre",
         "20% fewer repeat calls than 2025/26", "Essex Police", dt.datetime(2027, 3, 31), "On track"),
        ("Open a joint community safety hub", "Hub open three days a week",
         "RDC Community Safety", dt.datetime(2027, 9, 30), "At risk"),
        ("Train 50 volunteer street wardens", "50 trained", "Rochford CVS",
         dt.datetime(2027, 3, 31), "On track"),
    ]
    for n, (objective, target, owner, due, progress) in enumerate(objectives, 1):
        cell(wb, f"objectives_{n}_objective").value = objective
        cell(wb, f"objectives_{n}_target").value = target
        cell(wb, f"objectives_{n}_owner").value = owner
        cell(wb, f"objectives_{n}_due").value = due
        cell(wb, f"objectives_{n}_progress").value = progress
    cell(wb, "objectives_2_comment").value = "Waiting for a building; the lease is not yet agreed."
    os.makedirs(OBJECTIVES, exist_ok=True)
    wb.save(os.path.join(OBJECTIVES, "CSP02_self-assessment_2026.xlsx"))
    shutil.rmtree(work)


if __name__ == "__main__":
    if "--respondents-only" in sys.argv:
        respondent_returns()
    elif "--objectives-only" in sys.argv:
        objectives_returns()
    else:
        main()
        respondent_returns()
        objectives_returns()
