//! Scoring pinned with figures worked out by hand (the working is in the comments):
//! several respondents, a single respondent, risk scores and ratings at each band's
//! edge, and sections that cannot count.

use std::collections::HashMap;
use std::path::Path;

use super::*;

/// Section A (weight 3): a1, a2 scored 0–4. Section B (weight 1): b1 scored 0–2, b2
/// scored 1–3 (its lowest option is worth 1). Section Z (weight 1): z1 whose every
/// option is worth 0, so it has no maximum to divide by. Bands: Green ≥ 80, Amber ≥ 60,
/// Red ≥ 0. Risk ratings: High ≥ 15, Medium ≥ 8, Low ≥ 1.
const TEMPLATE: &str = r#"
id = "t"
version = 1
title = "T"
[[bands]]
label = "Green"
min = 80
[[bands]]
label = "Amber"
min = 60
[[bands]]
label = "Red"
min = 0
[[risk_ratings]]
label = "High"
min = 15
[[risk_ratings]]
label = "Medium"
min = 8
[[risk_ratings]]
label = "Low"
min = 1
[option_sets]
four = [{ label = "0", points = 0 }, { label = "1", points = 1 }, { label = "2", points = 2 }, { label = "3", points = 3 }, { label = "4", points = 4 }, { label = "Not applicable" }]
two = [{ label = "0", points = 0 }, { label = "1", points = 1 }, { label = "2", points = 2 }, { label = "Not applicable" }]
[[sections]]
id = "a"
title = "A"
weight = 3
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
options = [{ label = "Low", points = 1 }, { label = "Mid", points = 2 }, { label = "High", points = 3 }]
[[sections]]
id = "z"
title = "Z"
[[sections.questions]]
id = "z1"
text = "z1"
type = "scale"
options = [{ label = "Nothing", points = 0 }, { label = "Still nothing", points = 0 }]
"#;

fn template() -> Template {
    crate::template::parse(Path::new("t.toml"), TEMPLATE).unwrap()
}

/// Respondents as question → points (absent: blank or Not applicable).
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

fn close(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() < 1e-9)
}

fn section<'a>(s: &'a Score, id: &str) -> &'a SectionScore {
    s.sections.iter().find(|x| x.section_id == id).unwrap()
}

fn question<'a>(a: &'a Aggregate, id: &str) -> &'a QuestionPoints {
    a.questions.iter().find(|q| q.question_id == id).unwrap()
}

#[test]
fn one_respondent_is_scored_from_their_own_points() {
    // A: a1 = 3, a2 = 1: 4 of 8 = 50%. B: b1 = 2 of 2, b2 = 3 of 3: 5 of 5 = 100%.
    // Z: z1 = 0 of 0: no percent, so it is left out of the overall.
    // Overall = (3 × 50 + 1 × 100) / (3 + 1) = 250 / 4 = 62.5 → Amber.
    let a = agg(&[&[
        ("a1", 3.0),
        ("a2", 1.0),
        ("b1", 2.0),
        ("b2", 3.0),
        ("z1", 0.0),
    ]]);
    let s = &a.score;
    assert_eq!(
        s.sections
            .iter()
            .map(|x| x.section_id.as_str())
            .collect::<Vec<_>>(),
        ["a", "b", "z"]
    );
    assert_eq!(section(s, "a").points, 4.0);
    assert_eq!(section(s, "a").max_points, 8.0);
    assert_eq!(section(s, "a").counted, 2);
    assert_eq!(section(s, "a").percent, Some(50.0));
    assert_eq!(section(s, "b").points, 5.0);
    assert_eq!(section(s, "b").max_points, 5.0);
    assert_eq!(section(s, "b").percent, Some(100.0));
    assert_eq!(section(s, "z").counted, 1);
    assert_eq!(section(s, "z").max_points, 0.0);
    assert_eq!(section(s, "z").percent, None, "nothing to divide by");
    assert_eq!(s.overall, Some(62.5));
    assert_eq!(s.band.as_deref(), Some("Amber"));
    // One respondent: their points are the mean, and there is no spread.
    assert_eq!(question(&a, "a1").points, vec![Some(3.0)]);
    assert_eq!(question(&a, "a1").mean, Some(3.0));
    assert_eq!(question(&a, "a1").spread, None);
}

