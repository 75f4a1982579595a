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

/// What a finding asks of the partnership, in a corrections email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Correct the answers in their own file, which goes back to them; the finding's own
    /// message says where (sheet, cell, question) and what.
    Correct,
    /// Their file cannot be used: send the return again. `why` tells the partnership
    /// why and what to do; with `current_form` the issued form goes with the letter.
    Resend {
        why: &'static str,
        current_form: bool,
    },
    /// Nothing to ask of the partnership: a warning, or the council's own matter
    /// (register, templates); the officer's advice says what to do.
    Nothing,
}

/// What to do about a finding: the officer's advice (printed by `ptk mail corrections`
/// and documented in docs/findings.md) and what the partnership is asked. Every code has
/// both, so no letter ever carries a message meant for the officer.
pub fn advice(code: crate::validate::Code) -> (&'static str, Remedy) {
    use crate::validate::Code::*;
    let resend = |why, current_form| Remedy::Resend { why, current_form };
    match code {
        Unreadable => ("the file cannot be opened; the partnership is asked to save it again and resend it", resend("The file could not be opened: it may be damaged, or have been cut short when it was sent. Please open your copy, save it again from Excel as an Excel Workbook (.xlsx) and send it again.", false)),
        Encrypted => ("the file is password-protected; the partnership is asked to send it without the password", resend("The file is protected with a password, so we cannot open it. Please remove the password (in Excel: File, Info, Protect Workbook, Encrypt with Password, then clear the password), save it and send it again.", false)),
        TooLarge => ("the file is too large to read safely; the partnership is asked for the plain form", resend("The file is larger than we can accept. Please send just the completed form, saved as an Excel Workbook (.xlsx), without added pictures, sheets or attachments.", false)),
        NotPtk => ("not a form issued by ptk; the partnership is sent the current form to fill in", resend("It is not the form we sent you, so we cannot read the answers from it. Please enter them on the form itself (attached): you can copy them across from your file.", true)),
        UnknownTemplate => ("the form's template is not in the templates folder: point --templates at the right folder, or the partnership is sent the current form", resend("It was made from a form we no longer use. Please enter your answers on the current form (attached).", true)),
        UnknownVersion => ("an outdated version of the form; the partnership is sent the current form", resend("It is an earlier version of the form, whose questions have changed. Please enter your answers on the current form (attached): most can be copied across.", true)),
        OlderVersion => ("an older version whose questions still match; accepted, nothing to do", Remedy::Nothing),
        UnknownPartnership => ("the partnership id is not in the register: add the partnership, or correct its id, and run ptk ingest again", Remedy::Nothing),
        WrongYear => ("the form is for another year (perhaps last year's file sent by mistake); the partnership is sent this year's form", resend("It is the form for another year, perhaps last year's file sent by mistake. Please complete this year's form (attached).", true)),
        StatusMismatch => ("the register status does not fit the form returned: check the register", Remedy::Nothing),
        StructureChanged => ("sheets or answer cells were renamed, moved or deleted; the partnership is sent a fresh form", resend("Sheets or answer cells of the form were renamed, moved or deleted, so we cannot find all your answers. Please enter them on a fresh copy of the form (attached), without changing its layout.", true)),
        MissingAnswer | NotAnOption | NotANumber | NotADate | OutOfRange | InvalidEmail | CellError | IncompleteRisk | IncompleteRow => ("the partnership is asked to correct the answers named, in its own file", Remedy::Correct),
        DuplicateReturn => ("another return for the same form was used instead; nothing to do", Remedy::Nothing),
        ReaderFailed => ("the file could not be read safely (the reader crashed, ran out of memory or time); the partnership is asked to save it again as .xlsx", resend("The file could not be read safely: opening it went wrong in a way a normal form never does. Please open your copy in Excel, save it again as an Excel Workbook (.xlsx) and send it again.", false)),
        MissingAction => ("a statement scored at or below the template's action_below has no action (what, who, by when); accepted: agree one with the partnership, it will be asked again next year", Remedy::Nothing),
        UnknownRespondent => ("a form from a respondent who is no longer in the respondents file; accepted (their answers count): add them back to the file if they still take part", Remedy::Nothing),
    }
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
    fn every_finding_code_has_advice_for_the_officer_and_the_partnership() {
        use crate::validate::{Code, Severity};
        for code in Code::ALL {
            let (officer, remedy) = advice(code);
            assert!(officer.len() > 20, "{code:?}");
            match remedy {
                // Only an error asks something of the partnership; a warning never does.
                Remedy::Correct | Remedy::Resend { .. } => {
                    assert_eq!(code.severity(), Severity::Error, "{code:?}")
                }
                Remedy::Nothing => {}
            }
            if let Remedy::Resend { why, .. } = remedy {
                assert!(
                    !why.contains("ask "),
                    "{code:?} talks to the officer: {why}"
                );
            }
        }
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
