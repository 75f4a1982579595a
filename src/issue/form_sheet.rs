//! A form sheet: the questions of the sections on one sheet, one row each.
//!
//! What an officer types must always be visible, on screen and on paper: every answer
//! is one wrapped cell (never merged), no row has a fixed height (each has a starting
//! height only, so Excel and LibreOffice fit the row to its text as it is typed), and
//! protection still lets the officer resize rows and columns.

use rust_xlsxwriter::{DataValidation, Worksheet};

use super::risk_sheet::write_risk_row;
use super::settings::IssueSettings;
use super::sheet::{dropdown_width, protect, ANSWER_HEADER, EVIDENCE_HEADER};
use super::styles::Styles;
use super::table_sheet;
use super::validation::validation_for;
use crate::contract;
use crate::dates::long_date;
use crate::objectives::Carried;
use crate::register::Partnership;
use crate::respondents::Respondent;
use crate::template::{Layout, Question, QuestionType, Section, Template, ACTION_PARTS};
use crate::xlsx::{header_text, wrapped_height};

/// Column widths (characters) of a question sheet.
const NUMBER_WIDTH: f64 = 7.0;
const QUESTION_WIDTH: f64 = 55.0;
/// The answer column beside an evidence column, and on a sheet without one.
const ANSWER_WIDTH: f64 = 45.0;
const ANSWER_WIDTH_ALONE: f64 = 75.0;
const EVIDENCE_WIDTH: f64 = 45.0;
/// The action columns (what, who, by when) of a sheet whose template sets `action_below`.
const ACTION_WIDTHS: [f64; 3] = [30.0, 14.0, 12.0];
/// Columns of a risk sheet: number, risk, likelihood, impact, score, rating, mitigation, owner.
const R_WIDTHS: [f64; 8] = [5.0, 42.0, 14.0, 14.0, 10.0, 11.0, 40.0, 20.0];

/// The widths of a question sheet: the answer column fits the longest option of any
/// dropdown on it; the evidence column is there only if a question on the sheet asks
/// for evidence.
fn question_widths(template: &Template, sections: &[&Section]) -> Vec<f64> {
    let questions = || sections.iter().flat_map(|s| &s.questions);
    let evidence = questions().any(|q| q.evidence);
    let longest = questions()
        .flat_map(|q| &q.options)
        .map(|o| dropdown_width(&o.label))
        .fold(0.0, f64::max);
    let answer = if evidence {
        ANSWER_WIDTH
    } else {
        ANSWER_WIDTH_ALONE
    };
    let mut widths = vec![NUMBER_WIDTH, QUESTION_WIDTH, answer.max(longest)];
    if evidence {
        widths.push(EVIDENCE_WIDTH);
    }
    if has_actions(template, sections) {
        // Narrower question and evidence columns keep the page legible in print.
        widths[1] = 45.0;
        widths[2] = longest.max(30.0);
        if evidence {
            widths[3] = 35.0;
        }
        widths.extend(ACTION_WIDTHS);
    }
    widths
}

/// Whether a sheet asks for actions: the template sets `action_below` and a statement
/// on the sheet is scored.
fn has_actions(template: &Template, sections: &[&Section]) -> bool {
    template.action_below.is_some()
        && sections
            .iter()
            .flat_map(|s| &s.questions)
            .any(|q| !template.actions_for(&q.id).is_empty())
}

/// "sections 1 to 3", "section 4".
fn section_span(numbers: &[usize]) -> String {
    match (numbers.first(), numbers.last()) {
        (Some(a), Some(b)) if a != b => format!("sections {a} to {b}"),
        (Some(a), _) => format!("section {a}"),
        _ => String::new(),
    }
}

