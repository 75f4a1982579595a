//! Summary: one row per partnership in the register. Its columns are defined once, in
//! [`columns`] (header, width, value): positions follow from the order, and the printed
//! size from the widths, so adding a column is one entry there, and the unit test below
//! fails if the sheet would then print under 8 pt on A4 landscape. What the Assistant
//! Director pages and By priority already show (the Business Plan priority) is left
//! there, which made room for last year's score.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::row::{ReturnState, Row, PARTIAL_MARK};
use super::styles::{change, opt_pct, print_setup, table, text, Styles};
use crate::register::Status;
use crate::xlsx::fit_row;

/// What the form column says: the form's state, naming the form when it is not the
/// self-assessment, so "proposed | received" never reads as an approval. A year known
/// only from imported history names no other form: none was due that history shows.
pub fn form_status(review: &Review, row: &Row) -> String {
    let about_the_form = !matches!(row.state, ReturnState::NotExpected | ReturnState::Imported);
    match row.expected.as_deref() {
        Some(t) if t != review.scored.id && about_the_form => format!(
            "{}: {}",
            review.form_title(t).unwrap_or(t),
            row.state.label()
        ),
        _ => row.state.label().to_string(),
    }
}

/// The register status, with the exit date for an exiting partnership: "exited"
/// only once the date has passed.
pub fn status_text(review: &Review, row: &Row) -> String {
    let p = row.partnership;
    match (p.status, row.exit_date) {
        (Status::Exiting, Some(d)) if review.as_of.is_some_and(|now| d <= now) => {
            format!("exited {}", d.format("%-d %b %Y"))
        }
        (Status::Exiting, Some(d)) => format!("exiting on {}", d.format("%-d %b %Y")),
        (s, _) => s.as_str().to_string(),
    }
}

/// What a Summary cell holds, and so how it is written.
pub enum Value {
    /// Text on one line (ids, bands, stages).
    Text(String),
    /// Text that wraps; the row grows to fit it.
    Wrap(String),
    /// Long text of several words (a name): whole words wrap early, so the row is
    /// measured as if the column held fewer letters a line.
    Prose(String),
    /// A percent, or blank.
    Pct(Option<f64>),
    /// This year's overall %, filled with its band's colour (the band is named beside it).
    Overall(Option<f64>),
    /// A change in points with its arrow; "new" when there is no earlier score.
    Change(Option<f64>, bool),
    /// A whole number, or blank.
    Number(Option<f64>),
}

/// One column: its header, width (characters of the workbook's Arial 11) and value.
pub struct Column<'r> {
    pub header: String,
    pub width: f64,
    pub value: Box<dyn Fn(&Row) -> Value + 'r>,
}

fn col<'r>(
    header: impl Into<String>,
    width: f64,
    value: impl Fn(&Row) -> Value + 'r,
) -> Column<'r> {
    Column {
        header: header.into(),
        width,
        value: Box::new(value),
    }
}

