//! The follow-up runs, `ptk mail chase` and `ptk mail corrections`, together: a person
//! owed both a reminder (for one form) and a corrections letter (for another) gets one
//! email with both, whichever of the two commands is run first that day. Each run plans
//! its own letters, and adds the other kind's letters only for the people it writes to
//! anyway; the other command, run later, finds those letters sent and leaves them.

use std::collections::HashSet;

use super::{plan_chase, plan_corrections, ChaseOptions, CorrectionLetters};
use crate::letter::{LetterContext, LetterTemplate};
use crate::mail::{Kind, Outgoing};
use crate::report::Review;
use crate::respondents::Respondents;
use crate::store::Store;

/// The letters of a chase or corrections run, and notes for the officer.
#[derive(Debug, Default)]
pub struct FollowUpPlan {
    pub messages: Vec<Outgoing>,
    pub notes: Vec<String>,
}

/// The letters of the follow-up runs.
pub struct FollowUpLetters {
    /// A reminder (`chase.txt`).
    pub reminder: LetterTemplate,
    /// A corrections letter (`corrections.txt`, `resend.txt`).
    pub corrections: CorrectionLetters,
}

/// Plans a follow-up run: `kind` is [`Kind::Chase`] (reminders) or
/// [`Kind::Corrections`]. The other kind's letters are added for the people who get
/// one of this run's letters not yet sent, so that they get one email, not two.
/// `opts.only` keeps the listed partnerships (both kinds).
pub fn plan_follow_up(
    kind: Kind,
    review: &Review,
    store: &Store,
    respondents: &Respondents,
    ctx: &LetterContext,
    letters: &FollowUpLetters,
    opts: &ChaseOptions,
) -> anyhow::Result<FollowUpPlan> {
    let chase = plan_chase(review, store, respondents, ctx, &letters.reminder, opts)?;
    let mut fix = plan_corrections(
        review,
        store,
        respondents,
        ctx,
        &letters.corrections,
        &opts.outbox,
        opts.cc_ad,
    )?;
    let wanted =
        |id: &str| opts.only.is_empty() || opts.only.iter().any(|p| p.eq_ignore_ascii_case(id));
    fix.messages.retain(|o| wanted(&o.partnership_id));
    fix.notes
        .retain(|n| wanted(n.split(':').next().unwrap_or("")));
    let ((own, notes), other) = if kind == Kind::Corrections {
        ((fix.messages, fix.notes), chase.messages)
    } else {
        ((chase.messages, chase.notes), fix.messages)
    };
    let owed: HashSet<String> = own
        .iter()
        .filter(|o| !store.was_sent(&o.key).unwrap_or(false))
        .map(|o| o.to.1.trim().to_lowercase())
        .collect();
    let mut plan = FollowUpPlan {
        messages: own,
        notes,
    };
    for o in other {
        if owed.contains(&o.to.1.trim().to_lowercase()) && !store.was_sent(&o.key)? {
            plan.notes.push(format!(
                "{}: the {} for {} goes in the same email as their {} (one email, not two)",
                o.partnership_id,
                o.kind.letter_name(),
                o.to.0,
                kind.letter_name(),
            ));
            plan.messages.push(o);
        }
    }
    Ok(plan)
}
