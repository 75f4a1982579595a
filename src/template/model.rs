//! The checked template: what the rest of ptk reads (questions, sections, bands).

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::register::Status;

/// The kinds of answer a question can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionType {
    /// A scored scale: pick one labelled option, each worth some points.
    Scale,
    /// Pick one option from a list (points optional).
    Choice,
    /// Yes or No (points optional).
    YesNo,
    /// Free text.
    Text,
    /// A calendar date.
    Date,
    /// A number, optionally whole and within a range.
    Number,
    /// An email address.
    Email,
    /// A table of rows and typed columns; in a checked template each cell is a question
    /// of the column's type, so no built question has this type.
    Table,
}

impl QuestionType {
    /// Types whose answer is picked from `options` (and so get a dropdown).
    pub fn has_options(self) -> bool {
        matches!(self, Self::Scale | Self::Choice | Self::YesNo)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Scale => "scale",
            Self::Choice => "choice",
            Self::YesNo => "yes-no",
            Self::Text => "text",
            Self::Date => "date",
            Self::Number => "number",
            Self::Email => "email",
            Self::Table => "table",
        }
    }
}

/// One option of a scale, choice or yes-no question. An option without points
/// (for example "Not applicable") is left out of scoring altogether.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub label: String,
    #[serde(default)]
    pub points: Option<f64>,
}

/// A question on the form. Its `id` is the stable key of the answer: the answer
/// cell carries the workbook name `ptk_<id>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// Guidance shown under the question text (for example a step's purpose).
    pub help: Option<String>,
    pub kind: QuestionType,
    pub required: bool,
    pub options: Vec<AnswerOption>,
    /// Whether the question has an evidence / comment cell beside the answer.
    pub evidence: bool,
    /// `in_review = true`: the answer (a text question's, e.g. "What has the
    /// partnership achieved?") is quoted in full on its Assistant Director's page.
    pub in_review: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// For numbers: only whole numbers are valid.
    pub whole: bool,
    /// The template version that first asked this question: a return from an older
    /// version is read without it (its cells are not on that form).
    pub since: u32,
    /// Line in the template file, for messages.
    pub line: usize,
}

impl Question {
    /// Highest points any option of this question is worth, if it is scored.
    pub fn max_points(&self) -> Option<f64> {
        self.options
            .iter()
            .filter_map(|o| o.points)
            .fold(None, |acc: Option<f64>, p| {
                Some(acc.map_or(p, |a| a.max(p)))
            })
    }

    /// A question counts towards the score when at least one option has points.
    pub fn is_scored(&self) -> bool {
        self.max_points().is_some()
    }

    /// The workbook-scoped defined name of the answer cell (the contract).
    pub fn answer_name(&self) -> String {
        crate::contract::answer_name(&self.id)
    }
}

/// How a section is laid out on its sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// One row per question: number, question, answer, evidence.
    Questions,
    /// A risk register table: one row per risk with likelihood × impact.
    Risks { rows: usize, required_rows: usize },
    /// A `type = "table"` question: a header row and a fixed number of rows of cells,
    /// each cell a question of its own (`<table>_<row>_<column>`).
    Table(Table),
}

/// A table question (such as the partnership's objectives): its columns and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub id: String,
    pub text: String,
    pub help: Option<String>,
    pub rows: usize,
    pub columns: Vec<TableColumn>,
}

/// One column of a table: the type and options every cell in it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    pub id: String,
    pub heading: String,
    pub kind: QuestionType,
    pub options: Vec<AnswerOption>,
    /// Needed in every row that has anything in it (blank rows are allowed).
    pub required: bool,
    /// Copied onto next year's form from this year's accepted return.
    pub carried: bool,
}

/// The id of the locked cell that keeps what a carried row said when it was issued
/// (its first carried column), so a return that rewords it keeps both.
pub const COMMITTED: &str = "committed";

impl Table {
    pub fn cell_id(&self, row: usize, column: &str) -> String {
        format!("{}_{row}_{column}", self.id)
    }

