//! Validation rules pinned at their edges: each rule at, just inside and just outside
//! every boundary, each finding's severity, and whole returns through
//! [`validate_return`]. Expected values are written out by hand from the rules in
//! docs/findings.md, never computed with the code under test.

use foldhash::HashMap;
use std::path::Path;

use chrono::NaiveDate;

use super::answer::leading_number;
use super::whole_return::capitalise;
use super::*;
use crate::contract::CellRef;
use crate::read::CellValue;
use crate::template::AnswerOption;
use crate::template::{Question, QuestionType, Template};

fn question(kind: QuestionType) -> Question {
    Question {
        id: "q".into(),
        text: "Q".into(),
        help: None,
        kind,
        required: true,
        options: Vec::new(),
        evidence: false,
        min: None,
        max: None,
        whole: false,
        in_review: false,
        since: 1,
        line: 1,
    }
}

fn with_options(kind: QuestionType, labels: &[&str]) -> Question {
    let mut q = question(kind);
    q.options = labels
        .iter()
        .map(|l| AnswerOption {
            label: (*l).into(),
            points: None,
        })
        .collect();
    q
}

fn text(s: &str) -> CellValue {
    CellValue::Text(s.into())
}

fn num(n: f64) -> CellValue {
    CellValue::Number(n)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn code(q: &Question, v: &CellValue) -> Option<Code> {
    check_answer(q, v).err().map(|(c, _)| c)
}

fn message(q: &Question, v: &CellValue) -> String {
    check_answer(q, v).unwrap_err().1
}

// ---------------------------------------------------------------------------
// Codes and severities

#[test]
fn exactly_five_codes_are_warnings_and_the_rest_reject_the_return() {
    // docs/findings.md: a warning leaves the return accepted.
    let warnings = [
        Code::OlderVersion,
        Code::StatusMismatch,
        Code::DuplicateReturn,
        Code::UnknownRespondent,
        Code::MissingAction,
    ];
    for c in warnings {
        assert_eq!(c.severity(), Severity::Warning, "{c}");
    }
    let errors = [
        Code::Unreadable,
        Code::Encrypted,
        Code::TooLarge,
        Code::NotPtk,
        Code::UnknownTemplate,
        Code::UnknownVersion,
        Code::UnknownPartnership,
        Code::WrongYear,
        Code::StructureChanged,
        Code::MissingAnswer,
        Code::NotAnOption,
        Code::NotANumber,
        Code::NotADate,
        Code::OutOfRange,
        Code::InvalidEmail,
        Code::CellError,
        Code::IncompleteRisk,
        Code::IncompleteRow,
        Code::ReaderFailed,
    ];
    for c in errors {
        assert_eq!(c.severity(), Severity::Error, "{c}");
    }
    assert_eq!(warnings.len() + errors.len(), Code::ALL.len());
}

#[test]
fn severities_and_codes_read_as_written_in_findings_csv() {
    assert_eq!(Severity::Error.as_str(), "error");
    assert_eq!(Severity::Warning.as_str(), "warning");
    assert_eq!(Code::TooLarge.to_string(), "too-large");
    assert_eq!(Code::UnknownRespondent.as_str(), "unknown-respondent");
    assert_eq!(Code::parse("not-a-date"), Some(Code::NotADate));
    assert_eq!(Code::parse("no-such-code"), None);
    assert_eq!(Code::parse(""), None);
}

#[test]
fn findings_carry_the_codes_severity_and_where_it_was() {
    let f = Finding::file(Code::DuplicateReturn, "seen before");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.code, Code::DuplicateReturn);
    assert_eq!(
        (f.sheet.as_str(), f.cell.as_str(), f.question_id.as_str()),
        ("", "", "")
    );
    assert_eq!(f.message, "seen before");

    let cell = CellRef {
        sheet: "Assessment".into(),
        row: 11,
        col: 2,
    };
    let f = Finding::at(Code::NotANumber, &cell, "budget", "words");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.sheet, "Assessment");
    assert_eq!(f.cell, "C12");
    assert_eq!(f.question_id, "budget");
    assert_eq!(f.message, "words");
}

