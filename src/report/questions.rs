//! Per-statement statistics for the Sections sheet: the average points over the
//! answers that score, how many gave each answer, and last year's average.

use std::collections::BTreeMap;

use crate::store::QuestionStat;
use crate::template::Template;

/// Per-question statistics for the Sections sheet.
#[derive(Debug, Clone)]
pub struct QuestionStats {
    pub section: String,
    pub number: String,
    pub question_id: String,
    pub text: String,
    pub average: Option<f64>,
    /// How many returns the average is over (answers that score).
    pub answered: usize,
    pub max_points: f64,
    /// Option label → count, in option order.
    pub distribution: Vec<(String, usize)>,
    pub last_year_average: Option<f64>,
}

/// One entry per scored question of the scored template, in form order.
pub(super) fn question_stats(
    scored: &Template,
    now: &BTreeMap<String, QuestionStat>,
    before: &BTreeMap<String, QuestionStat>,
) -> Vec<QuestionStats> {
    let mut questions = Vec::new();
    for (si, s) in scored.sections.iter().enumerate() {
        if !s.is_scored() {
            continue;
        }
        for (qi, q) in s.questions.iter().enumerate() {
            if !q.is_scored() {
                continue;
            }
            let now = now.get(&q.id);
            let count = |label: &str| now.and_then(|(_, d)| d.get(label)).copied().unwrap_or(0);
            let distribution = q
                .options
                .iter()
                .map(|o| (o.label.clone(), count(&o.label)))
                .collect();
            let answered = q
                .options
                .iter()
                .filter(|o| o.points.is_some())
                .map(|o| count(&o.label))
                .sum();
            questions.push(QuestionStats {
                section: s.title.clone(),
                number: format!("{}.{}", si + 1, qi + 1),
                question_id: q.id.clone(),
                text: q.text.clone(),
                average: now.and_then(|(a, _)| *a),
                answered,
                max_points: q.max_points().unwrap_or(0.0),
                distribution,
                last_year_average: before.get(&q.id).and_then(|(a, _)| *a),
            });
        }
    }
    questions
}
