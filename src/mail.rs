//! Email: the forms going out.
//!
//! Sending is planned first (pure: who, what, which attachment, and a key that names
//! the message), then each message is built with lettre and handed to a transport:
//! `.eml` files in a folder by default (they open in Outlook or Thunderbird for review
//! before sending), or SMTP. Each attempt is recorded in the store as it happens, so
//! a re-run never sends a message twice and a failure part-way leaves an exact record.
//!
//! Returns coming back by email are read by `ptk ingest` ([`crate::ingest::email`]).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use sha2::{Digest, Sha256};

use crate::issue::{recipients_for, respondent_file_name};
use crate::letter::{Letter, LetterContext, LetterTemplate};
use crate::register::Partnership;
use crate::report::{ReturnState, Review};
use crate::respondents::{Respondent, Respondents, LEAD};
use crate::store::{SendRecord, Store};
use crate::template::Template;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The form, when it is issued.
    Issue,
    /// A reminder to a partnership with no accepted return.
    Chase,
    /// The problems found in a rejected return, with the file sent back.
    Corrections,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::Chase => "chase",
            Kind::Corrections => "corrections",
        }
    }
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One planned message.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub kind: Kind,
    pub partnership_id: String,
    /// Whose form the message is about, and to whom it goes (`lead` for the lead officer).
    pub respondent_id: String,
    pub template_id: String,
    pub year: i32,
    pub to: (String, String),
    pub cc: Option<String>,
    pub letter: Letter,
    pub attachment: Option<FileAttachment>,
    pub file_sha256: String,
    /// Names the message: the same key is never sent twice (without --resend).
    pub key: String,
}

impl Outgoing {
    /// A message about respondent `r`'s form `t`, to them; the lead officer's is copied
    /// to the partnership's Assistant Director if `cc_ad` (the partners' are between
    /// them and the council's officer). No attachment or key yet.
    fn addressed(
        kind: Kind,
        p: &Partnership,
        r: &Respondent,
        t: &Template,
        year: i32,
        cc_ad: bool,
        letter: Letter,
    ) -> Self {
        Self {
            kind,
            partnership_id: p.id.clone(),
            respondent_id: r.id.clone(),
            template_id: t.id.clone(),
            year,
            to: (r.name.clone(), r.email.clone()),
            cc: (cc_ad && r.is_lead())
                .then(|| p.assistant_director_email.clone())
                .flatten(),
            letter,
            attachment: None,
            file_sha256: String::new(),
            key: String::new(),
        }
    }
}

/// The key naming a message: `<kind>/<template>/<year>/<partnership>/<tail>` for the
/// lead officer (as before respondents existed, so nothing already sent is sent again),
/// `<kind>/<template>/<year>/<partnership>/<respondent>/<tail>` for anyone else. Ids
/// never contain `/`.
fn message_key(kind: Kind, t: &str, year: i32, pid: &str, rid: &str, tail: &str) -> String {
    if rid.eq_ignore_ascii_case(LEAD) {
        format!("{}/{t}/{year}/{pid}/{tail}", kind.as_str())
    } else {
        format!("{}/{t}/{year}/{pid}/{rid}/{tail}", kind.as_str())
    }
}

/// Whose message a key names (see [`message_key`]): the respondent id, or `lead`.
pub fn key_respondent(key: &str) -> &str {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() == 6 {
        parts[4]
    } else {
        LEAD
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn content_type_for(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("xlsm") => "application/vnd.ms-excel.sheet.macroEnabled.12",
        Some("xls") => "application/vnd.ms-excel",
        Some("ods") => "application/vnd.oasis.opendocument.spreadsheet",
        _ => "application/octet-stream",
    }
}

fn read_attachment(path: &Path) -> anyhow::Result<FileAttachment> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read {} to attach it", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "return.xlsx".into());
    Ok(FileAttachment { name, bytes })
}

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

