//! What reaches `ptk ingest` from outside, read as safely as a workbook: odd file names,
//! odd entries in the returns folder, saved e-mails (issue #18, the intake side).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn samples() -> PathBuf {
    repo().join("samples/returns")
}

const GOOD: &str = "CVS10_self-assessment_2026.xlsx";

/// Runs `ptk ingest` over `inputs` (any bytes for their names); store and reports in `dir`.
fn ingest(dir: &Path, inputs: &[&Path], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ptk"));
    cmd.arg("ingest").args(inputs).args([
        OsStr::new("--year"),
        OsStr::new("2026"),
        OsStr::new("--templates"),
        repo().join("templates").as_os_str(),
        OsStr::new("--register"),
        repo().join("samples/register.csv").as_os_str(),
        OsStr::new("--store"),
        dir.join("ptk.db").as_os_str(),
    ]);
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .expect("ptk runs")
}

/// ingest-report.csv rows as path (as shown) → (status, message).
fn report(dir: &Path) -> BTreeMap<String, (String, String)> {
    let mut r = csv::Reader::from_path(dir.join("ingest-report.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), (rec[2].to_string(), rec[9].to_string()))
        })
        .collect()
}

/// The report's row whose path ends with `tail`.
fn row<'a>(r: &'a BTreeMap<String, (String, String)>, tail: &str) -> &'a (String, String) {
    let hits: Vec<_> = r.iter().filter(|(p, _)| p.ends_with(tail)).collect();
    assert_eq!(hits.len(), 1, "one row ending {tail:?} in {r:#?}");
    hits[0].1
}

#[cfg(unix)]
#[test]
fn a_return_in_a_folder_and_under_a_name_that_are_not_utf8_is_accepted() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // "Réponses 2026" in Latin-1, and a Windows zip's 0x96 dash in the file name.
    let folder = dir.path().join(OsStr::from_bytes(b"R\xe9ponses 2026"));
    std::fs::create_dir(&folder).unwrap();
    let name = OsStr::from_bytes(b"CVS10 \x96 r\xe9ponse.xlsx");
    std::fs::copy(samples().join(GOOD), folder.join(name)).unwrap();
    std::fs::copy(samples().join(GOOD), folder.join("plain.xlsx")).unwrap();
    let out = ingest(dir.path(), &[&folder], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = report(dir.path());
    assert_eq!(r.len(), 2, "{r:#?}");
    // The odd bytes are shown escaped, not lost.
    let (status, _) = row(&r, "R\\xe9ponses 2026/CVS10 \\x96 r\\xe9ponse.xlsx");
    assert_eq!(status, "accepted");
    // The same content under a plain name is a duplicate of it, not another reading.
    assert_eq!(row(&r, "plain.xlsx").0, "duplicate");
}
