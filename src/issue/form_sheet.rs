//! A form sheet: the questions of the sections on one sheet, one row each.

use rust_xlsxwriter::{DataValidation, Worksheet};

use super::risk_sheet::write_risk_row;
use super::styles::Styles;
use super::validation::validation_for;
use super::workbook::protect;
use super::{long_date, IssueSettings};
use crate::contract;
use crate::register::Partnership;
use crate::template::{Layout, Question, QuestionType, Section, Template};
use crate::xlsx::wrapped_height;

/// Columns of a question sheet: number, question, answer, evidence.
const Q_WIDTHS: [f64; 4] = [7.0, 62.0, 30.0, 48.0];
/// Columns of a risk sheet: number, risk, likelihood, impact, score, rating, mitigation, owner.
const R_WIDTHS: [f64; 8] = [5.0, 42.0, 14.0, 14.0, 9.0, 11.0, 40.0, 20.0];

#[allow(clippy::too_many_arguments)]
pub(super) fn write_form_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    p: &Partnership,
    settings: &IssueSettings,
    sheet: &str,
    sections: &[&Section],
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let is_risk = sections
        .iter()
        .any(|s| matches!(s.layout, Layout::Risks { .. }));
    let widths: &[f64] = if is_risk { &R_WIDTHS } else { &Q_WIDTHS };
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let last_col = (widths.len() - 1) as u16;
    ws.set_screen_gridlines(false);
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&R{} {}",
        p.name.replace('&', "&&"),
        template.title.replace('&', "&&"),
        settings.year
    ));
    ws.set_footer(format!(
        "&L{}&CPage &P of &N&R{}",
        settings.council.replace('&', "&&"),
        sheet.replace('&', "&&")
    ));

    let mut r: u32 = 0;
    ws.merge_range(
        r,
        0,
        r,
        last_col,
        &format!("{} {}", template.title, settings.year),
        &st.title,
    )?;
    ws.set_row_height(r, 24)?;
    r += 1;
    ws.merge_range(
        r,
        0,
        r,
        last_col,
        &format!("{} ({})", p.name, p.id),
        &st.subtitle,
    )?;
    r += 1;
    let details = format!(
        "Lead officer: {}   ·   Assistant Director: {}   ·   Business Plan priority: {}",
        p.lead_officer,
        p.assistant_director,
        p.priority.label()
    );
    ws.merge_range(r, 0, r, last_col, &details, &st.body)?;
    r += 1;
    let note = format!(
        "Answer in the yellow cells. Please return by {} to {}.",
        long_date(settings.deadline),
        settings.return_address
    );
    ws.merge_range(r, 0, r, last_col, &note, &st.note)?;
    r += 2;

    let header_row = r;
    let headers: &[&str] = if is_risk {
        &[
            "No.",
            "Risk",
            "Likelihood (1–5)",
            "Impact (1–5)",
            "Score",
            "Rating",
            "How it is managed",
            "Owner",
        ]
    } else {
        &["No.", "Question", "Your answer", "Evidence / comments"]
    };
    for (c, h) in headers.iter().enumerate() {
        ws.write_with_format(r, c as u16, *h, &st.header)?;
    }
    ws.set_row_height(r, 30)?;
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_freeze_panes(header_row + 1, 0)?;
    r += 1;

    for (si, section) in sections.iter().enumerate() {
        let number = template
            .sections
            .iter()
            .position(|s| s.id == section.id)
            .unwrap_or(si)
            + 1;
        let mut title = format!("{number}. {}", section.title);
        if let Some(c) = &section.required_when {
            title.push_str(&format!(
                "  (answer if '{}' is {})",
                short(&question_text(template, &c.question)),
                c.answer
            ));
        }
        ws.merge_range(r, 0, r, last_col, &title, &st.section)?;
        ws.set_row_height(r, 20)?;
        r += 1;
        if let Some(intro) = &section.intro {
            ws.merge_range(r, 0, r, last_col, intro, &st.intro)?;
            ws.set_row_height(r, wrapped_height(intro, widths.iter().sum::<f64>()))?;
            r += 1;
        }
        match section.layout {
            Layout::Questions => {
                for (qi, q) in section.questions.iter().enumerate() {
                    write_question_row(
                        ws,
                        st,
                        sheet,
                        r,
                        &format!("{number}.{}", qi + 1),
                        q,
                        cell_map,
                    )?;
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

fn write_question_row(
    ws: &mut Worksheet,
    st: &Styles,
    sheet: &str,
    r: u32,
    number: &str,
    q: &Question,
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    ws.write_with_format(r, 0, number, &st.number)?;
    let text = if q.required {
        q.text.clone()
    } else {
        format!("{} (optional)", q.text)
    };
    match &q.help {
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
    let full = match &q.help {
        Some(h) => format!("{text}\n{h}"),
        None => text.clone(),
    };
    // Long text answers take the evidence column too.
    let wide_text = q.kind == QuestionType::Text && !q.evidence;
    let answer_width = if wide_text {
        Q_WIDTHS[2] + Q_WIDTHS[3]
    } else {
        Q_WIDTHS[2]
    };
    let mut height = wrapped_height(&full, Q_WIDTHS[1]);
    if q.kind == QuestionType::Text {
        height = height.max(if q.evidence { 45.0 } else { 60.0 });
    }
    if q.evidence {
        height = height.max(45.0);
    }
    let longest_option = q
        .options
        .iter()
        .map(|o| o.label.as_str())
        .max_by_key(|l| l.len())
        .unwrap_or("");
    height = height.max(wrapped_height(longest_option, answer_width));
    ws.set_row_height(r, height)?;

    let format = match q.kind {
        QuestionType::Date => &st.answer_date,
        QuestionType::Number => &st.answer_number,
        _ => &st.answer,
    };
    if wide_text {
        ws.merge_range(r, 2, r, 3, "", format)?;
    } else {
        ws.write_blank(r, 2, format)?;
        if q.evidence {
            ws.write_blank(r, 3, &st.evidence)?;
            cell_map.push((
                contract::evidence_name(&q.id),
                contract::absolute_ref(sheet, r, 3),
            ));
            let dv = DataValidation::new()
                .allow_any_value()
                .set_input_title("Evidence / comments")?
                .set_input_message("Optional: evidence or comments that support your answer. Press Alt+Enter for a new line.")?;
            ws.add_data_validation(r, 3, r, 3, &dv)?;
        } else {
            ws.write_blank(r, 3, &st.no_evidence)?;
        }
    }
    if let Some(dv) = validation_for(q)? {
        ws.add_data_validation(r, 2, r, 2, &dv)?;
    }
    cell_map.push((q.answer_name(), contract::absolute_ref(sheet, r, 2)));
    Ok(())
}