/// The line under a sheet's title that says which sections it holds and where the
/// others are, so a printed page or a single tab makes sense on its own.
pub(super) fn sheet_sections_line(template: &Template, sheet: &str) -> String {
    let numbers_on = |name: &str| -> Vec<usize> {
        (1..)
            .zip(&template.sections)
            .filter(|(_, s)| s.sheet == name)
            .map(|(n, _)| n)
            .collect()
    };
    let total = template.sections.len();
    let here = section_span(&numbers_on(sheet));
    let others: Vec<String> = template
        .sheets()
        .into_iter()
        .filter(|s| *s != sheet)
        .map(|s| format!("{} on the sheet '{s}'", section_span(&numbers_on(s))))
        .collect();
    if others.is_empty() {
        format!("This sheet holds {here} (all {total}).")
    } else {
        format!("This sheet holds {here} of {total}; {}.", others.join("; "))
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn write_form_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    p: &Partnership,
    who: &Respondent,
    settings: &IssueSettings,
    sheet: &str,
    sections: &[&Section],
    carried: &Carried,
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let is_risk = sections
        .iter()
        .any(|s| matches!(s.layout, Layout::Risks { .. }));
    let table = sections.iter().find_map(|s| match &s.layout {
        Layout::Table(t) => Some(t),
        _ => None,
    });
    let no_rows = Vec::new();
    let carried_rows = table
        .and_then(|t| carried.rows.get(&t.id))
        .unwrap_or(&no_rows);
    let actions = has_actions(template, sections);
    let widths: Vec<f64> = if is_risk {
        R_WIDTHS.to_vec()
    } else if let Some(t) = table {
        table_sheet::widths(t)
    } else {
        question_widths(template, sections)
    };
    for (c, w) in (0u16..).zip(&widths) {
        ws.set_column_width(c, *w)?;
    }
    let last_col = (widths.len() - 1) as u16;
    let has_evidence = !is_risk
        && table.is_none()
        && sections
            .iter()
            .flat_map(|s| &s.questions)
            .any(|q| q.evidence);
    ws.set_screen_gridlines(false);
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&R{} {}",
        header_text(&p.name),
        header_text(&template.title),
        settings.year
    ));
    ws.set_footer(format!(
        "&L{}&CPage &P of &N&R{}",
        header_text(&settings.council),
        header_text(sheet)
    ));

    // The heading: one line per row, each running on to the right (no merged cells).
    let mut r: u32 = 0;
    let title = format!("{} {}", template.title, settings.year);
    ws.write_with_format(r, 0, title.as_str(), &st.title)?;
    r += 1;
    ws.write_with_format(r, 0, format!("{} ({})", p.name, p.id), &st.subtitle)?;
    r += 1;
    // Who completes this copy: a partner's form names them as well as the lead officer.
    let details = if who.is_lead() {
        format!(
            "Lead officer: {}   ·   Assistant Director: {}   ·   Business Plan priority: {}",
            p.lead_officer,
            p.assistant_director,
            p.priority.label()
        )
    } else {
        format!(
            "Completed by: {}   ·   Lead officer: {}   ·   Business Plan priority: {}",
            who.label(),
            p.lead_officer,
            p.priority.label()
        )
    };
    ws.write_with_format(r, 0, details.as_str(), &st.line)?;
    r += 1;
    ws.write_with_format(
        r,
        0,
        sheet_sections_line(template, sheet).as_str(),
        &st.line,
    )?;
    r += 1;
    let how: Vec<String> = if let Some(t) = table {
        table_sheet::how(t, carried_rows.len(), carried.from_year)
    } else if is_risk {
        vec!["Fill in the Risk, Likelihood, Impact, How it is managed and Owner columns; Score and Rating fill in themselves.".to_string()]
    } else if has_evidence {
        vec![format!("Answer in the '{ANSWER_HEADER}' column, and add evidence in the '{EVIDENCE_HEADER}' column where it is open; everything else is locked.")]
    } else {
        vec![format!(
            "Answer in the '{ANSWER_HEADER}' column; everything else is locked."
        )]
    };
    // One short line per row, so no line runs on past the last column in print.
    for line in &how {
        ws.write_with_format(r, 0, line.as_str(), &st.line_note)?;
        r += 1;
    }
    if let (true, Some(below)) = (actions, template.action_below) {
        let line = format!(
            "Where you score a statement {} or below, say in the Action columns what will be done, who will do it and by when.",
            crate::read::format_number(below)
        );
        ws.write_with_format(r, 0, line.as_str(), &st.line_note)?;
        r += 1;
    }
    let note = format!(
        "Rows grow as you type (Alt+Enter starts a new line). Please return by {} to {}.",
        long_date(settings.deadline),
        settings.return_address
    );
    ws.write_with_format(r, 0, note.as_str(), &st.line_note)?;
    r += 2;

    let header_row = r;
    let mut headers: Vec<String> = if let Some(t) = table {
        table_sheet::headers(t)
    } else if is_risk {
        [
            "No.",
            "Risk",
            "Likelihood (1–5)",
            "Impact (1–5)",
            "Score (fills in)",
            "Rating (fills in)",
            "How it is managed",
            "Owner",
        ]
        .map(String::from)
        .to_vec()
    } else if has_evidence {
        ["No.", "Question", ANSWER_HEADER, EVIDENCE_HEADER]
            .map(String::from)
            .to_vec()
    } else {
        ["No.", "Question", ANSWER_HEADER]
            .map(String::from)
            .to_vec()
    };
    if actions {
        headers.extend(ACTION_PARTS.map(|(_, h)| h.to_string()));
    }
    for (c, h) in (0u16..).zip(&headers) {
        ws.write_with_format(r, c, h.as_str(), &st.header)?;
    }
    ws.set_row_height(r, 30)?;
    // The header row repeats on every printed page and stays in view when scrolling.
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_freeze_panes(header_row + 1, 0)?;
    r += 1;

    for section in sections {
        let number = template
            .sections
            .iter()
            .position(|s| s.id == section.id)
            .expect("the section is one of the template's")
            + 1;
        let mut title = format!("{number}. {}", section.title);
        if let Some(c) = &section.required_when {
            title.push_str(&format!(
                "  (answer if '{}' is {})",
                short(&question_text(template, &c.question)),
                c.answer
            ));
        }
        ws.write_with_format(r, 0, title.as_str(), &st.section)?;
        for c in 1..=last_col {
            ws.write_blank(r, c, &st.section)?;
        }
        r += 1;
        if let (Some(intro), Some(_)) = (&section.intro, table) {
            // A table's columns are narrow: the intro is a line of its own.
            ws.write_with_format(r, 0, intro.as_str(), &st.line_note)?;
            r += 1;
        } else if let Some(intro) = &section.intro {
            ws.write_with_format(r, 1, intro.as_str(), &st.intro)?;
            ws.set_row_height(r, wrapped_height(intro, QUESTION_WIDTH))?;
            r += 1;
        }
        match section.layout {
            Layout::Questions => {
                for (qi, q) in section.questions.iter().enumerate() {
                    let row = QuestionRow {
                        sheet,
                        r,
                        number: format!("{number}.{}", qi + 1),
                        has_evidence,
                        actions: actions.then(|| template.actions_for(&q.id)),
                        last_action: carried.actions.get(&q.id).map(|a| (carried.from_year, a)),
                    };
                    write_question_row(ws, st, &row, q, cell_map)?;
                    r += 1;
                }
            }
            Layout::Risks { rows, .. } => {
                for n in 1..=rows {
                    let find = |field: &str| {
                        section
                            .questions
                            .iter()
                            .find(|q| q.id == format!("{}_{n}_{field}", section.id))
                            .expect("risk questions are generated for every row")
                    };
                    write_risk_row(ws, st, template, sheet, r, n, &find, cell_map)?;
                    r += 1;
                }
            }
            Layout::Table(ref t) => {
                r = table_sheet::write_table_rows(
                    ws,
                    st,
                    template,
                    sheet,
                    r,
                    t,
                    carried_rows,
                    cell_map,
                )?;
            }
        }
        r += 1;
    }
    protect(ws, settings);
    Ok(())
}

