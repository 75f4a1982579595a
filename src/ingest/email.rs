//! Returns that came by email: `.eml` and `.msg` files, mbox files (also Apple Mail's
//! `X.mbox/` folders) and maildir folders, each message unpacked into one input per
//! workbook attachment, messages forwarded inside messages included.
//!
//! A saved email is as hostile as a workbook, so reading one is bounded: a message is
//! read only up to [`max_message_bytes`] (bigger is `too-large`, never held), a mailbox
//! is read one message at a time, and each workbook found goes to a temporary file at
//! once ([`Attachment::keep`]), so the main process's memory is bounded by one message,
//! not by the mailbox.
//!
//! To read another message format, add its file ending to
//! [`MAIL_EXTENSIONS`](super::MAIL_EXTENSIONS), a parser that gives a `Received`, and a
//! branch in `expand` that hands it to `from_received`.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::envelope::{Envelope, Received, MAX_DEPTH};
use super::input::{Attachment, Input, WORKBOOK_EXTENSIONS};
use crate::output::shown_path;
use crate::read::{Limits, ReadError};
use crate::validate::{Code, Finding};

/// The most one message may be: four times the file limit (a return's attachment, as
/// base64, is a third bigger; a few attachments besides).
pub fn max_message_bytes(limits: &Limits) -> u64 {
    limits.max_file_bytes.saturating_mul(4)
}

/// Parses one message and keeps its workbook attachments (by file ending), following
/// attached messages (message/rfc822, attached `.eml` and `.msg` files).
pub fn parse_message(raw: &[u8]) -> Option<Received> {
    parse_at(raw, 0)
}

/// Parses a message found `depth` messages deep (attached to another one).
pub(super) fn parse_at(raw: &[u8], depth: usize) -> Option<Received> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    Some(from_parsed(&msg, depth))
}

fn from_parsed(msg: &mail_parser::Message<'_>, depth: usize) -> Received {
    use mail_parser::MimeHeaders;
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
    let mut r = Received {
        envelope: Envelope {
            from,
            date: msg.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
            subject: msg.subject().unwrap_or("").to_string(),
            forwarded: Vec::new(),
        },
        ..Received::default()
    };
    let deeper = depth + 1 < MAX_DEPTH;
    for a in msg.attachments() {
        if let Some(inner) = a.message() {
            if deeper {
                r.forwarded.push(from_parsed(inner, depth + 1));
            }
            continue;
        }
        let Some(name) = a.attachment_name() else {
            continue;
        };
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "eml" if deeper => r.forwarded.extend(parse_at(a.contents(), depth + 1)),
            "msg" if deeper => r
                .forwarded
                .extend(super::msg::parse_at(a.contents(), depth + 1, parse_at).ok()),
            e if WORKBOOK_EXTENSIONS.contains(&e) => {
                r.workbooks.push((name.to_string(), a.contents().to_vec()))
            }
            _ => {}
        }
    }
    r
}

/// Every workbook of a message and of the messages inside it, each with its envelope.
fn flatten(r: Received, outer: Option<&Envelope>, out: &mut Vec<(Envelope, String, Vec<u8>)>) {
    let env = match outer {
        None => r.envelope,
        Some(o) => {
            let mut e = o.clone();
            e.forwarded.push(r.envelope);
            e
        }
    };
    for (name, bytes) in r.workbooks {
        out.push((env.clone(), name, bytes));
    }
    for f in r.forwarded {
        flatten(f, Some(&env), out);
    }
}

fn rejected(label: &str, finding: Finding) -> Input {
    Input {
        path: PathBuf::from(label),
        verdict: Some(finding),
        ..Input::default()
    }
}

/// A message that cannot be parsed: damaged, like a workbook that cannot be opened.
fn damaged(label: &str, why: &str) -> Input {
    rejected(
        label,
        Finding::file(
            Code::Unreadable,
            format!("the saved email cannot be read: {why}. It may be damaged or cut short; ask the sender to send the return again, or save the email again"),
        ),
    )
}

