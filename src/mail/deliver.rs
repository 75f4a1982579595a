//! Delivering built messages: the transports (.eml drafts, SMTP) and the run that
//! records every attempt in the store.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use lettre::message::Mailbox;
use lettre::Message;

use super::{build, merge, message_id, Email};
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
    fn send(&mut self, e: &Email, m: &Message) -> anyhow::Result<()>;
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
    /// The draft's file name: from its letter's key, or for a merged email from its
    /// first key, how many more, and a hash of them all (see [`draft_name`]).
    pub fn file_name(e: &Email) -> String {
        draft_name(&e.keys())
    }
}

/// The file name of the draft of an email with these letters' keys.
pub fn draft_name(keys: &[&str]) -> String {
    let safe = |k: &str| -> String {
        k.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    match keys.as_slice() {
        [one] => format!("{}.eml", safe(one)),
        [first, ..] => format!(
            "{}_and_{}_more_{}.eml",
            safe(first),
            keys.len() - 1,
            &super::sha256_hex(keys.join("\n").as_bytes())[..12]
        ),
        [] => "empty.eml".into(),
    }
}

impl Transport for EmlFolder {
    fn describe(&self) -> String {
        format!("eml:{}", self.dir.display())
    }

    fn drafts(&self) -> bool {
        true
    }

    fn send(&mut self, e: &Email, m: &Message) -> anyhow::Result<()> {
        let mut bytes = DRAFT_HEADER.to_vec();
        bytes.extend_from_slice(&m.formatted());
        crate::output::write_atomic(&self.dir.join(Self::file_name(e)), &bytes)
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
    /// Emails delivered to the SMTP server.
    pub sent: usize,
    /// Emails written as .eml drafts.
    pub drafted: usize,
    /// The letters in the emails sent, drafted or that would be (more than the emails
    /// when letters to one person were merged).
    pub letters: usize,
    /// Letters sent before, not sent again.
    pub already_sent: usize,
    /// Letters drafted before and not written again (an .eml run); an SMTP run sends them.
    pub already_drafted: usize,
    /// Letters held back: their person was already written to today (one email a day).
    pub held_back: usize,
    /// The first day the held-back letters can go (YYYY-MM-DD).
    pub held_until: Option<String>,
    pub failed: usize,
    /// Drafts delivered by this SMTP run and moved to `sent/` (see [`retire_draft`]).
    pub drafts_retired: usize,
    pub would_send: usize,
    pub left_for_later: usize,
    /// Why the run stopped early, and what to do (see [`StopSending`]).
    pub stopped: Option<String>,
    /// Emails not tried because the run stopped.
    pub not_tried: usize,
}

/// Whether a letter of this kind waits for the next day when its person was already
/// written to today: the letters ptk writes again and again (reminders, corrections)
/// do; a form, a re-issued form or feedback, which the officer decided to send, never
/// waits.
pub fn waits_a_day(kind: super::Kind) -> bool {
    matches!(kind, super::Kind::Chase | super::Kind::Corrections)
}

/// The day after `day` (YYYY-MM-DD), or `day` itself if it is not a date.
fn next_day(day: &str) -> String {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .map_or_else(|| day.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// Sends the planned letters, one email per person (see [`merge`]), recording every
/// letter as it goes. A letter already sent is left out; one already drafted is left
/// out by another draft run and delivered by an SMTP run. Someone already written to
/// today (sent or drafted, by any run) gets no new reminder or corrections letter until
/// tomorrow (see [`waits_a_day`]): one email a day.
/// An email that cannot be built (an address the mail library refuses) or sent is
/// reported, its letters recorded as failed, and the run goes on. `note` is told what
/// happened to each email.
pub fn deliver(
    store: &Store,
    plan: &[super::Outgoing],
    from: &Mailbox,
    transport: &mut dyn Transport,
    opts: DeliverOptions,
    now: &str,
    note: &mut dyn FnMut(&Email, &str),
) -> anyhow::Result<DeliverSummary> {
    let mut s = DeliverSummary::default();
    let drafts = transport.drafts();
    let today = now.get(..10).unwrap_or(now);
    // The log as it was before this run: who was written to today, and which drafts
    // hold which letters.
    let log: Vec<SendRecord> = store
        .sends()?
        .into_iter()
        .filter(|r| r.state == "sent" || r.state == "drafted")
        .collect();
    for email in merge(plan) {
        let mut pending = Vec::new();
        let (mut sent_before, mut drafted_before) = (Vec::new(), Vec::new());
        for o in &email.parts {
            let before = if opts.resend {
                None
            } else {
                store.send_state(&o.key)?
            };
            match before.as_deref() {
                Some("sent") => sent_before.push(o.clone()),
                Some("drafted") if drafts => drafted_before.push(o.clone()),
                _ => pending.push(o.clone()),
            }
        }
        if !sent_before.is_empty() {
            s.already_sent += sent_before.len();
            note(
                &Email { parts: sent_before },
                "already sent; not sent again (use --resend to send it anyway)",
            );
        }
        if !drafted_before.is_empty() {
            s.already_drafted += drafted_before.len();
            note(
                &Email { parts: drafted_before },
                "already drafted as an .eml; not written again (send it with --smtp, or use --resend to write it again)",
            );
        }
        if pending.is_empty() {
            continue;
        }
        let address = pending[0].to.1.trim().to_string();
        let mine: HashSet<&str> = pending.iter().map(|o| o.key.as_str()).collect();
        let earlier = log
            .iter()
            .filter(|r| {
                r.sent_at.starts_with(today)
                    && r.recipient.trim().eq_ignore_ascii_case(&address)
                    && !mine.contains(r.key.as_str())
            })
            .max_by_key(|r| (r.state == "sent", r.sent_at.as_str()));
        let (wait, pending): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|o| earlier.is_some() && waits_a_day(o.kind));
        if let Some(r) = earlier.filter(|_| !wait.is_empty()) {
            let until = next_day(today);
            s.held_back += wait.len();
            note(
                &Email { parts: wait },
                &format!(
                    "held back: {address} was already written to today (a {} for {}, {} at {}); one email a day, so this goes when the same command is run again on or after {until}",
                    super::Kind::parse(&r.kind).map_or(r.kind.as_str(), |k| k.letter_name()),
                    r.partnership_id,
                    r.state,
                    r.sent_at.get(11..16).unwrap_or(&r.sent_at),
                ),
            );
            s.held_until = Some(until);
        }
        if pending.is_empty() {
            continue;
        }
        let email = Email { parts: pending };
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
        let built = build(&email, from);
        if opts.dry_run {
            match &built {
                Ok(_) => {
                    s.would_send += 1;
                    s.letters += email.parts.len();
                    note(&email, &format!("would be {verb}"));
                }
                Err(e) => note(
                    &email,
                    &format!(
                        "cannot be {verb}: {}",
                        crate::output::printable(&format!("{e:#}"))
                    ),
                ),
            }
            continue;
        }
        let (result, state) = match built.and_then(|m| transport.send(&email, &m)) {
            Ok(()) if drafts => {
                s.drafted += 1;
                s.letters += email.parts.len();
                ("drafted".to_string(), "drafted")
            }
            Ok(()) => {
                s.sent += 1;
                s.letters += email.parts.len();
                if let Some(dir) = &opts.drafts_dir {
                    s.drafts_retired += retire_drafts(dir, &email, &log)?;
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
        let id = message_id(&email, from);
        for o in &email.parts {
            store.record_send(&SendRecord {
                key: o.key.clone(),
                kind: o.kind.as_str().into(),
                message_id: id.clone(),
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
        }
        note(&email, &result);
    }
    Ok(s)
}

/// Where a delivered draft is kept: `sent/` inside the drafts folder.
pub const SENT_DRAFTS: &str = "sent";

/// After an SMTP run has delivered `e`, the drafts holding any of its letters (written
/// by earlier runs, found through the log: the letters drafted under one Message-ID
/// name their draft) must not be sendable again. Says how many were moved.
fn retire_drafts(dir: &Path, e: &Email, log: &[SendRecord]) -> anyhow::Result<usize> {
    let mut names: Vec<String> = Vec::new();
    for o in &e.parts {
        let Some(draft) = log.iter().rfind(|r| r.key == o.key && r.state == "drafted") else {
            continue;
        };
        let keys: Vec<&str> = log
            .iter()
            .filter(|r| r.state == "drafted" && r.message_id == draft.message_id)
            .map(|r| r.key.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let name = draft_name(&keys);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut moved = 0;
    for name in names {
        if retire_draft(dir, &name, &e.partnerships())? {
            moved += 1;
        }
    }
    Ok(moved)
}

/// Moves the draft `name` out of the folder the officer sends from: opened in Outlook,
/// an `X-Unsent: 1` draft has a Send button. It is rewritten without the mark into
/// `sent/` (atomically) and removed. Says whether there was such a draft.
pub fn retire_draft(dir: &Path, name: &str, about: &str) -> anyhow::Result<bool> {
    let draft = dir.join(name);
    let bytes = match std::fs::read(&draft) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "{about} was sent, but its draft {} could not be read to move it to {SENT_DRAFTS}/: delete the draft so that it is not sent again from Outlook",
                    draft.display()
                )
            })
        }
    };
    let sent = bytes.strip_prefix(DRAFT_HEADER).unwrap_or(&bytes);
    let to = dir.join(SENT_DRAFTS);
    let move_it = || -> anyhow::Result<()> {
        std::fs::create_dir_all(&to)?;
        crate::output::write_atomic(&to.join(name), sent)?;
        std::fs::remove_file(&draft)?;
        Ok(())
    };
    move_it().with_context(|| {
        format!(
            "{about} was sent, but its draft {} could not be moved to {SENT_DRAFTS}/: delete the draft so that it is not sent again from Outlook",
            draft.display()
        )
    })?;
    Ok(true)
}
