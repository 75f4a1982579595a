//! Lessons: every exit document's achievements and lessons across all the years in the
//! store, by year and partnership, so what was learned from one exit is there when the
//! next partnership is set up (the toolkit: "lessons should be drawn and recorded").
//! It reads the store named in the review itself, so the review's gathering is unchanged.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::styles::{print_setup, table, text, Styles};
use crate::store::ExitLessons;
use crate::xlsx::fit_row;

/// The exit template whose documents are gathered.
const EXIT_TEMPLATE: &str = "exit";

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    let lessons: Vec<ExitLessons> =
        crate::store::Store::open(std::path::Path::new(&review.store_path))
            .and_then(|s| s.exit_lessons(EXIT_TEMPLATE))
            .unwrap_or_default();
    write(ws, st, review, &lessons)
}

fn write(
    ws: &mut Worksheet,
    st: &Styles,
    review: &Review,
    lessons: &[ExitLessons],
) -> anyhow::Result<()> {
    ws.set_name("Lessons")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let widths = [8.0, 30.0, 48.0, 48.0];
    super::styles::title(ws, st, review, "Lessons from exits", "What each partnership the council left achieved and what it learned, from every exit document in the store (all years), by year and partnership.", &widths)?;
    let top = 3;
    if lessons.is_empty() {
        ws.write_with_format(top, 0, "No exit documents are in the store yet.", &st.note)?;
    } else {
        let headers: Vec<String> = ["Year", "Partnership", "What it achieved", "Lessons"]
            .map(String::from)
            .to_vec();
        table(ws, st, top, &headers, lessons.len(), "Lessons")?;
        for (i, l) in lessons.iter().enumerate() {
            let r = top + 1 + i as u32;
            let name = format!("{} ({})", l.partnership_name, l.partnership_id);
            fit_row(
                ws,
                r,
                &[
                    (&l.achieved, widths[2]),
                    (&l.lessons, widths[3]),
                    (&name, widths[1]),
                ],
            )?;
            ws.write_with_format(r, 0, l.year, &st.text)?;
            text(ws, r, 1, &name, &st.wrap)?;
            text(ws, r, 2, &l.achieved, &st.wrap)?;
            text(ws, r, 3, &l.lessons, &st.wrap)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Lessons", true, Some(top))?;
    Ok(())
}
