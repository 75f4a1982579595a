//! Respondents in the review workbook (issue #12): the Summary's Respondents column, the
//! "Where respondents disagree" sheet and missing respondents on Outstanding, read from
//! workbooks made by the binary.
//!
//! The lead officers' forms are issued by `ptk issue --respondents`, filled with openpyxl
//! and ingested for real. The partners' returns are recorded straight into the store
//! (a copy of their lead's with some answers changed): the ingest of `_ptk`
//! respondent_id is wired separately, and until it is every file is read as the lead's.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

fn respondents_file() -> PathBuf {
    repo().join("samples/respondents.csv")
}

/// Fills an issued self-assessment as its respondent would (every statement "3 - In
/// place"), saved as `dest`.
fn fill(form: &Path, dest: &Path) {
    fill_named(form, dest, &whole_return());
}

fn ingest(dir: &Path, inbox: &Path) {
    let args = [
        "ingest",
        inbox.to_str().unwrap(),
        "--year",
        "2026",
        "--quiet",
    ];
    exited(ptk_samples(dir, &args), ptk::exit::OK);
}

/// `ptk report` of 2026 with the shipped respondents file; returns its output.
fn report(dir: &Path, templates: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = ["report", "--year", "2026", "--store"]
        .map(String::from)
        .to_vec();
    args.extend([
        dir.join("ptk.db").to_str().unwrap().to_string(),
        "--register".to_string(),
        repo()
            .join("samples/register.csv")
            .to_str()
            .unwrap()
            .to_string(),
        "--templates".to_string(),
        templates.to_str().unwrap().to_string(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ptk(dir, &args)
}

/// Issues every form to each respondent, and returns the lead officers' forms of LSP01
/// (lead + Castle Point + Essex Police), CSP02 (lead + Essex Police) and HWB03 (lead
/// only), all ingested.
fn leads_return(d: &Path) {
    let out = issue(
        d,
        "self-assessment",
        &["--respondents", respondents_file().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inbox = d.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    for id in ["LSP01", "CSP02", "HWB03"] {
        fill(
            &d.join(format!("out/{id}_self-assessment_2026.xlsx")),
            &inbox.join(format!("{id} lead.xlsx")),
        );
    }
    ingest(d, &inbox);
}

/// Records `respondent`'s return for `partnership`: the lead's with `changed`
/// answers (question id, answer, points), and the partnership's result counted from
/// `respondents` returns.
fn partner_returns(
    d: &Path,
    partnership: &str,
    respondent: &str,
    changed: &[(&str, &str, Option<f64>)],
    respondents: i64,
) {
    let conn = rusqlite::Connection::open(d.join("ptk.db")).unwrap();
    let lead: i64 = conn
        .query_row(
            "SELECT id FROM returns WHERE partnership_id = ?1 AND respondent_id = 'lead' AND current = 1",
            [partnership],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "INSERT INTO files (sha256, path, status, partnership_id, template_id, template_version, year, issued_at, message, run_id, respondent_id)
         SELECT ?2 || f.sha256, ?2 || '.xlsx', f.status, f.partnership_id, f.template_id, f.template_version, f.year, f.issued_at, f.message, f.run_id, ?2
         FROM files f JOIN returns r ON r.sha256 = f.sha256 WHERE r.id = ?1",
        rusqlite::params![lead, respondent],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO returns (sha256, partnership_id, template_id, template_version, year, path, issued_at, ingested_at, status, overall, band, current, run_id, modified, respondent_id)
         SELECT ?2 || sha256, partnership_id, template_id, template_version, year, ?2 || '.xlsx', issued_at, ingested_at, status, overall, band, 1, run_id, modified, ?2
         FROM returns WHERE id = ?1",
        rusqlite::params![lead, respondent],
    )
    .unwrap();
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO answers (return_id, question_id, value, points, evidence)
         SELECT ?1, question_id, value, points, evidence FROM answers WHERE return_id = ?2",
        [id, lead],
    )
    .unwrap();
    for (q, value, points) in changed {
        let n = conn
            .execute(
                "UPDATE answers SET value = ?1, points = ?2 WHERE return_id = ?3 AND question_id = ?4",
                rusqlite::params![value, points, id, q],
            )
            .unwrap();
        assert_eq!(n, 1, "{q}");
    }
    conn.execute(
        "UPDATE results SET respondents = ?1 WHERE partnership_id = ?2 AND year = 2026",
        rusqlite::params![respondents, partnership],
    )
    .unwrap();
}

fn rows(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// The rows of the table whose first header is `first`, as header → text maps.
fn table(rows: &[Vec<Data>], first: &str) -> Vec<HashMap<String, String>> {
    let h = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| *c == first))
        .unwrap_or_else(|| panic!("no table headed {first}"));
    let headers: Vec<String> = rows[h].iter().map(|c| c.to_string()).collect();
    rows[h + 1..]
        .iter()
        .take_while(|r| r.first().is_some_and(|c| !c.to_string().is_empty()))
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(|c| c.to_string()))
                .collect()
        })
        .collect()
}

