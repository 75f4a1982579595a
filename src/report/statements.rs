//! Statements: every scored statement with its number as on the form, its average
//! points over the scored answers (n), and how many partnerships gave each answer.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::styles::{print_setup, small_note, table, text, Styles};
use crate::xlsx::fit;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Statements")?;
    let y = review.year;
    // Every option any statement offers, in first-seen order (some offer "Not applicable").
    let mut options: Vec<String> = Vec::new();
    for q in &review.questions {
        for (l, _) in &q.distribution {
            if !options.contains(l) {
                options.push(l.clone());
            }
        }
    }
    // Last year's averages exist only where last year's returns were read by ptk
    // (imported history holds section totals): the column is shown only then.
    let last_year = review
        .questions
        .iter()
        .any(|q| q.last_year_average.is_some());
    let mut widths: Vec<f64> = vec![6.0, 16.0, 44.0, 10.0, 7.0, 10.0];
    if last_year {
        widths.push(10.0);
    }
    widths.extend(options.iter().map(|_| 10.0));
    let sub = format!(
        "Every scored statement: average points in {y} over the scored answers (n: one per return, so a partnership with several respondents gives several), and how many returns gave each answer. {}{}",
        small_note(),
        if last_year {
            ""
        } else {
            " Question-level answers for earlier years are not in the store (imported history holds section scores only), so there is no comparison here: see Sections."
        }
    );
    super::styles::title(ws, st, review, "Every statement", &sub, &widths)?;
    let mut headers: Vec<String> = vec![
        "No.".into(),
        "Section".into(),
        "Statement".into(),
        format!("Average points {y}"),
        "Out of".into(),
        "Scored answers (n)".into(),
    ];
    if last_year {
        headers.push(format!("Average points {}", y - 1));
    }
    headers.extend(options.iter().map(|o| format!("Answered '{o}'")));
    let top = 3;
    table(ws, st, top, &headers, review.questions.len(), "Statements")?;
    ws.set_row_height(top, 75)?;
    let dec = st.pct.clone().set_num_format("0.00");
    let first_option = 6 + u16::from(last_year);
    let small = dec
        .clone()
        .set_num_format(format!("0.00\" {}\"", super::styles::SMALL_MARK));
    for (i, q) in review.questions.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, 0, &q.number, &st.text)?;
        text(ws, r, 1, &q.section, &st.wrap)?;
        text(ws, r, 2, &q.text, &st.wrap)?;
        ws.set_row_height(r, fit(&[(&q.text, widths[2]), (&q.section, widths[1])]))?;
        let few = q.answered > 0 && q.answered < super::figures::SMALL_N;
        super::styles::opt_pct(ws, r, 3, q.average, if few { &small } else { &dec })?;
        ws.write_number_with_format(r, 4, q.max_points, &st.number)?;
        ws.write_number_with_format(r, 5, q.answered as f64, &st.number)?;
        if last_year {
            super::styles::opt_pct(ws, r, 6, q.last_year_average, &dec)?;
        }
        for (j, o) in options.iter().enumerate() {
            let c = first_option + j as u16;
            match q.distribution.iter().find(|(l, _)| l == o) {
                Some((_, n)) => ws.write_number_with_format(r, c, *n as f64, &st.number)?,
                None => ws.write_string_with_format(r, c, "–", &st.text)?,
            };
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Statements", true, Some(top))?;
    Ok(())
}