/// The Summary's columns, in order: the one place to add, remove or widen a column.
pub fn columns<'r>(review: &'r Review<'_>) -> Vec<Column<'r>> {
    let (y, py) = (review.year, review.year - 1);
    let mut c = vec![
        col("ID", 6.0, |r| Value::Text(r.partnership.id.clone())),
        col("Partnership", 19.0, |r| {
            Value::Prose(r.partnership.name.clone())
        }),
        col("Assistant Director", 10.0, |r| {
            Value::Wrap(r.partnership.assistant_director.clone())
        }),
        col("Register status", 8.5, move |r| {
            Value::Wrap(status_text(review, r))
        }),
        col("Form this year", 12.0, move |r| {
            Value::Wrap(form_status(review, r))
        }),
        col("Respondents", 12.0, |r| Value::Wrap(r.respondents_text())),
        col(format!("Overall % {py}"), 8.0, |r| Value::Pct(r.previous)),
        col("Overall %", 8.0, |r| Value::Overall(r.overall)),
        col("Band", 7.0, |r| {
            Value::Text(r.band.clone().unwrap_or_default())
        }),
        col(format!("Change vs {py}"), 8.5, |r| {
            Value::Change(r.change(), r.overall.is_some() && r.is_new())
        }),
    ];
    for s in review.scored.sections.iter().filter(|s| s.is_scored()) {
        // Wide enough for the longest word of the section's name, so headers wrap
        // between words.
        let word = s
            .title
            .split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        let id = s.id.clone();
        c.push(col(
            format!("{} %", s.title),
            (word as f64 + 1.0).clamp(9.0, 16.0),
            move |r| Value::Pct(r.section(&id)),
        ));
    }
    c.push(col("Life-cycle stage", 10.0, |r| {
        Value::Text(r.stage.clone().unwrap_or_default())
    }));
    c.push(col("Years since first reviewed", 8.0, move |r| {
        Value::Number(r.first_year.map(|f| f64::from(y - f)))
    }));
    c
}

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Summary")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let cols = columns(review);
    let widths: Vec<f64> = cols.iter().map(|c| c.width).collect();
    super::styles::title(ws, st, review, "Partnership self-assessment scores", &format!(
        "Every partnership in the register. Overall % is filled with its band's colour and the band is named beside it; change is in points against {} (▲ up, ▼ down, ● under 1 point either way); 'new' means no earlier score. Respondents: forms returned of those due (the lead officer's and each partner's); the scores are the average over those returned, and {PARTIAL_MARK} marks a partnership scored from fewer than all its respondents (its score may change when the others return).",
        review.year - 1
    ), &widths)?;
    let headers: Vec<String> = cols.iter().map(|c| c.header.clone()).collect();
    let top = 3;
    table(ws, st, top, &headers, review.rows.len(), "Summary")?;
    ws.set_row_height(top, 62)?;
    for (i, row) in review.rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        let mut wrapped: Vec<(String, f64)> = Vec::new();
        for (j, column) in cols.iter().enumerate() {
            let c = j as u16;
            match (column.value)(row) {
                Value::Text(s) => text(ws, r, c, &s, &st.text)?,
                Value::Wrap(s) => {
                    text(ws, r, c, &s, &st.wrap)?;
                    wrapped.push((s, column.width));
                }
                Value::Prose(s) => {
                    text(ws, r, c, &s, &st.wrap)?;
                    wrapped.push((s, column.width * 0.8));
                }
                Value::Pct(v) => opt_pct(ws, r, c, v, &st.pct)?,
                Value::Overall(Some(o)) => {
                    ws.write_number_with_format(r, c, o, &st.band(review, o))?;
                }
                Value::Overall(None) => opt_pct(ws, r, c, None, &st.pct)?,
                Value::Change(None, true) => {
                    ws.write_string_with_format(r, c, "new", &st.text)?;
                }
                Value::Change(v, _) => change(ws, st, r, c, v)?,
                Value::Number(Some(n)) => {
                    ws.write_number_with_format(r, c, n, &st.number)?;
                }
                Value::Number(None) => text(ws, r, c, "", &st.text)?,
            }
        }
        let cells: Vec<(&str, f64)> = wrapped.iter().map(|(s, w)| (s.as_str(), *w)).collect();
        fit_row(ws, r, &cells)?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Summary", true, Some(top))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Printed width (points) of columns `widths` characters wide in Arial 11: 8 pixels a
    /// digit, the 5 pixels of padding the workbook stores in the width and 5 more as the
    /// print test in tests/review_workbook.rs counts them, at 0.75 points a pixel.
    fn printed_width(widths: &[f64]) -> f64 {
        widths.iter().map(|w| (w * 8.0 + 10.0).trunc() * 0.75).sum()
    }

    /// The body text size (points) the Summary prints at, fitted to one A4 landscape page
    /// wide inside its 0.3 inch side margins.
    fn printed_size(widths: &[f64]) -> f64 {
        let avail = 841.9 - 2.0 * 0.3 * 72.0;
        f64::from(crate::report::styles::FONT_SIZE) * (avail / printed_width(widths)).min(1.0)
    }

    #[test]
    fn every_column_has_a_header_and_a_width_and_the_sheet_prints_at_8_points_or_more() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let r = Review::new(
            2026,
            "Council",
            crate::template::find(&dir, "self-assessment").unwrap(),
        );
        let cols = columns(&r);
        assert!(cols.len() >= 14, "{} columns", cols.len());
        for c in &cols {
            assert!(!c.header.trim().is_empty(), "a column without a header");
            assert!(c.width >= 5.0, "{}: width {}", c.header, c.width);
        }
        let headers: Vec<&str> = cols.iter().map(|c| c.header.as_str()).collect();
        let unique: std::collections::BTreeSet<&&str> = headers.iter().collect();
        assert_eq!(unique.len(), headers.len(), "{headers:?}");
        assert!(headers.contains(&"Overall % 2025") && headers.contains(&"Overall %"));
        let widths: Vec<f64> = cols.iter().map(|c| c.width).collect();
        let size = printed_size(&widths);
        assert!(size >= 8.0, "prints at {size:.2} pt");
        // The arithmetic: 5 characters are 50 px, 37.5 pt; 798.7 pt of A4 landscape
        // inside the margins is the most that prints at full size.
        assert_eq!(printed_width(&[5.0]), 37.5);
        assert!(printed_size(&[200.0]) < 8.0);
        assert!((printed_size(&[200.0]) - 11.0 * 798.7 / 1207.5).abs() < 1e-6);
        assert_eq!(printed_size(&[100.0]), 11.0);
    }
}
