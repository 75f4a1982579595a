//! One partnership's line in the review and where its forms stand: the plain types
//! that gathering fills and the decision rules, figures and sheets read. They sit
//! below both gathering and the rules so neither imports the other's module.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::register::Partnership;
use crate::respondents::Respondent;

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
    /// A year known only from imported history: its score was imported, no form read.
    Imported,
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
            ReturnState::Imported => "score imported from history",
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
    /// Each respondent's life-cycle stage where two or more returned: (who, stage),
    /// the lead first. Empty otherwise (`stage` is then the one answer).
    pub stages: Vec<(String, String)>,
    /// A proposed partnership's key facts, once its new-partnership form is in.
    pub proposal: Option<Proposal>,
    /// The lowest and highest of its respondents' own overall scores, where two or
    /// more are scored.
    pub respondent_range: Option<(f64, f64)>,
    /// How many respondents' returns this year's score and last year's come from
    /// (last year's imported score counts as one): a change between different numbers
    /// of respondents is not like for like.
    pub respondents_scored: (Option<usize>, Option<usize>),
    /// The template versions this year's and last year's scores were answered on
    /// (imported history counts as version 1, the form before ptk changed it): a
    /// section whose statements differ between them is not compared.
    pub versions: (Option<u32>, Option<u32>),
    /// For each section whose statements changed between those versions, its percent
    /// last year and this year on the statements both years share, where both years'
    /// answers are stored: (section id, before, now).
    pub shared_sections: Vec<(String, f64, f64)>,
    /// Last year's life-cycle stage, where its returns were read by ptk.
    pub stage_before: Option<String>,
    /// The partnership's own words for the review: each question marked `in_review`
    /// (its text) with every respondent's answer (who, answer), the lead first.
    pub words: Vec<(String, Vec<(String, String)>)>,
}

/// The scored risk rows of a new-partnership return: (row number, score, rating).
pub fn risk_rows(ret: &crate::store::ReturnRow) -> Vec<(usize, f64, String)> {
    let mut v: Vec<(usize, f64, String)> = ret
        .answers
        .iter()
        .filter_map(|(k, (val, pts, _))| {
            let n: usize = k
                .strip_prefix("risks_")?
                .strip_suffix("_score")?
                .parse()
                .ok()?;
            let rating = ret
                .answers
                .get(&format!("risks_{n}_rating"))
                .map(|a| a.0.clone())
                .unwrap_or_default();
            Some((n, pts.or_else(|| val.parse().ok())?, rating))
        })
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

impl Proposal {
    /// From a new-partnership form's answers.
    pub fn from_return(ret: &crate::store::ReturnRow) -> Self {
        let answer = |q: &str| {
            ret.answers
                .get(q)
                .map(|a| a.0.trim().to_string())
                .filter(|a| !a.is_empty())
        };
        Proposal {
            highest_risk: risk_rows(ret)
                .into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(_, s, r)| (s, r)),
            annual_cost: answer("council_contribution").and_then(|a| a.parse().ok()),
            termination: answer("termination"),
        }
    }
}

/// What the Leadership Team weighs first on a new-partnership proposal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proposal {
    /// The highest risk score and its rating.
    pub highest_risk: Option<(f64, String)>,
    /// The expected annual council contribution (£).
    pub annual_cost: Option<f64>,
    /// The answer to "Are termination arrangements understood by all partners?".
    pub termination: Option<String>,
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

    /// Whether this year's score comes from a different number of respondents than
    /// last year's (e.g. the lead alone, then the lead and two partners).
    pub fn respondents_changed(&self) -> bool {
        matches!(self.respondents_scored, (Some(now), Some(before)) if now != before)
    }

    /// The change counted as improved, declined or steady: none where the
    /// respondents changed, since who answered moved the score as much as the work.
    pub fn fair_change(&self) -> Option<f64> {
        self.change().filter(|_| !self.respondents_changed())
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

impl<'a> Row<'a> {
    /// A row for `partnership` with nothing known yet: no form due, no score, no
    /// history. Tests and gathering set only the fields they mean, so a new field
    /// changes one place.
    pub fn new(partnership: &'a Partnership) -> Self {
        Row {
            partnership,
            expected: None,
            state: ReturnState::NotExpected,
            overall: None,
            band: None,
            sections: Vec::new(),
            sections_before: Vec::new(),
            previous: None,
            stage: None,
            first_year: None,
            by_year: BTreeMap::new(),
            exit_date: None,
            respondents: Vec::new(),
            former_respondents: 0,
            stages: Vec::new(),
            proposal: None,
            respondent_range: None,
            respondents_scored: (None, None),
            versions: (None, None),
            shared_sections: Vec::new(),
            stage_before: None,
            words: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::Status;

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
            expected: Some("self-assessment".into()),
            state: ReturnState::Accepted,
            overall: Some(60.0),
            respondents: vec![
                (lead.clone(), ReturnState::Accepted),
                (partner.clone(), ReturnState::Rejected("bad date".into())),
            ],
            ..Row::new(&p)
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
}
