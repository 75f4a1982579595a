//! The officer's yearly routine through the binary: what Excel, colleagues on a shared
//! drive and a tired officer meet (byte-order marks, permissions, the status of every
//! form, a bad register, a damaged return, a failed run).

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// `--store`, `--register` and `--templates` for the shipped samples, the store in `dir`.
fn sources(dir: &Path) -> Vec<String> {
    vec![
        "--store".into(),
        dir.join("ptk.db").to_string_lossy().into_owned(),
        "--register".into(),
        repo()
            .join("samples/register.csv")
            .to_string_lossy()
            .into_owned(),
        "--templates".into(),
        repo().join("templates").to_string_lossy().into_owned(),
    ]
}

fn run(dir: &Path, args: &[&str], extra: &[String]) -> std::process::Output {
    let mut a: Vec<&str> = args.to_vec();
    a.extend(extra.iter().map(String::as_str));
    ptk(dir, &a)
}

/// The year-end review of the samples into `dir` (the store, reports and workbook there).
fn review(dir: &Path) {
    let returns = repo().join("samples/returns");
    let history = repo().join("samples/history.csv");
    let out = run(
        dir,
        &[
            "review",
            returns.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--history",
            history.to_str().unwrap(),
        ],
        &sources(dir),
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
}

/// The mode a new file gets from this process's umask.
#[cfg(unix)]
fn ordinary_mode() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map_or(0o022, |v| u32::from_str_radix(v.trim(), 8).unwrap());
    0o666 & !mask
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect()
}

#[test]
fn every_csv_starts_with_the_bom_and_finished_files_are_not_private() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    review(d);
    assert!(issue(d, "exit", &[]).status.success());
    let out = run(
        d,
        &[
            "status",
            "--year",
            "2026",
            "--outbox",
            "out",
            "--csv",
            "status.csv",
        ],
        &sources(d),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        d,
        &[
            "history",
            "export",
            "--out",
            "history.csv",
            "--store",
            "ptk.db",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut args: Vec<String> = sources(d);
    args.extend(
        [
            "--from",
            "partnerships@rochford.gov.uk",
            "--deadline",
            "2027-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
        ]
        .map(String::from),
    );
    let out = run(
        d,
        &[
            "mail",
            "issue",
            "out",
            "--template",
            "exit",
            "--year",
            "2026",
        ],
        &args,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let csvs = files_under(d, "csv");
    let names: Vec<String> = csvs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "ingest-report.csv",
        "findings.csv",
        "scores-2026.csv",
        "mailmerge.csv",
        "status.csv",
        "history.csv",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} not written: {names:?}"
        );
    }
    for p in &csvs {
        let bytes = std::fs::read(p).unwrap();
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            "{} has no byte-order mark",
            p.display()
        );
        assert!(
            !bytes[3..].starts_with(b"\xEF\xBB\xBF"),
            "{} has two",
            p.display()
        );
    }
    // The history CSV ptk writes is one it reads back.
    let out = run(
        d,
        &["history", "import", "history.csv", "--store", "again.db"],
        &sources(d)[2..],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut finished = csvs.clone();
        finished.extend(files_under(d, "xlsx"));
        finished.extend(files_under(d, "eml"));
        // ENV14's exit form is already returned, so only DIG15's is drafted.
        assert!(finished.len() >= 10, "{finished:?}");
        for p in finished {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, ordinary_mode(), "{} is {mode:o}", p.display());
        }
    }
}

