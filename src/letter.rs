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
        "chase" => Some(include_str!("../templates/email/chase.txt")),
        "corrections" => Some(include_str!("../templates/email/corrections.txt")),
        "resend" => Some(include_str!("../templates/email/resend.txt")),
        "feedback" => Some(include_str!("../templates/email/feedback.txt")),
        "feedback-corrected" => Some(include_str!("../templates/email/feedback-corrected.txt")),
        "ad-pack" => Some(include_str!("../templates/email/ad-pack.txt")),
        _ => None,
    }
}

/// The placeholders every letter to a partnership may use.
const PARTNERSHIP_FIELDS: &[&str] = &[
    "council",
    "partnership",
    "partnership_id",
    "officer",
    "organisation",
    "lead_officer",
    "assistant_director",
    "form",
    "year",
];

/// Every email text ptk sends, with the placeholders beyond [`PARTNERSHIP_FIELDS`]
/// that ptk fills for it (`None`: an Assistant Director's letter, which has its own).
pub const LETTERS: &[(&str, Option<&[&str]>)] = &[
    ("issue", Some(&["deadline", "return_address"])),
    (
        "chase",
        Some(&["deadline", "return_address", "situation", "form_note"]),
    ),
    (
        "corrections",
        Some(&[
            "deadline",
            "return_address",
            "problems",
            "file",
            "form_note",
        ]),
    ),
    (
        "resend",
        Some(&[
            "deadline",
            "return_address",
            "problems",
            "file",
            "form_note",
        ]),
    ),
    ("feedback", Some(&["file", "contact"])),
    ("feedback-corrected", Some(&["file", "contact"])),
    ("ad-pack", None),
];

/// The placeholders of an Assistant Director's letter.
const AD_FIELDS: &[&str] = &[
    "council",
    "officer",
    "assistant_director",
    "year",
    "partnerships",
    "count",
    "file",
    "contact",
];

/// Checks every email text in `<templates>/email/` that ptk sends (the built-in text
/// where a file is absent): it must start with `Subject:` and use only the placeholders
/// ptk fills. Returns one message per problem, naming the file.
pub fn check_letters(templates_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, extra) in LETTERS {
        let fields: BTreeMap<&str, String> = match extra {
            Some(extra) => PARTNERSHIP_FIELDS
                .iter()
                .chain(extra.iter())
                .collect::<Vec<_>>(),
            None => AD_FIELDS.iter().collect(),
        }
        .into_iter()
        .map(|k| (*k, String::new()))
        .collect();
        if let Err(e) = load_named(templates_dir, name).and_then(|t| t.render(&fields)) {
            problems.push(format!("{e:#}"));
        }
    }
    problems
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
    fn templates_check_names_an_email_text_with_a_placeholder_ptk_does_not_fill() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_letters(dir.path()).is_empty(), "the built-in texts");
        std::fs::create_dir(dir.path().join("email")).unwrap();
        std::fs::write(
            dir.path().join("email/feedback.txt"),
            "Subject: {partnership}\n\nYour score: {score}",
        )
        .unwrap();
        std::fs::write(dir.path().join("email/ad-pack.txt"), "Hello {partnerships}").unwrap();
        let p = check_letters(dir.path());
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("feedback.txt") && p[0].contains("{score}"),
            "{p:?}"
        );
        assert!(
            p[1].contains("ad-pack.txt") && p[1].contains("Subject:"),
            "{p:?}"
        );
    }

    #[test]
    fn docs_feedback_lists_exactly_the_placeholders_of_the_feedback_letters() {
        let docs =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/feedback.md"))
                .unwrap();
        let listed = |file: &str| -> std::collections::BTreeSet<String> {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{file}`")))
                .unwrap_or_else(|| panic!("docs/feedback.md has no row for {file}"));
            let last = row.trim_end_matches('|').rsplit('|').next().unwrap();
            last.split('`')
                .filter(|w| w.starts_with('{') && w.ends_with('}'))
                .map(|w| w.trim_matches(|c| c == '{' || c == '}').to_string())
                .collect()
        };
        let extra = LETTERS
            .iter()
            .find(|(n, _)| *n == "feedback")
            .and_then(|(_, e)| *e)
            .unwrap();
        let feedback: std::collections::BTreeSet<String> = PARTNERSHIP_FIELDS
            .iter()
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect();
        assert_eq!(listed("feedback.txt"), feedback);
        let ad: std::collections::BTreeSet<String> =
            AD_FIELDS.iter().map(|s| s.to_string()).collect();
        assert_eq!(listed("ad-pack.txt"), ad);
        assert!(docs.contains("| `feedback-corrected.txt` |"));
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
