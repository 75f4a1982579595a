//! Gathering the review: the store, register and templates turned into a plain
//! [`Review`] that the sheets only lay out. Nothing here writes a workbook.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::NaiveDate;

use super::decision::{self, Decision, DecisionRules};
use super::disagreement::{self, Disagreement};
use crate::register::{Partnership, Register, Status};
use crate::respondents::{Respondent, Respondents};
use crate::store::{ReturnRow, Store, StoredFinding};
use crate::template::Template;

/// Where a partnership's form for the year stands. Every variant is shown through
/// [`ReturnState::label`], so a new state is one variant and one label.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnState {
    /// The form it owes was received and accepted.
    Accepted,
    /// Its exit document was received and accepted.
    Exited,
    /// Rejected: the problems to correct, summarised.
    Rejected(String),
    NotReturned,
    /// A file named for the partnership came in but could not be opened (damaged,
    /// cut short, encrypted): ask for it again, saved afresh. Holds the file's name.
    Unreadable(String),
    /// No form is expected (e.g. a closed partnership).
    NotExpected,
}

impl ReturnState {
    /// The words shown in the workbook ("received", never "accepted": next to a
    /// proposed partnership that read as if the proposal were approved).
    pub fn label(&self) -> &'static str {
        match self {
            ReturnState::Accepted => "received",
            ReturnState::Exited => "exit document received",
            ReturnState::Rejected(_) => "received, needs correcting",
            ReturnState::NotReturned => "not returned",
            ReturnState::Unreadable(_) => "received, unreadable",
            ReturnState::NotExpected => "no form due",
        }
    }

    pub fn is_outstanding(&self) -> bool {
        matches!(
            self,
            ReturnState::Rejected(_) | ReturnState::NotReturned | ReturnState::Unreadable(_)
        )
    }

    pub fn is_received(&self) -> bool {
        matches!(self, ReturnState::Accepted | ReturnState::Exited)
    }
}

