//! Checking a raw template and building the domain [`Template`]: every problem is a
//! [`TemplateProblem`] with its line. Questions are checked in `question.rs`.

use std::collections::HashMap;
use std::path::Path;

use toml::Spanned;

use super::model::*;
use super::normalise_label;
use super::raw::{RawSection, RawTemplate};
use super::risks::risk_row_questions;
use crate::register::Status;

pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }
    pub(super) fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

pub(super) struct Checker<'a> {
    pub(super) path: &'a Path,
    pub(super) lines: &'a LineIndex,
    pub(super) problems: Vec<TemplateProblem>,
}

/// Ids become Excel names and file names: keep them to a safe alphabet.
pub(super) fn valid_question_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.len() <= 40
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !id.contains("__")
        && !id.ends_with('_')
}

fn valid_template_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Excel's rules for a sheet name, plus the names ptk reserves.
fn sheet_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > 31 {
        return Some(format!(
            "sheet name '{name}' must be 1 to 31 characters long"
        ));
    }
    if name.contains(['[', ']', ':', '*', '?', '/', '\\']) || name.starts_with('\'') {
        return Some(format!(
            "sheet name '{name}' contains a character Excel does not allow ([ ] : * ? / \\ or a leading ')"
        ));
    }
    let lower = name.to_lowercase();
    if lower == crate::contract::ID_SHEET.to_lowercase() || lower == "instructions" {
        return Some(format!(
            "sheet name '{name}' is reserved by ptk; choose another"
        ));
    }
    None
}

