//! Checking a `type = "table"` question and making its cells: each cell is a question
//! of its column's type, `<table>_<row>_<column>`, so it is named, read, validated and
//! stored like any answer; a table whose rows are carried to next year also gets a
//! locked `<table>_<row>_committed` cell per row (what the row said when issued).

use std::collections::HashMap;

use super::check::{valid_question_id, Checker};
use super::model::{AnswerOption, Question, QuestionType, Table, TableColumn, COMMITTED};
use super::raw::RawQuestion;

/// At most this many rows: a table is for a handful of objectives, not a data sheet.
pub const MAX_TABLE_ROWS: usize = 30;

impl Checker<'_> {
    /// Checks a table question; returns the table and its cell questions.
    pub(super) fn build_table(
        &mut self,
        rq: RawQuestion,
        option_sets: &HashMap<String, Vec<AnswerOption>>,
        question_ids: &mut HashMap<String, usize>,
    ) -> Option<(Table, Vec<Question>)> {
        let at = rq.id.span().start;
        let line = self.lines.line(at);
        let id = rq.id.get_ref().trim().to_string();
        if !valid_question_id(&id) || id.len() > 30 {
            self.problem(at, format!("table id '{id}' must start with a letter and use only letters, digits and single underscores (at most 30 characters)"));
        }
        if rq.text.trim().is_empty() {
            self.problem(at, format!("table '{id}' has no text"));
        }
        if rq.options.is_some() || rq.options_from.is_some() || rq.evidence || rq.required {
            self.problem(at, format!("table '{id}': options, evidence and required belong on its columns, not on the table"));
        }
        if rq.min.is_some() || rq.max.is_some() || rq.whole {
            self.problem(
                at,
                format!("table '{id}': min, max and whole only apply to number questions"),
            );
        }
        let rows = rq.rows.unwrap_or(0);
        if !(1..=MAX_TABLE_ROWS).contains(&rows) {
            self.problem(
                at,
                format!("table '{id}' needs rows = N, between 1 and {MAX_TABLE_ROWS}"),
            );
        }
        if rq.columns.is_empty() {
            self.problem(at, format!("table '{id}' has no columns; add columns = [{{ id = \"objective\", heading = \"Objective\", type = \"text\" }}, ...]"));
        }
        let since = self.since(rq.since.as_ref());
        let mut columns: Vec<TableColumn> = Vec::new();
        for rc in rq.columns {
            let cat = rc.id.span().start;
            let cid = rc.id.get_ref().trim().to_string();
            let what = format!("table '{id}', column '{cid}'");
            if !valid_question_id(&cid) || cid.len() > 20 {
                self.problem(cat, format!("{what}: a column id must start with a letter and use only letters, digits and single underscores (at most 20 characters)"));
            }
            if cid.eq_ignore_ascii_case(COMMITTED) {
                self.problem(cat, format!("{what}: '{COMMITTED}' is the name ptk gives the column that keeps what a carried row said; choose another id"));
            }
            if columns.iter().any(|c| c.id.eq_ignore_ascii_case(&cid)) {
                self.problem(
                    cat,
                    format!("{what} is there twice; give each column its own id"),
                );
            }
            if rc.heading.trim().is_empty() {
                self.problem(cat, format!("{what} has no heading"));
            }
            let kind = *rc.kind.get_ref();
            if matches!(kind, QuestionType::Table | QuestionType::Scale) {
                self.problem(
                    rc.kind.span().start,
                    format!("{what} is of type '{}'; a column can be choice, yes-no, text, date, number or email", kind.name()),
                );
            }
            let options = self.options(
                cat,
                &what,
                kind,
                rc.options,
                rc.options_from.as_ref(),
                option_sets,
            );
            columns.push(TableColumn {
                id: cid,
                heading: rc.heading.trim().to_string(),
                kind,
                options,
                required: rc.required,
                carried: rc.carried,
            });
        }
        let table = Table {
            id: id.clone(),
            text: rq.text.trim().to_string(),
            help: rq
                .help
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            rows,
            columns,
        };
        let cells = table_cells(&table, since, line);
        for q in &cells {
            if let Some(first) = question_ids.insert(q.id.to_lowercase(), q.line) {
                self.problem(at, format!("cell id '{}' (made for table '{id}') clashes with a question at line {first}", q.id));
            }
        }
        Some((table, cells))
    }
}

/// The cell questions of a table, row by row, column by column (then the row's
/// committed cell, when rows are carried).
fn table_cells(table: &Table, since: u32, line: usize) -> Vec<Question> {
    let cell =
        |id: String, text: String, kind: QuestionType, options: Vec<AnswerOption>| Question {
            id,
            text,
            help: None,
            kind,
            required: false,
            options,
            evidence: false,
            in_review: false,
            min: None,
            max: None,
            whole: false,
            since,
            line,
        };
    let mut out = Vec::new();
    for n in 1..=table.rows {
        for c in &table.columns {
            out.push(cell(
                table.cell_id(n, &c.id),
                format!("{}, row {n}: {}", table.text, c.heading),
                c.kind,
                c.options.clone(),
            ));
        }
        if table.is_carried() {
            out.push(cell(
                table.cell_id(n, COMMITTED),
                format!("{}, row {n}: as agreed last year", table.text),
                QuestionType::Text,
                Vec::new(),
            ));
        }
    }
    out
}