/// Whether a file's name starts with a partnership id as its own word (`ICT12_…`,
/// `ICT12 return.xlsx`), as issued file names and most renamed ones do: how a file
/// that cannot be opened, so cannot say whose it is, is still put to its partnership.
pub fn names_partnership(path: &str, id: &str) -> bool {
    let name = file_name_of(path);
    name.len() > id.len()
        && name.is_char_boundary(id.len())
        && name[..id.len()].eq_ignore_ascii_case(id)
        && !name[id.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
}

pub fn file_name_of(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// One partnership's line in the review.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// Borrowed from the register: a review of thousands holds no copies.
    pub partnership: &'a Partnership,
    /// The form expected from it this year (by register status).
    pub expected: Option<String>,
    pub state: ReturnState,
    pub overall: Option<f64>,
    pub band: Option<String>,
    /// (section id, percent) for the sections scored this year, by id.
    pub sections: Vec<(String, f64)>,
    /// (section id, percent) for last year, by id.
    pub sections_before: Vec<(String, f64)>,
    pub previous: Option<f64>,
    pub stage: Option<String>,
    pub first_year: Option<i32>,
    /// Overall % by year, every year the store knows.
    pub by_year: BTreeMap<i32, f64>,
    /// The exit date on its latest exit document, if any.
    pub exit_date: Option<NaiveDate>,
    /// Everyone the form due goes to (the lead first), each with where their own
    /// return stands; none when no form is due. With one respondent their state is
    /// the partnership's.
    pub respondents: Vec<(Respondent, ReturnState)>,
    /// Current returns from people no longer in the respondents file: their answers
    /// still count in the score.
    pub former_respondents: usize,
}

/// The mark beside "2 of 3" for a partnership scored from fewer than all its
/// respondents (explained in a note on the Summary).
pub const PARTIAL_MARK: &str = "‡";

impl Row<'_> {
    /// How many of its respondents' forms are in (accepted).
    pub fn respondents_returned(&self) -> usize {
        self.respondents
            .iter()
            .filter(|(_, s)| s.is_received())
            .count()
    }

    /// Scored (or received) from some but not all of its respondents' forms.
    pub fn is_partial(&self) -> bool {
        let n = self.respondents_returned();
        (n > 0 || self.former_respondents > 0) && n < self.respondents.len()
    }

    /// "2 of 3 ‡" (partial), "1 of 1", or blank where no form is due.
    pub fn respondents_text(&self) -> String {
        if self.respondents.is_empty() {
            return String::new();
        }
        let mut s = format!(
            "{} of {}",
            self.respondents_returned(),
            self.respondents.len()
        );
        if self.is_partial() {
            s.push(' ');
            s.push_str(PARTIAL_MARK);
        }
        if self.former_respondents > 0 {
            s.push_str(&format!(" (+{} no longer listed)", self.former_respondents));
        }
        s
    }

    /// The respondents who owe a form still: not returned, or returned with problems.
    pub fn missing_respondents(&self) -> impl Iterator<Item = &(Respondent, ReturnState)> {
        self.respondents.iter().filter(|(_, s)| s.is_outstanding())
    }

    /// The percent of one section this year, if scored.
    pub fn section(&self, id: &str) -> Option<f64> {
        self.sections.iter().find(|(s, _)| s == id).map(|(_, v)| *v)
    }

    /// The percent of one section last year, if scored.
    pub fn section_before(&self, id: &str) -> Option<f64> {
        self.sections_before
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, v)| *v)
    }

    pub fn change(&self) -> Option<f64> {
        crate::score::change(self.overall, self.previous)
    }

    /// A scored partnership with no earlier score is new to the review.
    pub fn is_new(&self) -> bool {
        self.overall.is_some()
            && self.previous.is_none()
            && self.by_year.keys().all(|y| *y >= self.year())
    }

    fn year(&self) -> i32 {
        self.by_year.keys().copied().max().unwrap_or(0)
    }

    /// Whether it is part of this year's review (it owes a form).
    pub fn in_review(&self) -> bool {
        self.expected.is_some()
    }
}

/// Per-question statistics for the Sections sheet.
#[derive(Debug, Clone)]
pub struct QuestionStats {
    pub section: String,
    pub number: String,
    pub question_id: String,
    pub text: String,
    pub average: Option<f64>,
    /// How many partnerships the average is over (answers that score).
    pub answered: usize,
    pub max_points: f64,
    /// Option label → count, in option order.
    pub distribution: Vec<(String, usize)>,
    pub last_year_average: Option<f64>,
}

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
    pub rules: DecisionRules,
    /// Partnerships meeting a decision rule, weakest first.
    pub decisions: Vec<Decision>,
    /// Statements a partnership's respondents see differently (spread at or above the
    /// scored template's `disagreement`), largest spread first.
    pub disagreements: Vec<Disagreement>,
    /// Partnerships with returns from two or more respondents this year.
    pub compared_partnerships: usize,
}

