//! Gathering the review: the store, register and templates turned into a plain
//! [`Review`] that the sheets only lay out. Nothing here writes a workbook. Where
//! forms stand is worked out in [`super::states`], statement statistics in
//! [`super::questions`]; the rows themselves are [`super::row`]'s.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::NaiveDate;

use super::decision::{self, Decision, DecisionRules};
use super::disagreement::{self, Disagreement};
pub use super::questions::QuestionStats;
use super::row::{ReturnState, Row};
use super::states::Intake;
use crate::register::{Partnership, Register};
use crate::respondents::{Respondent, Respondents};
use crate::store::{RespondentAnswer, ReturnRow, Store, StoredFinding};
use crate::template::Template;

/// A finding with the question number as the form shows it ("1.2").
#[derive(Debug, Clone)]
pub struct Finding {
    pub finding: StoredFinding,
    pub number: String,
}

/// Everything the review shows, gathered once.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    pub year: i32,
    pub council: String,
    pub scored: Template,
    pub templates: Vec<Template>,
    pub rows: Vec<Row<'a>>,
    pub years: Vec<i32>,
    pub questions: Vec<QuestionStats>,
    pub exits: Vec<(Partnership, ReturnRow)>,
    pub new_partnerships: Vec<(Partnership, ReturnRow)>,
    pub findings: Vec<Finding>,
    pub store_path: String,
    pub runs: i64,
    pub files_read: i64,
    pub generated_at: Option<String>,
    /// The date of the latest ingest run: what "now" means in the decision rules.
    pub as_of: Option<NaiveDate>,
    /// The return deadline (`deadline` in ptk.toml), for "outstanding" to say whether
    /// it has passed.
    pub deadline: Option<NaiveDate>,
    pub rules: DecisionRules,
    /// Partnerships meeting a decision rule, weakest first.
    pub decisions: Vec<Decision>,
    /// Statements a partnership's respondents see differently (spread at or above the
    /// scored template's `disagreement`), largest spread first.
    pub disagreements: Vec<Disagreement>,
    /// Partnerships with returns from two or more respondents this year.
    pub compared_partnerships: usize,
    /// When history was last imported, for a year known only from imported history
    /// (no run read any form for it): the figures are those scores.
    pub imported_at: Option<String>,
    /// By partnership id: its objectives by progress and its actions (issue #21).
    pub objectives: BTreeMap<String, crate::objectives::Reported>,
}

impl Review<'_> {
    /// A review of `year` scored on `scored` with nothing gathered yet. Tests and
    /// [`gather`] set only the fields they mean, so a new field changes one place.
    pub fn new(year: i32, council: &str, scored: Template) -> Self {
        Review {
            year,
            council: council.to_string(),
            scored,
            templates: Vec::new(),
            rows: Vec::new(),
            years: Vec::new(),
            questions: Vec::new(),
            exits: Vec::new(),
            new_partnerships: Vec::new(),
            findings: Vec::new(),
            store_path: String::new(),
            runs: 0,
            files_read: 0,
            generated_at: None,
            as_of: None,
            deadline: None,
            rules: DecisionRules::default(),
            decisions: Vec::new(),
            disagreements: Vec::new(),
            compared_partnerships: 0,
            imported_at: None,
            objectives: BTreeMap::new(),
        }
    }

    /// The lowest band: (label, the score it is below), e.g. ("Red", 50).
    pub fn lowest_band(&self) -> Option<(&str, f64)> {
        let mut bands: Vec<&crate::template::Band> = self.scored.bands.iter().collect();
        bands.sort_by(|a, b| a.min.total_cmp(&b.min));
        match bands.as_slice() {
            [low, next, ..] => Some((low.label.as_str(), next.min)),
            _ => None,
        }
    }

    /// The form number of a question ("1.2": section, then question, as printed). Risk
    /// tables number their rows, not their questions: none there.
    pub fn form_number(template: &Template, question_id: &str) -> Option<String> {
        template.sections.iter().enumerate().find_map(|(si, s)| {
            if matches!(s.layout, crate::template::Layout::Risks { .. }) {
                return None;
            }
            s.questions
                .iter()
                .position(|q| q.id == question_id)
                .map(|qi| format!("{}.{}", si + 1, qi + 1))
        })
    }

    /// A template's title by id.
    pub fn form_title(&self, id: &str) -> Option<&str> {
        self.templates
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.title.as_str())
    }
}

