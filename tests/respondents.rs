//! Several respondents per partnership, through the binary: forms issued by `ptk issue`
//! for each respondent, filled with openpyxl as each officer would, ingested, and the
//! partnership's score checked against a computation made here from the answers.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

/// The shipped templates, with statement M3 made optional, so a respondent may leave it
/// blank (every scored statement of the shipped self-assessment is required).
fn templates_with_optional_m3(dir: &Path) -> PathBuf {
    let to = dir.join("templates");
    std::fs::create_dir_all(to.join("email")).unwrap();
    for entry in std::fs::read_dir(repo().join("templates")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
    for entry in std::fs::read_dir(repo().join("templates/email")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, to.join("email").join(p.file_name().unwrap())).unwrap();
    }
    let path = to.join("self-assessment.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find("id = \"M3\"").expect("M3 in the template");
    let req = at + text[at..].find("required = true").unwrap();
    let edited = format!(
        "{}required = false{}",
        &text[..req],
        &text[req + "required = true".len()..]
    );
    std::fs::write(&path, edited).unwrap();
    to
}

/// Every scored statement at `level`, then the exceptions.
fn plan(level: usize, except: &[(&str, Option<usize>)], blank: &[&str]) -> Plan {
    let mut p: Plan = STATEMENTS
        .iter()
        .map(|q| (q.to_string(), Some(level)))
        .collect();
    for (q, v) in except {
        p.insert(q.to_string(), *v);
    }
    for q in blank {
        p.remove(*q);
    }
    p
}

/// Fills a form: `answers` maps question id to a scale position, `None` for Not
/// applicable; questions not named are left blank. The other required answers are given.
fn fill(path: &Path, answers: &Plan) {
    let mut values = plan_answers(answers);
    values.extend(completed("Functioning"));
    fill_named(path, path, &values);
}

/// The partnership's section and overall percent, computed here from the plans: per
/// statement the mean points of those who chose a scored option; per section 100 × Σ means
/// ÷ (4 × statements with a mean); overall the mean of the sections (all weigh 1).
fn expected(plans: &[&Plan]) -> (BTreeMap<String, f64>, f64) {
    let sections = [
        ("foundations", 'F'),
        ("partners", 'P'),
        ("communication", 'C'),
        ("measuring", 'M'),
    ];
    let mut out = BTreeMap::new();
    for (id, letter) in sections {
        let (mut sum, mut max) = (0.0, 0.0);
        let questions: Vec<&String> = plans[0]
            .keys()
            .chain(plans.iter().flat_map(|p| p.keys()))
            .filter(|q| q.starts_with(letter))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for q in questions {
            let points: Vec<f64> = plans
                .iter()
                .filter_map(|p| p.get(q).copied().flatten())
                .map(|v| v as f64)
                .collect();
            if !points.is_empty() {
                sum += points.iter().sum::<f64>() / points.len() as f64;
                max += 4.0;
            }
        }
        out.insert(id.to_string(), 100.0 * sum / max);
    }
    let overall = out.values().sum::<f64>() / out.len() as f64;
    (out, overall)
}

/// The question numbers listed for LSP01 on the review's "Where respondents disagree".
fn disagreements(xlsx: &Path) -> Vec<String> {
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(xlsx).unwrap();
    let range = wb.worksheet_range("Where respondents disagree").unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| c == "ID"))
        .expect("a table headed ID");
    let q = rows[header].iter().position(|c| c == "Question").unwrap();
    let mut out: Vec<String> = rows[header + 1..]
        .iter()
        .filter(|r| r.first().is_some_and(|c| c == "LSP01"))
        .map(|r| r[q].clone())
        .collect();
    out.sort();
    out
}