/// A stable Message-ID derived from the message's key, so a message can be traced
/// from the store to the mailbox.
pub fn message_id(o: &Outgoing, from: &Mailbox) -> String {
    let h = sha256_hex(o.key.as_bytes());
    format!(
        "<ptk.{}.{}.{}.{}.{}@{}>",
        o.kind.as_str(),
        o.template_id,
        o.year,
        o.partnership_id,
        &h[..12],
        from.email.domain()
    )
}

/// Text for a header (a display name, the subject): control characters, which would
/// end the header early or make the mail library panic, become spaces. The register
/// already rejects them; this keeps any other path from reaching a header with one.
fn header_text(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.split(char::is_control)
        .filter(|p| !p.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds the RFC 5322 message. An address the mail library refuses is an error
/// naming the partnership (the caller skips that message and goes on).
pub fn build(o: &Outgoing, from: &Mailbox) -> anyhow::Result<Message> {
    let to = Mailbox::new(
        Some(header_text(&o.to.0)),
        o.to.1.parse().with_context(|| {
            format!(
                "'{}' is not an email address ({})",
                o.to.1, o.partnership_id
            )
        })?,
    );
    let mut b = Message::builder()
        .from(from.clone())
        .reply_to(from.clone())
        .to(to)
        .subject(header_text(&o.letter.subject))
        .message_id(Some(message_id(o, from)));
    if let Some(cc) = &o.cc {
        b = b.cc(cc
            .parse()
            .with_context(|| format!("'{cc}' is not an email address ({})", o.partnership_id))?);
    }
    let text = SinglePart::plain(o.letter.body.clone());
    let msg = match &o.attachment {
        Some(a) => b.multipart(MultiPart::mixed().singlepart(text).singlepart(
            Attachment::new(a.name.clone()).body(
                a.bytes.clone(),
                ContentType::parse(content_type_for(&a.name))?,
            ),
        ))?,
        None => b.singlepart(text)?,
    };
    Ok(msg)
}

/// Where messages go.
pub trait Transport {
    /// A short description for the send log, e.g. `eml:outbox/` or `smtp:mail.example:587`.
    fn describe(&self) -> String;
    /// Whether what this transport writes is a draft for the officer to check and send
    /// (an .eml), rather than a delivery.
    fn drafts(&self) -> bool {
        false
    }
    fn send(&mut self, o: &Outgoing, m: &Message) -> anyhow::Result<()>;
}

/// Marks an .eml as a draft: Outlook opens a message with this header ready to send
/// (with a Send button) instead of as a received message.
pub const DRAFT_HEADER: &[u8] = b"X-Unsent: 1\r\n";

/// Writes each message as an `.eml` draft (atomically, marked `X-Unsent: 1`) for the
/// officer to check; a later SMTP run, or Outlook's Send button, delivers it.
pub struct EmlFolder {
    pub dir: PathBuf,
}

impl EmlFolder {
    pub fn file_name(o: &Outgoing) -> String {
        let safe: String = o
            .key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{safe}.eml")
    }
}

impl Transport for EmlFolder {
    fn describe(&self) -> String {
        format!("eml:{}", self.dir.display())
    }

    fn drafts(&self) -> bool {
        true
    }

    fn send(&mut self, o: &Outgoing, m: &Message) -> anyhow::Result<()> {
        let mut bytes = DRAFT_HEADER.to_vec();
        bytes.extend_from_slice(&m.formatted());
        crate::output::write_atomic(&self.dir.join(Self::file_name(o)), &bytes)
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Upgrade with STARTTLS, and refuse to send if the server cannot (the default).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only to a loopback address, or when explicitly allowed.
    Plain,
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Messages a minute at most.
    pub per_minute: u32,
    /// Extra attempts after a temporary failure.
    pub retries: u32,
    /// Allow plain SMTP to a host that is not loopback.
    pub allow_plain_remote: bool,
}

/// Never shows the password (only whether there is one).
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("per_minute", &self.per_minute)
            .field("retries", &self.retries)
            .field("allow_plain_remote", &self.allow_plain_remote)
            .finish()
    }
}

/// What to do about an SMTP error an officer cannot act on as worded by the library.
fn smtp_hint(error: &str) -> &'static str {
    if error.contains("STARTTLS") {
        " (the server does not offer STARTTLS on this port: use its TLS port with --smtp-security tls, e.g. port 465, or ask IT which settings to use; plain SMTP is allowed only to this computer)"
    } else {
        ""
    }
}

