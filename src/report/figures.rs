//! The figures the sheets show, computed from the gathered rows: the headline, fair
//! (like-for-like) comparisons and group averages with how many partnerships they
//! cover. Pure functions of plain data, unit-tested without a workbook.

use super::row::{ReturnState, Row};
use crate::register::Status;
use crate::template::{Section, Template};

/// Averages over fewer partnerships than this are shown but marked.
pub const SMALL_N: usize = 3;

/// A change of less than this many points either way counts as steady.
pub const STEADY_POINTS: f64 = 1.0;

/// How a partnership's overall score moved against last year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Improved,
    Declined,
    Steady,
}

/// Judged on the change as shown (one decimal place), so "+1.0" is never "steady".
pub fn movement(change: f64) -> Movement {
    let change = (change * 10.0).round() / 10.0;
    if change >= STEADY_POINTS {
        Movement::Improved
    } else if change <= -STEADY_POINTS {
        Movement::Declined
    } else {
        Movement::Steady
    }
}

pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// An average and how many values it is over.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Average {
    pub value: Option<f64>,
    pub n: usize,
}

impl Average {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let v: Vec<f64> = values.into_iter().collect();
        Average {
            value: mean(v.iter().copied()),
            n: v.len(),
        }
    }

    /// Shown, but marked as resting on too few partnerships.
    pub fn is_small(&self) -> bool {
        self.n > 0 && self.n < SMALL_N
    }
}

/// The same partnerships in both years: the average before and now over the `n` of them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LikeForLike {
    pub n: usize,
    pub before: Option<f64>,
    pub now: Option<f64>,
}

impl LikeForLike {
    pub fn of(pairs: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let pairs: Vec<(f64, f64)> = pairs.into_iter().collect();
        LikeForLike {
            n: pairs.len(),
            before: mean(pairs.iter().map(|p| p.0)),
            now: mean(pairs.iter().map(|p| p.1)),
        }
    }

    pub fn change(&self) -> Option<f64> {
        Some(self.now? - self.before?)
    }

    pub fn is_small(&self) -> bool {
        self.n > 0 && self.n < SMALL_N
    }
}

/// The Overview's headline figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headline {
    /// Partnerships that owe a form this year (closed ones do not).
    pub in_review: usize,
    /// Forms received and accepted, one per respondent (a self-assessment completed by
    /// the lead and two partners is three forms), of `forms_due`.
    pub received: usize,
    /// Forms due: one per respondent of each partnership in the review.
    pub forms_due: usize,
    /// Self-assessments expected and scored.
    pub assessments_expected: usize,
    pub scored: usize,
    /// Of `scored`, those owing a self-assessment (the rest: imported scores of
    /// partnerships that owe another form now).
    pub scored_owing: usize,
    /// Count per band label, in the template's band order (highest first).
    pub bands: Vec<(String, usize)>,
    /// Scored both this year and last year.
    pub compared: usize,
    pub improved: usize,
    pub declined: usize,
    pub steady: usize,
    /// Scored both years but from a different number of respondents: not compared.
    pub respondents_changed: usize,
    pub outstanding: usize,
    pub exiting: usize,
    pub exit_documents: usize,
    pub proposals: usize,
    pub proposal_forms: usize,
}

pub fn headline(rows: &[Row], scored: &Template) -> Headline {
    let mut h = Headline {
        bands: scored.bands.iter().map(|b| (b.label.clone(), 0)).collect(),
        ..Headline::default()
    };
    for r in rows.iter().filter(|r| r.in_review()) {
        h.in_review += 1;
        // Returns from people no longer listed are forms received too.
        h.received += r.respondents_returned() + r.former_respondents;
        h.forms_due += r.respondents.len();
        h.outstanding += usize::from(r.state.is_outstanding());
        if r.expected.as_deref() == Some(scored.id.as_str()) {
            h.assessments_expected += 1;
        }
        if let Some(o) = r.overall {
            h.scored += 1;
            h.scored_owing += usize::from(r.expected.as_deref() == Some(scored.id.as_str()));
            if let Some(b) = scored.band_for(o) {
                if let Some(c) = h.bands.iter_mut().find(|(l, _)| *l == b.label) {
                    c.1 += 1;
                }
            }
        }
        if r.respondents_changed() && r.change().is_some() {
            h.respondents_changed += 1;
        }
        if let Some(c) = r.fair_change() {
            h.compared += 1;
            match movement(c) {
                Movement::Improved => h.improved += 1,
                Movement::Declined => h.declined += 1,
                Movement::Steady => h.steady += 1,
            }
        }
        match r.partnership.status {
            Status::Exiting => {
                h.exiting += 1;
                h.exit_documents += usize::from(r.state == ReturnState::Exited);
            }
            Status::Proposed => {
                h.proposals += 1;
                h.proposal_forms += usize::from(r.state.is_received());
            }
            _ => {}
        }
    }
    h
}