// ---------------------------------------------------------------------------
// Answers as stored

#[test]
fn answers_display_as_stored_and_give_their_choice_or_number() {
    let q = with_options(QuestionType::Choice, &["Forming", "Flying"]);
    assert_eq!(Answer::Blank.display(&q), "");
    assert_eq!(Answer::Choice(1).display(&q), "Flying");
    assert_eq!(Answer::Choice(7).display(&q), "", "no such option");
    assert_eq!(Answer::Text("t".into()).display(&q), "t");
    assert_eq!(Answer::Number(2.5).display(&q), "2.5");
    assert_eq!(Answer::Date(date(2027, 3, 31)).display(&q), "2027-03-31");
    assert_eq!(Answer::Choice(1).choice(), Some(1));
    assert_eq!(Answer::Number(1.0).choice(), None);
    assert_eq!(Answer::Number(2.5).number(), Some(2.5));
    assert_eq!(Answer::Choice(1).number(), None);
}

// ---------------------------------------------------------------------------
// Blank cells and spreadsheet errors

#[test]
fn empty_and_whitespace_cells_are_blank_for_every_type() {
    for kind in [
        QuestionType::Scale,
        QuestionType::Number,
        QuestionType::Date,
        QuestionType::Email,
        QuestionType::Text,
    ] {
        let q = question(kind);
        assert_eq!(check_answer(&q, &CellValue::Empty), Ok(Answer::Blank));
        assert_eq!(check_answer(&q, &text(" \t ")), Ok(Answer::Blank));
    }
}

#[test]
fn a_spreadsheet_error_is_a_cell_error_whatever_the_type() {
    for kind in [QuestionType::Number, QuestionType::Text] {
        let q = question(kind);
        assert_eq!(
            code(&q, &CellValue::Error("#REF!".into())),
            Some(Code::CellError)
        );
        assert!(message(&q, &CellValue::Error("#REF!".into())).contains("#REF!"));
    }
}

// ---------------------------------------------------------------------------
// Options

#[test]
fn a_number_shared_by_two_options_matches_neither() {
    let q = with_options(QuestionType::Scale, &["1 - Low", "1 - Lower", "2 - High"]);
    assert_eq!(match_option(&q, &text("1")), None, "ambiguous");
    assert_eq!(match_option(&q, &text("2")), Some(2));
    assert_eq!(match_option(&q, &CellValue::Bool(true)), None);
    assert_eq!(match_option(&q, &text("1 - lower")), Some(1));
}

#[test]
fn leading_numbers_read_decimals_and_a_trailing_point() {
    assert_eq!(leading_number("2.5 - Halfway"), Some(2.5));
    assert_eq!(leading_number("4."), Some(4.0));
    assert_eq!(leading_number("  7"), Some(7.0));
    assert_eq!(leading_number("3a"), None);
    assert_eq!(leading_number(""), None);
}

#[test]
fn yes_no_answers_match_their_options() {
    let q = with_options(QuestionType::YesNo, &["Yes", "No"]);
    assert_eq!(check_answer(&q, &text(" yes ")), Ok(Answer::Choice(0)));
    assert_eq!(check_answer(&q, &text("No")), Ok(Answer::Choice(1)));
    assert_eq!(code(&q, &text("Maybe")), Some(Code::NotAnOption));
}

// ---------------------------------------------------------------------------
// Numbers

fn between(min: Option<f64>, max: Option<f64>) -> Question {
    let mut q = question(QuestionType::Number);
    q.min = min;
    q.max = max;
    q
}

