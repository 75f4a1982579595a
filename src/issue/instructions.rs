//! The `Instructions` sheet: what the form is for, how to fill it in, and earlier scores.

use rust_xlsxwriter::Worksheet;

use super::settings::IssueSettings;
use super::sheet::{protect, ANSWER_HEADER, EVIDENCE_HEADER};
use super::styles::Styles;
use crate::dates::long_date;
use crate::register::Partnership;
use crate::respondents::Respondent;
use crate::score::PriorScore;
use crate::template::{Layout, QuestionType, Template};
use crate::xlsx::{header_text, wrapped_height};

#[allow(clippy::too_many_arguments)]
pub(super) fn write_instructions(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    p: &Partnership,
    who: &Respondent,
    respondents: usize,
    settings: &IssueSettings,
    prior: &[PriorScore],
) -> anyhow::Result<()> {
    const WIDE: f64 = 95.0;
    ws.set_column_width(0, 30)?;
    ws.set_column_width(1, WIDE)?;
    ws.set_screen_gridlines(false);
    ws.set_portrait();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_footer(format!("&L{}&R&P of &N", header_text(&settings.council)));
    let mut r: u32 = 0;
    // One line per row, running on to the right: no merged cells. Row heights are
    // starting heights only (see `rows_grow_with_their_text`).
    let title = format!(
        "{} – {} {}",
        settings.council, template.title, settings.year
    );
    ws.write_with_format(r, 0, title.as_str(), &st.title)?;
    r += 1;
    ws.write_with_format(r, 0, p.name.as_str(), &st.subtitle)?;
    r += 2;

    let pair = |ws: &mut Worksheet, r: &mut u32, label: &str, value: &str| -> anyhow::Result<()> {
        ws.write_with_format(*r, 0, label, &st.label)?;
        ws.write_with_format(*r, 1, value, &st.value)?;
        ws.set_row_height(*r, wrapped_height(value, WIDE))?;
        *r += 1;
        Ok(())
    };
    // Whose copy this is: each respondent answers separately, and their answers are
    // compared with their partners' in the review.
    ws.write_with_format(r, 0, "This form is for", &st.heading)?;
    r += 1;
    pair(ws, &mut r, "Your name", &who.name)?;
    if !who.organisation.is_empty() {
        pair(ws, &mut r, "Your organisation", &who.organisation)?;
    }
    if !who.role.is_empty() {
        pair(ws, &mut r, "Your role", &who.role)?;
    }
    r += 1;
    ws.write_with_format(r, 0, "Your partnership", &st.heading)?;
    r += 1;
    pair(ws, &mut r, "Partnership ID", &p.id)?;
    pair(ws, &mut r, "Partnership", &p.name)?;
    if !p.lead_organisation.is_empty() {
        pair(ws, &mut r, "Lead organisation", &p.lead_organisation)?;
    }
    if !p.partners.is_empty() {
        pair(ws, &mut r, "Partners", &p.partners)?;
    }
    pair(
        ws,
        &mut r,
        "Lead officer",
        &format!("{} ({})", p.lead_officer, p.email),
    )?;
    pair(ws, &mut r, "Assistant Director", &p.assistant_director)?;
    pair(ws, &mut r, "Business Plan priority", p.priority.label())?;
    pair(ws, &mut r, "Review year", &settings.year.to_string())?;
    pair(
        ws,
        &mut r,
        "Please return by",
        &long_date(settings.deadline),
    )?;
    pair(ws, &mut r, "Return to", &settings.return_address)?;
    r += 1;

    if !template.description.is_empty() {
        ws.write_with_format(r, 0, "What this form is for", &st.heading)?;
        r += 1;
        ws.write_with_format(r, 0, "Purpose", &st.label)?;
        ws.write_with_format(r, 1, template.description.as_str(), &st.value)?;
        ws.set_row_height(r, wrapped_height(&template.description, WIDE))?;
        r += 2;
    }

    ws.write_with_format(r, 0, "How to fill it in", &st.heading)?;
    r += 1;
    let sheets = template.sheets().join("' and '");
    let has_risks = template
        .sections
        .iter()
        .any(|s| matches!(s.layout, Layout::Risks { .. }));
    let mut steps: Vec<String> = vec![
        format!("Answer on the sheet '{sheets}' (tabs at the bottom of the window), in the '{ANSWER_HEADER}' column{}; everything else is locked. The cells to answer in are also shaded.", if has_risks { " (on the risk sheet, in the columns its heading names)" } else { "" }),
        "Where a cell has a dropdown arrow, choose one of the options from the list. A message explains each answer when you select its cell.".into(),
    ];
    for s in &template.sections {
        if let Layout::Table(t) = &s.layout {
            steps.push(format!("On the sheet '{}', {} Use one row for each; a row carried from last year shows what was agreed then: update it if it has changed and give its progress now.", s.sheet, lower_first(&t.text)));
        }
    }
    if let Some(below) = template.action_below {
        steps.push(format!("Where you score a statement {} or below, say in its Action columns what will be done, who will do it and by when.", crate::read::format_number(below)));
    }
    if template.questions().any(|(_, q)| q.evidence) {
        steps.push(format!("Add evidence or comments in the '{EVIDENCE_HEADER}' column, where a question asks for them: short, specific examples help the review."));
    }
    steps.push("A row grows as you type (Alt+Enter starts a new line in a cell). You can also make rows taller and columns wider: everything you type is kept and read, even where it does not show.".into());
    if respondents > 1 {
        steps.push(format!("This form goes to {respondents} people involved in the partnership, each with a copy of their own: please answer from your own point of view. The review averages the answers and lists the statements where views differ, for the partnership to discuss."));
    }
    steps.extend(template.instructions.iter().cloned());
    steps.push("Please do not rename or delete sheets, or insert or delete rows or columns: your answers are read automatically.".into());
    steps.push(format!(
        "Save the file (Excel .xlsx or LibreOffice .ods are both fine; any file name) and email it to {} by {}.",
        settings.return_address,
        long_date(settings.deadline)
    ));
    for (i, s) in steps.iter().enumerate() {
        ws.write_with_format(r, 0, format!("Step {}", i + 1), &st.label)?;
        ws.write_with_format(r, 1, s.as_str(), &st.value)?;
        ws.set_row_height(r, wrapped_height(s, WIDE))?;
        r += 1;
    }
    r += 1;

    // What the scores mean: every scale option, once, in the order first seen.
    let mut meanings: Vec<&crate::template::AnswerOption> = Vec::new();
    for (_, q) in template
        .questions()
        .filter(|(_, q)| q.kind == QuestionType::Scale)
    {
        for o in &q.options {
            if !meanings.iter().any(|m| m.label == o.label) {
                meanings.push(o);
            }
        }
    }
    if !meanings.is_empty() {
        ws.write_with_format(r, 0, "What the answers mean", &st.heading)?;
        r += 1;
        for o in meanings {
            let meaning = match o.points {
                Some(pts) => format!("scores {pts} point{}", if pts == 1.0 { "" } else { "s" }),
                None => {
                    "not scored: use only where the statement does not apply to this partnership"
                        .into()
                }
            };
            ws.write_with_format(r, 0, o.label.as_str(), &st.label)?;
            ws.write_with_format(r, 1, meaning.as_str(), &st.value)?;
            r += 1;
        }
        if let Some(b) = template.bands.first() {
            let bands: Vec<String> = template
                .bands
                .iter()
                .map(|b| format!("{} from {}%", b.label, b.min))
                .collect();
            let text = format!(
                "Each section's score is the points given as a percentage of the points possible (answers marked not applicable are left out). The overall score rates the partnership {} (best: {}).",
                bands.join(", "),
                b.label
            );
            ws.write_with_format(r, 0, "Scores", &st.label)?;
            ws.write_with_format(r, 1, text.as_str(), &st.value)?;
            ws.set_row_height(r, wrapped_height(&text, WIDE))?;
            r += 1;
        }
        r += 1;
    }

    if template.is_scored() {
        write_prior_scores(ws, st, template, prior, r)?;
    }
    protect(ws, settings);
    Ok(())
}

