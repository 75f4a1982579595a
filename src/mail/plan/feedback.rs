//! The feedback emails: each partnership's own feedback workbook to its lead officer
//! and every respondent who returned a form, once per person per year (a corrected
//! feedback only when asked, saying it replaces the earlier one); and each Assistant
//! Director's pack of their partnerships.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::feedback::pack::Pack;
use crate::letter::{Letter, LetterTemplate};
use crate::mail::{message_key, read_attachment, sha256_hex, Kind, Outgoing};
use crate::report::{Review, Row};
use crate::respondents::Respondent;

/// The letters of a feedback run.
pub struct FeedbackLetters<'a> {
    pub first: &'a LetterTemplate,
    /// For `--corrected`: the feedback changed since it was sent and replaces it.
    pub corrected: &'a LetterTemplate,
    /// Who partnerships ask (an email address).
    pub contact: &'a str,
}

/// The planned feedback messages, and who was left out and why.
#[derive(Debug, Default)]
pub struct FeedbackPlan {
    pub messages: Vec<Outgoing>,
    /// (partnership id, why) for partnerships with no message this run.
    pub left_out: Vec<(String, String)>,
}

/// The tail of the key of a person's first feedback of the year.
const FIRST: &str = "feedback";

/// Plans the feedback emails. `dir` holds the workbooks `ptk feedback` wrote; a scored
/// partnership whose workbook is missing is an error (run `ptk feedback` first).
/// With `corrected`, someone already sent their feedback gets the current file again
/// (with the corrected letter) only if it differs from the one they were sent; without
/// it, each person's first message is planned and the delivery skips it once sent.
pub fn plan_feedback(
    review: &Review,
    dir: &Path,
    letters: &FeedbackLetters,
    store: &crate::store::Store,
    corrected: bool,
    only: &[String],
) -> anyhow::Result<FeedbackPlan> {
    let mut plan = FeedbackPlan::default();
    let sends = store.sends_for_year(review.year)?;
    let mut missing = Vec::new();
    for row in review.rows.iter().filter(|r| r.in_review()) {
        let p = row.partnership;
        if !only.is_empty() && !only.iter().any(|o| o.eq_ignore_ascii_case(&p.id)) {
            continue;
        }
        if row.expected.as_deref() != Some(review.scored.id.as_str()) {
            continue;
        }
        if row.overall.is_none() {
            plan.left_out
                .push((p.id.clone(), "no score this year, so no feedback".into()));
            continue;
        }
        let path = dir.join(crate::feedback::file_name(&p.id, review.year));
        if !path.exists() {
            missing.push(path.display().to_string());
            continue;
        }
        let att = read_attachment(&path)?;
        let sha = sha256_hex(&att.bytes);
        for r in recipients(row) {
            let first = message_key(
                Kind::Feedback,
                &review.scored.id,
                review.year,
                &p.id,
                &r.id,
                FIRST,
            );
            // The file this person was last sent (or drafted), if any.
            let last = sends.iter().rfind(|s| {
                s.kind == Kind::Feedback.as_str()
                    && s.state != "failed"
                    && s.partnership_id.eq_ignore_ascii_case(&p.id)
                    && crate::mail::key_respondent(&s.key).eq_ignore_ascii_case(&r.id)
            });
            let (key, letter) = match last {
                Some(s) if corrected && s.file_sha256 != sha => (
                    message_key(
                        Kind::Feedback,
                        &review.scored.id,
                        review.year,
                        &p.id,
                        &r.id,
                        &format!("corrected-{}", &sha[..16]),
                    ),
                    letters.corrected,
                ),
                _ => (first, letters.first),
            };
            let text = letter.render(&fields(review, row, &r, &att.name, letters.contact))?;
            plan.messages.push(Outgoing {
                key,
                file_sha256: sha.clone(),
                attachment: Some(att.clone()),
                ..addressed(Kind::Feedback, review, row, &r, text)
            });
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "{} feedback workbook(s) are not in {}, so nothing was sent: {}. Run `ptk feedback --year {}` first",
            missing.len(),
            dir.display(),
            missing.join(", "),
            review.year
        );
    }
    Ok(plan)
}

