//! Overview: the first sheet, on one A4 page. The headline figures, the band
//! thresholds, and the partnerships that need a decision, weakest first, with reasons.

use rust_xlsxwriter::Worksheet;

use super::figures::{headline, STEADY_POINTS};
use super::gather::Review;
use super::styles::{print_setup, table, text, Styles};
use crate::xlsx::fit;

/// Column widths (characters): label, number, notes; the decision list adds the
/// proposed action and the Assistant Director. Portrait A4, scaled to fit the width.
const WIDTHS: [f64; 5] = [26.0, 10.0, 42.0, 22.0, 14.0];

/// The most content (points) that fits on one portrait A4 page (756 pt inside the
/// margins) with 11 pt text scaled to no less than 8 pt.
const ONE_PAGE: f64 = 756.0 * 11.0 / 8.0 * 0.9;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Overview")?;
    let y = review.year;
    let py = y - 1;
    let h = headline(&review.rows, &review.scored);
    ws.write_with_format(0, 0, format!("Partnership review {y}: overview"), &st.title)?;
    ws.set_row_height(0, 24)?;
    let sub = match (&review.generated_at, &review.imported_at) {
        (Some(at), _) => format!("{}. Data as of {}.", review.council, super::readable_time(at)),
        (None, Some(at)) => format!(
            "{}. The {y} figures are imported history (scores imported {}): no {y} form was read, so none counts as received.",
            review.council,
            super::readable_time(at)
        ),
        (None, None) => format!("{}. No returns read yet.", review.council),
    };
    super::styles::note(ws, 1, &sub, &WIDTHS, &st.subtitle)?;
    let message = super::message::headline(review);
    let bold_wrap = st.wrap.clone().set_bold();
    super::styles::note(ws, 2, &message, &WIDTHS, &bold_wrap)?;

    let closed = review.rows.iter().filter(|r| !r.in_review()).count();
    let mut lines: Vec<(String, usize, String)> = vec![
        (
            "Partnerships in the review".into(),
            h.in_review,
            if closed > 0 {
                format!("All in the register but the {closed} closed.")
            } else {
                "All in the register.".to_string()
            },
        ),
        (
            "Forms received".into(),
            h.received,
            format!(
                "of {} due, {} outstanding: one per person, and exit and new-partnership forms.",
                h.forms_due,
                review
                    .rows
                    .iter()
                    .filter(|r| r.in_review())
                    .map(|r| r.missing_respondents().count())
                    .sum::<usize>()
            ),
        ),
        ("Partnerships scored".into(), h.scored, scored_text(&h)),
    ];
    for (label, n) in &h.bands {
        lines.push((
            format!("{label} band"),
            *n,
            format!(
                "Partnerships scoring {}",
                band_range(review, label).replacen("Overall score ", "", 1)
            ),
        ));
    }
    let like = format!("of {} compared like for like.", h.compared);
    lines.extend([
        (
            format!("Improved on {py}"),
            h.improved,
            format!("Partnerships up {STEADY_POINTS:.0} point or more, {like}"),
        ),
        (
            format!("Declined on {py}"),
            h.declined,
            format!("Partnerships down {STEADY_POINTS:.0} point or more, {like}"),
        ),
        (
            "Steady".into(),
            h.steady,
            format!("Partnerships within {STEADY_POINTS:.0} point either way, {like}"),
        ),
        (
            "Respondents changed".into(),
            h.respondents_changed,
            "Partnerships scored both years by different numbers of respondents: not compared."
                .to_string(),
        ),
        ("Partnerships outstanding".into(), h.outstanding, {
            let partial = review.rows.iter().filter(|r| r.is_partial()).count();
            let mut s = "Partnerships whose form is not in, or needs correcting.".to_string();
            if partial > 0 {
                s.push_str(&format!(
                    " {partial} more scored from some respondents, others awaited."
                ));
            }
            s
        }),
        (
            "Exiting".into(),
            h.exiting,
            format!(
                "Partnerships leaving: {} exit document{} in.",
                h.exit_documents,
                if h.exit_documents == 1 { "" } else { "s" }
            ),
        ),
        (
            "New proposals".into(),
            h.proposals,
            format!(
                "Partnerships proposed: {} form{} received.",
                h.proposal_forms,
                if h.proposal_forms == 1 { "" } else { "s" }
            ),
        ),
    ]);
    for y in [py, y] {
        if let Some(spread) = super::message::stage_spread(review, y) {
            lines.push((
                format!("Life-cycle stages {y}"),
                review
                    .rows
                    .iter()
                    .filter(|r| {
                        if y == review.year {
                            r.stage.is_some()
                        } else {
                            r.stage_before.is_some()
                        }
                    })
                    .count(),
                format!("Partnerships by stage: {spread}"),
            ));
        }
    }
    // The rows' heights so far (title, notes, blank row), for the one-page decision.
    let mut height =
        24.0 + 15.0 + crate::xlsx::wrapped_height(&message, WIDTHS.iter().sum()) + 2.0 * 15.0;
    let top = 4;
    table(
        ws,
        st,
        top,
        &["Headline".into(), "Number".into(), "What it counts".into()],
        lines.len(),
        "Headline",
    )?;
    ws.set_row_height(top, 18)?;
    height += 18.0;
    let number = st
        .number
        .clone()
        .set_align(rust_xlsxwriter::FormatAlign::Center);
    for (i, (label, n, note)) in lines.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, 0, label, &st.label)?;
        ws.write_number_with_format(r, 1, *n as f64, &number)?;
        text(ws, r, 2, note, &st.wrap)?;
        let h = fit(&[(note, WIDTHS[2])]);
        ws.set_row_height(r, h)?;
        height += h;
    }

    // For decision.
    let mut r = top + 2 + lines.len() as u32;
    ws.write_with_format(
        r,
        0,
        format!("For decision ({})", review.decisions.len()),
        &st.section,
    )?;
    ws.set_row_height(r, 20)?;
    r += 1;
    let rules = rules_text(review);
    super::styles::note(ws, r, &rules, &WIDTHS, &st.note)?;
    height += 20.0 + 18.0 + 32.0 + crate::xlsx::wrapped_height(&rules, WIDTHS.iter().sum());
    r += 1;
    let list_top = r;
    table(
        ws,
        st,
        r,
        &[
            "Partnership".into(),
            format!("Overall % {y}"),
            "Why it needs a decision".into(),
            "Proposed action".into(),
            "Assistant Director".into(),
        ],
        review.decisions.len(),
        "ForDecision",
    )?;
    ws.set_row_height(r, 32)?;
    for d in &review.decisions {
        r += 1;
        let row = &review.rows[d.row];
        let name = format!("{} ({})", row.partnership.name, row.partnership.id);
        let score = match (row.overall, row.band.as_deref()) {
            (Some(o), Some(b)) => format!("{o:.1} {b}"),
            (Some(o), None) => format!("{o:.1}"),
            _ => "no score".into(),
        };
        let mut why = d
            .reasons
            .iter()
            .map(|x| x.words(y))
            .collect::<Vec<_>>()
            .join("; ");
        if row.expected.as_deref() == Some(review.scored.id.as_str()) || !row.by_year.is_empty() {
            why.push_str(&format!(". Scores: {}", super::decision::evidence(row, y)));
        }
        let action = d.actions().join("; ");
        let ad = &row.partnership.assistant_director;
        text(ws, r, 0, &name, &st.wrap)?;
        text(ws, r, 1, &score, &st.wrap)?;
        text(ws, r, 2, &why, &st.wrap)?;
        text(ws, r, 3, &action, &st.wrap)?;
        text(ws, r, 4, ad, &st.wrap)?;
        let h = fit(&[
            (&name, WIDTHS[0]),
            (&why, WIDTHS[2]),
            (&action, WIDTHS[3]),
            (ad, WIDTHS[4]),
        ]);
        ws.set_row_height(r, h)?;
        height += h;
    }
    if review.decisions.is_empty() {
        ws.write_with_format(r + 1, 0, "No partnership meets a decision rule.", &st.note)?;
    }
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Overview", false, None)?;
    // One page: the headline and the list belong together in a board pack; but a list
    // too long for one page at 8 pt flows onto the next, its header row repeated.
    if height <= ONE_PAGE {
        ws.set_print_fit_to_pages(1, 1);
    } else {
        ws.set_repeat_rows(list_top, list_top)?;
    }
    Ok(())
}

