//! Scoring: pure functions over plain data, so the rules can be checked by hand.
//!
//! - A question's points are its chosen option's points. Options without points
//!   ("Not applicable") and unanswered questions are left out of both the points
//!   and the maximum.
//! - Section percent = 100 × Σ points ÷ Σ maximum points over the counted questions.
//! - Overall percent = Σ(weight × section percent) ÷ Σ weight, over sections with at
//!   least one counted question.
//! - The band comes from the template's thresholds. Values are kept unrounded.

use crate::template::Template;

/// An earlier year's score for one section (or `overall`), for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorScore {
    pub year: i32,
    /// A section id, or `overall`.
    pub scope: String,
    pub percent: f64,
}

/// The scope name used for the overall score in stores and CSVs.
pub const OVERALL: &str = "overall";

/// The id of the self-assessment question that asks for the partnership's life-cycle
/// stage (Forming, Frustration, Functioning, Flying, Failing).
pub const STAGE_QUESTION: &str = "stage";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SectionScore {
    pub section_id: String,
    pub points: f64,
    pub max_points: f64,
    /// Questions that counted (answered with a scored option).
    pub counted: usize,
    /// `None` when no question in the section counted.
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Score {
    pub sections: Vec<SectionScore>,
    pub overall: Option<f64>,
    pub band: Option<String>,
}

/// Scores a return. `chosen(question_id)` gives the index of the option chosen for a
/// question, or `None` when it was not answered. One respondent's [`aggregate`].
pub fn score(template: &Template, chosen: impl Fn(&str) -> Option<usize>) -> Score {
    let points = |id: &str| {
        let q = template.question(id)?;
        chosen(id)
            .and_then(|i| q.options.get(i))
            .and_then(|o| o.points)
    };
    aggregate(template, &[&points]).score
}

/// One respondent's answers as `points(question_id)`: the points of the scored option
/// chosen, or `None` (Not applicable, blank, or not a scored question).
pub type PointsOf<'a> = &'a dyn Fn(&str) -> Option<f64>;

/// A partnership's score from all its respondents' returns, and how far they agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub score: Score,
    /// One per scored question of the template, in template order.
    pub questions: Vec<QuestionPoints>,
}

/// Every respondent's points for one scored question.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionPoints {
    pub question_id: String,
    /// In the order the respondents were given; `None`: Not applicable or blank.
    pub points: Vec<Option<f64>>,
    /// Mean over the respondents who chose a scored option.
    pub mean: Option<f64>,
    /// Highest − lowest points, when two or more respondents chose a scored option.
    pub spread: Option<f64>,
}

impl QuestionPoints {
    /// Whether the respondents' views differ by at least `threshold` points.
    pub fn disagrees(&self, threshold: f64) -> bool {
        self.spread.is_some_and(|s| s >= threshold - 1e-9)
    }
}

/// Scores a partnership from its respondents, each given as `points(question_id)`:
/// the points of the scored option they chose, or `None` (Not applicable, blank).
///
/// - Question mean = mean of the points of the respondents who chose a scored option.
/// - Section percent = 100 × Σ question means ÷ Σ question maximum points, over the
///   questions with at least one scored answer.
/// - Overall = Σ(weight × section percent) ÷ Σ weight over sections that counted; the
///   band from the overall. With one respondent this is that respondent's own score.
pub fn aggregate(template: &Template, respondents: &[PointsOf<'_>]) -> Aggregate {
    let mut sections = Vec::new();
    let mut questions = Vec::new();
    let (mut weighted, mut weights) = (0.0, 0.0);
    for section in template.sections.iter().filter(|s| s.is_scored()) {
        let (mut points, mut max_points, mut counted) = (0.0, 0.0, 0);
        for q in section.questions.iter().filter(|q| q.is_scored()) {
            let each: Vec<Option<f64>> = respondents.iter().map(|r| r(&q.id)).collect();
            let scored: Vec<f64> = each.iter().flatten().copied().collect();
            let mean =
                (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64);
            let spread = (scored.len() >= 2).then(|| {
                let hi = scored.iter().copied().fold(f64::MIN, f64::max);
                let lo = scored.iter().copied().fold(f64::MAX, f64::min);
                hi - lo
            });
            if let Some(m) = mean {
                points += m;
                max_points += q.max_points().unwrap_or(0.0);
                counted += 1;
            }
            questions.push(QuestionPoints {
                question_id: q.id.clone(),
                points: each,
                mean,
                spread,
            });
        }
        let percent = (counted > 0 && max_points > 0.0).then(|| 100.0 * points / max_points);
        if let Some(p) = percent {
            weighted += section.weight * p;
            weights += section.weight;
        }
        sections.push(SectionScore {
            section_id: section.id.clone(),
            points,
            max_points,
            counted,
            percent,
        });
    }
    let overall = (weights > 0.0).then(|| weighted / weights);
    let band = overall
        .and_then(|o| template.band_for(o))
        .map(|b| b.label.clone());
    Aggregate {
        score: Score {
            sections,
            overall,
            band,
        },
        questions,
    }
}

/// The answer most respondents gave (e.g. the life-cycle stage), blanks left out; a tie
/// reads "mixed: Functioning / Frustration", in the order the answers were first given.
pub fn most_common(answers: &[&str]) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for a in answers.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        match counts.iter_mut().find(|(x, _)| *x == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    let top = counts.iter().map(|(_, n)| *n).max()?;
    let tied: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| *n == top)
        .map(|(a, _)| *a)
        .collect();
    Some(if tied.len() == 1 {
        tied[0].to_string()
    } else {
        format!("mixed: {}", tied.join(" / "))
    })
}

