//! The review workbook for the Leadership Team (issue #13): the Overview's headline and
//! decision list, like-for-like comparisons, charts' alt text, accessibility and the
//! printed text size, read from workbooks made by the binary from crafted stores.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;
use ptk::store::Store;

/// Runs the year-end review of the samples in `dir`, with `history` (CSV text) and a
/// ptk.toml holding `config`; returns the workbook's path.
fn run(dir: &Path, history: &str, config: &str, register: Option<&Path>) -> PathBuf {
    let h = dir.join("history.csv");
    std::fs::write(&h, history).unwrap();
    std::fs::write(dir.join("ptk.toml"), config).unwrap();
    let reg = register.map_or_else(|| repo().join("samples/register.csv"), Path::to_path_buf);
    let out = ptk(
        dir,
        &[
            "review",
            repo().join("samples/returns").to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--history",
            h.to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            reg.to_str().unwrap(),
            "--store",
            dir.join("ptk.db").to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    dir.join("review-2026.xlsx")
}

fn sample_history() -> String {
    std::fs::read_to_string(repo().join("samples/history.csv")).unwrap()
}

/// A ptk.toml with only the named decision rule switched on.
fn only(rule: &str) -> String {
    let mut t = String::from("[decision]\nlowest_band = false\ndecline_points = 0\ndown_two_years = false\nstages = []\nno_accepted_return = false\nno_usable_return = false\nproposals = false\nexit_within_months = 0\n");
    t = t
        .lines()
        .filter(|l| !l.starts_with(rule.split(' ').next().unwrap()))
        .collect::<Vec<_>>()
        .join("\n");
    format!("{t}\n{rule}\n")
}

fn rows(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// The rows of the table whose first header is `first`, as header → cell maps.
fn table(rows: &[Vec<Data>], first: &str) -> Vec<HashMap<String, Data>> {
    let h = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| *c == first))
        .unwrap_or_else(|| panic!("no table headed {first}"));
    let headers: Vec<String> = rows[h].iter().map(|c| c.to_string()).collect();
    rows[h + 1..]
        .iter()
        .take_while(|r| r.first().is_some_and(|c| !c.to_string().is_empty()))
        .map(|r| headers.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// The partnership ids on the Overview's "For decision" list, in order.
fn decision_ids(xlsx: &Path) -> Vec<String> {
    table(&rows(xlsx, "Overview"), "Partnership")
        .iter()
        .filter(|r| r["Partnership"].to_string().ends_with(')'))
        .map(|r| {
            let name = r["Partnership"].to_string();
            name.rsplit('(')
                .next()
                .unwrap()
                .trim_end_matches(')')
                .to_string()
        })
        .collect()
}

/// What the test expects: scores computed here (`expected_scores`) and from the history
/// CSV it wrote; which returns and stages were accepted, from the store.
struct Truth {
    now: BTreeMap<String, f64>,
    by_year: BTreeMap<String, BTreeMap<i32, f64>>,
    sections: BTreeMap<(String, i32, String), f64>,
    stage: BTreeMap<String, String>,
    exit_docs: BTreeSet<String>,
    accepted: usize,
    /// Forms received, one per person.
    forms: usize,
    /// Scored in 2026 from other than one return: 2025 is imported history (one score
    /// each), so their change is not like for like.
    changed: BTreeSet<String>,
    /// Each respondent's stage, where two or more returned.
    respondent_stages: BTreeMap<String, Vec<String>>,
}

fn truth(dir: &Path) -> Truth {
    let store = Store::open(&dir.join("ptk.db")).unwrap();
    let mut t = Truth {
        now: BTreeMap::new(),
        by_year: BTreeMap::new(),
        sections: BTreeMap::new(),
        stage: BTreeMap::new(),
        exit_docs: BTreeSet::new(),
        accepted: 0,
        forms: 0,
        changed: BTreeSet::new(),
        respondent_stages: BTreeMap::new(),
    };
    for template in ["self-assessment", "exit", "new-partnership"] {
        for (pid, who) in store.returned_respondents(2026, template).unwrap() {
            t.forms += who.len();
            if template == "self-assessment" && who.len() != 1 {
                t.changed.insert(pid);
            }
        }
    }
    for a in store.respondent_answers(2026, "self-assessment").unwrap() {
        if a.question_id == "stage" {
            t.respondent_stages
                .entry(a.partnership_id)
                .or_default()
                .push(a.value);
        }
    }
    // Earlier years: the history CSV this test wrote (section and overall rows).
    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    for line in history.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let (year, pid, scope) = (f[0].parse::<i32>().unwrap(), f[1].to_string(), f[2]);
        let pct: f64 = f[3].parse().unwrap();
        if scope == "overall" {
            t.by_year.entry(pid).or_default().insert(year, pct);
        } else {
            t.sections.insert((pid, year, scope.to_string()), pct);
        }
    }
    // This year's results: computed here from the template's points and the answers
    // (see `expected_scores`), not read back from ptk's scores.
    let expected = expected_scores(&dir.join("ptk.db"), 2026, "self-assessment");
    for (pid, e) in &expected {
        t.now.insert(pid.clone(), e.overall);
        t.by_year
            .entry(pid.clone())
            .or_default()
            .insert(2026, e.overall);
        for (scope, pct) in &e.sections {
            t.sections.insert((pid.clone(), 2026, scope.clone()), *pct);
        }
    }
    // Each scored partnership's stage answer, and the count of accepted returns (intake's
    // verdicts, not scores); the scored set must be the one computed above.
    let scored = store
        .scored_returns(2026, "self-assessment", "stage")
        .unwrap();
    assert_eq!(
        scored.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>()
    );
    for (pid, r) in scored {
        t.stage.insert(pid, r.stage.clone().unwrap_or_default());
        t.accepted += 1;
    }
    for template in ["exit", "new-partnership"] {
        let got = store.current_returns(2026, template).unwrap();
        t.accepted += got.len();
        if template == "exit" {
            t.exit_docs.extend(got.into_keys());
        }
    }
    t
}

fn register() -> ptk::register::Register {
    ptk::register::load(&repo().join("samples/register.csv"))
        .unwrap()
        .0
}

/// Orders ids weakest first as the Overview does: by this year's score, unscored last
/// (in register order).
fn weakest_first(ids: Vec<String>, t: &Truth) -> Vec<String> {
    let reg = register();
    let pos = |id: &str| reg.partnerships.iter().position(|p| p.id == id).unwrap();
    let mut ids = ids;
    ids.sort_by(|a, b| match (t.now.get(a), t.now.get(b)) {
        (Some(x), Some(y)) => x.total_cmp(y).then(pos(a).cmp(&pos(b))),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => pos(a).cmp(&pos(b)),
    });
    ids
}

#[test]
fn overview_headline_counts_equal_independent_scores() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let t = truth(dir.path());
    let reg = register();
    let headline: HashMap<String, f64> = table(&rows(&xlsx, "Overview"), "Headline")
        .iter()
        .map(|r| (r["Headline"].to_string(), num(&r["Number"])))
        .collect();
    let status = |s: &str| {
        reg.partnerships
            .iter()
            .filter(|p| p.status.as_str() == s)
            .count() as f64
    };
    let in_review = reg.partnerships.len() as f64 - status("closed");
    assert_eq!(headline["Partnerships in the review"], in_review);
    assert_eq!(headline["Forms received"], t.forms as f64);
    assert_eq!(
        headline["Partnerships outstanding"],
        in_review - t.accepted as f64
    );
    assert_eq!(headline["Partnerships scored"], t.now.len() as f64);
    assert_eq!(headline["Respondents changed"], t.changed.len() as f64);
    let band = |lo: f64, hi: f64| t.now.values().filter(|v| **v >= lo && **v < hi).count() as f64;
    assert_eq!(headline["Green band"], band(75.0, 1000.0));
    assert_eq!(headline["Amber band"], band(50.0, 75.0));
    assert_eq!(headline["Red band"], band(0.0, 50.0));
    let changes: Vec<f64> = t
        .now
        .iter()
        .filter(|(id, _)| !t.changed.contains(*id))
        .filter_map(|(id, now)| Some(((now - t.by_year[id].get(&2025)?) * 10.0).round() / 10.0))
        .collect();
    assert_eq!(
        headline["Improved on 2025"],
        changes.iter().filter(|c| **c >= 1.0).count() as f64
    );
    assert_eq!(
        headline["Declined on 2025"],
        changes.iter().filter(|c| **c <= -1.0).count() as f64
    );
    assert_eq!(
        headline["Steady"],
        changes.iter().filter(|c| c.abs() < 1.0).count() as f64
    );
    assert_eq!(headline["Exiting"], status("exiting"));
    assert_eq!(headline["New proposals"], status("proposed"));
    // The band thresholds are stated in the workbook.
    let flat: Vec<String> = rows(&xlsx, "Overview")
        .iter()
        .flatten()
        .map(|c| c.to_string())
        .collect();
    assert!(flat.iter().any(|c| c.contains("75 and above")), "{flat:?}");
    assert!(flat.iter().any(|c| c.contains("below 50")));
}

#[test]
fn rule_lowest_band_lists_exactly_the_red_partnerships() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(
        dir.path(),
        &sample_history(),
        &only("lowest_band = true"),
        None,
    );
    let t = truth(dir.path());
    let want: Vec<String> = t
        .now
        .iter()
        .filter(|(_, v)| **v < 50.0)
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(decision_ids(&xlsx), weakest_first(want, &t));
}