#[test]
fn score_reads_the_chosen_options_points() {
    // Indexes into the options: a1 "4" (4 points), a2 "Not applicable" (none),
    // b1 "1" (1 point), b2 "Low" (1 point); z1 unanswered.
    // A: 4 of 4 = 100%. B: 2 of 5 = 40%. Overall = (3 × 100 + 40) / 4 = 85 → Green.
    let chosen: HashMap<&str, usize> = [("a1", 4), ("a2", 5), ("b1", 1), ("b2", 0)].into();
    let s = score(&template(), |id| chosen.get(id).copied());
    assert_eq!(section(&s, "a").percent, Some(100.0));
    assert_eq!(section(&s, "a").counted, 1);
    assert_eq!(section(&s, "b").percent, Some(40.0));
    assert_eq!(s.overall, Some(85.0));
    assert_eq!(s.band.as_deref(), Some("Green"));
    // An index beyond the options counts as unanswered.
    let s = score(&template(), |id| (id == "a1").then_some(9));
    assert_eq!(s.overall, None);
}

#[test]
fn three_respondents_are_averaged_question_by_question() {
    // a1: 4, 2, 0      → mean 2,   spread 4
    // a2: 3, N/A, 1    → mean 2,   spread 2
    // b1: 2, 2, blank  → mean 2,   spread 0
    // b2: blank ×3     → left out
    // A = (2 + 2) / (4 + 4) = 50%. B = 2 / 2 = 100%.
    // Overall = (3 × 50 + 100) / 4 = 62.5 → Amber.
    let a = agg(&[
        &[("a1", 4.0), ("a2", 3.0), ("b1", 2.0)],
        &[("a1", 2.0), ("b1", 2.0)],
        &[("a1", 0.0), ("a2", 1.0)],
    ]);
    assert_eq!(section(&a.score, "a").points, 4.0);
    assert_eq!(section(&a.score, "a").percent, Some(50.0));
    assert_eq!(section(&a.score, "b").counted, 1);
    assert_eq!(section(&a.score, "b").max_points, 2.0);
    assert_eq!(section(&a.score, "b").percent, Some(100.0));
    assert_eq!(a.score.overall, Some(62.5));
    assert_eq!(a.score.band.as_deref(), Some("Amber"));

    let a1 = question(&a, "a1");
    assert_eq!(a1.points, vec![Some(4.0), Some(2.0), Some(0.0)]);
    assert_eq!((a1.mean, a1.spread), (Some(2.0), Some(4.0)));
    let a2 = question(&a, "a2");
    assert_eq!(a2.points, vec![Some(3.0), None, Some(1.0)]);
    assert_eq!((a2.mean, a2.spread), (Some(2.0), Some(2.0)));
    let b1 = question(&a, "b1");
    assert_eq!((b1.mean, b1.spread), (Some(2.0), Some(0.0)));
    let b2 = question(&a, "b2");
    assert_eq!((b2.mean, b2.spread), (None, None));
    assert_eq!(b2.points, vec![None, None, None]);
    // Questions in template order, scored ones only.
    let ids: Vec<&str> = a.questions.iter().map(|q| q.question_id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "b1", "b2", "z1"]);
}

#[test]
fn means_that_are_not_whole_points_are_kept_unrounded() {
    // a1: 4, 3, 3 → 10/3. A = (10/3) / 4 = 83.33…%. Nothing else answered.
    // Overall = A = 83.33… → Green (≥ 80).
    let a = agg(&[&[("a1", 4.0)], &[("a1", 3.0)], &[("a1", 3.0)]]);
    assert!(close(question(&a, "a1").mean, 10.0 / 3.0));
    assert!(close(section(&a.score, "a").percent, 250.0 / 3.0));
    assert!(close(a.score.overall, 250.0 / 3.0));
    assert_eq!(a.score.band.as_deref(), Some("Green"));
    assert_eq!(question(&a, "a1").spread, Some(1.0));
}