/// A risk's score: likelihood × impact (each 1–5), and its rating from the template.
pub fn risk_score(template: &Template, likelihood: f64, impact: f64) -> (f64, Option<String>) {
    let s = likelihood * impact;
    (s, template.risk_rating_for(s).map(|r| r.label.clone()))
}

/// Change in percentage points from an earlier score, if both exist.
pub fn change(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    Some(now? - before?)
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod by_hand_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    /// Two sections: A (weight 2) with three 0–4 questions, B (weight 1) with two 0–2
    /// questions. Every scale has "Not applicable" without points.
    fn template() -> Template {
        let text = r#"
id = "t"
version = 1
title = "T"
[[bands]]
label = "Green"
min = 75
[[bands]]
label = "Amber"
min = 50
[[bands]]
label = "Red"
min = 0
[option_sets]
four = [{ label = "0", points = 0 }, { label = "1", points = 1 }, { label = "2", points = 2 }, { label = "3", points = 3 }, { label = "4", points = 4 }, { label = "Not applicable" }]
two = [{ label = "0", points = 0 }, { label = "1", points = 1 }, { label = "2", points = 2 }, { label = "Not applicable" }]
[[sections]]
id = "a"
title = "A"
weight = 2
[[sections.questions]]
id = "a1"
text = "a1"
type = "scale"
options_from = "four"
[[sections.questions]]
id = "a2"
text = "a2"
type = "scale"
options_from = "four"
[[sections.questions]]
id = "a3"
text = "a3"
type = "scale"
options_from = "four"
[[sections.questions]]
id = "note"
text = "not scored"
type = "text"
[[sections]]
id = "b"
title = "B"
[[sections.questions]]
id = "b1"
text = "b1"
type = "scale"
options_from = "two"
[[sections.questions]]
id = "b2"
text = "b2"
type = "scale"
options_from = "two"
[[sections]]
id = "c"
title = "Unscored"
[[sections.questions]]
id = "stage"
text = "Stage"
type = "choice"
options = [{ label = "Forming" }, { label = "Flying" }]
"#;
        crate::template::parse(Path::new("t.toml"), text).unwrap()
    }

    fn run(answers: &[(&str, usize)]) -> Score {
        let m: HashMap<&str, usize> = answers.iter().copied().collect();
        score(&template(), |id| m.get(id).copied())
    }

    #[test]
    fn full_marks_and_weights() {
        // A: 4+2+3 = 9 of 12 = 75%; B: 1+1 = 2 of 4 = 50%.
        // Overall = (2×75 + 1×50) / 3 = 66.67 → Amber.
        let s = run(&[("a1", 4), ("a2", 2), ("a3", 3), ("b1", 1), ("b2", 1)]);
        assert_eq!(s.sections.len(), 2, "unscored sections are left out");
        assert_eq!(s.sections[0].percent, Some(75.0));
        assert_eq!(s.sections[1].percent, Some(50.0));
        assert!((s.overall.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.band.as_deref(), Some("Amber"));
    }

    #[test]
    fn not_applicable_is_left_out_of_both_sides() {
        // a2 is N/A (index 5): A = 4+3 of 8 = 87.5%.
        let s = run(&[("a1", 4), ("a2", 5), ("a3", 3), ("b1", 2), ("b2", 2)]);
        assert_eq!(s.sections[0].percent, Some(87.5));
        assert_eq!(s.sections[0].counted, 2);
        assert_eq!(s.sections[0].max_points, 8.0);
        // (2×87.5 + 100) / 3 = 91.67 → Green
        assert_eq!(s.band.as_deref(), Some("Green"));
    }

    #[test]
    fn partial_section_counts_only_answered_questions() {
        // Only a1 answered (2 of 4 = 50%); B all N/A so B drops out of the overall.
        let s = run(&[("a1", 2), ("b1", 3), ("b2", 3)]);
        assert_eq!(s.sections[0].percent, Some(50.0));
        assert_eq!(s.sections[1].percent, None);
        assert_eq!(
            s.overall,
            Some(50.0),
            "weights only over sections that counted"
        );
        assert_eq!(s.band.as_deref(), Some("Amber"));
    }

    #[test]
    fn nothing_answered_gives_no_score() {
        let s = run(&[]);
        assert_eq!(s.overall, None);
        assert_eq!(s.band, None);
    }

    #[test]
    fn zero_is_a_score_not_a_blank() {
        let s = run(&[("a1", 0), ("b1", 0)]);
        assert_eq!(s.sections[0].percent, Some(0.0));
        assert_eq!(s.overall, Some(0.0));
        assert_eq!(s.band.as_deref(), Some("Red"));
    }

    /// Respondents as maps of question → points (absent: blank or Not applicable).
    fn agg(respondents: &[&[(&str, f64)]]) -> Aggregate {
        let maps: Vec<HashMap<&str, f64>> = respondents
            .iter()
            .map(|r| r.iter().copied().collect())
            .collect();
        let fns: Vec<_> = maps
            .iter()
            .map(|m| move |id: &str| m.get(id).copied())
            .collect();
        let refs: Vec<PointsOf<'_>> = fns.iter().map(|f| f as PointsOf<'_>).collect();
        aggregate(&template(), &refs)
    }

    #[test]
    fn section_percent_uses_question_means_over_answered_questions() {
        // a1: 4, 2 → mean 3; a2: 1 and N/A → 1; a3: N/A and blank → left out.
        // A = (3 + 1) / (4 + 4) = 50%. b1: 2, 0 → 1; b2: 2 (one blank) → 2: B = 3 / 4 = 75%.
        // Overall = (2 × 50 + 75) / 3 = 58.33 → Amber.
        let a = agg(&[
            &[("a1", 4.0), ("a2", 1.0), ("b1", 2.0), ("b2", 2.0)],
            &[("a1", 2.0), ("b1", 0.0)],
        ]);
        assert_eq!(a.score.sections[0].percent, Some(50.0));
        assert_eq!(a.score.sections[0].counted, 2);
        assert_eq!(a.score.sections[1].percent, Some(75.0));
        assert!((a.score.overall.unwrap() - 175.0 / 3.0).abs() < 1e-9);
        assert_eq!(a.score.band.as_deref(), Some("Amber"));
        let q = |id: &str| a.questions.iter().find(|q| q.question_id == id).unwrap();
        assert_eq!(q("a1").spread, Some(2.0));
        assert!(q("a1").disagrees(2.0));
        assert_eq!(q("a2").spread, None, "one scored answer has no spread");
        assert_eq!(q("a3").mean, None);
        assert_eq!(q("b1").points, vec![Some(2.0), Some(0.0)]);
        assert!(q("b1").disagrees(2.0));
    }

    #[test]
    fn a_one_point_difference_is_not_a_disagreement_at_two() {
        let a = agg(&[&[("a1", 3.0)], &[("a1", 2.0)], &[("a1", 3.0)]]);
        let q = &a.questions[0];
        assert_eq!(q.spread, Some(1.0));
        assert!(!q.disagrees(2.0));
        assert!((q.mean.unwrap() - 8.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_most_common_stage_wins_and_a_tie_is_mixed() {
        assert_eq!(
            most_common(&["Flying", "Forming", "Flying"]).as_deref(),
            Some("Flying")
        );
        assert_eq!(
            most_common(&["Functioning", "", "Frustration"]).as_deref(),
            Some("mixed: Functioning / Frustration")
        );
        assert_eq!(most_common(&["", " "]), None);
    }

    #[test]
    fn change_needs_both_years() {
        assert_eq!(change(Some(70.0), Some(62.5)), Some(7.5));
        assert_eq!(change(Some(70.0), None), None);
    }
}