#[test]
fn rule_decline_of_five_points_lists_exactly_those_down_five() {
    // CSP02 and WST05 had higher scores last year in this history.
    let history = sample_history()
        .replace("2025,CSP02,overall,77.5", "2025,CSP02,overall,83.0")
        .replace("2025,WST05,overall,87.1", "2025,WST05,overall,91.8");
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &history, &only("decline_points = 5"), None);
    let t = truth(dir.path());
    let want: Vec<String> = t
        .now
        .iter()
        .filter(|(id, now)| {
            t.by_year[*id]
                .get(&2025)
                .is_some_and(|before| before - *now >= 5.0)
        })
        .map(|(k, _)| k.clone())
        .collect();
    assert!(want.contains(&"CSP02".to_string()), "{want:?}");
    assert_eq!(decision_ids(&xlsx), weakest_first(want, &t));
}

#[test]
fn rule_down_two_years_lists_exactly_the_steady_sliders() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(
        dir.path(),
        &sample_history(),
        &only("down_two_years = true"),
        None,
    );
    let t = truth(dir.path());
    let want: Vec<String> = t
        .now
        .iter()
        .filter(|(id, now)| {
            let y = &t.by_year[*id];
            matches!((y.get(&2024), y.get(&2025)), (Some(a), Some(b)) if **now < *b && b < a)
        })
        .map(|(k, _)| k.clone())
        .collect();
    assert!(want.contains(&"SEP04".to_string()), "{want:?}");
    assert_eq!(decision_ids(&xlsx), weakest_first(want, &t));
}

