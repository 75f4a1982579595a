//! `ptk review`, `ptk report` and `ptk status`: scores checked against the test's own
//! computation (`expected_scores`), the rest against the samples and the store.

mod common;

use std::collections::HashMap;
use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;
use ptk::store::Store;

/// Runs the whole year-end job on the samples into `dir`, with `register`.
fn review(dir: &Path, register: &Path) -> std::process::Output {
    let store = dir.join("ptk.db");
    ptk(
        dir,
        &[
            "review",
            repo().join("samples/returns").to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--history",
            repo().join("samples/history.csv").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ],
    )
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// Rows of a sheet's table as header → value maps, the header being the first row whose
/// first cell equals `first_header`.
fn table(rows: &[Vec<Data>], first_header: &str) -> Vec<HashMap<String, Data>> {
    let h = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| is(c, first_header)))
        .expect("header row");
    let headers: Vec<String> = rows[h].iter().map(|c| c.to_string()).collect();
    rows[h + 1..]
        .iter()
        .take_while(|r| r.first().is_some_and(|c| !c.to_string().is_empty()))
        .map(|r| headers.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

/// Whether a cell holds exactly this text.
fn is(d: &Data, s: &str) -> bool {
    matches!(d, Data::String(x) if x == s)
}

fn num(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn sample_register() -> std::path::PathBuf {
    repo().join("samples/register.csv")
}

#[test]
fn the_summary_matches_independent_scores_and_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let out = review(dir.path(), &sample_register());
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let xlsx = dir.path().join("review-2026.xlsx");
    assert!(xlsx.exists() && dir.path().join("scores-2026.csv").exists());

    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    // The partnerships' results: aggregated over their respondents (LSP01 has three).
    let returns = store
        .scored_returns(2026, "self-assessment", "stage")
        .unwrap();
    assert_eq!(returns["LSP01"].respondents, 3);
    // The expected scores: computed in the test (template points, the answers, the
    // aggregation written out), and last year's from samples/history.csv itself.
    let expected = expected_scores(&dir.path().join("ptk.db"), 2026, "self-assessment");
    let last_year: HashMap<String, f64> = sample_history_overall(2025);

    let rows = table(&sheet(&xlsx, "Summary"), "ID");
    assert_eq!(rows.len(), 18, "one row per partnership in the register");
    let by_id: HashMap<String, &HashMap<String, Data>> =
        rows.iter().map(|r| (r["ID"].to_string(), r)).collect();
    assert_eq!(returns.len(), 8);
    assert_eq!(expected.len(), 8);
    for (pid, want) in &expected {
        let row = by_id[pid];
        let overall = num(&row["Overall %"]).unwrap();
        assert!((overall - want.overall).abs() < 1e-9, "{pid} overall");
        for (scope, header) in [
            ("foundations", "Foundations %"),
            ("partners", "Partners %"),
            ("communication", "Communication and Involvement %"),
            ("measuring", "Measuring and reviewing success %"),
        ] {
            let want = want.sections[scope];
            assert!(
                (num(&row[header]).unwrap() - want).abs() < 1e-9,
                "{pid} {scope}"
            );
        }
        // The template's bands: Green from 75, Amber from 50, else Red.
        let band = match want.overall {
            o if o >= 75.0 => "Green",
            o if o >= 50.0 => "Amber",
            _ => "Red",
        };
        assert_eq!(row["Band"].to_string(), band, "{pid}");
        assert_eq!(row["Form this year"].to_string(), "received");
        match last_year.get(pid) {
            Some(before) => {
                let change = num(&row["Change vs 2025"]).unwrap();
                assert!((change - (overall - before)).abs() < 1e-9, "{pid} change");
            }
            None => assert_eq!(row["Change vs 2025"].to_string(), "new", "{pid}"),
        }
    }
    // YTH13 has no earlier score: new. CAB08 did not return; HOU07 was rejected; ENV14 exited.
    assert_eq!(by_id["YTH13"]["Change vs 2025"].to_string(), "new");
    assert_eq!(by_id["CAB08"]["Form this year"].to_string(), "not returned");
    assert_eq!(
        by_id["HOU07"]["Form this year"].to_string(),
        "received, needs correcting"
    );
    assert_eq!(
        by_id["ENV14"]["Form this year"].to_string(),
        "Partnership Exit Document: exit document received"
    );
    // Its exit date (31 March 2027) is after the data date: exiting, not exited.
    assert_eq!(
        by_id["ENV14"]["Register status"].to_string(),
        "exiting on 31 Mar 2027"
    );
    assert_eq!(by_id["TRN18"]["Form this year"].to_string(), "no form due");
    // A proposal's form is "received", never "accepted" (which read as approved).
    assert_eq!(
        by_id["MGT16"]["Form this year"].to_string(),
        "New Partnership Questions: received"
    );
    assert_eq!(
        by_id["LSP01"]["Life-cycle stage"].to_string(),
        "Functioning"
    );
    assert_eq!(
        num(&by_id["LSP01"]["Years since first reviewed"]),
        Some(3.0)
    );
}

#[test]
fn outstanding_exits_new_partnerships_trends_and_findings_sheets() {
    let dir = tempfile::tempdir().unwrap();
    review(dir.path(), &sample_register());
    let xlsx = dir.path().join("review-2026.xlsx");

    let outstanding = table(&sheet(&xlsx, "Outstanding"), "ID");
    let ids: Vec<String> = outstanding.iter().map(|r| r["ID"].to_string()).collect();
    assert_eq!(
        ids,
        ["LEI06", "HOU07", "CAB08", "TOU11", "ICT12", "DIG15", "ART17"],
        "register order"
    );
    let why = |id: &str| outstanding.iter().find(|r| is(&r["ID"], id)).unwrap()["Why"].to_string();
    assert_eq!(why("CAB08"), "Not returned");
    assert!(
        why("HOU07").starts_with("Rejected: 2 problems to correct: Assessment!C10:"),
        "{}",
        why("HOU07")
    );
    assert!(
        why("TOU11").contains("this is the 2025 form"),
        "{}",
        why("TOU11")
    );
    let cab = outstanding.iter().find(|r| is(&r["ID"], "CAB08")).unwrap();
    assert_eq!(cab["Email"].to_string(), "gareth.lewis@rochford.gov.uk");

    let exits = sheet(&xlsx, "Exits");
    let flat: Vec<String> = exits.iter().flatten().map(|c| c.to_string()).collect();
    assert!(flat
        .iter()
        .any(|c| c.starts_with("ENV14 – Crouch and Roach")));
    let reason = exits
        .iter()
        .find(|r| {
            is(
                &r[0],
                "Why is the council's involvement in the partnership ending?",
            )
        })
        .unwrap();
    assert_eq!(reason[1].to_string(), "Objectives have been met");
    // Money and dates are numbers and dates, not text.
    let answer = |q: &str| {
        exits
            .iter()
            .find(|r| r[0].to_string().starts_with(q))
            .unwrap_or_else(|| panic!("{q}"))[1]
            .clone()
    };
    assert_eq!(
        answer("Estimated value of outstanding liabilities"),
        Data::Float(0.0)
    );
    assert!(
        matches!(
            answer("Date the council's involvement ends"),
            Data::DateTime(_)
        ),
        "{:?}",
        answer("Date the council's involvement ends")
    );
    assert!(
        !flat.iter().any(|c| c.starts_with("DIG15")),
        "a rejected exit document is not listed as received"
    );

    let new = sheet(&xlsx, "New partnerships");
    let highest = new
        .iter()
        .find(|r| is(&r[0], "Highest risk score"))
        .unwrap();
    assert_eq!(highest[1].to_string(), "16 (High), risk 3");
    let step = new.iter().find(|r| is(&r[0], "Step 1 - Ambition")).unwrap();
    assert!(step[1].to_string().starts_with("Complete"));

    let trends = sheet(&xlsx, "Trends");
    let header: Vec<String> = trends
        .iter()
        .find(|r| is(&r[0], "ID"))
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(&header[2..6], ["2023", "2024", "2025", "2026"]);

    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let findings = table(&sheet(&xlsx, "Findings"), "File");
    assert_eq!(findings.len(), store.findings_for_year(2026).unwrap().len());
    assert!(findings.iter().any(|f| is(&f["Code"], "not-an-option")
        && is(&f["Cell"], "C10")
        && is(&f["Question"], "1.2")));

    let about = sheet(&xlsx, "About");
    let templates = about.iter().find(|r| is(&r[0], "Templates")).unwrap();
    assert!(templates[1].to_string().contains("self-assessment v2"));
    // "Data as of" reads as a date, not a raw timestamp.
    let as_of = about.iter().find(|r| is(&r[0], "Data as of")).unwrap()[1].to_string();
    assert!(
        as_of.ends_with(" UTC") && !as_of.contains('-') && as_of.contains(", "),
        "{as_of}"
    );

    // Statements: every option column headed (Not applicable too), and no column of
    // last year's averages when the store has none at question level.
    let statements = sheet(&xlsx, "Statements");
    let header: Vec<String> = statements
        .iter()
        .find(|r| is(&r[0], "No."))
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(
        header.contains(&"Answered 'Not applicable'".to_string()),
        "{header:?}"
    );
    assert!(!header.iter().any(|h| h.contains("2025")), "{header:?}");
    assert!(header.iter().all(|h| !h.is_empty()), "{header:?}");
}

#[test]
fn scores_csv_matches_independent_scores_and_is_injection_safe() {
    let dir = tempfile::tempdir().unwrap();
    // A register whose names start with characters a spreadsheet would run as a formula.
    let reg = std::fs::read_to_string(sample_register())
        .unwrap()
        .replace(
            "LSP01,Joint Castle Point",
            "LSP01,=HYPERLINK(\"http://x\")Joint Castle Point",
        )
        .replace("WST05,South Essex Waste", "WST05,@SUM(1)South Essex Waste");
    let r = dir.path().join("register.csv");
    std::fs::write(&r, reg).unwrap();
    review(dir.path(), &r);
    let csv_text = std::fs::read_to_string(dir.path().join("scores-2026.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "year",
            "partnership_id",
            "partnership",
            "template",
            "section_id",
            "percent",
            "band"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        8 * 5,
        "four sections and overall for each scored return"
    );
    // Computed in the test, not read back from ptk's results.
    let expected = expected_scores(&dir.path().join("ptk.db"), 2026, "self-assessment");
    for row in &rows {
        let pct: f64 = row[5].parse().unwrap();
        let e = &expected[&row[1]];
        let want = if &row[4] == "overall" {
            e.overall
        } else {
            e.sections[&row[4]]
        };
        assert!((pct - want).abs() <= 0.005 + 1e-9, "{row:?}");
    }
    let lsp = rows.iter().find(|r| &r[1] == "LSP01").unwrap();
    assert!(lsp[2].starts_with("'=HYPERLINK"), "{}", &lsp[2]);
    let wst = rows.iter().find(|r| &r[1] == "WST05").unwrap();
    assert!(wst[2].starts_with("'@SUM"), "{}", &wst[2]);
    for f in ["findings.csv", "ingest-report.csv"] {
        let t = std::fs::read_to_string(dir.path().join(f)).unwrap();
        for rec in csv::Reader::from_reader(t.as_bytes()).records() {
            for field in rec.unwrap().iter() {
                assert!(!field.starts_with(['=', '+', '@']), "{f}: {field}");
            }
        }
    }
}

#[test]
fn the_same_store_gives_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    review(dir.path(), &sample_register());
    let store = dir.path().join("ptk.db");
    let args = |out: &str| {
        vec![
            "report".to_string(),
            "--year".into(),
            "2026".into(),
            "--store".into(),
            store.display().to_string(),
            "--templates".into(),
            repo().join("templates").display().to_string(),
            "--register".into(),
            sample_register().display().to_string(),
            "--out".into(),
            dir.path()
                .join(out)
                .join("review.xlsx")
                .display()
                .to_string(),
        ]
    };
    for out in ["a", "b"] {
        let a = args(out);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = ptk(dir.path(), &refs);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    for f in ["review.xlsx", "scores-2026.csv"] {
        let a = std::fs::read(dir.path().join("a").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs between runs on the same store");
    }
}

#[test]
fn status_lists_who_must_act() {
    let dir = tempfile::tempdir().unwrap();
    review(dir.path(), &sample_register());
    let store = dir.path().join("ptk.db");
    let out = ptk(
        dir.path(),
        &[
            "status",
            "--year",
            "2026",
            "--store",
            store.to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            sample_register().to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let section = |title: &str| -> String {
        let start = s.find(title).unwrap_or_else(|| panic!("{title} in {s}"));
        s[start..].split("\n\n").next().unwrap().to_string()
    };
    assert!(section("Must correct a rejected return (5)").contains("HOU07"));
    assert!(section("Not returned yet (1)").contains("CAB08"));
    assert!(section("Received but unreadable").contains("ICT12"));
    assert!(section("Returned (10)").contains("LSP01"));
}

#[test]
fn report_without_a_store_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = ptk(
        dir.path(),
        &["report", "--year", "2026", "--store", "missing.db"],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(text(&out.stderr).contains("run `ptk ingest`"));
}

#[test]
fn the_registers_exit_date_drives_the_exit_rule_and_the_summary() {
    // samples/register.csv gives DIG15 (exiting, its exit document rejected) an exit
    // date of 30 April 2027: within six months of the data, so it is for decision.
    let dir = tempfile::tempdir().unwrap();
    review(dir.path(), &sample_register());
    let xlsx = dir.path().join("review-2026.xlsx");
    let overview: Vec<String> = sheet(&xlsx, "Overview")
        .iter()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        overview
            .iter()
            .any(|c| c.starts_with("Leaving on 30 Apr 2027 with no accepted exit document")),
        "{overview:?}"
    );
    let summary = table(&sheet(&xlsx, "Summary"), "ID");
    let status = |id: &str| {
        summary.iter().find(|r| is(&r["ID"], id)).unwrap()["Register status"].to_string()
    };
    assert_eq!(status("DIG15"), "exiting on 30 Apr 2027");
    assert_eq!(status("ENV14"), "exiting on 31 Mar 2027");
}