/// Who gets a partnership's feedback: its lead officer, and every respondent who
/// returned a form (in the review's order, the lead first).
fn recipients(row: &Row) -> Vec<Respondent> {
    row.respondents
        .iter()
        .filter(|(r, state)| r.is_lead() || state.is_received())
        .map(|(r, _)| r.clone())
        .collect()
}

fn addressed(kind: Kind, review: &Review, row: &Row, r: &Respondent, letter: Letter) -> Outgoing {
    Outgoing {
        kind,
        partnership_id: row.partnership.id.clone(),
        respondent_id: r.id.clone(),
        template_id: review.scored.id.clone(),
        year: review.year,
        to: (r.name.clone(), r.email.clone()),
        cc: None,
        letter,
        attachment: None,
        file_sha256: String::new(),
        key: String::new(),
    }
}

/// The placeholders of a feedback letter.
pub fn fields(
    review: &Review,
    row: &Row,
    r: &Respondent,
    file: &str,
    contact: &str,
) -> BTreeMap<&'static str, String> {
    let p = row.partnership;
    BTreeMap::from([
        ("council", review.council.clone()),
        ("partnership", p.name.clone()),
        ("partnership_id", p.id.clone()),
        ("officer", r.name.clone()),
        ("organisation", r.organisation.clone()),
        ("lead_officer", p.lead_officer.clone()),
        ("assistant_director", p.assistant_director.clone()),
        ("form", review.scored.title.clone()),
        ("year", review.year.to_string()),
        ("file", file.to_string()),
        ("contact", contact.to_string()),
    ])
}

/// The placeholders of an Assistant Director's letter.
pub fn ad_fields(
    review: &Review,
    pack: &Pack,
    file: &str,
    contact: &str,
) -> BTreeMap<&'static str, String> {
    let list = pack
        .rows
        .iter()
        .map(|r| {
            let score = match (r.overall, r.band.as_deref()) {
                (Some(o), Some(b)) => format!("{o:.1}% ({b})"),
                (Some(o), None) => format!("{o:.1}%"),
                _ => r.state.label().to_string(),
            };
            format!("- {} ({}): {score}", r.partnership.name, r.partnership.id)
        })
        .collect::<Vec<_>>()
        .join("\n");
    BTreeMap::from([
        ("council", review.council.clone()),
        ("officer", pack.name.clone()),
        ("assistant_director", pack.name.clone()),
        ("year", review.year.to_string()),
        ("partnerships", list),
        (
            "count",
            format!(
                "{} partnership{}",
                pack.rows.len(),
                if pack.rows.len() == 1 { "" } else { "s" }
            ),
        ),
        ("file", file.to_string()),
        ("contact", contact.to_string()),
    ])
}

/// Plans one message per Assistant Director, their pack attached: once per
/// Assistant Director per year, by their email address.
pub fn plan_ad_packs(
    review: &Review,
    packs: &[(&Pack, PathBuf)],
    letter: &LetterTemplate,
    contact: &str,
) -> anyhow::Result<Vec<Outgoing>> {
    let mut out = Vec::new();
    for (pack, path) in packs {
        let att = read_attachment(path)?;
        let sha = sha256_hex(&att.bytes);
        let text = letter.render(&ad_fields(review, pack, &att.name, contact))?;
        let who: String = pack
            .email
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == '/' { '_' } else { c })
            .collect();
        out.push(Outgoing {
            kind: Kind::AdPack,
            partnership_id: String::new(),
            respondent_id: String::new(),
            template_id: review.scored.id.clone(),
            year: review.year,
            to: (pack.name.clone(), pack.email.clone()),
            cc: None,
            letter: text,
            attachment: Some(att),
            file_sha256: sha,
            key: format!("{}/{}/{who}", Kind::AdPack.as_str(), review.year),
        });
    }
    Ok(out)
}