#[test]
fn rule_life_cycle_stage_lists_exactly_that_stage_and_is_configurable() {
    // No sample says "Failing"; the rule is set to "Frustration" to prove it reads the stage.
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(
        dir.path(),
        &sample_history(),
        &only("stages = [\"Frustration\"]"),
        None,
    );
    let t = truth(dir.path());
    // Any respondent's stage counts, not just the partnership's most common answer.
    let want: Vec<String> = t
        .stage
        .iter()
        .filter(|(k, s)| {
            *s == "Frustration"
                || t.respondent_stages
                    .get(*k)
                    .is_some_and(|v| v.iter().any(|s| s == "Frustration"))
        })
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(decision_ids(&xlsx), weakest_first(want, &t));
    // And the default ("Failing") lists none of the samples.
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(
        dir.path(),
        &sample_history(),
        &only("stages = [\"Failing\"]"),
        None,
    );
    assert_eq!(decision_ids(&xlsx), Vec::<String>::new());
}

#[test]
fn rule_no_accepted_return_lists_exactly_those_without_one_in_two_years() {
    // CAB08 (not returned this year) has no 2025 score in this history.
    let history: String = sample_history()
        .lines()
        .filter(|l| !l.starts_with("2025,CAB08,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(
        dir.path(),
        &history,
        &only("no_accepted_return = true"),
        None,
    );
    let t = truth(dir.path());
    let want: Vec<String> = register()
        .partnerships
        .iter()
        .filter(|p| p.status.as_str() == "active")
        .filter(|p| !t.now.contains_key(&p.id))
        .filter(|p| t.by_year.get(&p.id).is_none_or(|y| !y.contains_key(&2025)))
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(want, ["CAB08"]);
    assert_eq!(decision_ids(&xlsx), weakest_first(want, &t));
}

#[test]
fn rule_exit_soon_lists_exactly_the_exiting_without_an_exit_document() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(
        dir.path(),
        &sample_history(),
        &only("exit_within_months = 6"),
        None,
    );
    let t = truth(dir.path());
    let want: Vec<String> = register()
        .partnerships
        .iter()
        .filter(|p| p.status.as_str() == "exiting" && !t.exit_docs.contains(&p.id))
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(want, ["DIG15"], "ENV14's exit document was accepted");
    assert_eq!(decision_ids(&xlsx), want);
}

#[test]
fn every_partnership_is_listed_once_with_all_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let ids = decision_ids(&xlsx);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    let list = table(&rows(&xlsx, "Overview"), "Partnership");
    let sep = list
        .iter()
        .find(|r| r["Partnership"].to_string().ends_with("(SEP04)"))
        .unwrap();
    // The whole slide from the sample history and this year's score, oldest first:
    // every year lower than the one before it.
    let t = truth(dir.path());
    let years = &t.by_year["SEP04"];
    let mut slide = vec![(2026, t.now["SEP04"])];
    while let Some(v) = years.get(&(slide[0].0 - 1)).filter(|v| **v > slide[0].1) {
        slide.insert(0, (slide[0].0 - 1, *v));
    }
    assert!(slide.len() >= 3, "{slide:?}");
    let trail = slide
        .iter()
        .map(|(y, v)| format!("{y} {v:.1}"))
        .collect::<Vec<_>>()
        .join(" → ");
    let why = sep["Why it needs a decision"].to_string();
    assert!(
        why.contains(&format!(
            "running ({trail}), {:.1} points since {}",
            slide[0].1 - slide[slide.len() - 1].1,
            slide[0].0
        )),
        "{why}"
    );
    assert!(!sep["Assistant Director"].to_string().is_empty(), "{sep:?}");
    assert!(!sep["Proposed action"].to_string().is_empty(), "{sep:?}");
}

