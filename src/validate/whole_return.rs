//! A whole return: every answer checked, required answers and table rows complete,
//! and an action asked for each statement scored low.

use foldhash::{HashMap, HashMapExt};

use super::answer::{check_answer, Answer};
use super::finding::Finding;
use crate::contract::CellRef;
use crate::findings::Code;
use crate::read::CellValue;
use crate::template::{normalise_label, Layout, Template};

/// How a question is named in messages: its number on the form and the start of its text.
pub fn describe(template: &Template, question_id: &str) -> String {
    for (si, s) in template.sections.iter().enumerate() {
        if let Layout::Risks { .. } = s.layout {
            if let Some(q) = s.questions.iter().find(|q| q.id == question_id) {
                return q.text.clone();
            }
            continue;
        }
        if let Some(qi) = s.questions.iter().position(|q| q.id == question_id) {
            let text = &s.questions[qi].text;
            let short: String = if text.chars().count() > 70 {
                format!("{}…", text.chars().take(67).collect::<String>())
            } else {
                text.clone()
            };
            return format!("question {}.{} (\"{short}\")", si + 1, qi + 1);
        }
    }
    format!("question {question_id}")
}

/// Validates every answer of a return. `cells` maps question id to where its answer
/// was found and what the cell holds; questions absent from `cells` are reported
/// elsewhere (structure-changed) and treated as blank here.
pub fn validate_return(
    template: &Template,
    cells: &HashMap<String, (CellRef, CellValue)>,
) -> (HashMap<String, Answer>, Vec<Finding>) {
    let mut answers: HashMap<String, Answer> = HashMap::with_capacity(cells.len());
    let mut findings = Vec::new();
    for q in template.cells() {
        let Some((cell, value)) = cells.get(&q.id) else {
            continue;
        };
        match check_answer(q, value) {
            Ok(a) => {
                answers.insert(q.id.clone(), a);
            }
            Err((code, msg)) => {
                findings.push(Finding::at(
                    code,
                    cell,
                    &q.id,
                    format!("{}: {msg}", capitalise(&describe(template, &q.id))),
                ));
                // Recorded as invalid so it is not also reported as missing.
                answers.insert(q.id.clone(), Answer::Text(value.display()));
            }
        }
    }
    let is_blank = |id: &str| answers.get(id).is_none_or(|a| *a == Answer::Blank);

    for section in &template.sections {
        let applies = match &section.required_when {
            None => true,
            Some(c) => template.question(&c.question).is_some_and(|cq| {
                answers
                    .get(&c.question)
                    .and_then(Answer::choice)
                    .and_then(|i| cq.options.get(i))
                    .is_some_and(|o| normalise_label(&o.label) == normalise_label(&c.answer))
            }),
        };
        if applies {
            for q in section.questions.iter().filter(|q| q.required) {
                if let Some((cell, _)) = cells.get(&q.id) {
                    if is_blank(&q.id) {
                        findings.push(Finding::at(
                            Code::MissingAnswer,
                            cell,
                            &q.id,
                            format!(
                                "{} has no answer; it must be answered",
                                capitalise(&describe(template, &q.id))
                            ),
                        ));
                    }
                }
            }
        }
        if let Layout::Risks { rows, .. } = section.layout {
            for n in 1..=rows {
                let ids =
                    ["risk", "likelihood", "impact"].map(|f| format!("{}_{n}_{f}", section.id));
                let filled = ids.iter().filter(|id| !is_blank(id)).count();
                if filled == 0 || filled == ids.len() {
                    continue;
                }
                for id in ids.iter().filter(|id| is_blank(id)) {
                    // Already reported as a missing required answer?
                    if findings.iter().any(|f| f.question_id == *id) {
                        continue;
                    }
                    if let Some((cell, _)) = cells.get(id.as_str()) {
                        let field = id.rsplit('_').next().unwrap_or("");
                        findings.push(Finding::at(
                            Code::IncompleteRisk,
                            cell,
                            id,
                            format!("Risk {n} is partly filled in: its {field} is missing. Give a description, a likelihood and an impact, or clear the row"),
                        ));
                    }
                }
            }
        }
    }
    table_rows(template, cells, &answers, &mut findings);
    missing_actions(template, cells, &answers, &mut findings);
    (answers, findings)
}

/// A table row with anything in it needs its required columns (blank rows are fine).
fn table_rows(
    template: &Template,
    cells: &HashMap<String, (CellRef, CellValue)>,
    answers: &HashMap<String, Answer>,
    findings: &mut Vec<Finding>,
) {
    let is_blank = |id: &str| answers.get(id).is_none_or(|a| *a == Answer::Blank);
    for section in &template.sections {
        let Layout::Table(t) = &section.layout else {
            continue;
        };
        for n in 1..=t.rows {
            let used = t.columns.iter().any(|c| !is_blank(&t.cell_id(n, &c.id)));
            if !used {
                continue;
            }
            for c in t.columns.iter().filter(|c| c.required) {
                let id = t.cell_id(n, &c.id);
                if !is_blank(&id) || findings.iter().any(|f| f.question_id == id) {
                    continue;
                }
                if let Some((cell, _)) = cells.get(&id) {
                    findings.push(Finding::at(
                        Code::IncompleteRow,
                        cell,
                        &id,
                        format!("{}, row {n} is partly filled in: its {} is missing. Fill it in, or clear the row", t.text, c.heading),
                    ));
                }
            }
        }
    }
}

/// A statement scored at or below the template's `action_below` asks for an action;
/// a missing "what" is a warning (the return is still accepted).
fn missing_actions(
    template: &Template,
    cells: &HashMap<String, (CellRef, CellValue)>,
    answers: &HashMap<String, Answer>,
    findings: &mut Vec<Finding>,
) {
    let Some(below) = template.action_below else {
        return;
    };
    for (_, q) in template.questions().filter(|(_, q)| q.is_scored()) {
        let points = answers
            .get(&q.id)
            .and_then(Answer::choice)
            .and_then(|i| q.options.get(i))
            .and_then(|o| o.points);
        let Some(p) = points.filter(|p| *p <= below) else {
            continue;
        };
        let what = format!("{}_action", q.id);
        let given = answers.get(&what).is_some_and(|a| *a != Answer::Blank);
        // An older form without action cells cannot give one.
        let Some((cell, _)) = cells.get(&what) else {
            continue;
        };
        if !given {
            findings.push(Finding::at(
                Code::MissingAction,
                cell,
                &what,
                format!(
                    "{} is scored {} (at or below {}), so it needs an action: say what will be done, who will do it and by when in the Action columns of its row",
                    capitalise(&describe(template, &q.id)),
                    crate::read::format_number(p),
                    crate::read::format_number(below)
                ),
            ));
        }
    }
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