#[test]
fn numbers_at_the_minimum_and_maximum_are_accepted_and_just_beyond_are_not() {
    let q = between(Some(1.0), Some(5.0));
    assert_eq!(check_answer(&q, &num(1.0)), Ok(Answer::Number(1.0)));
    assert_eq!(check_answer(&q, &num(5.0)), Ok(Answer::Number(5.0)));
    assert_eq!(check_answer(&q, &num(1.01)), Ok(Answer::Number(1.01)));
    assert_eq!(check_answer(&q, &num(4.99)), Ok(Answer::Number(4.99)));
    assert_eq!(code(&q, &num(0.99)), Some(Code::OutOfRange));
    assert_eq!(code(&q, &num(5.01)), Some(Code::OutOfRange));
    assert_eq!(
        message(&q, &num(0.99)),
        "0.99 is out of range: enter a number from 1 to 5"
    );
}

#[test]
fn an_open_ended_range_says_which_end_it_has() {
    let at_least = between(Some(0.0), None);
    assert_eq!(
        check_answer(&at_least, &num(1e12)),
        Ok(Answer::Number(1e12))
    );
    assert_eq!(check_answer(&at_least, &num(0.0)), Ok(Answer::Number(0.0)));
    assert_eq!(
        message(&at_least, &num(-1.0)),
        "-1 is out of range: enter a number of 0 or more"
    );
    let at_most = between(None, Some(100.0));
    assert_eq!(
        check_answer(&at_most, &num(-50.0)),
        Ok(Answer::Number(-50.0))
    );
    assert_eq!(
        check_answer(&at_most, &num(100.0)),
        Ok(Answer::Number(100.0))
    );
    assert_eq!(
        message(&at_most, &num(100.5)),
        "100.5 is out of range: enter a number of at most 100"
    );
    let any = between(None, None);
    assert_eq!(check_answer(&any, &num(-7.0)), Ok(Answer::Number(-7.0)));
}

#[test]
fn whole_numbers_reject_fractions_only_when_asked() {
    let mut q = between(None, None);
    assert_eq!(check_answer(&q, &num(2.5)), Ok(Answer::Number(2.5)));
    q.whole = true;
    assert_eq!(check_answer(&q, &num(2.0)), Ok(Answer::Number(2.0)));
    assert_eq!(code(&q, &num(2.5)), Some(Code::OutOfRange));
    assert_eq!(message(&q, &num(2.5)), "2.5 must be a whole number");
}

#[test]
fn typed_numbers_may_have_a_pound_sign_and_commas_but_no_words() {
    let q = between(None, None);
    assert_eq!(
        check_answer(&q, &text(" £1,250.50 ")),
        Ok(Answer::Number(1250.5))
    );
    assert_eq!(check_answer(&q, &text("-3")), Ok(Answer::Number(-3.0)));
    assert_eq!(code(&q, &text("12 days")), Some(Code::NotANumber));
    assert_eq!(
        message(&q, &text(" 12 days ")),
        "'12 days' is not a number; enter a number only (no words or units)"
    );
}

#[test]
fn infinity_nan_true_and_dates_are_not_numbers() {
    let q = between(None, None);
    assert_eq!(code(&q, &num(f64::INFINITY)), Some(Code::NotANumber));
    assert_eq!(code(&q, &num(f64::NAN)), Some(Code::NotANumber));
    assert_eq!(code(&q, &text("inf")), Some(Code::NotANumber));
    assert_eq!(code(&q, &text("NaN")), Some(Code::NotANumber));
    assert_eq!(code(&q, &CellValue::Bool(true)), Some(Code::NotANumber));
    assert_eq!(
        code(&q, &CellValue::Date(date(2026, 1, 1))),
        Some(Code::NotANumber)
    );
}

// ---------------------------------------------------------------------------
// Dates