#[test]
fn section_averages_are_like_for_like_with_their_n() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let t = truth(dir.path());
    let sheet = table(&rows(&xlsx, "Sections"), "Section");
    for (id, title) in [
        ("foundations", "Foundations"),
        ("partners", "Partners"),
        ("communication", "Communication and Involvement"),
        ("measuring", "Measuring and reviewing success"),
    ] {
        let row = sheet.iter().find(|r| r["Section"] == title).unwrap();
        let now: Vec<f64> = t
            .now
            .keys()
            .filter_map(|p| t.sections.get(&(p.clone(), 2026, id.to_string())).copied())
            .collect();
        let pairs: Vec<(f64, f64)> = t
            .now
            .keys()
            .filter(|p| !t.changed.contains(*p))
            .filter_map(|p| {
                Some((
                    *t.sections.get(&(p.clone(), 2025, id.to_string()))?,
                    *t.sections.get(&(p.clone(), 2026, id.to_string()))?,
                ))
            })
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(num(&row["Average % 2026"]), mean(&now)), "{title}");
        assert_eq!(num(&row["Partnerships scored 2026 (n)"]), now.len() as f64);
        assert_eq!(num(&row["Scored in both years (n)"]), pairs.len() as f64);
        let before: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let after: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        assert!(close(
            num(&row["Same partnerships: average % 2025"]),
            mean(&before)
        ));
        assert!(close(
            num(&row["Same partnerships: average % 2026"]),
            mean(&after)
        ));
        assert!(close(
            num(&row["Change (points)"]),
            mean(&after) - mean(&before)
        ));
        // The samples: 8 scored, of which YTH13 is new and LSP01 went from one imported
        // score to three respondents' returns.
        assert_eq!(pairs.len(), 6, "the samples' like-for-like group");
    }
}

// ---------------------------------------------------------------------------
// The workbook's XML

fn zip_text(path: &Path, name: &str) -> Option<String> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(name).ok()?.read_to_string(&mut s).unwrap();
    Some(s)
}

fn zip_names(path: &Path) -> Vec<String> {
    let z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    z.file_names().map(|n| n.unwrap().to_string()).collect()
}

/// (sheet name, its part name) in workbook order.
fn sheets(path: &Path) -> Vec<(String, String)> {
    let wb = zip_text(path, "xl/workbook.xml").unwrap();
    let wb = roxmltree::Document::parse(&wb).unwrap();
    let rels = zip_text(path, "xl/_rels/workbook.xml.rels").unwrap();
    let rels = roxmltree::Document::parse(&rels).unwrap();
    wb.descendants()
        .filter(|n| n.has_tag_name("sheet"))
        .map(|s| {
            let rid = s
                .attributes()
                .find(|a| a.name() == "id")
                .unwrap()
                .value()
                .to_string();
            let target = rels
                .descendants()
                .find(|n| n.attribute("Id") == Some(rid.as_str()))
                .unwrap()
                .attribute("Target")
                .unwrap()
                .to_string();
            (
                s.attribute("name").unwrap().to_string(),
                format!(
                    "xl/{}",
                    target.trim_start_matches('/').trim_start_matches("xl/")
                ),
            )
        })
        .collect()
}

#[test]
fn every_chart_has_alt_text() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let drawings: Vec<String> = zip_names(&xlsx)
        .into_iter()
        .filter(|n| n.starts_with("xl/drawings/drawing") && n.ends_with(".xml"))
        .collect();
    let mut charts = 0;
    for d in drawings {
        let xml = zip_text(&xlsx, &d).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        for frame in doc.descendants().filter(|n| n.has_tag_name("graphicFrame")) {
            charts += 1;
            let pr = frame
                .descendants()
                .find(|n| n.has_tag_name("cNvPr"))
                .unwrap();
            let descr = pr.attribute("descr").unwrap_or("");
            assert!(
                descr.len() > 40 && descr.contains("2026"),
                "{d}: chart without meaningful alt text: {descr:?}"
            );
        }
    }
    assert_eq!(charts, 2);
}

/// The default font's widest digit in pixels, as Excel measures column widths.
fn digit_px(font: &str, size: f64) -> f64 {
    match (font, size as u32) {
        ("Calibri", 11) | ("Arial", 10) => 7.0,
        ("Arial", 11) => 8.0,
        other => panic!("no column metrics for {other:?}"),
    }
}

/// The workbook's default font (the first in styles.xml): name and size.
fn default_font(xlsx: &Path) -> (String, f64) {
    let styles = zip_text(xlsx, "xl/styles.xml").unwrap();
    let doc = roxmltree::Document::parse(&styles).unwrap();
    let font = doc.descendants().find(|n| n.has_tag_name("font")).unwrap();
    let get = |tag: &str| {
        font.children()
            .find(|n| n.has_tag_name(tag))
            .and_then(|n| n.attribute("val"))
            .unwrap()
            .to_string()
    };
    (get("name"), get("sz").parse().unwrap())
}