    /// Whether rows are carried to next year's form (some column is carried).
    pub fn is_carried(&self) -> bool {
        self.columns.iter().any(|c| c.carried)
    }
}

/// The cells a statement scored at or below `action_below` asks for.
pub const ACTION_PARTS: [(&str, &str); 3] = [
    ("action", "Action: what will be done"),
    ("action_who", "Who"),
    ("action_by", "By when"),
];

/// The condition under which a section's required questions are required
/// (e.g. the 8-step model only for a strategic partnership).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    pub weight: f64,
    /// The sheet the section is written on.
    pub sheet: String,
    pub layout: Layout,
    pub required_when: Option<Condition>,
    pub questions: Vec<Question>,
}

impl Section {
    pub fn is_scored(&self) -> bool {
        self.questions.iter().any(Question::is_scored)
    }
}

/// A RAG band: a percent at or above `min` (and below the next band up) gets `label`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub label: String,
    pub min: f64,
    /// Fill colour used in workbooks, as RRGGBB hex.
    #[serde(default = "default_band_colour")]
    pub colour: String,
}

fn default_band_colour() -> String {
    "D9D9D9".into()
}

/// A risk rating band for likelihood × impact (1–25).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskRating {
    pub label: String,
    pub min: f64,
    #[serde(default = "default_band_colour")]
    pub colour: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub description: String,
    pub instructions: Vec<String>,
    /// Register statuses whose partnerships receive this template by default.
    pub issue_to: Vec<Status>,
    /// Who completes it: every respondent of the partnership, or the lead officer only.
    pub respondents: Recipients,
    /// A scored question whose respondents' points differ by at least this much is
    /// listed as a disagreement in the review.
    pub disagreement: f64,
    /// Bands, highest `min` first.
    pub bands: Vec<Band>,
    /// Risk ratings, highest `min` first.
    pub risk_ratings: Vec<RiskRating>,
    pub sections: Vec<Section>,
    /// A scored statement at or below this many points asks for an action.
    pub action_below: Option<f64>,
    /// The action cells of every scored statement (`<question>_action`, `_action_who`,
    /// `_action_by`), when `action_below` is set; not numbered on the form.
    pub actions: Vec<Question>,
    pub source: PathBuf,
}

impl Template {
    /// Whether any question is scored (so the template gets a score and a band).
    pub fn is_scored(&self) -> bool {
        self.sections.iter().any(Section::is_scored)
    }

    pub fn questions(&self) -> impl Iterator<Item = (&Section, &Question)> {
        self.sections
            .iter()
            .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
    }

    /// Every cell read from a return: the questions, then the action cells.
    pub fn cells(&self) -> impl Iterator<Item = &Question> {
        self.questions().map(|(_, q)| q).chain(&self.actions)
    }

    /// The action cells of statement `question_id`, in [`ACTION_PARTS`] order.
    pub fn actions_for(&self, question_id: &str) -> Vec<&Question> {
        ACTION_PARTS
            .iter()
            .filter_map(|(part, _)| {
                let id = format!("{question_id}_{part}");
                self.actions.iter().find(|q| q.id == id)
            })
            .collect()
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.id == id)
    }

    /// Sheet names in the order they first appear.
    pub fn sheets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.sections {
            if !out.contains(&s.sheet.as_str()) {
                out.push(&s.sheet);
            }
        }
        out
    }

    /// The band a percent falls in.
    pub fn band_for(&self, percent: f64) -> Option<&Band> {
        self.bands.iter().find(|b| percent >= b.min)
    }

    pub fn risk_rating_for(&self, score: f64) -> Option<&RiskRating> {
        self.risk_ratings.iter().find(|b| score >= b.min)
    }
}

/// A problem in a template file, with the line it is on (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateProblem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

/// Who receives a template's form for a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipients {
    /// The register's lead officer only (one form per partnership).
    #[default]
    Lead,
    /// Every respondent (the lead and those in the respondents file), each their own form.
    All,
}

/// The default disagreement threshold, in points: two steps apart on a 0–4 scale.
pub const DEFAULT_DISAGREEMENT: f64 = 2.0;