/// A small table of earlier years' scores, so the partnership can see its trend.
fn write_prior_scores(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    prior: &[PriorScore],
    mut r: u32,
) -> anyhow::Result<u32> {
    ws.write_with_format(r, 0, "Your earlier scores", &st.heading)?;
    r += 1;
    if prior.is_empty() {
        ws.write_with_format(r, 0, "None yet", &st.label)?;
        ws.write_with_format(
            r,
            1,
            "No earlier scores are held for this partnership: this year's return sets the baseline.",
            &st.value,
        )?;
        return Ok(r + 1);
    }
    let mut years: Vec<i32> = prior.iter().map(|s| s.year).collect();
    years.sort_unstable();
    years.dedup();
    let scopes: Vec<(String, String)> = template
        .sections
        .iter()
        .filter(|s| s.is_scored())
        .map(|s| (s.id.clone(), s.title.clone()))
        .chain(std::iter::once((
            "overall".to_string(),
            "Overall".to_string(),
        )))
        .collect();
    let cols: Vec<String> = years.iter().map(|y| y.to_string()).collect();
    ws.write_with_format(r, 0, "Section", &st.header)?;
    ws.write_with_format(
        r,
        1,
        format!("Score by year: {}", cols.join(" · ")),
        &st.header,
    )?;
    r += 1;
    for (id, title) in scopes {
        let cells: Vec<String> = years
            .iter()
            .map(|y| {
                prior
                    .iter()
                    .find(|s| s.year == *y && s.scope == id)
                    .map_or("–".to_string(), |s| format!("{y}: {:.1}%", s.percent))
            })
            .collect();
        ws.write_with_format(r, 0, title.as_str(), &st.label)?;
        ws.write_with_format(r, 1, cells.join("    "), &st.value)?;
        r += 1;
    }
    Ok(r)
}

/// "List the…" → "list the…", to run on after "On the sheet 'X',".
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
