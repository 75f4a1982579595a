//! Checking one question of a template (its id, type, options and limits).

use std::collections::HashMap;

use super::check::{valid_question_id, Checker};
use super::model::{AnswerOption, Question, QuestionType};
use super::normalise_label;
use super::raw::RawQuestion;

/// Excel's limit on an inline dropdown list (all labels plus separators).
const MAX_LIST_CHARS: usize = 255;

impl Checker<'_> {
    pub(super) fn build_question(
        &mut self,
        rq: RawQuestion,
        option_sets: &HashMap<String, Vec<AnswerOption>>,
        question_ids: &mut HashMap<String, usize>,
    ) -> Option<Question> {
        let at = rq.id.span().start;
        let line = self.lines.line(at);
        let id = rq.id.get_ref().trim().to_string();
        if !valid_question_id(&id) {
            self.problem(at, format!("question id '{id}' must start with a letter and use only letters, digits and single underscores (at most 40 characters)"));
        }
        if let Some(first) = question_ids.insert(id.to_lowercase(), line) {
            self.problem(at, format!("question id '{id}' is used twice (first at line {first}); give each question its own id"));
        }
        if rq.text.trim().is_empty() {
            self.problem(at, format!("question '{id}' has no text"));
        }
        let kind = *rq.kind.get_ref();
        let what = format!("question '{id}'");
        let options = self.options(
            at,
            &what,
            kind,
            rq.options,
            rq.options_from.as_ref(),
            option_sets,
        );
        let since = self.since(rq.since.as_ref());
        if (rq.min.is_some() || rq.max.is_some() || rq.whole) && kind != QuestionType::Number {
            self.problem(
                at,
                format!("question '{id}': min, max and whole only apply to number questions"),
            );
        }
        if let (Some(lo), Some(hi)) = (rq.min, rq.max) {
            if lo > hi {
                self.problem(at, format!("question '{id}' has min {lo} above max {hi}"));
            }
        }
        Some(Question {
            id,
            text: rq.text.trim().to_string(),
            help: rq
                .help
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            kind,
            required: rq.required,
            options,
            evidence: rq.evidence,
            in_review: rq.in_review,
            min: rq.min,
            max: rq.max,
            whole: rq.whole,
            since,
            line,
        })
    }

    /// The version a question or setting was first asked in (`since`, default 1).
    pub(super) fn since(&mut self, raw: Option<&toml::Spanned<i64>>) -> u32 {
        match raw {
            None => 1,
            Some(v) if *v.get_ref() >= 1 && *v.get_ref() <= i64::from(u32::MAX) => {
                *v.get_ref() as u32
            }
            Some(v) => {
                self.problem(
                    v.span().start,
                    format!(
                        "since must be the template version that first asked it, 1 or more (found {})",
                        v.get_ref()
                    ),
                );
                1
            }
        }
    }

    /// The options of a question or table column (`what` names it in messages), checked
    /// against what an Excel dropdown can show.
    pub(super) fn options(
        &mut self,
        at: usize,
        what: &str,
        kind: QuestionType,
        raw: Option<Vec<AnswerOption>>,
        options_from: Option<&toml::Spanned<String>>,
        option_sets: &HashMap<String, Vec<AnswerOption>>,
    ) -> Vec<AnswerOption> {
        let mut options = match (raw, options_from) {
            (Some(_), Some(from)) => {
                self.problem(
                    from.span().start,
                    format!("{what} has both options and options_from; keep one"),
                );
                Vec::new()
            }
            (Some(o), None) => o,
            (None, Some(from)) => match option_sets.get(from.get_ref()) {
                Some(o) => o.clone(),
                None => {
                    self.problem(from.span().start, format!("{what} uses options_from = '{}', but there is no [option_sets] entry with that name", from.get_ref()));
                    Vec::new()
                }
            },
            (None, None) => Vec::new(),
        };
        if kind == QuestionType::YesNo && options.is_empty() {
            options = vec![
                AnswerOption {
                    label: "Yes".into(),
                    points: None,
                },
                AnswerOption {
                    label: "No".into(),
                    points: None,
                },
            ];
        }
        if kind.has_options() {
            if options.is_empty() {
                self.problem(
                    at,
                    format!("{what} is a {} question but has no options", kind.name()),
                );
            }
            if kind == QuestionType::Scale && !options.iter().any(|o| o.points.is_some()) {
                self.problem(at, format!("{what} is a scored scale but none of its options has points; add points = N to each scored option"));
            }
            let mut seen = HashMap::new();
            for o in &options {
                let label = o.label.trim();
                if label.is_empty() {
                    self.problem(at, format!("{what} has an option with an empty label"));
                }
                if label.contains([',', '"']) {
                    self.problem(at, format!("{what}: option '{label}' contains a comma or a double quote, which Excel dropdown lists cannot show; reword it"));
                }
                if seen.insert(normalise_label(label), ()).is_some() {
                    self.problem(at, format!("{what} has the option '{label}' twice"));
                }
                if let Some(p) = o.points {
                    if !(p.is_finite() && p >= 0.0) {
                        self.problem(at, format!("{what}: option '{label}' has points = {p}; points must be 0 or more"));
                    }
                }
            }
            let list_len: usize = options
                .iter()
                .map(|o| o.label.trim().chars().count() + 1)
                .sum();
            if list_len > MAX_LIST_CHARS + 1 {
                self.problem(at, format!("{what}: its option labels add up to {} characters, more than the {MAX_LIST_CHARS} an Excel dropdown can hold; shorten them", list_len - 1));
            }
        } else if !options.is_empty() {
            self.problem(at, format!("{what} is a {} question, which cannot have options (only scale, choice and yes-no can)", kind.name()));
        }
        options
            .into_iter()
            .map(|o| AnswerOption {
                label: o.label.trim().to_string(),
                points: o.points,
            })
            .collect()
    }
}
