//! `ptk ingest` and `ptk history` on real returned files.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;
use ptk::store::Store;

/// Runs ingest with the shipped templates and register; the store and reports go in `dir`.
fn ingest(dir: &Path, inputs: &[&Path], extra: &[&str]) -> std::process::Output {
    ingest_with(
        dir,
        inputs,
        &repo().join("templates"),
        &repo().join("samples/register.csv"),
        extra,
    )
}

fn ingest_with(
    dir: &Path,
    inputs: &[&Path],
    templates: &Path,
    register: &Path,
    extra: &[&str],
) -> std::process::Output {
    ingest_env(dir, inputs, templates, register, extra, &[])
}

fn ingest_env(
    dir: &Path,
    inputs: &[&Path],
    templates: &Path,
    register: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let store = dir.join("ptk.db");
    let mut args: Vec<String> = vec!["ingest".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    for a in [
        "--year",
        "2026",
        "--quiet",
        "--templates",
        templates.to_str().unwrap(),
        "--register",
        register.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ] {
        args.push(a.into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ptk_env(dir, &refs, env)
}

/// ingest-report.csv as file name → (status, partnership_id).
fn report(dir: &Path) -> BTreeMap<String, (String, String)> {
    let mut r = csv::Reader::from_path(dir.join("ingest-report.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let name = Path::new(&rec[0])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, (rec[2].to_string(), rec[3].to_string()))
        })
        .collect()
}

fn count(store: &Store, sql: &str) -> i64 {
    store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn samples() -> PathBuf {
    repo().join("samples/returns")
}

#[test]
fn every_sample_gets_its_expected_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &[&samples()], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "some samples are rejected: {}",
        text(&out.stderr)
    );
    // Each file's outcome follows from how scripts/make-sample-returns.py made it (the
    // comments quote what it did); findings as in docs/findings.md.
    let expected: &[(&str, &str, &[&str])] = &[
        // Risk 2's likelihood is 7 (1 to 5 allowed); risk 3 has an impact but no likelihood.
        (
            "ART17_new-partnership_2026.xlsx",
            "rejected",
            &["out-of-range", "incomplete-risk"],
        ),
        // ASS09 returned the first form and then the one re-issued on 7 December: the
        // later issue is used, the first is a duplicate.
        ("ASS09 self-assessment (re-issued).xlsx", "accepted", &[]),
        (
            "ASS09_self-assessment_2026.xlsx",
            "duplicate",
            &["duplicate-return"],
        ),
        // Complete (CSP02 re-saved by LibreOffice; CVS10 with three Not applicable).
        ("CSP02_self-assessment_2026.xlsx", "accepted", &[]),
        ("CVS10_self-assessment_2026.xlsx", "accepted", &[]),
        // Liabilities value "about 5k"; signed officer's email "grace.hughes@rochford".
        (
            "DIG15 exit document.xlsx",
            "rejected",
            &["not-a-number", "invalid-email"],
        ),
        ("ENV14_exit_2026.xlsx", "accepted", &[]),
        // F2 typed as "Good"; completed on "last Tuesday".
        (
            "HOU07_self-assessment_2026.xlsx",
            "rejected",
            &["not-an-option", "not-a-date"],
        ),
        ("HWB03 self-assessment.ods", "accepted", &[]),
        // Cut to its first third, as if damaged in transit.
        (
            "ICT12_self-assessment_2026.xlsx",
            "rejected",
            &["unreadable"],
        ),
        ("Joint LSP self assessment 2026 FINAL.xlsx", "accepted", &[]),
        // The partnership's other respondents: no respondents file is given here, so
        // their forms are accepted with a warning that says so.
        (
            "LSP01 self-assessment - Castle Point.xlsx",
            "accepted-with-warnings",
            &["unknown-respondent"],
        ),
        (
            "LSP01_self-assessment_2026_essex-police.xlsx",
            "accepted-with-warnings",
            &["unknown-respondent"],
        ),
        // P3, P4 and M2 left blank; C3 holds =C2/0, which shows #DIV/0!.
        (
            "LEI06_self-assessment_2026.xlsx",
            "rejected",
            &[
                "cell-error",
                "missing-answer",
                "missing-answer",
                "missing-answer",
            ],
        ),
        ("MGT16_new-partnership_2026.ods", "accepted", &[]),
        // A workbook of the partnership's own, not a ptk form (no _ptk sheet).
        ("Partnership budget 2026.xlsx", "rejected", &["not-ptk"]),
        ("SEP04_self-assessment_2026.xls", "accepted", &[]),
        // Last year's (2025) form.
        (
            "TOU11_self-assessment_2025.xlsx",
            "rejected",
            &["wrong-year"],
        ),
        // Scores typed as numbers (WST05) and as loose labels (YTH13).
        ("WST05 return.xlsx", "accepted", &[]),
        ("Youth strategy group review.ods", "accepted", &[]),
        // Not a spreadsheet, and Excel's lock file for the open LSP form.
        ("notes from Helen.txt", "skipped", &[]),
        (
            "~$Joint LSP self assessment 2026 FINAL.xlsx",
            "skipped",
            &[],
        ),
    ];
    let got = report(dir.path());
    let files_on_disk = std::fs::read_dir(samples()).unwrap().count();
    assert_eq!(
        got.len(),
        files_on_disk,
        "every input file is in the report exactly once"
    );
    let codes = finding_codes(dir.path());
    for (file, status, want_codes) in expected {
        let (s, _) = got
            .get(*file)
            .unwrap_or_else(|| panic!("{file} missing from the report"));
        assert_eq!(s, status, "{file}");
        let mut have: Vec<String> = codes.get(*file).cloned().unwrap_or_default();
        let mut want: Vec<String> = want_codes.iter().map(|s| s.to_string()).collect();
        have.sort();
        want.sort();
        assert_eq!(have, want, "{file}");
    }
    assert_eq!(got.len(), expected.len());

    // The store holds the accepted returns only, each scored.
    let accepted = expected
        .iter()
        .filter(|(_, status, _)| status.starts_with("accepted"))
        .count();
    let read = expected
        .iter()
        .filter(|(_, status, _)| *status != "skipped")
        .count();
    assert_eq!(accepted, 12);
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM returns WHERE current = 1"),
        accepted as i64
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM returns WHERE template_id = 'self-assessment' AND overall IS NULL"),
        0
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM files"),
        read as i64,
        "every read file is recorded (not the skipped)"
    );
    // The new-partnership risks are scored: MGT16's risk 3 ("Political change") was
    // given likelihood 4 and impact 4: 4 × 4 = 16, High from 15 (new-partnership.toml).
    let (score, rating): (String, String) = store
        .connection()
        .query_row(
            "SELECT s.value, r.value FROM answers s JOIN answers r ON r.return_id = s.return_id
             JOIN returns x ON x.id = s.return_id
             WHERE x.partnership_id = 'MGT16' AND s.question_id = 'risks_3_score' AND r.question_id = 'risks_3_rating'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((score.as_str(), rating.as_str()), ("16", "High"));
}

#[test]
fn the_same_answers_read_the_same_from_every_saver() {
    // tests/fixtures/savers holds one set of answers saved by openpyxl and by LibreOffice
    // as xlsx, ods and xls. Statement i of 25 was given option i % 5, M6 Not applicable:
    // Foundations 13/32, Partners 13/24, Communication 10/20, Measuring 10/20 (M6 left out).
    let want_sections = [40.625, 100.0 * 13.0 / 24.0, 50.0, 50.0];
    let want_overall = want_sections.iter().sum::<f64>() / 4.0;
    for f in [
        "openpyxl.xlsx",
        "libreoffice.xlsx",
        "libreoffice.ods",
        "libreoffice.xls",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = repo().join("tests/fixtures/savers").join(f);
        let out = ingest(dir.path(), &[&path], &[]);
        assert!(out.status.success(), "{f}: {}", text(&out.stderr));
        let store = Store::open(&dir.path().join("ptk.db")).unwrap();
        let c = store.connection();
        let pid: String = c
            .query_row("SELECT partnership_id FROM returns", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pid, "WST05", "{f} identified");
        let score = |scope: &str| -> f64 {
            c.query_row(
                "SELECT percent FROM scores WHERE scope = ?1",
                [scope],
                |r| r.get(0),
            )
            .unwrap()
        };
        for (scope, want) in ["foundations", "partners", "communication", "measuring"]
            .iter()
            .zip(want_sections)
        {
            assert!(
                (score(scope) - want).abs() < 1e-9,
                "{f} {scope}: {} vs {want}",
                score(scope)
            );
        }
        assert!((score("overall") - want_overall).abs() < 1e-9, "{f}");
        let band: String = c
            .query_row("SELECT band FROM returns", [], |r| r.get(0))
            .unwrap();
        assert_eq!(band, "Red", "{f}: {want_overall:.1}% is under 50");
        let answer = |q: &str| -> (String, String) {
            c.query_row(
                "SELECT value, evidence FROM answers WHERE question_id = ?1",
                [q],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(answer("F2").0, "1 - Planned or just started", "{f}");
        assert_eq!(
            answer("F1").1,
            "Terms of reference reviewed at the March board.",
            "{f}"
        );
        assert_eq!(answer("M6").0, "Not applicable", "{f}");
        assert_eq!(answer("completed_on").0, "2026-12-04", "{f}");
        assert_eq!(
            answer("completed_email").0,
            "sarah.bentley@rochford.gov.uk",
            "{f}"
        );
    }
}

#[test]
fn doctored_files_are_rejected_with_the_right_code() {
    let dir = tempfile::tempdir().unwrap();
    let fx = repo().join("tests/fixtures/returns");
    let out = ingest(dir.path(), &[&fx], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let got = report(dir.path());
    let codes = finding_codes(dir.path());
    for (file, status, code) in [
        ("encrypted.xlsx", "rejected", Some("encrypted")),
        (
            "structure-changed.xlsx",
            "rejected",
            Some("structure-changed"),
        ),
        (
            "unknown-partnership.xlsx",
            "rejected",
            Some("unknown-partnership"),
        ),
        (
            "unknown-template.xlsx",
            "rejected",
            Some("unknown-template"),
        ),
        ("unknown-version.xlsx", "rejected", Some("unknown-version")),
        ("names-dropped.xlsx", "accepted", None),
    ] {
        assert_eq!(got[file].0, status, "{file}");
        assert_eq!(codes.get(file).map(|c| c[0].as_str()), code, "{file}");
    }
    let msgs = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    assert!(msgs.contains("password-protected"), "{msgs}");
    assert!(
        msgs.contains("partnership 'ZZZ99', which is not in the register"),
        "{msgs}"
    );
}

#[test]
fn too_large_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let f = samples().join("WST05 return.xlsx");
    let out = ingest(dir.path(), &[&f], &["--max-file-mb", "0"]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    assert_eq!(
        finding_codes(dir.path())["WST05 return.xlsx"],
        vec!["too-large"]
    );
}

/// Copies the shipped templates into `dir/templates`, applying `edit` to the self-assessment.
/// The self-assessment as it was at version 1 (before the objectives table).
fn v1() -> String {
    std::fs::read_to_string(repo().join("tests/fixtures/self-assessment-v1.toml")).unwrap()
}

fn templates_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let t = dir.join("templates");
    std::fs::create_dir_all(&t).unwrap();
    for f in ["self-assessment.toml", "exit.toml", "new-partnership.toml"] {
        let mut s = std::fs::read_to_string(repo().join("templates").join(f)).unwrap();
        if f == "self-assessment.toml" {
            s = edit(s);
        }
        std::fs::write(t.join(f), s).unwrap();
    }
    t
}

#[test]
fn an_older_version_is_read_when_its_questions_still_map() {
    let dir = tempfile::tempdir().unwrap();
    // Version 1's questions as version 2, with nothing marked as added (`since`).
    let t = templates_copy(dir.path(), |_| v1().replace("version = 1", "version = 2"));
    let f = samples().join("WST05 return.xlsx");
    let out = ingest_with(
        dir.path(),
        &[&f],
        &t,
        &repo().join("samples/register.csv"),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        report(dir.path())["WST05 return.xlsx"].0,
        "accepted-with-warnings"
    );
    assert_eq!(
        finding_codes(dir.path())["WST05 return.xlsx"],
        vec!["older-version"]
    );
}

#[test]
fn an_older_version_missing_a_question_is_rejected_naming_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let t = templates_copy(dir.path(), |_| {
        v1().replace("version = 1", "version = 2")
            + "\n[[sections.questions]]\nid = \"new_q\"\ntext = \"A question added in version 2\"\ntype = \"text\"\n"
    });
    let f = samples().join("WST05 return.xlsx");
    let out = ingest_with(
        dir.path(),
        &[&f],
        &t,
        &repo().join("samples/register.csv"),
        &[],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    assert_eq!(
        finding_codes(dir.path())["WST05 return.xlsx"],
        vec!["unknown-version"]
    );
    let msgs = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    assert!(
        msgs.contains("version 1 of 'self-assessment'")
            && msgs.contains("A question added in version 2"),
        "{msgs}"
    );
}

#[test]
fn a_return_that_does_not_fit_the_register_status_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let reg = std::fs::read_to_string(repo().join("samples/register.csv"))
        .unwrap()
        .replace(
            "Rochford Community and Voluntary Services,2009-04-01",
            "X,2009-04-01",
        )
        .replacen(
            "Enable communities,active,Rochford District Council,Castle Point",
            "Enable communities,exiting,Rochford District Council,Castle Point",
            1,
        );
    let r = dir.path().join("register.csv");
    std::fs::write(&r, reg).unwrap();
    let f = samples().join("Joint LSP self assessment 2026 FINAL.xlsx");
    let out = ingest_with(dir.path(), &[&f], &repo().join("templates"), &r, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let name = "Joint LSP self assessment 2026 FINAL.xlsx";
    assert_eq!(report(dir.path())[name].0, "accepted-with-warnings");
    assert_eq!(finding_codes(dir.path())[name], vec!["status-mismatch"]);
}

#[test]
fn re_ingesting_unchanged_files_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &[&samples()], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let store_counts = |dir: &Path| {
        let s = Store::open(&dir.join("ptk.db")).unwrap();
        ["returns", "answers", "scores", "files", "findings"]
            .map(|t| count(&s, &format!("SELECT COUNT(*) FROM {t}")))
    };
    let before = store_counts(dir.path());
    let first_findings = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    let out = ingest(dir.path(), &[&samples()], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "rejected files still need correcting"
    );
    assert_eq!(store_counts(dir.path()), before);
    // Rejected files are read again (something outside them may have been fixed);
    // the rest are skipped as unchanged.
    let statuses: BTreeSet<String> = report(dir.path()).into_values().map(|(s, _)| s).collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["unchanged", "skipped", "rejected"].map(String::from))
    );
    // The findings of unchanged files are still reported.
    let second = std::fs::read_to_string(dir.path().join("findings.csv")).unwrap();
    assert_eq!(second.lines().count(), first_findings.lines().count());
}

#[test]
fn a_rejected_file_is_read_again_and_accepted_once_the_register_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let f = repo().join("tests/fixtures/returns/unknown-partnership.xlsx");
    let out = ingest(dir.path(), &[&f], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let name = "unknown-partnership.xlsx";
    assert_eq!(finding_codes(dir.path())[name], vec!["unknown-partnership"]);
    // The officer adds the partnership to the register and runs again.
    let mut reg = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    reg.push_str("ZZZ99,Zeta Partnership,Operational,Zoe Zed,zoe.zed@rochford.gov.uk,Angela Hutchings,,Enable communities,active,Rochford District Council,Essex Police,2020-01-01,\n");
    let r = dir.path().join("register.csv");
    std::fs::write(&r, reg).unwrap();
    let out = ingest_with(dir.path(), &[&f], &repo().join("templates"), &r, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        report(dir.path())[name],
        ("accepted".into(), "ZZZ99".into())
    );
    assert!(!finding_codes(dir.path()).contains_key(name));
    let s = Store::open(&dir.path().join("ptk.db")).unwrap();
    assert_eq!(
        count(
            &s,
            "SELECT COUNT(*) FROM returns WHERE partnership_id = 'ZZZ99' AND current = 1"
        ),
        1
    );
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM files WHERE status = 'rejected'"),
        0
    );
    assert_eq!(count(&s, "SELECT COUNT(*) FROM findings"), 0);
}

