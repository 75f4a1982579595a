//! Respondents, the issuing and mailing side: one form per respondent, each in their
//! name and addressed to them, and reminders only to those who have not returned.
//! Everything through the binary, on forms issued by `ptk issue`.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn respondents_csv() -> String {
    repo()
        .join("samples/respondents.csv")
        .to_string_lossy()
        .into_owned()
}

/// `_ptk` key → value, and the text of the Instructions sheet and the form sheet's
/// heading (one line per cell), read with openpyxl.
fn identity(path: &Path) -> (std::collections::HashMap<String, String>, String) {
    let out = run_python(
        path.parent().unwrap(),
        r#"
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
flat = lambda v: str(v).replace("\n", " ").replace("\t", " ")
for r in wb["_ptk"].iter_rows(values_only=True):
    if r[0]:
        print("P\t" + flat(r[0]) + "\t" + flat(r[1]))
for r in wb["Instructions"].iter_rows(values_only=True):
    for v in r:
        if v is not None:
            print("T\t" + flat(v))
for r in wb.worksheets[1].iter_rows(min_row=1, max_row=4, values_only=True):
    for v in r:
        if v is not None:
            print("T\t" + flat(v))
"#,
        &[path.to_str().unwrap()],
    );
    let mut ptk = std::collections::HashMap::new();
    let mut text = Vec::new();
    for line in out.lines() {
        let mut parts = line.splitn(3, '\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("P"), Some(k), Some(v)) => {
                ptk.insert(k.to_string(), v.to_string());
            }
            (Some("T"), Some(t), None) => text.push(t.to_string()),
            _ => {}
        }
    }
    (ptk, text.join("\n"))
}

