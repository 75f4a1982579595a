//! Email: the forms going out, step by step.
//!
//! Each kind of message is planned first ([`plan`]: pure, who, what, which attachment,
//! and a key that names the message), then built with lettre ([`build`]) and handed to
//! a [`deliver::Transport`]: `.eml` drafts in a folder by default (they open in Outlook
//! or Thunderbird for review before sending), or SMTP ([`smtp`]). Each attempt is
//! recorded in the store as it happens, so a re-run never sends a message twice and a
//! failure part-way leaves an exact record.
//!
//! Letters to the same person planned by one run go as one email ([`merge`]), and
//! nobody gets a second email the same day: what is new for someone already written to
//! today is held back until the next day's run ([`deliver()`]).
//!
//! A new kind of message needs a [`Kind`] (in [`crate::sends`]), a planner in [`plan`] that returns
//! [`Outgoing`] messages (see [`Outgoing::addressed`] and [`message_key`]), and a letter in
//! templates/email/; building and delivery are shared.
//!
//! Returns coming back by email are read by `ptk ingest` ([`crate::ingest::email`]).

pub use crate::sends::{key_respondent, message_key, Kind};

pub mod build;
pub mod deliver;
pub mod merge;
pub mod plan;
pub mod redact;
pub mod smtp;

pub use build::{build, message_id};
pub use deliver::{
    deliver, DeliverOptions, DeliverSummary, EmlFolder, StopSending, Transport, DRAFT_HEADER,
};
pub use merge::{merge, Email};
pub use plan::{
    plan_ad_packs, plan_chase, plan_corrections, plan_feedback, plan_follow_up, plan_issue,
    ChaseOptions, ChasePlan, CorrectionLetters, CorrectionsPlan, FeedbackLetters, FeedbackPlan,
    FollowUpLetters, FollowUpPlan, IssueLetters, IssuePlan,
};
pub use redact::redact_smtp_error;
pub use smtp::{Security, Smtp, SmtpSettings};

use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::letter::Letter;
use crate::register::Partnership;
use crate::respondents::Respondent;
use crate::template::Template;

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
