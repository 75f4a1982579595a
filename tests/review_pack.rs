//! The review as a board pack (issue #19), through the binary: self-assessments issued
//! by `ptk issue` to each respondent, filled with openpyxl, ingested with a history, and
//! the workbook read back. Expected values come from the answers this test writes and
//! the history it gives, never from ptk's store.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

struct Answer<'a> {
    level: usize,
    stage: &'a str,
    achieved: String,
    support: &'a str,
    blank: &'a str,
}

/// Fills a self-assessment in place: every statement at scale position `level` but
/// `blank` (left empty, so the return is rejected), and the stage and review answers.
fn fill(form: &Path, a: &Answer) {
    let mut values: Vec<(String, String)> = STATEMENTS
        .iter()
        .filter(|q| **q != a.blank)
        .map(|q| answer(q, SCALE[a.level]))
        .collect();
    values.extend(completed(a.stage));
    values.push(answer("achievements", &a.achieved));
    values.push(answer("support", a.support));
    fill_named(form, form, &values);
}

fn rows(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("{sheet}: {e}"));
    range
        .rows()
        .map(|r| r.iter().map(|c: &Data| c.to_string()).collect())
        .collect()
}

fn sheet_names(path: &Path) -> Vec<String> {
    let wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.sheet_names().to_vec()
}

