//! Small helpers shared by the workbooks ptk writes (issued forms and the review).

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::ExcelDateTime;

/// The house colours of every workbook ptk writes.
pub const NAVY: u32 = 0x1F4E79;
pub const MID_GREY: u32 = 0x595959;

/// Row height (points) that shows `text` wrapped in a column `width` characters wide.
/// Excel and LibreOffice do not grow rows for wrapped text written by a library,
/// so every row with wrapped text gets its height set from this estimate.
pub fn wrapped_height(text: &str, width: f64) -> f64 {
    let per_line = width.max(1.0);
    let lines: f64 = text
        .split('\n')
        .map(|l| (l.chars().count() as f64 / per_line).ceil().max(1.0))
        .sum();
    (lines * 15.0 + 3.0).max(18.0)
}

/// The height that fits the tallest of several wrapped cells in one row.
pub fn fit(cells: &[(&str, f64)]) -> f64 {
    cells
        .iter()
        .map(|(t, w)| wrapped_height(t, *w))
        .fold(18.0, f64::max)
}

/// The default row height (points) of sheets with a row per partnership or finding.
pub const ROW_HEIGHT: f64 = 18.0;

/// Sets row `r` tall enough for its wrapped cells, but only where that is taller than
/// [`ROW_HEIGHT`] (the sheet's default, set with `set_default_row_height`): the writer
/// keeps every explicit row height in memory, and most rows need none.
pub fn fit_row(
    ws: &mut rust_xlsxwriter::Worksheet,
    r: u32,
    cells: &[(&str, f64)],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let h = fit(cells);
    if h > ROW_HEIGHT {
        ws.set_row_height(r, h)?;
    }
    Ok(())
}

/// A calendar date as the writer's date type.
pub fn excel_date(d: NaiveDate) -> anyhow::Result<ExcelDateTime> {
    Ok(ExcelDateTime::from_ymd(
        u16::try_from(d.year())?,
        u8::try_from(d.month())?,
        u8::try_from(d.day())?,
    )?)
}

/// Escapes '&' for Excel header and footer text, where it starts a control code.
pub fn header_text(s: &str) -> String {
    s.replace('&', "&&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_height_grows_with_text() {
        assert!(wrapped_height(&"x".repeat(300), 50.0) > wrapped_height("short", 50.0));
        assert_eq!(wrapped_height("a\nb\nc", 50.0), 48.0);
        assert_eq!(fit(&[("short", 10.0), (&"y".repeat(25), 10.0)]), 48.0);
    }
}