const SHEET: &str = "Where respondents disagree";

/// The form number of a question of the shipped self-assessment ("1.2").
fn number(q: &str) -> String {
    let t = ptk::template::find(&repo().join("templates"), "self-assessment").unwrap();
    ptk::report::Review::form_number(&t, q).unwrap()
}

fn question_text(q: &str) -> String {
    let t = ptk::template::find(&repo().join("templates"), "self-assessment").unwrap();
    t.sections
        .iter()
        .flat_map(|s| &s.questions)
        .find(|x| x.id == q)
        .unwrap()
        .text
        .clone()
}

#[test]
fn respondents_column_disagreements_and_missing_respondents() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let templates = repo().join("templates");
    let resp = respondents_file();
    let resp_arg = ["--respondents", resp.to_str().unwrap()];
    leads_return(d);
    let xlsx = d.join("review-2026.xlsx");

    // Only the leads so far: nothing to compare, and the partners are outstanding.
    let out = report(d, &templates, &resp_arg);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let flat: Vec<String> = rows(&xlsx, SHEET)
        .iter()
        .flatten()
        .map(|c| c.to_string())
        .collect();
    assert!(
        flat.iter().any(|c| c
            == "No partnership has 2026 returns from two or more respondents yet, so there are no views to compare."),
        "{flat:?}"
    );
    let summary = table(&rows(&xlsx, "Summary"), "ID");
    let col = |id: &str| -> String {
        summary.iter().find(|r| r["ID"] == id).unwrap()["Respondents"].clone()
    };
    assert_eq!(col("LSP01"), "1 of 3 ‡");

    // Castle Point's answers: F1 two points below the lead's (listed), F2 one point
    // below (not listed), P1 Not applicable (not compared). Essex Police sends nothing.
    partner_returns(
        d,
        "LSP01",
        "castle-point",
        &[
            ("F1", "1 - Planned or just started", Some(1.0)),
            ("F2", "2 - Partly in place", Some(2.0)),
            ("P1", "Not applicable", None),
        ],
        2,
    );
    // CSP02's partner sees C1 three points lower than its lead.
    partner_returns(
        d,
        "CSP02",
        "essex-police",
        &[("C1", "0 - Not in place", Some(0.0))],
        2,
    );
    let out = report(d, &templates, &resp_arg);
    assert!(out.status.success(), "{}", text(&out.stderr));
    says(&out, "2 statement(s) where respondents disagree");

    // Summary: returned of due; partial marked; blank where no form is due.
    let summary = table(&rows(&xlsx, "Summary"), "ID");
    let col = |id: &str| -> String {
        summary.iter().find(|r| r["ID"] == id).unwrap()["Respondents"].clone()
    };
    assert_eq!(col("LSP01"), "2 of 3 ‡");
    assert_eq!(col("CSP02"), "2 of 2");
    assert_eq!(col("HWB03"), "1 of 1");
    assert_eq!(col("SEP04"), "0 of 1");
    assert_eq!(
        col("ENV14"),
        "0 of 1",
        "an exit document goes to the lead only"
    );
    assert_eq!(col("TRN18"), "", "closed: no form due");
    let notes: Vec<String> = rows(&xlsx, "Summary")
        .iter()
        .take(3)
        .flatten()
        .map(|c| c.to_string())
        .collect();
    assert!(
        notes
            .iter()
            .any(|c| c.contains("‡ marks a partnership scored from fewer than all its respondents")),
        "{notes:?}"
    );

    // The disagreements: 3 points (CSP02 C1) before 2 (LSP01 F1); F2's 1 point and
    // P1's Not applicable are not listed.
    let listed = table(&rows(&xlsx, SHEET), "ID");
    let got: Vec<(String, String, String)> = listed
        .iter()
        .map(|r| {
            (
                r["ID"].clone(),
                r["Question"].clone(),
                r["Spread (points)"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("CSP02".to_string(), number("C1"), "3".to_string()),
            ("LSP01".to_string(), number("F1"), "2".to_string()),
        ]
    );
    assert_eq!(listed[1]["Statement"], question_text("F1"));
    assert_eq!(
        listed[1]["Partnership"],
        "Joint Castle Point and Rochford Local Strategic Partnership"
    );
    let answers: Vec<&str> = listed[1]["Each respondent's answer"].lines().collect();
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert!(
        answers[0].ends_with(": 3 - In place"),
        "the lead first: {answers:?}"
    );
    assert_eq!(
        answers[1],
        "Mark Jennings (Castle Point Borough Council): 1 - Planned or just started"
    );
    assert_eq!(
        listed[0]["Each respondent's answer"].lines().nth(1),
        Some("Inspector Tom Reid (Essex Police): 0 - Not in place")
    );
    let flat: Vec<String> = rows(&xlsx, SHEET)
        .iter()
        .flatten()
        .map(|c| c.to_string())
        .collect();
    assert!(
        flat.iter().any(|c| c.contains("2 points or more apart")
            && c.contains("agenda for the partnership's own review discussion")),
        "{flat:?}"
    );

    // Outstanding: LSP01's Essex Police, though its lead and Castle Point returned;
    // nobody of CSP02; SEP04's lead as before.
    let outstanding = table(&rows(&xlsx, "Outstanding"), "ID");
    let of = |id: &str| -> Vec<&HashMap<String, String>> {
        outstanding.iter().filter(|r| r["ID"] == id).collect()
    };
    let lsp = of("LSP01");
    assert_eq!(lsp.len(), 1, "{lsp:?}");
    assert_eq!(lsp[0]["Respondent"], "Sergeant Kate Lowe (Essex Police)");
    assert_eq!(lsp[0]["Email"], "kate.lowe@essex.police.uk");
    assert!(lsp[0]["Why"].starts_with("Not returned"), "{lsp:?}");
    assert!(of("CSP02").is_empty());
    assert!(of("HWB03").is_empty());
    let sep = of("SEP04");
    assert_eq!(sep.len(), 1);
    assert_eq!(sep[0]["Why"], "Not returned");

    // Overview: forms received counts each respondent's form (LSP01 2, CSP02 2, HWB03 1).
    let overview = table(&rows(&xlsx, "Overview"), "Headline");
    let received = overview
        .iter()
        .find(|r| r["Headline"] == "Forms received")
        .unwrap();
    assert_eq!(received["Number"], "5");

    // A template whose threshold is 3 points lists only CSP02's statement, and says so.
    let strict = d.join("templates");
    std::fs::create_dir(&strict).unwrap();
    for e in std::fs::read_dir(&templates).unwrap() {
        let e = e.unwrap();
        if e.path().extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let body = std::fs::read_to_string(e.path()).unwrap();
        std::fs::write(
            strict.join(e.file_name()),
            body.replace("disagreement = 2", "disagreement = 3"),
        )
        .unwrap();
    }
    let out = report(d, &strict, &resp_arg);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = table(&rows(&xlsx, SHEET), "ID");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["ID"], "CSP02");
    let flat: Vec<String> = rows(&xlsx, SHEET)
        .iter()
        .flatten()
        .map(|c| c.to_string())
        .collect();
    assert!(flat.iter().any(|c| c.contains("3 points or more apart")));

    // Essex Police's return for LSP01 comes in but is rejected: their row says why.
    {
        let conn = rusqlite::Connection::open(d.join("ptk.db")).unwrap();
        conn.execute(
            "INSERT INTO files (sha256, path, status, partnership_id, template_id, template_version, year, issued_at, message, run_id, respondent_id)
             SELECT 'police' || sha256, 'LSP01 police.xlsx', 'rejected', partnership_id, template_id, template_version, year, issued_at, 'the date completed is not a date', run_id, 'essex-police'
             FROM files WHERE path LIKE '%LSP01 lead.xlsx'",
            [],
        )
        .unwrap();
    }
    let out = report(d, &templates, &resp_arg);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let outstanding = table(&rows(&xlsx, "Outstanding"), "ID");
    let lsp: Vec<_> = outstanding.iter().filter(|r| r["ID"] == "LSP01").collect();
    assert_eq!(lsp.len(), 1, "{lsp:?}");
    assert_eq!(lsp[0]["Respondent"], "Sergeant Kate Lowe (Essex Police)");
    assert_eq!(lsp[0]["Why"], "Rejected: the date completed is not a date");
    let summary = table(&rows(&xlsx, "Summary"), "ID");
    let lsp = summary.iter().find(|r| r["ID"] == "LSP01").unwrap();
    assert_eq!(lsp["Respondents"], "2 of 3 ‡");
    assert_eq!(lsp["Form this year"], "received");

    // Without the respondents file the partners' returns still count (people move
    // on), and the review says so rather than "1 of 1".
    let out = report(d, &templates, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = table(&rows(&xlsx, "Summary"), "ID");
    let col = |id: &str| -> String {
        summary.iter().find(|r| r["ID"] == id).unwrap()["Respondents"].clone()
    };
    assert_eq!(col("LSP01"), "1 of 1 (+1 no longer listed)");
    assert_eq!(col("HWB03"), "1 of 1");
    let listed = table(&rows(&xlsx, SHEET), "ID");
    assert!(
        listed[0]["Each respondent's answer"]
            .contains("essex-police (no longer in the respondents file): 0 - Not in place"),
        "{listed:?}"
    );
}

#[test]
fn a_respondents_file_with_bad_rows_stops_the_report_with_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    leads_return(d);
    let bad = d.join("respondents.csv");
    std::fs::write(
        &bad,
        "partnership_id,respondent_id,name,email,organisation,role\n\
         LSP01,castle-point,Mark Jennings,mark.jennings@castlepoint.gov.uk,Castle Point Borough Council,Manager\n\
         NOPE9,police,Kate Lowe,kate.lowe@essex.police.uk,Essex Police,Inspector\n\
         CSP02,police,Tom Reid,not an address,Essex Police,Inspector\n",
    )
    .unwrap();
    let _ = std::fs::remove_file(d.join("review-2026.xlsx"));
    let out = report(
        d,
        &repo().join("templates"),
        &["--respondents", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    let err = text(&out.stderr);
    assert!(err.contains("respondents.csv:3: "), "{err}");
    assert!(err.contains("respondents.csv:4: "), "{err}");
    assert!(!err.contains("respondents.csv:2: "), "{err}");
    assert!(err.contains("2 row(s) of the respondents file"), "{err}");
    assert!(!d.join("review-2026.xlsx").exists(), "no workbook written");
}
