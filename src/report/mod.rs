//! The consolidated review for the Assistant Directors and the Leadership Team: one
//! workbook (Overview, Summary, Trends, Sections, Statements, Where respondents
//! disagree, By Assistant Director,
//! By priority, Charts, Outstanding, Exits, Lessons, New partnerships, Findings, About) and a
//! long `scores-<year>.csv` for Power BI and Excel users. docs/review.md describes
//! every sheet and the decision rules.
//!
//! [`gather`] turns the store, register and templates into a plain [`Review`];
//! [`figures`] and [`decision`] compute from it without a workbook; one file per sheet
//! lays it out, with the shared [`styles`]. The same store gives the same output.

mod about;
mod answers;
mod charts;
mod csv;
pub mod decision;
pub mod director;
mod disagree;
pub mod disagreement;
pub mod figures;
mod findings;
pub mod gather;
mod groups;
mod lessons;
mod message;
mod outstanding;
mod overview;
mod questions;
pub mod row;
mod sections;
pub mod sources;
mod statements;
mod states;
pub(crate) mod styles;
mod summary;
mod trends;

pub use csv::{scores_csv, write_scores_csv};
pub use decision::{DecisionRules, Reason};
pub use gather::{gather, Review};
pub use row::{file_name_of, names_partnership, ReturnState, Row};
pub use sources::{warn_if_year_is_empty, SourcePaths, Sources};

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

/// Writes the review workbook to `out` and `scores-<year>.csv` beside it, atomically.
pub fn write(review: &Review, out: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let mut wb = workbook(review)?;
    crate::output::write_atomic_with(out, |f| {
        wb.save_to_writer(std::io::BufWriter::new(f))?;
        Ok(())
    })?;
    let csv = out.with_file_name(format!("scores-{}.csv", review.year));
    crate::output::write_atomic_with(&csv, |f| {
        write_scores_csv(review, std::io::BufWriter::new(f))?;
        Ok(())
    })?;
    Ok(csv)
}

/// Builds the review workbook, ready to save.
pub fn workbook(review: &Review) -> anyhow::Result<Workbook> {
    let st = styles::Styles::default();
    let mut wb = Workbook::new();
    // Arial 11 in Excel on Windows: rows 19 px, columns 72 px (8 px per digit).
    wb.set_default_format(&styles::base(), 19, 72)?;
    let created = review
        .generated_at
        .as_deref()
        .and_then(|s| ExcelDateTime::parse_from_str(s).ok())
        .unwrap_or(ExcelDateTime::from_ymd(2000, 1, 1)?);
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("Partnership review {}", review.year))
            .set_author(&review.council)
            .set_company(&review.council)
            .set_creation_datetime(&created),
    );
    // Sheets with a row per partnership (or finding) stream their rows to disk as they
    // are written, so memory stays flat however many partnerships there are.
    // The Leadership Team's pack first, then the officer's working material after a
    // marked annex page.
    overview::sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    director::pages(&mut wb, &st, review)?;
    sections::sheet(wb.add_worksheet(), &st, review)?;
    trends::sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    charts::sheet(wb.add_worksheet(), &st, review)?;
    answers::exits_sheet(wb.add_worksheet(), &st, review)?;
    lessons::sheet(wb.add_worksheet(), &st, review)?;
    answers::new_sheet(wb.add_worksheet(), &st, review)?;
    annex(wb.add_worksheet(), &st, review)?;
    summary::sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    statements::sheet(wb.add_worksheet(), &st, review)?;
    disagree::sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    groups::sheet(
        wb.add_worksheet(),
        &st,
        review,
        "By Assistant Director",
        "Assistant Director",
        |r| r.partnership.assistant_director.clone(),
    )?;
    groups::sheet(
        wb.add_worksheet(),
        &st,
        review,
        "By priority",
        "Business Plan priority",
        |r| r.partnership.priority.label().to_string(),
    )?;
    outstanding::sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    findings::sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    about::sheet(wb.add_worksheet(), &st, review)?;
    wb.worksheet_from_index(0)?.set_active(true);
    Ok(wb)
}

/// The page that divides the Leadership Team's pack from the annex.
fn annex(
    ws: &mut rust_xlsxwriter::Worksheet,
    st: &styles::Styles,
    review: &Review,
) -> anyhow::Result<()> {
    ws.set_name("Annex")?;
    ws.write_with_format(0, 0, "Annex: working material", &st.title)?;
    ws.set_row_height(0, 24)?;
    let text = "The sheets after this one are the Strategic Partnership Officer's working material, not part of the Leadership Team's pack: the Summary (every partnership), every statement, where respondents disagree, the figures by Assistant Director and by priority, the forms still outstanding with the problems to correct, the validation findings, and how the figures are made.";
    styles::note(ws, 1, text, &[90.0], &st.wrap)?;
    ws.set_column_width(0, 90.0)?;
    styles::print_setup(ws, review, "Annex", false, None)?;
    Ok(())
}

/// A partnership's name short enough for a chart label or a narrow column.
pub fn short_name(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let mut out = String::new();
    for w in name.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max.saturating_sub(1) {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() {
        out = name.chars().take(max.saturating_sub(1)).collect();
    }
    out.push('…');
    out
}

/// "23 November 2026, 02:49" from a stored timestamp (RFC 3339 or similar).
pub fn readable_time(s: &str) -> String {
    let date = s
        .get(..10)
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let time = s.get(11..16).filter(|t| t.as_bytes().get(2) == Some(&b':'));
    match (date, time) {
        (Some(d), Some(t)) => format!("{}, {t} UTC", d.format("%-d %B %Y")),
        (Some(d), None) => d.format("%-d %B %Y").to_string(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_cut_at_a_word() {
        assert_eq!(
            short_name("Rochford Youth Strategy Group", 30),
            "Rochford Youth Strategy Group"
        );
        assert_eq!(
            short_name(
                "Joint Castle Point and Rochford Local Strategic Partnership",
                30
            ),
            "Joint Castle Point and…"
        );
        assert_eq!(
            readable_time("2026-11-23T02:49:33Z"),
            "23 November 2026, 02:49 UTC"
        );
    }
}
