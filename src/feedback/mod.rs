//! Each partnership's own results, back to the people who gave them: the Toolkit asks
//! that progress be "regularly reported back to partners", and the partnership tools
//! partners know (the Partnership Self-Assessment Tool, the SNAICC audit) end with an
//! action-oriented report of a partnership's own answers and where its members differ.
//!
//! [`build`] turns one row of the gathered [`Review`] and its respondents' stored
//! answers into a plain [`Feedback`]; [`sheets`] lays it out on two A4 pages; [`pack`]
//! puts an Assistant Director's partnerships in one workbook. A feedback holds nothing
//! of any other partnership: the council's averages are shown only over at least
//! [`SMALL_N`] partnerships, so no one partnership's score can be read from them.

mod discussion_sheet;
pub mod letters;
pub mod objectives_sheet;
pub mod pack;
mod page;
mod scores_sheet;
pub mod sheets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::report::disagreement::Disagreement;
use crate::report::figures::{self, Average, SMALL_N};
use crate::report::{Review, Row};
use crate::score::{aggregate, PointsOf, STAGE_QUESTION};
use crate::store::RespondentAnswer;

/// The text questions whose answers go back to the partnership with its scores.
pub const ACHIEVED_QUESTION: &str = "achievements";
pub const SUPPORT_QUESTION: &str = "support";

/// How many statements are shown as strongest, and as weakest.
pub const STATEMENTS_SHOWN: usize = 3;

/// One score line: the overall score or a section's.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreLine {
    /// "All" for the overall score, else the section's number as printed on the form.
    pub number: String,
    pub label: String,
    pub now: Option<f64>,
    /// The partnership's own score last year.
    pub before: Option<f64>,
    /// The council's average this year; `None` when fewer than [`SMALL_N`]
    /// partnerships were scored (it would show other partnerships' scores).
    pub council: Option<Average>,
}

impl ScoreLine {
    pub fn change(&self) -> Option<f64> {
        crate::score::change(self.now, self.before)
    }
}

/// A statement with this partnership's points (the mean of its respondents').
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub number: String,
    pub text: String,
    pub points: f64,
    pub max_points: f64,
    /// Respondents who chose a scored answer.
    pub answered: usize,
}

/// What one respondent wrote: stage, achievements and support asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Said {
    /// "Name (Organisation)".
    pub who: String,
    pub stage: String,
    pub achieved: String,
    pub support: String,
}

/// Everything one partnership's feedback shows, and nothing of any other partnership.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub year: i32,
    pub council: String,
    pub partnership_id: String,
    pub partnership: String,
    pub assistant_director: String,
    pub band: Option<String>,
    /// "50 to under 75" for the band.
    pub band_range: String,
    /// The overall score first, then each scored section in form order.
    pub scores: Vec<ScoreLine>,
    /// How many partnerships the council's averages are over (0: left out).
    pub council_n: usize,
    pub strongest: Vec<Statement>,
    pub weakest: Vec<Statement>,
    /// This partnership's rows of the review's "Where respondents disagree".
    pub disagreements: Vec<Disagreement>,
    /// The review's disagreement threshold, in points.
    pub threshold: f64,
    /// Each respondent who returned a form, the lead first.
    pub said: Vec<Said>,
    /// The questions as printed on the form: stage, achieved, support.
    pub stage_question: String,
    pub achieved_question: String,
    pub support_question: String,
    /// Forms returned of those due, and who has not returned theirs.
    pub returned: usize,
    pub due: usize,
    pub not_returned: Vec<String>,
    pub generated_at: Option<String>,
    pub next: NextSteps,
    /// This year's score comes from a different number of respondents than last
    /// year's: the change is shown but, as in the review, not as improved or declined.
    pub respondents_changed: bool,
    /// Its objectives and actions (the review's, for this partnership only).
    pub objectives: Option<crate::objectives::Reported>,
    /// Headings of the objectives table's columns by id ("Target or measure").
    pub objective_headings: Vec<(String, String)>,
    /// "4.1 Objectives and targets have been set…" by question id, for the actions.
    pub statements: BTreeMap<String, String>,
}