#[test]
fn dates_from_1990_to_2100_are_plausible_and_the_days_either_side_are_not() {
    let q = question(QuestionType::Date);
    for ok in [date(1990, 1, 1), date(2100, 12, 31), date(2026, 6, 15)] {
        assert_eq!(check_answer(&q, &CellValue::Date(ok)), Ok(Answer::Date(ok)));
    }
    for bad in [date(1989, 12, 31), date(2101, 1, 1)] {
        assert_eq!(
            code(&q, &CellValue::Date(bad)),
            Some(Code::OutOfRange),
            "{bad}"
        );
    }
    assert_eq!(
        message(&q, &text("31/12/1989")),
        "31/12/1989 is not a plausible date; check the year"
    );
}

#[test]
fn date_serials_are_read_only_between_1990_and_2100() {
    // Excel's serial day 1 is 1900-01-01, counted from 1899-12-30 (its 1900 leap-year
    // bug): 32874 is 1990-01-01 and 73415 is 2100-12-31 (chrono's day counts).
    let q = question(QuestionType::Date);
    assert_eq!(
        check_answer(&q, &num(32874.0)),
        Ok(Answer::Date(date(1990, 1, 1)))
    );
    assert_eq!(
        check_answer(&q, &num(73415.0)),
        Ok(Answer::Date(date(2100, 12, 31)))
    );
    // A time of day on the serial is dropped.
    assert_eq!(
        check_answer(&q, &num(46357.75)),
        Ok(Answer::Date(date(2026, 12, 1)))
    );
    // Just outside: a number, not a date.
    assert_eq!(code(&q, &num(32873.0)), Some(Code::NotADate));
    assert_eq!(code(&q, &num(73416.0)), Some(Code::NotADate));
    assert_eq!(code(&q, &num(5.0)), Some(Code::NotADate));
    assert_eq!(
        message(&q, &num(5.0)),
        "'5' is not a date; enter a date such as 31/03/2027"
    );
}

#[test]
fn typed_dates_in_the_usual_british_forms() {
    let q = question(QuestionType::Date);
    let want = Ok(Answer::Date(date(2027, 3, 31)));
    for t in [
        "31/03/2027",
        "2027-03-31",
        "31-03-2027",
        "31.03.2027",
        " 31/3/2027 ",
    ] {
        assert_eq!(check_answer(&q, &text(t)), want, "{t}");
    }
    assert_eq!(code(&q, &text("31/02/2027")), Some(Code::NotADate));
    assert_eq!(code(&q, &CellValue::Bool(false)), Some(Code::NotADate));
}

// ---------------------------------------------------------------------------
// Emails and text

#[test]
fn emails_are_trimmed_and_need_a_real_domain() {
    let q = question(QuestionType::Email);
    assert_eq!(
        check_answer(&q, &text("  ann@rochford.gov.uk ")),
        Ok(Answer::Text("ann@rochford.gov.uk".into()))
    );
    assert_eq!(code(&q, &text("ann@localhost")), Some(Code::InvalidEmail));
    assert_eq!(
        message(&q, &text(" ann ")),
        "'ann' is not a valid email address; enter one like name@rochford.gov.uk"
    );
}

#[test]
fn text_is_trimmed_and_numbers_read_as_typed() {
    let q = question(QuestionType::Text);
    assert_eq!(
        check_answer(&q, &text("  Shared outcomes  ")),
        Ok(Answer::Text("Shared outcomes".into()))
    );
    assert_eq!(check_answer(&q, &num(42.0)), Ok(Answer::Text("42".into())));
}

// ---------------------------------------------------------------------------
// How questions are named in messages

