//! Corrections: each rejected or unreadable return sent back with what to fix.

use std::path::Path;

use crate::issue::respondent_file_name;
use crate::letter::{LetterContext, LetterTemplate};
use crate::mail::{message_key, read_attachment, sha256_hex, Kind, Outgoing};
use crate::register::Partnership;
use crate::report::{ReturnState, Review};
use crate::respondents::{Respondent, Respondents};
use crate::store::Store;
use crate::template::Template;

/// The two letters of `ptk mail corrections`.
pub struct CorrectionLetters {
    /// "Please correct the following in the attached file".
    pub correct: LetterTemplate,
    /// "We could not use the file you sent: please send it again".
    pub resend: LetterTemplate,
}

/// Corrections planned, and notes for the officer (findings only the council can act
/// on, forms not in the outbox).
#[derive(Debug, Default)]
pub struct CorrectionsPlan {
    pub messages: Vec<Outgoing>,
    pub notes: Vec<String>,
}

/// Plans a corrections email for every rejected or unreadable return. Answers to correct
/// are listed in plain English (sheet, cell, what to fix) and the partnership's own file
/// goes back. A file that cannot be used at all (unreadable, password-protected, another
/// year's, an outdated or foreign form) gets a letter saying why and asking for it again,
/// with the current form from the outbox where a new form is needed. Every finding is
/// worded for the partnership by [`crate::letter::advice`]; the officer's advice goes
/// into the notes. Each letter goes to the respondent whose file it was (the lead
/// officer for a file without `respondent_id`, or for someone no longer in the
/// respondents file).
pub fn plan_corrections(
    review: &Review,
    store: &Store,
    respondents: &Respondents,
    ctx: &LetterContext,
    letters: &CorrectionLetters,
    outbox: &Path,
    cc_ad: bool,
) -> anyhow::Result<CorrectionsPlan> {
    let mut plan = CorrectionsPlan::default();
    let unreadable = store.unreadable_files(ctx.year)?;
    let rejected = store.rejected_respondent_files(ctx.year)?;
    for row in review.rows.iter() {
        let Some(t) = row
            .expected
            .as_ref()
            .and_then(|id| review.templates.iter().find(|t| &t.id == id))
        else {
            continue;
        };
        let p = &row.partnership;
        // Whose files wait for a correction: each respondent's newest rejected file
        // (whatever the partnership's state: a partner's rejected file still needs
        // correcting when the lead's return was accepted), and a file that could not
        // be opened, which says nothing of whose it is, to the lead.
        let mut files: Vec<(String, String, Respondent)> = rejected
            .iter()
            .filter(|f| f.partnership_id.eq_ignore_ascii_case(&p.id) && f.template_id == t.id)
            .map(|f| {
                let r = respondents
                    .get(p, &f.respondent_id, &ctx.council)
                    .unwrap_or_else(|| {
                        plan.notes.push(format!(
                            "{}: {} is from respondent '{}', who is not in the respondents file, so the letter goes to the lead officer",
                            p.id,
                            crate::report::file_name_of(&f.path),
                            f.respondent_id
                        ));
                        Respondent::lead(p, &ctx.council)
                    });
                (f.path.clone(), f.sha256.clone(), r)
            })
            .collect();
        if let ReturnState::Unreadable(_) = &row.state {
            if let Some((sha, f)) = unreadable
                .iter()
                .find(|(_, f)| crate::report::names_partnership(&f.path, &p.id))
            {
                files.push((
                    f.path.clone(),
                    sha.clone(),
                    Respondent::lead(p, &ctx.council),
                ));
            }
        }
        for (path, sha, r) in files {
            plan_correction(
                &mut plan, store, ctx, letters, outbox, cc_ad, t, p, &r, &path, &sha,
            )?;
        }
    }
    Ok(plan)
}

/// One corrections letter: to respondent `r` of `p`, about their file `path` (`sha`).
#[allow(clippy::too_many_arguments)]
fn plan_correction(
    plan: &mut CorrectionsPlan,
    store: &Store,
    ctx: &LetterContext,
    letters: &CorrectionLetters,
    outbox: &Path,
    cc_ad: bool,
    t: &Template,
    p: &Partnership,
    r: &Respondent,
    path: &str,
    sha: &str,
) -> anyhow::Result<()> {
    use crate::letter::Remedy;
    {
        let file_name = crate::report::file_name_of(path);
        let mut to_correct = Vec::new();
        let mut reasons: Vec<&'static str> = Vec::new();
        let mut needs_form = false;
        for f in store
            .findings_for(sha)?
            .iter()
            .filter(|f| f.severity == "error")
        {
            let (officer, remedy) = crate::validate::Code::parse(&f.code)
                .map_or(("", Remedy::Correct), crate::letter::advice);
            match remedy {
                Remedy::Correct if f.cell.is_empty() => to_correct.push(format!("- {}", f.message)),
                Remedy::Correct => to_correct.push(format!(
                    "- Sheet '{}', cell {}: {}",
                    f.sheet, f.cell, f.message
                )),
                Remedy::Resend { why, current_form } => {
                    if !reasons.contains(&why) {
                        reasons.push(why);
                    }
                    needs_form |= current_form;
                }
                Remedy::Nothing => plan
                    .notes
                    .push(format!("{}: {file_name}: {} ({officer})", p.id, f.message)),
            }
        }
        let mut fields = crate::letter::respondent_fields(t, p, r, ctx);
        fields.insert("file", file_name.clone());
        let (letter, attachment) = if !reasons.is_empty() {
            let form = outbox.join(respondent_file_name(&p.id, &t.id, ctx.year, &r.id));
            let attachment = if needs_form && form.exists() {
                Some(read_attachment(&form)?)
            } else {
                None
            };
            let note = match (needs_form, &attachment) {
                (true, Some(_)) => "The current form is attached: please complete it, save it and send it back.",
                (true, None) => {
                    plan.notes.push(format!(
                        "{}: the current form {} is not in the outbox, so the letter goes without it (run `ptk issue --template {} --year {} --partnership {}` to make it)",
                        p.id,
                        form.display(),
                        t.id,
                        ctx.year,
                        p.id
                    ));
                    "If you need a fresh copy of the form, reply to this email and we will send it."
                }
                (false, _) => "Your answers are kept in your own copy: there is no need to fill the form in again.",
            };
            fields.insert(
                "problems",
                reasons
                    .iter()
                    .map(|r| format!("- {r}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            fields.insert("form_note", note.into());
            (letters.resend.render(&fields)?, attachment)
        } else if !to_correct.is_empty() {
            fields.insert("problems", to_correct.join("\n"));
            let attachment = if Path::new(path).exists() {
                Some(read_attachment(Path::new(path))?)
            } else {
                None
            };
            (letters.correct.render(&fields)?, attachment)
        } else {
            return Ok(());
        };
        plan.messages.push(Outgoing {
            key: message_key(
                Kind::Corrections,
                &t.id,
                ctx.year,
                &p.id,
                &r.id,
                &sha[..16.min(sha.len())],
            ),
            file_sha256: attachment
                .as_ref()
                .map(|a| sha256_hex(&a.bytes))
                .unwrap_or_default(),
            attachment,
            ..Outgoing::addressed(Kind::Corrections, p, r, t, ctx.year, cc_ad, letter)
        });
    }
    Ok(())
}
