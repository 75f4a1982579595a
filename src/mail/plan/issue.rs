//! The issue emails: each respondent's form, attached.

use std::path::Path;

use crate::issue::{recipients_for, respondent_file_name};
use crate::letter::{LetterContext, LetterTemplate};
use crate::mail::{message_key, read_attachment, sha256_hex, Kind, Outgoing};
use crate::register::Partnership;
use crate::respondents::Respondents;
use crate::template::Template;

/// Plans the issue emails: one per respondent's workbook (see
/// [`crate::issue::recipients_for`]), each to that respondent with their own workbook
/// from the outbox attached.
pub fn plan_issue(
    template: &Template,
    partnerships: &[&Partnership],
    respondents: &Respondents,
    ctx: &LetterContext,
    letter: &LetterTemplate,
    outbox: &Path,
    cc_ad: bool,
) -> anyhow::Result<Vec<Outgoing>> {
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for p in partnerships {
        for r in recipients_for(template, p, respondents, &ctx.council) {
            let path = outbox.join(respondent_file_name(&p.id, &template.id, ctx.year, &r.id));
            if !path.exists() {
                missing.push(path.display().to_string());
                continue;
            }
            let att = read_attachment(&path)?;
            let sha = sha256_hex(&att.bytes);
            let text = letter.render(&crate::letter::respondent_fields(template, p, &r, ctx))?;
            out.push(Outgoing {
                key: message_key(
                    Kind::Issue,
                    &template.id,
                    ctx.year,
                    &p.id,
                    &r.id,
                    &sha[..16],
                ),
                file_sha256: sha,
                attachment: Some(att),
                ..Outgoing::addressed(Kind::Issue, p, &r, template, ctx.year, cc_ad, text)
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
    Ok(out)
}
