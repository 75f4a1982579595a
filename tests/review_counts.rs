//! One unit per count (issue #19): every count that appears on more than one sheet of
//! the samples' review (README command 1) is the same figure on each, and its label says
//! what it counts. The register gives the anchor; everything else is read back from the
//! workbook's sheets and compared sheet against sheet.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

/// README command 1, run in `dir` with a ptk.toml pointing at the repository's samples.
fn review(dir: &Path) -> PathBuf {
    let r = repo();
    let toml = format!(
        "council = \"Rochford District Council\"\nregister = {:?}\nrespondents = {:?}\ntemplates = {:?}\nstore = \"work/ptk.db\"\ndeadline = \"2027-01-29\"\n",
        r.join("samples/register.csv"),
        r.join("samples/respondents.csv"),
        r.join("templates"),
    );
    std::fs::write(dir.join("ptk.toml"), toml).unwrap();
    let out = ptk(
        dir,
        &[
            "review",
            r.join("samples/returns").to_str().unwrap(),
            "--year",
            "2026",
            "--history",
            r.join("samples/history.csv").to_str().unwrap(),
        ],
    );
    // The samples include broken files: "finished, some files rejected".
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    dir.join("work/review-2026.xlsx")
}

fn rows(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str) -> Vec<Vec<String>> {
    let range = wb
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("{sheet}: {e}"));
    range
        .rows()
        .map(|r| r.iter().map(|c: &Data| c.to_string()).collect())
        .collect()
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

fn n(s: &str) -> usize {
    s.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a count: {s:?}")) as usize
}

