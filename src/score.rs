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
/// question, or `None` when it was not answered.
pub fn score(template: &Template, chosen: impl Fn(&str) -> Option<usize>) -> Score {
    let mut sections = Vec::new();
    let (mut weighted, mut weights) = (0.0, 0.0);
    for section in template.sections.iter().filter(|s| s.is_scored()) {
        let (mut points, mut max_points, mut counted) = (0.0, 0.0, 0);
        for q in section.questions.iter().filter(|q| q.is_scored()) {
            let Some(pts) = chosen(&q.id)
                .and_then(|i| q.options.get(i))
                .and_then(|o| o.points)
            else {
                continue;
            };
            points += pts;
            max_points += q.max_points().unwrap_or(0.0);
            counted += 1;
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
    Score {
        sections,
        overall,
        band,
    }
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

    #[test]
    fn change_needs_both_years() {
        assert_eq!(change(Some(70.0), Some(62.5)), Some(7.5));
        assert_eq!(change(Some(70.0), None), None);
    }
}