#[test]
fn a_file_that_makes_the_reader_panic_is_rejected_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let victim = "ASS09_self-assessment_2026.xlsx";
    let out = ingest_env(
        dir.path(),
        &[&samples()],
        &repo().join("templates"),
        &repo().join("samples/register.csv"),
        &[],
        &[("PTK_TEST_PANIC_ON", victim)],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let got = report(dir.path());
    assert_eq!(got[victim].0, "rejected");
    assert_eq!(finding_codes(dir.path())[victim], vec!["unreadable"]);
    // Every other file still got its normal outcome.
    let reference = tempfile::tempdir().unwrap();
    let out = ingest(reference.path(), &[&samples()], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let mut expected = report(reference.path());
    expected.remove(victim);
    let mut rest = got.clone();
    rest.remove(victim);
    assert_eq!(rest, expected);
}

#[test]
fn a_report_that_cannot_be_written_says_the_run_was_saved() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the report file should go: the rename onto it fails.
    std::fs::create_dir(dir.path().join("ingest-report.csv")).unwrap();
    let f = samples().join("ASS09_self-assessment_2026.xlsx");
    let out = ingest(dir.path(), &[&f], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    let err = text(&out.stderr);
    assert!(err.contains("the run was saved to"), "{err}");
    assert!(!err.contains("nothing from this run was saved"), "{err}");
    let s = Store::open(&dir.path().join("ptk.db")).unwrap();
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM returns WHERE current = 1"),
        1
    );
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ptk-tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_corrected_return_replaces_the_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let first = samples().join("ASS09_self-assessment_2026.xlsx");
    let second = samples().join("ASS09 self-assessment (re-issued).xlsx");
    assert!(ingest(dir.path(), &[&first], &[]).status.success());
    let out = ingest(dir.path(), &[&second], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout)
        .contains("A corrected self-assessment return for ASS09 (2026) replaced the earlier one."));
    let s = Store::open(&dir.path().join("ptk.db")).unwrap();
    let c = s.connection();
    let (current_path, old_replaced): (String, i64) = c
        .query_row(
            "SELECT n.path, o.replaced_by FROM returns n JOIN returns o ON o.replaced_by = n.id WHERE n.current = 1 AND o.current = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(current_path.ends_with("(re-issued).xlsx"));
    assert!(old_replaced > 0);
    assert_eq!(
        count(
            &s,
            "SELECT COUNT(*) FROM returns WHERE partnership_id = 'ASS09' AND current = 1"
        ),
        1
    );
    // History export shows only the current return's scores.
    let h = s.history("self-assessment").unwrap();
    let overall: Vec<f64> = h
        .iter()
        .filter(|r| r.partnership_id == "ASS09" && r.scope == "overall")
        .map(|r| r.percent)
        .collect();
    let current: f64 = c
        .query_row("SELECT overall FROM returns WHERE current = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(overall, vec![current]);
}

#[test]
fn a_killed_run_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let first = samples().join("WST05 return.xlsx");
    assert!(ingest(dir.path(), &[&first], &[]).status.success());
    let snapshot = |dir: &Path| {
        let s = Store::open(&dir.join("ptk.db")).unwrap();
        ["runs", "returns", "answers", "scores", "files", "findings"]
            .map(|t| count(&s, &format!("SELECT COUNT(*) FROM {t}")))
    };
    let before = snapshot(dir.path());
    let store = dir.path().join("ptk.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ptk"))
        .args([
            "ingest",
            samples().to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--store",
            store.to_str().unwrap(),
        ])
        .args([
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
        ])
        .env("PTK_TEST_CRASH_AFTER", "8")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        !out.status.success() && out.status.code().is_none(),
        "the run was killed part-way: {:?}",
        out.status
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing of the killed run was kept"
    );
    // And the next run completes normally.
    let out = ingest(dir.path(), &[&samples()], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    assert_eq!(snapshot(dir.path())[1], 12);
}

