//! What every sheet shares: formats, the title lines, tables with marked header rows,
//! and the A4 page setup (repeated header rows, "Page X of Y" footers).

use rust_xlsxwriter::{
    Color, Format, FormatAlign, FormatBorder, Table, TableColumn, TableStyle, Worksheet,
};

use super::figures::{movement, Average, Movement};
use super::gather::Review;
use crate::xlsx::{cell_text, header_text, MID_GREY, NAVY};

/// Text colours with at least 4.5:1 contrast on white (and on the band fills).
pub const GREEN_TEXT: u32 = 0x00703C;
pub const RED_TEXT: u32 = 0xC00000;
/// This year in charts (neutral), last year in a lighter shade of it.
pub const THIS_YEAR: u32 = NAVY;
pub const LAST_YEAR: u32 = 0x9DC3E6;

/// The mark on an average over fewer than three partnerships.
pub const SMALL_MARK: &str = "†";

pub struct Styles {
    pub title: Format,
    pub subtitle: Format,
    pub header: Format,
    pub text: Format,
    pub wrap: Format,
    pub pct: Format,
    /// A percent over too few partnerships: shown with the mark.
    pub pct_small: Format,
    pub number: Format,
    pub money: Format,
    pub date: Format,
    pub up: Format,
    pub down: Format,
    pub flat: Format,
    pub note: Format,
    pub label: Format,
    pub section: Format,
}

/// The workbook's font: Arial, which Windows has and for which LibreOffice uses the
/// metric-compatible Liberation Sans, so the printed layout is the same in Excel and in
/// LibreOffice (Calibri falls back to a wider font where it is missing).
pub const FONT: &str = "Arial";
pub const FONT_SIZE: u32 = 11;

/// The base format every other one starts from (and the workbook's default).
pub fn base() -> Format {
    Format::new().set_font_name(FONT).set_font_size(FONT_SIZE)
}

impl Default for Styles {
    fn default() -> Self {
        let cell = base()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xBFBFBF));
        let change = cell.clone().set_align(FormatAlign::Right);
        Styles {
            title: base()
                .set_bold()
                .set_font_size(16)
                .set_font_color(Color::RGB(NAVY)),
            subtitle: base()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(MID_GREY)),
            header: base()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::White)
                .set_background_color(Color::RGB(NAVY)),
            text: cell.clone(),
            wrap: cell.clone().set_text_wrap(),
            pct: cell.clone().set_num_format("0.0"),
            pct_small: cell.clone().set_num_format(format!("0.0\" {SMALL_MARK}\"")),
            number: cell.clone().set_num_format("0"),
            money: cell
                .clone()
                .set_num_format("£#,##0")
                .set_align(FormatAlign::Left),
            date: cell
                .clone()
                .set_num_format("d mmm yyyy")
                .set_align(FormatAlign::Left),
            up: change
                .clone()
                .set_num_format("\"▲ +\"0.0;\"▼ −\"0.0;0.0")
                .set_font_color(Color::RGB(GREEN_TEXT)),
            down: change
                .clone()
                .set_num_format("\"▲ +\"0.0;\"▼ −\"0.0;0.0")
                .set_font_color(Color::RGB(RED_TEXT)),
            flat: change.set_num_format("\"● +\"0.0;\"● −\"0.0;\"● \"0.0"),
            note: base()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(MID_GREY)),
            label: base().set_bold().set_align(FormatAlign::Top),
            section: base()
                .set_bold()
                .set_font_size(12)
                .set_font_color(Color::RGB(NAVY)),
        }
    }
}

impl Styles {
    /// The overall % cell, filled with its band's colour (the band's word is always
    /// in the next column: colour is never the only sign).
    pub fn band(&self, review: &Review, pct: f64) -> Format {
        match review.scored.band_for(pct) {
            Some(b) => self.pct.clone().set_background_color(Color::RGB(
                u32::from_str_radix(&b.colour, 16).unwrap_or(0xFFFFFF),
            )),
            None => self.pct.clone(),
        }
    }

    /// The format of a change in points: arrow and colour by movement (a steady
    /// change, under a point either way, is a grey dot).
    pub fn change(&self, c: f64) -> &Format {
        match movement(c) {
            Movement::Improved => &self.up,
            Movement::Declined => &self.down,
            Movement::Steady => &self.flat,
        }
    }
}

/// Page setup shared by every sheet: A4, fit to one page wide, the council and sheet
/// in the header and "Page X of Y" in the footer, header rows repeated.
pub fn print_setup(
    ws: &mut Worksheet,
    review: &Review,
    title: &str,
    landscape: bool,
    repeat_row: Option<u32>,
) -> anyhow::Result<()> {
    if landscape {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    // Narrow side margins on landscape pages: the width goes to the text size.
    let side = if landscape { 0.3 } else { 0.4 };
    ws.set_margins(side, side, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&R{}",
        header_text(&review.council),
        header_text(title)
    ));
    ws.set_footer(format!(
        "&LPartnership review {}&CPage &P of &N&R{}",
        review.year,
        header_text(title)
    ));
    if let Some(r) = repeat_row {
        ws.set_repeat_rows(r, r)?;
        ws.set_freeze_panes(r + 1, 0)?;
    }
    Ok(())
}

