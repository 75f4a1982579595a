//! By Assistant Director and By priority: each group's partnerships, forms, and
//! averages that say how many partnerships they cover.

use rust_xlsxwriter::Worksheet;

use super::figures::{groups, STEADY_POINTS};
use super::gather::Review;
use super::row::Row;
use super::styles::{average, average_n, change, print_setup, small_note, table, text, Styles};
use crate::xlsx::fit_row;

pub fn sheet(
    ws: &mut Worksheet,
    st: &Styles,
    review: &Review,
    name: &str,
    what: &str,
    key: impl Fn(&Row) -> String,
) -> anyhow::Result<()> {
    ws.set_name(name)?;
    let (y, py) = (review.year, review.year - 1);
    let widths = [
        32.0, 12.0, 9.0, 11.0, 9.0, 9.0, 9.0, 12.0, 12.0, 9.0, 9.0, 9.0, 9.0, 7.0,
    ];
    let sub = format!(
        "Partnerships that owe a form this year (closed ones are left out), their forms, and their overall scores. Every average says how many partnerships it covers (n); the change on {py} is like for like, over the partnerships scored in both years. Improved or declined means by {STEADY_POINTS:.0} point or more. {}",
        small_note()
    );
    super::styles::title(
        ws,
        st,
        review,
        &format!("Partnerships by {}", what.to_lowercase()),
        &sub,
        &widths,
    )?;
    let headers: Vec<String> = vec![
        what.into(),
        "Partnerships".into(),
        "Partnerships received".into(),
        "Partnerships outstanding".into(),
        format!("Average overall % {y}"),
        format!("Partnerships scored {y} (n)"),
        "Partnerships compared like for like (n)".into(),
        format!("Same partnerships: {py}"),
        format!("Same partnerships: {y}"),
        "Change (points)".into(),
        "Partnerships improved".into(),
        "Partnerships declined".into(),
        "Partnerships steady".into(),
        "Partnerships first scored".into(),
    ];
    let figures = groups(&review.rows, key);
    let top = 3;
    table(ws, st, top, &headers, figures.len(), &name.replace(' ', ""))?;
    ws.set_row_height(top, 62)?;
    for (i, g) in figures.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, 0, &g.name, &st.wrap)?;
        fit_row(ws, r, &[(&g.name, widths[0])])?;
        for (c, n) in [g.partnerships, g.received, g.outstanding]
            .iter()
            .enumerate()
        {
            ws.write_number_with_format(r, 1 + c as u16, *n as f64, &st.number)?;
        }
        average_n(ws, st, r, 4, g.now)?;
        ws.write_number_with_format(r, 6, g.same.n as f64, &st.number)?;
        average(ws, st, r, 7, g.same.before, g.same.is_small())?;
        average(ws, st, r, 8, g.same.now, g.same.is_small())?;
        change(ws, st, r, 9, g.same.change())?;
        for (c, n) in [g.improved, g.declined, g.steady, g.new].iter().enumerate() {
            ws.write_number_with_format(r, 10 + c as u16, *n as f64, &st.number)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, name, true, Some(top))?;
    Ok(())
}
