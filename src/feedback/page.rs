//! What every feedback page shares: A4 portrait set-up with the partnership in the
//! header, headings, document properties, and how points are written.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Worksheet};

use super::Feedback;
use crate::report::styles::Styles;
use crate::xlsx::header_text;

/// The most content (points) one portrait A4 page holds (756 pt inside the margins)
/// with 11 pt text scaled to no less than 8 pt.
pub(super) const ONE_PAGE: f64 = 756.0 * 11.0 / 8.0;

/// Document properties with a creation time from the store (the latest ingest), so the
/// same store gives the same bytes.
pub fn properties(title: &str, council: &str, at: Option<&str>) -> anyhow::Result<DocProperties> {
    let created = at
        .and_then(|s| ExcelDateTime::parse_from_str(s).ok())
        .unwrap_or(ExcelDateTime::from_ymd(2000, 1, 1)?);
    Ok(DocProperties::new()
        .set_title(title)
        .set_author(council)
        .set_company(council)
        .set_creation_datetime(&created))
}

/// "2 points" / "1.5 points" / "1 point".
pub fn points(v: f64) -> String {
    let n = crate::read::format_number(v);
    format!("{n} point{}", if v == 1.0 { "" } else { "s" })
}

/// A4 portrait, one page wide, the partnership in the header, page numbers below.
pub(super) fn page_setup(ws: &mut Worksheet, fb: &Feedback, sheet: &str) {
    let title = format!("Partnership feedback {}", fb.year);
    a4(ws, &fb.council, &fb.partnership, &title, sheet, false);
}

/// A4, one page wide: the council and `who` in the header; `title`, the page number
/// and the sheet's name in the footer.
pub(super) fn a4(
    ws: &mut Worksheet,
    council: &str,
    who: &str,
    title: &str,
    sheet: &str,
    landscape: bool,
) {
    if landscape {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!("&L{}&R{}", header_text(council), header_text(who)));
    ws.set_footer(format!(
        "&L{}&CPage &P of &N&R{}",
        header_text(title),
        header_text(sheet)
    ));
}

/// A heading row.
pub(super) fn heading(ws: &mut Worksheet, st: &Styles, r: u32, s: &str) -> anyhow::Result<()> {
    ws.write_with_format(r, 0, s, &st.section)?;
    ws.set_row_height(r, 22)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn points_read_as_english() {
        assert_eq!(super::points(1.0), "1 point");
        assert_eq!(super::points(2.0), "2 points");
    }
}