/// Removes authentication content from an SMTP error before it is shown or stored: a
/// server that echoes the AUTH command would otherwise put the base64-encoded password
/// into the sends log and on screen. Cuts everything after `AUTH <mechanism>` on each
/// line, and every occurrence of the secrets given (the password, and the base64 forms
/// a client sends for PLAIN and LOGIN).
pub fn redact_smtp_error(text: &str, user: Option<&str>, password: Option<&str>) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut secrets: Vec<String> = Vec::new();
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        secrets.push(pw.to_string());
        secrets.push(b64(pw));
        if let Some(u) = user {
            secrets.push(b64(&format!("\0{u}\0{pw}")));
            secrets.push(b64(&format!("{u}\0{u}\0{pw}")));
        }
    }
    // Longest first, so a secret containing another is cut whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let mut line = line.to_string();
        if let Some(at) = line.to_ascii_uppercase().find("AUTH ") {
            let rest = &line[at + 5..];
            let mech_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if mech_end < rest.len() {
                line = format!("{} [redacted]", &line[..at + 5 + mech_end]);
            }
        }
        for sec in &secrets {
            line = line.replace(sec.as_str(), "[redacted]");
        }
        out.push(line);
    }
    out.join("\n")
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Sends through an SMTP server, with a rate limit and retries of temporary failures.
pub struct Smtp {
    transport: SmtpTransport,
    settings: SmtpSettings,
    sent_any: bool,
}

impl Smtp {
    pub fn new(settings: SmtpSettings) -> anyhow::Result<Self> {
        if settings.security == Security::Plain
            && !is_loopback(&settings.host)
            && !settings.allow_plain_remote
        {
            anyhow::bail!(
                "plain (unencrypted) SMTP to {} would send passwords and attachments in the clear; use STARTTLS or TLS, or allow it explicitly with --smtp-insecure",
                settings.host
            );
        }
        let tls = || {
            TlsParameters::new(settings.host.clone())
                .context("cannot set up TLS for the SMTP server")
        };
        let security = match settings.security {
            Security::StartTls => Tls::Required(tls()?),
            Security::Tls => Tls::Wrapper(tls()?),
            Security::Plain => Tls::None,
        };
        let mut b = SmtpTransport::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(security)
            .timeout(Some(Duration::from_secs(30)));
        if let Some(user) = &settings.user {
            let password = settings.password.clone().context("an SMTP user was given but no password: set PTK_SMTP_PASSWORD or use --smtp-password-file")?;
            b = b.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self {
            transport: b.build(),
            settings,
            sent_any: false,
        })
    }
}

impl Transport for Smtp {
    fn describe(&self) -> String {
        format!("smtp:{}:{}", self.settings.host, self.settings.port)
    }