/// The printed scale of one sheet: what fit-to-page makes of its used width (and height,
/// when fitted to one page tall), on A4.
fn printed_scale(xlsx: &Path, part: &str) -> (f64, String) {
    let (font, size) = default_font(xlsx);
    let px = digit_px(&font, size);
    // A column `width` characters wide: width × digit + 5 px padding, at 0.75 pt a pixel.
    let col_points = |width: f64| (width * px + 5.0).trunc() * 0.75;
    let xml = zip_text(xlsx, part).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let setup = doc
        .descendants()
        .find(|n| n.has_tag_name("pageSetup"))
        .expect("page setup");
    assert_eq!(setup.attribute("paperSize"), Some("9"), "{part}: A4");
    let landscape = setup.attribute("orientation") == Some("landscape");
    let margins = doc
        .descendants()
        .find(|n| n.has_tag_name("pageMargins"))
        .unwrap();
    let m = |k: &str| margins.attribute(k).unwrap().parse::<f64>().unwrap() * 72.0;
    let (pw, ph) = if landscape {
        (841.9, 595.3)
    } else {
        (595.3, 841.9)
    };
    let avail_w = pw - m("left") - m("right");
    let avail_h = ph - m("top") - m("bottom");
    let fit_w: u32 = setup
        .attribute("fitToWidth")
        .map_or(1, |v| v.parse().unwrap());
    let fit_h: u32 = setup
        .attribute("fitToHeight")
        .map_or(1, |v| v.parse().unwrap());
    // Used columns: the widest row's last cell, and any chart's right edge.
    let mut widths: BTreeMap<u32, f64> = BTreeMap::new();
    for c in doc.descendants().filter(|n| n.has_tag_name("col")) {
        let (min, max): (u32, u32) = (
            c.attribute("min").unwrap().parse().unwrap(),
            c.attribute("max").unwrap().parse().unwrap(),
        );
        for i in min..=max.min(200) {
            widths.insert(i, c.attribute("width").unwrap().parse().unwrap());
        }
    }
    let default_w = 8.43;
    let col_of = |r: &str| -> u32 {
        r.chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .fold(0, |a, c| a * 26 + (c as u32 - 'A' as u32 + 1))
    };
    let mut last_col = 0;
    let mut height = 0.0;
    let default_h = doc
        .descendants()
        .find(|n| n.has_tag_name("sheetFormatPr"))
        .and_then(|n| n.attribute("defaultRowHeight"))
        .map_or(15.0, |v| v.parse().unwrap());
    for row in doc.descendants().filter(|n| n.has_tag_name("row")) {
        height += row
            .attribute("ht")
            .map_or(default_h, |v| v.parse().unwrap());
        for c in row.children().filter(|n| n.has_tag_name("c")) {
            last_col = last_col.max(col_of(c.attribute("r").unwrap()));
        }
    }
    let mut content_w: f64 = (1..=last_col)
        .map(|i| col_points(*widths.get(&i).unwrap_or(&default_w)))
        .sum();
    // Charts: anchored at a cell, with an extent in EMU (12700 per point).
    let rels_part = part.replace("worksheets/", "worksheets/_rels/") + ".rels";
    if let Some(rels) = zip_text(xlsx, &rels_part) {
        let rels = roxmltree::Document::parse(&rels).unwrap();
        for r in rels
            .descendants()
            .filter(|n| n.has_tag_name("Relationship"))
        {
            let target = r.attribute("Target").unwrap();
            if !target.contains("drawing") {
                continue;
            }
            let name = format!("xl/drawings/{}", target.rsplit('/').next().unwrap());
            let d = zip_text(xlsx, &name).unwrap();
            let d = roxmltree::Document::parse(&d).unwrap();
            for a in d
                .descendants()
                .filter(|n| n.has_tag_name("oneCellAnchor") || n.has_tag_name("twoCellAnchor"))
            {
                let from_col: u32 = a
                    .descendants()
                    .find(|n| n.has_tag_name("from"))
                    .and_then(|f| f.children().find(|n| n.has_tag_name("col")))
                    .and_then(|n| n.text())
                    .unwrap()
                    .parse()
                    .unwrap();
                let left: f64 = (1..=from_col)
                    .map(|i| col_points(*widths.get(&i).unwrap_or(&default_w)))
                    .sum();
                let right = if let Some(ext) = a.children().find(|n| n.has_tag_name("ext")) {
                    left + ext.attribute("cx").unwrap().parse::<f64>().unwrap() / 12700.0
                } else {
                    let to = a.descendants().find(|n| n.has_tag_name("to")).unwrap();
                    let to_col: u32 = to
                        .children()
                        .find(|n| n.has_tag_name("col"))
                        .and_then(|n| n.text())
                        .unwrap()
                        .parse()
                        .unwrap();
                    let off: f64 = to
                        .children()
                        .find(|n| n.has_tag_name("colOff"))
                        .and_then(|n| n.text())
                        .unwrap()
                        .parse()
                        .unwrap();
                    (1..=to_col)
                        .map(|i| col_points(*widths.get(&i).unwrap_or(&default_w)))
                        .sum::<f64>()
                        + off / 12700.0
                };
                content_w = content_w.max(right);
            }
        }
    }
    let mut scale = (avail_w * f64::from(fit_w.max(1)) / content_w).min(1.0);
    if fit_h == 1 {
        scale = scale.min(avail_h / height);
    }
    (
        scale,
        format!("{part}: width {content_w:.0}pt of {avail_w:.0}, height {height:.0}"),
    )
}

