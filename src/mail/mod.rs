//! Email: the forms going out, step by step.
//!
//! Each kind of message is planned first ([`plan`]: pure, who, what, which attachment,
//! and a key that names the message), then built with lettre ([`build`]) and handed to
//! a [`deliver::Transport`]: `.eml` drafts in a folder by default (they open in Outlook
//! or Thunderbird for review before sending), or SMTP ([`smtp`]). Each attempt is
//! recorded in the store as it happens, so a re-run never sends a message twice and a
//! failure part-way leaves an exact record.
//!
//! A new kind of message needs a [`Kind`], a planner in [`plan`] that returns
//! [`Outgoing`] messages (see [`Outgoing::addressed`] and [`message_key`]), and a letter in
//! templates/email/; building and delivery are shared.
//!
//! Returns coming back by email are read by `ptk ingest` ([`crate::ingest::email`]).

pub mod build;
pub mod deliver;
pub mod plan;
pub mod smtp;

pub use build::{build, message_id};
pub use deliver::{deliver, DeliverOptions, DeliverSummary, EmlFolder, Transport, DRAFT_HEADER};
pub use plan::{
    plan_chase, plan_corrections, plan_issue, ChaseOptions, ChasePlan, CorrectionLetters,
    CorrectionsPlan,
};
pub use smtp::{redact_smtp_error, Security, Smtp, SmtpSettings};

use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::letter::Letter;
use crate::register::Partnership;
use crate::respondents::{Respondent, LEAD};
use crate::template::Template;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The form, when it is issued.
    Issue,
    /// A reminder to a partnership with no accepted return.
    Chase,
    /// The problems found in a rejected return, with the file sent back.
    Corrections,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::Chase => "chase",
            Kind::Corrections => "corrections",
        }
    }
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One planned message.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub kind: Kind,
    pub partnership_id: String,
    /// Whose form the message is about, and to whom it goes (`lead` for the lead officer).
    pub respondent_id: String,
    pub template_id: String,
    pub year: i32,
    pub to: (String, String),
    pub cc: Option<String>,
    pub letter: Letter,
    pub attachment: Option<FileAttachment>,
    pub file_sha256: String,
    /// Names the message: the same key is never sent twice (without --resend).
    pub key: String,
}

impl Outgoing {
    /// A message about respondent `r`'s form `t`, to them; the lead officer's is copied
    /// to the partnership's Assistant Director if `cc_ad` (the partners' are between
    /// them and the council's officer). No attachment or key yet.
    pub fn addressed(
        kind: Kind,
        p: &Partnership,
        r: &Respondent,
        t: &Template,
        year: i32,
        cc_ad: bool,
        letter: Letter,
    ) -> Self {
        Self {
            kind,
            partnership_id: p.id.clone(),
            respondent_id: r.id.clone(),
            template_id: t.id.clone(),
            year,
            to: (r.name.clone(), r.email.clone()),
            cc: (cc_ad && r.is_lead())
                .then(|| p.assistant_director_email.clone())
                .flatten(),
            letter,
            attachment: None,
            file_sha256: String::new(),
            key: String::new(),
        }
    }
}

/// The key naming a message: `<kind>/<template>/<year>/<partnership>/<tail>` for the
/// lead officer (as before respondents existed, so nothing already sent is sent again),
/// `<kind>/<template>/<year>/<partnership>/<respondent>/<tail>` for anyone else. Ids
/// never contain `/`.
pub fn message_key(kind: Kind, t: &str, year: i32, pid: &str, rid: &str, tail: &str) -> String {
    if rid.eq_ignore_ascii_case(LEAD) {
        format!("{}/{t}/{year}/{pid}/{tail}", kind.as_str())
    } else {
        format!("{}/{t}/{year}/{pid}/{rid}/{tail}", kind.as_str())
    }
}

/// Whose message a key names (see [`message_key`]): the respondent id, or `lead`.
pub fn key_respondent(key: &str) -> &str {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() == 6 {
        parts[4]
    } else {
        LEAD
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_attachment(path: &Path) -> anyhow::Result<FileAttachment> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read {} to attach it", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "return.xlsx".into());
    Ok(FileAttachment { name, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_respondent_and_the_leads_keys_are_unchanged() {
        let lead = message_key(
            Kind::Issue,
            "self-assessment",
            2026,
            "LSP01",
            "lead",
            "ab12",
        );
        assert_eq!(lead, "issue/self-assessment/2026/LSP01/ab12");
        assert_eq!(key_respondent(&lead), "lead");
        let other = message_key(
            Kind::Chase,
            "self-assessment",
            2026,
            "LSP01",
            "essex-police",
            "2026-12-01",
        );
        assert_eq!(
            other,
            "chase/self-assessment/2026/LSP01/essex-police/2026-12-01"
        );
        assert_eq!(key_respondent(&other), "essex-police");
        assert_eq!(
            key_respondent("corrections/exit/2026/P1/0123456789abcdef"),
            "lead"
        );
    }
}
