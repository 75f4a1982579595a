//! Delivering built messages: the transports (.eml drafts, SMTP) and the run that
//! records every attempt in the store.

use std::path::{Path, PathBuf};

use anyhow::Context;

use lettre::message::Mailbox;
use lettre::Message;

use super::{build, message_id, Outgoing};
use crate::store::{SendRecord, Store};

/// A failure after which no later message can go either (the server cannot be
/// reached, secured or logged in to): [`deliver`] stops at once instead of failing
/// every message in turn, and the run says what to change.
#[derive(Debug)]
pub struct StopSending {
    /// What to do, in the officer's words.
    pub advice: String,
    /// What the server or library said (credentials removed).
    pub detail: String,
}

impl std::fmt::Display for StopSending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (detail: {})", self.advice, self.detail)
    }
}

impl std::error::Error for StopSending {}

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

#[derive(Debug, Clone, Default)]
pub struct DeliverOptions {
    /// Say what would be sent; send and record nothing.
    pub dry_run: bool,
    /// Send even messages that were sent (or drafted) before.
    pub resend: bool,
    /// Send at most this many (to work through a long list in batches).
    pub limit: Option<usize>,
    /// The drafts folder of earlier .eml runs: a draft that an SMTP run delivers is
    /// moved to its `sent/` folder without the draft mark (see [`retire_draft`]).
    pub drafts_dir: Option<PathBuf>,
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
    /// Drafts delivered by this SMTP run and moved to `sent/` (see [`retire_draft`]).
    pub drafts_retired: usize,
    pub would_send: usize,
    pub left_for_later: usize,
    /// Why the run stopped early, and what to do (see [`StopSending`]).
    pub stopped: Option<String>,
    /// Messages not tried because the run stopped.
    pub not_tried: usize,
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
        if s.stopped.is_some() {
            s.not_tried += 1;
            continue;
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
                if let Some(dir) = &opts.drafts_dir {
                    if retire_draft(dir, o)? {
                        s.drafts_retired += 1;
                    }
                }
                ("sent".to_string(), "sent")
            }
            Err(e) => {
                s.failed += 1;
                if let Some(stop) = e.downcast_ref::<StopSending>() {
                    s.stopped = Some(stop.advice.clone());
                }
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

/// Where a delivered draft is kept: `sent/` inside the drafts folder.
pub const SENT_DRAFTS: &str = "sent";

/// After an SMTP run has delivered `o`, its draft (if an earlier run wrote one) must not
/// be sendable again: opened in Outlook, an `X-Unsent: 1` draft has a Send button. It is
/// rewritten without the mark into `sent/` (atomically) and removed from the folder the
/// officer sends from. Says whether there was a draft.
pub fn retire_draft(dir: &Path, o: &Outgoing) -> anyhow::Result<bool> {
    let name = EmlFolder::file_name(o);
    let draft = dir.join(&name);
    let bytes = match std::fs::read(&draft) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "{} was sent, but its draft {} could not be read to move it to {SENT_DRAFTS}/: delete the draft so that it is not sent again from Outlook",
                    o.partnership_id,
                    draft.display()
                )
            })
        }
    };
    let sent = bytes.strip_prefix(DRAFT_HEADER).unwrap_or(&bytes);
    let to = dir.join(SENT_DRAFTS);
    let move_it = || -> anyhow::Result<()> {
        std::fs::create_dir_all(&to)?;
        crate::output::write_atomic(&to.join(&name), sent)?;
        std::fs::remove_file(&draft)?;
        Ok(())
    };
    move_it().with_context(|| {
        format!(
            "{} was sent, but its draft {} could not be moved to {SENT_DRAFTS}/: delete the draft so that it is not sent again from Outlook",
            o.partnership_id,
            draft.display()
        )
    })?;
    Ok(true)
}