#[test]
fn every_sheet_prints_on_a4_with_body_text_of_at_least_8_points() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    // The body font: the workbook's default (first) font, used by every body cell.
    let (font, body) = default_font(&xlsx);
    assert_eq!(
        font, "Arial",
        "a font LibreOffice has metrics for (Liberation Sans)"
    );
    let mut report = Vec::new();
    let mut small = Vec::new();
    for (name, part) in sheets(&xlsx) {
        let (scale, why) = printed_scale(&xlsx, &part);
        report.push(format!(
            "{name}: {:.0}% → {:.1} pt ({why})",
            scale * 100.0,
            body * scale
        ));
        if body * scale < 8.0 {
            small.push(name.clone());
        }
        // Header rows repeat on every printed page of the long tables.
        let xml = zip_text(&xlsx, &part).unwrap();
        assert!(
            xml.contains("&amp;P of &amp;N"),
            "{name}: Page X of Y footer"
        );
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        small.is_empty(),
        "below 8 pt: {small:?}\n{}",
        report.join("\n")
    );
    let wb = zip_text(&xlsx, "xl/workbook.xml").unwrap();
    for s in [
        "Summary",
        "Trends",
        "Outstanding",
        "Findings",
        "Statements",
        "Where respondents disagree",
    ] {
        assert!(
            wb.contains(&format!("'{s}'!$4:$4")) || wb.contains(&format!("{s}!$4:$4")),
            "{s}: print titles"
        );
    }
}

/// WCAG relative luminance of an RRGGBB colour.
fn luminance(hex: &str) -> f64 {
    let hex = &hex[hex.len() - 6..];
    let c = |i: usize| {
        let v = u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * c(0) + 0.7152 * c(2) + 0.0722 * c(4)
}

#[test]
fn the_workbook_is_accessible() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let names: Vec<String> = sheets(&xlsx).into_iter().map(|s| s.0).collect();
    // The Leadership Team's pack (an Assistant Director page for each in the register
    // with a partnership in the review), then the annex.
    let reg = register();
    let ads: BTreeSet<String> = reg
        .partnerships
        .iter()
        .filter(|p| p.status.as_str() != "closed")
        .map(|p| format!("AD {}", p.assistant_director))
        .collect();
    let mut want = vec!["Overview".to_string()];
    want.extend(ads);
    want.extend(
        [
            "Sections",
            "Trends",
            "Charts",
            "Exits",
            "Lessons",
            "New partnerships",
            "Annex",
            "Summary",
            "Statements",
            "Where respondents disagree",
            "By Assistant Director",
            "By priority",
            "Outstanding",
            "Findings",
            "About",
        ]
        .map(String::from),
    );
    assert_eq!(names, want);
    // Contrast: every font colour on its cell's fill (white when none) at least 4.5:1.
    let styles = zip_text(&xlsx, "xl/styles.xml").unwrap();
    let doc = roxmltree::Document::parse(&styles).unwrap();
    let list = |tag: &str, child: &str| -> Vec<roxmltree::Node> {
        doc.descendants()
            .find(|n| n.has_tag_name(tag))
            .unwrap()
            .children()
            .filter(|n| n.has_tag_name(child))
            .collect()
    };
    let fonts = list("fonts", "font");
    let fills = list("fills", "fill");
    let colour = |n: Option<roxmltree::Node>, default: &str| -> String {
        n.and_then(|c| c.attribute("rgb"))
            .unwrap_or(default)
            .to_string()
    };
    for xf in list("cellXfs", "xf") {
        let font = fonts[xf
            .attribute("fontId")
            .unwrap_or("0")
            .parse::<usize>()
            .unwrap()];
        let fill = fills[xf
            .attribute("fillId")
            .unwrap_or("0")
            .parse::<usize>()
            .unwrap()];
        let fg = colour(
            font.children().find(|n| n.has_tag_name("color")),
            "FF000000",
        );
        let bg = colour(
            fill.descendants().find(|n| n.has_tag_name("fgColor")),
            "FFFFFFFF",
        );
        let (a, b) = (luminance(&fg), luminance(&bg));
        let ratio = (a.max(b) + 0.05) / (a.min(b) + 0.05);
        assert!(ratio >= 4.5, "font {fg} on {bg}: contrast {ratio:.2}");
    }
    // Bands are named in words wherever they are coloured; no merged cells over data.
    let summary = table(&rows(&xlsx, "Summary"), "ID");
    for r in &summary {
        if matches!(r["Overall %"], Data::Float(_)) {
            assert!(
                ["Green", "Amber", "Red"].contains(&r["Band"].to_string().as_str()),
                "{r:?}"
            );
        }
    }
    for (name, part) in sheets(&xlsx) {
        let xml = zip_text(&xlsx, &part).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let data = rows(&xlsx, &name);
        for m in doc.descendants().filter(|n| n.has_tag_name("mergeCell")) {
            let r = m.attribute("ref").unwrap();
            let row: usize = r
                .split(':')
                .next()
                .unwrap()
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .unwrap();
            // A merged caption: one row, nothing in it but its own text.
            assert!(
                r.split(':')
                    .all(|c| c.trim_start_matches(|c: char| c.is_ascii_alphabetic())
                        == row.to_string()),
                "{name} {r}"
            );
            let cells = data.get(row - 1).map_or(0, |r| {
                r.iter().filter(|c| !matches!(c, Data::Empty)).count()
            });
            assert_eq!(cells, 1, "{name}: merged cells {r} cover data");
        }
        // Header rows are marked: a table (or, for the block sheets, none to mark).
        let has_table = xml.contains("<tableParts");
        // Assistant Directors' pages are label-and-text blocks too.
        if !["Exits", "New partnerships", "About", "Annex"].contains(&name.as_str())
            && !name.starts_with("AD ")
        {
            assert!(has_table, "{name}: header row not marked as a table");
        }
    }
}

