//! Objectives and actions through the binary (issue #21): a 2026 self-assessment filled
//! with openpyxl with three objectives and a weak statement, ingested; the 2027 form
//! issued from that store carries them; a version 1 return still scores as before.

mod common;

use std::path::{Path, PathBuf};

use common::{fill_named, ptk, repo, run_python, text, STATEMENTS};

const YEAR1: &str = "2026";

/// Prints each named cell's value (name<TAB>value), for the names given.
const READ: &str = r#"
import sys
import openpyxl
src = sys.argv[1]
wb = openpyxl.load_workbook(src)
for name in sys.argv[2:]:
    sheet, coord = list(wb.defined_names[name].destinations)[0]
    v = wb[sheet][coord.replace("$", "")].value
    print(name + "\t" + ("" if v is None else str(v).replace("\n", " ")))
"#;

/// Every cell's text on a sheet, joined, to look for words an officer would see.
const SHEET_TEXT: &str = r#"
import sys
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb[sys.argv[2]]
for row in ws.iter_rows(values_only=True):
    print("\t".join("" if v is None else str(v).replace("\n", " ") for v in row))
"#;

fn args<'a>(v: &'a [&'a str]) -> Vec<&'a str> {
    v.to_vec()
}

fn issue(dir: &Path, year: &str, templates: &Path) -> PathBuf {
    issue_for(dir, year, templates, "CSP02")
}

fn issue_for(dir: &Path, year: &str, templates: &Path, pid: &str) -> PathBuf {
    let store = dir.join("ptk.db");
    let register = repo().join("samples/register.csv");
    let out = format!("out{year}");
    let o = ptk(
        dir,
        &args(&[
            "issue",
            "--template",
            "self-assessment",
            "--year",
            year,
            "--templates",
            templates.to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--out",
            &out,
            "--partnership",
            pid,
            "--issued-on",
            "2026-11-23",
            "--deadline",
            "2027-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
            "--store",
            store.to_str().unwrap(),
        ]),
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    dir.join(out)
        .join(format!("{pid}_self-assessment_{year}.xlsx"))
}

fn ingest(dir: &Path, year: &str, what: &Path, templates: &Path) -> String {
    let store = dir.join("ptk.db");
    let register = repo().join("samples/register.csv");
    let o = ptk(
        dir,
        &args(&[
            "ingest",
            what.to_str().unwrap(),
            "--year",
            year,
            "--store",
            store.to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
        ]),
    );
    let console = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(ptk::exit::OK), "{console}");
    console
}

fn fill(src: &Path, dst: &Path, plan: &[(String, String)]) {
    fill_named(src, dst, plan);
}

fn read(path: &Path, names: &[String]) -> Vec<(String, String)> {
    let mut a = vec![path.to_str().unwrap()];
    a.extend(names.iter().map(String::as_str));
    run_python(path.parent().unwrap(), READ, &a)
        .lines()
        .map(|l| {
            let (n, v) = l.split_once('\t').unwrap();
            (n.to_string(), v.to_string())
        })
        .collect()
}

fn p(name: &str, value: &str) -> (String, String) {
    (format!("ptk_{name}"), value.to_string())
}

/// The statements all "3 - In place" except those in `except`.
fn statements(except: &[(&str, &str)]) -> Vec<(String, String)> {
    STATEMENTS
        .iter()
        .map(|s| {
            let v = except
                .iter()
                .find(|(id, _)| id == s)
                .map_or("3 - In place", |(_, v)| v);
            p(s, v)
        })
        .chain([
            p("stage", "Functioning"),
            p("completed_by", "David Okafor, lead officer"),
            p("completed_email", "david.okafor@rochford.gov.uk"),
            p("completed_on", "date:2026-12-01"),
        ])
        .collect()
}

/// The status and message of each file in ingest-report.csv ("CSP02 scored 62.5% (Amber)").
fn results_overall(dir: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(dir.join("ingest-report.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (status, message) = (col("status"), col("message"));
    r.records()
        .map(|x| {
            let x = x.unwrap();
            format!("{}: {}", &x[status], &x[message])
        })
        .collect()
}

#[test]
fn objectives_and_actions_are_carried_from_one_year_to_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let templates = repo().join("templates");

    // 2026: three objectives; M1 scored 1 with an action, M2 scored 0 without one.
    let form = issue(d, YEAR1, &templates);
    let objectives = [
        (
            "Cut repeat anti-social behaviour",
            "20% fewer repeat calls",
            "Essex Police",
        ),
        (
            "Open a joint hub in Rayleigh",
            "Hub open 3 days a week",
            "RDC Community Safety",
        ),
        ("Train 50 volunteers", "50 trained by March", "CVS"),
    ];
    let mut plan = statements(&[
        ("M1", "1 - Planned or just started"),
        ("M2", "0 - Not in place"),
    ]);
    for (i, (o, t, w)) in objectives.iter().enumerate() {
        let n = i + 1;
        plan.push(p(&format!("objectives_{n}_objective"), o));
        plan.push(p(&format!("objectives_{n}_target"), t));
        plan.push(p(&format!("objectives_{n}_owner"), w));
        plan.push(p(&format!("objectives_{n}_due"), "date:2027-03-31"));
        plan.push(p(&format!("objectives_{n}_progress"), "On track"));
    }
    plan.push(p(
        "M1_action",
        "Agree a performance framework with partners",
    ));
    plan.push(p("M1_action_who", "David Okafor"));
    plan.push(p("M1_action_by", "date:2027-02-28"));
    let returns = d.join("returns2026");
    std::fs::create_dir(&returns).unwrap();
    fill(&form, &returns.join("CSP02.xlsx"), &plan);
    let console = ingest(d, YEAR1, &returns, &templates);
    assert!(console.contains("1 accepted"), "{console}");
    let codes = common::finding_codes(d);
    let codes = codes.get("CSP02.xlsx").cloned().unwrap_or_default();
    assert_eq!(
        codes,
        ["missing-action"],
        "only M2 lacks its action: {codes:?}"
    );

    // 2027: the three objectives are prefilled, last year's action is beside M1.
    let form27 = issue(d, "2027", &templates);
    let names: Vec<String> = (1..=4)
        .flat_map(|n| {
            [
                format!("ptk_objectives_{n}_committed"),
                format!("ptk_objectives_{n}_objective"),
                format!("ptk_objectives_{n}_owner"),
                format!("ptk_objectives_{n}_progress"),
            ]
        })
        .collect();
    let got = read(&form27, &names);
    for (i, (o, _, w)) in objectives.iter().enumerate() {
        let n = i + 1;
        let v = |k: &str| {
            got.iter()
                .find(|(name, _)| *name == format!("ptk_objectives_{n}_{k}"))
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(v("committed"), *o);
        assert_eq!(v("objective"), *o);
        assert_eq!(v("owner"), *w);
        assert_eq!(v("progress"), "", "progress is asked again");
    }
    assert!(got
        .iter()
        .filter(|(n, _)| n.starts_with("ptk_objectives_4"))
        .all(|(_, v)| v.is_empty()));
    let objectives_sheet = run_python(d, SHEET_TEXT, &[form27.to_str().unwrap(), "Objectives"]);
    assert!(
        objectives_sheet.contains("Rows 1 to 3 are last year's (2026), as agreed then"),
        "{objectives_sheet}"
    );
    let assessment = run_python(d, SHEET_TEXT, &[form27.to_str().unwrap(), "Assessment"]);
    assert!(
        assessment.contains("Action agreed in 2026: Agree a performance framework with partners (who: David Okafor) (by: 28 February 2027)"),
        "{assessment}"
    );

    // 2027 return: objective 2 reworded and At risk; both texts are kept. M2 scored 1
    // with a new action. HWB03 (another Assistant Director) returns a form without any.
    let mut plan = statements(&[("M2", "1 - Planned or just started")]);
    plan.push(p("objectives_1_progress", "Achieved"));
    plan.push(p("objectives_2_objective", "Open a joint hub in Rochford"));
    plan.push(p("objectives_2_progress", "At risk"));
    plan.push(p("objectives_3_progress", "On track"));
    plan.push(p("M2_action", "Publish a yearly progress report"));
    plan.push(p("M2_action_who", "Helen Marsh"));
    plan.push(p("M2_action_by", "date:2027-06-30"));
    let returns27 = d.join("returns2027");
    std::fs::create_dir(&returns27).unwrap();
    fill(&form27, &returns27.join("CSP02.xlsx"), &plan);
    let hwb = issue_for(d, "2027", &templates, "HWB03");
    fill(&hwb, &returns27.join("HWB03.xlsx"), &statements(&[]));
    ingest(d, "2027", &returns27, &templates);
    let store = ptk::store::Store::open(&d.join("ptk.db")).unwrap();
    let answers = &store.carried_answers("self-assessment", 2027).unwrap()["CSP02"];
    let template = ptk::template::find(&templates, "self-assessment").unwrap();
    let objs = ptk::objectives::objectives(&template, answers);
    assert_eq!(objs.len(), 3, "{objs:?}");
    assert_eq!(objs[1].text, "Open a joint hub in Rochford");
    assert_eq!(
        objs[1].committed.as_deref(),
        Some("Open a joint hub in Rayleigh")
    );
    let summary = ptk::objectives::summarise(&objs);
    assert_eq!(summary.at_risk, ["Open a joint hub in Rochford"]);
    assert_eq!(
        summary.counts,
        [
            ("Achieved".to_string(), 1),
            ("At risk".to_string(), 1),
            ("On track".to_string(), 1)
        ]
    );
    drop(store);

    // The review's Assistant Director page and the feedback report them.
    reported_on_the_ad_page_and_in_the_feedback(d, &templates);
}

/// The 2027 review and feedback of the carried-year test's store: CSP02's At risk
/// objective and its actions are on Angela Hutchings's page and in CSP02's feedback,
/// and in no other partnership's feedback.
fn reported_on_the_ad_page_and_in_the_feedback(d: &Path, templates: &Path) {
    let register = repo().join("samples/register.csv");
    let store = d.join("ptk.db");
    for cmd in ["report", "feedback"] {
        let o = ptk(
            d,
            &[
                cmd,
                "--year",
                "2027",
                "--store",
                store.to_str().unwrap(),
                "--register",
                register.to_str().unwrap(),
                "--templates",
                templates.to_str().unwrap(),
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(ptk::exit::OK),
            "{cmd}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    let review = d.join("review-2027.xlsx");
    let page = run_python(
        d,
        SHEET_TEXT,
        &[review.to_str().unwrap(), "AD Angela Hutchings"],
    );
    // From CSP02's heading on (no other partnership of hers returned a 2027 form).
    let start = page
        .find("Castle Point and Rochford Community Safety Partnership (CSP02)")
        .unwrap_or_else(|| panic!("CSP02 on its AD's page: {page}"));
    let block = &page[start..];
    for want in [
        "Objectives\t3 objectives: 1 Achieved, 1 At risk, 1 On track",
        "At risk\tOpen a joint hub in Rochford",
        "Action due\t4.2 ",
        "back to the partners: Publish a yearly progress report (who: Helen Marsh; by: 30 June 2027)",
        "Action agreed in 2026\t4.1 ",
        "Agree a performance framework with partners (who: David Okafor; by: 28 February 2027). Now: 3 - In place",
    ] {
        assert!(block.contains(want), "{want:?} on the AD page:\n{block}");
    }
    let marcus = run_python(d, SHEET_TEXT, &[review.to_str().unwrap(), "AD Marcus Hill"]);
    assert!(!marcus.contains("Open a joint hub"), "{marcus}");

    let fb_dir = d.join("feedback-2027");
    let csp = fb_dir.join("CSP02_feedback_2027.xlsx");
    let sheet = run_python(
        d,
        SHEET_TEXT,
        &[csp.to_str().unwrap(), "Objectives and actions"],
    );
    for want in [
        "Open a joint hub in Rochford (as agreed last year: Open a joint hub in Rayleigh)\tAt risk",
        "Cut repeat anti-social behaviour\tAchieved",
        "Train 50 volunteers\tOn track",
        "2027\t4.2 ",
        "Publish a yearly progress report (who: Helen Marsh; by: 30 June 2027)",
        "2026\t4.1 ",
        "\t3 - In place\tAgree a performance framework with partners",
    ] {
        assert!(
            sheet.contains(want),
            "{want:?} in CSP02's feedback:\n{sheet}"
        );
    }
    // No other partnership's feedback holds any of it (every part of the file).
    let others: Vec<PathBuf> = std::fs::read_dir(&fb_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != &csp)
        .collect();
    assert!(!others.is_empty(), "HWB03 was scored too");
    for other in others {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&other).unwrap()).unwrap();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let mut xml = String::new();
            std::io::Read::read_to_string(&mut f, &mut xml).unwrap();
            for secret in [
                "Open a joint hub",
                "Publish a yearly progress",
                "performance framework",
            ] {
                assert!(
                    !xml.contains(secret),
                    "{}: {} holds {secret}",
                    other.display(),
                    f.name().unwrap()
                );
            }
        }
    }
}

#[test]
fn a_version_1_return_without_the_table_still_ingests_and_scores_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The version 1 template, as shipped before the objectives table (a copy).
    let v1 = d.join("v1");
    std::fs::create_dir(&v1).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/self-assessment-v1.toml"),
        v1.join("self-assessment.toml"),
    )
    .unwrap();
    let sample = repo().join("samples/returns/CSP02_self-assessment_2026.xlsx");
    let run = |templates: &Path, sub: &str| {
        let w = d.join(sub);
        std::fs::create_dir(&w).unwrap();
        let register = repo().join("samples/register.csv");
        let o = ptk(
            &w,
            &args(&[
                "ingest",
                sample.to_str().unwrap(),
                "--year",
                YEAR1,
                "--store",
                "ptk.db",
                "--register",
                register.to_str().unwrap(),
                "--templates",
                templates.to_str().unwrap(),
            ]),
        );
        let console = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(ptk::exit::OK), "{console}");
        assert!(console.contains("1 accepted"), "{console}");
        (results_overall(&w), common::finding_codes(&w))
    };
    let (before, _) = run(&v1, "before");
    let (after, codes) = run(&repo().join("templates"), "after");
    // Same status, score and band: the template says what version 2 added (`since`),
    // so the version 1 return is complete for its version.
    assert_eq!(before, ["accepted: CSP02 scored 77.9% (Green)"]);
    assert_eq!(after, before);
    let codes: Vec<String> = codes.into_values().flatten().collect();
    assert!(codes.is_empty(), "read without the new cells: {codes:?}");
}

