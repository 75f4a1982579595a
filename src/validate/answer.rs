//! One cell against its question: the answer it stands for, or why it cannot be one.

use chrono::NaiveDate;

use crate::findings::Code;
use crate::read::{format_number, CellValue};
use crate::register::{parse_date, valid_email};
use crate::template::{normalise_label, Question, QuestionType};

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Blank,
    /// Index into the question's options.
    Choice(usize),
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Answer {
    /// The answer as stored and reported (an option's label, a date as YYYY-MM-DD).
    pub fn display(&self, q: &Question) -> String {
        match self {
            Answer::Blank => String::new(),
            Answer::Choice(i) => q.options.get(*i).map_or(String::new(), |o| o.label.clone()),
            Answer::Text(s) => s.clone(),
            Answer::Number(n) => format_number(*n),
            Answer::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn choice(&self) -> Option<usize> {
        match self {
            Answer::Choice(i) => Some(*i),
            _ => None,
        }
    }

    pub fn number(&self) -> Option<f64> {
        match self {
            Answer::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// Finds the option a value stands for: the exact label, the label with different
/// case or spacing, or the label's leading number ("3" for "3 - In place").
/// Never guesses further.
pub fn match_option(q: &Question, value: &CellValue) -> Option<usize> {
    let text = match value {
        CellValue::Text(s) => s.trim().to_string(),
        CellValue::Number(n) => format_number(*n),
        _ => return None,
    };
    if let Some(i) = q.options.iter().position(|o| o.label == text) {
        return Some(i);
    }
    let norm = normalise_label(&text);
    if let Some(i) = q
        .options
        .iter()
        .position(|o| normalise_label(&o.label) == norm)
    {
        return Some(i);
    }
    let n: f64 = text.parse().ok()?;
    let mut hits = q
        .options
        .iter()
        .enumerate()
        .filter(|(_, o)| leading_number(&o.label) == Some(n));
    match (hits.next(), hits.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

pub(super) fn leading_number(label: &str) -> Option<f64> {
    let digits: String = label
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if digits.is_empty() {
        return None;
    }
    // "3 - In place" or "3. In place", but not "30 days" read as 3.
    let rest = label.trim()[digits.len()..].chars().next();
    if rest.is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    digits.trim_end_matches('.').parse().ok()
}

/// Earliest and latest dates accepted in a date answer.
fn date_bounds() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid"),
        NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid"),
    )
}

/// Checks one cell against its question. Blank cells are `Ok(Blank)`: whether an
/// answer is required depends on the whole return (see [`super::validate_return`]).
pub fn check_answer(q: &Question, value: &CellValue) -> Result<Answer, (Code, String)> {
    if value.is_blank() {
        return Ok(Answer::Blank);
    }
    if let CellValue::Error(e) = value {
        return Err((
            Code::CellError,
            format!("the cell shows the spreadsheet error {e} instead of an answer; type the answer over it"),
        ));
    }
    let shown = value.display();
    match q.kind {
        QuestionType::Scale | QuestionType::Choice | QuestionType::YesNo => {
            match_option(q, value).map(Answer::Choice).ok_or_else(|| {
                let list: Vec<&str> = q.options.iter().map(|o| o.label.as_str()).collect();
                (
                    Code::NotAnOption,
                    format!(
                        "'{}' is not one of the options; choose one from the dropdown: {}",
                        shown.trim(),
                        list.join("; ")
                    ),
                )
            })
        }
        QuestionType::Number => {
            let n = match value {
                CellValue::Number(n) => *n,
                CellValue::Text(t) => {
                    let cleaned: String = t
                        .trim()
                        .trim_start_matches('£')
                        .chars()
                        .filter(|c| *c != ',')
                        .collect();
                    cleaned.trim().parse::<f64>().map_err(|_| {
                        (
                            Code::NotANumber,
                            format!(
                                "'{}' is not a number; enter a number only (no words or units)",
                                t.trim()
                            ),
                        )
                    })?
                }
                _ => {
                    return Err((
                        Code::NotANumber,
                        format!("'{shown}' is not a number; enter a number only"),
                    ))
                }
            };
            if !n.is_finite() {
                return Err((
                    Code::NotANumber,
                    format!("'{shown}' is not a number; enter a number only"),
                ));
            }
            if q.whole && n.fract() != 0.0 {
                return Err((
                    Code::OutOfRange,
                    format!("{} must be a whole number", format_number(n)),
                ));
            }
            let range = match (q.min, q.max) {
                (Some(a), Some(b)) => format!("from {} to {}", format_number(a), format_number(b)),
                (Some(a), None) => format!("of {} or more", format_number(a)),
                (None, Some(b)) => format!("of at most {}", format_number(b)),
                (None, None) => String::new(),
            };
            if q.min.is_some_and(|lo| n < lo) || q.max.is_some_and(|hi| n > hi) {
                return Err((
                    Code::OutOfRange,
                    format!(
                        "{} is out of range: enter a number {range}",
                        format_number(n)
                    ),
                ));
            }
            Ok(Answer::Number(n))
        }
        QuestionType::Date => {
            let d = match value {
                CellValue::Date(d) => Some(*d),
                // A date whose cell lost its date format arrives as its serial number.
                CellValue::Number(n) if (32874.0..=73415.0).contains(n) => {
                    NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|base| {
                        base.checked_add_signed(chrono::Duration::days(n.floor() as i64))
                    })
                }
                CellValue::Text(t) => parse_date(t),
                _ => None,
            };
            let d = d.ok_or_else(|| {
                (
                    Code::NotADate,
                    format!(
                        "'{}' is not a date; enter a date such as 31/03/2027",
                        shown.trim()
                    ),
                )
            })?;
            let (lo, hi) = date_bounds();
            if d < lo || d > hi {
                return Err((
                    Code::OutOfRange,
                    format!(
                        "{} is not a plausible date; check the year",
                        d.format("%d/%m/%Y")
                    ),
                ));
            }
            Ok(Answer::Date(d))
        }
        QuestionType::Email => {
            let e = shown.trim();
            if valid_email(e) {
                Ok(Answer::Text(e.to_string()))
            } else {
                Err((
                    Code::InvalidEmail,
                    format!(
                        "'{e}' is not a valid email address; enter one like name@rochford.gov.uk"
                    ),
                ))
            }
        }
        QuestionType::Text | QuestionType::Table => Ok(Answer::Text(shown.trim().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::AnswerOption;

    fn q(kind: QuestionType, options: &[(&str, Option<f64>)]) -> Question {
        Question {
            id: "q".into(),
            text: "Q".into(),
            help: None,
            kind,
            required: true,
            options: options
                .iter()
                .map(|(l, p)| AnswerOption {
                    label: (*l).into(),
                    points: *p,
                })
                .collect(),
            evidence: false,
            in_review: false,
            min: None,
            max: None,
            whole: false,
            since: 1,
            line: 1,
        }
    }

    fn scale() -> Question {
        q(
            QuestionType::Scale,
            &[
                ("0 - Not in place", Some(0.0)),
                ("3 - In place", Some(3.0)),
                ("Not applicable", None),
            ],
        )
    }

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.into())
    }

    #[test]
    fn options_match_exactly_loosely_or_by_leading_number_only() {
        let q = scale();
        assert_eq!(match_option(&q, &text("3 - In place")), Some(1));
        assert_eq!(match_option(&q, &text("  3 -  IN place ")), Some(1));
        assert_eq!(match_option(&q, &text("3")), Some(1));
        assert_eq!(match_option(&q, &CellValue::Number(3.0)), Some(1));
        assert_eq!(match_option(&q, &text("not applicable")), Some(2));
        assert_eq!(match_option(&q, &text("3 - Inplace")), None, "never guess");
        assert_eq!(match_option(&q, &text("In place")), None, "never guess");
        assert_eq!(match_option(&q, &CellValue::Number(2.0)), None);
    }

    #[test]
    fn leading_number_needs_a_separator() {
        assert_eq!(leading_number("3 - In place"), Some(3.0));
        assert_eq!(leading_number("3. In place"), Some(3.0));
        assert_eq!(leading_number("30days"), None);
        assert_eq!(leading_number("Yes"), None);
    }

    #[test]
    fn text_in_a_score_cell_is_not_an_option() {
        let (code, msg) = check_answer(&scale(), &text("pretty good")).unwrap_err();
        assert_eq!(code, Code::NotAnOption);
        assert!(msg.contains("'pretty good' is not one of the options"));
        assert!(msg.contains("0 - Not in place; 3 - In place; Not applicable"));
    }

    #[test]
    fn numbers_are_checked_for_type_and_range() {
        let mut n = q(QuestionType::Number, &[]);
        n.min = Some(1.0);
        n.max = Some(5.0);
        n.whole = true;
        assert_eq!(
            check_answer(&n, &CellValue::Number(4.0)),
            Ok(Answer::Number(4.0))
        );
        assert_eq!(check_answer(&n, &text(" 4 ")), Ok(Answer::Number(4.0)));
        assert_eq!(
            check_answer(&n, &text("four")).unwrap_err().0,
            Code::NotANumber
        );
        assert_eq!(
            check_answer(&n, &CellValue::Number(6.0)).unwrap_err().0,
            Code::OutOfRange
        );
        assert_eq!(
            check_answer(&n, &CellValue::Number(2.5)).unwrap_err().0,
            Code::OutOfRange
        );
        let money = q(QuestionType::Number, &[]);
        assert_eq!(
            check_answer(&money, &text("£12,500")),
            Ok(Answer::Number(12500.0))
        );
    }

    #[test]
    fn dates_accept_real_dates_serials_and_typed_text() {
        let d = q(QuestionType::Date, &[]);
        let want = Answer::Date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(
            check_answer(
                &d,
                &CellValue::Date(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
            ),
            Ok(want.clone())
        );
        assert_eq!(
            check_answer(&d, &CellValue::Number(46357.0)),
            Ok(want.clone())
        );
        assert_eq!(check_answer(&d, &text("01/12/2026")), Ok(want));
        assert_eq!(
            check_answer(&d, &text("next week")).unwrap_err().0,
            Code::NotADate
        );
        assert_eq!(
            check_answer(&d, &text("01/12/1926")).unwrap_err().0,
            Code::OutOfRange
        );
    }

    #[test]
    fn emails_and_errors() {
        let e = q(QuestionType::Email, &[]);
        assert!(check_answer(&e, &text("a@rochford.gov.uk")).is_ok());
        assert_eq!(
            check_answer(&e, &text("a@")).unwrap_err().0,
            Code::InvalidEmail
        );
        assert_eq!(
            check_answer(&scale(), &CellValue::Error("#N/A".into()))
                .unwrap_err()
                .0,
            Code::CellError
        );
        assert_eq!(check_answer(&scale(), &text("   ")), Ok(Answer::Blank));
    }
}
