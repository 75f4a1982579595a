//! Trends: overall % by year for every partnership with any score, the change on last
//! year and over three years, and a sparkline on a common 0–100 scale.

use rust_xlsxwriter::{Sparkline, Worksheet};

use super::figures::three_year_change;
use super::gather::Review;
use super::row::Row;
use super::styles::{change, opt_pct, print_setup, table, text, Styles};
use crate::xlsx::fit_row;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Trends")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let y = review.year;
    let n = review.years.len() as u16;
    let mut widths: Vec<f64> = vec![7.0, 30.0];
    widths.extend(review.years.iter().map(|_| 8.0));
    widths.extend([12.0, 12.0, 16.0]);
    super::styles::title(ws, st, review, "Overall score by year", &format!(
        "Overall % for every year in the history store. Changes are in points: this year against {} and against {} (three years); none without a score this year. A change marked \"respondents changed\" compares scores from different numbers of respondents, so it is not counted as improved or declined. Every sparkline uses the same 0–100 scale, so slopes compare across partnerships.",
        y - 1, y - 3
    ), &widths)?;
    let mut headers: Vec<String> = vec!["ID".into(), "Partnership".into()];
    headers.extend(review.years.iter().map(|y| y.to_string()));
    headers.extend([
        format!("Change vs {}", y - 1),
        format!("Change vs {} (3 years)", y - 3),
        "Trend (0–100)".into(),
    ]);
    let rows: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| !r.by_year.is_empty())
        .collect();
    let top = 3;
    table(ws, st, top, &headers, rows.len(), "Trends")?;
    for (i, row) in rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, 0, &row.partnership.id, &st.text)?;
        text(ws, r, 1, &row.partnership.name, &st.wrap)?;
        for (j, yr) in review.years.iter().enumerate() {
            opt_pct(ws, r, 2 + j as u16, row.by_year.get(yr).copied(), &st.pct)?;
        }
        let now = row.by_year.get(&y).copied();
        let last = crate::score::change(now, row.by_year.get(&(y - 1)).copied());
        let words = changed_respondents(row, last);
        match &words {
            // In words, not red or green: who answered moved it as much as the work.
            Some(words) => text(ws, r, 2 + n, words, &st.wrap)?,
            None => change(ws, st, r, 2 + n, last)?,
        }
        let said = words.unwrap_or_default();
        fit_row(
            ws,
            r,
            &[
                (&row.partnership.name, widths[1]),
                (&said, widths[2 + n as usize]),
            ],
        )?;
        change(ws, st, r, 3 + n, three_year_change(row, y))?;
        ws.write_string_with_format(r, 4 + n, "", &st.text)?;
    }
    // One sparkline group for the column (one object, however many partnerships), on
    // a fixed 0–100 axis: a +0.4 must not look as steep as a +18.8.
    if n >= 2 && !rows.is_empty() {
        let (first, last) = (top + 1, top + rows.len() as u32);
        let spark = Sparkline::new()
            .set_range(("Trends", first, 2, last, 1 + n))
            .set_custom_min(0)
            .set_custom_max(100)
            .show_markers(true)
            .show_last_point(true);
        if first == last {
            ws.add_sparkline(first, 4 + n, &spark)?;
        } else {
            ws.add_sparkline_group(first, 4 + n, last, 4 + n, &spark)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Trends", false, Some(top))?;
    Ok(())
}

/// The change on last year in words where this year's score and last year's come from
/// different numbers of respondents ("-23.3 (respondents changed)"), as the Assistant
/// Directors' pages say it; none where the change is like for like.
pub fn changed_respondents(row: &Row, change: Option<f64>) -> Option<String> {
    let c = change?;
    row.respondents_changed()
        .then(|| format!("{c:+.1} (respondents changed)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_between_different_respondents_is_said_not_coloured() {
        let p = crate::register::Partnership {
            id: "LSP01".into(),
            name: "Local Strategic Partnership".into(),
            category: String::new(),
            lead_officer: String::new(),
            email: String::new(),
            assistant_director: String::new(),
            assistant_director_email: None,
            priority: crate::register::Priority::EarlyIntervention,
            status: crate::register::Status::Active,
            lead_organisation: String::new(),
            partners: String::new(),
            start_date: None,
            exit_date: None,
            notes: String::new(),
            line: 0,
        };
        let mut row = Row {
            respondents_scored: (Some(3), Some(1)),
            ..Row::new(&p)
        };
        assert_eq!(
            changed_respondents(&row, Some(-23.33)).as_deref(),
            Some("-23.3 (respondents changed)")
        );
        assert_eq!(changed_respondents(&row, None), None);
        row.respondents_scored = (Some(3), Some(3));
        assert_eq!(changed_respondents(&row, Some(-23.3)), None);
    }
}