/// Gathers the review of `year`. `scored_id` names the scored template (the
/// self-assessment); `respondents` are those beyond each partnership's lead.
#[allow(clippy::too_many_arguments)]
pub fn gather<'a>(
    store: &Store,
    register: &'a Register,
    respondents: &Respondents,
    templates: &[Template],
    year: i32,
    council: &str,
    scored_id: &str,
    rules: &DecisionRules,
) -> anyhow::Result<Review<'a>> {
    let scored = templates
        .iter()
        .find(|t| t.id == scored_id)
        .with_context(|| format!("there is no template '{scored_id}' in the templates folder"))?
        .clone();
    let mut by_year = store.overall_by_year(&scored.id)?;
    // A review made again for an earlier year shows nothing from later years.
    by_year
        .values_mut()
        .for_each(|m| m.retain(|y, _| *y <= year));
    let years: Vec<i32> = by_year
        .values()
        .flat_map(|m| m.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Every answer is loaded only for the unscored forms (shown in full); for the
    // scored one, just the scores and the life-cycle stage, moved into the rows.
    let returns: BTreeMap<String, BTreeMap<String, ReturnRow>> = templates
        .iter()
        .filter(|t| t.id != scored.id)
        .map(|t| Ok((t.id.clone(), store.current_returns(year, &t.id)?)))
        .collect::<anyhow::Result<_>>()?;
    let answers = store.respondent_answers(year, &scored.id)?;
    let (runs, files_read, generated_at) = store.runs_for_year(year)?;
    let mut rows = rows(
        store,
        register,
        respondents,
        templates,
        &scored,
        &returns,
        by_year,
        Year {
            year,
            no_runs: runs == 0,
        },
        council,
    )?;
    let ranges = store.respondent_overalls(year, &scored.id)?;
    let in_review: Vec<&crate::template::Question> = scored
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .filter(|q| q.in_review)
        .collect();
    let ids: Vec<String> = in_review.iter().map(|q| q.id.clone()).collect();
    let mut said = store.answers_to(year, &scored.id, &ids)?;
    for row in &mut rows {
        let p = row.partnership;
        row.respondent_range = ranges.get(&p.id).map(|v| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        });
        row.proposal = returns
            .get("new-partnership")
            .and_then(|m| m.get(&p.id))
            .map(super::row::Proposal::from_return);
        row.stages = stages(&answers, p, respondents, council);
        let theirs = said.remove(&p.id).unwrap_or_default();
        let list = respondents.for_partnership(p, council);
        let label = |rid: &str| {
            list.iter()
                .find(|r| r.id.eq_ignore_ascii_case(rid))
                .map_or_else(|| rid.to_string(), |r| r.label())
        };
        row.words = in_review
            .iter()
            .map(|q| {
                let answers = theirs
                    .iter()
                    .filter(|(_, qid, _)| *qid == q.id)
                    .map(|(rid, _, v)| (label(rid), v.clone()))
                    .collect();
                (q.text.clone(), answers)
            })
            .collect();
    }
    let questions = super::questions::question_stats(
        &scored,
        &store.question_stats(year, &scored.id)?,
        &store.question_stats(year - 1, &scored.id)?,
    );
    let pick = |template: &str| -> Vec<(Partnership, ReturnRow)> {
        returns
            .get(template)
            .map(|m| {
                m.values()
                    .filter_map(|r| {
                        register
                            .get(&r.partnership_id)
                            .map(|p| (p.clone(), r.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let findings = store
        .findings_with_template(year)?
        .into_iter()
        .map(|(f, t)| {
            let number = t
                .and_then(|t| templates.iter().find(|x| x.id == t))
                .and_then(|t| Review::form_number(t, &f.question_id))
                .unwrap_or_default();
            Finding { finding: f, number }
        })
        .collect();
    let (disagreements, compared_partnerships) =
        disagreements(&answers, register, respondents, &scored, council);
    let as_of = generated_at
        .as_deref()
        .and_then(|s| s.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let objectives = crate::objectives::reported(
        &scored,
        year,
        &store.carried_answers(scored_id, year)?,
        &store.carried_answers(scored_id, year - 1)?,
    );
    let mut review = Review {
        exits: pick("exit"),
        new_partnerships: pick("new-partnership"),
        findings,
        templates: templates.to_vec(),
        rows,
        years,
        questions,
        store_path: store.path.display().to_string(),
        runs,
        files_read,
        generated_at,
        as_of,
        rules: rules.clone(),
        disagreements,
        compared_partnerships,
        objectives,
        ..Review::new(year, council, scored)
    };
    if review.generated_at.is_none() && review.rows.iter().any(|r| r.overall.is_some()) {
        review.imported_at = Some(store.history_imported_at()?.unwrap_or_default());
    }
    let cx = decision::Context {
        year,
        scored_id,
        lowest_band: review.lowest_band(),
        as_of,
    };
    review.decisions = decision::decide(&review.rows, rules, &cx);
    Ok(review)
}

/// The year being gathered, and whether no run has read any form for it yet.
struct Year {
    year: i32,
    no_runs: bool,
}

/// A row per partnership in the register, in register order: the form it owes, where
/// that and each respondent's form stand, this year's scores and every year's overall.
#[allow(clippy::too_many_arguments)]
fn rows<'a>(
    store: &Store,
    register: &'a Register,
    respondents: &Respondents,
    templates: &[Template],
    scored: &Template,
    returns: &BTreeMap<String, BTreeMap<String, ReturnRow>>,
    mut by_year: BTreeMap<String, BTreeMap<i32, f64>>,
    Year { year, no_runs }: Year,
    council: &str,
) -> anyhow::Result<Vec<Row<'a>>> {
    let mut scored_returns = store.scored_returns(year, &scored.id, "stage")?;
    // A year known only from imported history: no run read a form for it, and its scores
    // were imported (a year whose forms are out but none read yet is not one).
    let history_only = no_runs && scored_returns.values().any(|o| o.respondents == 0);
    let last_year = store.scored_returns(year - 1, &scored.id, "stage")?;
    let mut sections_before = store.section_scores(&scored.id, year - 1)?;
    let exit_dates = store.latest_answers("exit", "exit_date", year)?;
    let intake = Intake::load(store, templates, year)?;
    let versions_now = store.template_versions(year, &scored.id)?;
    let versions_before = store.template_versions(year - 1, &scored.id)?;
    let mut means_now = store.statement_means(year, &scored.id)?;
    let mut means_before = store.statement_means(year - 1, &scored.id)?;
    let mut rows = Vec::with_capacity(register.partnerships.len());
    for p in &register.partnerships {
        let form = templates.iter().find(|t| t.issue_to.contains(&p.status));
        let expected = form.map(|t| t.id.clone());
        let own = scored_returns.remove(&p.id);
        // A score from imported history (no respondents): no form was read for it.
        let imported = own.as_ref().is_some_and(|o| o.respondents == 0);
        let got = match form {
            None => false,
            Some(t) if t.id == scored.id => own.is_some(),
            Some(t) => returns.get(&t.id).is_some_and(|m| m.contains_key(&p.id)),
        };
        let own = own.unwrap_or_default();
        let history = by_year.remove(&p.id).unwrap_or_default();
        // Last year's score came from its returns' respondents, or from one imported score.
        let before = match last_year.get(&p.id) {
            Some(r) => Some(r.respondents.max(1)),
            None => history.get(&(year - 1)).map(|_| 1),
        };
        let respondents_scored = (own.overall.map(|_| own.respondents.max(1)), before);
        // Imported history holds self-assessment scores only: in a year known only from
        // it, a partnership that owes another form now (an exit document, a proposal)
        // owed none that history can show, so nothing of it is outstanding.
        let other_form_unknowable = history_only && form.is_some_and(|t| t.id != scored.id);
        let state = match intake.partnership_state(store, p, expected.as_deref(), got)? {
            _ if other_form_unknowable && imported => ReturnState::Imported,
            _ if other_form_unknowable => ReturnState::NotExpected,
            ReturnState::Accepted if imported => ReturnState::Imported,
            state => state,
        };
        let who: Vec<Respondent> = match form {
            Some(_) if other_form_unknowable => Vec::new(),
            Some(t) => crate::issue::recipients_for(t, p, respondents, council),
            None => Vec::new(),
        };
        let (mut each, former) = intake.respondent_states(
            store,
            p,
            expected.as_deref().unwrap_or_default(),
            &state,
            who,
        )?;
        if state == ReturnState::Imported {
            each.iter_mut()
                .for_each(|(_, s)| *s = ReturnState::Imported);
        }
        let version = |m: &std::collections::HashMap<String, u32>, y: i32| {
            m.get(&p.id).copied().or_else(|| history.get(&y).map(|_| 1))
        };
        let versions = (
            version(&versions_now, year),
            version(&versions_before, year - 1),
        );
        let shared_sections = shared_sections(
            scored,
            versions,
            &means_before.remove(&p.id).unwrap_or_default(),
            &means_now.remove(&p.id).unwrap_or_default(),
        );
        rows.push(Row {
            versions,
            shared_sections,
            respondents_scored,
            stage_before: last_year.get(&p.id).and_then(|r| r.stage.clone()),
            respondents: each,
            former_respondents: former,
            expected,
            state,
            overall: own.overall,
            // Imported scores (a year known only from history) carry no band: the template's.
            band: own.band.or_else(|| {
                let pct = own.overall?;
                scored.band_for(pct).map(|b| b.label.clone())
            }),
            sections: own.sections,
            sections_before: sections_before.remove(&p.id).unwrap_or_default(),
            previous: history.get(&(year - 1)).copied(),
            stage: own.stage,
            first_year: history.keys().next().copied(),
            by_year: history,
            // The register's exit date, else the one the exit document gives.
            exit_date: p.exit_date.or_else(|| {
                exit_dates
                    .get(&p.id)
                    .and_then(|d| crate::register::parse_date(d))
            }),
            ..Row::new(p)
        });
    }
    Ok(rows)
}

/// Each section whose statements changed between the two years' template versions,
/// on the statements both share: (section id, before, now), where both years'
/// answers to them are stored.
fn shared_sections(
    scored: &Template,
    versions: (Option<u32>, Option<u32>),
    before: &std::collections::HashMap<String, f64>,
    now: &std::collections::HashMap<String, f64>,
) -> Vec<(String, f64, f64)> {
    use super::figures::{percent_on, questions_changed, shared_statements};
    let (Some(v_now), Some(v_before)) = versions else {
        return Vec::new();
    };
    scored
        .sections
        .iter()
        .filter(|s| s.is_scored() && questions_changed(s, versions))
        .filter_map(|s| {
            let shared = shared_statements(s, v_now, v_before);
            Some((
                s.id.clone(),
                percent_on(s, &shared, before)?,
                percent_on(s, &shared, now)?,
            ))
        })
        .collect()
}

/// Statements a partnership's respondents see differently, and how many partnerships
/// have returns from two or more respondents to compare.
fn disagreements(
    answers: &[RespondentAnswer],
    register: &Register,
    respondents: &Respondents,
    scored: &Template,
    council: &str,
) -> (Vec<Disagreement>, usize) {
    let compared = answers
        .iter()
        .map(|a| a.partnership_id.to_ascii_lowercase())
        .collect::<BTreeSet<_>>()
        .len();
    let in_register: Vec<&Partnership> = register.partnerships.iter().collect();
    let who = |pid: &str, rid: &str| -> (usize, String) {
        let Some(p) = register.get(pid) else {
            return (usize::MAX, rid.to_string());
        };
        let list = respondents.for_partnership(p, council);
        match list.iter().position(|r| r.id.eq_ignore_ascii_case(rid)) {
            Some(i) => (i, list[i].label()),
            // A respondent no longer in the file: their answers still count.
            None => (
                usize::MAX,
                format!("{rid} (no longer in the respondents file)"),
            ),
        }
    };
    (
        disagreement::find(scored, &in_register, answers, &who),
        compared,
    )
}

/// Each respondent's life-cycle stage, where two or more returned: (who, stage), in
/// the respondents file's order (the lead first; anyone no longer listed last).
fn stages(
    answers: &[RespondentAnswer],
    p: &Partnership,
    respondents: &Respondents,
    council: &str,
) -> Vec<(String, String)> {
    let list = respondents.for_partnership(p, council);
    let mut out: Vec<(usize, String, String)> = answers
        .iter()
        .filter(|a| {
            a.question_id == "stage"
                && a.partnership_id.eq_ignore_ascii_case(&p.id)
                && !a.value.trim().is_empty()
        })
        .map(|a| {
            match list
                .iter()
                .position(|r| r.id.eq_ignore_ascii_case(&a.respondent_id))
            {
                Some(i) => (i, list[i].label(), a.value.trim().to_string()),
                None => (
                    usize::MAX,
                    a.respondent_id.clone(),
                    a.value.trim().to_string(),
                ),
            }
        })
        .collect();
    out.sort_by_key(|x| x.0);
    out.into_iter().map(|(_, w, s)| (w, s)).collect()
}