const FORM: &str = r#"
id = "np"
version = 1
title = "New"
[[bands]]
label = "Green"
min = 50
[[bands]]
label = "Red"
min = 0
[[risk_ratings]]
label = "High"
min = 15
[[risk_ratings]]
label = "Low"
min = 1
[option_sets]
scale = [{ label = "0 - None", points = 0 }, { label = "2 - Full", points = 2 }, { label = "Not applicable" }]
[[sections]]
id = "about"
title = "About"
[[sections.questions]]
id = "strategic"
text = "Is this a strategic partnership?"
type = "yes-no"
[[sections.questions]]
id = "budget"
text = "Budget"
type = "number"
required = true
min = 0
[[sections.questions]]
id = "notes"
text = "A question whose text is long enough to be cut short in messages about it, really"
type = "text"
[[sections]]
id = "model"
title = "Model"
required_when = { question = "strategic", answer = "yes" }
[[sections.questions]]
id = "ambition"
text = "Ambition"
type = "scale"
options_from = "scale"
required = true
[[sections.questions]]
id = "optional"
text = "Optional"
type = "scale"
options_from = "scale"
[[sections]]
id = "risks"
title = "Risks"
sheet = "Risk assessment"
layout = "risks"
rows = 3
required_rows = 1
"#;

fn form() -> Template {
    crate::template::parse(Path::new("np.toml"), FORM).unwrap()
}

#[test]
fn questions_are_named_by_their_number_on_the_form() {
    let t = form();
    assert_eq!(describe(&t, "budget"), "question 1.2 (\"Budget\")");
    assert_eq!(describe(&t, "optional"), "question 2.2 (\"Optional\")");
    // 81 characters: the first 67 and an ellipsis.
    assert_eq!(
        describe(&t, "notes"),
        "question 1.3 (\"A question whose text is long enough to be cut short in messages ab…\")"
    );
    assert_eq!(describe(&t, "nowhere"), "question nowhere");
    // A risk row's field is named by its own text, not a question number.
    let risk = t.question("risks_2_impact").unwrap().text.clone();
    assert_eq!(describe(&t, "risks_2_impact"), risk);
}

#[test]
fn question_text_of_exactly_70_characters_is_not_cut() {
    let seventy = "x".repeat(70);
    let t = crate::template::parse(
        Path::new("t.toml"),
        &FORM.replace("text = \"Budget\"", &format!("text = \"{seventy}\"")),
    )
    .unwrap();
    assert_eq!(
        describe(&t, "budget"),
        format!("question 1.2 (\"{seventy}\")")
    );
    let seventy_one = "y".repeat(71);
    let t = crate::template::parse(
        Path::new("t.toml"),
        &FORM.replace("text = \"Budget\"", &format!("text = \"{seventy_one}\"")),
    )
    .unwrap();
    assert_eq!(
        describe(&t, "budget"),
        format!("question 1.2 (\"{}…\")", "y".repeat(67))
    );
}

#[test]
fn capitalise_only_the_first_letter() {
    assert_eq!(capitalise("question 1.2"), "Question 1.2");
    assert_eq!(capitalise("équipe"), "Équipe");
    assert_eq!(capitalise(""), "");
}

// ---------------------------------------------------------------------------
// Whole returns

/// Cells as a reader would hand them over: every question of the form at a cell of
/// its own (row = position in the form), blank unless given a value.
fn cells(t: &Template, values: &[(&str, CellValue)]) -> HashMap<String, (CellRef, CellValue)> {
    let given: HashMap<&str, &CellValue> = values.iter().map(|(k, v)| (*k, v)).collect();
    t.questions()
        .enumerate()
        .map(|(i, (s, q))| {
            let cell = CellRef {
                sheet: s.sheet.clone(),
                row: i as u32,
                col: 2,
            };
            let v = given
                .get(q.id.as_str())
                .map_or(CellValue::Empty, |v| (*v).clone());
            (q.id.clone(), (cell, v))
        })
        .collect()
}

/// (code, question id) of each finding, sorted.
fn found(findings: &[Finding]) -> Vec<(Code, String)> {
    let mut v: Vec<(Code, String)> = findings
        .iter()
        .map(|f| (f.code, f.question_id.clone()))
        .collect();
    v.sort();
    v
}

fn risk_row(n: usize, risk: &str, likelihood: f64, impact: f64) -> Vec<(String, CellValue)> {
    vec![
        (format!("risks_{n}_risk"), text(risk)),
        (format!("risks_{n}_likelihood"), num(likelihood)),
        (format!("risks_{n}_impact"), num(impact)),
    ]
}