#[test]
fn text_longer_than_a_cell_never_fails_the_report() {
    // A 40,000-character partnership name (and so every cell that shows it).
    let dir = tempfile::tempdir().unwrap();
    let long = "Partnership ".repeat(3_400);
    let reg = std::fs::read_to_string(repo().join("samples/register.csv"))
        .unwrap()
        .replace(
            "SEP04,South Essex Economic Partnership",
            &format!("SEP04,{long}"),
        );
    let r = dir.path().join("register.csv");
    std::fs::write(&r, reg).unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", Some(&r));
    let summary = table(&rows(&xlsx, "Summary"), "ID");
    let sep = summary.iter().find(|r| r["ID"] == "SEP04").unwrap();
    let name = sep["Partnership"].to_string();
    assert!(name.chars().count() <= 32_767);
    let full = ptk::xlsx::thousands(long.trim().chars().count());
    assert!(
        name.ends_with(&format!("… (truncated: {full} characters)")),
        "{}",
        &name[name.len() - 60..]
    );
}

#[test]
fn group_averages_say_their_n_and_leave_closed_partnerships_out() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let t = truth(dir.path());
    let reg = register();
    // Averages of fewer than 3 partnerships carry the mark.
    let styles = zip_text(&xlsx, "xl/styles.xml").unwrap();
    assert!(styles.contains("0.0&quot; †&quot;"), "the small-n format");
    for r in table(&rows(&xlsx, "By Assistant Director"), "Assistant Director") {
        let ad = r["Assistant Director"].to_string();
        let mine: Vec<&ptk::register::Partnership> = reg
            .partnerships
            .iter()
            .filter(|p| p.assistant_director == ad && p.status.as_str() != "closed")
            .collect();
        assert_eq!(num(&r["Partnerships"]), mine.len() as f64, "{ad}");
        assert_eq!(
            num(&r["Partnerships received"]) + num(&r["Partnerships outstanding"]),
            num(&r["Partnerships"]),
            "{ad}"
        );
        let scored: Vec<f64> = mine
            .iter()
            .filter_map(|p| t.now.get(&p.id).copied())
            .collect();
        assert_eq!(
            num(&r["Partnerships scored 2026 (n)"]),
            scored.len() as f64,
            "{ad}"
        );
        let avg = scored.iter().sum::<f64>() / scored.len() as f64;
        assert!(
            (num(&r["Average overall % 2026"]) - avg).abs() < 1e-9,
            "{ad}"
        );
        let both = mine
            .iter()
            .filter(|p| t.now.contains_key(&p.id) && t.by_year[&p.id].contains_key(&2025))
            .filter(|p| !t.changed.contains(&p.id))
            .count();
        assert_eq!(
            num(&r["Partnerships compared like for like (n)"]),
            both as f64,
            "{ad}"
        );
    }
}