/// The sheet's title, and a note under it across the sheet's columns (`widths`). The
/// note's cells are merged: it is a caption above the data, never over it.
pub fn title(
    ws: &mut Worksheet,
    st: &Styles,
    review: &Review,
    text: &str,
    sub: &str,
    widths: &[f64],
) -> anyhow::Result<()> {
    ws.write_with_format(0, 0, format!("{text} – {}", review.year), &st.title)?;
    ws.set_row_height(0, 24)?;
    note(ws, 1, sub, widths, &st.subtitle)
}

/// A wrapped note across the columns of `widths` in row `r`.
pub fn note(ws: &mut Worksheet, r: u32, s: &str, widths: &[f64], f: &Format) -> anyhow::Result<()> {
    let last = widths.len().saturating_sub(1) as u16;
    if last == 0 {
        ws.write_string_with_format(r, 0, cell_text(s).as_ref(), f)?;
    } else {
        ws.merge_range(r, 0, r, last, cell_text(s).as_ref(), f)?;
    }
    // Wrapped text fills about 90% of a line's width on average.
    let width = widths.iter().sum::<f64>() * 0.95;
    ws.set_row_height(r, crate::xlsx::wrapped_height(s, width))?;
    Ok(())
}

/// Writes a header row as an Excel table over `rows` data rows below it, so screen
/// readers and filters know the header; the header wraps.
pub fn table(
    ws: &mut Worksheet,
    st: &Styles,
    row: u32,
    headers: &[String],
    rows: usize,
    name: &str,
) -> anyhow::Result<()> {
    table_from(ws, st, row, 0, headers, rows, name)
}

/// [`table`] with its first column at `col`.
pub fn table_from(
    ws: &mut Worksheet,
    st: &Styles,
    row: u32,
    col: u16,
    headers: &[String],
    rows: usize,
    name: &str,
) -> anyhow::Result<()> {
    let columns: Vec<TableColumn> = headers
        .iter()
        .map(|h| {
            TableColumn::new()
                .set_header(h.as_str())
                .set_header_format(&st.header)
        })
        .collect();
    let t = Table::new()
        .set_columns(&columns)
        .set_style(TableStyle::Light9)
        .set_name(name);
    let last = row + (rows.max(1) as u32);
    ws.add_table(row, col, last, col + (headers.len() - 1) as u16, &t)?;
    ws.set_row_height(row, 45)?;
    Ok(())
}

/// A percent, or an empty cell.
pub fn opt_pct(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: Option<f64>,
    f: &Format,
) -> anyhow::Result<()> {
    match v {
        Some(v) => ws.write_number_with_format(r, c, v, f)?,
        None => ws.write_string_with_format(r, c, "", f)?,
    };
    Ok(())
}

/// An average: marked when it rests on fewer than three partnerships.
pub fn average(
    ws: &mut Worksheet,
    st: &Styles,
    r: u32,
    c: u16,
    v: Option<f64>,
    small: bool,
) -> anyhow::Result<()> {
    opt_pct(ws, r, c, v, if small { &st.pct_small } else { &st.pct })
}

/// A change in points with its arrow, or an empty cell.
pub fn change(
    ws: &mut Worksheet,
    st: &Styles,
    r: u32,
    c: u16,
    v: Option<f64>,
) -> anyhow::Result<()> {
    match v {
        Some(v) => ws.write_number_with_format(r, c, v, st.change(v))?,
        None => ws.write_string_with_format(r, c, "", &st.text)?,
    };
    Ok(())
}

/// A string cell, cut to a cell's limit (a stored value can be any length).
pub fn text(ws: &mut Worksheet, r: u32, c: u16, s: &str, f: &Format) -> anyhow::Result<()> {
    ws.write_string_with_format(r, c, cell_text(s).as_ref(), f)?;
    Ok(())
}

/// Writes an [`Average`] with its n in the next column.
pub fn average_n(
    ws: &mut Worksheet,
    st: &Styles,
    r: u32,
    c: u16,
    a: Average,
) -> anyhow::Result<()> {
    average(ws, st, r, c, a.value, a.is_small())?;
    ws.write_number_with_format(r, c + 1, a.n as f64, &st.number)?;
    Ok(())
}

/// The note under every table of averages.
pub fn small_note() -> String {
    format!(
        "{SMALL_MARK} an average of fewer than {} partnerships: shown, but read with care.",
        super::figures::SMALL_N
    )
}
