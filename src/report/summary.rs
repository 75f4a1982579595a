//! Summary: one row per partnership in the register.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::row::{Row, PARTIAL_MARK};
use super::styles::{change, opt_pct, print_setup, table, text, Styles};
use crate::register::Status;
use crate::xlsx::fit_row;

/// What the form column says: the form's state, naming the form when it is not the
/// self-assessment, so "proposed | received" never reads as an approval.
pub fn form_status(review: &Review, row: &Row) -> String {
    match row.expected.as_deref() {
        Some(t) if t != review.scored.id => format!(
            "{}: {}",
            review.form_title(t).unwrap_or(t),
            row.state.label()
        ),
        _ => row.state.label().to_string(),
    }
}

/// The register status, with the exit date for an exiting partnership: "exited"
/// only once the date has passed.
pub fn status_text(review: &Review, row: &Row) -> String {
    let p = row.partnership;
    match (p.status, row.exit_date) {
        (Status::Exiting, Some(d)) if review.as_of.is_some_and(|now| d <= now) => {
            format!("exited {}", d.format("%-d %b %Y"))
        }
        (Status::Exiting, Some(d)) => format!("exiting on {}", d.format("%-d %b %Y")),
        (s, _) => s.as_str().to_string(),
    }
}

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Summary")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let sections: Vec<&crate::template::Section> = review
        .scored
        .sections
        .iter()
        .filter(|s| s.is_scored())
        .collect();
    let mut widths: Vec<f64> = vec![6.0, 16.0, 10.0, 12.0, 8.5, 12.0, 12.0, 8.0, 7.0, 8.5];
    // Wide enough for the longest word of the section's name, so headers wrap between words.
    widths.extend(sections.iter().map(|s| {
        let word = s
            .title
            .split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        (word as f64 + 1.0).clamp(9.0, 16.0)
    }));
    widths.extend([10.0, 8.0]);
    super::styles::title(ws, st, review, "Partnership self-assessment scores", &format!(
        "Every partnership in the register. Overall % is filled with its band's colour and the band is named beside it; change is in points against {} (▲ up, ▼ down, ● under 1 point either way); 'new' means no earlier score. Respondents: forms returned of those due (the lead officer's and each partner's); the scores are the average over those returned, and {PARTIAL_MARK} marks a partnership scored from fewer than all its respondents (its score may change when the others return).",
        review.year - 1
    ), &widths)?;
    let mut headers: Vec<String> = [
        "ID",
        "Partnership",
        "Assistant Director",
        "Business Plan priority",
        "Register status",
        "Form this year",
        "Respondents",
        "Overall %",
        "Band",
    ]
    .map(String::from)
    .to_vec();
    headers.push(format!("Change vs {}", review.year - 1));
    headers.extend(sections.iter().map(|s| format!("{} %", s.title)));
    headers.push("Life-cycle stage".into());
    headers.push("Years since first reviewed".into());
    let top = 3;
    table(ws, st, top, &headers, review.rows.len(), "Summary")?;
    ws.set_row_height(top, 62)?;
    for (i, row) in review.rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        let p = &row.partnership;
        let status = status_text(review, row);
        let form = form_status(review, row);
        let respondents = row.respondents_text();
        text(ws, r, 0, &p.id, &st.text)?;
        text(ws, r, 1, &p.name, &st.wrap)?;
        text(ws, r, 2, &p.assistant_director, &st.wrap)?;
        text(ws, r, 3, p.priority.label(), &st.wrap)?;
        text(ws, r, 4, &status, &st.wrap)?;
        text(ws, r, 5, &form, &st.wrap)?;
        fit_row(
            ws,
            r,
            &[
                // Narrow: whole words wrap early, so fewer letters fit a line.
                (&p.name, widths[1] * 0.8),
                (&p.assistant_director, widths[2]),
                (p.priority.label(), widths[3]),
                (&status, widths[4]),
                (&form, widths[5]),
                (&respondents, widths[6]),
            ],
        )?;
        text(ws, r, 6, &respondents, &st.wrap)?;
        match row.overall {
            Some(o) => ws.write_number_with_format(r, 7, o, &st.band(review, o))?,
            None => ws.write_string_with_format(r, 7, "", &st.pct)?,
        };
        text(ws, r, 8, row.band.as_deref().unwrap_or(""), &st.text)?;
        match (row.change(), row.overall) {
            (Some(c), _) => change(ws, st, r, 9, Some(c))?,
            (None, Some(_)) if row.is_new() => {
                ws.write_string_with_format(r, 9, "new", &st.text)?;
            }
            _ => change(ws, st, r, 9, None)?,
        }
        for (j, s) in sections.iter().enumerate() {
            opt_pct(ws, r, 10 + j as u16, row.section(&s.id), &st.pct)?;
        }
        let c = 10 + sections.len() as u16;
        text(ws, r, c, row.stage.as_deref().unwrap_or(""), &st.text)?;
        match row.first_year {
            Some(first) => {
                ws.write_number_with_format(r, c + 1, f64::from(review.year - first), &st.number)?
            }
            None => ws.write_string_with_format(r, c + 1, "", &st.text)?,
        };
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Summary", true, Some(top))?;
    Ok(())
}
