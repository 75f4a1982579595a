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

/// The most characters a spreadsheet cell can hold (Excel's limit; rust_xlsxwriter
/// refuses longer strings).
pub const CELL_LIMIT: usize = 32_767;

/// Text that fits in one cell: anything longer than [`CELL_LIMIT`] is cut with a
/// visible marker saying how long it was, so one forged or runaway value can never
/// make a workbook fail to write (and, once stored, every later report with it).
pub fn cell_text(s: &str) -> std::borrow::Cow<'_, str> {
    // Counting UTF-16 units as Excel does would be stricter; chars are within it for
    // the text ptk writes, and the marker leaves a wide margin.
    let n = s.chars().count();
    if n <= CELL_LIMIT {
        return std::borrow::Cow::Borrowed(s);
    }
    let marker = format!(" … (truncated: {} characters)", thousands(n));
    let keep = CELL_LIMIT - marker.chars().count() - 64;
    let cut: String = s.chars().take(keep).collect();
    std::borrow::Cow::Owned(cut + &marker)
}

/// 40000 -> "40,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Escapes '&' for Excel header and footer text, where it starts a control code.
pub fn header_text(s: &str) -> String {
    s.replace('&', "&&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_fit_a_cell_with_a_marker() {
        assert_eq!(cell_text("short"), "short");
        let long = "é".repeat(40_000);
        let cut = cell_text(&long);
        assert!(cut.chars().count() <= CELL_LIMIT);
        assert!(cut.ends_with("… (truncated: 40,000 characters)"));
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn wrapped_height_grows_with_text() {
        assert!(wrapped_height(&"x".repeat(300), 50.0) > wrapped_height("short", 50.0));
        assert_eq!(wrapped_height("a\nb\nc", 50.0), 48.0);
        assert_eq!(fit(&[("short", 10.0), (&"y".repeat(25), 10.0)]), 48.0);
    }
}