impl Checker<'_> {
    pub(super) fn problem(&mut self, span_start: usize, message: impl Into<String>) {
        let line = if span_start == usize::MAX {
            0
        } else {
            self.lines.line(span_start)
        };
        self.problems.push(TemplateProblem {
            file: self.path.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    pub(super) fn build(mut self, raw: RawTemplate) -> Result<Template, Vec<TemplateProblem>> {
        let id = raw.id.get_ref().trim().to_string();
        if !valid_template_id(&id) {
            self.problem(
                raw.id.span().start,
                format!("template id '{id}' must be lower-case letters, digits and hyphens (like 'self-assessment'), at most 40 characters"),
            );
        }
        let version = *raw.version.get_ref();
        if !(1..=i64::from(u32::MAX)).contains(&version) {
            self.problem(
                raw.version.span().start,
                format!("version must be a whole number of 1 or more (found {version})"),
            );
        }
        if raw.title.trim().is_empty() {
            self.problem(raw.id.span().start, "the template needs a title");
        }
        let default_sheet = raw.sheet.get_ref().trim().to_string();
        if let Some(p) = sheet_name_problem(&default_sheet) {
            self.problem(raw.sheet.span().start, p);
        }

        let mut issue_to = Vec::new();
        for s in &raw.issue_to {
            match Status::parse(s.get_ref()) {
                Some(st) => issue_to.push(st),
                None => self.problem(
                    s.span().start,
                    format!(
                        "issue_to has '{}', which is not a register status (use proposed, active, exiting or closed)",
                        s.get_ref()
                    ),
                ),
            }
        }

        let bands = self.check_bands(raw.bands, "bands", 100.0);
        let risk_ratings: Vec<RiskRating> = {
            let as_bands: Vec<Band> = raw
                .risk_ratings
                .into_iter()
                .map(|r| Band {
                    label: r.label,
                    min: r.min,
                    colour: r.colour,
                })
                .collect();
            self.check_bands(as_bands, "risk_ratings", 25.0)
                .into_iter()
                .map(|b| RiskRating {
                    label: b.label,
                    min: b.min,
                    colour: b.colour,
                })
                .collect()
        };

        let mut sections = Vec::new();
        let mut section_ids: HashMap<String, usize> = HashMap::new();
        let mut question_ids: HashMap<String, usize> = HashMap::new();
        for rs in raw.sections {
            let sid = rs.id.get_ref().trim().to_string();
            let sline = self.lines.line(rs.id.span().start);
            if !valid_question_id(&sid) {
                self.problem(rs.id.span().start, format!("section id '{sid}' must start with a letter and use only letters, digits and single underscores"));
            }
            if let Some(first) = section_ids.insert(sid.to_lowercase(), sline) {
                self.problem(
                    rs.id.span().start,
                    format!("section id '{sid}' is used twice (first at line {first}); give each section its own id"),
                );
            }
            if let Some(section) = self.build_section(
                rs,
                &sid,
                &default_sheet,
                &raw.option_sets,
                &mut question_ids,
            ) {
                sections.push(section);
            }
        }
        if sections.is_empty() && self.problems.is_empty() {
            self.problem(usize::MAX, "the template has no [[sections]]");
        }
        in_form_order(&mut sections);

        // A risk table has its own columns, so it needs a sheet of its own.
        for s in sections
            .iter()
            .filter(|s| !matches!(s.layout, Layout::Questions))
        {
            let shared = sections.iter().any(|o| o.id != s.id && o.sheet == s.sheet);
            if shared {
                let (what, example) = match s.layout {
                    Layout::Table(_) => ("table", "Objectives"),
                    _ => ("risk", "Risk assessment"),
                };
                self.problems.push(TemplateProblem {
                    file: self.path.to_path_buf(),
                    line: 0,
                    message: format!(
                        "{what} section '{}' shares the sheet '{}' with other sections; give it a sheet of its own (sheet = \"{example}\")",
                        s.id, s.sheet
                    ),
                });
            }
        }

        // Conditions must refer to a real option of a real question.
        for s in &sections {
            if let Some(c) = &s.required_when {
                let q = sections
                    .iter()
                    .flat_map(|s| &s.questions)
                    .find(|q| q.id == c.question);
                let ok = q.is_some_and(|q| {
                    q.options
                        .iter()
                        .any(|o| normalise_label(&o.label) == normalise_label(&c.answer))
                });
                if !ok {
                    self.problems.push(TemplateProblem {
                        file: self.path.to_path_buf(),
                        line: 0,
                        message: format!(
                            "section '{}' is required when question '{}' is '{}', but there is no such question with that option",
                            s.id, c.question, c.answer
                        ),
                    });
                }
            }
        }

        let disagreement = match &raw.disagreement {
            None => DEFAULT_DISAGREEMENT,
            Some(d) if d.get_ref().is_finite() && *d.get_ref() > 0.0 => *d.get_ref(),
            Some(d) => {
                self.problem(
                    d.span().start,
                    format!(
                        "disagreement must be a number of points above 0, such as 2 (found {})",
                        d.get_ref()
                    ),
                );
                DEFAULT_DISAGREEMENT
            }
        };
        let action_below = match &raw.action_below {
            None => None,
            Some(a) if a.get_ref().is_finite() && *a.get_ref() >= 0.0 => Some(*a.get_ref()),
            Some(a) => {
                self.problem(
                    a.span().start,
                    format!(
                        "action_below must be a number of points, 0 or more, such as 1 (found {})",
                        a.get_ref()
                    ),
                );
                None
            }
        };
        let action_since = self.since(raw.action_since.as_ref());
        let actions = match action_below {
            Some(below) => {
                let scored = sections
                    .iter()
                    .flat_map(|s| &s.questions)
                    .any(|q| q.is_scored());
                if !scored {
                    self.problem(
                        raw.action_below.as_ref().map_or(usize::MAX, |a| a.span().start),
                        "action_below is set but the template has no scored statements to ask actions for; remove it",
                    );
                }
                action_questions(&sections, below, action_since)
            }
            None => Vec::new(),
        };
        let template = Template {
            id,
            version: version.clamp(0, i64::from(u32::MAX)) as u32,
            title: raw.title.trim().to_string(),
            description: raw.description.trim().to_string(),
            instructions: raw.instructions,
            issue_to,
            respondents: raw.respondents,
            disagreement,
            bands,
            risk_ratings,
            sections,
            action_below,
            actions,
            source: self.path.to_path_buf(),
        };
        if template.is_scored() && template.bands.is_empty() {
            self.problem(
                raw.id.span().start,
                "the template has scored questions but no [[bands]] (RAG thresholds such as Green min = 75, Amber min = 50, Red min = 0)",
            );
        }
        let has_risks = template
            .sections
            .iter()
            .any(|s| matches!(s.layout, Layout::Risks { .. }));
        if has_risks && template.risk_ratings.is_empty() {
            self.problem(
                raw.id.span().start,
                "the template has a risk section but no [[risk_ratings]] (such as High min = 15, Medium min = 8, Low min = 1)",
            );
        }
        if self.problems.is_empty() {
            Ok(template)
        } else {
            Err(self.problems)
        }
    }

    /// Bands are sorted highest first; the lowest must start at 0 so every percent has one.
    fn check_bands(&mut self, mut bands: Vec<Band>, key: &str, top: f64) -> Vec<Band> {
        bands.sort_by(|a, b| b.min.total_cmp(&a.min));
        for b in &bands {
            if !(0.0..=top).contains(&b.min) {
                self.problem(
                    usize::MAX,
                    format!(
                        "{key}: '{}' has min = {}, which must be between 0 and {top}",
                        b.label, b.min
                    ),
                );
            }
            if !is_hex_colour(&b.colour) {
                self.problem(
                    usize::MAX,
                    format!(
                        "{key}: '{}' has colour '{}'; write it as six hex digits like 'C6EFCE'",
                        b.label, b.colour
                    ),
                );
            }
        }
        if let Some(last) = bands.last() {
            let floor = if key == "risk_ratings" { 1.0 } else { 0.0 };
            if last.min > floor {
                self.problem(
                    usize::MAX,
                    format!(
                        "{key}: the lowest band ('{}') starts at {}, so lower values would have no band; set its min to {floor}",
                        last.label, last.min
                    ),
                );
            }
        }
        bands
    }

    fn build_section(
        &mut self,
        rs: RawSection,
        sid: &str,
        default_sheet: &str,
        option_sets: &HashMap<String, Vec<AnswerOption>>,
        question_ids: &mut HashMap<String, usize>,
    ) -> Option<Section> {
        let sspan = rs.id.span().start;
        let weight = rs.weight.as_ref().map_or(1.0, |w| *w.get_ref());
        if !(weight.is_finite() && weight > 0.0) {
            let at = rs.weight.as_ref().map_or(sspan, |w| w.span().start);
            self.problem(
                at,
                format!("section '{sid}' has weight {weight}; a weight must be a number above 0"),
            );
        }
        let sheet = match &rs.sheet {
            Some(s) => {
                let name = s.get_ref().trim().to_string();
                if let Some(p) = sheet_name_problem(&name) {
                    self.problem(s.span().start, p);
                }
                name
            }
            None => default_sheet.to_string(),
        };
        let mut layout = match rs.layout.as_ref().map(|l| l.get_ref().as_str()) {
            None | Some("questions") => Layout::Questions,
            Some("risks") => {
                let rows = rs.rows.unwrap_or(5);
                let required_rows = rs.required_rows.unwrap_or(1);
                if !(1..=50).contains(&rows) || required_rows > rows {
                    self.problem(sspan, format!("section '{sid}': a risk table needs rows between 1 and 50 and required_rows no more than rows"));
                }
                Layout::Risks {
                    rows,
                    required_rows,
                }
            }
            Some(other) => {
                let at = rs.layout.as_ref().map_or(sspan, |l| l.span().start);
                self.problem(
                    at,
                    format!("section '{sid}' has layout '{other}'; use 'questions' or 'risks'"),
                );
                Layout::Questions
            }
        };

        let mut questions = Vec::new();
        match layout.clone() {
            Layout::Risks {
                rows,
                required_rows,
            } => {
                if !rs.questions.is_empty() {
                    self.problem(sspan, format!("section '{sid}' is a risk table; its questions are made by ptk, so remove its [[sections.questions]]"));
                }
                for n in 1..=rows {
                    questions.extend(risk_row_questions(
                        sid,
                        n,
                        n <= required_rows,
                        self.lines.line(sspan),
                    ));
                }
                for q in &questions {
                    if let Some(first) = question_ids.insert(q.id.to_lowercase(), q.line) {
                        self.problem(sspan, format!("question id '{}' (made for the risk table) clashes with a question at line {first}", q.id));
                    }
                }
            }
            Layout::Questions => {
                let tables = rs
                    .questions
                    .iter()
                    .filter(|q| *q.kind.get_ref() == QuestionType::Table)
                    .count();
                if tables > 0 && rs.questions.len() > 1 {
                    self.problem(sspan, format!("section '{sid}' has a table question and other questions; give the table a section (and a sheet) of its own"));
                }
                for rq in rs.questions {
                    if *rq.kind.get_ref() == QuestionType::Table {
                        if let Some((table, cells)) =
                            self.build_table(rq, option_sets, question_ids)
                        {
                            layout = Layout::Table(table);
                            questions.extend(cells);
                        }
                    } else if let Some(q) = self.build_question(rq, option_sets, question_ids) {
                        questions.push(q);
                    }
                }
                if questions.is_empty() && tables == 0 {
                    self.problem(sspan, format!("section '{sid}' has no questions"));
                }
            }
            Layout::Table(_) => unreachable!("a table layout comes from a table question"),
        }

        Some(Section {
            id: sid.to_string(),
            title: rs.title.trim().to_string(),
            intro: rs
                .intro
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            weight,
            sheet,
            layout,
            required_when: rs.required_when.map(Spanned::into_inner),
            questions,
        })
    }
}

/// Puts sections in the order they appear on the form: every section of the first
/// sheet, then the next sheet's, keeping the file's order within a sheet. A section's
/// number (its position + 1) is then the same on the form, in ingest messages and in
/// the review, and runs on without gaps from sheet to sheet.
fn in_form_order(sections: &mut [Section]) {
    let mut sheets: Vec<String> = Vec::new();
    for s in sections.iter() {
        if !sheets.contains(&s.sheet) {
            sheets.push(s.sheet.clone());
        }
    }
    sections.sort_by_key(|s| sheets.iter().position(|x| *x == s.sheet));
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 6 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The action cells of every scored statement (see [`ACTION_PARTS`]), named after the
/// statement's number on the form so messages point at the right row.
fn action_questions(sections: &[Section], below: f64, since: u32) -> Vec<Question> {
    let mut out = Vec::new();
    for (si, s) in sections.iter().enumerate() {
        if !matches!(s.layout, Layout::Questions) {
            continue;
        }
        for (qi, q) in s
            .questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.is_scored())
        {
            for (part, heading) in ACTION_PARTS {
                let kind = if part == "action_by" {
                    QuestionType::Date
                } else {
                    QuestionType::Text
                };
                out.push(Question {
                    id: format!("{}_{part}", q.id),
                    text: format!(
                        "Statement {}.{} (scored {} or below): {}",
                        si + 1,
                        qi + 1,
                        crate::read::format_number(below),
                        heading.to_lowercase()
                    ),
                    help: None,
                    kind,
                    required: false,
                    options: Vec::new(),
                    evidence: false,
                    in_review: false,
                    min: None,
                    max: None,
                    whole: false,
                    since,
                    line: q.line,
                });
            }
        }
    }
    out
}
