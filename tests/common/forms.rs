//! Filling issued forms with openpyxl, as an officer's program would: named cells,
//! the shipped statements and scale, and the answers most tests give.

use std::path::Path;

use super::run_python;

/// The shipped self-assessment's scored statements (their answer cells are named
/// `ptk_F1` …), in form order.
pub const STATEMENTS: [&str; 25] = [
    "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "P1", "P2", "P3", "P4", "P5", "P6", "C1", "C2",
    "C3", "C4", "C5", "M1", "M2", "M3", "M4", "M5", "M6",
];

/// The shipped maturity scale, by position (0 to 4 points).
pub const SCALE: [&str; 5] = [
    "0 - Not in place",
    "1 - Planned or just started",
    "2 - Partly in place",
    "3 - In place",
    "4 - In place and reviewed",
];

/// Writes `values` into the named cells of the workbook `src` with openpyxl, as a
/// script or an officer's other program would, and saves it as `dst` (which may be
/// `src`). Each value is (defined name, text); text starting `date:` is written as a
/// real date (`date:2026-12-04`).
pub fn fill_named(src: &Path, dst: &Path, values: &[(String, String)]) {
    const FILL: &str = r#"
import datetime, sys
import openpyxl
src, plan, dst = sys.argv[1:4]
wb = openpyxl.load_workbook(src)
for line in open(plan, encoding="utf-8"):
    name, value = line.rstrip("\n").split("\t")
    sheet, coord = list(wb.defined_names[name].destinations)[0]
    cell = wb[sheet][coord.replace("$", "")]
    cell.value = datetime.datetime.fromisoformat(value[5:]) if value.startswith("date:") else value
wb.save(dst)
"#;
    let plan_path = dst.with_extension("plan");
    let lines: String = values
        .iter()
        .map(|(n, v)| {
            assert!(!v.contains(['\t', '\n']), "{n}: one line, no tabs: {v:?}");
            format!("{n}\t{v}\n")
        })
        .collect();
    std::fs::write(&plan_path, lines).unwrap();
    run_python(
        src.parent().unwrap(),
        FILL,
        &[
            src.to_str().unwrap(),
            plan_path.to_str().unwrap(),
            dst.to_str().unwrap(),
        ],
    );
    std::fs::remove_file(plan_path).unwrap();
}

/// A form answer: the cell named `ptk_<question id>` and its text.
pub fn answer(question: &str, value: &str) -> (String, String) {
    (format!("ptk_{question}"), value.to_string())
}

/// The self-assessment's required answers besides the statements, as the tests'
/// officer gives them: this life-cycle stage, completed by "Test officer" on 4 December
/// 2026.
pub fn completed(stage: &str) -> Vec<(String, String)> {
    vec![
        answer("stage", stage),
        answer("completed_by", "Test officer"),
        answer("completed_email", "officer@example.gov.uk"),
        answer("completed_on", "date:2026-12-04"),
    ]
}

/// Answers to scored statements by question id: a scale position, `None` for Not
/// applicable.
pub type Plan = std::collections::BTreeMap<String, Option<usize>>;

/// A plan's answers as the form's cells hold them.
pub fn plan_answers(plan: &Plan) -> Vec<(String, String)> {
    plan.iter()
        .map(|(q, v)| answer(q, v.map_or("Not applicable", |n| SCALE[n])))
        .collect()
}

/// A whole, acceptable self-assessment as a lead officer returns it: every statement
/// "3 - In place", stage Functioning, an achievement, completed by "Partnership officer"
/// on 4 December 2026. A later value for the same cell replaces it.
pub fn whole_return() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = STATEMENTS
        .iter()
        .map(|q| answer(q, "3 - In place"))
        .collect();
    v.extend([
        answer("stage", "Functioning"),
        answer("achievements", "Delivered the action plan."),
        answer("completed_by", "Partnership officer"),
        answer("completed_email", "officer@rochford.gov.uk"),
        answer("completed_on", "date:2026-12-04"),
    ]);
    v
}