#[test]
fn exit_documents_from_two_years_appear_together_on_the_lessons_sheet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let templates = repo().join("templates");
    let register = repo().join("samples/register.csv");
    // 2026: the shipped sample exit document of ENV14.
    let sample = repo().join("samples/returns/ENV14_exit_2026.xlsx");
    let console = ingest(d, YEAR1, &sample, &templates);
    assert!(console.contains("1 accepted"), "{console}");
    let expected_2026 = read(
        &sample,
        &["ptk_lessons".to_string(), "ptk_achieved".to_string()],
    );
    // 2027: DIG15's exit document, filled with openpyxl.
    let o = ptk(
        d,
        &args(&[
            "issue",
            "--template",
            "exit",
            "--year",
            "2027",
            "--templates",
            templates.to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--out",
            "exit2027",
            "--partnership",
            "DIG15",
            "--issued-on",
            "2027-11-23",
            "--deadline",
            "2028-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
        ]),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let form = d.join("exit2027/DIG15_exit_2027.xlsx");
    let plan = vec![
        p("reason", "Funding has ended"),
        p("reason_detail", "The lottery grant ended in March."),
        p("exit_date", "date:2027-06-30"),
        p("partnership_continues", "No"),
        p("achieved", "Ran 120 digital skills sessions in libraries"),
        p("lessons", "Agree a funding exit plan in year one"),
        p("liabilities", "None"),
        p("liabilities_value", "0"),
        p("assets", "Laptops returned to the library service"),
        p("data", "Attendance records destroyed"),
        p("staff", "None"),
        p(
            "communications",
            "Library noticeboards and the council website",
        ),
        p("agreed_by_partners", "Yes"),
        p("signed_officer", "Grace Hughes, lead officer"),
        p("signed_officer_email", "grace.hughes@rochford.gov.uk"),
        p("signed_ad", "Marcus Hill"),
        p("signed_on", "date:2027-07-01"),
    ];
    let returns = d.join("returns2027");
    std::fs::create_dir(&returns).unwrap();
    fill(&form, &returns.join("DIG15 exit.xlsx"), &plan);
    let console = ingest(d, "2027", &returns, &templates);
    assert!(console.contains("1 accepted"), "{console}");

    let store = d.join("ptk.db");
    let o = ptk(
        d,
        &args(&[
            "report",
            "--year",
            "2027",
            "--store",
            store.to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
            "--out",
            "review.xlsx",
        ]),
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let sheet = run_python(
        d,
        SHEET_TEXT,
        &[d.join("review.xlsx").to_str().unwrap(), "Lessons"],
    );
    let rows: Vec<&str> = sheet.lines().filter(|l| l.starts_with("202")).collect();
    assert_eq!(rows.len(), 2, "{sheet}");
    assert!(
        rows[0].starts_with("2026\t") && rows[0].contains("(ENV14)"),
        "{sheet}"
    );
    for (_, v) in &expected_2026 {
        assert!(rows[0].contains(v.as_str()), "{v} in {sheet}");
    }
    assert!(
        rows[1].starts_with("2027\t") && rows[1].contains("(DIG15)"),
        "{sheet}"
    );
    assert!(
        rows[1].contains("Agree a funding exit plan in year one"),
        "{sheet}"
    );
    assert!(
        rows[1].contains("Ran 120 digital skills sessions in libraries"),
        "{sheet}"
    );
}