#[test]
fn status_lists_every_form_with_its_state_and_a_damaged_return_is_received_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    review(d);
    assert!(issue(d, "self-assessment", &[]).status.success());
    let out = run(
        d,
        &[
            "status",
            "--year",
            "2026",
            "--outbox",
            "out",
            "--csv",
            "status.csv",
        ],
        &sources(d),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let unreadable = said
        .split("\n\n")
        .find(|s| s.starts_with("Received but unreadable"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(
        unreadable.contains("ICT12") && unreadable.contains("ICT12_self-assessment_2026.xlsx"),
        "{said}"
    );
    let not_returned = said
        .split("\n\n")
        .find(|s| s.starts_with("Not returned yet"))
        .unwrap();
    assert!(!not_returned.contains("ICT12"), "{said}");
    assert!(
        not_returned.contains("CAB08") && not_returned.contains("form issued (in the outbox)"),
        "{said}"
    );

    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(d.join("status.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 18, "one row per partnership in the register");
    let state = |id: &str| rows.iter().find(|r| &r[0] == id).unwrap()[5].to_string();
    assert_eq!(state("ICT12"), "received-unreadable");
    assert_eq!(state("HOU07"), "rejected");
    assert_eq!(state("LSP01"), "accepted");
    assert_eq!(state("CAB08"), "issued");
    assert_eq!(state("TRN18"), "not-expected");
    assert_eq!(state("ENV14"), "exited");
    let hou = rows.iter().find(|r| &r[0] == "HOU07").unwrap();
    assert_eq!(&hou[4], "aisha.begum@rochford.gov.uk");

    // The review's Outstanding sheet says the same.
    use calamine::Reader as _;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(d.join("review-2026.xlsx")).unwrap();
    let sheet = wb.worksheet_range("Outstanding").unwrap();
    let ict = sheet
        .rows()
        .find(|r| matches!(r.first(), Some(calamine::Data::String(s)) if s == "ICT12"))
        .expect("ICT12 is outstanding");
    assert!(
        ict.iter()
            .any(|c| c.to_string().starts_with("Received but unreadable")),
        "{ict:?}"
    );

    // Its corrections letter asks for the file again; the reminder does not say "not received".
    let mut args: Vec<String> = sources(d);
    args.extend(
        [
            "--year",
            "2026",
            "--from",
            "partnerships@rochford.gov.uk",
            "--deadline",
            "2027-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
            "--outbox",
            "out",
            "--partnership",
            "ICT12",
            "--partnership",
            "TOU11",
        ]
        .map(String::from),
    );
    let mut said = String::new();
    for what in ["corrections", "chase"] {
        let out = run(d, &["mail", what, "--eml-dir", what], &args);
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        said = text(&out.stdout);
    }
    let body = |folder: &str, id: &str| -> (String, usize) {
        let f = files_under(&d.join(folder), "eml")
            .into_iter()
            .find(|p| p.to_string_lossy().contains(id))
            .unwrap_or_else(|| panic!("no {folder} letter for {id}"));
        let raw = std::fs::read(f).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        (m.body_text(0).unwrap().to_string(), m.attachments().count())
    };
    let (b, n) = body("corrections", "ICT12");
    assert!(
        b.contains("could not be opened") && b.contains("save it again"),
        "{b}"
    );
    assert_eq!(n, 0);
    // One letter, not two: the corrections letter is ICT12's reminder.
    assert!(
        said.contains("ICT12: not reminded:") && said.contains("needs correcting"),
        "{said}"
    );
    assert!(
        !d.join("chase").exists()
            || !files_under(&d.join("chase"), "eml")
                .iter()
                .any(|p| p.to_string_lossy().contains("ICT12"))
    );
    // Last year's file: a letter saying why, with this year's form, and no advice meant
    // for the officer.
    let (b, n) = body("corrections", "TOU11");
    assert!(
        b.contains("the form for another year") && b.contains("The current form is attached"),
        "{b}"
    );
    assert!(!b.contains("ask for the 2026 return"), "{b}");
    assert_eq!(n, 1);
}

#[test]
fn a_register_with_problems_stops_status_instead_of_showing_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    review(d);
    // Saved from Excel: CRLF line ends; line 3 has a bad email, line 4 a hidden line break.
    let good = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines[2] = lines[2].replace("@rochford.gov.uk", "@");
    lines[3] = lines[3].replacen("Rochford", "\"Rochford\r\nBcc: x@y.org\"", 1);
    std::fs::write(d.join("bad.csv"), lines.join("\r\n") + "\r\n").unwrap();
    let mut args = sources(d);
    args[3] = "bad.csv".into();
    let out = run(d, &["status", "--year", "2026"], &args);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    let err = text(&out.stderr);
    assert!(err.contains("could not be read"), "{err}");
    assert!(
        err.contains("bad.csv:3:") && err.contains("not a valid email"),
        "{err}"
    );
    assert!(
        err.contains("bad.csv:4:") && err.contains("control character"),
        "{err}"
    );
    assert!(
        !text(&out.stdout).contains("Not returned yet"),
        "{}",
        text(&out.stdout)
    );
    // Mail refuses it too, without a panic.
    let out = run(
        d,
        &[
            "mail",
            "chase",
            "--year",
            "2026",
            "--from",
            "a@rochford.gov.uk",
            "--deadline",
            "2027-01-29",
            "--return-address",
            "a@rochford.gov.uk",
        ],
        &args,
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::CANNOT_RUN),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_run_that_cannot_start_leaves_no_store_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mail_args = [
        "--year",
        "2026",
        "--from",
        "a@rochford.gov.uk",
        "--deadline",
        "2027-01-29",
        "--return-address",
        "a@rochford.gov.uk",
    ];
    let history = repo().join("samples/history.csv");
    let mut cmds: Vec<Vec<&str>> = vec![
        vec!["status", "--year", "2026"],
        vec!["report", "--year", "2026"],
        vec!["history", "export", "--store", "ptk.db"],
        [&["mail", "chase"][..], &mail_args].concat(),
        [&["mail", "corrections"][..], &mail_args].concat(),
        // A mistyped returns folder.
        vec!["ingest", "no-such-folder", "--year", "2026"],
        [
            &["review", "no-such-folder", "--year", "2026", "--history"][..],
            &[history.to_str().unwrap()],
        ]
        .concat(),
        // No workbooks in the outbox: nothing to send.
        [
            &["mail", "issue", "out", "--template", "exit"][..],
            &mail_args,
        ]
        .concat(),
    ];
    let src = sources(d);
    for c in &mut cmds {
        if c[0] != "history" {
            c.extend(src.iter().map(String::as_str));
        }
        let out = ptk(d, c);
        assert_eq!(
            out.status.code(),
            Some(ptk::exit::CANNOT_RUN),
            "{c:?}: {}",
            text(&out.stderr)
        );
        assert!(!d.join("ptk.db").exists(), "{c:?} left a store behind");
    }
}

#[test]
fn quiet_means_the_summary_only() {
    let dir = tempfile::tempdir().unwrap();
    let returns = repo().join("samples/returns");
    let out = run(
        dir.path(),
        &[
            "ingest",
            returns.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
        ],
        &sources(dir.path()),
    );
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.trim().is_empty(), "no line per file: {stderr}");
    assert!(
        stdout.contains("rejected"),
        "the summary is printed: {stdout}"
    );
    assert!(
        !stdout.contains("ICT12_self-assessment_2026.xlsx"),
        "no file is named: {stdout}"
    );
    let report = std::fs::read_to_string(dir.path().join("ingest-report.csv")).unwrap();
    assert!(
        report.contains("ICT12_self-assessment_2026.xlsx"),
        "the report still lists it"
    );
}

#[test]
fn issue_warns_when_the_store_holds_no_earlier_scores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = issue(d, "self-assessment", &["--store", "ptk.db"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("holds no earlier scores"),
        "{}",
        text(&out.stderr)
    );
    let out = ptk(
        d,
        &[
            "history",
            "import",
            repo().join("samples/history.csv").to_str().unwrap(),
            "--store",
            "ptk.db",
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let out = issue(d, "self-assessment", &["--store", "ptk.db"]);
    assert!(
        !text(&out.stderr).contains("no earlier scores"),
        "{}",
        text(&out.stderr)
    );
}
