//! "Your scores": the overall score and each section's against last year and the
//! council's average, then the strongest and weakest statements. Changes carry an
//! arrow, never colour alone.

use rust_xlsxwriter::Worksheet;

use super::page::{heading, page_setup};
use super::Feedback;
use crate::report::styles::{self, change, opt_pct, table_at, text, Styles};
use crate::xlsx::fit;

/// Column widths (characters) of "Your scores": part, name, then five figures.
const SCORE_WIDTHS: [f64; 7] = [9.0, 35.0, 10.0, 13.0, 11.0, 13.0, 13.0];

/// A change whose respondents changed: "−1.8", no arrow, no colour (the overall
/// score's label and the note say why).
fn changed_format(st: &Styles) -> rust_xlsxwriter::Format {
    st.text.clone().set_num_format("\"+\"0.0;\"−\"0.0;0.0")
}

/// The first page: scores, strongest and weakest statements. `name` is the sheet's
/// name; `tag` makes its table names unique in a workbook of several feedbacks.
pub fn scores_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    fb: &Feedback,
    name: &str,
    tag: &str,
) -> anyhow::Result<()> {
    ws.set_name(name)?;
    let w = &SCORE_WIDTHS;
    let (y, py) = (fb.year, fb.year - 1);
    ws.write_with_format(
        0,
        0,
        format!("{}: self-assessment {y}", fb.partnership),
        &st.title,
    )?;
    ws.set_row_height(0, 24)?;
    let from = if fb.due == 0 {
        String::new()
    } else {
        format!(
            " It comes from the {} of {} forms returned{}.",
            fb.returned,
            fb.due,
            if fb.not_returned.is_empty() {
                String::new()
            } else {
                format!(" (not yet returned: {})", fb.not_returned.join("; "))
            }
        )
    };
    let as_of = fb
        .generated_at
        .as_deref()
        .map(crate::report::readable_time)
        .map_or(String::new(), |t| format!(" Data as of {t}."));
    let intro = format!(
        "Your partnership's results from the {y} self-assessment, for its lead officer and partners ({}, {}).{from} Your scores are the average of your respondents' answers.{as_of}",
        fb.partnership_id, fb.council
    );
    styles::note(ws, 1, &intro, w, &st.subtitle)?;

    let mut r = 3;
    heading(ws, st, r, "Your scores")?;
    r += 1;
    let band = match &fb.band {
        Some(b) if !fb.band_range.is_empty() => {
            format!("Your band: {b} (an overall score {}).", fb.band_range)
        }
        Some(b) => format!("Your band: {b}."),
        None => "No band: no overall score this year.".to_string(),
    };
    ws.write_with_format(r, 0, band, &st.label)?;
    r += 1;
    let headers: Vec<String> = vec![
        "Part".into(),
        "Score".into(),
        format!("Your % {y}"),
        format!("Your % {py}"),
        "Change (points)".into(),
        format!("Council average % {y}"),
        "Partnerships in the average (n)".into(),
    ];
    table_at(
        ws,
        st,
        r,
        0,
        &headers,
        fb.scores.len(),
        &format!("Scores{tag}"),
    )?;
    ws.set_row_height(r, 47)?;
    for line in &fb.scores {
        r += 1;
        let bold = line.number == "All";
        text(
            ws,
            r,
            0,
            &line.number,
            if bold { &st.label } else { &st.text },
        )?;
        let label = if bold && fb.respondents_changed && line.change().is_some() {
            format!(
                "{} (respondents changed: not counted as up or down)",
                line.label
            )
        } else {
            line.label.clone()
        };
        text(ws, r, 1, &label, &st.wrap)?;
        ws.set_row_height(r, fit(&[(&label, w[1])]))?;
        opt_pct(ws, r, 2, line.now, &st.pct)?;
        opt_pct(ws, r, 3, line.before, &st.pct)?;
        match line.change().filter(|_| fb.respondents_changed) {
            // As in the review: the number, but neither improved nor declined.
            Some(c) => {
                ws.write_number_with_format(r, 4, c, &changed_format(st))?;
            }
            None => change(ws, st, r, 4, line.change())?,
        }
        match line.council {
            Some(a) => {
                opt_pct(ws, r, 5, a.value, &st.pct)?;
                ws.write_number_with_format(r, 6, a.n as f64, &st.number)?;
            }
            None => {
                text(ws, r, 5, "left out", &st.text)?;
                text(ws, r, 6, "", &st.text)?;
            }
        }
    }
    r += 2;
    let council = if fb.council_n > 0 {
        format!(
            "The council's average is over every partnership scored in {y} (n); it names no partnership."
        )
    } else {
        format!(
            "The council's average is left out: fewer than {} partnerships were scored in {y}, so it would show another partnership's score.",
            crate::report::figures::SMALL_N
        )
    };
    let changed = if fb.respondents_changed {
        format!(" A different number of respondents scored your partnership in {y} than in {py}, so the change is shown but, as in the review, not counted as improved or declined: who answered moves the score as much as the work.")
    } else {
        String::new()
    };
    let note = format!(
        "{py} is your partnership's own score that year (blank: none stored). Change is in points: ▲ up, ▼ down, ● less than 1 point either way. {council}{changed}"
    );
    styles::note(ws, r, &note, w, &st.note)?;

    for (title, list, tag2) in [
        (
            "Your strongest statements",
            &fb.strongest,
            format!("Strongest{tag}"),
        ),
        (
            "Your weakest statements",
            &fb.weakest,
            format!("Weakest{tag}"),
        ),
    ] {
        r += 2;
        heading(ws, st, r, title)?;
        if list.is_empty() {
            r += 1;
            ws.write_with_format(
                r,
                0,
                "Every statement has the same points, so none stands out.",
                &st.note,
            )?;
            continue;
        }
        r += 1;
        let headers: Vec<String> = vec![
            "Question".into(),
            "Statement (as on the form)".into(),
            "Your points".into(),
            "Respondents who scored it".into(),
        ];
        table_at(ws, st, r, 0, &headers, list.len(), &tag2)?;
        ws.set_row_height(r, 47)?;
        for s in list {
            r += 1;
            text(ws, r, 0, &s.number, &st.text)?;
            text(ws, r, 1, &s.text, &st.wrap)?;
            let pts = format!(
                "{:.1} of {}",
                s.points,
                crate::read::format_number(s.max_points)
            );
            text(ws, r, 2, &pts, &st.text)?;
            ws.write_number_with_format(r, 3, s.answered as f64, &st.number)?;
            ws.set_row_height(r, fit(&[(&s.text, w[1] * 1.1)]))?;
        }
    }
    r += 2;
    styles::note(
        ws,
        r,
        "A statement's points are the average of your respondents' answers (Not applicable and blanks left out). Strongest and weakest are by share of the statement's points.",
        w,
        &st.note,
    )?;
    for (c, width) in w.iter().enumerate() {
        ws.set_column_width(c as u16, *width)?;
    }
    page_setup(ws, fb, name);
    Ok(())
}