/// What happens next: who sees the review, when, and whom to ask.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NextSteps {
    /// When the Leadership Team considers the review ("3 March 2027"), if known.
    pub review_date: Option<String>,
    /// The return deadline ("29 January 2027"), if known.
    pub deadline: Option<String>,
    /// Who to contact (an email address).
    pub contact: Option<String>,
}

/// The council's averages over every partnership scored this year.
#[derive(Debug, Clone, PartialEq)]
pub struct CouncilAverages {
    pub overall: Average,
    /// By section id.
    pub sections: BTreeMap<String, Average>,
}

impl CouncilAverages {
    /// The same figures as the review's (its Sections sheet and group averages).
    pub fn of(review: &Review) -> Self {
        CouncilAverages {
            overall: Average::of(review.rows.iter().filter_map(|r| r.overall)),
            sections: figures::sections(&review.rows, &review.scored)
                .into_iter()
                .map(|s| (s.id, s.now))
                .collect(),
        }
    }

    /// Only averages over enough partnerships to hide each one's score.
    fn shown(a: Option<&Average>) -> Option<Average> {
        a.copied().filter(|a| a.n >= SMALL_N && a.value.is_some())
    }
}

/// The partnerships that get a feedback: those scored this year.
pub fn scored_rows<'r, 'a>(review: &'r Review<'a>) -> impl Iterator<Item = &'r Row<'a>> {
    review.rows.iter().filter(|r| r.overall.is_some())
}

