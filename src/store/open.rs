//! Telling a ptk store from anything else before writing a byte to it, creating one
//! only where no file exists, and plain words for SQLite's failures.
//!
//! A ptk store carries SQLite's `application_id` ([`APPLICATION_ID`]) and its schema
//! version in `user_version`. Stores written before they were marked (schema 1–3) are
//! known by their `meta` table and gain both marks when upgraded.

use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::schema::APPLICATION_ID;

/// Why an existing file is not opened as the store. Every case leaves it untouched.
#[derive(Debug, Clone, PartialEq)]
pub enum NotAStore {
    Empty,
    NotSqlite,
    Foreign,
    Newer(i64),
    Damaged(String),
}

impl NotAStore {
    pub fn message(&self, path: &Path) -> String {
        let p = path.display();
        match self {
            NotAStore::Empty => format!(
                "the history store {p} is an empty file (0 bytes), perhaps an interrupted copy or sync. ptk left it alone: put back the last good copy (see the backups in {p}.backups), or move the empty file away to start a new store"
            ),
            NotAStore::NotSqlite => format!(
                "{p} is not a ptk history store (it is not an SQLite database at all). ptk left it alone: check --store (or `store` in ptk.toml) names the right file"
            ),
            NotAStore::Foreign => format!(
                "{p} is an SQLite database of another program, not a ptk history store. ptk left it alone: check --store (or `store` in ptk.toml) names the right file"
            ),
            NotAStore::Newer(v) => format!(
                "the history store {p} was written by a newer ptk (store schema {v}; this ptk knows up to {}). ptk left it alone: use that newer version of ptk",
                super::schema::SCHEMA_VERSION
            ),
            NotAStore::Damaged(why) => format!(
                "the history store {p} is damaged ({why}). ptk left it alone: put back the last good copy (see the backups in {p}.backups)"
            ),
        }
    }
}

/// Checks an existing file is a ptk store this ptk can use, reading without writing.
pub(super) fn check_existing(path: &Path) -> Result<(), NotAStore> {
    let mut header = Vec::with_capacity(100);
    let read = std::fs::File::open(path).and_then(|f| f.take(100).read_to_end(&mut header));
    if let Err(e) = read {
        return Err(NotAStore::Damaged(format!("cannot read it: {e}")));
    }
    if header.is_empty() {
        return Err(NotAStore::Empty);
    }
    if header.len() < 100 || !header.starts_with(b"SQLite format 3\0") {
        return Err(NotAStore::NotSqlite);
    }
    let be = |at: usize| {
        i32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let (user_version, application_id) = (be(60) as i64, be(68));
    if application_id == APPLICATION_ID {
        return match user_version > super::schema::SCHEMA_VERSION {
            true => Err(NotAStore::Newer(user_version)),
            false => Ok(()),
        };
    }
    if application_id != 0 {
        return Err(NotAStore::Foreign);
    }
    // Unmarked: a store of schema 1–3 has a `meta` table naming its schema version.
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| NotAStore::Damaged(e.to_string()))?;
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .ok();
    match version.map(|v| v.parse::<i64>()) {
        None => Err(NotAStore::Foreign),
        Some(Ok(v)) if v > super::schema::SCHEMA_VERSION => Err(NotAStore::Newer(v)),
        Some(Ok(_)) => Ok(()),
        Some(Err(_)) => Err(NotAStore::Damaged(
            "its schema version is not a number".into(),
        )),
    }
}

/// Creates a new, marked, empty store at `path`, which must not exist: it is built
/// beside it under a temporary name and linked into place, so that nothing that
/// appeared at `path` meanwhile is overwritten and a crash never leaves a half-made store.
pub(super) fn create(path: &Path) -> anyhow::Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.new-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let made = (|| -> anyhow::Result<()> {
        let conn = Connection::open(&tmp)?;
        conn.execute_batch(&format!(
            "BEGIN;{}\nINSERT INTO meta (key, value) VALUES ('schema_version', '{v}');\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {v};\nCOMMIT;",
            super::schema::SCHEMA,
            v = super::schema::SCHEMA_VERSION
        ))?;
        drop(conn);
        std::fs::hard_link(&tmp, path)?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    made.map_err(|e| {
        anyhow::anyhow!(plain(path, &e)
            .unwrap_or_else(|| format!("cannot create the history store {}: {e}", path.display())))
    })
}

/// Plain words for SQLite's failures that an officer can act on (read-only, disk full,
/// locked by another run, damaged), if `e` is one of them.
pub fn plain(path: &Path, e: &anyhow::Error) -> Option<String> {
    let p = path.display();
    let code = e
        .chain()
        .find_map(|c| match c.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(f, _)) => Some(f.code),
            _ => c
                .downcast_ref::<std::io::Error>()
                .and_then(|io| match io.raw_os_error() {
                    Some(28) => Some(ErrorCode::DiskFull),
                    Some(30) | Some(13) => Some(ErrorCode::ReadOnly),
                    _ => None,
                }),
        })?;
    Some(match code {
        ErrorCode::ReadOnly | ErrorCode::PermissionDenied => format!(
            "the history store {p} is read-only (or its folder is): ptk could not save this run. Nothing was changed; make the file and its folder writable (or copy them somewhere you can write) and run the same command again"
        ),
        ErrorCode::DiskFull => format!(
            "the disk holding the history store {p} is full: ptk could not save this run. Nothing was changed; free some space and run the same command again"
        ),
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => format!(
            "the history store {p} is in use by another ptk run (or another program): wait for it to finish and run the same command again"
        ),
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => NotAStore::Damaged("SQLite reports it as corrupt".into()).message(path),
        ErrorCode::CannotOpen => format!(
            "cannot open the history store {p}: check the file and its folder exist and you may write to them"
        ),
        _ => return None,
    })
}