/// Turns one email into inputs: one per workbook attachment, or one entry that names
/// the message when it has no workbook (so no message is silently dropped).
fn from_message(label: &str, raw: &[u8], limits: &Limits) -> Vec<Input> {
    match parse_message(raw) {
        Some(r) => from_received(label, r, limits),
        None => vec![damaged(label, "it is not an email message")],
    }
}

/// Turns one parsed message (of any format) into inputs, as [`from_message`] does.
fn from_received(label: &str, received: Received, limits: &Limits) -> Vec<Input> {
    let mut found = Vec::new();
    let outer = received.envelope.clone();
    flatten(received, None, &mut found);
    if found.is_empty() {
        let why = format!(
            "an email with no workbook attached ({}); if it should have had a return, ask the sender to attach it",
            outer.describe()
        );
        return vec![Input {
            path: PathBuf::from(label),
            skip: Some(why),
            envelope: Some(outer),
            ..Input::default()
        }];
    }
    found
        .into_iter()
        .map(|(env, name, bytes)| {
            let path = PathBuf::from(format!("{label}/{name}"));
            let size = bytes.len() as u64;
            let verdict = if size == 0 {
                Some(Finding::file(
                    Code::Unreadable,
                    format!("the attachment {name} is empty (0 bytes): the email carried the file's name but not the file (Outlook shows it as \"0 KB\"). Ask the sender to attach the saved form again"),
                ))
            } else if size > limits.max_file_bytes {
                let e = ReadError::TooLarge {
                    bytes: size,
                    limit: limits.max_file_bytes,
                };
                Some(Finding::file(e.code(), e.message()))
            } else {
                None
            };
            let attachment = verdict
                .is_none()
                .then(|| Arc::new(Attachment::keep(bytes)));
            Input {
                path,
                verdict,
                attachment,
                envelope: Some(env),
                ..Input::default()
            }
        })
        .collect()
}

/// Reads a whole saved message, refusing one over the limit without holding it.
fn read_message(path: &Path, limits: &Limits) -> std::io::Result<Result<Vec<u8>, u64>> {
    let f = std::fs::File::open(path)?;
    let cap = max_message_bytes(limits);
    let mut raw = Vec::new();
    f.take(cap + 1).read_to_end(&mut raw)?;
    if raw.len() as u64 > cap {
        let size = std::fs::metadata(path).map_or(cap + 1, |m| m.len());
        return Ok(Err(size));
    }
    Ok(Ok(raw))
}

fn too_big(label: &str, size: u64, limits: &Limits) -> Input {
    rejected(
        label,
        Finding::file(
            Code::TooLarge,
            format!(
                "the email is {:.1} MB, more than the {:.0} MB an email with a return may be (4 × the {:.0} MB a return may be), so it is not read. Ask the sender to send the completed form alone",
                size as f64 / 1e6,
                max_message_bytes(limits) as f64 / 1e6,
                limits.max_file_bytes as f64 / 1e6
            ),
        ),
    )
}

/// Whether a file is a message of a maildir: directly in the `cur` or `new` folder of
/// a folder that has both.
pub fn in_maildir(path: &Path) -> bool {
    let Some(sub) = path.parent() else {
        return false;
    };
    matches!(
        sub.file_name().and_then(|n| n.to_str()),
        Some("cur" | "new")
    ) && sub
        .parent()
        .is_some_and(|d| d.join("cur").is_dir() && d.join("new").is_dir())
}

