//! Where each partnership's form stands, for `ptk status` and its CSV: the return's
//! state from the review, joined with the emails recorded in the store and the forms in
//! the outbox. Pure: plain data in, rows out.

use std::collections::HashMap;

use crate::report::{ReturnState, Review};
use crate::store::SendRecord;

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
    pub officer: String,
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
    pub overall: Option<f64>,
    pub detail: String,
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

/// The status of every partnership in the review. `in_outbox(partnership, template)`
/// says whether its issued workbook is in the outbox.
pub fn rows(
    review: &Review,
    sends: &[SendRecord],
    in_outbox: &dyn Fn(&str, &str) -> bool,
) -> Vec<StatusRow> {
    let mut by_form: HashMap<(&str, &str), Vec<&SendRecord>> = HashMap::new();
    for s in sends.iter().filter(|s| s.year == review.year) {
        by_form
            .entry((s.partnership_id.as_str(), s.template_id.as_str()))
            .or_default()
            .push(s);
    }
    review
        .rows
        .iter()
        .map(|r| {
            let p = r.partnership;
            let form = r
                .expected
                .clone()
                .unwrap_or_else(|| p.status.as_str().to_string());
            let mine = by_form
                .get(&(p.id.as_str(), form.as_str()))
                .map_or(&[][..], Vec::as_slice);
            let (fs, emailed_at) = form_state(mine, in_outbox(&p.id, &form));
            let reminded_at = mine
                .iter()
                .filter(|s| s.kind == "chase" && s.state != "failed")
                .map(|s| s.sent_at.clone())
                .max()
                .unwrap_or_default();
            let (return_state, detail) = match &r.state {
                ReturnState::Accepted => ("accepted", String::new()),
                ReturnState::Exited => ("exited", String::new()),
                ReturnState::Rejected(why) => ("rejected", why.clone()),
                ReturnState::Unreadable(file) => (
                    "received-unreadable",
                    format!("{file} could not be opened: ask for it to be saved again and resent"),
                ),
                ReturnState::NotReturned => ("not-returned", String::new()),
                ReturnState::NotExpected => ("not-expected", String::new()),
            };
            let state = match &r.state {
                ReturnState::NotReturned => fs.label(),
                _ => return_state,
            };
            StatusRow {
                partnership_id: p.id.clone(),
                partnership: p.name.clone(),
                form,
                officer: p.lead_officer.clone(),
                recipient: p.email.clone(),
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
                detail,
            }
        })
        .collect()
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 12] = [
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
