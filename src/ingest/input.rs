//! One input: a file found, or a workbook attached to an email, with its bytes kept
//! out of memory; and the file endings read as workbooks or emails. The finding of
//! inputs ([`super::inputs`]) and the email readers ([`super::email`], [`super::msg`])
//! all use these, so they sit below them.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use super::envelope::Envelope;
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