#[test]
fn inputs_are_never_modified() {
    let dir = tempfile::tempdir().unwrap();
    let hash = |p: &Path| std::fs::read(p).unwrap();
    let files: Vec<PathBuf> = std::fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let before: Vec<Vec<u8>> = files.iter().map(|p| hash(p)).collect();
    let out = ingest(dir.path(), &[&samples()], &[]);
    // The run really read them all: some rejected (exit 1), every file reported, and
    // the accepted ones stored; a run that stopped at once would leave them untouched too.
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        report(dir.path()).len(),
        files.len(),
        "every file was looked at"
    );
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    assert!(count(&store, "SELECT COUNT(*) FROM returns WHERE current = 1") > 0);
    for (path, was) in files.iter().zip(&before) {
        assert!(hash(path) == *was, "{} was modified", path.display());
    }
}

#[test]
fn missing_input_or_bad_store_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &[Path::new("no-such-folder")], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(text(&out.stderr).contains("no-such-folder"));
    std::fs::write(
        dir.path().join("ptk.db"),
        b"this is not a database, just text",
    )
    .unwrap();
    let out = ingest(dir.path(), &[&samples()], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(
        text(&out.stderr).contains("not a ptk history store"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn history_import_and_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = import_sample_history(dir.path());
    let h = repo().join("samples/history.csv");
    let out = ptk(
        dir.path(),
        &["history", "export", "--store", store.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    let exported = exported
        .strip_prefix('\u{feff}')
        .expect("a CSV with the byte-order mark, even on standard output");
    let mut original: Vec<String> = std::fs::read_to_string(&h)
        .unwrap()
        .lines()
        .map(|l| l.to_string())
        .collect();
    assert!(
        exported.lines().next().unwrap().ends_with(",respondents"),
        "the export says how many respondents each stored result comes from"
    );
    // Imported rows have no respondents count: the last column is blank.
    let mut got: Vec<String> = exported
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect();
    original.sort();
    got.sort();
    assert_eq!(got, original, "export gives back what was imported");

    std::fs::write(
        dir.path().join("bad.csv"),
        "year,partnership_id,section_id,percent\n2025,LSP01,overall,abc\n",
    )
    .unwrap();
    let out = ptk(
        dir.path(),
        &[
            "history",
            "import",
            "bad.csv",
            "--store",
            store.to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    assert!(
        text(&out.stderr).contains("bad.csv:2:"),
        "{}",
        text(&out.stderr)
    );
}