/// Builds one partnership's feedback from its row of the review and its respondents'
/// stored answers (`answers`: this partnership's only; others are ignored).
pub fn build(
    review: &Review,
    row: &Row,
    answers: &[RespondentAnswer],
    council: &CouncilAverages,
    next: &NextSteps,
) -> Feedback {
    let p = row.partnership;
    let t = &review.scored;
    let own: Vec<&RespondentAnswer> = answers
        .iter()
        .filter(|a| a.partnership_id.eq_ignore_ascii_case(&p.id))
        .collect();
    // Respondents in the review's order: the listed ones (lead first), then anyone no
    // longer listed whose return still counts, by id.
    let mut ids: Vec<String> = Vec::new();
    for (r, _) in &row.respondents {
        if own
            .iter()
            .any(|a| a.respondent_id.eq_ignore_ascii_case(&r.id))
        {
            ids.push(r.id.to_ascii_lowercase());
        }
    }
    let mut former: Vec<String> = own
        .iter()
        .map(|a| a.respondent_id.to_ascii_lowercase())
        .filter(|id| !ids.contains(id))
        .collect();
    former.sort();
    former.dedup();
    ids.extend(former);
    let label = |id: &str| -> String {
        row.respondents
            .iter()
            .find(|(r, _)| r.id.eq_ignore_ascii_case(id))
            .map_or_else(
                || format!("{id} (no longer in the respondents file)"),
                |(r, _)| r.label(),
            )
    };
    let answer = |id: &str, q: &str| -> Option<&RespondentAnswer> {
        own.iter()
            .find(|a| a.respondent_id.eq_ignore_ascii_case(id) && a.question_id == q)
            .copied()
    };

    // Per-statement points, exactly as the score counts them.
    let lookups: Vec<_> = ids
        .iter()
        .map(|id| move |q: &str| answer(id, q).and_then(|a| a.points))
        .collect();
    let refs: Vec<PointsOf<'_>> = lookups.iter().map(|f| f as PointsOf<'_>).collect();
    let agg = aggregate(t, &refs);
    let mut statements: Vec<(usize, Statement)> = agg
        .questions
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let question = t.question(&q.question_id)?;
            Some((
                i,
                Statement {
                    number: Review::form_number(t, &q.question_id)?,
                    text: question.text.clone(),
                    points: q.mean?,
                    max_points: question.max_points()?,
                    answered: q.points.iter().flatten().count(),
                },
            ))
        })
        .collect();
    let share = |s: &Statement| s.points / s.max_points.max(f64::MIN_POSITIVE);
    statements.sort_by(|(ia, a), (ib, b)| share(b).total_cmp(&share(a)).then(ia.cmp(ib)));
    let (strongest, weakest) = strongest_and_weakest(&statements);

    let mut scores = vec![ScoreLine {
        number: "All".into(),
        label: "Overall score".into(),
        now: row.overall,
        before: row.previous,
        council: CouncilAverages::shown(Some(&council.overall)),
    }];
    for (si, s) in t.sections.iter().enumerate().filter(|(_, s)| s.is_scored()) {
        scores.push(ScoreLine {
            number: (si + 1).to_string(),
            label: s.title.clone(),
            now: row.section(&s.id),
            before: row.section_before(&s.id),
            council: CouncilAverages::shown(council.sections.get(&s.id)),
        });
    }
    let council_n = if scores[0].council.is_some() {
        council.overall.n
    } else {
        0
    };
    let text_of = |q: &str| t.question(q).map(|q| q.text.clone()).unwrap_or_default();
    let said = ids
        .iter()
        .map(|id| {
            let v = |q: &str| answer(id, q).map(|a| a.value.trim().to_string());
            Said {
                who: label(id),
                stage: v(STAGE_QUESTION).unwrap_or_default(),
                achieved: v(ACHIEVED_QUESTION).unwrap_or_default(),
                support: v(SUPPORT_QUESTION).unwrap_or_default(),
            }
        })
        .collect();
    let objectives = review
        .objectives
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(&p.id))
        .map(|(_, o)| o);
    let band_range = row
        .band
        .as_deref()
        .map(|b| band_range(review, b))
        .unwrap_or_default();
    Feedback {
        year: review.year,
        council: review.council.clone(),
        partnership_id: p.id.clone(),
        partnership: p.name.clone(),
        assistant_director: p.assistant_director.clone(),
        band: row.band.clone(),
        band_range,
        scores,
        council_n,
        strongest,
        weakest,
        disagreements: review
            .disagreements
            .iter()
            .filter(|d| d.partnership_id.eq_ignore_ascii_case(&p.id))
            .cloned()
            .collect(),
        threshold: t.disagreement,
        said,
        stage_question: text_of(STAGE_QUESTION),
        achieved_question: text_of(ACHIEVED_QUESTION),
        support_question: text_of(SUPPORT_QUESTION),
        returned: row.respondents_returned() + row.former_respondents,
        due: row.respondents.len() + row.former_respondents,
        not_returned: row
            .respondents
            .iter()
            .filter(|(_, s)| !s.is_received())
            .map(|(r, _)| r.label())
            .collect(),
        generated_at: review.generated_at.clone(),
        next: next.clone(),
        respondents_changed: row.respondents_changed(),
        objectives: objectives.cloned(),
        objective_headings: t
            .sections
            .iter()
            .find_map(|s| match &s.layout {
                crate::template::Layout::Table(t) => Some(t),
                _ => None,
            })
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| (c.id.clone(), c.heading.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        statements: objectives
            .iter()
            .flat_map(|o| o.due.iter().chain(&o.last_year))
            .map(|a| {
                let q = &a.question_id;
                let number = Review::form_number(t, q).unwrap_or_else(|| q.clone());
                let text = t.question(q).map_or("", |q| q.text.as_str());
                (q.clone(), format!("{number} {text}"))
            })
            .collect(),
    }
}

/// The feedback file of a partnership: `LSP01_feedback_2026.xlsx`.
pub fn file_name(partnership_id: &str, year: i32) -> String {
    format!("{partnership_id}_feedback_{year}.xlsx")
}

/// Every scored partnership's feedback, built from the review and the store.
pub fn build_all(
    review: &Review,
    store: &crate::store::Store,
    next: &NextSteps,
) -> anyhow::Result<Vec<Feedback>> {
    let council = CouncilAverages::of(review);
    scored_rows(review)
        .map(|row| {
            let answers =
                store.partnership_answers(review.year, &review.scored.id, &row.partnership.id)?;
            Ok(build(review, row, &answers, &council, next))
        })
        .collect()
}

