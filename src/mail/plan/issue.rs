//! The issue emails: each respondent's form, attached, sent once per edition.
//!
//! A form is named by what it is (template, year, partnership, respondent), never by
//! its bytes: issuing it again on a later date does not make it a new message. Only a
//! deliberate re-issue (`ptk issue --reissue`, a new edition in the store) is sent again,
//! with the letter saying it replaces the earlier form.

use std::collections::HashSet;
use std::path::Path;

use crate::issue::editions::IssueRecord;
use crate::issue::{recipients_for, respondent_file_name};
use crate::letter::{LetterContext, LetterTemplate};
use crate::mail::{read_attachment, sha256_hex, Kind, Outgoing};
use crate::register::Partnership;
use crate::respondents::Respondents;
use crate::store::Store;
use crate::template::Template;

/// The issue emails planned, and notes for the officer (forms left out, and why).
#[derive(Debug, Default)]
pub struct IssuePlan {
    pub messages: Vec<Outgoing>,
    pub notes: Vec<String>,
}

/// The two letters of `ptk mail issue`.
pub struct IssueLetters {
    /// The form, the first time.
    pub issue: LetterTemplate,
    /// A form issued again on purpose, replacing the one sent before.
    pub reissue: LetterTemplate,
}

/// Plans the issue emails: one per respondent's workbook (see
/// [`crate::issue::recipients_for`]), each to that respondent with their own workbook
/// from the outbox attached, keyed by the form and its edition. A form already
/// returned is not sent (unless re-issued since); a re-issued one goes with the
/// re-issue letter.
#[allow(clippy::too_many_arguments)]
pub fn plan_issue(
    template: &Template,
    partnerships: &[&Partnership],
    respondents: &Respondents,
    ctx: &LetterContext,
    letters: &IssueLetters,
    outbox: &Path,
    cc_ad: bool,
    store: Option<&Store>,
) -> anyhow::Result<IssuePlan> {
    let record = IssueRecord::load(store, &template.id, ctx.year)?;
    let returned: HashSet<(String, String)> = match store {
        Some(s) => s
            .returned_respondents(ctx.year, &template.id)?
            .into_iter()
            .flat_map(|(p, rs)| {
                rs.into_iter()
                    .map(move |r| (p.to_ascii_lowercase(), r.to_ascii_lowercase()))
            })
            .collect(),
        None => HashSet::new(),
    };
    let mut missing = Vec::new();
    let mut plan = IssuePlan::default();
    for p in partnerships {
        for r in recipients_for(template, p, respondents, &ctx.council) {
            let edition = record.edition(&p.id, &r.id)?;
            let key = record.key(&p.id, &r.id, edition);
            let sent_before = store
                .map(|s| s.was_sent(&key))
                .transpose()?
                .unwrap_or(false);
            let path = outbox.join(respondent_file_name(&p.id, &template.id, ctx.year, &r.id));
            if edition <= 1
                && !sent_before
                && returned.contains(&(p.id.to_ascii_lowercase(), r.id.to_ascii_lowercase()))
            {
                plan.notes.push(format!(
                    "{}: not sent: {}'s '{}' form for {} has already been returned (to send it again, use `ptk issue --reissue {}` first)",
                    p.id, r.name, template.id, ctx.year, p.id
                ));
                continue;
            }
            let attachment = if path.exists() {
                Some(read_attachment(&path)?)
            } else if sent_before {
                // Sent already: counted as such, and never sent again.
                None
            } else {
                missing.push(path.display().to_string());
                continue;
            };
            let mut fields = crate::letter::respondent_fields(template, p, &r, ctx);
            let letter = if edition > 1 {
                fields.insert("edition", edition.to_string());
                letters.reissue.render(&fields)?
            } else {
                letters.issue.render(&fields)?
            };
            plan.messages.push(Outgoing {
                key,
                file_sha256: attachment
                    .as_ref()
                    .map(|a| sha256_hex(&a.bytes))
                    .unwrap_or_default(),
                attachment,
                ..Outgoing::addressed(Kind::Issue, p, &r, template, ctx.year, cc_ad, letter)
            });
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "{} workbook(s) are not in the outbox, so nothing was sent: {}. Run `ptk issue` for them first",
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(plan)
}
