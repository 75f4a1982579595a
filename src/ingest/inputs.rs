//! Finding the inputs: folders walked in name order, saved emails unpacked (see
//! [`super::email`]); every entry found becomes one [`Input`], skipped ones with the
//! reason. Only regular files are ever opened: a named pipe, socket or device is "not a
//! file" at once (opening a pipe would wait for a writer for ever).

use std::fs::FileType;
use std::path::{Path, PathBuf};

use super::email;
use super::input::{Input, MAIL_EXTENSIONS, WORKBOOK_EXTENSIONS};
use crate::read::Limits;

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
