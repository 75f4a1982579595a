//! A template changed between two years (issue #19): with a version 2 that adds a
//! scored statement to Foundations, the 2027 review compares Foundations' % with 2026
//! on the statements both years share where both years' answers are stored, and
//! otherwise leaves the partnership out, saying so ("not comparable: the questions
//! changed" where none is left) — never silently. Forms issued by `ptk issue`, filled with
//! openpyxl, reviewed through the binary; expected values from the levels written here.

mod common;

use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

/// Every scored statement (its answer cell named ptk_F1, ptk_P2, …) at scale position
/// `level`, and the other required answers.
const FILL: &str = r#"
import sys, re, datetime, openpyxl
path, level, f9 = sys.argv[1:4]
SCALE = ["0 - Not in place", "1 - Planned or just started", "2 - Partly in place",
         "3 - In place", "4 - In place and reviewed"]
wb = openpyxl.load_workbook(path)
def cell(name):
    sheet, coord = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][coord.replace("$", "")]
for name in list(wb.defined_names):
    if re.fullmatch(r"ptk_[FPCM][0-9]+", name):
        cell(name).value = SCALE[int(f9 if name == "ptk_F9" else level)]
for q, v in [("stage", "Functioning"), ("achievements", "x"), ("support", "y"),
             ("completed_by", "Test officer"), ("completed_email", "officer@example.gov.uk"),
             ("completed_on", datetime.datetime(2026, 12, 4))]:
    if "ptk_" + q in wb.defined_names:
        cell("ptk_" + q).value = v
wb.save(path)
"#;

/// The shipped template (version 2) with a scored statement F9 added to Foundations.
fn version_2_adding_f9() -> String {
    let shipped = std::fs::read_to_string(repo().join("templates/self-assessment.toml")).unwrap();
    let f8 = shipped
        .find("id = \"F8\"")
        .expect("F8 in the shipped template");
    let end = f8
        + shipped[f8..]
            .find("\n[[sections]]")
            .expect("a section after Foundations");
    let f9 = "\n[[sections.questions]]\nid = \"F9\"\ntext = \"Partners review the partnership's risks together each year.\"\ntype = \"scale\"\nrequired = true\noptions_from = \"maturity\"\nsince = 2\n";
    format!("{}{f9}{}", &shipped[..end], &shipped[end..])
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c: &Data| c.to_string()).collect())
        .collect()
}