fn question_text(template: &Template, id: &str) -> String {
    template
        .question(id)
        .map_or(id.to_string(), |q| q.text.clone())
}

fn short(s: &str) -> String {
    let s = s.trim_end_matches('?');
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Where one question's row goes.
struct QuestionRow<'a> {
    sheet: &'a str,
    r: u32,
    number: String,
    /// Whether the sheet has an evidence column.
    has_evidence: bool,
    /// On a sheet with action columns: this statement's action cells (none if unscored).
    actions: Option<Vec<&'a Question>>,
    /// The action agreed for this statement last year, shown under it.
    last_action: Option<(i32, &'a crate::objectives::Action)>,
}

fn write_question_row(
    ws: &mut Worksheet,
    st: &Styles,
    row: &QuestionRow<'_>,
    q: &Question,
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let r = row.r;
    ws.write_with_format(r, 0, row.number.as_str(), &st.number)?;
    let text = if q.required {
        q.text.clone()
    } else {
        format!("{} (optional)", q.text)
    };
    let help = match (&q.help, row.last_action) {
        (h, Some((year, a))) => {
            let mut line = format!("Action agreed in {year}: {}", a.what);
            if !a.who.is_empty() {
                line.push_str(&format!(" (who: {})", a.who));
            }
            if !a.by.is_empty() {
                let by = crate::register::parse_date(&a.by).map_or(a.by.clone(), long_date);
                line.push_str(&format!(" (by: {by})"));
            }
            line.push_str(". Say what happened in the evidence column.");
            Some(match h {
                Some(h) => format!("{h}\n{line}"),
                None => line,
            })
        }
        (h, None) => h.clone(),
    };
    match &help {
        Some(help) => {
            let segments = [
                (&st.question.clone(), text.as_str()),
                (&st.help, &*format!("\n{help}")),
            ];
            ws.write_rich_string_with_format(r, 1, &segments, &st.question)?;
        }
        None => {
            ws.write_with_format(r, 1, text.as_str(), &st.question)?;
        }
    }
    // A starting height that shows the question whole and leaves room to write; the
    // row is not fixed (see `rows_grow_with_their_text`), so it grows with the answer.
    let full = match &help {
        Some(h) => format!("{text}\n{h}"),
        None => text.clone(),
    };
    let mut height = wrapped_height(&full, QUESTION_WIDTH);
    if q.kind == QuestionType::Text || q.evidence {
        height = height.max(45.0);
    }
    ws.set_row_height(r, height)?;
    let format = match q.kind {
        QuestionType::Date => &st.answer_date,
        QuestionType::Number => &st.answer_number,
        _ => &st.answer,
    };
    ws.write_blank(r, 2, format)?;
    if let Some(dv) = validation_for(q)? {
        ws.add_data_validation(r, 2, r, 2, &dv)?;
    }
    cell_map.push((q.answer_name(), contract::absolute_ref(row.sheet, r, 2)));
    if q.evidence {
        ws.write_blank(r, 3, &st.evidence)?;
        cell_map.push((
            contract::evidence_name(&q.id),
            contract::absolute_ref(row.sheet, r, 3),
        ));
        let dv = DataValidation::new()
            .allow_any_value()
            .set_input_title(EVIDENCE_HEADER)?
            .set_input_message(
                "Evidence or comments that support your answer. Press Alt+Enter for a new line.",
            )?;
        ws.add_data_validation(r, 3, r, 3, &dv)?;
    } else if row.has_evidence {
        ws.write_with_format(r, 3, "Not asked for this question", &st.no_evidence)?;
    }
    if let Some(actions) = &row.actions {
        let first: u16 = if row.has_evidence { 4 } else { 3 };
        for (i, col) in (first..first + ACTION_PARTS.len() as u16).enumerate() {
            match actions.get(i) {
                Some(a) => {
                    let format = if a.kind == QuestionType::Date {
                        &st.answer_date
                    } else {
                        &st.evidence
                    };
                    ws.write_blank(r, col, format)?;
                    if let Some(dv) = validation_for(a)? {
                        ws.add_data_validation(r, col, r, col, &dv)?;
                    }
                    cell_map.push((a.answer_name(), contract::absolute_ref(row.sheet, r, col)));
                }
                None => {
                    ws.write_with_format(r, col, "Not scored", &st.no_evidence)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sheet_says_which_sections_it_holds() {
        let text = r#"
id = "n"
version = 1
title = "N"
sheet = "Questions"
[[risk_ratings]]
label = "Low"
min = 1
[[sections]]
id = "a"
title = "A"
[[sections.questions]]
id = "qa"
text = "A?"
type = "text"
[[sections]]
id = "risks"
title = "Risks"
sheet = "Risk assessment"
layout = "risks"
rows = 1
[[sections]]
id = "b"
title = "B"
[[sections.questions]]
id = "qb"
text = "B?"
type = "text"
"#;
        let t = crate::template::parse(std::path::Path::new("n.toml"), text).unwrap();
        assert_eq!(
            sheet_sections_line(&t, "Questions"),
            "This sheet holds sections 1 to 2 of 3; section 3 on the sheet 'Risk assessment'."
        );
        assert_eq!(
            sheet_sections_line(&t, "Risk assessment"),
            "This sheet holds section 3 of 3; sections 1 to 2 on the sheet 'Questions'."
        );
    }

    #[test]
    fn section_spans_read_naturally() {
        assert_eq!(section_span(&[1, 2, 3]), "sections 1 to 3");
        assert_eq!(section_span(&[4]), "section 4");
    }

    #[test]
    fn dropdowns_fit_their_longest_option() {
        let w = dropdown_width("Replaced by another partnership or arrangement");
        assert!(w >= 46.0 + 2.0, "{w}");
    }
}