/// One scored section: this year's average over every partnership scored this year,
/// and the like-for-like comparison with last year.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionFigures {
    pub id: String,
    pub title: String,
    pub now: Average,
    pub same: LikeForLike,
    /// Partnerships scored on this section both years but left out of `same`: its
    /// statements differ between the template versions they answered.
    pub questions_changed: usize,
    /// Of those, how many are compared on the statements both years share instead
    /// (both years' answers stored); the rest are not compared.
    pub on_shared: usize,
}

/// The scored statements a section asked in template `version` (those with `since`
/// at or below it), by id.
pub fn statements_at(section: &Section, version: u32) -> Vec<&str> {
    section
        .questions
        .iter()
        .filter(|q| q.is_scored() && q.since <= version)
        .map(|q| q.id.as_str())
        .collect()
}

/// The scored statements a section asked in both template versions.
pub fn shared_statements(section: &Section, a: u32, b: u32) -> Vec<&str> {
    let other = statements_at(section, b);
    statements_at(section, a)
        .into_iter()
        .filter(|q| other.contains(q))
        .collect()
}

/// A section's percent on `statements` only, from a partnership's mean points per
/// statement, as the score counts it: the answered statements' mean points over their
/// maximum points. None where none of them was answered.
pub fn percent_on(
    section: &Section,
    statements: &[&str],
    means: &std::collections::HashMap<String, f64>,
) -> Option<f64> {
    let (got, max) = section
        .questions
        .iter()
        .filter(|q| statements.contains(&q.id.as_str()))
        .filter_map(|q| Some((*means.get(&q.id)?, q.max_points()?)))
        .fold((0.0, 0.0), |(g, m), (a, b)| (g + a, m + b));
    (max > 0.0).then(|| 100.0 * got / max)
}

/// Whether a section asked different scored statements in the two template versions
/// (this year's, last year's), so its percentages do not compare. Unknown versions
/// compare as they are.
pub fn questions_changed(section: &Section, versions: (Option<u32>, Option<u32>)) -> bool {
    match versions {
        (Some(now), Some(before)) => statements_at(section, now) != statements_at(section, before),
        _ => false,
    }
}

pub fn sections(rows: &[Row], scored: &Template) -> Vec<SectionFigures> {
    scored
        .sections
        .iter()
        .filter(|s| s.is_scored())
        .map(|s| {
            let both = || {
                rows.iter()
                    .filter(|r| !r.respondents_changed())
                    .filter(|r| r.section_before(&s.id).is_some() && r.section(&s.id).is_some())
            };
            SectionFigures {
                id: s.id.clone(),
                title: s.title.clone(),
                now: Average::of(rows.iter().filter_map(|r| r.section(&s.id))),
                same: LikeForLike::of(both().filter_map(|r| {
                    if !questions_changed(s, r.versions) {
                        return Some((r.section_before(&s.id)?, r.section(&s.id)?));
                    }
                    r.shared_sections
                        .iter()
                        .find(|(id, _, _)| *id == s.id)
                        .map(|(_, before, now)| (*before, *now))
                })),
                questions_changed: both().filter(|r| questions_changed(s, r.versions)).count(),
                on_shared: both()
                    .filter(|r| questions_changed(s, r.versions))
                    .filter(|r| r.shared_sections.iter().any(|(id, _, _)| *id == s.id))
                    .count(),
            }
        })
        .collect()
}

/// The overall score like for like: partnerships scored in both years.
pub fn overall_like_for_like(rows: &[Row]) -> LikeForLike {
    LikeForLike::of(
        rows.iter()
            .filter(|r| !r.respondents_changed())
            .filter_map(|r| Some((r.previous?, r.overall?))),
    )
}

/// One group's line (an Assistant Director or a Business Plan priority).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFigures {
    pub name: String,
    /// Partnerships that owe a form this year.
    pub partnerships: usize,
    pub received: usize,
    pub outstanding: usize,
    /// Overall % this year over the partnerships scored this year.
    pub now: Average,
    pub same: LikeForLike,
    pub improved: usize,
    pub declined: usize,
    pub steady: usize,
    pub new: usize,
}

/// Groups the partnerships in the review by `key`, in key order. Closed partnerships
/// owe no form and are left out, so received + outstanding + not due = partnerships.
pub fn groups<'r, 'a: 'r>(rows: &'r [Row<'a>], key: impl Fn(&Row) -> String) -> Vec<GroupFigures> {
    let mut by: std::collections::BTreeMap<String, Vec<&Row>> = Default::default();
    for r in rows.iter().filter(|r| r.in_review()) {
        by.entry(key(r)).or_default().push(r);
    }
    by.into_iter()
        .map(|(name, rs)| {
            let count = |m: Movement| {
                rs.iter()
                    .filter(|r| r.fair_change().is_some_and(|c| movement(c) == m))
                    .count()
            };
            GroupFigures {
                partnerships: rs.len(),
                received: rs.iter().filter(|r| r.state.is_received()).count(),
                outstanding: rs.iter().filter(|r| r.state.is_outstanding()).count(),
                now: Average::of(rs.iter().filter_map(|r| r.overall)),
                same: LikeForLike::of(
                    rs.iter()
                        .filter(|r| !r.respondents_changed())
                        .filter_map(|r| Some((r.previous?, r.overall?))),
                ),
                improved: count(Movement::Improved),
                declined: count(Movement::Declined),
                steady: count(Movement::Steady),
                new: rs.iter().filter(|r| r.is_new()).count(),
                name,
            }
        })
        .collect()
}

