//! Plain-text email templates (`templates/email/*.txt`) with `{placeholder}` fields.
//! The first line is `Subject: …`; the rest, after a blank line, is the body.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

/// What every letter of a run shares: who is writing, for which year, and by when.
#[derive(Debug, Clone)]
pub struct LetterContext {
    pub council: String,
    pub year: i32,
    pub deadline: chrono::NaiveDate,
    pub return_address: String,
}

/// The placeholders every email template may use for a partnership, in a letter to its
/// lead officer.
pub fn fields(
    template: &crate::template::Template,
    p: &crate::register::Partnership,
    ctx: &LetterContext,
) -> BTreeMap<&'static str, String> {
    respondent_fields(
        template,
        p,
        &crate::respondents::Respondent::lead(p, &ctx.council),
        ctx,
    )
}

fn partnership_fields(
    template: &crate::template::Template,
    p: &crate::register::Partnership,
    ctx: &LetterContext,
) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("council", ctx.council.clone()),
        ("partnership", p.name.clone()),
        ("partnership_id", p.id.clone()),
        ("officer", p.lead_officer.clone()),
        ("assistant_director", p.assistant_director.clone()),
        ("form", template.title.clone()),
        ("year", ctx.year.to_string()),
        ("deadline", crate::dates::long_date(ctx.deadline)),
        ("return_address", ctx.return_address.clone()),
    ])
}

/// The placeholders for a letter to one respondent of a partnership: as [`fields`],
/// but `{officer}` is the respondent's name, with `{organisation}` and `{lead_officer}`
/// besides (a partner's letter can say who leads the partnership for the council).
pub fn respondent_fields(
    template: &crate::template::Template,
    p: &crate::register::Partnership,
    r: &crate::respondents::Respondent,
    ctx: &LetterContext,
) -> BTreeMap<&'static str, String> {
    let mut f = partnership_fields(template, p, ctx);
    f.insert("officer", r.name.clone());
    f.insert("organisation", r.organisation.clone());
    f.insert("lead_officer", p.lead_officer.clone());
    f
}

#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub subject: String,
    pub body: String,
}

/// A parsed email template.
#[derive(Debug, Clone)]
pub struct LetterTemplate {
    subject: String,
    body: String,
    name: String,
}

impl LetterTemplate {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the email template {}", path.display()))?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn parse(name: &str, text: &str) -> anyhow::Result<Self> {
        let text = text.replace("\r\n", "\n");
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .with_context(|| format!("{name}: the first line must start with 'Subject:'"))?
            .trim()
            .to_string();
        Ok(Self {
            subject,
            body: rest.trim_start_matches('\n').to_string(),
            name: name.to_string(),
        })
    }

    /// Fills `{field}` placeholders. An unknown placeholder is an error, so a typo
    /// never reaches a partnership officer's inbox.
    pub fn render(&self, fields: &BTreeMap<&str, String>) -> anyhow::Result<Letter> {
        Ok(Letter {
            subject: fill(&self.name, &self.subject, fields)?,
            body: fill(&self.name, &self.body, fields)?,
        })
    }
}

/// The email text shipped with ptk, used when `templates/email/<name>.txt` is absent.
fn built_in(name: &str) -> Option<&'static str> {
    match name {
        "issue" => Some(include_str!("../templates/email/issue.txt")),
        "reissue" => Some(include_str!("../templates/email/reissue.txt")),
        "chase" => Some(include_str!("../templates/email/chase.txt")),
        "corrections" => Some(include_str!("../templates/email/corrections.txt")),
        "resend" => Some(include_str!("../templates/email/resend.txt")),
        _ => None,
    }
}

/// Loads `<templates>/email/<name>.txt`, falling back to the built-in text.
pub fn load_named(templates_dir: &Path, name: &str) -> anyhow::Result<LetterTemplate> {
    let path = templates_dir.join("email").join(format!("{name}.txt"));
    if path.exists() {
        return LetterTemplate::load(&path);
    }
    let text =
        built_in(name).with_context(|| format!("there is no email template {}", path.display()))?;
    LetterTemplate::parse(&format!("built-in {name}.txt"), text)
}

