//! A year lived in the store (issue #17): the store is never silently replaced, runs
//! are listed and undone, a run changes only its own year.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The flags every command of these tests shares: the shipped templates and register,
/// and the store in `dir`.
fn sources(dir: &Path) -> Vec<String> {
    vec![
        "--templates".into(),
        repo().join("templates").to_str().unwrap().into(),
        "--register".into(),
        repo().join("samples/register.csv").to_str().unwrap().into(),
        "--store".into(),
        dir.join("ptk.db").to_str().unwrap().into(),
    ]
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let flags = sources(dir);
    // `ptk runs` and `ptk history` take only the store.
    let only_store = args[0] == "runs" || args[..2] == ["history", "export"];
    all.extend(if only_store {
        flags[4..].to_vec()
    } else {
        flags
    });
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    ptk(dir, &all)
}

/// `ptk review` of the shipped sample returns for `year`, with the sample history.
fn review(dir: &Path, year: &str) -> Output {
    let returns = repo().join("samples/returns");
    let history = repo().join("samples/history.csv");
    run(
        dir,
        &[
            "review",
            s(&returns),
            "--year",
            year,
            "--quiet",
            "--history",
            s(&history),
        ],
    )
}

fn ingest(dir: &Path, folder: &Path, year: &str) -> Output {
    run(dir, &["ingest", s(folder), "--year", year, "--quiet"])
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

/// Files in `dir` besides `keep` (to see no -wal, -shm or new store was left).
fn others(dir: &Path, keep: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != keep)
        .collect();
    v.sort();
    v
}

#[test]
fn an_empty_a_foreign_and_a_newer_store_are_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let returns = repo().join("samples/returns");
    // A store from a newer ptk: a real store, marked with a later schema.
    let build = tmp.path().join("build");
    std::fs::create_dir(&build).unwrap();
    let o = review(&build, "2026");
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    {
        let c = rusqlite::Connection::open(build.join("ptk.db")).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let newer_dir = tmp.path().join("newer");
    std::fs::create_dir(&newer_dir).unwrap();
    std::fs::copy(build.join("ptk.db"), newer_dir.join("ptk.db")).unwrap();
    // Another program's database.
    let foreign_dir = tmp.path().join("foreign");
    std::fs::create_dir(&foreign_dir).unwrap();
    {
        let c = rusqlite::Connection::open(foreign_dir.join("ptk.db")).unwrap();
        c.execute_batch("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');")
            .unwrap();
    }
    // An interrupted copy: 0 bytes.
    let empty_dir = tmp.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    std::fs::write(empty_dir.join("ptk.db"), b"").unwrap();
    // Not SQLite at all.
    let text_dir = tmp.path().join("text");
    std::fs::create_dir(&text_dir).unwrap();
    std::fs::write(text_dir.join("ptk.db"), b"partnership notes\n".repeat(20)).unwrap();

    for (dir, says) in [
        (&empty_dir, "is an empty file (0 bytes)"),
        (&foreign_dir, "an SQLite database of another program"),
        (&newer_dir, "written by a newer ptk (store schema 99"),
        (&text_dir, "not an SQLite database at all"),
    ] {
        let store = dir.join("ptk.db");
        let before = std::fs::read(&store).unwrap();
        for args in [
            vec!["ingest", s(&returns), "--year", "2026", "--quiet"],
            vec!["report", "--year", "2026"],
            vec!["status", "--year", "2026"],
            vec!["runs"],
        ] {
            let o = run(dir, &args);
            let err = text(&o.stderr);
            assert_eq!(code(&o), 2, "{args:?} on {}: {err}", dir.display());
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(err.contains("ptk left it alone"), "{err}");
            assert_eq!(
                std::fs::read(&store).unwrap(),
                before,
                "{args:?} changed {}",
                store.display()
            );
            assert_eq!(
                others(dir, &store),
                Vec::<PathBuf>::new(),
                "{args:?} left files"
            );
        }
    }
}