    fn send(&mut self, _o: &Outgoing, m: &Message) -> anyhow::Result<()> {
        if self.sent_any && self.settings.per_minute > 0 {
            std::thread::sleep(Duration::from_millis(
                60_000 / u64::from(self.settings.per_minute),
            ));
        }
        self.sent_any = true;
        let mut attempt = 0;
        loop {
            match self.transport.send(m) {
                Ok(_) => return Ok(()),
                Err(e) if !e.is_permanent() && attempt < self.settings.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(500 * (1 << attempt.min(6))));
                }
                Err(e) => {
                    let said = redact_smtp_error(
                        &e.to_string(),
                        self.settings.user.as_deref(),
                        self.settings.password.as_deref(),
                    );
                    return Err(anyhow::anyhow!("{said}{}", smtp_hint(&said)));
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DeliverOptions {
    /// Say what would be sent; send and record nothing.
    pub dry_run: bool,
    /// Send even messages that were sent (or drafted) before.
    pub resend: bool,
    /// Send at most this many (to work through a long list in batches).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliverSummary {
    /// Delivered to the SMTP server.
    pub sent: usize,
    /// Written as .eml drafts.
    pub drafted: usize,
    pub already_sent: usize,
    /// Drafted before and not written again (an .eml run); an SMTP run sends them.
    pub already_drafted: usize,
    pub failed: usize,
    pub would_send: usize,
    pub left_for_later: usize,
}

/// Sends the planned messages in order, recording every attempt as it happens.
/// A message already sent is skipped; one already drafted is skipped by another draft
/// run and delivered by an SMTP run. A message that cannot be built (an address the
/// mail library refuses) or sent is reported, recorded as failed, and the run goes on.
/// `note` is told what happened to each message.
pub fn deliver(
    store: &Store,
    plan: &[Outgoing],
    from: &Mailbox,
    transport: &mut dyn Transport,
    opts: DeliverOptions,
    now: &str,
    note: &mut dyn FnMut(&Outgoing, &str),
) -> anyhow::Result<DeliverSummary> {
    let mut s = DeliverSummary::default();
    let drafts = transport.drafts();
    for o in plan {
        let before = if opts.resend {
            None
        } else {
            store.send_state(&o.key)?
        };
        match before.as_deref() {
            Some("sent") => {
                s.already_sent += 1;
                note(
                    o,
                    "already sent; not sent again (use --resend to send it anyway)",
                );
                continue;
            }
            Some("drafted") if drafts => {
                s.already_drafted += 1;
                note(
                    o,
                    "already drafted as an .eml; not written again (send it with --smtp, or use --resend to write it again)",
                );
                continue;
            }
            _ => {}
        }
        if opts
            .limit
            .is_some_and(|l| s.sent + s.drafted + s.failed >= l)
        {
            s.left_for_later += 1;
            continue;
        }
        let verb = if drafts { "drafted" } else { "sent" };
        let built = build(o, from);
        if opts.dry_run {
            match &built {
                Ok(_) => {
                    s.would_send += 1;
                    note(o, &format!("would be {verb}"));
                }
                Err(e) => note(
                    o,
                    &format!(
                        "cannot be {verb}: {}",
                        crate::output::printable(&format!("{e:#}"))
                    ),
                ),
            }
            continue;
        }
        let (result, state) = match built.and_then(|m| transport.send(o, &m)) {
            Ok(()) if drafts => {
                s.drafted += 1;
                ("drafted".to_string(), "drafted")
            }
            Ok(()) => {
                s.sent += 1;
                ("sent".to_string(), "sent")
            }
            Err(e) => {
                s.failed += 1;
                (
                    format!("failed: {}", crate::output::printable(&format!("{e:#}"))),
                    "failed",
                )
            }
        };
        store.record_send(&SendRecord {
            key: o.key.clone(),
            kind: o.kind.as_str().into(),
            message_id: message_id(o, from),
            partnership_id: o.partnership_id.clone(),
            recipient: o.to.1.clone(),
            template_id: o.template_id.clone(),
            year: o.year,
            file_sha256: o.file_sha256.clone(),
            sent_at: now.to_string(),
            transport: transport.describe(),
            result: result.clone(),
            state: state.into(),
        })?;
        note(o, &result);
    }
    Ok(s)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_is_only_for_loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("mail.rochford.gov.uk"));
        let s = SmtpSettings {
            host: "mail.rochford.gov.uk".into(),
            port: 25,
            security: Security::Plain,
            user: None,
            password: None,
            per_minute: 0,
            retries: 0,
            allow_plain_remote: false,
        };
        let e = Smtp::new(s).err().unwrap().to_string();
        assert!(e.contains("--smtp-insecure"), "{e}");
    }

    #[test]
    fn smtp_errors_lose_their_authentication_content() {
        use base64::Engine as _;
        let plain = base64::engine::general_purpose::STANDARD.encode("\0ptk\0s3cret-pw");
        let echoed = format!(
            "permanent error (535): 5.7.8 bad credentials: AUTH PLAIN {plain}\nretry later"
        );
        let r = redact_smtp_error(&echoed, Some("ptk"), Some("s3cret-pw"));
        assert!(!r.contains(&plain) && !r.contains("s3cret"), "{r}");
        assert!(
            r.contains("AUTH PLAIN [redacted]") && r.contains("retry later"),
            "{r}"
        );
        // The secret itself, or its base64, anywhere else on a line.
        let pw64 = base64::engine::general_purpose::STANDARD.encode("s3cret-pw");
        let r = redact_smtp_error(
            &format!("535 {pw64} s3cret-pw rejected"),
            Some("ptk"),
            Some("s3cret-pw"),
        );
        assert_eq!(r, "535 [redacted] [redacted] rejected");
        assert_eq!(
            redact_smtp_error("550 mailbox unavailable", None, None),
            "550 mailbox unavailable"
        );
    }

    #[test]
    fn smtp_settings_never_show_the_password() {
        let s = SmtpSettings {
            host: "mail.rochford.gov.uk".into(),
            port: 587,
            security: Security::StartTls,
            user: Some("ptk".into()),
            password: Some("s3cret-pw".into()),
            per_minute: 30,
            retries: 3,
            allow_plain_remote: false,
        };
        let d = format!("{s:?} {s:#?}");
        assert!(
            !d.contains("s3cret") && d.contains("[redacted]") && d.contains("ptk"),
            "{d}"
        );
    }

    #[test]
    fn a_key_names_its_respondent_and_the_leads_keys_are_unchanged() {
        let lead = message_key(
            Kind::Issue,
            "self-assessment",
            2026,
            "LSP01",
            "lead",
            "ab12",
        );
        assert_eq!(lead, "issue/self-assessment/2026/LSP01/ab12");
        assert_eq!(key_respondent(&lead), "lead");
        let other = message_key(
            Kind::Chase,
            "self-assessment",
            2026,
            "LSP01",
            "essex-police",
            "2026-12-01",
        );
        assert_eq!(
            other,
            "chase/self-assessment/2026/LSP01/essex-police/2026-12-01"
        );
        assert_eq!(key_respondent(&other), "essex-police");
        assert_eq!(
            key_respondent("corrections/exit/2026/P1/0123456789abcdef"),
            "lead"
        );
    }

    #[test]
    fn line_breaks_in_a_name_never_reach_a_header_or_panic() {
        let from: Mailbox = "partnerships@rochford.gov.uk".parse().unwrap();
        let mut o = Outgoing {
            kind: Kind::Issue,
            partnership_id: "P1".into(),
            respondent_id: "lead".into(),
            template_id: "exit".into(),
            year: 2026,
            to: ("Ann\r\nBcc: all@x.gov.uk".into(), "ann@x.gov.uk".into()),
            cc: None,
            letter: Letter {
                subject: "Form for Alpha\r\nBcc: all@x.gov.uk".into(),
                body: "Dear Ann".into(),
            },
            attachment: None,
            file_sha256: String::new(),
            key: "issue/exit/2026/P1/x".into(),
        };
        let raw = String::from_utf8(build(&o, &from).unwrap().formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc")), "{head}");
        o.to.1 = "not an address".into();
        let e = build(&o, &from).unwrap_err().to_string();
        assert!(e.contains("P1") && e.contains("not an address"), "{e}");
    }

    #[test]
    fn attachments_get_the_right_content_type() {
        assert!(content_type_for("a.xlsx").contains("spreadsheetml"));
        assert_eq!(
            content_type_for("a.ODS"),
            "application/vnd.oasis.opendocument.spreadsheet"
        );
        assert_eq!(content_type_for("a.pdf"), "application/octet-stream");
    }
}
