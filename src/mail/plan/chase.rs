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
/// again), or an issue email for it was drafted or sent (then the form is no longer in
/// the outbox: the letter says so instead of "attached"). A partnership whose lead
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
    // (partnership, template, respondent), lower-case.
    let mailed: HashSet<(String, String, String)> = store
        .sends_for_year(ctx.year)?
        .into_iter()
        .filter(|s| s.kind == Kind::Issue.as_str() && s.state != "failed")
        .map(|s| {
            (
                lower(&s.partnership_id),
                s.template_id.clone(),
                lower(key_respondent(&s.key)),
            )
        })
        .collect();
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
            let path = outbox.join(respondent_file_name(&p.id, &t.id, ctx.year, &r.id));
            let attachment = if path.exists() {
                Some(read_attachment(&path)?)
            } else if mailed.contains(&(who.0.clone(), t.id.clone(), who.1.clone())) {
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
            let situation = if rejected.contains(&(who.0.clone(), t.id.clone(), who.1.clone())) {
                chase_situation(&ReturnState::Rejected(String::new()))
            } else if r.is_lead() && matches!(row.state, ReturnState::Unreadable(_)) {
                chase_situation(&row.state)
            } else {
                chase_situation(&ReturnState::NotReturned)
            };
            let mut fields = crate::letter::respondent_fields(t, p, &r, ctx);
            fields.insert("situation", situation.into());
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

/// The reminder's opening, by where the return stands.
fn chase_situation(state: &ReturnState) -> &'static str {
    match state {
        ReturnState::Rejected(_) => "The return we received could not be accepted yet (we will send the details separately), so we have no accepted return from you",
        ReturnState::Unreadable(_) => "We received a file from you but could not open it (we will write separately to ask for it again), so we have no return from you yet",
        _ => "We have not yet received your completed form",
    }
}