/// Every email template ptk sends, with the placeholders it gets beyond those of
/// [`respondent_fields`] (which every letter gets).
pub const LETTERS: &[(&str, &[&str])] = &[
    ("issue", &[]),
    ("reissue", &["edition"]),
    ("chase", &["situation", "form_note"]),
    ("corrections", &["file", "problems"]),
    ("resend", &["file", "problems", "form_note"]),
];

/// The placeholders of [`respondent_fields`].
const COMMON_FIELDS: &[&str] = &[
    "council",
    "partnership",
    "partnership_id",
    "officer",
    "assistant_director",
    "form",
    "year",
    "deadline",
    "return_address",
    "organisation",
    "lead_officer",
];

/// Checks each email template in `<templates>/email/` (or the built-in one) as a run
/// would fill it: a problem is a sentence naming the file and the placeholder.
pub fn check_letters(templates_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, extra) in LETTERS {
        let fields: BTreeMap<&str, String> = COMMON_FIELDS
            .iter()
            .chain(extra.iter())
            .map(|f| (*f, String::new()))
            .collect();
        if let Err(e) = load_named(templates_dir, name).and_then(|t| t.render(&fields)) {
            problems.push(format!("{e:#}"));
        }
    }
    problems
}

pub use crate::findings::Remedy;

/// What to do about a finding: the officer's advice (printed by `ptk mail corrections`)
/// and what the partnership is asked, from the code's row in [`crate::findings`].
pub fn advice(code: crate::validate::Code) -> (&'static str, Remedy) {
    let i = code.info();
    (i.officer, i.partnership)
}

fn fill(name: &str, text: &str, fields: &BTreeMap<&str, String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .with_context(|| format!("{name}: a '{{' has no closing '}}'"))?;
        let key = after[..close].trim();
        let value = fields.get(key).with_context(|| {
            format!(
                "{name}: unknown placeholder {{{key}}}; the ones available are {}",
                fields
                    .keys()
                    .map(|k| format!("{{{k}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_letters_use_only_their_placeholders() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        assert_eq!(check_letters(&dir), Vec::<String>::new());
        let bad = tempfile::tempdir().unwrap();
        std::fs::create_dir(bad.path().join("email")).unwrap();
        std::fs::write(
            bad.path().join("email/reissue.txt"),
            "Subject: {form}\n\nDear {oficer}",
        )
        .unwrap();
        let p = check_letters(bad.path());
        assert!(
            p.len() == 1 && p[0].contains("reissue.txt") && p[0].contains("{oficer}"),
            "{p:?}"
        );
    }

    #[test]
    fn fills_placeholders() {
        let t = LetterTemplate::parse("t", "Subject: Review {year}\n\nDear {officer},\nThanks")
            .unwrap();
        let f = BTreeMap::from([("year", "2026".to_string()), ("officer", "Ann".to_string())]);
        let l = t.render(&f).unwrap();
        assert_eq!(l.subject, "Review 2026");
        assert_eq!(l.body, "Dear Ann,\nThanks");
    }

    #[test]
    fn every_built_in_letter_fills_with_the_fields_ptk_gives() {
        for name in ["issue", "chase", "corrections", "resend"] {
            let t = load_named(Path::new("/nonexistent"), name).unwrap();
            let mut f: BTreeMap<&str, String> = [
                "council",
                "partnership",
                "partnership_id",
                "officer",
                "assistant_director",
                "form",
                "year",
                "deadline",
                "return_address",
                "situation",
                "form_note",
                "problems",
                "file",
            ]
            .into_iter()
            .map(|k| (k, k.to_uppercase()))
            .collect();
            let l = t.render(&f).unwrap();
            assert!(!l.body.contains('{'), "{name}");
            f.clear();
        }
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let t = LetterTemplate::parse("t", "Subject: x\n\n{offcer}").unwrap();
        let e = t
            .render(&BTreeMap::from([("officer", String::new())]))
            .unwrap_err();
        assert!(e.to_string().contains("{offcer}"));
    }
}
