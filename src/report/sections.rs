//! Sections: each section's average this year (n), and like for like with last year.

use rust_xlsxwriter::Worksheet;

use super::figures::sections;
use super::gather::Review;
use super::styles::{average, average_n, change, print_setup, small_note, table, text, Styles};
use crate::xlsx::fit_row;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Sections")?;
    let (y, py) = (review.year, review.year - 1);
    let widths = [33.0, 10.0, 12.0, 11.0, 12.0, 12.0, 10.0];
    let figures = sections(&review.rows, &review.scored);
    let same_n = figures.first().map_or(0, |f| f.same.n);
    let sub = format!(
        "Average section % this year over every partnership scored in {y} (n). The comparison with {py} is like for like: only partnerships scored in both years, so a change is never the effect of a different group. {}",
        small_note()
    );
    super::styles::title(
        ws,
        st,
        review,
        "Where partnerships are strongest and weakest",
        &sub,
        &widths,
    )?;
    let headers: Vec<String> = vec![
        "Section".into(),
        format!("Average % {y}"),
        format!("Partnerships scored {y} (n)"),
        "Scored in both years (n)".into(),
        format!("Same partnerships: average % {py}"),
        format!("Same partnerships: average % {y}"),
        "Change (points)".into(),
    ];
    let top = 3;
    table(ws, st, top, &headers, figures.len(), "SectionAverages")?;
    ws.set_row_height(top, 62)?;
    for (i, f) in figures.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, 0, &f.title, &st.wrap)?;
        fit_row(ws, r, &[(&f.title, widths[0])])?;
        average_n(ws, st, r, 1, f.now)?;
        ws.write_number_with_format(r, 3, f.same.n as f64, &st.number)?;
        average(ws, st, r, 4, f.same.before, f.same.is_small())?;
        average(ws, st, r, 5, f.same.now, f.same.is_small())?;
        if f.same.n == 0 && f.questions_changed > 0 {
            // Said, never left blank: the statements asked are not the same.
            text(ws, r, 6, NOT_COMPARABLE, &st.wrap)?;
        } else {
            change(ws, st, r, 6, f.same.change())?;
        }
    }
    let r = top + 2 + figures.len() as u32;
    let mut note = format!(
        "Like for like: {same_n} partnership{} scored in both {py} and {y}. Earlier years' scores come from the history store (imported scores or returns).",
        if same_n == 1 { "" } else { "s" }
    );
    note.push_str(&changed_note(&figures));
    super::styles::note(ws, r, &note, &widths, &st.note)?;
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Sections", false, Some(top))?;
    Ok(())
}

/// What the Change column says for a section whose statements changed between the
/// two years' template versions for every partnership scored on it both years.
pub const NOT_COMPARABLE: &str = "not comparable: the questions changed";

/// The note naming each section compared on fewer partnerships, or not at all, because
/// its statements changed between the template versions answered; empty if none.
pub fn changed_note(figures: &[super::figures::SectionFigures]) -> String {
    figures
        .iter()
        .filter(|f| f.questions_changed > 0)
        .map(|f| {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            let left_out = f.questions_changed - f.on_shared;
            let mut s = format!(
                " \u{201c}{}\u{201d}: its statements changed between the two years' forms for {} partnership{}",
                f.title,
                f.questions_changed,
                plural(f.questions_changed)
            );
            if f.on_shared > 0 {
                s.push_str(&format!(
                    "; {} compared on the statements both years share",
                    f.on_shared
                ));
            }
            if left_out > 0 {
                s.push_str(&format!(
                    "; {left_out} not compared (no answers stored for the earlier year)"
                ));
            }
            s.push('.');
            s
        })
        .collect()
}
