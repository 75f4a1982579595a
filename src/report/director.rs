//! A page per Assistant Director: each of their partnerships with its score, band,
//! change, trend, stage (minority views named), any decision reasons with the action
//! proposed, and the partnership's own words (the template's `in_review` answers),
//! printed in full. [`page`] takes one Assistant Director's rows, so the same page can
//! go into another workbook (an Assistant Director's own pack).

use rust_xlsxwriter::Worksheet;

use super::decision::{self, Decision};
use super::gather::Review;
use super::row::Row;
use super::styles::{print_setup, text, Styles};
use crate::xlsx::fit;

/// Column widths (characters): what, then the text. Portrait A4.
const WIDTHS: [f64; 2] = [26.0, 70.0];

/// Longest piece of an answer in one cell: a row prints at most 409 points high, so a
/// longer answer continues on the rows below and always prints whole.
const PIECE: usize = 1200;

/// Every Assistant Director in the register with a partnership in the review, in name
/// order, with their rows' indexes.
pub fn directors(review: &Review) -> Vec<(String, Vec<usize>)> {
    let mut by: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, r) in review
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.in_review())
    {
        let ad = r.partnership.assistant_director.trim();
        let ad = if ad.is_empty() {
            "No Assistant Director named"
        } else {
            ad
        };
        by.entry(ad.to_string()).or_default().push(i);
    }
    by.into_iter().collect()
}

/// A sheet name for an Assistant Director's page: "AD Marcus Hill", at most 31
/// characters, without the characters Excel forbids.
pub fn sheet_name(ad: &str) -> String {
    let clean: String = ad
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\' | '\''))
        .collect();
    format!("AD {clean}").chars().take(31).collect()
}

/// Writes one Assistant Director's page: `rows` are theirs, `decisions` the review's.
pub fn page(
    ws: &mut Worksheet,
    st: &Styles,
    review: &Review,
    ad: &str,
    rows: &[&Row],
    decisions: &[(&Row, &Decision)],
) -> anyhow::Result<()> {
    let name = sheet_name(ad);
    ws.set_name(&name)?;
    let y = review.year;
    text(ws, 0, 0, &format!("{ad}: partnerships {y}"), &st.title)?;
    ws.set_row_height(0, 24)?;
    let listed = decisions.len();
    let sub = format!(
        "{} partnership{} in the review; {listed} for decision. In each partnership's own words: what it achieved this year and the support it asks for.",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    super::styles::note(ws, 1, &sub, &WIDTHS, &st.subtitle)?;
    let mut r = 3u32;
    // The page's height at full size, to print it on one page where 8 pt allows.
    let mut height = 24.0 + 2.0 * 15.0 + 15.0;
    for row in rows {
        let p = row.partnership;
        text(ws, r, 0, &format!("{} ({})", p.name, p.id), &st.section)?;
        ws.set_row_height(r, 20)?;
        height += 20.0 + 15.0;
        r += 1;
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut score = row.state.label().to_string();
        if let Some(o) = row.overall {
            score = format!("{o:.1}%");
            if let Some(b) = &row.band {
                score.push_str(&format!(" {b}"));
            }
            if let Some((lo, hi)) = row.respondent_range {
                score.push_str(&format!(
                    " (mean of its respondents' returns, {lo:.1} to {hi:.1})"
                ));
            }
            if let Some(c) = row.change() {
                score.push_str(&format!("; {c:+.1} on {}", y - 1));
                if row.respondents_changed() {
                    score.push_str(" (respondents changed: not counted as improved or declined)");
                }
            }
        }
        lines.push((format!("{y}"), score));
        if row.overall.is_some() || !row.by_year.is_empty() {
            lines.push(("Scores by year".into(), decision::evidence(row, y)));
        }
        if let Some(stage) = stage_text(row) {
            lines.push(("Life-cycle stage".into(), stage));
        }
        if let Some((_, d)) = decisions.iter().find(|(x, _)| std::ptr::eq(*x, *row)) {
            let why = d
                .reasons
                .iter()
                .map(|x| x.words(y))
                .collect::<Vec<_>>()
                .join("; ");
            lines.push(("For decision".into(), why));
            lines.push(("Proposed action".into(), d.actions().join("; ")));
        }
        lines.extend(objective_lines(review, &p.id));
        for (question, answers) in &row.words {
            let owes_these = row.expected.as_deref() == Some(review.scored.id.as_str());
            if answers.is_empty() && row.state.is_received() && owes_these {
                lines.push((question.clone(), "(no answer)".into()));
            }
            for (who, answer) in answers {
                let said = if row.respondents.len() > 1 || answers.len() > 1 {
                    format!("{who}: {answer}")
                } else {
                    answer.clone()
                };
                for (i, piece) in pieces(&said).into_iter().enumerate() {
                    let label = if i == 0 {
                        question.clone()
                    } else {
                        "(continued)".into()
                    };
                    lines.push((label, piece));
                }
            }
        }
        for (label, value) in &lines {
            text(ws, r, 0, label, &st.wrap)?;
            text(ws, r, 1, value, &st.wrap)?;
            let h = fit(&[(label, WIDTHS[0]), (value, WIDTHS[1])]);
            ws.set_row_height(r, h)?;
            height += h;
            r += 1;
        }
        r += 1;
    }
    if rows.is_empty() {
        ws.write_with_format(
            3,
            0,
            "No partnership of theirs is in this year's review.",
            &st.note,
        )?;
    }
    for (c, w) in WIDTHS.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, &name, false, None)?;
    // 756 pt of portrait A4 inside the margins, at no less than 8 pt for 11 pt text.
    if height <= 756.0 * 11.0 / 8.0 {
        ws.set_print_fit_to_pages(1, 1);
    }
    Ok(())
}

