//! Where respondents disagree: the statements on which a partnership's respondents'
//! points differ by the template's `disagreement` threshold or more, largest spread
//! first. The agenda for each partnership's own review discussion.

use rust_xlsxwriter::Worksheet;

use super::disagreement::answers_text;
use super::gather::Review;
use super::styles::{print_setup, table, text, Styles};
use crate::xlsx::fit_row;

pub const NAME: &str = "Where respondents disagree";

/// "2 points" / "1.5 points" / "1 point".
fn points(v: f64) -> String {
    let n = if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    };
    format!("{n} point{}", if v == 1.0 { "" } else { "s" })
}

/// Partnerships whose respondents chose different life-cycle stages: (id, name, the
/// stage question's number and text, each respondent's stage), in register order.
fn stage_disagreements(review: &Review) -> Vec<(String, String, String, String, String)> {
    let Some(q) = review
        .scored
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .find(|q| q.id == crate::score::STAGE_QUESTION)
    else {
        return Vec::new();
    };
    let number = Review::form_number(&review.scored, &q.id).unwrap_or_default();
    review
        .rows
        .iter()
        .filter(|r| {
            r.stages
                .iter()
                .any(|(_, s)| !s.eq_ignore_ascii_case(&r.stages[0].1))
        })
        .map(|r| {
            let answers = r
                .stages
                .iter()
                .map(|(w, s)| format!("{w}: {s}"))
                .collect::<Vec<_>>()
                .join("\n");
            (
                r.partnership.id.clone(),
                r.partnership.name.clone(),
                number.clone(),
                q.text.clone(),
                answers,
            )
        })
        .collect()
}

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name(NAME)?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let widths = [7.0, 24.0, 9.0, 40.0, 9.0, 56.0];
    let threshold = points(review.scored.disagreement);
    super::styles::title(
        ws,
        st,
        review,
        NAME,
        &format!(
            "The statements on which a partnership's respondents' answers are {threshold} or more apart (the {} template's disagreement setting), largest spread first. Each partnership's scores are the average of its respondents' answers; this list is the agenda for the partnership's own review discussion: why do its members see these statements differently? Not applicable and blank answers are shown but not compared.",
            review.scored.title
        ),
        &widths,
    )?;
    let headers: Vec<String> = [
        "ID",
        "Partnership",
        "Question",
        "Statement",
        "Spread (points)",
        "Each respondent's answer",
    ]
    .map(String::from)
    .to_vec();
    let top = 3;
    let rows = &review.disagreements;
    let stages = stage_disagreements(review);
    table(
        ws,
        st,
        top,
        &headers,
        rows.len() + stages.len(),
        "Disagreements",
    )?;
    ws.set_row_height(top, 32)?;
    for (i, d) in rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        let answers = answers_text(d);
        text(ws, r, 0, &d.partnership_id, &st.text)?;
        text(ws, r, 1, &d.partnership, &st.wrap)?;
        text(ws, r, 2, &d.number, &st.text)?;
        text(ws, r, 3, &d.text, &st.wrap)?;
        let f = if d.spread.fract() == 0.0 {
            &st.number
        } else {
            &st.pct
        };
        ws.write_number_with_format(r, 4, d.spread, f)?;
        text(ws, r, 5, &answers, &st.wrap)?;
        // Prose: Arial fits about 10% more letters than digits in a line.
        fit_row(
            ws,
            r,
            &[
                (&d.partnership, widths[1] * 1.1),
                (&d.text, widths[3] * 1.1),
                (&answers, widths[5] * 1.1),
            ],
        )?;
    }
    // Then the life-cycle stage, where respondents chose different stages.
    for (i, (id, name, number, question, answers)) in stages.iter().enumerate() {
        let r = top + 1 + (rows.len() + i) as u32;
        text(ws, r, 0, id, &st.text)?;
        text(ws, r, 1, name, &st.wrap)?;
        text(ws, r, 2, number, &st.text)?;
        text(ws, r, 3, question, &st.wrap)?;
        text(ws, r, 4, "different stages", &st.wrap)?;
        text(ws, r, 5, answers, &st.wrap)?;
        fit_row(
            ws,
            r,
            &[
                (name, widths[1] * 1.1),
                (question, widths[3] * 1.1),
                (answers, widths[5] * 1.1),
            ],
        )?;
    }
    if rows.is_empty() && stages.is_empty() {
        let why = if review.compared_partnerships == 0 {
            format!(
                "No partnership has {} returns from two or more respondents yet, so there are no views to compare.",
                review.year
            )
        } else {
            format!(
                "No statement has answers {threshold} or more apart: the respondents of the {} partnership{} with two or more returns broadly agree.",
                review.compared_partnerships,
                if review.compared_partnerships == 1 { "" } else { "s" }
            )
        };
        ws.write_with_format(top + 1, 0, why, &st.note)?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, NAME, true, Some(top))?;
    Ok(())
}
