//! The sheet of a table question (such as the objectives): a header row, then one row
//! per table row, every cell its own named answer. Rows carried from last year are
//! prefilled (editable) with a locked "As agreed last year" cell beside them, so a
//! return that rewords an objective keeps what was committed as well as what it says now.

use std::collections::BTreeMap;

use rust_xlsxwriter::Worksheet;

use super::sheet::dropdown_width;
use super::styles::Styles;
use super::validation::validation_for;
use crate::contract;
use crate::template::{QuestionType, Table, TableColumn, Template, COMMITTED};

/// The header of the locked column that keeps what a carried row said.
pub(super) const COMMITTED_HEADER: &str = "As agreed last year (filled in by ptk)";

fn column_width(c: &TableColumn, first_text: bool) -> f64 {
    let by_kind = match c.kind {
        QuestionType::Text if first_text => 36.0,
        QuestionType::Text | QuestionType::Email => 24.0,
        QuestionType::Date => 13.0,
        QuestionType::Number => 11.0,
        _ => c
            .options
            .iter()
            .map(|o| dropdown_width(&o.label))
            .fold(12.0, f64::max),
    };
    by_kind.max(c.heading.chars().count().min(18) as f64 * 0.8)
}

/// Column widths: row number, the committed column where rows are carried, then the
/// table's own columns.
pub(super) fn widths(t: &Table) -> Vec<f64> {
    let mut out = vec![5.0];
    if t.is_carried() {
        out.push(28.0);
    }
    let first_text = t.columns.iter().position(|c| c.kind == QuestionType::Text);
    out.extend(
        t.columns
            .iter()
            .enumerate()
            .map(|(i, c)| column_width(c, Some(i) == first_text)),
    );
    out
}

pub(super) fn headers(t: &Table) -> Vec<String> {
    let mut out = vec!["No.".to_string()];
    if t.is_carried() {
        out.push(COMMITTED_HEADER.to_string());
    }
    out.extend(t.columns.iter().map(|c| match c.kind {
        QuestionType::Date => format!("{} (dd/mm/yyyy)", c.heading),
        _ if c.required => format!("{} (needed in a row you use)", c.heading),
        _ => c.heading.clone(),
    }));
    out
}

/// The instruction lines for a table sheet, each short enough to print within the table.
pub(super) fn how(t: &Table, carried_rows: usize, from_year: i32) -> Vec<String> {
    let mut out = vec![t.text.clone()];
    if let Some(h) = &t.help {
        out.push(h.clone());
    }
    out.push(
        "Use one row for each; leave rows you do not need blank. Choose from the dropdown where a column has one."
            .to_string(),
    );
    if carried_rows > 0 {
        out.push(format!(
            "Rows 1 to {carried_rows} are last year's ({from_year}), as agreed then: update them if they have changed, and give their progress now."
        ));
        out.push("Add any new objectives in the blank rows below them.".to_string());
    }
    out
}

/// Writes the table's rows from sheet row `r`; returns the row after the table.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_table_rows(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    sheet: &str,
    mut r: u32,
    t: &Table,
    carried: &[BTreeMap<String, String>],
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<u32> {
    let first_col: u16 = if t.is_carried() { 2 } else { 1 };
    let first_carried = t.columns.iter().find(|c| c.carried).map(|c| c.id.as_str());
    for n in 1..=t.rows {
        let prefill = carried.get(n - 1);
        ws.write_with_format(r, 0, n as f64, &st.number)?;
        // A starting height with room to write; it grows with the text.
        ws.set_row_height(r, 45)?;
        if t.is_carried() {
            let id = t.cell_id(n, COMMITTED);
            let committed = first_carried
                .and_then(|c| prefill.and_then(|p| p.get(c)))
                .map_or("", String::as_str);
            ws.write_with_format(r, 1, committed, &st.computed_text)?;
            cell_map.push((
                contract::answer_name(&id),
                contract::absolute_ref(sheet, r, 1),
            ));
        }
        for (col, c) in (first_col..).zip(&t.columns) {
            let id = t.cell_id(n, &c.id);
            let q = template
                .question(&id)
                .expect("a table's cells are questions of the template");
            let format = match c.kind {
                QuestionType::Date => &st.answer_date,
                QuestionType::Number => &st.answer_number,
                _ => &st.answer,
            };
            match prefill.and_then(|p| p.get(&c.id)) {
                Some(v) if c.kind == QuestionType::Date => {
                    match crate::register::parse_date(v) {
                        Some(d) => {
                            ws.write_with_format(r, col, &crate::xlsx::excel_date(d)?, format)?
                        }
                        None => ws.write_with_format(r, col, v.as_str(), format)?,
                    };
                }
                Some(v) => {
                    ws.write_with_format(r, col, v.as_str(), format)?;
                }
                None => {
                    ws.write_blank(r, col, format)?;
                }
            }
            if let Some(dv) = validation_for(q)? {
                ws.add_data_validation(r, col, r, col, &dv)?;
            }
            cell_map.push((q.answer_name(), contract::absolute_ref(sheet, r, col)));
        }
        r += 1;
    }
    Ok(r)
}
