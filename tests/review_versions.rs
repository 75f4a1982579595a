//! A template changed between two years (issue #19): with a version 2 that adds a
//! scored statement to Foundations, the 2027 review compares Foundations' % with 2026
//! only where the statements are the same, and otherwise says "not comparable: the
//! questions changed" — never silently. Forms issued by `ptk issue`, filled with
//! openpyxl, reviewed through the binary; expected values from the levels written here.

mod common;

use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

/// Every scored statement (its answer cell named ptk_F1, ptk_P2, …) at scale position
/// `level`, and the other required answers.
const FILL: &str = r#"
import sys, re, datetime, openpyxl
path, level = sys.argv[1:3]
SCALE = ["0 - Not in place", "1 - Planned or just started", "2 - Partly in place",
         "3 - In place", "4 - In place and reviewed"]
wb = openpyxl.load_workbook(path)
def cell(name):
    sheet, coord = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][coord.replace("$", "")]
for name in list(wb.defined_names):
    if re.fullmatch(r"ptk_[FPCM][0-9]+", name):
        cell(name).value = SCALE[int(level)]
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
fn a_section_whose_statements_changed_is_marked_not_comparable() {
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
    // Two active partnerships, each answered by its lead alone.
    let sample = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    let register: String = sample
        .lines()
        .filter(|l| {
            l.starts_with("partnership_id,") || l.starts_with("CSP02,") || l.starts_with("SEP04,")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("register.csv"), register).unwrap();
    // Levels (of 0–4) on every statement: 2026 on version 1, 2027 on version 2.
    let years = [
        ("2026", &v1, [("CSP02", 2), ("SEP04", 1)]),
        ("2027", &v2, [("CSP02", 3), ("SEP04", 3)]),
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
            run_python(d, FILL, &[form.to_str().unwrap(), &level.to_string()]);
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
    // Foundations asked F9 in 2027 only: not compared, and said so.
    let f = row("Foundations");
    assert_eq!(f[change], "not comparable: the questions changed", "{f:?}");
    assert_eq!(f[both], "0");
    // Partners asked the same statements: compared like for like, both partnerships.
    // Each section % = level / 4: CSP02 50 → 75, SEP04 25 → 75, so +37.5 on average.
    let p = row("Partners");
    assert_eq!(p[both], "2");
    let want = ((75.0 - 50.0) + (75.0 - 25.0)) / 2.0;
    assert!(
        (p[change].parse::<f64>().unwrap() - want).abs() < 0.05,
        "{p:?}"
    );
    // The note says which section and why.
    assert!(
        rows.concat().iter().any(|c| c.contains(
            "“Foundations”: its statements changed between the two years' forms for 2 partnerships"
        )),
        "{rows:?}"
    );
}