fn validate(
    t: &Template,
    values: Vec<(String, CellValue)>,
) -> (HashMap<String, Answer>, Vec<Finding>) {
    let borrowed: Vec<(&str, CellValue)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    validate_return(t, &cells(t, &borrowed))
}

fn v(id: &str, value: CellValue) -> (String, CellValue) {
    (id.to_string(), value)
}

#[test]
fn a_complete_return_gives_every_answer_and_no_findings() {
    let t = form();
    let mut values = vec![
        v("strategic", text("Yes")),
        v("budget", text("£2,000")),
        v("notes", text(" fine ")),
        v("ambition", text("2")),
    ];
    values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
    let (answers, findings) = validate(&t, values);
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(answers["strategic"], Answer::Choice(0));
    assert_eq!(answers["budget"], Answer::Number(2000.0));
    assert_eq!(answers["notes"], Answer::Text("fine".into()));
    assert_eq!(answers["ambition"], Answer::Choice(1));
    assert_eq!(answers["optional"], Answer::Blank);
    assert_eq!(answers["risks_1_impact"], Answer::Number(5.0));
    assert_eq!(answers["risks_3_risk"], Answer::Blank);
    // Every question of the form has an answer, blank or not.
    assert_eq!(answers.len(), t.questions().count());
}

#[test]
fn a_blank_required_answer_is_missing_with_its_cell_and_number() {
    let t = form();
    let mut values = vec![v("strategic", text("No"))];
    values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
    let (_, findings) = validate(&t, values);
    assert_eq!(
        found(&findings),
        vec![(Code::MissingAnswer, "budget".to_string())]
    );
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Error);
    // budget is the form's second question: row index 1, column C.
    assert_eq!(f.cell, "C2");
    assert_eq!(
        f.message,
        "Question 1.2 (\"Budget\") has no answer; it must be answered"
    );
}

#[test]
fn an_invalid_answer_is_reported_once_not_also_as_missing() {
    let t = form();
    let mut values = vec![v("budget", text("lots")), v("strategic", text("Perhaps"))];
    values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
    let (answers, findings) = validate(&t, values);
    assert_eq!(
        found(&findings),
        vec![
            (Code::NotAnOption, "strategic".to_string()),
            (Code::NotANumber, "budget".to_string()),
        ]
    );
    let budget = findings.iter().find(|f| f.question_id == "budget").unwrap();
    assert_eq!(
        budget.message,
        "Question 1.2 (\"Budget\"): 'lots' is not a number; enter a number only (no words or units)"
    );
    // Kept as typed, so it is neither blank nor a choice.
    assert_eq!(answers["budget"], Answer::Text("lots".into()));
    assert_eq!(answers["strategic"], Answer::Text("Perhaps".into()));
}

#[test]
fn a_conditional_section_is_required_only_when_its_condition_holds() {
    let t = form();
    let with = |strategic: Option<&str>| {
        let mut values = vec![v("budget", num(0.0))];
        if let Some(s) = strategic {
            values.push(v("strategic", text(s)));
        }
        values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
        found(&validate(&t, values).1)
    };
    // The condition's answer "yes" matches the option "Yes" whatever the case.
    assert_eq!(
        with(Some("Yes")),
        vec![(Code::MissingAnswer, "ambition".to_string())],
        "strategic: the model's required step must be answered, its optional one need not"
    );
    assert_eq!(with(Some("No")), vec![], "not strategic");
    assert_eq!(
        with(None),
        vec![],
        "not answered: the section does not apply"
    );
    assert_eq!(
        with(Some("Maybe")),
        vec![(Code::NotAnOption, "strategic".to_string())],
        "an invalid answer does not make the section apply"
    );
}

