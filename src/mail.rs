//! Email: the forms going out.
//!
//! Sending is planned first (pure: who, what, which attachment, and a key that names
//! the message), then each message is built with lettre and handed to a transport:
//! `.eml` files in a folder by default (they open in Outlook or Thunderbird for review
//! before sending), or SMTP. Each attempt is recorded in the store as it happens, so
//! a re-run never sends a message twice and a failure part-way leaves an exact record.
//!
//! Returns coming back by email are read by `ptk ingest` ([`crate::ingest::email`]).

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

use crate::letter::{Letter, LetterContext, LetterTemplate};
use crate::register::Partnership;
use crate::report::{ReturnState, Review};
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
    /// A message about form `t` to the partnership's lead officer, copied to its
    /// Assistant Director if `cc_ad`; no attachment or key yet.
    fn addressed(
        kind: Kind,
        p: &Partnership,
        t: &Template,
        year: i32,
        cc_ad: bool,
        letter: Letter,
    ) -> Self {
        Self {
            kind,
            partnership_id: p.id.clone(),
            template_id: t.id.clone(),
            year,
            to: (p.lead_officer.clone(), p.email.clone()),
            cc: cc_ad.then(|| p.assistant_director_email.clone()).flatten(),
            letter,
            attachment: None,
            file_sha256: String::new(),
            key: String::new(),
        }
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

/// Plans the issue emails: one per partnership, its workbook from the outbox attached.
pub fn plan_issue(
    template: &Template,
    partnerships: &[&Partnership],
    ctx: &LetterContext,
    letter: &LetterTemplate,
    outbox: &Path,
    cc_ad: bool,
) -> anyhow::Result<Vec<Outgoing>> {
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for p in partnerships {
        let path = outbox.join(crate::issue::file_name(&p.id, &template.id, ctx.year));
        if !path.exists() {
            missing.push(path.display().to_string());
            continue;
        }
        let att = read_attachment(&path)?;
        let sha = sha256_hex(&att.bytes);
        let text = letter.render(&crate::letter::fields(template, p, ctx))?;
        out.push(Outgoing {
            key: format!("issue/{}/{}/{}/{}", template.id, ctx.year, p.id, &sha[..16]),
            file_sha256: sha,
            attachment: Some(att),
            ..Outgoing::addressed(Kind::Issue, p, template, ctx.year, cc_ad, text)
        });
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

/// Plans reminders for every partnership with no accepted return for the form it owes.
/// The issued workbook is attached again when it is in the outbox. One reminder a day at most.
pub fn plan_chase(
    review: &Review,
    ctx: &LetterContext,
    letter: &LetterTemplate,
    outbox: Option<&Path>,
    cc_ad: bool,
    today: &str,
) -> anyhow::Result<Vec<Outgoing>> {
    let mut out = Vec::new();
    for row in review.rows.iter().filter(|r| r.state.is_outstanding()) {
        let Some(t) = row
            .expected
            .as_ref()
            .and_then(|id| review.templates.iter().find(|t| &t.id == id))
        else {
            continue;
        };
        let p = &row.partnership;
        let attachment =
            match outbox.map(|o| o.join(crate::issue::file_name(&p.id, &t.id, ctx.year))) {
                Some(path) if path.exists() => Some(read_attachment(&path)?),
                _ => None,
            };
        let mut fields = crate::letter::fields(t, p, ctx);
        fields.insert(
            "situation",
            match &row.state {
                ReturnState::Rejected(_) => "The return we received could not be accepted yet (we will send the details separately), so we have no accepted return from you".into(),
                _ => "We have not yet received your completed form".into(),
            },
        );
        out.push(Outgoing {
            file_sha256: attachment
                .as_ref()
                .map(|a| sha256_hex(&a.bytes))
                .unwrap_or_default(),
            attachment,
            key: format!("chase/{}/{}/{}/{today}", t.id, ctx.year, p.id),
            ..Outgoing::addressed(Kind::Chase, p, t, ctx.year, cc_ad, letter.render(&fields)?)
        });
    }
    Ok(out)
}

/// Plans a corrections email for every rejected return: its problems in plain English
/// (sheet, cell, what to fix) and the partnership's own file attached back.
pub fn plan_corrections(
    review: &Review,
    store: &Store,
    ctx: &LetterContext,
    letter: &LetterTemplate,
    cc_ad: bool,
) -> anyhow::Result<Vec<Outgoing>> {
    let mut out = Vec::new();
    for row in review.rows.iter() {
        let ReturnState::Rejected(_) = &row.state else {
            continue;
        };
        let Some(t) = row
            .expected
            .as_ref()
            .and_then(|id| review.templates.iter().find(|t| &t.id == id))
        else {
            continue;
        };
        let p = &row.partnership;
        let Some((path, sha)) = store.rejected_file(&p.id, &t.id, ctx.year)? else {
            continue;
        };
        let problems: Vec<String> = store
            .findings_for(&sha)?
            .iter()
            .filter(|f| f.severity == "error")
            .map(|f| {
                if f.cell.is_empty() {
                    format!("- {}", f.message)
                } else {
                    format!("- Sheet '{}', cell {}: {}", f.sheet, f.cell, f.message)
                }
            })
            .collect();
        let attachment = if Path::new(&path).exists() {
            Some(read_attachment(Path::new(&path))?)
        } else {
            None
        };
        let mut fields = crate::letter::fields(t, p, ctx);
        fields.insert("problems", problems.join("\n"));
        fields.insert(
            "file",
            Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        out.push(Outgoing {
            key: format!("corrections/{}/{}/{}/{}", t.id, ctx.year, p.id, &sha[..16]),
            file_sha256: sha,
            attachment,
            ..Outgoing::addressed(
                Kind::Corrections,
                p,
                t,
                ctx.year,
                cc_ad,
                letter.render(&fields)?,
            )
        });
    }
    Ok(out)
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

/// Builds the RFC 5322 message.
pub fn build(o: &Outgoing, from: &Mailbox) -> anyhow::Result<Message> {
    let to = Mailbox::new(
        Some(o.to.0.clone()),
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
        .subject(o.letter.subject.clone())
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
    fn send(&mut self, o: &Outgoing, m: &Message) -> anyhow::Result<()>;
}

/// Writes each message as an `.eml` file (atomically) for review before sending.
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

    fn send(&mut self, o: &Outgoing, m: &Message) -> anyhow::Result<()> {
        crate::output::write_atomic(&self.dir.join(Self::file_name(o)), &m.formatted())
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

#[derive(Debug, Clone)]
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
                Err(e) => return Err(anyhow::anyhow!("{e}")),
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DeliverOptions {
    /// Say what would be sent; send and record nothing.
    pub dry_run: bool,
    /// Send even messages that were sent before.
    pub resend: bool,
    /// Send at most this many (to work through a long list in batches).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliverSummary {
    pub sent: usize,
    pub already_sent: usize,
    pub failed: usize,
    pub would_send: usize,
    pub left_for_later: usize,
}

/// Sends the planned messages in order, recording every attempt as it happens.
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
    for o in plan {
        if !opts.resend && store.was_sent(&o.key)? {
            s.already_sent += 1;
            note(
                o,
                "already sent; not sent again (use --resend to send it anyway)",
            );
            continue;
        }
        if opts.limit.is_some_and(|l| s.sent + s.failed >= l) {
            s.left_for_later += 1;
            continue;
        }
        let m = build(o, from)?;
        if opts.dry_run {
            s.would_send += 1;
            note(o, "would be sent");
            continue;
        }
        let result = match transport.send(o, &m) {
            Ok(()) => {
                s.sent += 1;
                "sent".to_string()
            }
            Err(e) => {
                s.failed += 1;
                format!("failed: {e}")
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
    fn attachments_get_the_right_content_type() {
        assert!(content_type_for("a.xlsx").contains("spreadsheetml"));
        assert_eq!(
            content_type_for("a.ODS"),
            "application/vnd.oasis.opendocument.spreadsheet"
        );
        assert_eq!(content_type_for("a.pdf"), "application/octet-stream");
    }
}
