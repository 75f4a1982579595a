//! Reminders to those with no accepted return.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::issue::{recipients_for, respondent_file_name};
use crate::letter::{LetterContext, LetterTemplate};
use crate::mail::{key_respondent, message_key, read_attachment, sha256_hex, Kind, Outgoing};
use crate::report::{ReturnState, Review};
use crate::respondents::Respondents;
use crate::store::Store;

/// Reminders planned, and the partnerships left out or sent without the form, each with
/// the reason (for the run's output).
#[derive(Debug, Default)]
pub struct ChasePlan {
    pub messages: Vec<Outgoing>,
    pub notes: Vec<String>,
}

/// Who is reminded, and how.
#[derive(Debug, Clone)]
pub struct ChaseOptions {
    /// The folder with the issued workbooks.
    pub outbox: PathBuf,
    /// Copy each reminder to the Assistant Director.
    pub cc_ad: bool,
    /// Only these partnership ids (all when empty).
    pub only: Vec<String>,
    /// Today (YYYY-MM-DD): one reminder a day at most.
    pub today: String,
}

/// Plans reminders for every respondent with no accepted return for the form their
/// partnership owes, who was issued that form: their workbook is in the outbox (attached
/// again), or an issue email for it was sent (then the form is no longer in the outbox:
/// the letter says so instead of "attached"). Not reminded: a form whose issue email was
/// only drafted, and a return that needs correcting (its corrections letter asks for it:
/// one letter a day, not two). A partnership whose lead
/// returned but a partner did not gets a reminder to that partner only. `only` keeps the
/// listed partnerships. One reminder a day at most.
pub fn plan_chase(
    review: &Review,
    store: &Store,
    respondents: &Respondents,
    ctx: &LetterContext,
    letter: &LetterTemplate,
    opts: &ChaseOptions,
) -> anyhow::Result<ChasePlan> {
    let ChaseOptions {
        outbox,
        cc_ad,
        only,
        today,
    } = opts;
    let (outbox, cc_ad) = (outbox.as_path(), *cc_ad);
    let lower = |s: &str| s.to_ascii_lowercase();
    // (partnership, template, respondent), lower-case: whose issue email was sent, and
    // whose was only drafted (never delivered by ptk).
    let mut mailed: HashSet<(String, String, String)> = HashSet::new();
    let mut drafted: HashSet<(String, String, String)> = HashSet::new();
    let mut issued_today: HashSet<(String, String, String)> = HashSet::new();
    for s in store.sends_for_year(ctx.year)? {
        if s.kind != Kind::Issue.as_str() {
            continue;
        }
        let form = (
            lower(&s.partnership_id),
            s.template_id.clone(),
            lower(key_respondent(&s.key)),
        );
        match s.state.as_str() {
            "sent" => {
                if s.sent_at.starts_with(today.as_str()) {
                    issued_today.insert(form.clone());
                }
                mailed.insert(form);
            }
            "drafted" => {
                drafted.insert(form);
            }
            _ => {}
        }
    }
    let rejected: HashSet<(String, String, String)> = store
        .rejected_respondent_files(ctx.year)?
        .into_iter()
        .map(|f| {
            (
                lower(&f.partnership_id),
                f.template_id,
                lower(&f.respondent_id),
            )
        })
        .collect();
    let mut returned: HashMap<String, HashSet<(String, String)>> = HashMap::new();
    let mut plan = ChasePlan::default();
    for row in &review.rows {
        if matches!(row.state, ReturnState::Exited | ReturnState::NotExpected) {
            continue;
        }
        let p = &row.partnership;
        if !only.is_empty() && !only.iter().any(|o| o.eq_ignore_ascii_case(&p.id)) {
            continue;
        }
        let Some(t) = row
            .expected
            .as_ref()
            .and_then(|id| review.templates.iter().find(|t| &t.id == id))
        else {
            continue;
        };
        if !returned.contains_key(&t.id) {
            let back = store
                .returned_respondents(ctx.year, &t.id)?
                .into_iter()
                .flat_map(|(pid, rids)| rids.into_iter().map(move |r| (lower(&pid), lower(&r))))
                .collect();
            returned.insert(t.id.clone(), back);
        }
        let back = &returned[&t.id];
        for r in recipients_for(t, p, respondents, &ctx.council) {
            let who = (lower(&p.id), lower(&r.id));
            if back.contains(&who) {
                continue;
            }
            let form = (who.0.clone(), t.id.clone(), who.1.clone());
            // One letter a day: a return that needs correcting (or could not be opened)
            // is chased by its corrections letter, not by a reminder as well.
            let needs_correcting = rejected.contains(&form)
                || (r.is_lead() && matches!(row.state, ReturnState::Unreadable(_)));
            if needs_correcting {
                plan.notes.push(format!(
                    "{}: not reminded: {}'s return needs correcting, and its corrections letter asks for it (one letter, not two)",
                    p.id, r.name
                ));
                continue;
            }
            // A form whose issue email was drafted and never sent by ptk may never have
            // gone: no reminder for a form nobody received.
            if drafted.contains(&form) && !mailed.contains(&form) {
                plan.notes.push(format!(
                    "{}: not reminded: the issue email to {} was drafted but never sent by ptk; send it first (`ptk mail issue … --smtp`), or if you sent it from Outlook, delete the draft and remind them yourself",
                    p.id, r.name
                ));
                continue;
            }
            if issued_today.contains(&form) {
                plan.notes.push(format!(
                    "{}: not reminded: the form was sent to {} today (one email a day)",
                    p.id, r.name
                ));
                continue;
            }
            let path = outbox.join(respondent_file_name(&p.id, &t.id, ctx.year, &r.id));
            let attachment = if path.exists() {
                Some(read_attachment(&path)?)
            } else if mailed.contains(&form) {
                plan.notes.push(format!(
                    "{}: the issued form {} is not in the outbox, so the reminder to {} goes without it",
                    p.id,
                    path.display(),
                    r.name
                ));
                None
            } else {
                let whom = if r.is_lead() {
                    "it".to_string()
                } else {
                    format!("{} ({})", r.name, r.id)
                };
                plan.notes.push(format!(
                    "{}: not reminded: no '{}' form was issued to {whom} for {} (none in {} and no issue email); run `ptk issue --template {} --year {}` and `ptk mail issue` first",
                    p.id, t.id, ctx.year, outbox.display(), t.id, ctx.year
                ));
                continue;
            };
            let mut fields = crate::letter::respondent_fields(t, p, &r, ctx);
            fields.insert("situation", NOT_RECEIVED.into());
            fields.insert(
                "form_note",
                if attachment.is_some() {
                    "If you need the form again, it is attached.".into()
                } else {
                    "If you need the form again, reply to this email and we will send it.".into()
                },
            );
            plan.messages.push(Outgoing {
                file_sha256: attachment
                    .as_ref()
                    .map(|a| sha256_hex(&a.bytes))
                    .unwrap_or_default(),
                attachment,
                key: message_key(Kind::Chase, &t.id, ctx.year, &p.id, &r.id, today),
                ..Outgoing::addressed(
                    Kind::Chase,
                    p,
                    &r,
                    t,
                    ctx.year,
                    cc_ad,
                    letter.render(&fields)?,
                )
            });
        }
    }
    Ok(plan)
}

/// The reminder's opening (`{situation}`): only those with nothing to correct are
/// reminded, so it is always the same.
const NOT_RECEIVED: &str = "We have not yet received your completed form";
