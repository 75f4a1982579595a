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
    let only_store = matches!(args[0], "runs" | "history");
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
    assert!(
        text(&o.stderr).contains("is the history store"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(&store).unwrap(), before);
    // The same file named another way.
    let other = dir.join(".").join("ptk.db");
    let o = run(dir, &["report", "--year", "2026", "--out", s(&other)]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    let register = repo().join("samples/register.csv");
    let reg_before = std::fs::read(&register).unwrap();
    let o = run(dir, &["report", "--year", "2026", "--out", s(&register)]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("is the register"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(&register).unwrap(), reg_before);
}
