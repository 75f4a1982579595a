//! "For discussion": the agenda for the partnership's own discussion: where the
//! respondents differ, questions fitted to its answers, what each respondent wrote, and
//! what happens next.

use rust_xlsxwriter::Worksheet;

use super::page::{heading, page_setup, points, ONE_PAGE};
use super::Feedback;
use crate::report::disagreement::answers_text;
use crate::report::styles::{self, table_at, text, Styles};
use crate::xlsx::{fit, wrapped_height};

/// Column widths of "For discussion": question, statement, spread, answers, notes;
/// "What you told us" uses the last four: respondent, stage, achieved, support.
const TALK_WIDTHS: [f64; 5] = [9.0, 25.0, 11.0, 42.0, 20.0];

/// The second page: the agenda for the partnership's own discussion.
pub fn discussion_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    fb: &Feedback,
    name: &str,
    tag: &str,
) -> anyhow::Result<()> {
    ws.set_name(name)?;
    let w = &TALK_WIDTHS;
    let y = fb.year;
    let line = styles::base()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    ws.write_with_format(
        0,
        0,
        format!("{}: for your discussion", fb.partnership),
        &st.title,
    )?;
    ws.set_row_height(0, 24)?;
    let sub = "An agenda for your partnership's own meeting: where your respondents see things differently, questions to talk through, and what you told us.";
    styles::note(ws, 1, sub, w, &st.subtitle)?;
    // The rows' heights (points), to print on one page where that keeps text >= 8 pt.
    let note_h = |s: &str| wrapped_height(s, w.iter().sum::<f64>() * 0.95);
    let mut h = 24.0 + note_h(sub) + 15.0 + 22.0;

    let mut r = 3;
    heading(ws, st, r, "Where your respondents see things differently")?;
    r += 1;
    let threshold = points(fb.threshold);
    let intro = if fb.disagreements.is_empty() {
        if fb.said.len() < 2 && fb.due > 1 {
            format!(
                "Only one of your {} respondents' forms is in for {y}, so there are no views to compare yet.",
                fb.due
            )
        } else if fb.said.len() < 2 {
            format!("One form was completed for your partnership in {y}, so there are no views to compare. Next year each partner can complete their own (tell us who they are), and this page will show where you see things differently.")
        } else {
            format!(
                "Your respondents' answers are less than {threshold} apart on every statement: you broadly agree."
            )
        }
    } else {
        format!(
            "The statements on which your respondents' answers are {threshold} or more apart, largest difference first. Not applicable and blank answers are shown but not compared. The last column is for your notes."
        )
    };
    styles::note(ws, r, &intro, w, &st.note)?;
    h += note_h(&intro);
    if !fb.disagreements.is_empty() {
        r += 1;
        let headers: Vec<String> = vec![
            "Question".into(),
            "Statement (as on the form)".into(),
            "Spread (points)".into(),
            "Each respondent's answer".into(),
            "Notes from your discussion".into(),
        ];
        table_at(
            ws,
            st,
            r,
            0,
            &headers,
            fb.disagreements.len(),
            &format!("Differences{tag}"),
        )?;
        ws.set_row_height(r, 32)?;
        h += 32.0;
        for d in &fb.disagreements {
            r += 1;
            let answers = answers_text(d);
            text(ws, r, 0, &d.number, &st.text)?;
            text(ws, r, 1, &d.text, &st.wrap)?;
            ws.write_number_with_format(r, 2, d.spread, &st.number)?;
            text(ws, r, 3, &answers, &st.wrap)?;
            text(ws, r, 4, "", &st.wrap)?;
            let rh = fit(&[(&d.text, w[1] * 1.1), (&answers, w[3] * 1.1)]);
            ws.set_row_height(r, rh)?;
            h += rh;
        }
    }

    r += 2;
    heading(ws, st, r, "Questions to discuss")?;
    h += 15.0 + 22.0;
    for q in questions(fb) {
        r += 1;
        styles::note(ws, r, &q, w, &line)?;
        h += note_h(&q);
    }

    r += 2;
    heading(ws, st, r, "What you told us")?;
    r += 1;
    h += write_said(ws, st, r, fb, tag)? + 15.0 + 22.0;
    r += 1 + fb.said.len().max(1) as u32;

    r += 1;
    heading(ws, st, r, "What happens next")?;
    h += 15.0 + 22.0;
    for text_line in next_steps(fb) {
        r += 1;
        styles::note(ws, r, &text_line, w, &line)?;
        h += note_h(&text_line);
    }
    for (c, width) in w.iter().enumerate() {
        ws.set_column_width(c as u16, *width)?;
    }
    page_setup(ws, fb, name);
    if h <= ONE_PAGE {
        ws.set_print_fit_to_pages(1, 1);
    }
    Ok(())
}

/// "What you told us": one row per respondent who returned a form, in columns B–E.
fn write_said(
    ws: &mut Worksheet,
    st: &Styles,
    r: u32,
    fb: &Feedback,
    tag: &str,
) -> anyhow::Result<f64> {
    let w = &TALK_WIDTHS;
    let headers: Vec<String> = vec![
        "Respondent".into(),
        "Life-cycle stage".into(),
        fb.achieved_question.clone(),
        fb.support_question.clone(),
    ];
    table_at(ws, st, r, 1, &headers, fb.said.len(), &format!("Said{tag}"))?;
    let mut h = fit(&[(&headers[2], w[3]), (&headers[3], w[4])]).max(32.0);
    ws.set_row_height(r, h)?;
    let blank = |s: &str| -> String {
        if s.is_empty() {
            "(left blank)".into()
        } else {
            s.to_string()
        }
    };
    for (i, s) in fb.said.iter().enumerate() {
        let row = r + 1 + i as u32;
        text(ws, row, 1, &s.who, &st.wrap)?;
        text(ws, row, 2, &blank(&s.stage), &st.wrap)?;
        text(ws, row, 3, &blank(&s.achieved), &st.wrap)?;
        text(ws, row, 4, &blank(&s.support), &st.wrap)?;
        let rh = fit(&[
            (&s.who, w[1] * 1.1),
            (&s.stage, w[2]),
            (&s.achieved, w[3] * 1.1),
            (&s.support, w[4] * 1.1),
        ]);
        ws.set_row_height(row, rh)?;
        h += rh;
    }
    Ok(h)
}