#[test]
fn the_spread_is_highest_minus_lowest_whatever_the_order() {
    // b2: 2, 3, 1 → spread 3 − 1 = 2 (neither first nor last is the extreme pair).
    let a = agg(&[&[("b2", 2.0)], &[("b2", 3.0)], &[("b2", 1.0)]]);
    assert_eq!(question(&a, "b2").spread, Some(2.0));
    let a = agg(&[&[("a1", 1.0)], &[("a1", 3.0)]]);
    assert_eq!(question(&a, "a1").spread, Some(2.0), "two respondents");
}

#[test]
fn a_disagreement_is_a_spread_at_or_above_the_threshold() {
    let q = |spread: Option<f64>| QuestionPoints {
        question_id: "q".into(),
        points: vec![],
        mean: None,
        spread,
    };
    assert!(q(Some(2.0)).disagrees(2.0), "exactly the threshold");
    assert!(q(Some(3.0)).disagrees(2.0));
    assert!(!q(Some(1.999)).disagrees(2.0));
    assert!(!q(Some(0.0)).disagrees(0.5));
    assert!(!q(None).disagrees(0.0), "one answer cannot disagree");
}

#[test]
fn no_respondents_or_no_scored_answers_give_no_score() {
    let a = agg(&[]);
    assert_eq!(a.score.overall, None);
    assert_eq!(a.score.band, None);
    assert_eq!(a.questions.len(), 5);
    let a = agg(&[&[("z1", 0.0)], &[]]);
    assert_eq!(
        a.score.overall, None,
        "a section with no maximum never counts"
    );
    assert_eq!(a.score.band, None);
}

#[test]
fn a_score_at_a_band_minimum_takes_that_band() {
    // B alone (max 5 points): 3 of 5 = 60% exactly (Amber's minimum), 4 of 5 = 80%
    // (Green's), 2.95 of 5 = 59% (Red).
    let at = |b1: f64, b2: f64| agg(&[&[("b1", b1), ("b2", b2)]]).score;
    let s = at(1.0, 2.0);
    assert_eq!(s.overall, Some(60.0));
    assert_eq!(s.band.as_deref(), Some("Amber"));
    let s = at(2.0, 2.0);
    assert_eq!(s.overall, Some(80.0));
    assert_eq!(s.band.as_deref(), Some("Green"));
    let s = at(0.95, 2.0);
    assert!(close(s.overall, 59.0));
    assert_eq!(s.band.as_deref(), Some("Red"));
}

#[test]
fn a_risk_scores_likelihood_times_impact_and_is_rated_at_each_edge() {
    let t = template();
    let rated = |l: f64, i: f64| risk_score(&t, l, i);
    assert_eq!(rated(5.0, 5.0), (25.0, Some("High".into())));
    assert_eq!(rated(3.0, 5.0), (15.0, Some("High".into())), "High from 15");
    assert_eq!(rated(2.0, 7.0), (14.0, Some("Medium".into())));
    assert_eq!(
        rated(2.0, 4.0),
        (8.0, Some("Medium".into())),
        "Medium from 8"
    );
    assert_eq!(rated(7.0, 1.0), (7.0, Some("Low".into())));
    assert_eq!(rated(1.0, 1.0), (1.0, Some("Low".into())), "Low from 1");
    assert_eq!(rated(0.0, 4.0), (0.0, None), "below every rating");
    // Not a sum: 2 + 3 would be 5.
    assert_eq!(rated(2.0, 3.0).0, 6.0);
}

#[test]
fn change_is_now_minus_before() {
    assert_eq!(change(Some(55.0), Some(70.0)), Some(-15.0));
    assert_eq!(change(None, Some(70.0)), None);
    assert_eq!(change(None, None), None);
}

#[test]
fn most_common_counts_trimmed_answers_and_ties_keep_first_order() {
    assert_eq!(
        most_common(&[" Flying", "Forming", "Flying "]).as_deref(),
        Some("Flying")
    );
    assert_eq!(
        most_common(&["Forming", "Flying", "Flying", "Forming", "Failing"]).as_deref(),
        Some("mixed: Forming / Flying")
    );
    assert_eq!(most_common(&["Failing"]).as_deref(), Some("Failing"));
    assert_eq!(most_common(&[]), None);
}
