//! The settings the decision rules read: the `[decision]` table of ptk.toml, and what
//! the review knows besides the rows (the year, the scored form, the lowest band, the
//! data date).

use chrono::NaiveDate;
use serde::Deserialize;

/// The `[decision]` table of ptk.toml. Every rule is on by default; a number of 0 or an
/// empty list turns its rule off.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionRules {
    pub lowest_band: bool,
    pub decline_points: f64,
    pub down_two_years: bool,
    pub stages: Vec<String>,
    pub no_accepted_return: bool,
    pub no_usable_return: bool,
    pub proposals: bool,
    pub exit_within_months: u32,
}

impl Default for DecisionRules {
    fn default() -> Self {
        DecisionRules {
            lowest_band: true,
            decline_points: 5.0,
            down_two_years: true,
            stages: vec!["Failing".into()],
            no_accepted_return: true,
            no_usable_return: true,
            proposals: true,
            exit_within_months: 6,
        }
    }
}

/// What the rules need besides the rows.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub year: i32,
    /// The scored form's template id (the self-assessment).
    pub scored_id: &'a str,
    /// The lowest band: (label, the score it is below).
    pub lowest_band: Option<(&'a str, f64)>,
    /// The date the data are as of (the latest ingest run), for "within 6 months".
    pub as_of: Option<NaiveDate>,
}