#[test]
fn a_condition_on_a_question_the_form_lacks_never_applies() {
    let t = crate::template::parse(
        Path::new("t.toml"),
        &FORM.replace(
            "required_when = { question = \"strategic\", answer = \"yes\" }",
            "",
        ),
    )
    .unwrap();
    let mut t2 = t.clone();
    t2.sections[1].required_when = Some(crate::template::Condition {
        question: "gone".into(),
        answer: "Yes".into(),
    });
    let mut values = vec![v("budget", num(0.0)), v("strategic", text("Yes"))];
    values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
    assert_eq!(
        found(&validate(&t, values.clone()).1),
        vec![(Code::MissingAnswer, "ambition".to_string())],
        "without a condition the section is always required"
    );
    assert_eq!(found(&validate(&t2, values).1), vec![]);
}

#[test]
fn a_partly_filled_risk_row_names_each_missing_field() {
    let t = form();
    let mut values = vec![v("budget", num(0.0))];
    values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
    values.push(v("risks_2_risk", text("Staff leave")));
    // Row 3 left empty: nothing to say.
    let (_, findings) = validate(&t, values);
    assert_eq!(
        found(&findings),
        vec![
            (Code::IncompleteRisk, "risks_2_impact".to_string()),
            (Code::IncompleteRisk, "risks_2_likelihood".to_string()),
        ]
    );
    let f = findings
        .iter()
        .find(|f| f.question_id == "risks_2_likelihood")
        .unwrap();
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(
        f.message,
        "Risk 2 is partly filled in: its likelihood is missing. Give a description, a likelihood and an impact, or clear the row"
    );
}

#[test]
fn a_risk_row_with_only_a_rating_is_partly_filled_too() {
    let t = form();
    let mut values = vec![v("budget", num(0.0))];
    values.extend(risk_row(1, "Funding ends", 3.0, 5.0));
    values.push(v("risks_3_impact", num(4.0)));
    values.push(v("risks_3_likelihood", num(2.0)));
    assert_eq!(
        found(&validate(&t, values).1),
        vec![(Code::IncompleteRisk, "risks_3_risk".to_string())]
    );
}

#[test]
fn the_required_risk_row_is_missing_not_incomplete() {
    let t = form();
    // Row 1 is required: its blank fields are missing answers, reported once each.
    let values = vec![
        v("budget", num(0.0)),
        v("risks_1_risk", text("Funding ends")),
    ];
    assert_eq!(
        found(&validate(&t, values).1),
        vec![
            (Code::MissingAnswer, "risks_1_impact".to_string()),
            (Code::MissingAnswer, "risks_1_likelihood".to_string()),
        ]
    );
    // Wholly empty, every field of it is missing.
    let values = vec![v("budget", num(0.0))];
    assert_eq!(
        found(&validate(&t, values).1),
        vec![
            (Code::MissingAnswer, "risks_1_impact".to_string()),
            (Code::MissingAnswer, "risks_1_likelihood".to_string()),
            (Code::MissingAnswer, "risks_1_risk".to_string()),
        ]
    );
}

#[test]
fn questions_the_file_lacks_are_left_to_the_structure_check() {
    let t = form();
    let mut all = cells(&t, &[("budget", num(1.0))]);
    all.remove("risks_1_risk");
    all.remove("risks_1_likelihood");
    all.remove("risks_1_impact");
    all.remove("risks_2_risk");
    all.insert(
        "risks_2_likelihood".into(),
        (
            CellRef {
                sheet: "Risks".into(),
                row: 30,
                col: 3,
            },
            num(2.0),
        ),
    );
    let (answers, findings) = validate_return(&t, &all);
    assert!(!answers.contains_key("risks_1_risk"));
    // risks_2: likelihood given, impact blank, risk not in the file at all: only the
    // blank cell the file has is reported.
    assert_eq!(
        found(&findings),
        vec![(Code::IncompleteRisk, "risks_2_impact".to_string())]
    );
}
