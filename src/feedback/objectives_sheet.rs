//! "Objectives and actions": the partnership's objectives with their progress as its
//! return gave them, the actions it agreed this year for its weak statements (due
//! before next year's form), and last year's actions with the statement's answer now.
//! Written only where the partnership has any (issue #21); one portrait A4 page.

use rust_xlsxwriter::Worksheet;

use super::page::{heading, page_setup};
use super::Feedback;
use crate::objectives::AgreedAction;
use crate::report::styles::{self, table_at, text, Styles};
use crate::xlsx::{fit, wrapped_height};

/// Column widths (characters): row, objective, progress, details.
const WIDTHS: [f64; 4] = [8.0, 40.0, 13.0, 43.0];

/// Whether the feedback has anything for this sheet.
pub fn wanted(fb: &Feedback) -> bool {
    fb.objectives.is_some()
}

/// A stored date ("2027-03-31") as people write it; anything else as given.
fn date(v: &str) -> String {
    crate::register::parse_date(v).map_or(v.to_string(), crate::dates::long_date)
}

/// The sheet. `name` is its name; `tag` makes its table names unique in a pack.
pub fn sheet(
    ws: &mut Worksheet,
    st: &Styles,
    fb: &Feedback,
    name: &str,
    tag: &str,
) -> anyhow::Result<()> {
    ws.set_name(name)?;
    let w = &WIDTHS;
    let y = fb.year;
    ws.write_with_format(
        0,
        0,
        format!("{}: objectives and actions {y}", fb.partnership),
        &st.title,
    )?;
    ws.set_row_height(0, 24)?;
    let sub = format!("The objectives and targets your partnership set, with the progress your {y} self-assessment gave; and the actions agreed for the statements scored lowest, with who will do them and by when.");
    styles::note(ws, 1, &sub, w, &st.subtitle)?;
    let note_h = |s: &str| wrapped_height(s, w.iter().sum::<f64>() * 0.95);
    let mut h = 24.0 + note_h(&sub);
    let Some(o) = &fb.objectives else {
        page_setup(ws, fb, name);
        return Ok(());
    };
    let mut r = 3;
    heading(ws, st, r, "Your objectives")?;
    r += 1;
    let intro = if o.objectives.is_empty() {
        "No objectives were given on your form this year.".to_string()
    } else {
        let mut s = format!("{}.", o.counts_words());
        if !o.summary.at_risk.is_empty() {
            s.push_str(&format!(
                " At risk: {}. These are named on the Assistant Director's page of the review.",
                o.summary.at_risk.join("; ")
            ));
        }
        s
    };
    styles::note(ws, r, &intro, w, &st.note)?;
    h += 22.0 + note_h(&intro);
    if !o.objectives.is_empty() {
        r += 1;
        let headers: Vec<String> = vec![
            "Row".into(),
            "Objective".into(),
            "Progress".into(),
            "Target, owner, due date, comment".into(),
        ];
        table_at(
            ws,
            st,
            r,
            0,
            &headers,
            o.objectives.len(),
            &format!("Objectives{tag}"),
        )?;
        ws.set_row_height(r, 32)?;
        h += 32.0;
        let heading_of = |id: &str| {
            fb.objective_headings
                .iter()
                .find(|(c, _)| c == id)
                .map_or(id.to_string(), |(_, h)| h.clone())
        };
        for ob in &o.objectives {
            r += 1;
            let mut what = ob.text.clone();
            if let Some(c) = &ob.committed {
                what.push_str(&format!(" (as agreed last year: {c})"));
            }
            let details: Vec<String> = fb
                .objective_headings
                .iter()
                .filter_map(|(id, _)| ob.details.get(id).map(|v| (id, v)))
                .map(|(id, v)| format!("{}: {}", heading_of(id), date(v)))
                .collect();
            let details = details.join("\n");
            let progress = if ob.progress.is_empty() {
                "Not given"
            } else {
                ob.progress.as_str()
            };
            ws.write_number_with_format(r, 0, ob.row as f64, &st.number)?;
            text(ws, r, 1, &what, &st.wrap)?;
            text(ws, r, 2, progress, &st.wrap)?;
            text(ws, r, 3, &details, &st.wrap)?;
            let rh = fit(&[(&what, w[1]), (progress, w[2]), (&details, w[3])]);
            ws.set_row_height(r, rh)?;
            h += rh;
        }
    }
    r += 2;
    heading(ws, st, r, "Actions for the statements scored lowest")?;
    r += 1;
    let mut actions: Vec<&AgreedAction> = o.due.iter().collect();
    actions.extend(&o.last_year);
    let intro = if actions.is_empty() {
        "No actions were agreed for your statements this year or last.".to_string()
    } else {
        format!("Actions agreed in {y} are due before the {} self-assessment; for those agreed in {}, the last column gives this year's answer to the statement (what happened is in your form's evidence column).", y + 1, y - 1)
    };
    styles::note(ws, r, &intro, w, &st.note)?;
    h += 22.0 + note_h(&intro);
    if !actions.is_empty() {
        r += 1;
        let headers: Vec<String> = vec![
            "Agreed in".into(),
            "Statement (as on the form)".into(),
            "Answer now".into(),
            "Action (who; by when)".into(),
        ];
        table_at(
            ws,
            st,
            r,
            0,
            &headers,
            actions.len(),
            &format!("Actions{tag}"),
        )?;
        ws.set_row_height(r, 32)?;
        h += 32.0;
        for a in actions {
            r += 1;
            let statement = fb
                .statements
                .get(&a.question_id)
                .cloned()
                .unwrap_or_else(|| a.question_id.clone());
            let now = match (&a.now, a.year == y) {
                (_, true) => "(this year's action)".to_string(),
                (Some(v), false) => v.clone(),
                (None, false) => "not answered".to_string(),
            };
            let action = a.words();
            text(ws, r, 0, &a.year.to_string(), &st.text)?;
            text(ws, r, 1, &statement, &st.wrap)?;
            text(ws, r, 2, &now, &st.wrap)?;
            text(ws, r, 3, &action, &st.wrap)?;
            let rh = fit(&[(&statement, w[1]), (&now, w[2]), (&action, w[3])]);
            ws.set_row_height(r, rh)?;
            h += rh;
        }
    }
    for (c, cw) in w.iter().enumerate() {
        ws.set_column_width(c as u16, *cw)?;
    }
    page_setup(ws, fb, name);
    if h <= 756.0 * 11.0 / 8.0 {
        ws.set_print_fit_to_pages(1, 1);
    }
    Ok(())
}
