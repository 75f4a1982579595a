//! The raw (file) form of a template, as serde reads it. Kept separate from the domain
//! types so that spans and defaults stay out of the code that uses templates.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use super::model::{AnswerOption, Band, Condition, QuestionType, Recipients, RiskRating};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
    pub(super) id: Spanned<String>,
    pub(super) version: Spanned<i64>,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) instructions: Vec<String>,
    /// Default sheet for sections that do not name one.
    #[serde(default = "default_sheet")]
    pub(super) sheet: Spanned<String>,
    #[serde(default)]
    pub(super) issue_to: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) respondents: Recipients,
    #[serde(default)]
    pub(super) disagreement: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) bands: Vec<Band>,
    #[serde(default)]
    pub(super) risk_ratings: Vec<RiskRating>,
    /// Named option lists that questions can share with `options_from`.
    #[serde(default)]
    pub(super) option_sets: HashMap<String, Vec<AnswerOption>>,
    #[serde(default)]
    pub(super) sections: Vec<RawSection>,
    /// A scored statement at or below this many points asks for an action.
    #[serde(default)]
    pub(super) action_below: Option<Spanned<f64>>,
    /// The template version that first asked for actions (default 1).
    #[serde(default)]
    pub(super) action_since: Option<Spanned<i64>>,
}

pub(super) fn default_sheet() -> Spanned<String> {
    Spanned::new(0..0, "Form".to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    #[serde(default)]
    pub(super) intro: Option<String>,
    #[serde(default)]
    pub(super) weight: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) sheet: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) layout: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) rows: Option<usize>,
    #[serde(default)]
    pub(super) required_rows: Option<usize>,
    #[serde(default)]
    pub(super) required_when: Option<Spanned<Condition>>,
    #[serde(default)]
    pub(super) questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuestion {
    pub(super) id: Spanned<String>,
    pub(super) text: String,
    #[serde(default)]
    pub(super) help: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: Spanned<QuestionType>,
    /// The template version that first asked this question (default 1).
    #[serde(default)]
    pub(super) since: Option<Spanned<i64>>,
    /// For a table: how many rows, and its columns.
    #[serde(default)]
    pub(super) rows: Option<usize>,
    #[serde(default)]
    pub(super) columns: Vec<RawColumn>,
    #[serde(default)]
    pub(super) required: bool,
    #[serde(default)]
    pub(super) options: Option<Vec<AnswerOption>>,
    #[serde(default)]
    pub(super) options_from: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) evidence: bool,
    #[serde(default)]
    pub(super) in_review: bool,
    #[serde(default)]
    pub(super) min: Option<f64>,
    #[serde(default)]
    pub(super) max: Option<f64>,
    #[serde(default)]
    pub(super) whole: bool,
}

/// One column of a table question.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawColumn {
    pub(super) id: Spanned<String>,
    pub(super) heading: String,
    #[serde(rename = "type")]
    pub(super) kind: Spanned<QuestionType>,
    #[serde(default)]
    pub(super) required: bool,
    #[serde(default)]
    pub(super) carried: bool,
    #[serde(default)]
    pub(super) options: Option<Vec<AnswerOption>>,
    #[serde(default)]
    pub(super) options_from: Option<Spanned<String>>,
}