#[test]
fn the_shipped_review_lists_where_the_partnerships_respondents_disagree() {
    // README's main command on the samples (with the sample respondents).
    let dir = tempfile::tempdir().unwrap();
    let out = ptk_samples(
        dir.path(),
        &[
            "review",
            repo().join("samples/returns").to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--history",
            repo().join("samples/history.csv").to_str().unwrap(),
            "--respondents",
            sample_respondents().to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let listed = disagreements(&dir.path().join("review-2026.xlsx"));
    assert!(
        !listed.is_empty(),
        "the samples' respondents disagree on some statements"
    );
    assert!(listed.contains(&"1.3".to_string()), "{listed:?}");
}

#[test]
fn the_partnership_score_is_the_mean_of_its_respondents_answers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let templates = templates_with_optional_m3(d);
    let template = ptk::template::load_checked(&templates)
        .unwrap()
        .into_iter()
        .find(|t| t.id == "self-assessment")
        .unwrap();
    assert!(
        template
            .sections
            .iter()
            .filter(|s| s.is_scored())
            .all(|s| s.weight == 1.0),
        "the computation below weighs every section 1"
    );
    let respondents = repo().join("samples/respondents.csv");
    // Every command here: the shipped register and respondents, these templates.
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--respondents", respondents.to_str().unwrap()]);
        ptk_samples_with(d, &templates, &all)
    };
    let out = run(&[
        "issue",
        "--template",
        "self-assessment",
        "--year",
        "2026",
        "--partnership",
        "LSP01",
        "--out",
        "out",
        "--issued-on",
        "2026-11-23",
        "--deadline",
        "2027-01-29",
        "--return-address",
        "partnerships@rochford.gov.uk",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let form = |rid: &str| {
        d.join("out").join(if rid == "lead" {
            "LSP01_self-assessment_2026.xlsx".to_string()
        } else {
            format!("LSP01_self-assessment_2026_{rid}.xlsx")
        })
    };
    // The lead and Castle Point are two points apart on F1 and one on C2; Essex Police
    // answers P3 and P4 Not applicable; Castle Point leaves the optional M3 blank.
    let lead = plan(3, &[("F1", Some(4)), ("C2", Some(1)), ("M3", Some(2))], &[]);
    let castle = plan(
        3,
        &[("F1", Some(2)), ("C2", Some(2)), ("P3", None)],
        &["M3"],
    );
    let police = plan(
        2,
        &[("F1", Some(3)), ("P3", None), ("P4", None), ("M3", Some(4))],
        &[],
    );
    fill(&form("lead"), &lead);
    fill(&form("castle-point"), &castle);
    fill(&form("essex-police"), &police);

    let store = d.join("ptk.db");
    let ingest = || run(&["ingest", "out", "--year", "2026"]);
    let out = ingest();
    let console = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(ptk::exit::OK), "{console}");
    // All three accepted; a statement scored 1 or below without an action is only the
    // missing-action warning (the self-assessment's action_below).
    let accepted = console
        .lines()
        .filter(|l| l.starts_with("accepted") && l.contains("LSP01"))
        .count();
    assert_eq!(accepted, 3, "{console}");
    for (file, codes) in common::finding_codes(d) {
        assert!(
            codes.iter().all(|c| c == "missing-action"),
            "{file}: {codes:?}"
        );
    }

    let s = ptk::store::Store::open(&store).unwrap();
    let mut who = s.returned_respondents(2026, "self-assessment").unwrap()["LSP01"].clone();
    who.sort();
    assert_eq!(
        who,
        ["castle-point", "essex-police", "lead"],
        "one return per respondent"
    );
    let got = &s.scored_returns(2026, "self-assessment", "stage").unwrap()["LSP01"];
    assert_eq!(got.respondents, 3);
    let (sections, overall) = expected(&[&lead, &castle, &police]);
    for (id, want) in &sections {
        let have = got
            .sections
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("no {id} score"));
        assert!((have - want).abs() < 1e-9, "{id}: {have} != {want}");
    }
    assert!(
        (got.overall.unwrap() - overall).abs() < 1e-9,
        "overall {:?} != {overall}",
        got.overall
    );
    let band = template.band_for(overall).unwrap().label.clone();
    assert_eq!(got.band.as_deref(), Some(band.as_str()));
    assert_eq!(got.stage.as_deref(), Some("Functioning"));

    // The review lists the statements two or more points apart (F1 = 1.1: 4, 2, 3; M3 =
    // 4.3: 2, blank, 4), not those one apart (C2 = 3.2: 1, 2, 2) or answered by one alone.
    let out = run(&["report", "--year", "2026", "--out", "review.xlsx"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(disagreements(&d.join("review.xlsx")), ["1.1", "4.3"]);

    // A respondent's corrected return replaces their own earlier one, not a colleague's.
    let castle2 = plan(4, &[("P3", None)], &["M3"]);
    fill(&form("castle-point"), &castle2);
    let out = ingest();
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stderr)
    );
    let got = &s.scored_returns(2026, "self-assessment", "stage").unwrap()["LSP01"];
    assert_eq!(got.respondents, 3);
    let (_, overall) = expected(&[&lead, &castle2, &police]);
    assert!((got.overall.unwrap() - overall).abs() < 1e-9);
}

#[test]
fn a_return_from_before_respondents_is_the_leads_and_a_former_respondent_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("ptk.db");
    let returns = repo().join("samples/returns");
    // An empty respondents file: the partners' sample forms come from people no longer
    // listed, who are accepted with a warning.
    let none = d.join("respondents.csv");
    std::fs::write(&none, "partnership_id,respondent_id,name,email\n").unwrap();
    let out = ptk_samples(
        d,
        &[
            "ingest",
            returns.to_str().unwrap(),
            "--year",
            "2026",
            "--respondents",
            none.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let conn = rusqlite::Connection::open(&store).unwrap();
    let whose: String = conn
        .query_row(
            "SELECT respondent_id FROM returns WHERE path LIKE '%Joint LSP self assessment 2026 FINAL.xlsx'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(whose, "lead", "a form without respondent_id is the lead's");
    let findings = std::fs::read_to_string(d.join("findings.csv")).unwrap();
    let former: Vec<&str> = findings
        .lines()
        .filter(|l| l.contains("unknown-respondent"))
        .collect();
    assert_eq!(former.len(), 2, "{findings}");
    assert!(former
        .iter()
        .all(|l| l.contains("not in the respondents file now")));
    let n: i64 = conn
        .query_row(
            "SELECT respondents FROM results WHERE partnership_id = 'LSP01' AND year = 2026",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 3, "their answers still count");
}
