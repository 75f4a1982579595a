//! Outstanding: every respondent with no accepted return for the form their
//! partnership owes, the lead officer's and each partner's.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::row::{ReturnState, Row};
use super::styles::{print_setup, table, text, Styles};
use crate::respondents::Respondent;
use crate::xlsx::fit_row;

/// Why a respondent's form is outstanding, in words.
fn why(state: &ReturnState, others_returned: bool) -> String {
    match state {
        ReturnState::Rejected(summary) => format!("Rejected: {summary}"),
        ReturnState::Unreadable(file) => {
            format!("Received but unreadable ({file}): ask for it to be saved again and resent")
        }
        ReturnState::NotReturned if others_returned => {
            "Not returned (the partnership is scored from the others' returns for now)".into()
        }
        other => {
            let mut s = other.label().to_string();
            if let Some(c) = s.get_mut(..1) {
                c.make_ascii_uppercase();
            }
            s
        }
    }
}

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Outstanding")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let widths = [7.0, 24.0, 16.0, 22.0, 29.0, 15.0, 44.0];
    super::styles::title(ws, st, review, "Outstanding returns", "Every form still owed this year, one row per respondent (the lead officer, and each partner who completes the self-assessment): not returned, or returned with problems to correct. A partner is listed even where the lead officer has returned the form.", &widths)?;
    // (row, respondent, state): every respondent who still owes the form.
    let owed: Vec<(&Row, &Respondent, &ReturnState)> = review
        .rows
        .iter()
        .flat_map(|row| {
            row.missing_respondents()
                .map(move |(who, state)| (row, who, state))
        })
        .collect();
    let headers: Vec<String> = [
        "ID",
        "Partnership",
        "Form",
        "Respondent",
        "Email",
        "Assistant Director",
        "Why",
    ]
    .map(String::from)
    .to_vec();
    let top = 3;
    table(ws, st, top, &headers, owed.len(), "Outstanding")?;
    ws.set_row_height(top, 32)?;
    for (i, (row, who, state)) in owed.iter().enumerate() {
        let r = top + 1 + i as u32;
        let p = &row.partnership;
        let form = row
            .expected
            .as_deref()
            .and_then(|t| review.form_title(t))
            .unwrap_or("");
        let why = why(state, row.state.is_received());
        let label = who.label();
        fit_row(
            ws,
            r,
            // Prose: Arial fits about 10% more letters than digits in a line.
            &[
                (&p.name, widths[1]),
                (form, widths[2]),
                (&label, widths[3]),
                (&why, widths[6] * 1.1),
            ],
        )?;
        for (c, v) in [
            p.id.as_str(),
            p.name.as_str(),
            form,
            label.as_str(),
            who.email.as_str(),
            p.assistant_director.as_str(),
            why.as_str(),
        ]
        .iter()
        .enumerate()
        {
            text(ws, r, c as u16, v, &st.wrap)?;
        }
    }
    if owed.is_empty() {
        ws.write_with_format(
            top + 1,
            0,
            "Every partnership has an accepted return from each of its respondents.",
            &st.note,
        )?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Outstanding", true, Some(top))?;
    Ok(())
}
