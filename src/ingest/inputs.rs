//! Finding the inputs: folders walked in name order, saved emails unpacked (see
//! [`super::email`]); every entry found becomes one [`Input`], skipped ones with the
//! reason. Only regular files are ever opened: a named pipe, socket or device is "not a
//! file" at once (opening a pipe would wait for a writer for ever).

use std::borrow::Cow;
use std::fs::FileType;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::email::{self, Envelope};
use crate::read::Limits;
use crate::validate::Finding;

/// A file found among the inputs, with the reason to skip it if there is one.
/// A workbook attached to an email carries its bytes and the message it came in.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The file, or for an attachment `<mailbox or .eml>#<message>/<file name>`.
    pub path: PathBuf,
    pub skip: Option<String>,
    /// Judged in the main process without a reader (an email's empty or oversized
    /// attachment, a message too big or too damaged to read): rejected with this finding.
    pub verdict: Option<Finding>,
    pub attachment: Option<Arc<Attachment>>,
    pub envelope: Option<Envelope>,
}

/// An email attachment's bytes. Kept in a temporary file (deleted when the last input
/// holding it goes), so a mailbox of hundreds of attachments does not live in memory;
/// in memory only when no temporary file can be made, and in a reader process.
#[derive(Debug)]
pub enum Attachment {
    Bytes(Vec<u8>),
    Spilled {
        file: tempfile::NamedTempFile,
        len: u64,
    },
}

impl Attachment {
    /// Keeps `bytes` on disk if it can.
    pub fn keep(bytes: Vec<u8>) -> Self {
        use std::io::Write;
        let spilled = tempfile::Builder::new()
            .prefix("ptk-attachment-")
            .tempfile()
            .and_then(|mut f| f.write_all(&bytes).map(|()| f));
        match spilled {
            Ok(file) => Attachment::Spilled {
                file,
                len: bytes.len() as u64,
            },
            Err(_) => Attachment::Bytes(bytes),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Attachment::Bytes(b) => b.len() as u64,
            Attachment::Spilled { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes (read back from the temporary file if kept there).
    pub fn bytes(&self) -> std::io::Result<Cow<'_, [u8]>> {
        match self {
            Attachment::Bytes(b) => Ok(Cow::Borrowed(b)),
            Attachment::Spilled { file, .. } => std::fs::read(file.path()).map(Cow::Owned),
        }
    }
}

/// File endings read as saved emails or mailboxes.
pub const MAIL_EXTENSIONS: [&str; 3] = ["eml", "mbox", "msg"];

/// File endings read as workbooks.
pub const WORKBOOK_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

fn skipped(path: &Path, why: impl Into<String>) -> Input {
    Input {
        path: path.to_path_buf(),
        skip: Some(why.into()),
        ..Input::default()
    }
}

/// Why an entry that is neither a folder nor a regular file is not read.
fn not_a_file(t: FileType) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let what = if t.is_fifo() {
            "a named pipe"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_block_device() || t.is_char_device() {
            "a device"
        } else {
            "a special entry"
        };
        format!("not a file ({what}), so not read: a return is an ordinary file")
    }
    #[cfg(not(unix))]
    {
        let _ = t;
        "not a file, so not read: a return is an ordinary file".into()
    }
}

/// Expands folders (recursively, in name order) into the files to ingest. Hidden
/// folders are not entered (reported as one skipped entry); links are not followed
/// anywhere below a folder named on the command line; nothing is dropped silently.
pub fn collect_inputs(paths: &[PathBuf], limits: &Limits) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}. Check the path of the returns folder or file.",
                crate::output::shown_path(p)
            )
        })?;
        if meta.is_file() {
            out.extend(classify(p, limits));
            continue;
        }
        if !meta.is_dir() {
            out.push(skipped(p, not_a_file(meta.file_type())));
            continue;
        }
        let mut it = walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone());
                    out.push(skipped(&path, format!("cannot be read: {e}")));
                    continue;
                }
            };
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            let t = entry.file_type();
            if t.is_dir() {
                if hidden {
                    out.push(skipped(entry.path(), "hidden folder: not looked into"));
                    it.skip_current_dir();
                }
                continue;
            }
            if t.is_symlink() {
                out.push(skipped(entry.path(), "a link, not a file: not followed"));
                continue;
            }
            if !t.is_file() {
                out.push(skipped(entry.path(), not_a_file(t)));
                continue;
            }
            if !hidden && email::in_maildir(entry.path()) {
                out.extend(email::expand_message_file(entry.path(), limits));
                continue;
            }
            if !hidden && email::is_apple_mailbox(entry.path()) {
                out.extend(email::expand(entry.path(), limits));
                continue;
            }
            out.extend(classify(entry.path(), limits));
        }
    }
    Ok(out)
}

fn classify(path: &Path, limits: &Limits) -> Vec<Input> {
    let ext0 = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let hidden0 = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    if MAIL_EXTENSIONS.contains(&ext0.as_str()) && !hidden0 {
        return email::expand(path, limits);
    }
    vec![classify_file(path)]
}

fn classify_file(path: &Path) -> Input {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let skip = if name.starts_with("~$") || name.starts_with(".~lock.") {
        Some("an Office lock file (left while the workbook is open), not a return".to_string())
    } else if name.starts_with('.') {
        Some("a hidden file, not a return".to_string())
    } else if !WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
        Some(format!(
            "not a workbook (ptk reads {}, and emails saved as .eml, .msg, .mbox or a maildir folder): if it is a return, save it as .xlsx",
            WORKBOOK_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
        ))
    } else {
        None
    };
    Input {
        path: path.to_path_buf(),
        skip,
        ..Input::default()
    }
}