impl Review<'_> {
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
    let mut scored_returns = store.scored_returns(year, &scored.id, "stage")?;
    let mut sections_before = store.section_scores(&scored.id, year - 1)?;
    let returns: BTreeMap<String, BTreeMap<String, ReturnRow>> = templates
        .iter()
        .filter(|t| t.id != scored.id)
        .map(|t| Ok((t.id.clone(), store.current_returns(year, &t.id)?)))
        .collect::<anyhow::Result<_>>()?;
    let exit_dates = store.latest_answers("exit", "exit_date", year)?;
    let stats_now = store.question_stats(year, &scored.id)?;
    let stats_before = store.question_stats(year - 1, &scored.id)?;
    let rejected = store.rejected_files(year)?;

    let unreadable = store.unreadable_files(year)?;
    // Who has a current return: (template, partnership) → respondent ids, lower case.
    let mut returned: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for t in templates {
        for (pid, rids) in store.returned_respondents(year, &t.id)? {
            returned.insert(
                (t.id.clone(), pid.to_ascii_lowercase()),
                rids.iter().map(|r| r.to_ascii_lowercase()).collect(),
            );
        }
    }
    let rejected_by_respondent = store.rejected_respondent_files(year)?;
    let mut rows = Vec::with_capacity(register.partnerships.len());
    for p in &register.partnerships {
        let expected = templates
            .iter()
            .find(|t| t.issue_to.contains(&p.status))
            .map(|t| t.id.clone());
        let own = scored_returns.remove(&p.id);
        let got = match &expected {
            None => false,
            Some(t) if *t == scored.id => own.is_some(),
            Some(t) => returns.get(t).is_some_and(|m| m.contains_key(&p.id)),
        };
        let own = own.unwrap_or_default();
        let state = match (&expected, got) {
            (None, _) => ReturnState::NotExpected,
            (Some(_), true) if p.status == Status::Exiting => ReturnState::Exited,
            (Some(_), true) => ReturnState::Accepted,
            (Some(t), false) => match rejected.iter().find(|(_, f)| {
                f.partnership_id.as_deref() == Some(&p.id) && f.template_id.as_deref() == Some(t)
            }) {
                Some((sha, f)) => {
                    ReturnState::Rejected(summarise_findings(&store.findings_for(sha)?, &f.message))
                }
                None => match unreadable
                    .iter()
                    .find(|(_, f)| names_partnership(&f.path, &p.id))
                {
                    Some((_, f)) => ReturnState::Unreadable(file_name_of(&f.path)),
                    None => ReturnState::NotReturned,
                },
            },
        };
        let who: Vec<Respondent> = match expected
            .as_ref()
            .and_then(|id| templates.iter().find(|t| &t.id == id))
        {
            Some(t) => crate::issue::recipients_for(t, p, respondents, council),
            None => Vec::new(),
        };
        let t = expected.as_deref().unwrap_or_default();
        let theirs = returned
            .get(&(t.to_string(), p.id.to_ascii_lowercase()))
            .map_or(&[][..], Vec::as_slice);
        // Returns from people no longer in the respondents file still count.
        let former = theirs
            .iter()
            .filter(|rid| !who.iter().any(|w| w.id.eq_ignore_ascii_case(rid)))
            .count();
        // Each respondent's own state where several answer (or someone no longer
        // listed did); the partnership's otherwise, exactly as before respondents.
        let several = who.len() > 1 || former > 0;
        let mut each = Vec::with_capacity(who.len());
        for w in who {
            let state = if several {
                if theirs.iter().any(|rid| w.id.eq_ignore_ascii_case(rid)) {
                    ReturnState::Accepted
                } else if let Some(f) = rejected_by_respondent.iter().find(|f| {
                    f.template_id == t
                        && f.partnership_id.eq_ignore_ascii_case(&p.id)
                        && f.respondent_id.eq_ignore_ascii_case(&w.id)
                }) {
                    ReturnState::Rejected(summarise_findings(
                        &store.findings_for(&f.sha256)?,
                        &f.message,
                    ))
                } else if w.is_lead() && matches!(state, ReturnState::Unreadable(_)) {
                    state.clone()
                } else {
                    ReturnState::NotReturned
                }
            } else {
                state.clone()
            };
            each.push((w, state));
        }
        let history = by_year.remove(&p.id).unwrap_or_default();
        rows.push(Row {
            respondents: each,
            former_respondents: former,
            expected,
            state,
            overall: own.overall,
            band: own.band,
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
            partnership: p,
        });
    }

    // Question statistics for the scored template.
    let mut questions = Vec::new();
    for (si, s) in scored.sections.iter().enumerate() {
        if !s.is_scored() {
            continue;
        }
        for (qi, q) in s.questions.iter().enumerate() {
            if !q.is_scored() {
                continue;
            }
            let now = stats_now.get(&q.id);
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
                last_year_average: stats_before.get(&q.id).and_then(|(a, _)| *a),
            });
        }
    }

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
    let answers = store.respondent_answers(year, &scored.id)?;
    let compared_partnerships = answers
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
    let disagreements = disagreement::find(&scored, &in_register, &answers, &who);
    let (runs, files_read, generated_at) = store.runs_for_year(year)?;
    let as_of = generated_at
        .as_deref()
        .and_then(|s| s.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let mut review = Review {
        year,
        council: council.to_string(),
        exits: pick("exit"),
        new_partnerships: pick("new-partnership"),
        findings,
        scored,
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
        decisions: Vec::new(),
        disagreements,
        compared_partnerships,
    };
    let cx = decision::Context {
        year,
        scored_id,
        lowest_band: review.lowest_band(),
        as_of,
    };
    review.decisions = decision::decide(&review.rows, rules, &cx);
    Ok(review)
}