/// The first whole number in `s` after `after`.
fn number_after(s: &str, after: &str) -> usize {
    let i = s
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} in {s:?}"))
        + after.len();
    let digits: String = s[i..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// Sums a column of a table.
fn sum(t: &[HashMap<String, String>], col: &str) -> usize {
    t.iter()
        .map(|r| n(r.get(col).unwrap_or_else(|| panic!("no column {col:?}"))))
        .sum()
}

#[test]
fn the_same_count_is_equal_on_every_sheet_where_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = review(dir.path());
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let names = wb.sheet_names().to_vec();

    // The anchor, from the register itself: partnerships not closed owe a form.
    let register = ptk::register::load(&repo().join("samples/register.csv"))
        .unwrap()
        .0;
    let in_review = register
        .partnerships
        .iter()
        .filter(|p| p.status.as_str() != "closed")
        .count();

    let overview_rows = rows(&mut wb, "Overview");
    let headline: HashMap<String, (usize, String)> = table(&overview_rows, "Headline")
        .into_iter()
        .map(|r| {
            (
                r["Headline"].clone(),
                (n(&r["Number"]), r["What it counts"].clone()),
            )
        })
        .collect();
    let ov = |k: &str| headline.get(k).unwrap_or_else(|| panic!("Overview: {k}")).0;
    let decisions = overview_rows
        .iter()
        .filter_map(|r| r.first())
        .find(|c| c.starts_with("For decision ("))
        .map(|c| number_after(c, "("))
        .unwrap();

    // Every count's label says its unit.
    for label in headline.keys() {
        let unit = ["Partnerships", "Forms"]
            .iter()
            .any(|u| label.starts_with(u))
            || headline[label].1.to_lowercase().contains("partnership");
        assert!(unit, "Overview: {label:?} does not say what it counts");
    }

    // Assistant Directors' pages: "5 partnerships in the review; 1 for decision."
    let (mut ad_partnerships, mut ad_decisions) = (0, 0);
    for name in names.iter().filter(|n| n.starts_with("AD ")) {
        let r = rows(&mut wb, name);
        let sub = &r[1][0];
        ad_partnerships += number_after(sub, "");
        ad_decisions += number_after(sub, "; ");
        assert!(sub.contains("partnership"), "{name}: {sub}");
    }

    let by_ad = table(
        &rows(&mut wb, "By Assistant Director"),
        "Assistant Director",
    );
    let by_priority = table(&rows(&mut wb, "By priority"), "Business Plan priority");
    let sections = table(&rows(&mut wb, "Sections"), "Section");
    let summary = table(&rows(&mut wb, "Summary"), "ID");
    let outstanding = table(&rows(&mut wb, "Outstanding"), "ID");

    // Summary: one row per partnership in the register; forms "x of y" per partnership.
    let summary_in_review: Vec<&HashMap<String, String>> = summary
        .iter()
        .filter(|r| r["Register status"] != "closed")
        .collect();
    let respondents = "Respondents";
    let (mut forms_in, mut forms_due, mut forms_owed) = (0, 0, 0);
    for r in &summary_in_review {
        let t = &r[respondents];
        if t.is_empty() {
            continue;
        }
        let returned = number_after(t, "");
        let due = number_after(t, " of ");
        forms_in += returned;
        forms_due += due;
        forms_owed += due - returned;
        if t.contains("no longer listed") {
            forms_in += number_after(t, "(+");
        }
    }
    let form = |r: &HashMap<String, String>| r["Form this year"].clone();
    let summary_outstanding = summary_in_review
        .iter()
        .filter(|r| {
            let f = form(r);
            f.ends_with("needs correcting")
                || f.ends_with("not returned")
                || f.ends_with("unreadable")
        })
        .count();
    let summary_received = summary_in_review
        .iter()
        .filter(|r| form(r).ends_with("received"))
        .count();
    let summary_scored = summary_in_review
        .iter()
        .filter(|r| !r["Overall %"].is_empty())
        .count();
    let partial = summary_in_review
        .iter()
        .filter(|r| r[respondents].contains('‡'))
        .count();

    // Partnerships in the review.
    for (sheet, got) in [
        ("Overview", ov("Partnerships in the review")),
        ("AD pages", ad_partnerships),
        ("By Assistant Director", sum(&by_ad, "Partnerships")),
        ("By priority", sum(&by_priority, "Partnerships")),
        ("Summary", summary_in_review.len()),
    ] {
        assert_eq!(got, in_review, "partnerships in the review on {sheet}");
    }
    // Partnerships scored this year.
    let scored = ov("Partnerships scored");
    for (sheet, got) in [
        (
            "By Assistant Director",
            sum(&by_ad, "Partnerships scored 2026 (n)"),
        ),
        (
            "By priority",
            sum(&by_priority, "Partnerships scored 2026 (n)"),
        ),
        ("Summary", summary_scored),
    ] {
        assert_eq!(got, scored, "partnerships scored on {sheet}");
    }
    for s in &sections {
        assert!(
            n(&s["Partnerships scored 2026 (n)"]) <= scored,
            "Sections: {s:?}"
        );
    }
    assert!(sections
        .iter()
        .any(|s| n(&s["Partnerships scored 2026 (n)"]) == scored));
    // Partnerships outstanding, and those scored from some respondents with others awaited.
    let outstanding_p = ov("Partnerships outstanding");
    for (sheet, got) in [
        (
            "By Assistant Director",
            sum(&by_ad, "Partnerships outstanding"),
        ),
        ("By priority", sum(&by_priority, "Partnerships outstanding")),
        ("Summary", summary_outstanding),
    ] {
        assert_eq!(got, outstanding_p, "partnerships outstanding on {sheet}");
    }
    let outstanding_ids: BTreeSet<&String> = outstanding.iter().map(|r| &r["ID"]).collect();
    assert_eq!(
        outstanding_ids.len(),
        outstanding_p + partial,
        "Outstanding's partnerships"
    );
    // Partnerships received.
    for (sheet, got) in [
        (
            "By Assistant Director",
            sum(&by_ad, "Partnerships received"),
        ),
        ("By priority", sum(&by_priority, "Partnerships received")),
    ] {
        assert_eq!(got, summary_received, "partnerships received on {sheet}");
    }
    // Forms (one per respondent): received, due and outstanding.
    assert_eq!(
        ov("Forms received"),
        forms_in,
        "forms received: Overview, Summary"
    );
    assert_eq!(
        number_after(&headline["Forms received"].1, "of "),
        forms_due,
        "forms due: Overview, Summary"
    );
    assert_eq!(
        number_after(&headline["Forms received"].1, "due, "),
        outstanding.len(),
        "forms outstanding: Overview, Outstanding"
    );
    assert_eq!(
        outstanding.len(),
        forms_owed,
        "forms outstanding: Summary, Outstanding"
    );
    // Partnerships compared like for like, and how they moved.
    let compared = number_after(&headline["Improved on 2025"].1, "of ");
    for (sheet, got) in [
        (
            "By Assistant Director",
            sum(&by_ad, "Partnerships compared like for like (n)"),
        ),
        (
            "By priority",
            sum(&by_priority, "Partnerships compared like for like (n)"),
        ),
    ] {
        assert_eq!(got, compared, "compared like for like on {sheet}");
    }
    for (label, col) in [
        ("Improved on 2025", "Partnerships improved"),
        ("Declined on 2025", "Partnerships declined"),
        ("Steady", "Partnerships steady"),
    ] {
        assert_eq!(sum(&by_ad, col), ov(label), "{col}: By Assistant Director");
        assert_eq!(sum(&by_priority, col), ov(label), "{col}: By priority");
    }
    // For decision.
    assert_eq!(ad_decisions, decisions, "for decision: Overview, AD pages");
    assert!(decisions > 0 && scored > 0 && outstanding_p > 0 && !outstanding.is_empty());
}