/// Writes each feedback into `dir` (created if missing), atomically; returns the paths.
pub fn write_all(feedbacks: &[Feedback], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if feedbacks.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut out = Vec::with_capacity(feedbacks.len());
    for fb in feedbacks {
        let path = dir.join(file_name(&fb.partnership_id, fb.year));
        let mut wb = sheets::workbook(fb)?;
        crate::output::write_atomic_with(&path, |f| {
            wb.save_to_writer(std::io::BufWriter::new(f))?;
            Ok(())
        })?;
        out.push(path);
    }
    Ok(out)
}

/// The top and bottom [`STATEMENTS_SHOWN`] of statements sorted strongest first,
/// never the same statement in both, and none at all when every statement has the
/// same share of its points (nothing stands out).
fn strongest_and_weakest(sorted: &[(usize, Statement)]) -> (Vec<Statement>, Vec<Statement>) {
    let share = |s: &Statement| s.points / s.max_points.max(f64::MIN_POSITIVE);
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return (Vec::new(), Vec::new());
    };
    if (share(&first.1) - share(&last.1)).abs() < 1e-9 {
        return (Vec::new(), Vec::new());
    }
    let n = STATEMENTS_SHOWN.min(sorted.len() / 2);
    let strongest = sorted[..n].iter().map(|(_, s)| s.clone()).collect();
    // Weakest first; equal shares in form order.
    let mut low: Vec<&(usize, Statement)> = sorted.iter().collect();
    low.sort_by(|(ia, a), (ib, b)| share(a).total_cmp(&share(b)).then(ia.cmp(ib)));
    let weakest = low[..n].iter().map(|(_, s)| s.clone()).collect();
    (strongest, weakest)
}

/// "50 to under 75" for a band label (the thresholds of the scored template).
fn band_range(review: &Review, label: &str) -> String {
    let mut bands: Vec<&crate::template::Band> = review.scored.bands.iter().collect();
    bands.sort_by(|a, b| b.min.total_cmp(&a.min));
    let Some(i) = bands.iter().position(|b| b.label == label) else {
        return String::new();
    };
    let lo = bands[i].min;
    match (i, lo > 0.0) {
        (0, _) => format!("{lo:.0} and above"),
        (_, true) => format!("{lo:.0} to under {:.0}", bands[i - 1].min),
        (_, false) => format!("below {:.0}", bands[i - 1].min),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(i: usize, n: &str, points: f64) -> (usize, Statement) {
        (
            i,
            Statement {
                number: n.into(),
                text: n.into(),
                points,
                max_points: 4.0,
                answered: 1,
            },
        )
    }

    #[test]
    fn strongest_and_weakest_never_overlap_and_stay_quiet_when_all_are_equal() {
        let sorted = vec![
            st(0, "1.1", 4.0),
            st(1, "1.2", 3.5),
            st(2, "2.1", 3.0),
            st(3, "2.2", 2.0),
            st(5, "3.2", 1.0),
            st(4, "3.1", 1.0),
        ];
        let (s, w) = strongest_and_weakest(&sorted);
        let nums = |v: &[Statement]| v.iter().map(|s| s.number.clone()).collect::<Vec<_>>();
        assert_eq!(nums(&s), ["1.1", "1.2", "2.1"]);
        assert_eq!(
            nums(&w),
            ["3.1", "3.2", "2.2"],
            "weakest first, ties in form order"
        );
        let equal = vec![st(0, "1.1", 3.0), st(1, "1.2", 3.0)];
        let (s, w) = strongest_and_weakest(&equal);
        assert!(s.is_empty() && w.is_empty());
        assert_eq!(strongest_and_weakest(&[]).0, Vec::new());
    }

    #[test]
    fn council_averages_over_too_few_partnerships_are_left_out() {
        let few = Average::of([60.0, 70.0]);
        assert_eq!(CouncilAverages::shown(Some(&few)), None);
        let enough = Average::of([60.0, 70.0, 80.0]);
        assert_eq!(CouncilAverages::shown(Some(&enough)), Some(enough));
        assert_eq!(CouncilAverages::shown(None), None);
    }
}