/// The message files of a maildir (`new` and `cur`), sorted by path.
pub fn maildir_messages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(dir.join(sub))? {
            let e = e?;
            if e.file_type()?.is_file() && !e.file_name().to_string_lossy().starts_with('.') {
                files.push(e.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a file is the mailbox of a folder Apple Mail exported (`X.mbox/mbox`).
pub fn is_apple_mailbox(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "mbox")
        && path
            .parent()
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("mbox"))
}

/// One saved message file (`.eml`, or a maildir's message) into inputs.
pub(super) fn expand_message_file(path: &Path, limits: &Limits) -> Vec<Input> {
    let label = shown_path(path);
    match read_message(path, limits) {
        Ok(Ok(raw)) => from_message(&label, &raw, limits),
        Ok(Err(size)) => vec![too_big(&label, size, limits)],
        Err(e) => vec![cannot_read(path, e)],
    }
}

fn cannot_read(path: &Path, e: std::io::Error) -> Input {
    Input {
        path: path.to_path_buf(),
        skip: Some(format!("cannot be read: {e}")),
        ..Input::default()
    }
}

/// Expands an `.eml` file, an Outlook `.msg` file or an mbox file into inputs.
pub(super) fn expand(path: &Path, limits: &Limits) -> Vec<Input> {
    let label = shown_path(path);
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "msg" {
        return match read_message(path, limits) {
            Ok(Ok(raw)) => match super::msg::parse(&raw, parse_at) {
                Ok(r) => from_received(&label, r, limits),
                Err(why) => vec![damaged(&label, &why)],
            },
            Ok(Err(size)) => vec![too_big(&label, size, limits)],
            Err(e) => vec![cannot_read(path, e)],
        };
    }
    if ext == "mbox" || is_apple_mailbox(path) {
        let mut out = Vec::new();
        let read = mbox_messages(path, max_message_bytes(limits), &mut |i, m| {
            let label = format!("{label}#{i}");
            match m {
                Ok(raw) => out.extend(from_message(&label, &raw, limits)),
                Err(size) => out.push(too_big(&label, size, limits)),
            }
        });
        if let Err(e) = read {
            out.push(cannot_read(path, e));
        }
        return out;
    }
    expand_message_file(path, limits)
}

/// Reads an mbox one message at a time, calling `each(number, message)` with the
/// message's bytes, or its size when over `cap` (then it is passed over, not held).
/// A file that does not start with a "From " line is one message (a single message
/// saved as .mbox). Lines quoted as ">From " lose one ">".
pub fn mbox_messages(
    path: &Path,
    cap: u64,
    each: &mut dyn FnMut(usize, Result<Vec<u8>, u64>),
) -> std::io::Result<()> {
    let mut r = std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(path)?);
    let starts_with_from = r.fill_buf()?.starts_with(b"From ");
    let mut n = 0;
    // The message being read: its bytes while under the cap, its size always.
    let mut msg: Option<(Vec<u8>, u64)> = (!starts_with_from).then(|| (Vec::new(), 0));
    let mut line = Vec::new();
    let mut flush = |msg: Option<(Vec<u8>, u64)>, n: &mut usize| {
        if let Some((bytes, size)) = msg {
            *n += 1;
            each(*n, if size > cap { Err(size) } else { Ok(bytes) });
        }
    };
    // Whether the next read starts a line (a line longer than the cap comes in pieces).
    let mut at_start = true;
    loop {
        line.clear();
        // A line is read only up to the cap: a message of one endless line is bounded too.
        if (&mut r).take(cap + 1).read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let line_start = at_start;
        at_start = line.ends_with(b"\n");
        if starts_with_from && line_start && line.starts_with(b"From ") {
            flush(msg.take(), &mut n);
            msg = Some((Vec::new(), 0));
            continue;
        }
        let Some((bytes, size)) = msg.as_mut() else {
            continue;
        };
        let body: &[u8] = match line.iter().position(|&c| c != b'>') {
            Some(i) if line_start && i > 0 && line[i..].starts_with(b"From ") => &line[1..],
            _ => &line,
        };
        *size += body.len() as u64;
        if *size <= cap {
            bytes.extend_from_slice(body);
        } else if bytes.capacity() > 0 {
            *bytes = Vec::new();
        }
    }
    flush(msg.take(), &mut n);
    Ok(())
}
