//! Overview: the first sheet, on one A4 page. The headline figures, the band
//! thresholds, and the partnerships that need a decision, weakest first, with reasons.

use rust_xlsxwriter::Worksheet;

use super::figures::{headline, STEADY_POINTS};
use super::gather::Review;
use super::styles::{print_setup, table, text, Styles};
use crate::xlsx::fit;

/// Column widths (characters): label, number, notes. Portrait A4 at full size.
const WIDTHS: [f64; 3] = [36.0, 12.0, 50.0];

/// The most content (points) that fits on one portrait A4 page (756 pt inside the
/// margins) with 11 pt text scaled to no less than 8 pt.
const ONE_PAGE: f64 = 756.0 * 11.0 / 8.0;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Overview")?;
    let y = review.year;
    let py = y - 1;
    let h = headline(&review.rows, &review.scored);
    ws.write_with_format(0, 0, format!("Partnership review {y}: overview"), &st.title)?;
    ws.set_row_height(0, 24)?;
    let as_of = review
        .generated_at
        .as_deref()
        .map_or("no returns ingested yet".to_string(), super::readable_time);
    let sub = format!(
        "{}. Data as of {as_of}. The other sheets give the detail; docs/review.md explains every figure.",
        review.council
    );
    super::styles::note(ws, 1, &sub, &WIDTHS, &st.subtitle)?;

    let closed = review.rows.iter().filter(|r| !r.in_review()).count();
    let mut lines: Vec<(String, usize, String)> = vec![
        (
            "Partnerships in the review".into(),
            h.in_review,
            format!(
                "Every partnership in the register that owes a form this year{}.",
                if closed > 0 {
                    format!(" ({closed} closed left out)")
                } else {
                    String::new()
                }
            ),
        ),
        (
            "Forms received".into(),
            h.received,
            format!(
                "of {} due (a self-assessment from each respondent: the lead officer and each partner; exit documents and new-partnership questions).",
                h.forms_due
            ),
        ),
        (
            "Self-assessments scored".into(),
            h.scored,
            format!("of {} due.", h.assessments_expected),
        ),
    ];
    for (label, n) in &h.bands {
        lines.push((format!("{label} band"), *n, band_range(review, label)));
    }
    let like = format!(
        "of the {} scored in both {py} and {y} (like for like).",
        h.compared
    );
    lines.extend([
        (
            format!("Improved on {py}"),
            h.improved,
            format!("Up {STEADY_POINTS:.0} point or more, {like}"),
        ),
        (
            format!("Declined on {py}"),
            h.declined,
            format!("Down {STEADY_POINTS:.0} point or more, {like}"),
        ),
        (
            "Steady".into(),
            h.steady,
            format!("Within {STEADY_POINTS:.0} point either way, {like}"),
        ),
        (
            "Outstanding".into(),
            h.outstanding,
            {
                let partial = review.rows.iter().filter(|r| r.is_partial()).count();
                if partial == 0 {
                    "Not returned, or returned with problems to correct: see the Outstanding sheet.".into()
                } else {
                    format!(
                        "Not returned, or returned with problems to correct: see the Outstanding sheet. It also lists the partners still to return for {partial} partnership{} scored from some of their respondents.",
                        if partial == 1 { "" } else { "s" }
                    )
                }
            },
        ),
        (
            "Exiting".into(),
            h.exiting,
            format!(
                "{} exit document{} received: see Exits.",
                h.exit_documents,
                if h.exit_documents == 1 { "" } else { "s" }
            ),
        ),
        (
            "New proposals".into(),
            h.proposals,
            format!(
                "{} new-partnership form{} received: see New partnerships.",
                h.proposal_forms,
                if h.proposal_forms == 1 { "" } else { "s" }
            ),
        ),
    ]);
    // The rows' heights so far (title, note, blank row), for the one-page decision.
    let mut height = 24.0 + 15.0 + 15.0 + 2.0 * 15.0;
    let top = 3;
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
        let why = d
            .reasons
            .iter()
            .map(|x| x.words(y))
            .collect::<Vec<_>>()
            .join("; ");
        text(ws, r, 0, &name, &st.wrap)?;
        text(ws, r, 1, &score, &st.text)?;
        text(ws, r, 2, &why, &st.wrap)?;
        let h = fit(&[(&name, WIDTHS[0]), (&why, WIDTHS[2])]);
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
    format!("Self-assessments with an overall score {range}.")
}

/// The rules in force, in words.
fn rules_text(review: &Review) -> String {
    let rules = &review.rules;
    let y = review.year;
    let mut parts = Vec::new();
    if rules.lowest_band {
        if let Some((band, below)) = review.lowest_band() {
            parts.push(format!(
                "overall score in the {band} band (below {below:.0})"
            ));
        }
    }
    if rules.decline_points > 0.0 {
        parts.push(format!(
            "overall down {} points or more on {}",
            crate::read::format_number(rules.decline_points),
            y - 1
        ));
    }
    if rules.down_two_years {
        parts.push("overall down two years running".into());
    }
    if !rules.stages.is_empty() {
        parts.push(format!("life-cycle stage {}", rules.stages.join(" or ")));
    }
    if rules.no_accepted_return {
        parts.push(format!("no accepted self-assessment in {y} or {}", y - 1));
    }
    if rules.exit_within_months > 0 {
        parts.push(format!(
            "leaving within {} months (or on a date not known) with no accepted exit document",
            rules.exit_within_months
        ));
    }
    if parts.is_empty() {
        return "No decision rules are switched on ([decision] in ptk.toml).".into();
    }
    format!(
        "A partnership is listed when it meets any of these rules ([decision] in ptk.toml), weakest first: {}.",
        parts.join("; ")
    )
}
