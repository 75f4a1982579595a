//! Returns that came by email: `.eml` files, mbox files and maildir folders, each
//! message unpacked into one input per workbook attachment.
//!
//! To read another message format (e.g. Outlook `.msg`), add its file ending to
//! [`MAIL_EXTENSIONS`](super::MAIL_EXTENSIONS), a parser that gives an
//! `Option<Received>`, and a branch in `expand` that hands it to `from_received`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::inputs::{Input, WORKBOOK_EXTENSIONS};
use crate::read::Limits;

/// Where an attachment came from.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub from: String,
    pub date: String,
    pub subject: String,
}

impl Envelope {
    pub fn describe(&self) -> String {
        format!(
            "From: {}; Date: {}; Subject: {}",
            self.from, self.date, self.subject
        )
    }
}

/// What one message held: its workbook attachments (name, bytes).
#[derive(Debug, Clone)]
pub struct Received {
    pub envelope: Envelope,
    pub workbooks: Vec<(String, Vec<u8>)>,
}

/// Parses one message and keeps its workbook attachments (by file ending).
pub fn parse_message(raw: &[u8]) -> Option<Received> {
    use mail_parser::MimeHeaders;
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let from = msg
        .from()
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let envelope = Envelope {
        from,
        date: msg.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
        subject: msg.subject().unwrap_or("").to_string(),
    };
    let workbooks = msg
        .attachments()
        .filter_map(|a| {
            let name = a.attachment_name()?.to_string();
            let ext = name.rsplit('.').next()?.to_ascii_lowercase();
            WORKBOOK_EXTENSIONS
                .contains(&ext.as_str())
                .then(|| (name, a.contents().to_vec()))
        })
        .collect();
    Some(Received {
        envelope,
        workbooks,
    })
}

/// The messages of an mbox file, in order.
pub fn mbox_messages(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the mailbox {}", path.display()))?;
    let it = mail_parser::mailbox::mbox::MessageIterator::new(std::io::BufReader::new(f));
    let mut out = Vec::new();
    for m in it {
        out.push(
            m.map_err(|_| {
                anyhow::anyhow!(
                    "the mailbox {} is damaged and cannot be read to the end",
                    path.display()
                )
            })?
            .unwrap_contents(),
        );
    }
    Ok(out)
}

/// Whether a folder is a maildir (has `cur` and `new`).
pub fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

/// The message files of a maildir, sorted by name.
pub fn maildir_messages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(dir.join(sub))
            .with_context(|| format!("cannot read {}", dir.join(sub).display()))?
        {
            let p = e?.path();
            if p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Turns one email into inputs: one per workbook attachment, or one skipped entry that
/// names the message when it has no workbook (so no message is silently dropped).
fn from_message(label: &str, raw: &[u8], limits: &Limits) -> Vec<Input> {
    from_received(
        label,
        parse_message(raw).ok_or_else(|| "cannot be read as an email message".to_string()),
        limits,
    )
}

/// Turns one parsed message (of any format: an .eml/mbox message, or an Outlook .msg;
/// `Err` says why it could not be parsed) into inputs, as [`from_message`] does for
/// MIME messages.
fn from_received(label: &str, received: Result<Received, String>, limits: &Limits) -> Vec<Input> {
    let received = match received {
        Ok(r) => r,
        Err(why) => {
            return vec![Input {
                path: PathBuf::from(label),
                skip: Some(why),
                ..Input::default()
            }]
        }
    };
    let env = received.envelope;
    if received.workbooks.is_empty() {
        let why = format!(
            "an email with no workbook attached ({}); if it should have had a return, ask the sender to attach it",
            env.describe()
        );
        return vec![Input {
            path: PathBuf::from(label),
            skip: Some(why),
            envelope: Some(env),
            ..Input::default()
        }];
    }
    received
        .workbooks
        .into_iter()
        .map(|(name, bytes)| {
            // An attachment over the size limit is kept only as its size, for the message.
            let skip = None;
            let attachment = if bytes.len() as u64 > limits.max_file_bytes {
                Some(std::sync::Arc::new(Vec::new()))
            } else {
                Some(std::sync::Arc::new(bytes))
            };
            Input {
                path: PathBuf::from(format!("{label}/{name}")),
                skip,
                attachment,
                envelope: Some(env.clone()),
            }
        })
        .collect()
}

/// Expands an `.eml` file, an Outlook `.msg` file, an mbox file or a maildir folder into
/// inputs.
pub(super) fn expand(path: &Path, limits: &Limits) -> Vec<Input> {
    let label = crate::output::shown_path(path);
    let fail = |e: anyhow::Error| {
        vec![Input {
            path: path.to_path_buf(),
            skip: Some(format!("cannot be read: {e}")),
            ..Input::default()
        }]
    };
    if path.is_dir() {
        return match maildir_messages(path) {
            Ok(files) => files
                .iter()
                .flat_map(|f| match std::fs::read(f) {
                    Ok(raw) => from_message(&crate::output::shown_path(f), &raw, limits),
                    Err(e) => vec![Input {
                        path: f.clone(),
                        skip: Some(format!("cannot be read: {e}")),
                        ..Input::default()
                    }],
                })
                .collect(),
            Err(e) => fail(e),
        };
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "msg" {
        return match std::fs::read(path) {
            Ok(raw) => from_received(&label, super::msg::parse(&raw), limits),
            Err(e) => fail(e.into()),
        };
    }
    if ext == "mbox" {
        return match mbox_messages(path) {
            Ok(messages) => messages
                .iter()
                .enumerate()
                .flat_map(|(i, raw)| from_message(&format!("{label}#{}", i + 1), raw, limits))
                .collect(),
            Err(e) => fail(e),
        };
    }
    match std::fs::read(path) {
        Ok(raw) => from_message(&label, &raw, limits),
        Err(e) => fail(e.into()),
    }
}