#[test]
fn a_long_decision_list_flows_onto_more_pages_rather_than_shrinking() {
    // 60 more active partnerships with no return and no history: all for decision.
    let mut reg = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    for i in 0..60 {
        reg.push_str(&format!(
            "XTR{i:02},Extra Partnership {i},Operational,A Officer,a.officer@rochford.gov.uk,Marcus Hill,,Early intervention,active,Rochford District Council,,,\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("register.csv");
    std::fs::write(&r, reg).unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", Some(&r));
    let ids = decision_ids(&xlsx);
    assert_eq!(ids.iter().filter(|i| i.starts_with("XTR")).count(), 60);
    let (name, part) = sheets(&xlsx).into_iter().next().unwrap();
    assert_eq!(name, "Overview");
    let (scale, why) = printed_scale(&xlsx, &part);
    assert!(default_font(&xlsx).1 * scale >= 8.0, "{why}");
}

#[test]
fn trend_sparklines_share_one_0_to_100_axis_and_three_year_change() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let (_, part) = sheets(&xlsx)
        .into_iter()
        .find(|(n, _)| n == "Trends")
        .unwrap();
    let xml = zip_text(&xlsx, &part).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let group = doc
        .descendants()
        .find(|n| n.has_tag_name("sparklineGroup"))
        .expect("sparklines");
    assert_eq!(group.attribute("minAxisType"), Some("custom"));
    assert_eq!(group.attribute("maxAxisType"), Some("custom"));
    assert_eq!(group.attribute("manualMin"), Some("0"));
    assert_eq!(group.attribute("manualMax"), Some("100"));
    // Every partnership's three-year change is its 2026 score less its 2023 one.
    let t = truth(dir.path());
    let trends = table(&rows(&xlsx, "Trends"), "ID");
    for r in &trends {
        let id = r["ID"].to_string();
        let y = &t.by_year[&id];
        match (y.get(&2026), y.get(&2023)) {
            (Some(now), Some(then)) => assert!(
                (num(&r["Change vs 2023 (3 years)"]) - (now - then)).abs() < 1e-9,
                "{id}"
            ),
            _ => assert_eq!(r["Change vs 2023 (3 years)"].to_string(), "", "{id}"),
        }
    }
    // By hand: samples/history.csv gives SEP04 60.375 overall in 2023; its 2026 return
    // (SEP04_self-assessment_2026.xls) scores 55.3 (expected_scores in tests/common):
    // 55.3 - 60.375 = -5.1 to one decimal place.
    let sep = trends.iter().find(|r| r["ID"] == "SEP04").unwrap();
    assert!((num(&sep["Change vs 2023 (3 years)"]) + 5.1).abs() < 0.051);
}

/// Words of a PDF page with their boxes: (text, x0, x1).
fn pdf_words(pdf: &Path, page: u32) -> Vec<(String, f64, f64)> {
    let out = std::process::Command::new("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string(), "-bbox"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let html = text(&out.stdout);
    html.lines()
        .filter_map(|l| {
            let l = l.trim();
            let attr = |k: &str| -> Option<f64> {
                let i = l.find(&format!("{k}=\""))? + k.len() + 2;
                l[i..].split('"').next()?.parse().ok()
            };
            let word = l.split('>').nth(1)?.split('<').next()?.to_string();
            Some((word, attr("xMin")?, attr("xMax")?))
        })
        .collect()
}

#[test]
#[ignore = "needs LibreOffice: scripts/install-test-tools.sh"]
fn libreoffice_prints_the_overview_on_one_page_and_the_summary_at_8_points_or_more() {
    let soffice = soffice("libreoffice_prints_the_overview_on_one_page");
    let dir = tempfile::tempdir().unwrap();
    let xlsx = run(dir.path(), &sample_history(), "", None);
    let profile = format!("-env:UserInstallation=file://{}/lo", dir.path().display());
    let out = std::process::Command::new(soffice)
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&xlsx)
        .output()
        .unwrap();
    let pdf = dir.path().join("review-2026.pdf");
    assert!(pdf.exists(), "{}", text(&out.stderr));
    // Page 2 is the first Assistant Director's page: the Overview took one page.
    assert!(
        pdf_words(&pdf, 2).iter().any(|w| w.0 == "AD"),
        "page 2 is not an Assistant Director's page"
    );
    // The Leadership Team's part ends before the annex page, within 10 pages.
    let annex = (2..=40)
        .find(|p| {
            let w = pdf_words(&pdf, *p);
            w.iter().any(|w| w.0 == "Annex:") && w.iter().any(|w| w.0 == "working")
        })
        .expect("an annex page");
    assert!(
        annex - 1 <= 10,
        "the Leadership Team's part is {} pages",
        annex - 1
    );
    // The Summary follows the annex page.
    let page2 = pdf_words(&pdf, annex + 1);
    assert!(
        page2.iter().any(|w| w.0 == "Partnership")
            && page2.iter().any(|w| w.0 == "self-assessment"),
        "the page after the annex is not the Summary"
    );
    // The Summary's note starts "Every": 28.1 pt wide in 11 pt Arial (Liberation
    // Sans); at 8 pt or more it is at least 8/11 of that.
    let every = page2.iter().find(|w| w.0 == "Every").expect("the note");
    let width = every.2 - every.1;
    assert!(
        width >= 28.1 * 8.0 / 11.0,
        "Summary printed at {:.0}%",
        width / 28.1 * 100.0
    );
}