#[test]
fn a_section_whose_statements_changed_is_compared_on_shared_statements_or_not_at_all() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (v1, v2) = (d.join("v1"), d.join("v2"));
    for dir in [&v1, &v2] {
        std::fs::create_dir(dir).unwrap();
    }
    std::fs::copy(
        repo().join("tests/fixtures/self-assessment-v1.toml"),
        v1.join("self-assessment.toml"),
    )
    .unwrap();
    std::fs::write(v2.join("self-assessment.toml"), version_2_adding_f9()).unwrap();
    // Three active partnerships, each answered by its lead alone.
    let sample = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    let register: String = sample
        .lines()
        .filter(|l| {
            ["partnership_id,", "CSP02,", "SEP04,", "WST05,"]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("register.csv"), register).unwrap();
    // WST05's 2026 is imported history only (no answers stored): 40% in every section.
    let history: String = std::iter::once("year,partnership_id,section_id,percent\n".to_string())
        .chain(
            [
                "foundations",
                "partners",
                "communication",
                "measuring",
                "overall",
            ]
            .iter()
            .map(|s| format!("2026,WST05,{s},40\n")),
        )
        .collect();
    std::fs::write(d.join("history.csv"), history).unwrap();
    let o = ptk(
        d,
        &[
            "history",
            "import",
            "history.csv",
            "--store",
            "ptk.db",
            "--register",
            "register.csv",
            "--templates",
            v1.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    // Levels (of 0–4) on every statement: 2026 on version 1, 2027 on version 2, where
    // the new F9 is answered 0, so Foundations on all nine statements differs from
    // Foundations on the eight both years share.
    let years = [
        ("2026", &v1, vec![("CSP02", 2), ("SEP04", 1)]),
        ("2027", &v2, vec![("CSP02", 3), ("SEP04", 3), ("WST05", 3)]),
    ];
    for (year, templates, levels) in &years {
        let out = format!("out{year}");
        let o = ptk(
            d,
            &[
                "issue",
                "--template",
                "self-assessment",
                "--year",
                year,
                "--templates",
                templates.to_str().unwrap(),
                "--register",
                "register.csv",
                "--store",
                "ptk.db",
                "--out",
                &out,
                "--issued-on",
                &format!("{year}-11-23"),
                "--deadline",
                &format!("{}-01-29", year.parse::<i32>().unwrap() + 1),
                "--return-address",
                "partnerships@rochford.gov.uk",
            ],
        );
        assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
        let inbox = d.join(format!("inbox{year}"));
        std::fs::create_dir(&inbox).unwrap();
        for (id, level) in levels {
            let name = format!("{id}_self-assessment_{year}.xlsx");
            let form = inbox.join(&name);
            std::fs::copy(d.join(&out).join(&name), &form).unwrap();
            run_python(d, FILL, &[form.to_str().unwrap(), &level.to_string(), "0"]);
        }
        let o = ptk(
            d,
            &[
                "review",
                inbox.to_str().unwrap(),
                "--year",
                year,
                "--quiet",
                "--templates",
                templates.to_str().unwrap(),
                "--register",
                "register.csv",
                "--store",
                "ptk.db",
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(ptk::exit::OK),
            "{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    let rows = sheet(&d.join("review-2027.xlsx"), "Sections");
    let head = rows
        .iter()
        .position(|r| r[0] == "Section")
        .expect("the table");
    let col = |h: &str| {
        rows[head]
            .iter()
            .position(|c| c == h)
            .unwrap_or_else(|| panic!("{h}"))
    };
    let (both, change) = (col("Scored in both years (n)"), col("Change (points)"));
    let row = |title: &str| {
        rows.iter()
            .find(|r| r[0] == title)
            .unwrap_or_else(|| panic!("{title}: {rows:?}"))
    };
    // Foundations asked F9 in 2027 only. CSP02 and SEP04 are compared on F1–F8, each
    // at level / 4: CSP02 50 → 75, SEP04 25 → 75, +37.5 on average; WST05 (imported
    // 2026, no answers) is left out.
    let f = row("Foundations");
    assert_eq!(f[both], "2", "{f:?}");
    let want = ((75.0 - 50.0) + (75.0 - 25.0)) / 2.0;
    assert!(
        (f[change].parse::<f64>().unwrap() - want).abs() < 0.05,
        "{f:?}"
    );
    // This year's average is over all nine statements: (8 × 3 + 0) / (9 × 4).
    let all_nine = 100.0 * 24.0 / 36.0;
    let now = f[col("Average % 2027")].parse::<f64>().unwrap();
    assert!((now - all_nine).abs() < 0.05, "{f:?}");
    // Partners asked the same statements: all three like for like, WST05 40 → 75.
    let p = row("Partners");
    assert_eq!(p[both], "3");
    let want = ((75.0 - 50.0) + (75.0 - 25.0) + (75.0 - 40.0)) / 3.0;
    assert!(
        (p[change].parse::<f64>().unwrap() - want).abs() < 0.05,
        "{p:?}"
    );
    // The note says which section, how each partnership was compared, and why.
    assert!(
        rows.concat().iter().any(|c| c.contains("“Foundations”: its statements changed between the two years' forms for 3 partnerships; 2 compared on the statements both years share; 1 not compared")),
        "{rows:?}"
    );
}

/// With no answers stored for the earlier year (imported history only), the section is
/// not compared at all, and its change says so.
#[test]
fn a_changed_section_without_earlier_answers_is_not_comparable() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let v2 = d.join("v2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(v2.join("self-assessment.toml"), version_2_adding_f9()).unwrap();
    let sample = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    let register: String = sample
        .lines()
        .filter(|l| l.starts_with("partnership_id,") || l.starts_with("WST05,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("register.csv"), register).unwrap();
    let history = "year,partnership_id,section_id,percent\n2026,WST05,foundations,40\n2026,WST05,partners,40\n2026,WST05,overall,40\n";
    std::fs::write(d.join("history.csv"), history).unwrap();
    let o = ptk(
        d,
        &[
            "history",
            "import",
            "history.csv",
            "--store",
            "ptk.db",
            "--register",
            "register.csv",
            "--templates",
            v2.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let o = ptk(
        d,
        &[
            "issue",
            "--template",
            "self-assessment",
            "--year",
            "2027",
            "--templates",
            v2.to_str().unwrap(),
            "--register",
            "register.csv",
            "--store",
            "ptk.db",
            "--out",
            "out",
            "--issued-on",
            "2027-11-23",
            "--deadline",
            "2028-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
        ],
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let inbox = d.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let form = inbox.join("WST05_self-assessment_2027.xlsx");
    std::fs::copy(d.join("out/WST05_self-assessment_2027.xlsx"), &form).unwrap();
    run_python(d, FILL, &[form.to_str().unwrap(), "3", "3"]);
    let o = ptk(
        d,
        &[
            "review",
            inbox.to_str().unwrap(),
            "--year",
            "2027",
            "--quiet",
            "--templates",
            v2.to_str().unwrap(),
            "--register",
            "register.csv",
            "--store",
            "ptk.db",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(ptk::exit::OK),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let rows = sheet(&d.join("review-2027.xlsx"), "Sections");
    let f = rows
        .iter()
        .find(|r| r[0] == "Foundations")
        .expect("Foundations");
    assert!(
        f.contains(&"not comparable: the questions changed".to_string()),
        "{f:?}"
    );
    // Partners is unchanged: compared, 40 → 75.
    let p = rows.iter().find(|r| r[0] == "Partners").expect("Partners");
    assert!(p.contains(&"35".to_string()), "{p:?}");
}