/// "75 and above" / "50 to under 75" / "below 50" for a band label.
pub fn band_range(review: &Review, label: &str) -> String {
    let mut bands: Vec<&crate::template::Band> = review.scored.bands.iter().collect();
    bands.sort_by(|a, b| b.min.total_cmp(&a.min));
    let Some(i) = bands.iter().position(|b| b.label == label) else {
        return String::new();
    };
    let lo = bands[i].min;
    let range = match (i, lo > 0.0) {
        (0, _) => format!("{lo:.0} and above"),
        (_, true) => format!("{lo:.0} to under {:.0}", bands[i - 1].min),
        (_, false) => format!("below {:.0}", bands[i - 1].min),
    };
    format!("Overall score {range}.")
}

/// The rules in force, in words, from the rule table.
fn rules_text(review: &Review) -> String {
    let cx = super::decision::Context {
        year: review.year,
        scored_id: &review.scored.id,
        lowest_band: review.lowest_band(),
        as_of: review.as_of,
    };
    let parts: Vec<String> = super::decision::Rule::ALL
        .iter()
        .filter_map(|r| r.words(&review.rules, &cx))
        .collect();
    if parts.is_empty() {
        return "No decision rules are in use.".into();
    }
    format!(
        "A partnership is listed when it meets any of these rules, weakest first: {}.",
        parts.join("; ")
    )
}

/// "of 13 owing a self-assessment.", and where imported history scores partnerships
/// that owe another form now (exiting or proposed), how many of each.
fn scored_text(h: &super::figures::Headline) -> String {
    let other = h.scored - h.scored_owing;
    if other == 0 {
        return format!("of {} owing a self-assessment.", h.assessments_expected);
    }
    format!(
        "{} of the {} owing a self-assessment, and {other} that owe another form now (exiting or proposed), scored in imported history.",
        h.scored_owing, h.assessments_expected
    )
}