/// The change over three years: this year's score against the score three years before.
pub fn three_year_change(row: &Row, year: i32) -> Option<f64> {
    crate::score::change(
        row.by_year.get(&year).copied(),
        row.by_year.get(&(year - 3)).copied(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_has_a_steady_band() {
        assert_eq!(movement(0.4), Movement::Steady);
        assert_eq!(movement(-0.94), Movement::Steady);
        assert_eq!(movement(1.0), Movement::Improved);
        assert_eq!(movement(-5.0), Movement::Declined);
    }

    #[test]
    fn a_section_whose_statements_changed_is_left_out_of_like_for_like() {
        let text = r#"
id = "t"
version = 2
title = "T"
[[bands]]
label = "All"
min = 0
[option_sets]
s = [{ label = "0 - No", points = 0 }, { label = "1 - Yes", points = 1 }]
[[sections]]
id = "a"
title = "A"
[[sections.questions]]
id = "a1"
text = "First"
type = "scale"
options_from = "s"
[[sections.questions]]
id = "a2"
text = "Added in version 2"
type = "scale"
options_from = "s"
since = 2
[[sections]]
id = "b"
title = "B"
[[sections.questions]]
id = "b1"
text = "Unchanged"
type = "scale"
options_from = "s"
"#;
        let t = crate::template::parse(std::path::Path::new("t.toml"), text).unwrap();
        let (a, b) = (&t.sections[0], &t.sections[1]);
        assert_eq!(statements_at(a, 1), ["a1"]);
        assert_eq!(statements_at(a, 2), ["a1", "a2"]);
        assert!(questions_changed(a, (Some(2), Some(1))));
        assert!(!questions_changed(a, (Some(2), Some(2))));
        assert!(!questions_changed(b, (Some(2), Some(1))));
        assert!(
            !questions_changed(a, (Some(2), None)),
            "nothing to compare with"
        );
        let p = crate::register::Partnership {
            id: "P1".into(),
            name: "P".into(),
            category: String::new(),
            lead_officer: String::new(),
            email: String::new(),
            assistant_director: String::new(),
            assistant_director_email: None,
            priority: crate::register::Priority::EarlyIntervention,
            status: Status::Active,
            lead_organisation: String::new(),
            partners: String::new(),
            start_date: None,
            exit_date: None,
            notes: String::new(),
            line: 0,
        };
        let row = |versions| Row {
            sections: vec![("a".into(), 60.0), ("b".into(), 70.0)],
            sections_before: vec![("a".into(), 50.0), ("b".into(), 65.0)],
            versions,
            ..Row::new(&p)
        };
        let rows = [row((Some(2), Some(1))), row((Some(2), Some(2)))];
        let f = sections(&rows, &t);
        assert_eq!((f[0].same.n, f[0].questions_changed), (1, 1));
        assert_eq!((f[1].same.n, f[1].questions_changed), (2, 0));
        let f = sections(&rows[..1], &t);
        assert_eq!((f[0].same.n, f[0].same.change()), (0, None));
        assert_eq!(f[0].now.n, 1, "this year's average still shown");
        // On the statements both versions share, where both years' answers are stored.
        assert_eq!(shared_statements(a, 2, 1), ["a1"]);
        let means: std::collections::HashMap<String, f64> =
            [("a1".to_string(), 1.0), ("a2".to_string(), 0.0)].into();
        assert_eq!(percent_on(a, &["a1"], &means), Some(100.0));
        assert_eq!(percent_on(a, &["a1", "a2"], &means), Some(50.0));
        assert_eq!(percent_on(a, &["a1"], &Default::default()), None);
        let shared = Row {
            shared_sections: vec![("a".into(), 40.0, 100.0)],
            ..row((Some(2), Some(1)))
        };
        let f = sections(std::slice::from_ref(&shared), &t);
        assert_eq!(
            (f[0].same.n, f[0].questions_changed, f[0].on_shared),
            (1, 1, 1)
        );
        assert_eq!(f[0].same.change(), Some(60.0));
    }

    #[test]
    fn averages_say_how_many() {
        let a = Average::of([70.0, 80.0]);
        assert_eq!((a.value, a.n, a.is_small()), (Some(75.0), 2, true));
        assert!(!Average::of([1.0, 2.0, 3.0]).is_small());
        assert_eq!(mean(Vec::<f64>::new()), None);
        let l = LikeForLike::of([(50.0, 60.0), (70.0, 70.0), (40.0, 44.0)]);
        assert_eq!(l.n, 3);
        assert!((l.change().unwrap() - 14.0 / 3.0).abs() < 1e-9);
    }
}