/// The discussion questions, fitted to what the partnership's answers show.
pub fn questions(fb: &Feedback) -> Vec<String> {
    let mut q = Vec::new();
    if !fb.disagreements.is_empty() {
        let nums: Vec<&str> = fb.disagreements.iter().map(|d| d.number.as_str()).collect();
        q.push(format!(
            "Why do we see {} {} differently? What does each of us know that the others may not?",
            if nums.len() == 1 {
                "statement"
            } else {
                "statements"
            },
            join_and(&nums)
        ));
    }
    if !fb.weakest.is_empty() {
        let nums: Vec<&str> = fb.weakest.iter().map(|s| s.number.as_str()).collect();
        q.push(format!(
            "What would move {} {} up a point by next year's review, and who will do it?",
            if nums.len() == 1 {
                "statement"
            } else {
                "statements"
            },
            join_and(&nums)
        ));
    } else {
        q.push("What would move our lowest-scoring statements up a point by next year's review, and who will do it?".into());
    }
    let mut stages: Vec<&str> = fb
        .said
        .iter()
        .map(|s| s.stage.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    stages.sort();
    stages.dedup();
    if stages.len() > 1 {
        q.push(format!(
            "You named different life-cycle stages ({}): which stage is the partnership in, and what would move it on?",
            stages.join(", ")
        ));
    } else {
        q.push("Is the life-cycle stage you named right, and what would move the partnership to the next one?".into());
    }
    q.push("Which support would help most, and from whom?".into());
    q.iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect()
}

/// "1.1, 2.3 and 4.1".
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Who sees the review, when, and whom to ask.
pub fn next_steps(fb: &Feedback) -> Vec<String> {
    let ad = if fb.assistant_director.is_empty() {
        "your Assistant Director".to_string()
    } else {
        format!("your Assistant Director ({})", fb.assistant_director)
    };
    let when = match (&fb.next.review_date, &fb.next.deadline) {
        (Some(d), _) => format!(" on {d}"),
        (None, Some(d)) => format!(" once every form is in (the deadline is {d})"),
        (None, None) => String::new(),
    };
    let mut lines = vec![
        format!(
            "Your scores are part of the council's partnership review {}, which goes to {ad} and to the Leadership Team{when}. The review shows each partnership's scores; this feedback goes only to your partnership.",
            fb.year
        ),
        "Talk these results through together, agree what you will do before next year's self-assessment, and tell us if the stage or support you asked for changes.".to_string(),
    ];
    if !fb.not_returned.is_empty() {
        lines.push(format!(
            "Not everyone has returned a form yet: your scores may change when {} do.",
            if fb.not_returned.len() == 1 {
                "they"
            } else {
                "the others"
            }
        ));
    }
    if let Some(c) = &fb.next.contact {
        lines.push(format!("Questions about this feedback: {c}."));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feedback() -> Feedback {
        Feedback {
            year: 2026,
            council: "C".into(),
            partnership_id: "P1".into(),
            partnership: "P".into(),
            assistant_director: "Ann Lee".into(),
            band: Some("Amber".into()),
            band_range: "50 to under 75".into(),
            scores: Vec::new(),
            council_n: 0,
            strongest: Vec::new(),
            weakest: Vec::new(),
            disagreements: Vec::new(),
            threshold: 2.0,
            said: vec![
                super::super::Said {
                    who: "A".into(),
                    stage: "Functioning".into(),
                    ..Default::default()
                },
                super::super::Said {
                    who: "B".into(),
                    stage: "Frustration".into(),
                    ..Default::default()
                },
            ],
            stage_question: String::new(),
            achieved_question: String::new(),
            support_question: String::new(),
            returned: 2,
            due: 3,
            not_returned: vec!["C".into()],
            generated_at: None,
            next: super::super::NextSteps {
                review_date: None,
                deadline: Some("29 January 2027".into()),
                contact: Some("p@c.gov.uk".into()),
            },
            respondents_changed: false,
            objectives: None,
            objective_headings: Vec::new(),
            statements: Default::default(),
        }
    }

    #[test]
    fn the_questions_and_next_steps_follow_the_answers() {
        let fb = feedback();
        let q = questions(&fb);
        assert!(
            q[0].starts_with("1. What would move our lowest-scoring"),
            "{q:?}"
        );
        assert!(
            q[1].contains("different life-cycle stages (Frustration, Functioning)"),
            "{q:?}"
        );
        let next = next_steps(&fb);
        assert!(next[0].contains("your Assistant Director (Ann Lee)"));
        assert!(next[0].contains("once every form is in (the deadline is 29 January 2027)"));
        assert!(next
            .iter()
            .any(|l| l.contains("your scores may change when they do")));
        assert_eq!(
            next.last().unwrap(),
            "Questions about this feedback: p@c.gov.uk."
        );
        let mut one = fb.clone();
        one.said.truncate(1);
        assert!(questions(&one)[1].starts_with("2. Is the life-cycle stage you named right"));
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(join_and(&["1.1"]), "1.1");
        assert_eq!(join_and(&["1.1", "2.3", "4.1"]), "1.1, 2.3 and 4.1");
    }
}
