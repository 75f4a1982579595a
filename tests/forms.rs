//! The issued forms as an officer uses them: long answers typed in, the file re-saved
//! with LibreOffice and printed, and read back by `ptk ingest`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use ptk::store::Store;
use ptk::template::{QuestionType, Template};

/// One cell to fill: the defined name, how to write it, the value.
struct Fill {
    name: String,
    kind: &'static str,
    value: String,
    /// The words that must be on the printed page (the end of a long answer).
    last_words: Option<String>,
    question_id: String,
    evidence: bool,
}

/// A long answer (over 600 characters) that ends with words found nowhere else.
fn long_answer(tag: &str) -> (String, String) {
    let sentence = "We met every quarter with all partners, kept minutes, tracked each action to completion and reported progress to the board and to the council's Leadership Team. ";
    let mut text = format!("Answer {tag}. ");
    while text.chars().count() < 620 {
        text.push_str(sentence);
    }
    let last = format!("closing remark {tag}");
    text.push_str(&last);
    text.push('.');
    (text, last)
}

/// What an officer might type for every question and evidence cell of a template.
fn fill_plan(t: &Template) -> Vec<Fill> {
    let mut plan = Vec::new();
    for (i, (_, q)) in t.questions().enumerate() {
        let tag = format!("zq{i}x");
        let (kind, value, last) = match q.kind {
            QuestionType::Text => {
                let (v, l) = long_answer(&tag);
                ("text", v, Some(l))
            }
            QuestionType::Scale | QuestionType::Choice | QuestionType::YesNo => {
                // The longest option, so a clipped dropdown or cell would show.
                let label = if q.id == "strategic" {
                    "Yes".to_string()
                } else {
                    q.options
                        .iter()
                        .map(|o| o.label.clone())
                        .max_by_key(|l| l.chars().count())
                        .unwrap()
                };
                ("text", label.clone(), Some(label))
            }
            QuestionType::Date => ("date", "2026-12-01".into(), None),
            QuestionType::Number => {
                let v = (q.min.unwrap_or(0.0) + 3.0).min(q.max.unwrap_or(f64::MAX));
                ("number", v.to_string(), None)
            }
            QuestionType::Email => ("text", format!("officer{i}@example.org"), None),
        };
        plan.push(Fill {
            name: q.answer_name(),
            kind,
            value,
            last_words: last,
            question_id: q.id.clone(),
            evidence: false,
        });
        if q.evidence {
            let (v, l) = long_answer(&format!("ev{i}x"));
            plan.push(Fill {
                name: ptk::contract::evidence_name(&q.id),
                kind: "text",
                value: v,
                last_words: Some(l),
                question_id: q.id.clone(),
                evidence: true,
            });
        }
    }
    plan
}

