//! Outstanding: every partnership with no accepted return for the form it owes.

use rust_xlsxwriter::Worksheet;

use super::gather::{ReturnState, Review, Row};
use super::styles::{print_setup, table, text, Styles};
use crate::xlsx::fit_row;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Outstanding")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let widths = [7.0, 26.0, 16.0, 15.0, 27.0, 15.0, 52.0];
    super::styles::title(ws, st, review, "Outstanding returns", "Partnerships with no accepted return for the form they owe this year: not returned, or returned with problems to correct.", &widths)?;
    let rows: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| r.state.is_outstanding())
        .collect();
    let headers: Vec<String> = [
        "ID",
        "Partnership",
        "Form",
        "Lead officer",
        "Email",
        "Assistant Director",
        "Why",
    ]
    .map(String::from)
    .to_vec();
    let top = 3;
    table(ws, st, top, &headers, rows.len(), "Outstanding")?;
    ws.set_row_height(top, 32)?;
    for (i, row) in rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        let p = &row.partnership;
        let form = row
            .expected
            .as_deref()
            .and_then(|t| review.form_title(t))
            .unwrap_or("");
        let why = match &row.state {
            ReturnState::Rejected(summary) => format!("Rejected: {summary}"),
            ReturnState::Unreadable(file) => {
                format!("Received but unreadable ({file}): ask for it to be saved again and resent")
            }
            other => {
                let mut s = other.label().to_string();
                if let Some(c) = s.get_mut(..1) {
                    c.make_ascii_uppercase();
                }
                s
            }
        };
        fit_row(
            ws,
            r,
            // Prose: Arial fits about 10% more letters than digits in a line.
            &[
                (&p.name, widths[1]),
                (form, widths[2]),
                (&why, widths[6] * 1.1),
            ],
        )?;
        for (c, v) in [
            p.id.as_str(),
            p.name.as_str(),
            form,
            p.lead_officer.as_str(),
            p.email.as_str(),
            p.assistant_director.as_str(),
            why.as_str(),
        ]
        .iter()
        .enumerate()
        {
            text(ws, r, c as u16, v, &st.wrap)?;
        }
    }
    if rows.is_empty() {
        ws.write_with_format(
            top + 1,
            0,
            "Every partnership has an accepted return.",
            &st.note,
        )?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Outstanding", true, Some(top))?;
    Ok(())
}
