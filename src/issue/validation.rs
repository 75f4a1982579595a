//! Dropdowns and range checks on answer cells.

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime,
};

use crate::template::{Question, QuestionType};

/// The dropdown or range check for an answer cell, with an input message that
/// says what to enter.
pub(super) fn validation_for(q: &Question) -> anyhow::Result<Option<DataValidation>> {
    let title = |t: &str| t.chars().take(32).collect::<String>();
    let message = |m: String| -> String {
        if m.chars().count() > 255 {
            m.chars().take(254).collect::<String>() + "…"
        } else {
            m
        }
    };
    let dv = match q.kind {
        QuestionType::Scale | QuestionType::Choice | QuestionType::YesNo => {
            let labels: Vec<&str> = q.options.iter().map(|o| o.label.as_str()).collect();
            let mut msg = match q.kind {
                QuestionType::Scale => {
                    "Choose the option that best describes the partnership today.".to_string()
                }
                _ => "Choose one option from the list.".to_string(),
            };
            if q.options.iter().any(|o| o.points.is_none()) && q.kind == QuestionType::Scale {
                msg.push_str(" Choose 'Not applicable' only if the statement does not apply.");
            }
            if !q.required {
                msg.push_str(" You may leave this blank.");
            }
            DataValidation::new()
                .allow_list_strings(&labels)?
                .set_input_title(title("Choose an answer"))?
                .set_input_message(message(msg))?
                .set_error_title("Not one of the options")?
                .set_error_message("Please choose one of the options from the dropdown list.")?
        }
        QuestionType::Date => DataValidation::new()
            .allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(1990, 1, 1)?,
                ExcelDateTime::from_ymd(2100, 12, 31)?,
            ))
            .set_input_title("Enter a date")?
            .set_input_message("Enter a date, for example 31/03/2027.")?
            .set_error_title("Not a date")?
            .set_error_message("Please enter a date, for example 31/03/2027.")?,
        QuestionType::Number => {
            let lo = q.min.unwrap_or(-1e9);
            let hi = q.max.unwrap_or(1e12);
            let range = match (q.min, q.max) {
                (Some(a), Some(b)) => format!(" from {a} to {b}"),
                (Some(a), None) => format!(" of {a} or more"),
                (None, Some(b)) => format!(" up to {b}"),
                (None, None) => String::new(),
            };
            let what = if q.whole {
                "a whole number"
            } else {
                "a number"
            };
            let dv = if q.whole {
                DataValidation::new().allow_whole_number(DataValidationRule::Between(
                    lo as i32,
                    hi.min(f64::from(i32::MAX)) as i32,
                ))
            } else {
                DataValidation::new().allow_decimal_number(DataValidationRule::Between(lo, hi))
            };
            dv.set_input_title("Enter a number")?
                .set_input_message(format!("Enter {what}{range}."))?
                .set_error_title("Not a valid number")?
                .set_error_message(format!("Please enter {what}{range}."))?
        }
        QuestionType::Email => DataValidation::new()
            .allow_any_value()
            .set_input_title("Enter an email address")?
            .set_input_message("Enter an email address, for example name@rochford.gov.uk.")?,
        QuestionType::Text | QuestionType::Table => DataValidation::new()
            .allow_any_value()
            .set_input_title("Type your answer")?
            .set_input_message(if q.required {
                "Type your answer. Press Alt+Enter for a new line."
            } else {
                "Optional. Type your answer. Press Alt+Enter for a new line."
            })?,
    };
    Ok(Some(dv.set_error_style(DataValidationErrorStyle::Stop)))
}