/// Objectives by progress with the At risk ones named, and the actions agreed for
/// weak statements (this year's, due; last year's, with the statement's answer now).
fn objective_lines(review: &Review, id: &str) -> Vec<(String, String)> {
    let Some(o) = review.objectives.get(id) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if !o.objectives.is_empty() {
        lines.push(("Objectives".into(), o.counts_words()));
    }
    for text in &o.summary.at_risk {
        lines.push((crate::objectives::AT_RISK.into(), text.clone()));
    }
    let statement = |q: &str| {
        let number = Review::form_number(&review.scored, q).unwrap_or_else(|| q.to_string());
        let text = review.scored.question(q).map_or("", |q| q.text.as_str());
        format!("{number} {}", text.trim_end_matches('.'))
    };
    for a in &o.due {
        lines.push((
            "Action due".into(),
            format!("{}: {}", statement(&a.question_id), a.words()),
        ));
    }
    for a in &o.last_year {
        let now = a.now.as_deref().unwrap_or("not answered");
        lines.push((
            format!("Action agreed in {}", a.year),
            format!("{}: {}. Now: {now}", statement(&a.question_id), a.words()),
        ));
    }
    lines
}

/// The stage and any other views: "Functioning (Essex Police: Frustration)".
fn stage_text(row: &Row) -> Option<String> {
    let main = row.stage.clone()?;
    let others: Vec<String> = row
        .stages
        .iter()
        .filter(|(_, s)| !s.eq_ignore_ascii_case(&main))
        .map(|(w, s)| format!("{w}: {s}"))
        .collect();
    Some(if others.is_empty() {
        main
    } else {
        format!("{main} (most common answer; {})", others.join("; "))
    })
}

/// An answer cut at word boundaries into pieces short enough for one printed row.
fn pieces(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in s.split_inclusive(char::is_whitespace) {
        if cur.chars().count() + word.chars().count() > PIECE && !cur.is_empty() {
            out.push(cur.trim_end().to_string());
            cur.clear();
        }
        cur.push_str(word);
    }
    if !cur.trim().is_empty() || out.is_empty() {
        out.push(cur.trim_end().to_string());
    }
    out
}

/// Writes every Assistant Director's page into `wb`.
pub fn pages(
    wb: &mut rust_xlsxwriter::Workbook,
    st: &Styles,
    review: &Review,
) -> anyhow::Result<()> {
    for (ad, idx) in directors(review) {
        let rows: Vec<&Row> = idx.iter().map(|i| &review.rows[*i]).collect();
        let decisions: Vec<(&Row, &Decision)> = review
            .decisions
            .iter()
            .filter(|d| idx.contains(&d.row))
            .map(|d| (&review.rows[d.row], d))
            .collect();
        page(wb.add_worksheet(), st, review, &ad, &rows, &decisions)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_answers_are_cut_at_words_and_kept_whole() {
        let long = "word ".repeat(700);
        let p = pieces(&long);
        assert!(p.len() >= 3);
        assert!(p.iter().all(|x| x.chars().count() <= PIECE));
        assert_eq!(p.join(" "), long.trim_end());
        assert_eq!(pieces("short"), ["short"]);
        assert_eq!(sheet_name("A/B: [C]"), "AD AB C");
        assert_eq!(sheet_name(&"x".repeat(40)).chars().count(), 31);
    }
}