#[test]
fn the_review_is_never_written_over_the_store_or_the_register() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = review(dir, "2026");
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    let store = dir.join("ptk.db");
    let before = std::fs::read(&store).unwrap();
    let o = run(dir, &["report", "--year", "2026", "--out", s(&store)]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    complains(&o, "is the history store");
    assert_eq!(std::fs::read(&store).unwrap(), before);
    // The same file named another way.
    let other = dir.join(".").join("ptk.db");
    let o = run(dir, &["report", "--year", "2026", "--out", s(&other)]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    let register = repo().join("samples/register.csv");
    let reg_before = std::fs::read(&register).unwrap();
    let o = run(dir, &["report", "--year", "2026", "--out", s(&register)]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    complains(&o, "is the register");
    assert_eq!(std::fs::read(&register).unwrap(), reg_before);
    for args in [
        vec!["status", "--year", "2026", "--csv", s(&store)],
        vec!["history", "export", "--out", s(&store)],
    ] {
        let o = run(dir, &args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert_eq!(std::fs::read(&store).unwrap(), before, "{args:?}");
    }
}

/// `ptk history export` and `ptk status --csv` for 2026, as bytes.
fn snapshot(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let export = dir.join("export.csv");
    let status = dir.join("status.csv");
    let o = run(dir, &["history", "export", "--out", s(&export)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = run(dir, &["status", "--year", "2026", "--csv", s(&status)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    (
        std::fs::read(export).unwrap(),
        std::fs::read(status).unwrap(),
    )
}

#[test]
fn undoing_a_run_puts_the_history_and_status_back_byte_for_byte_and_keeps_the_mail_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let returns = repo().join("samples/returns");
    // Run 1 imports the history, run 2 reads 2026's returns.
    let o = review(dir, "2026");
    assert_eq!(
        code(&o),
        1,
        "six sample returns are rejected: {}",
        text(&o.stderr)
    );
    let said = format!("{}{}", text(&o.stdout), text(&o.stderr));
    let summary = said
        .lines()
        .find(|l| l.contains(" files: ") && l.contains(" rejected"))
        .unwrap_or_else(|| panic!("no run summary in {said}"))
        .trim_end_matches('.')
        .to_string();
    let before = snapshot(dir);
    // Run 3: the same folder read by mistake as 2025.
    let o = ingest(dir, &returns, "2025");
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    let o = run(dir, &["runs"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let listed = text(&o.stdout);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(
        listed.lines().next().unwrap().starts_with("run 1 ") && listed.contains(" history "),
        "{listed}"
    );
    let third = listed.lines().nth(2).unwrap();
    assert!(
        third.starts_with("run 3 ") && third.contains("  2025  ") && third.contains("--year 2025"),
        "{third}"
    );
    assert!(dir.join("ptk.db.backups/before-run-3.db").exists());

    let o = run(dir, &["runs", "undo", "3"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    says(&o, "Undid 1 run(s)");
    assert!(text(&o.stdout).contains("  run 3 "), "{}", text(&o.stdout));
    assert!(
        before == snapshot(dir),
        "the store is not back as it was before run 3"
    );

    // Mail drafted after a run is still recorded after that run is undone.
    let o = ingest(dir, &returns, "2026");
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    // Each run's line says what that run said when it finished: run 2 keeps its own
    // rejections although run 3 has just read the same rejected files again.
    let o = run(dir, &["runs"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let listed = text(&o.stdout);
    let second = listed.lines().nth(1).unwrap_or_default();
    assert!(
        second.starts_with("run 2 ") && second.contains(&summary),
        "{second} / {summary}"
    );
    let corrections = |dir: &Path| {
        let o = run(
            dir,
            &[
                "mail",
                "corrections",
                "--year",
                "2026",
                "--from",
                "reviews@council.example",
                "--deadline",
                "2027-01-29",
                "--return-address",
                "reviews@council.example",
            ],
        );
        assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let first = corrections(dir);
    assert!(
        first.contains(" drafted as .eml files") && !first.starts_with("0 drafted"),
        "{first}"
    );
    let o = run(dir, &["runs", "undo", "3"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let again = corrections(dir);
    assert!(
        again.contains("0 drafted as .eml files"),
        "undo forgot the mail log: {again}"
    );
    // Undoing a run whose copy is gone, or one that does not exist, says so.
    let o = run(dir, &["runs", "undo", "9"]);
    assert_eq!(code(&o), 2);
    complains(&o, "there is no run 9");
}

/// A sheet's cells as text, row by row.
fn sheet_text(path: &Path, name: &str) -> Vec<Vec<String>> {
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// What 2026 shows: its status CSV, its rows of the history export, and the review's
/// Summary, Outstanding and Findings sheets.
fn year_2026(dir: &Path) -> (Vec<u8>, Vec<String>, Vec<Vec<Vec<String>>>) {
    let (export, status) = snapshot(dir);
    let rows = String::from_utf8(export)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("2026,"))
        .map(String::from)
        .collect();
    let out = dir.join("review-2026-check.xlsx");
    let o = run(dir, &["report", "--year", "2026", "--out", s(&out)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let sheets = ["Summary", "Outstanding", "Findings"]
        .iter()
        .map(|n| sheet_text(&out, n))
        .collect();
    (status, rows, sheets)
}

#[test]
fn a_run_for_2025_on_2026s_folder_changes_nothing_2026_shows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = review(dir, "2026");
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let before = year_2026(dir);
    assert!(!before.1.is_empty(), "2026 has scores");
    let returns = repo().join("samples/returns");
    let o = ingest(dir, &returns, "2025");
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("already recorded for another year (2026) were left as they are"),
        "{out}"
    );
    // TOU11's stray 2025 form, rejected in 2026 as the wrong year, stays 2026's and
    // does not replace its imported 2025 score: only on request.
    assert!(
        out.contains("TOU11_self-assessment_2025.xlsx (recorded for 2026)")
            && out.contains("--replace-year 2025"),
        "{out}"
    );
    // Those files are 2026's: 2025's findings.csv does not list them.
    let csv = finding_codes(dir);
    let left: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_suffix(" (recorded for 2026)"))
        .map(|p| p.trim().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(left.len(), 7, "{out}");
    for name in left {
        assert!(
            !csv.contains_key(name),
            "{name} in 2025's findings.csv: {csv:?}"
        );
    }
    let after = year_2026(dir);
    assert_eq!(before.0, after.0, "status --csv for 2026 changed");
    assert_eq!(before.1, after.1, "2026's history changed");
    for (i, name) in ["Summary", "Outstanding", "Findings"].iter().enumerate() {
        assert_eq!(before.2[i], after.2[i], "the 2026 {name} sheet changed");
    }
    // Named explicitly, the 2025 return replaces the imported score, and says so.
    let o = run(
        dir,
        &[
            "ingest",
            s(&returns),
            "--year",
            "2025",
            "--quiet",
            "--replace-year",
            "2025",
        ],
    );
    assert!(matches!(code(&o), 0 | 1), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("TOU11's return for 2025 (")
            && text(&o.stdout).contains("replaced its imported 2025 scores"),
        "{}",
        text(&o.stdout)
    );
    let o = run(
        dir,
        &[
            "ingest",
            s(&returns),
            "--year",
            "2025",
            "--replace-year",
            "2024",
        ],
    );
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
}

/// Fills an issued self-assessment into `to`: every statement "3 - In place" except
/// `blank` (if any), and the completion details.
fn filled(form: &Path, to: &Path, blank: &str) {
    let mut values: Vec<(String, String)> = STATEMENTS
        .iter()
        .filter(|q| **q != blank)
        .map(|q| answer(q, "3 - In place"))
        .collect();
    values.extend(completed("Functioning"));
    fill_named(form, to, &values);
}

/// Every cell of a sheet, as one text.
fn sheet_cells(path: &Path, name: &str) -> String {
    sheet_text(path, name).concat().join("\n")
}

#[test]
fn a_corrected_return_resolves_its_findings_and_the_run_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = issue(dir, "self-assessment", &[]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let form = dir.join("out/HOU07_self-assessment_2026.xlsx");
    let returns = dir.join("returns");
    std::fs::create_dir(&returns).unwrap();
    filled(&form, &returns.join("HOU07 first try.xlsx"), "F1");
    let o = ingest(dir, &returns, "2026");
    assert_eq!(
        code(&o),
        1,
        "a required answer is missing: {}",
        text(&o.stdout)
    );
    assert!(finding_codes(dir).contains_key("HOU07 first try.xlsx"));
    // The corrected form arrives; the rejected one stays in the folder.
    filled(&form, &returns.join("HOU07 corrected.xlsx"), "");
    let o = ingest(dir, &returns, "2026");
    assert_eq!(
        code(&o),
        0,
        "nothing else is wrong: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    says(
        &o,
        "1 rejected file(s) of 2026 are resolved by an accepted return",
    );
    assert!(
        !text(&o.stdout).contains("need correcting"),
        "{}",
        text(&o.stdout)
    );
    let csv = finding_codes(dir);
    assert!(!csv.contains_key("HOU07 first try.xlsx"), "{csv:?}");
    let out = dir.join("review.xlsx");
    let o = run(dir, &["report", "--year", "2026", "--out", s(&out)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let sheet = sheet_cells(&out, "Findings");
    assert!(!sheet.contains("HOU07 first try"), "{sheet}");
    // The two list the same files.
    for name in csv.keys() {
        assert!(
            sheet.contains(name.as_str()),
            "{name} is in findings.csv, not the sheet"
        );
    }
    // Undoing the corrected return's run opens the findings again.
    let o = run(dir, &["runs", "undo", "2"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = run(dir, &["report", "--year", "2026", "--out", s(&out)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(sheet_cells(&out, "Findings").contains("HOU07 first try"));
}

#[test]
fn history_import_rejects_each_bad_row_with_its_line_and_imports_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv = dir.join("history.csv");
    std::fs::write(
        &csv,
        "year,partnership_id,section_id,percent\n\
         2025,HWB03,overall,61.5\n\
         2025,ZZZ99,overall,50\n\
         2025,hwb03,partners,50\n\
         2025,HWB03,foundation,50\n\
         1999,HWB03,overall,50\n\
         2025,HWB03,partners,150\n\
         2025,HWB03,overall,62\n",
    )
    .unwrap();
    let import = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["history", "import", s(&csv)];
        args.extend_from_slice(extra);
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(sources(dir));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        ptk(dir, &all)
    };
    let o = import(dir, &[]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    let at = |line: u32| format!("{}:{line}:", csv.display());
    for (line, says) in [
        (3, "partnership 'ZZZ99' is not in the register"),
        (4, "partnership 'hwb03' is written 'HWB03' in the register"),
        (
            5,
            "section 'foundation' is not a section of the self-assessment",
        ),
        (6, "expected a year from 2000 to 2100"),
        (7, "a percent from 0 to 100"),
        (8, "repeats line 2 (2025 HWB03 overall)"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&at(line)) && l.contains(says)),
            "line {line}: {says}\n{err}"
        );
    }
    assert!(err.contains("Nothing was imported"), "{err}");
    assert!(
        !dir.join("ptk.db").exists(),
        "no store was made for nothing"
    );
    // A UTF-16 file (Excel's "Unicode Text") says how to save it.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "year,partnership_id,section_id,percent\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    std::fs::write(&csv, utf16).unwrap();
    let o = import(dir, &[]);
    assert_eq!(code(&o), 1);
    complains(&o, "CSV UTF-8 (Comma delimited)");
}

#[test]
fn history_import_says_how_many_rows_returns_shadow() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = review(dir, "2026");
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    // 2026's overall score for every partnership whose 2026 return was read.
    let export = dir.join("export.csv");
    let o = run(dir, &["history", "export", "--out", s(&export)]);
    assert_eq!(code(&o), 0);
    let scored: Vec<String> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("2026,") && l.contains(",overall,"))
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    assert!(!scored.is_empty());
    let csv = dir.join("late.csv");
    let mut text_csv = String::from("year,partnership_id,section_id,percent\n");
    for id in &scored {
        text_csv.push_str(&format!("2026,{id},overall,10\n"));
    }
    std::fs::write(&csv, text_csv).unwrap();
    let o = run(dir, &["history", "import", s(&csv)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(&format!(
            "{} of them are for a partnership and year whose returns were already read",
            scored.len()
        )),
        "{}",
        text(&o.stdout)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_an_ingest_saves_nothing_says_so_and_leaves_no_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = review(dir, "2026");
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let before = snapshot(dir);
    let returns = repo().join("samples/returns");
    let mut args: Vec<String> = ["ingest", s(&returns), "--year", "2025", "--quiet"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.extend(sources(dir));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ptk"))
        .args(&args)
        .current_dir(dir)
        .env("PTK_TEST_SLOW_WRITES", "300")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The run has started once its backup is made; a few writes later, Ctrl-C.
    let backup = dir.join("ptk.db.backups/before-run-3.db");
    let start = std::time::Instant::now();
    while !backup.exists() {
        assert!(start.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    // SAFETY: sends SIGINT to the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 130, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr)
            .contains("interrupted: nothing from this run was saved; run the same command again"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.join("ptk.db-wal").exists() && !dir.join("ptk.db-shm").exists());
    assert!(
        before == snapshot(dir),
        "the interrupted run changed the store"
    );
    let o = run(dir, &["runs"]);
    assert_eq!(text(&o.stdout).lines().count(), 2, "{}", text(&o.stdout));
}

/// Imports samples/history.csv into `dir`'s store and reports 2025, a year known only
/// from it: the workbook's path and the report's output (checked to exit 0).
fn review_of_imported_2025(dir: &Path) -> (PathBuf, Output) {
    let history = repo().join("samples/history.csv");
    let o = run(dir, &["history", "import", s(&history)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let out = dir.join("review-2025.xlsx");
    let o = run(dir, &["report", "--year", "2025", "--out", s(&out)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    (out, o)
}

#[test]
fn last_years_review_is_made_again_from_imported_history() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (out, _) = review_of_imported_2025(dir);
    // Each partnership's 2025 overall score, as in the file imported.
    let expected: Vec<(String, f64)> = std::fs::read_to_string(repo().join("samples/history.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("2025,") && l.contains(",overall,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_string(), f[3].parse().unwrap())
        })
        .collect();
    assert!(expected.len() > 5);
    let scores = std::fs::read_to_string(dir.join("scores-2025.csv")).unwrap();
    for (id, pct) in &expected {
        let row = scores
            .lines()
            .find(|l| l.contains(&format!(",{id},")) && l.contains(",overall,"))
            .unwrap_or_else(|| panic!("{id} has no 2025 overall score:\n{scores}"));
        let got: f64 = row.split(',').nth(5).unwrap().parse().unwrap();
        assert!((got - pct).abs() < 0.05, "{id}: {got} vs imported {pct}");
        // Banded as the template says (Red below 50, Amber below 75, else Green).
        let band = row.split(',').nth(6).unwrap();
        let want = if *pct < 50.0 {
            "Red"
        } else if *pct < 75.0 {
            "Amber"
        } else {
            "Green"
        };
        assert_eq!(band.trim(), want, "{row}");
    }
    // No column for a later year, no negative "years since".
    let summary = sheet_text(&out, "Summary");
    assert!(
        !summary.concat().iter().any(|c| c.contains("2026")),
        "{summary:?}"
    );
    let header = summary.iter().find(|r| r[0] == "ID").expect("header row");
    let since = header
        .iter()
        .position(|h| h == "Years since first reviewed")
        .unwrap();
    for row in summary.iter().skip_while(|r| r[0] != "ID").skip(1) {
        assert!(!row[since].starts_with('-'), "{row:?}");
    }
    // The Summary bands imported scores too.
    let band = header.iter().position(|h| h == "Band").unwrap();
    for (id, _) in &expected {
        if let Some(row) = summary.iter().find(|r| &r[0] == id) {
            assert!(
                ["Red", "Amber", "Green"].contains(&row[band].as_str()),
                "{row:?}"
            );
        }
    }
    // The Overview says the figures are imported history, counts no imported score as
    // a form received, and counts the scored against what each partnership owes now:
    // active ones owe a self-assessment, exiting and proposed ones another form.
    let register = ptk::register::load(&repo().join("samples/register.csv"))
        .unwrap()
        .0;
    let scored_2025 = |status: &str| {
        register
            .partnerships
            .iter()
            .filter(|p| p.status.as_str() == status)
            .filter(|p| expected.iter().any(|(id, _)| *id == p.id))
            .count()
    };
    let active = register
        .partnerships
        .iter()
        .filter(|p| p.status.as_str() == "active")
        .count();
    let (owing, other) = (
        scored_2025("active"),
        scored_2025("exiting") + scored_2025("proposed"),
    );
    assert!(
        other > 0,
        "the samples' history scores an exiting partnership"
    );
    let overview = sheet_text(&out, "Overview");
    let said = |label: &str| -> Vec<String> {
        overview
            .iter()
            .find(|r| r[0] == label)
            .unwrap_or_else(|| panic!("no {label} row: {overview:?}"))
            .clone()
    };
    assert!(
        overview[1][0].contains("The 2025 figures are imported history (scores imported "),
        "{:?}",
        overview[1]
    );
    assert!(!overview
        .concat()
        .iter()
        .any(|c| c.contains("no returns ingested")));
    assert_eq!(said("Forms received")[1], "0");
    let scored = said("Partnerships scored");
    assert_eq!(scored[1], (owing + other).to_string());
    assert!(
        scored[2].starts_with(&format!(
            "{owing} of the {active} owing a self-assessment, and {other} that owe another form now"
        )),
        "{scored:?}"
    );

    // A year with nothing in it says so.
    let o = run(dir, &["report", "--year", "2019"]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    complains(&o, "holds nothing for 2019");
}

/// In a year known only from imported history, "outstanding" counts only the
/// partnerships that owe a self-assessment and have no imported score: the register's
/// exiting and proposed partnerships owe another form now, which history cannot show.
#[test]
fn a_history_only_year_counts_outstanding_only_those_owing_a_self_assessment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (out, o) = review_of_imported_2025(dir);
    // Worked out from the files: the statuses the self-assessment is issued to, the
    // register's partnerships with one of them, less those with a 2025 overall score.
    let template: toml::Value = toml::from_str(
        &std::fs::read_to_string(repo().join("templates/self-assessment.toml")).unwrap(),
    )
    .unwrap();
    let owing: Vec<&str> = template["issue_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let scored = sample_history_overall(2025);
    let mut register = csv::Reader::from_path(repo().join("samples/register.csv")).unwrap();
    let status = register
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "status")
        .unwrap();
    let all: Vec<csv::StringRecord> = register.records().map(|r| r.unwrap()).collect();
    let want: Vec<String> = all
        .iter()
        .filter(|r| owing.contains(&&r[status]) && !scored.contains_key(&r[0]))
        .map(|r| r[0].to_string())
        .collect();
    assert!(
        all.iter()
            .any(|r| !owing.contains(&&r[status]) && &r[status] != "closed"),
        "the samples have exiting or proposed partnerships"
    );
    assert!(
        text(&o.stdout).contains(&format!(", {} outstanding.", want.len())),
        "{}",
        text(&o.stdout)
    );
    let overview = sheet_text(&out, "Overview");
    let line = overview
        .iter()
        .find(|r| r[0] == "Partnerships outstanding")
        .unwrap_or_else(|| panic!("{overview:?}"));
    assert_eq!(line[1], want.len().to_string(), "{line:?}");
    // Nor is an exiting partnership listed for decision for an exit document 2025's
    // history cannot show.
    let why: Vec<&String> = overview
        .iter()
        .skip_while(|r| r[0] != "Partnership")
        .skip(1)
        .map(|r| &r[2])
        .collect();
    assert!(!why.is_empty(), "{overview:?}");
    assert!(!why.iter().any(|c| c.contains("exit document")), "{why:?}");
    // The Outstanding sheet lists exactly those (the lead of each: no respondents file).
    let sheet = sheet_text(&out, "Outstanding");
    let listed: Vec<String> = sheet
        .iter()
        .skip_while(|r| r[0] != "ID")
        .skip(1)
        .filter(|r| !r[0].is_empty())
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(listed, want, "{sheet:?}");
}

#[test]
fn a_review_made_again_uses_the_register_of_that_years_last_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let register = dir.join("register.csv");
    std::fs::copy(repo().join("samples/register.csv"), &register).unwrap();
    let o = review(dir, "2026");
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    // `ptk report` with the register from ptk.toml's default (./register.csv), not named.
    let report = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let templates = repo().join("templates");
        let store = dir.join("ptk.db");
        let mut args = vec![
            "report",
            "--year",
            "2026",
            "--out",
            s(&out),
            "--templates",
            s(&templates),
            "--store",
            s(&store),
        ];
        args.extend_from_slice(extra);
        let o = ptk(dir, &args);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        (sheet_text(&out, "Summary"), sheet_text(&out, "Outstanding"))
    };
    let before = report("a.xlsx", &[]);
    // Later, HWB03 is marked closed in the register.
    let text_reg = std::fs::read_to_string(&register).unwrap();
    let line = text_reg.lines().find(|l| l.starts_with("HWB03,")).unwrap();
    std::fs::write(
        &register,
        text_reg.replace(line, &line.replace(",active,", ",closed,")),
    )
    .unwrap();
    assert_eq!(
        report("b.xlsx", &[]),
        before,
        "the re-made 2026 review changed with the register"
    );
    // Named explicitly, the changed register is used (so the check above can fail).
    assert_ne!(report("c.xlsx", &["--register", s(&register)]), before);
}

#[test]
fn settings_named_by_config_or_ptk_config_and_said_when_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Run from a folder without ptk.toml: that is said first.
    let o = ptk(dir, &["report", "--year", "2026"]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with("ptk: no ptk.toml found (looked in ")
            && first.contains(s(&std::path::absolute(dir).unwrap())),
        "{err}"
    );
    // A settings file elsewhere, its paths relative to its own folder (Windows-style
    // single quotes for one of them).
    let settings = dir.join("settings");
    std::fs::create_dir(&settings).unwrap();
    std::fs::copy(
        repo().join("samples/register.csv"),
        settings.join("register.csv"),
    )
    .unwrap();
    std::fs::write(
        settings.join("ptk.toml"),
        format!(
            "register = 'register.csv'\ntemplates = \"{}\"\nstore = \"ptk.db\"\nreturn_address = \"a@b.gov.uk\"\noutbox = \"outbox\"\ndeadline = \"2026-01-29\"\n",
            repo().join("templates").display()
        ),
    )
    .unwrap();
    let history = repo().join("samples/history.csv");
    let config = settings.join("ptk.toml");
    let o = ptk(
        dir,
        &["history", "import", s(&history), "--config", s(&config)],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(settings.join("ptk.db").exists());
    let o = ptk_env(dir, &["runs"], &[("PTK_CONFIG", s(&config))]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 1, "{}", text(&o.stdout));
    // Last year's deadline left in the settings stops the issue, unless given on the line.
    let issue = |extra: &[&str]| {
        let mut args = vec![
            "issue",
            "--template",
            "self-assessment",
            "--year",
            "2026",
            "--issued-on",
            "2026-11-23",
            "--config",
            s(&config),
        ];
        args.extend_from_slice(extra);
        ptk(dir, &args)
    };
    let o = issue(&[]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("the deadline 2026-01-29 in")
            && text(&o.stderr).contains("is before the issue date 2026-11-23"),
        "{}",
        text(&o.stderr)
    );
    assert!(!settings.join("outbox").exists(), "nothing was issued");
    // A Windows path in double quotes: the exact fix.
    std::fs::write(
        &config,
        "council = \"x\"\nregister = \"S:\\Partnerships\\2026\\register.csv\"\n",
    )
    .unwrap();
    let o = ptk(dir, &["runs", "--config", s(&config)]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("at line 2")
            && text(&o.stderr).contains("register = 'S:\\Partnerships\\2026\\register.csv'"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_store_in_use_or_damaged_gets_its_own_plain_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let o = review(dir, "2026");
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let returns = repo().join("samples/returns");
    {
        // Another program holds the write lock throughout the run.
        let other = rusqlite::Connection::open(dir.join("ptk.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let o = ingest(dir, &returns, "2026");
        assert_eq!(code(&o), 2, "{}", text(&o.stderr));
        complains(&o, "is in use by another ptk run (or another program)");
        other.execute_batch("ROLLBACK").unwrap();
    }
    // Garbage over the store's pages after the header.
    let store = dir.join("ptk.db");
    let o = run(dir, &["runs"]);
    assert_eq!(code(&o), 0);
    let mut bytes = std::fs::read(&store).unwrap();
    for b in bytes.iter_mut().skip(100).take(64 * 1024) {
        *b = 0x5A;
    }
    std::fs::write(&store, &bytes).unwrap();
    let o = run(dir, &["status", "--year", "2026"]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    complains(&o, "is damaged");
}
