//! Where each partnership's form stands, for `ptk status` and its CSV: the return's
//! state from the review, joined with the emails recorded in the store and the forms in
//! the outbox, one row per partnership, form and respondent (a form sent to all
//! respondents has a row for each of them). Pure: plain data in, rows out.

use std::collections::{HashMap, HashSet};

use crate::issue::recipients_for;
use crate::report::{ReturnState, Review};
use crate::respondents::{Respondent, Respondents};
use crate::store::{RejectedFile, SendRecord};

/// How far the form itself got on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormState {
    /// No workbook in the outbox and no issue email.
    NotIssued,
    /// The workbook is in the outbox, not emailed by ptk.
    Issued,
    /// An .eml draft was written; not yet sent by ptk.
    Drafted,
    /// The issue email went to the SMTP server.
    Sent,
}

impl FormState {
    pub fn label(self) -> &'static str {
        match self {
            FormState::NotIssued => "not-issued",
            FormState::Issued => "issued",
            FormState::Drafted => "drafted",
            FormState::Sent => "sent",
        }
    }
}

/// One partnership, form and recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    pub partnership_id: String,
    pub partnership: String,
    /// The form expected (template id), or the register status when none is.
    pub form: String,
    /// The partnership's lead officer.
    pub officer: String,
    /// Whose form this row is (`lead` for the lead officer), their name and address.
    pub respondent_id: String,
    pub respondent: String,
    pub recipient: String,
    /// The one state to filter on: the return's when one came in (accepted, exited,
    /// rejected, received-unreadable), else the form's (sent, drafted, issued,
    /// not-issued), or not-expected.
    pub state: &'static str,
    pub return_state: &'static str,
    pub form_state: &'static str,
    /// When the issue email was last drafted or sent, and the last reminder.
    pub emailed_at: String,
    pub reminded_at: String,
    /// The partnership's overall score and band (from all its respondents' returns).
    pub overall: Option<f64>,
    pub band: Option<String>,
    pub detail: String,
}

/// What the store says of each respondent's return, for [`rows`]: keys are
/// (template id, partnership id, respondent id), ids lower-case.
#[derive(Debug, Clone, Default)]
pub struct RespondentReturns {
    /// Respondents with a current accepted return.
    pub accepted: HashSet<(String, String, String)>,
    /// Respondents whose newest file was rejected and not yet replaced: its message.
    pub rejected: HashMap<(String, String, String), String>,
}

impl RespondentReturns {
    /// From `Store::returned_respondents` (by template) and
    /// `Store::rejected_respondent_files`.
    pub fn new(
        returned: impl IntoIterator<Item = (String, HashMap<String, Vec<String>>)>,
        rejected: &[RejectedFile],
    ) -> Self {
        let key = Self::key;
        let mut out = Self::default();
        for (t, by_p) in returned {
            for (p, rids) in by_p {
                for r in rids {
                    out.accepted.insert(key(&t, &p, &r));
                }
            }
        }
        for f in rejected {
            out.rejected.insert(
                key(&f.template_id, &f.partnership_id, &f.respondent_id),
                f.message.clone(),
            );
        }
        out
    }

    fn key(t: &str, p: &str, r: &str) -> (String, String, String) {
        (
            t.to_string(),
            p.to_ascii_lowercase(),
            r.to_ascii_lowercase(),
        )
    }
}

/// The state of one form's issue email (with when): sent wins over drafted; with
/// neither, a workbook in the outbox counts as issued.
fn form_state(sends: &[&SendRecord], in_outbox: bool) -> (FormState, String) {
    let issue = |state: &str| {
        sends
            .iter()
            .filter(|s| s.kind == "issue" && s.state == state)
            .map(|s| s.sent_at.clone())
            .max()
    };
    if let Some(at) = issue("sent") {
        (FormState::Sent, at)
    } else if let Some(at) = issue("drafted") {
        (FormState::Drafted, at)
    } else if in_outbox {
        (FormState::Issued, String::new())
    } else {
        (FormState::NotIssued, String::new())
    }
}

