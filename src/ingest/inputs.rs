//! Finding the inputs: folders walked in name order, saved emails unpacked (see
//! [`super::email`]); every file found becomes one [`Input`], skipped ones with the reason.

use std::path::{Path, PathBuf};

use super::email::{self, Envelope};
use crate::read::Limits;

/// A file found among the inputs, with the reason to skip it if there is one.
/// A workbook attached to an email carries its bytes and the message it came in.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The file, or for an attachment `<mailbox or .eml>#<message>/<file name>`.
    pub path: PathBuf,
    pub skip: Option<String>,
    pub attachment: Option<std::sync::Arc<Vec<u8>>>,
    pub envelope: Option<Envelope>,
}

/// File endings read as saved emails or mailboxes.
pub const MAIL_EXTENSIONS: [&str; 3] = ["eml", "mbox", "msg"];

/// File endings read as workbooks.
pub const WORKBOOK_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Expands folders (recursively, in name order) into the files to ingest. Hidden
/// folders are not entered (reported as one skipped entry); nothing is dropped silently.
pub fn collect_inputs(paths: &[PathBuf], limits: &Limits) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    let skipped = |path: &Path, why: String| Input {
        path: path.to_path_buf(),
        skip: Some(why),
        ..Input::default()
    };
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}. Check the path of the returns folder or file.",
                p.display()
            )
        })?;
        if meta.is_file() {
            out.extend(classify(p, limits));
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
            if entry.file_type().is_dir() {
                if hidden {
                    out.push(skipped(
                        entry.path(),
                        "hidden folder: not looked into".into(),
                    ));
                    it.skip_current_dir();
                } else if email::is_maildir(entry.path()) {
                    out.extend(email::expand(entry.path(), limits));
                    it.skip_current_dir();
                }
                continue;
            }
            if entry.file_type().is_symlink() {
                out.push(skipped(
                    entry.path(),
                    "a link, not a file: not followed".into(),
                ));
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