/// Issues `template` for `partnership` with the sample respondents file; must succeed.
fn issue_with_respondents(dir: &Path, template: &str, partnership: &str) {
    let resp = respondents_csv();
    let out = issue(
        dir,
        template,
        &["--respondents", &resp, "--partnership", partnership],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn mailmerge(dir: &Path) -> Vec<csv::StringRecord> {
    let bytes = std::fs::read(dir.join("out/mailmerge.csv")).unwrap();
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&bytes)
        .to_vec();
    csv::Reader::from_reader(bytes.as_slice())
        .records()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn each_respondent_gets_a_workbook_in_their_name_and_a_mailmerge_row() {
    let dir = tempfile::tempdir().unwrap();
    let resp = respondents_csv();
    let out = issue(
        dir.path(),
        "self-assessment",
        &[
            "--respondents",
            &resp,
            "--partnership",
            "LSP01",
            "--partnership",
            "CSP02",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    says(
        &out,
        "Issued 5 'self-assessment' workbook(s) for 2 partnership(s)",
    );
    let expect = [
        (
            "LSP01_self-assessment_2026.xlsx",
            "LSP01",
            "lead",
            "Helen Marsh",
            "Rochford District Council",
        ),
        (
            "LSP01_self-assessment_2026_castle-point.xlsx",
            "LSP01",
            "castle-point",
            "Mark Jennings",
            "Castle Point Borough Council",
        ),
        (
            "LSP01_self-assessment_2026_essex-police.xlsx",
            "LSP01",
            "essex-police",
            "Sergeant Kate Lowe",
            "Essex Police",
        ),
        (
            "CSP02_self-assessment_2026.xlsx",
            "CSP02",
            "lead",
            "",
            "Rochford District Council",
        ),
        (
            "CSP02_self-assessment_2026_essex-police.xlsx",
            "CSP02",
            "essex-police",
            "Inspector Tom Reid",
            "Essex Police",
        ),
    ];
    let register = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    for (file, pid, rid, name, org) in expect {
        let (ptk, text) = identity(&dir.path().join("out").join(file));
        assert_eq!(ptk["partnership_id"], pid, "{file}");
        assert_eq!(ptk["respondent_id"], rid, "{file}");
        // The lead's name comes from the register.
        let name = if name.is_empty() {
            register
                .lines()
                .find(|l| l.starts_with(pid))
                .unwrap()
                .split(',')
                .nth(3)
                .unwrap()
                .to_string()
        } else {
            name.to_string()
        };
        assert_eq!(ptk["respondent_name"], name, "{file}");
        assert!(
            text.contains(&format!("Your name\n{name}")),
            "{file}: {text}"
        );
        let people = if pid == "LSP01" { 3 } else { 2 };
        assert!(
            text.contains(&format!(
                "This form goes to {people} people involved in the partnership"
            )),
            "{file}: {text}"
        );
        assert!(
            text.contains(&format!("Your organisation\n{org}")),
            "{file}: {text}"
        );
        if rid != "lead" {
            assert!(
                text.contains(&format!("Completed by: {name} ({org})")),
                "the form sheet names who completes it: {file}: {text}"
            );
        }
    }
    // mailmerge.csv: one row per workbook, to that respondent; the Assistant Director
    // is copied on the lead's only.
    let rows = mailmerge(dir.path());
    assert_eq!(rows.len(), 5, "{rows:?}");
    let police = rows
        .iter()
        .find(|r| &r[7] == "LSP01_self-assessment_2026_essex-police.xlsx")
        .unwrap();
    assert_eq!(&police[0], "kate.lowe@essex.police.uk");
    assert_eq!(&police[1], "", "no copy to the Assistant Director");
    assert_eq!(&police[2], "Sergeant Kate Lowe");
    assert!(
        police[6].starts_with("Dear Sergeant Kate Lowe,"),
        "{}",
        &police[6]
    );
    let lead = rows
        .iter()
        .find(|r| &r[7] == "LSP01_self-assessment_2026.xlsx")
        .unwrap();
    assert_ne!(&lead[0], "kate.lowe@essex.police.uk");
    assert!(!lead[1].is_empty(), "the lead's copy to the AD is kept");
}

#[test]
fn forms_for_the_lead_stay_one_per_partnership() {
    let dir = tempfile::tempdir().unwrap();
    issue_with_respondents(dir.path(), "exit", "LSP01");
    let files: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xlsx"))
        .collect();
    assert_eq!(files, ["LSP01_exit_2026.xlsx"]);
    let (ptk, text) = identity(&dir.path().join("out/LSP01_exit_2026.xlsx"));
    assert_eq!(ptk["respondent_id"], "lead");
    assert!(!text.contains("This form goes to"), "{text}");
}

#[test]
fn a_respondents_file_with_bad_rows_stops_the_issue_with_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("respondents.csv");
    std::fs::write(
        &bad,
        "partnership_id,respondent_id,name,email\n\
         LSP01,ok,Ann Cole,ann@rochfordcvs.org.uk\n\
         NOPE9,x,Al,al@x.org.uk\n\
         LSP01,y,Bo,not-an-email\n",
    )
    .unwrap();
    let out = issue(
        dir.path(),
        "self-assessment",
        &["--respondents", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("respondents.csv:3: partnership 'NOPE9'"),
        "{err}"
    );
    assert!(
        err.contains("respondents.csv:4: email 'not-an-email'"),
        "{err}"
    );
    assert!(err.contains("nothing was issued"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing written");
    // With --skip-bad-rows the good rows are issued, and the run says rows were left out.
    let out = issue(
        dir.path(),
        "self-assessment",
        &[
            "--respondents",
            bad.to_str().unwrap(),
            "--skip-bad-rows",
            "--partnership",
            "LSP01",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(dir
        .path()
        .join("out/LSP01_self-assessment_2026_ok.xlsx")
        .exists());
    // Nor is anything sent with it: a letter to the wrong person cannot be taken back.
    let out = mail_with(
        dir.path(),
        bad.to_str().unwrap(),
        &["issue", "out", "--template", "self-assessment"],
        &["--partnership", "LSP01"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("respondents.csv:4: email 'not-an-email'"),
        "{err}"
    );
    assert!(err.contains("fix them before sending"), "{err}");
    assert!(!dir.path().join("mail-outbox").exists(), "nothing drafted");
    // ptk status stops too: a list that leaves people out looks like good news.
    let store = dir.path().join("ptk.db");
    drop(ptk::store::Store::open(&store).unwrap());
    let out = ptk_samples(
        dir.path(),
        &[
            "status",
            "--year",
            "2026",
            "--respondents",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    complains(&out, "respondents.csv:3: partnership 'NOPE9'");
}

fn mail(dir: &Path, what: &[&str], extra: &[&str]) -> std::process::Output {
    mail_with(dir, &respondents_csv(), what, extra)
}

/// `ptk mail` with the respondents file `resp`.
fn mail_with(dir: &Path, resp: &str, what: &[&str], extra: &[&str]) -> std::process::Output {
    mail_run(dir, Some(resp), what, extra)
}

/// Each .eml in `dir` as (To address, attachment name).
fn letters(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v.iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let to = m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap()
                .to_string();
            let att = m
                .attachments()
                .next()
                .and_then(|a| mail_parser::MimeHeaders::attachment_name(a))
                .unwrap_or_default()
                .to_string();
            (to, att)
        })
        .collect()
}

/// Fills an issued self-assessment with openpyxl, as its respondent would, and saves it
/// beside it as `returned.xlsx`; `completed_on` as typed (a bad date is rejected), or
/// "date" for a real date.
fn fill_as(path: &Path, completed_on: &str) {
    let mut values = whole_return();
    if completed_on != "date" {
        values.push(answer("completed_on", completed_on));
    }
    fill_named(path, &path.with_file_name("returned.xlsx"), &values);
}

fn fill(path: &Path) {
    fill_as(path, "date");
}

/// Ingests the files in `inbox` into `dir`'s store.
fn ingest(dir: &Path, inbox: &Path) -> std::process::Output {
    ptk_samples(
        dir,
        &[
            "ingest",
            inbox.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
        ],
    )
}

#[test]
fn corrections_go_to_the_respondent_whose_file_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    issue_with_respondents(d, "self-assessment", "LSP01");
    // Essex Police's return has a date that is not a date: rejected.
    let police = d.join("out/LSP01_self-assessment_2026_essex-police.xlsx");
    fill_as(&police, "last Tuesday");
    let inbox = d.join("inbox1");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::rename(d.join("out/returned.xlsx"), inbox.join("LSP01 police.xlsx")).unwrap();
    assert_eq!(ingest(d, &inbox).status.code(), Some(ptk::exit::REJECTED));
    {
        // Whose file it was, as the ingest of respondent ids records it (wired
        // separately; until then every file is recorded as the lead's).
        let conn = rusqlite::Connection::open(d.join("ptk.db")).unwrap();
        let n = conn
            .execute(
                "UPDATE files SET respondent_id = 'essex-police' WHERE path LIKE '%LSP01 police.xlsx' AND status = 'rejected'",
                [],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    // Then the lead's return is accepted: it does not settle the partner's file.
    fill(&d.join("out/LSP01_self-assessment_2026.xlsx"));
    let inbox = d.join("inbox2");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::rename(d.join("out/returned.xlsx"), inbox.join("LSP01 lead.xlsx")).unwrap();
    let out = ingest(d, &inbox);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stdout)
    );

    let sent = d.join("corrections");
    let out = mail(
        d,
        &["corrections"],
        &["--outbox", "out", "--eml-dir", sent.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        letters(&sent),
        [(
            "kate.lowe@essex.police.uk".to_string(),
            "LSP01 police.xlsx".to_string()
        )],
        "one letter, to Essex Police, with their own file: {}",
        text(&out.stdout)
    );
    let raw = std::fs::read(
        std::fs::read_dir(&sent)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let body = m.body_text(0).unwrap();
    assert!(body.starts_with("Dear Sergeant Kate Lowe,"), "{body}");
    assert!(body.contains("'last Tuesday' is not a date"), "{body}");

    // The reminders: to Castle Point, who sent nothing; none to the lead, whose return
    // was accepted, nor to Essex Police, whose corrections letter is their reminder
    // (one letter, not two).
    let chased = d.join("chased");
    let out = mail(
        d,
        &["chase"],
        &["--outbox", "out", "--eml-dir", chased.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut bodies: Vec<(String, String)> = std::fs::read_dir(&chased)
        .unwrap()
        .map(|e| {
            let raw = std::fs::read(e.unwrap().path()).unwrap();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let to = m
                .to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_string();
            (to, m.body_text(0).unwrap().to_string())
        })
        .filter(|(_, b)| b.contains("Joint Castle Point"))
        .collect();
    bodies.sort();
    let who: Vec<&str> = bodies.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        who,
        ["mark.jennings@castlepoint.gov.uk"],
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout)
            .contains("LSP01: not reminded: Sergeant Kate Lowe's return needs correcting"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        bodies[0]
            .1
            .contains("We have not yet received your completed form"),
        "{}",
        bodies[0].1
    );
}

#[test]
fn mail_issue_addresses_each_respondent_and_chase_reminds_only_the_missing() {
    let dir = tempfile::tempdir().unwrap();
    let resp = respondents_csv();
    issue_with_respondents(dir.path(), "self-assessment", "LSP01");

    // ptk mail issue: one message per respondent, with their own workbook.
    let issued = dir.path().join("issued");
    let send = |dir: &Path| {
        mail(
            dir,
            &["issue", "out", "--template", "self-assessment"],
            &[
                "--partnership",
                "LSP01",
                "--eml-dir",
                issued.to_str().unwrap(),
            ],
        )
    };
    let out = send(dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = letters(&issued);
    let lead_email = got
        .iter()
        .find(|(_, a)| a == "LSP01_self-assessment_2026.xlsx")
        .map(|(t, _)| t.clone())
        .expect("the lead's form is mailed");
    let mut want = vec![
        (
            lead_email.clone(),
            "LSP01_self-assessment_2026.xlsx".to_string(),
        ),
        (
            "mark.jennings@castlepoint.gov.uk".to_string(),
            "LSP01_self-assessment_2026_castle-point.xlsx".to_string(),
        ),
        (
            "kate.lowe@essex.police.uk".to_string(),
            "LSP01_self-assessment_2026_essex-police.xlsx".to_string(),
        ),
    ];
    let mut got_sorted = got.clone();
    got_sorted.sort();
    want.sort();
    assert_eq!(got_sorted, want);
    // A re-run drafts nothing new: each respondent's message is tracked on its own.
    let out = send(dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 drafted") && text(&out.stdout).contains("3 already drafted"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(letters(&issued).len(), 3);

    // The lead returns the form (ingested for real); Castle Point's return is recorded
    // straight into the store (the ingest of respondent ids is wired separately).
    fill(&dir.path().join("out/LSP01_self-assessment_2026.xlsx"));
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::rename(
        dir.path().join("out/returned.xlsx"),
        inbox.join("LSP01 return.xlsx"),
    )
    .unwrap();
    let store = dir.path().join("ptk.db");
    let out = ptk_samples(
        dir.path(),
        &["ingest", inbox.to_str().unwrap(), "--year", "2026"],
    );
    assert!(out.status.code() != Some(2), "{}", text(&out.stderr));
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM returns WHERE partnership_id = 'LSP01' AND current = 1 AND respondent_id = 'lead'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "the lead's return is accepted: {}", text(&out.stdout));
        conn.execute_batch(
            "INSERT INTO files (sha256, path, status, partnership_id, template_id, template_version, year, issued_at, message, run_id, respondent_id)
               SELECT 'castle' || sha256, 'LSP01 castle point.xlsx', status, partnership_id, template_id, template_version, year, issued_at, message, run_id, 'castle-point'
               FROM files WHERE partnership_id = 'LSP01';
             INSERT INTO returns (sha256, partnership_id, template_id, template_version, year, path, issued_at, ingested_at, status, overall, band, current, run_id, modified, respondent_id)
               SELECT 'castle' || sha256, partnership_id, template_id, template_version, year, 'LSP01 castle point.xlsx', issued_at, ingested_at, status, overall, band, 1, run_id, modified, 'castle-point'
               FROM returns WHERE partnership_id = 'LSP01';",
        )
        .unwrap();
    }

    // Reminders go only for forms really sent, and not the day they went: the drafts
    // are marked sent weeks ago, as an --smtp run would have (tests/mail.rs sends
    // through a real server).
    {
        let conn = rusqlite::Connection::open(&store).unwrap();
        conn.execute_batch(
            "UPDATE sends SET state = 'sent', result = 'sent', sent_at = '2026-11-23T10:00:00' WHERE state = 'drafted'",
        )
        .unwrap();
    }
    let chased = dir.path().join("chased");
    let out = mail(
        dir.path(),
        &["chase"],
        &[
            "--outbox",
            "out",
            "--partnership",
            "LSP01",
            "--eml-dir",
            chased.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        letters(&chased),
        [(
            "kate.lowe@essex.police.uk".to_string(),
            "LSP01_self-assessment_2026_essex-police.xlsx".to_string()
        )],
        "only Essex Police has not returned: {}",
        text(&out.stdout)
    );

    // ptk status: one row per respondent, saying who has returned.
    let out = ptk_samples(
        dir.path(),
        &[
            "status",
            "--year",
            "2026",
            "--respondents",
            &resp,
            "--outbox",
            "out",
            "--csv",
            "status.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut r = csv::Reader::from_path(dir.path().join("status.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("{n} in {h:?}"))
    };
    let lsp: Vec<(String, String)> = r
        .records()
        .map(Result::unwrap)
        .filter(|x| &x[col("partnership_id")] == "LSP01")
        .map(|x| {
            (
                x[col("respondent_id")].to_string(),
                x[col("return_state")].to_string(),
            )
        })
        .collect();
    assert_eq!(
        lsp,
        [
            ("lead".to_string(), "accepted".to_string()),
            ("castle-point".to_string(), "accepted".to_string()),
            ("essex-police".to_string(), "not-returned".to_string()),
        ]
    );
}
