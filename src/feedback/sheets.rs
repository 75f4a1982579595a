//! A feedback on two portrait A4 pages: "Your scores" (scores against last year and
//! the council's average, strongest and weakest statements) and "For discussion"
//! (where the respondents differ, questions to discuss, what they wrote, what happens
//! next). Each table has a marked header row; changes carry an arrow, never colour
//! alone; notes merge across columns only above or below a table, never over data.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook, Worksheet};

use super::Feedback;
use crate::report::disagreement::answers_text;
use crate::report::styles::{self, change, opt_pct, table_at, text, Styles};
use crate::xlsx::{fit, header_text, wrapped_height};

/// The most content (points) one portrait A4 page holds (756 pt inside the margins)
/// with 11 pt text scaled to no less than 8 pt.
const ONE_PAGE: f64 = 756.0 * 11.0 / 8.0;

/// Column widths (characters) of "Your scores": part, name, then five figures.
const SCORE_WIDTHS: [f64; 7] = [9.0, 35.0, 10.0, 13.0, 11.0, 13.0, 13.0];
/// Column widths of "For discussion": question, statement, spread, answers, notes;
/// "What you told us" uses the last four: respondent, stage, achieved, support.
const TALK_WIDTHS: [f64; 5] = [9.0, 25.0, 11.0, 42.0, 20.0];

/// The feedback workbook of one partnership, ready to save.
pub fn workbook(fb: &Feedback) -> anyhow::Result<Workbook> {
    let mut wb = Workbook::new();
    wb.set_default_format(&styles::base(), 19, 72)?;
    wb.set_properties(&properties(
        &format!("Partnership feedback {}: {}", fb.year, fb.partnership),
        &fb.council,
        fb.generated_at.as_deref(),
    )?);
    let st = Styles::default();
    scores_sheet(wb.add_worksheet(), &st, fb, "Your scores", "")?;
    discussion_sheet(wb.add_worksheet(), &st, fb, "For discussion", "")?;
    if super::objectives_sheet::wanted(fb) {
        let ws = wb.add_worksheet();
        super::objectives_sheet::sheet(ws, &st, fb, "Objectives and actions", "")?;
    }
    wb.worksheet_from_index(0)?.set_active(true);
    Ok(wb)
}

/// Document properties with a creation time from the store (the latest ingest), so the
/// same store gives the same bytes.
pub fn properties(title: &str, council: &str, at: Option<&str>) -> anyhow::Result<DocProperties> {
    let created = at
        .and_then(|s| ExcelDateTime::parse_from_str(s).ok())
        .unwrap_or(ExcelDateTime::from_ymd(2000, 1, 1)?);
    Ok(DocProperties::new()
        .set_title(title)
        .set_author(council)
        .set_company(council)
        .set_creation_datetime(&created))
}

/// "2 points" / "1.5 points" / "1 point".
pub fn points(v: f64) -> String {
    let n = crate::read::format_number(v);
    format!("{n} point{}", if v == 1.0 { "" } else { "s" })
}

/// A4 portrait, one page wide, the partnership in the header, page numbers below.
pub(super) fn page_setup(ws: &mut Worksheet, fb: &Feedback, sheet: &str) {
    ws.set_portrait();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&R{}",
        header_text(&fb.council),
        header_text(&fb.partnership)
    ));
    ws.set_footer(format!(
        "&LPartnership feedback {}&CPage &P of &N&R{}",
        fb.year,
        header_text(sheet)
    ));
}

/// A change whose respondents changed: "−1.8", no arrow, no colour (the overall
/// score's label and the note say why).
fn changed_format(st: &Styles) -> rust_xlsxwriter::Format {
    st.text.clone().set_num_format("\"+\"0.0;\"−\"0.0;0.0")
}

/// A heading row.
pub(super) fn heading(ws: &mut Worksheet, st: &Styles, r: u32, s: &str) -> anyhow::Result<()> {
    ws.write_with_format(r, 0, s, &st.section)?;
    ws.set_row_height(r, 22)?;
    Ok(())
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
        assert_eq!(points(1.0), "1 point");
        assert_eq!(points(2.0), "2 points");
    }
}