/// The rows of the table whose first header is `first`, as header → text maps.
fn table(rows: &[Vec<String>], first: &str) -> Vec<HashMap<String, String>> {
    let h = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| c == first))
        .unwrap_or_else(|| panic!("no table headed {first}"));
    rows[h + 1..]
        .iter()
        .take_while(|r| r.first().is_some_and(|c| !c.is_empty()))
        .map(|r| rows[h].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

#[test]
fn the_pack_lists_every_decision_with_evidence_and_gives_each_director_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let respondents = repo().join("samples/respondents.csv");
    let out = issue(
        d,
        "self-assessment",
        &["--respondents", respondents.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inbox = d.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let form = |name: &str| {
        let to = inbox.join(name);
        std::fs::copy(d.join("out").join(name), &to).unwrap();
        to
    };
    // LSP01: three respondents, the police's answer "Failing" and a long account.
    let long = "The partnership delivered the joint plan. ".repeat(60);
    let lsp = [
        (
            "LSP01_self-assessment_2026.xlsx",
            3,
            "Functioning",
            "Lead: the action plan.".to_string(),
            "Lead: help with measures.",
        ),
        (
            "LSP01_self-assessment_2026_castle-point.xlsx",
            3,
            "Functioning",
            "Castle Point: shared campaign.".to_string(),
            "Castle Point: clearer outcomes.",
        ),
        (
            "LSP01_self-assessment_2026_essex-police.xlsx",
            2,
            "Failing",
            long.trim_end().to_string(),
            "Police: a data analyst.",
        ),
    ];
    for (name, level, stage, achieved, support) in &lsp {
        fill(
            &form(name),
            &Answer {
                level: *level,
                stage,
                achieved: achieved.clone(),
                support,
                blank: "",
            },
        );
    }
    // LEI06: its only return leaves F1 blank, so it is rejected.
    fill(
        &form("LEI06_self-assessment_2026.xlsx"),
        &Answer {
            level: 3,
            stage: "Functioning",
            achieved: "x".into(),
            support: "y",
            blank: "F1",
        },
    );
    // MGT16's proposal, as shipped: by hand from the sample form, its highest risk is
    // 4 × 4 = 16 (High), the council's contribution £25,000 a year and termination
    // "No - not yet considered".
    std::fs::copy(
        repo().join("samples/returns/MGT16_new-partnership_2026.ods"),
        inbox.join("MGT16_new-partnership_2026.ods"),
    )
    .unwrap();

    // History: LSP01 one imported score in 2025 (higher than its three respondents give
    // now); LEI06 Red in 2025 and falling.
    let history = "year,partnership_id,section_id,percent\n\
        2025,LSP01,overall,90\n\
        2024,LEI06,overall,55\n\
        2025,LEI06,overall,45\n";
    let h = d.join("history.csv");
    std::fs::write(&h, history).unwrap();
    let out = ptk(
        d,
        &[
            "review",
            inbox.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--history",
            h.to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
            "--respondents",
            respondents.to_str().unwrap(),
            "--store",
            d.join("ptk.db").to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let xlsx = d.join("review-2026.xlsx");
    assert!(
        xlsx.exists(),
        "{:?} {}",
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>(),
        text(&out.stderr)
    );
    let overview = rows(&xlsx, "Overview");
    let list = table(&overview, "Partnership");
    let why = |id: &str| -> String {
        list.iter()
            .find(|r| r["Partnership"].ends_with(&format!("({id})")))
            .unwrap_or_else(|| panic!("{id} not for decision: {list:?}"))["Why it needs a decision"]
            .clone()
    };

    // LSP01: 3, 3 and 2 on every statement: each statement's mean is (3 + 3 + 2) / 3
    // points of 4, so every section and the overall are 66.7%.
    let lsp01 = 100.0 * (3.0 + 3.0 + 2.0) / 3.0 / 4.0;
    assert!(
        lsp01 < 90.0 - 5.0,
        "a fall of more than 5 points on the imported 90"
    );
    let lsp_row = list
        .iter()
        .find(|r| r["Partnership"].ends_with("(LSP01)"))
        .unwrap();
    // Amber: 50 to under 75 in the shipped template.
    assert_eq!(lsp_row["Overall % 2026"], format!("{lsp01:.1} Amber"));
    // The police are named with their stage, the others counted.
    assert!(
        why("LSP01").contains("Sergeant Kate Lowe (Essex Police): Failing; 2 others: Functioning"),
        "{}",
        why("LSP01")
    );
    // LEI06: its only return rejected, 2025 Red.
    assert!(
        why("LEI06").contains("2026 self-assessment rejected; last score 45.0 in 2025 (Red)"),
        "{}",
        why("LEI06")
    );
    // MGT16's proposal with its risk, cost and termination answer.
    assert!(
        why("MGT16").contains("highest risk 16 High; £25,000 a year from the council; termination arrangements: No - not yet considered"),
        "{}",
        why("MGT16")
    );
    for r in &list {
        assert!(
            !r["Proposed action"].is_empty() && !r["Assistant Director"].is_empty(),
            "{r:?}"
        );
    }

    // Respondents changed (1 imported score → 3 returns): not counted declined, though
    // down more than 5 points; marked on its Assistant Director's page.
    let headline: HashMap<String, String> = table(&overview, "Headline")
        .into_iter()
        .map(|r| (r["Headline"].clone(), r["Number"].clone()))
        .collect();
    assert_eq!(headline["Respondents changed"], "1");
    assert_eq!(headline["Declined on 2025"], "0");
    assert!(!why("LSP01").contains("Down "), "{}", why("LSP01"));
    // Trends says so too, in words rather than a red decline: 90 imported, 66.7 now.
    let trends = table(&rows(&xlsx, "Trends"), "ID");
    let lsp_trend = trends.iter().find(|r| r["ID"] == "LSP01").unwrap();
    assert_eq!(
        lsp_trend["Change vs 2025"],
        format!("{:+.1} (respondents changed)", lsp01 - 90.0)
    );

    // Every Assistant Director in the register has a page listing exactly their
    // partnerships in the review, with each one's answers in full.
    let register = ptk::register::load(&repo().join("samples/register.csv"))
        .unwrap()
        .0;
    let mut theirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in register
        .partnerships
        .iter()
        .filter(|p| p.status.as_str() != "closed")
    {
        theirs
            .entry(p.assistant_director.clone())
            .or_default()
            .insert(format!("{} ({})", p.name, p.id));
    }
    let names = sheet_names(&xlsx);
    for (ad, want) in &theirs {
        let sheet = format!("AD {ad}");
        assert!(names.contains(&sheet), "{sheet} in {names:?}");
        let page = rows(&xlsx, &sheet);
        let listed: BTreeSet<String> = page
            .iter()
            .filter_map(|r| r.first())
            .filter(|c| {
                register
                    .partnerships
                    .iter()
                    .any(|p| c.as_str() == format!("{} ({})", p.name, p.id))
            })
            .cloned()
            .collect();
        assert_eq!(&listed, want, "{ad}");
        if want.iter().any(|p| p.ends_with("(LSP01)")) {
            let said: Vec<&String> = page.iter().filter_map(|r| r.get(1)).collect();
            let joined = page
                .iter()
                .filter(|r| {
                    r.first().is_some_and(|c| {
                        c == "What has the partnership achieved this year?" || c == "(continued)"
                    })
                })
                .map(|r| r[1].clone())
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                joined.contains(&format!(
                    "Sergeant Kate Lowe (Essex Police): {}",
                    long.trim_end()
                )),
                "the long answer prints whole"
            );
            for (_, _, _, achieved, support) in &lsp[..2] {
                assert!(
                    said.iter().any(|c| c.ends_with(achieved.as_str())),
                    "{achieved}"
                );
                assert!(said.iter().any(|c| c.ends_with(support)), "{support}");
            }
            assert!(said.iter().any(|c| c.ends_with("Police: a data analyst.")));
            assert!(said.iter().any(|c| c.contains("respondents changed")));
        }
    }

    // Stage disagreement is on "Where respondents disagree", each respondent named.
    let disagree = table(&rows(&xlsx, "Where respondents disagree"), "ID");
    let stage = disagree
        .iter()
        .find(|r| r["ID"] == "LSP01" && r["Spread (points)"] == "different stages")
        .expect("LSP01's stages");
    assert!(
        stage["Each respondent's answer"].contains("Sergeant Kate Lowe (Essex Police): Failing"),
        "{stage:?}"
    );

    // The same count is the same on every sheet: partnerships outstanding and received.
    let by_ad = table(&rows(&xlsx, "By Assistant Director"), "Assistant Director");
    let sum = |col: &str| -> usize { by_ad.iter().map(|r| r[col].parse::<usize>().unwrap()).sum() };
    assert_eq!(
        headline["Partnerships outstanding"]
            .parse::<usize>()
            .unwrap(),
        sum("Partnerships outstanding")
    );

    // Nothing technical on the Leadership Team's sheets.
    let annex = names.iter().position(|n| n == "Annex").expect("an annex");
    let cell_ref = regex_like_cell_reference();
    for sheet in &names[..annex] {
        for row in rows(&xlsx, sheet) {
            for c in row {
                for bad in ["ptk.toml", ".md", ".xlsx", ".ods", "/", "\\"] {
                    assert!(!c.contains(bad), "{sheet}: {bad:?} in {c:?}");
                }
                assert!(!cell_ref(&c), "{sheet}: a cell reference in {c:?}");
            }
        }
    }
}

/// Whether text holds a cell reference like "Assessment!C31".
fn regex_like_cell_reference() -> impl Fn(&str) -> bool {
    |s: &str| {
        s.match_indices('!').any(|(i, _)| {
            let after: String = s[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let letters = after.chars().take_while(|c| c.is_ascii_uppercase()).count();
            letters > 0
                && after.len() > letters
                && after[letters..].chars().all(|c| c.is_ascii_digit())
        })
    }
}