/// "2 problems: C22 question 2.3 has no answer; …" from a rejected file's findings.
pub(super) fn summarise_findings(findings: &[StoredFinding], fallback: &str) -> String {
    let errors: Vec<&StoredFinding> = findings.iter().filter(|f| f.severity == "error").collect();
    if errors.is_empty() {
        return fallback.to_string();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|f| {
            if f.cell.is_empty() {
                f.message.clone()
            } else {
                format!("{}!{}: {}", f.sheet, f.cell, f.message)
            }
        })
        .collect();
    format!(
        "{} problem{} to correct: {}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        parts.join(" | ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respondents_returned_of_due_and_the_partial_mark() {
        let p = Partnership {
            id: "P1".into(),
            name: "P".into(),
            category: String::new(),
            lead_officer: "Ann".into(),
            email: "ann@example.org".into(),
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
        let lead = Respondent::lead(&p, "Council");
        let mut partner = lead.clone();
        partner.id = "police".into();
        let mut row = Row {
            partnership: &p,
            expected: Some("self-assessment".into()),
            state: ReturnState::Accepted,
            overall: Some(60.0),
            band: None,
            sections: Vec::new(),
            sections_before: Vec::new(),
            previous: None,
            stage: None,
            first_year: None,
            by_year: BTreeMap::new(),
            exit_date: None,
            former_respondents: 0,
            respondents: vec![
                (lead.clone(), ReturnState::Accepted),
                (partner.clone(), ReturnState::Rejected("bad date".into())),
            ],
        };
        assert_eq!(row.respondents_text(), "1 of 2 ‡");
        assert!(row.is_partial());
        assert_eq!(row.missing_respondents().count(), 1);
        row.respondents[1].1 = ReturnState::Accepted;
        assert_eq!(row.respondents_text(), "2 of 2");
        assert!(!row.is_partial());
        row.respondents = vec![(lead, ReturnState::NotReturned)];
        assert_eq!(row.respondents_text(), "0 of 1");
        assert!(!row.is_partial(), "nothing returned is not partial");
        row.former_respondents = 1;
        assert_eq!(row.respondents_text(), "0 of 1 ‡ (+1 no longer listed)");
        row.former_respondents = 0;
        row.respondents.clear();
        assert_eq!(row.respondents_text(), "", "no form due");
    }

    #[test]
    fn findings_summary_lists_errors_with_cells() {
        let f = |sev: &str, cell: &str, msg: &str| StoredFinding {
            path: "x".into(),
            partnership_id: "P".into(),
            severity: sev.into(),
            code: "c".into(),
            sheet: "Assessment".into(),
            cell: cell.into(),
            question_id: "q".into(),
            message: msg.into(),
        };
        let s = summarise_findings(
            &[
                f("error", "C22", "no answer"),
                f("warning", "", "old"),
                f("error", "", "bad date"),
            ],
            "fallback",
        );
        assert_eq!(
            s,
            "2 problems to correct: Assessment!C22: no answer | bad date"
        );
        assert_eq!(summarise_findings(&[], "fallback"), "fallback");
    }
}
