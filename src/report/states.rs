//! Where each partnership's form, and each respondent's, stands this year: received,
//! rejected (with the problems to correct), unreadable or not returned. Read once from
//! the store's record of the year's files, then asked per partnership.

use std::collections::BTreeMap;

use super::row::{file_name_of, names_partnership, ReturnState};
use crate::register::{Partnership, Status};
use crate::respondents::Respondent;
use crate::store::{RejectedFile, SeenFile, Store, StoredFinding};
use crate::template::Template;

/// The year's files as the store recorded them, for working out states.
pub(super) struct Intake {
    rejected: Vec<(String, SeenFile)>,
    unreadable: Vec<(String, SeenFile)>,
    /// Who has a current return: (template, partnership) → respondent ids, lower case.
    returned: BTreeMap<(String, String), Vec<String>>,
    rejected_by_respondent: Vec<RejectedFile>,
}

impl Intake {
    pub fn load(store: &Store, templates: &[Template], year: i32) -> anyhow::Result<Self> {
        let mut returned = BTreeMap::new();
        for t in templates {
            for (pid, rids) in store.returned_respondents(year, &t.id)? {
                returned.insert(
                    (t.id.clone(), pid.to_ascii_lowercase()),
                    rids.iter().map(|r| r.to_ascii_lowercase()).collect(),
                );
            }
        }
        Ok(Intake {
            rejected: store.rejected_files(year)?,
            unreadable: store.unreadable_files(year)?,
            returned,
            rejected_by_respondent: store.rejected_respondent_files(year)?,
        })
    }

    /// The partnership's state for the form it owes (`expected`); `got` is whether a
    /// current return of that form is stored.
    pub fn partnership_state(
        &self,
        store: &Store,
        p: &Partnership,
        expected: Option<&str>,
        got: bool,
    ) -> anyhow::Result<ReturnState> {
        Ok(match (expected, got) {
            (None, _) => ReturnState::NotExpected,
            (Some(_), true) if p.status == Status::Exiting => ReturnState::Exited,
            (Some(_), true) => ReturnState::Accepted,
            (Some(t), false) => match self.rejected.iter().find(|(_, f)| {
                f.partnership_id.as_deref() == Some(&p.id) && f.template_id.as_deref() == Some(t)
            }) {
                Some((sha, f)) => {
                    ReturnState::Rejected(summarise_findings(&store.findings_for(sha)?, &f.message))
                }
                None => match self
                    .unreadable
                    .iter()
                    .find(|(_, f)| names_partnership(&f.path, &p.id))
                {
                    Some((_, f)) => ReturnState::Unreadable(file_name_of(&f.path)),
                    None => ReturnState::NotReturned,
                },
            },
        })
    }

    /// Each of `who` (everyone the form `template` goes to) with their own state, and
    /// how many current returns come from people no longer listed (their answers still
    /// count). With one respondent, and no one else's return, their state is the
    /// partnership's, exactly as before respondents.
    pub fn respondent_states(
        &self,
        store: &Store,
        p: &Partnership,
        template: &str,
        state: &ReturnState,
        who: Vec<Respondent>,
    ) -> anyhow::Result<(Vec<(Respondent, ReturnState)>, usize)> {
        let theirs = self
            .returned
            .get(&(template.to_string(), p.id.to_ascii_lowercase()))
            .map_or(&[][..], Vec::as_slice);
        let former = theirs
            .iter()
            .filter(|rid| !who.iter().any(|w| w.id.eq_ignore_ascii_case(rid)))
            .count();
        let several = who.len() > 1 || former > 0;
        let mut each = Vec::with_capacity(who.len());
        for w in who {
            let own = if !several {
                state.clone()
            } else if theirs.iter().any(|rid| w.id.eq_ignore_ascii_case(rid)) {
                ReturnState::Accepted
            } else if let Some(f) = self.rejected_by_respondent.iter().find(|f| {
                f.template_id == template
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
            };
            each.push((w, own));
        }
        Ok((each, former))
    }
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
