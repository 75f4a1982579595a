//! Exits and New partnerships: each return in full, one block per partnership.
//! Numbers (money) and dates are written as numbers and dates, not text.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::styles::{print_setup, text, Styles};
use crate::register::Partnership;
use crate::store::ReturnRow;
use crate::template::{Layout, QuestionType, Template};
use crate::xlsx::{excel_date, fit};

const Q: f64 = 44.0;
const A: f64 = 60.0;

/// An answer line: the question, and its answer as text, number or date.
enum Answer {
    Text(String),
    Number(f64, bool),
    Date(chrono::NaiveDate),
}

/// One block per return: a heading line for the partnership, then a row per question
/// (question | answer, with evidence under the answer), then any extra lines.
fn answer_blocks(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    returns: &[(Partnership, ReturnRow)],
    mut r: u32,
    extra: &dyn Fn(&ReturnRow) -> Vec<(String, String)>,
) -> anyhow::Result<u32> {
    ws.set_column_width(0, Q)?;
    ws.set_column_width(1, A)?;
    for (p, ret) in returns {
        let head = format!("{} – {}", p.id, p.name);
        let who = format!(
            "Lead officer: {} · Assistant Director: {}",
            p.lead_officer, p.assistant_director
        );
        text(ws, r, 0, &head, &st.header)?;
        text(ws, r, 1, &who, &st.header)?;
        ws.set_row_height(r, fit(&[(&head, Q), (&who, A)]).max(20.0))?;
        r += 1;
        let mut lines: Vec<(String, Answer)> = extra(ret)
            .into_iter()
            .map(|(q, a)| (q, Answer::Text(a)))
            .collect();
        for s in template
            .sections
            .iter()
            .filter(|s| !matches!(s.layout, Layout::Risks { .. }))
        {
            for q in &s.questions {
                let (value, _, evidence) = ret.answers.get(&q.id).cloned().unwrap_or_default();
                let typed = match q.kind {
                    _ if !evidence.is_empty() => None,
                    QuestionType::Number => value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .map(|n| Answer::Number(n, q.text.contains('£'))),
                    QuestionType::Date => crate::register::parse_date(&value).map(Answer::Date),
                    _ => None,
                };
                let shown = typed.unwrap_or_else(|| {
                    Answer::Text(if evidence.is_empty() {
                        value
                    } else {
                        format!("{value}\n{evidence}")
                    })
                });
                lines.push((q.text.clone(), shown));
            }
        }
        for (q, a) in lines {
            text(ws, r, 0, &q, &st.wrap)?;
            let h = match &a {
                Answer::Text(t) => {
                    text(ws, r, 1, t, &st.wrap)?;
                    fit(&[(&q, Q), (t, A)])
                }
                Answer::Number(n, money) => {
                    ws.write_number_with_format(
                        r,
                        1,
                        *n,
                        if *money { &st.money } else { &st.text },
                    )?;
                    fit(&[(&q, Q)])
                }
                Answer::Date(d) => {
                    ws.write_datetime_with_format(r, 1, excel_date(*d)?, &st.date)?;
                    fit(&[(&q, Q)])
                }
            };
            ws.set_row_height(r, h)?;
            r += 1;
        }
        r += 1;
    }
    Ok(r)
}

pub fn exits_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Exits")?;
    super::styles::title(ws, st, review, "Exit documents received", "Partnerships the council is leaving: why, what was achieved, lessons, and the exit arrangements (the toolkit requires them in the annual review).", &[Q, A])?;
    match review.templates.iter().find(|t| t.id == "exit") {
        Some(t) if !review.exits.is_empty() => {
            answer_blocks(ws, st, t, &review.exits, 3, &|_| Vec::new())?;
        }
        _ => {
            ws.write_with_format(
                3,
                0,
                "No exit documents have been received this year.",
                &st.note,
            )?;
        }
    }
    ws.set_column_width(0, Q)?;
    ws.set_column_width(1, A)?;
    print_setup(ws, review, "Exits", false, None)?;
    Ok(())
}

pub fn new_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("New partnerships")?;
    super::styles::title(ws, st, review, "New partnership questions received", "For each proposed partnership: its risks (likelihood × impact), its answers, and where it stands on each step of the Partnership Model. Received is not approved: the Leadership Team decides.", &[Q, A])?;
    ws.set_column_width(0, Q)?;
    ws.set_column_width(1, A)?;
    print_setup(ws, review, "New partnerships", false, None)?;
    let Some(t) = review.templates.iter().find(|t| t.id == "new-partnership") else {
        return Ok(());
    };
    if review.new_partnerships.is_empty() {
        ws.write_with_format(
            3,
            0,
            "No new-partnership forms have been received this year.",
            &st.note,
        )?;
        return Ok(());
    }
    let extra = |ret: &ReturnRow| -> Vec<(String, String)> {
        let risks = super::row::risk_rows(ret);
        let highest = risks
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or("No risks recorded".to_string(), |(n, s, rating)| {
                format!("{} ({rating}), risk {n}", crate::read::format_number(*s))
            });
        let counts = t
            .risk_ratings
            .iter()
            .map(|b| {
                format!(
                    "{} {}",
                    risks.iter().filter(|r| r.2 == b.label).count(),
                    b.label
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut lines = vec![
            ("Highest risk score".to_string(), highest),
            ("Risks by rating".to_string(), counts),
        ];
        for (n, score, rating) in risks {
            let a = |f: &str| {
                ret.answers
                    .get(&format!("risks_{n}_{f}"))
                    .map(|a| a.0.clone())
                    .unwrap_or_default()
            };
            let mut text = format!(
                "{}: likelihood {} × impact {} = {} ({rating})",
                a("risk"),
                a("likelihood"),
                a("impact"),
                crate::read::format_number(score)
            );
            if !a("mitigation").is_empty() {
                text.push_str(&format!("; managed by: {}", a("mitigation")));
            }
            if !a("owner").is_empty() {
                text.push_str(&format!("; owner: {}", a("owner")));
            }
            lines.push((format!("Risk {n}"), text));
        }
        lines
    };
    answer_blocks(ws, st, t, &review.new_partnerships, 3, &extra)?;
    // One proposal is about a page: kept on one (at no less than 8 pt) for the pack.
    if review.new_partnerships.len() == 1 {
        ws.set_print_fit_to_pages(1, 1);
    }
    Ok(())
}