/// Fills the named cells with openpyxl, as a script or another program would.
const FILL: &str = r#"
import datetime, re, sys, zipfile
import openpyxl
src, plan_path, dst = sys.argv[1:4]
wb = openpyxl.load_workbook(src)
# openpyxl marks every row height it saves as fixed (customHeight), which Excel does
# not do for a row nobody resized. Rows the issued form left free stay free; rows it
# fixed stay fixed, so a form with fixed heights still fails.
with zipfile.ZipFile(src) as z:
    for ws, part in zip(wb.worksheets, sorted(
            (n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
            key=lambda n: int(re.search(r"\d+", n).group()))):
        xml = z.read(part).decode("utf-8")
        fixed = {int(m.group(1)) for m in re.finditer(r'<row r="(\d+)"[^>]*customHeight="(?:1|true)"', xml)}
        for r, dim in list(ws.row_dimensions.items()):
            if r not in fixed:
                dim.height = None
plan = [l.rstrip("\n").split("\t") for l in open(plan_path, encoding="utf-8")]
for name, kind, value in plan:
    dests = list(wb.defined_names[name].destinations)
    assert len(dests) == 1, (name, dests)
    sheet, coord = dests[0]
    cell = wb[sheet][coord.replace("$", "")]
    if kind == "date":
        cell.value = datetime.datetime.fromisoformat(value)
    elif kind == "number":
        cell.value = float(value)
    else:
        cell.value = value
wb.save(dst)
"#;

/// A Python that can drive LibreOffice (its `uno` module; Debian package python3-uno,
/// which scripts/install-test-tools.sh installs). Missing: fails under CI, else skips.
fn uno_python(test: &str) -> Option<PathBuf> {
    let found = ["/usr/bin/python3", "python3"].iter().find_map(|py| {
        Command::new(py)
            .args(["-c", "import uno"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from(py))
    });
    if found.is_none() {
        let why = format!(
            "{test}: no Python with LibreOffice's uno module (python3-uno); run scripts/install-test-tools.sh"
        );
        assert!(std::env::var_os("CI").is_none(), "{why} (CI must have it)");
        eprintln!("SKIPPED {why}");
    }
    found
}

/// Runs LibreOffice headless with its own profile (tests run in parallel).
fn soffice_convert(soffice: &Path, dir: &Path, to: &str, input: &Path, out_dir: &Path) {
    let profile = dir.join("lo-profile");
    let out = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out_dir)
        .arg(input)
        .output()
        .expect("soffice runs");
    assert!(
        out.status.success(),
        "soffice --convert-to {to} {}: {}",
        input.display(),
        text(&out.stderr)
    );
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils; scripts/install-test-tools.sh installs it)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Words as a reader sees them, whatever the line breaks.
    text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Issues `template` for one partnership, fills it through openpyxl with long answers,
/// re-saves it with LibreOffice; returns the template, the plan and the re-saved file.
fn filled_and_resaved(
    dir: &Path,
    soffice: &Path,
    uno: &Path,
    template: &str,
    partnership: &str,
) -> (Template, Vec<Fill>, PathBuf) {
    let out = issue(dir, template, &["--partnership", partnership]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = ptk::template::find(&repo().join("templates"), template).unwrap();
    let plan = fill_plan(&t);
    // name, kind, value: one a line, tab-separated (no value holds a tab or newline).
    let lines: Vec<String> = plan
        .iter()
        .map(|f| format!("{}\t{}\t{}\n", f.name, f.kind, f.value))
        .collect();
    let plan_path = dir.join("plan.tsv");
    std::fs::write(&plan_path, lines.concat()).unwrap();
    let issued = dir
        .join("out")
        .join(ptk::issue::file_name(partnership, template, 2026));
    std::fs::create_dir_all(dir.join("filled")).unwrap();
    let filled = dir.join("filled").join(issued.file_name().unwrap());
    run_python(
        dir,
        FILL,
        &[
            issued.to_str().unwrap(),
            plan_path.to_str().unwrap(),
            filled.to_str().unwrap(),
        ],
    );
    let resaved_dir = dir.join("resaved");
    std::fs::create_dir_all(&resaved_dir).unwrap();
    let resaved = resaved_dir.join(issued.file_name().unwrap());
    let script = repo().join("tests/tools/lo_refit_resave.py");
    let pipe = format!(
        "ptk_forms_{}_{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    );
    let out = Command::new(uno)
        .arg(&script)
        .arg(&filled)
        .arg(&resaved)
        .arg(dir.join("lo-uno-profile"))
        .arg(&pipe)
        .output()
        .expect("python with uno runs");
    assert!(
        out.status.success() && resaved.exists(),
        "LibreOffice re-saved {}: {}{}",
        filled.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
    let _ = soffice;
    (t, plan, resaved)
}

/// Every long answer, typed in and re-saved with LibreOffice, prints whole: the last
/// words of each are on the page (no fixed row height or merged cell hides them).
/// The re-saved file still ingests with every answer and evidence note read in full.
fn long_answers_print_whole_and_ingest(template: &str, partnership: &str) {
    let test = format!("long_answers_print_whole_and_ingest({template})");
    let (Some(soffice), Some(uno)) = (soffice(&test), uno_python(&test)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, plan, resaved) = filled_and_resaved(dir.path(), &soffice, &uno, template, partnership);

    let pdf_dir = dir.path().join("pdf");
    soffice_convert(&soffice, dir.path(), "pdf", &resaved, &pdf_dir);
    let pdf = pdf_dir.join(resaved.with_extension("pdf").file_name().unwrap());
    let printed = pdf_text(&pdf);
    let mut missing = Vec::new();
    for f in &plan {
        if let Some(words) = &f.last_words {
            if !printed.contains(words.as_str()) {
                missing.push(format!("{} ends '{words}'", f.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{template}: these answers are cut off on the printed form:\n  {}",
        missing.join("\n  ")
    );

    // The re-saved form ingests, with every answer read in full.
    let store_path = dir.path().join("ptk.db");
    let out = ptk(
        dir.path(),
        &[
            "ingest",
            resaved.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
            "--store",
            store_path.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{template}: the filled form ingests: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let store = Store::open(&store_path).unwrap();
    let c = store.connection();
    for f in &plan {
        let (value, evidence): (Option<String>, Option<String>) = c
            .query_row(
                "SELECT value, evidence FROM answers WHERE question_id = ?1",
                [&f.question_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("{template}: {} was read: {e}", f.question_id));
        let got = if f.evidence { evidence } else { value };
        let got = got.unwrap_or_default();
        match f.kind {
            "text" => assert_eq!(got, f.value, "{template}: {} read in full", f.name),
            "date" => assert!(got.starts_with(&f.value), "{}: {got}", f.name),
            _ => assert_eq!(
                got.parse::<f64>().ok(),
                f.value.parse::<f64>().ok(),
                "{}",
                f.name
            ),
        }
    }
}

#[test]
fn self_assessment_long_answers_print_whole_and_ingest() {
    long_answers_print_whole_and_ingest("self-assessment", "LSP01");
}

#[test]
fn exit_long_answers_print_whole_and_ingest() {
    long_answers_print_whole_and_ingest("exit", "DIG15");
}

#[test]
fn new_partnership_long_answers_print_whole_and_ingest() {
    long_answers_print_whole_and_ingest("new-partnership", "ART17");
}
