//! The questions ptk makes for a risk table (one set per row).

use super::model::{Question, QuestionType};

/// The columns of one risk row, in sheet order after the row number.
pub const RISK_FIELDS: [&str; 5] = ["risk", "likelihood", "impact", "mitigation", "owner"];

/// Builds the questions of risk row `n` in section `sid`: `<sid>_<n>_risk`, `_likelihood`, …
pub(super) fn risk_row_questions(
    sid: &str,
    n: usize,
    required: bool,
    line: usize,
) -> Vec<Question> {
    let q = |field: &str, text: String, kind: QuestionType, required: bool| Question {
        id: format!("{sid}_{n}_{field}"),
        text,
        help: None,
        kind,
        required,
        options: Vec::new(),
        evidence: false,
        in_review: false,
        min: (kind == QuestionType::Number).then_some(1.0),
        max: (kind == QuestionType::Number).then_some(5.0),
        whole: kind == QuestionType::Number,
        since: 1,
        line,
    };
    vec![
        q(
            "risk",
            format!("Risk {n}: description"),
            QuestionType::Text,
            required,
        ),
        q(
            "likelihood",
            format!("Risk {n}: likelihood (1 = rare, 5 = almost certain)"),
            QuestionType::Number,
            required,
        ),
        q(
            "impact",
            format!("Risk {n}: impact (1 = negligible, 5 = severe)"),
            QuestionType::Number,
            required,
        ),
        q(
            "mitigation",
            format!("Risk {n}: mitigation"),
            QuestionType::Text,
            false,
        ),
        q(
            "owner",
            format!("Risk {n}: risk owner"),
            QuestionType::Text,
            false,
        ),
    ]
}