/// The status of every partnership in the review: one row per partnership, form and
/// respondent. A partnership with one respondent (its lead) reads exactly as before
/// respondents existed, from the review's state; with several, each respondent's row
/// says whether they returned (`returns`). `in_outbox(partnership, template,
/// respondent)` says whether their issued workbook is in the outbox.
pub fn rows(
    review: &Review,
    respondents: &Respondents,
    returns: &RespondentReturns,
    sends: &[SendRecord],
    in_outbox: &dyn Fn(&str, &str, &str) -> bool,
) -> Vec<StatusRow> {
    // (partnership, template, respondent), lower-case → that respondent's messages.
    let mut by_form: HashMap<(String, &str, String), Vec<&SendRecord>> = HashMap::new();
    for s in sends.iter().filter(|s| s.year == review.year) {
        by_form
            .entry((
                s.partnership_id.to_ascii_lowercase(),
                s.template_id.as_str(),
                crate::mail::key_respondent(&s.key).to_ascii_lowercase(),
            ))
            .or_default()
            .push(s);
    }
    let mut out = Vec::new();
    for r in &review.rows {
        let p = r.partnership;
        let form = r
            .expected
            .clone()
            .unwrap_or_else(|| p.status.as_str().to_string());
        let template = r
            .expected
            .as_ref()
            .and_then(|id| review.templates.iter().find(|t| &t.id == id));
        let who: Vec<Respondent> = match template {
            Some(t) => recipients_for(t, p, respondents, &review.council),
            None => vec![Respondent::lead(p, &review.council)],
        };
        let several = who.len() > 1;
        for w in who {
            let mine = by_form
                .get(&(
                    p.id.to_ascii_lowercase(),
                    form.as_str(),
                    w.id.to_ascii_lowercase(),
                ))
                .map_or(&[][..], Vec::as_slice);
            let (fs, emailed_at) = form_state(mine, in_outbox(&p.id, &form, &w.id));
            let reminded_at = mine
                .iter()
                .filter(|s| s.kind == "chase" && s.state != "failed")
                .map(|s| s.sent_at.clone())
                .max()
                .unwrap_or_default();
            // The respondent's own state where there are several; the review's otherwise.
            let state_here = if several {
                let k = RespondentReturns::key(&form, &p.id, &w.id);
                if returns.accepted.contains(&k) {
                    if r.state == ReturnState::Exited {
                        ReturnState::Exited
                    } else {
                        ReturnState::Accepted
                    }
                } else if let Some(why) = returns.rejected.get(&k) {
                    ReturnState::Rejected(why.clone())
                } else if w.is_lead() && matches!(r.state, ReturnState::Unreadable(_)) {
                    r.state.clone()
                } else {
                    ReturnState::NotReturned
                }
            } else {
                r.state.clone()
            };
            let (return_state, detail) = match &state_here {
                ReturnState::Accepted => ("accepted", String::new()),
                ReturnState::Exited => ("exited", String::new()),
                ReturnState::Rejected(why) => ("rejected", why.clone()),
                ReturnState::Unreadable(file) => (
                    "received-unreadable",
                    format!("{file} could not be opened: ask for it to be saved again and resent"),
                ),
                ReturnState::NotReturned => ("not-returned", String::new()),
                ReturnState::NotExpected => ("not-expected", String::new()),
                ReturnState::Imported => ("imported", String::new()),
            };
            let state = match &state_here {
                ReturnState::NotReturned => fs.label(),
                _ => return_state,
            };
            out.push(StatusRow {
                partnership_id: p.id.clone(),
                partnership: p.name.clone(),
                form: form.clone(),
                officer: p.lead_officer.clone(),
                respondent_id: w.id.clone(),
                respondent: w.name.clone(),
                recipient: w.email.clone(),
                state,
                return_state,
                form_state: if r.expected.is_some() {
                    fs.label()
                } else {
                    "not-expected"
                },
                emailed_at,
                reminded_at,
                overall: r.overall,
                band: r.band.clone(),
                detail,
            });
        }
    }
    out
}

/// The CSV columns, in order. The respondent's columns come last, so spreadsheets
/// built on the columns before them keep working.
pub const CSV_HEADER: [&str; 14] = [
    "partnership_id",
    "partnership",
    "form",
    "lead_officer",
    "recipient",
    "state",
    "return_state",
    "form_state",
    "form_emailed_at",
    "last_reminder_at",
    "overall_percent",
    "detail",
    "respondent_id",
    "respondent",
];

/// Writes the rows as a CSV (with the BOM, formula-safe, control characters escaped).
pub fn csv(rows: &[StatusRow]) -> anyhow::Result<Vec<u8>> {
    let mut w = crate::output::SafeCsv::new();
    w.row(CSV_HEADER)?;
    for r in rows {
        let overall = r.overall.map(|o| format!("{o:.1}")).unwrap_or_default();
        w.row(
            [
                r.partnership_id.as_str(),
                &r.partnership,
                &r.form,
                &r.officer,
                &r.recipient,
                r.state,
                r.return_state,
                r.form_state,
                &r.emailed_at,
                &r.reminded_at,
                &overall,
                &r.detail,
                &r.respondent_id,
                &r.respondent,
            ]
            .map(|f| crate::output::printable_text(f).into_owned()),
        )?;
    }
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(kind: &str, state: &str, at: &str) -> SendRecord {
        SendRecord {
            key: String::new(),
            kind: kind.into(),
            message_id: String::new(),
            partnership_id: "P1".into(),
            recipient: String::new(),
            template_id: "self-assessment".into(),
            year: 2026,
            file_sha256: String::new(),
            sent_at: at.into(),
            transport: String::new(),
            result: String::new(),
            state: state.into(),
        }
    }

    #[test]
    fn sent_beats_drafted_beats_issued() {
        let d = send("issue", "drafted", "2026-11-23T10:00:00");
        let s = send("issue", "sent", "2026-11-24T09:00:00");
        let f = send("issue", "failed", "2026-11-25T09:00:00");
        assert_eq!(form_state(&[&d], true).0, FormState::Drafted);
        assert_eq!(
            form_state(&[&d, &s, &f], false),
            (FormState::Sent, "2026-11-24T09:00:00".into())
        );
        assert_eq!(form_state(&[&f], true).0, FormState::Issued);
        assert_eq!(form_state(&[], false).0, FormState::NotIssued);
        let chase = send("chase", "sent", "2026-12-01T09:00:00");
        assert_eq!(form_state(&[&chase], false).0, FormState::NotIssued);
    }
}
