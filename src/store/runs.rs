//! The runs that wrote to the store, the backup taken before each, and undoing them.
//!
//! Before every writing run (an ingest, a history import) the store is copied with
//! `VACUUM INTO` to `<store>.backups/before-run-<N>.db`; the last [`BACKUPS_KEPT`] are
//! kept. `ptk runs undo N` puts back, from the copy taken before run N, the tables that
//! runs write ([`RUN_TABLES`]): run N and every later run are gone, exactly. What is not a
//! run's is kept: the mail log (`sends`: mail really sent stays sent, or undo would send it
//! again) and any other table (issued forms…). The undo itself is preceded by a copy
//! (`before-undo-<N>-<time>.db`), so even an undo can be reversed by hand.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::params;

use super::*;

/// How many pre-run copies are kept (older ones are deleted).
pub const BACKUPS_KEPT: usize = 10;

/// The tables a run writes, in an order that satisfies their references when filled.
const RUN_TABLES: &[&str] = &[
    "partnerships",
    "runs",
    "files",
    "findings",
    "returns",
    "answers",
    "scores",
    "results",
    "result_scores",
    "history",
];

/// One run, as `ptk runs` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub id: i64,
    pub started_at: String,
    /// 0 for a history import (it may hold several years).
    pub year: i32,
    pub command: String,
    pub files: i64,
    /// What the run said when it finished ("22 files: 12 accepted, 7 rejected, …"),
    /// recorded then: a file read again by a later run is that run's too.
    pub summary: String,
    /// "HOU07 self-assessment 2026": earlier returns a return of this run replaced.
    pub replaced: Vec<String>,
}

impl RunInfo {
    /// One line for `ptk runs` and for what an undo removed.
    pub fn line(&self) -> String {
        let year = match self.year {
            0 => "history".to_string(),
            y => y.to_string(),
        };
        let replaced = if self.replaced.is_empty() {
            String::new()
        } else {
            format!("; replaced {}", self.replaced.join(", "))
        };
        let what = match self.summary.trim() {
            "" => format!("{} file(s)", self.files),
            s => s.trim_end_matches('.').to_string(),
        };
        format!(
            "run {}  {}  {year}  {what}{replaced}  ({})",
            self.id, self.started_at, self.command
        )
    }
}

/// The command line of this process, as the runs list shows it.
pub(super) fn command_line() -> String {
    let mut words = vec!["ptk".to_string()];
    // A returns folder named in Latin-1 is a valid argument: recorded lossily, never a panic.
    words.extend(
        std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned()),
    );
    words.join(" ")
}

impl Store {
    /// The folder of this store's pre-run copies.
    pub fn backups_dir(&self) -> PathBuf {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        self.path.with_file_name(format!("{name}.backups"))
    }

    /// Copies the store to `before-run-<next run>.db` (called before a writing run starts)
    /// and deletes all but the newest [`BACKUPS_KEPT`] copies.
    pub(super) fn backup_before_run(&self) -> anyhow::Result<()> {
        let next: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM runs", [], |r| {
                    r.get(0)
                })?;
        let dir = self.backups_dir();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the backups folder {}", dir.display()))?;
        self.copy_to(&dir.join(format!("before-run-{next}.db")))?;
        let mut kept: Vec<(i64, PathBuf)> = std::fs::read_dir(&dir)?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name
                    .strip_prefix("before-run-")?
                    .strip_suffix(".db")?
                    .parse()
                    .ok()?;
                Some((n, e.path()))
            })
            .collect();
        kept.sort();
        let surplus = kept.len().saturating_sub(BACKUPS_KEPT);
        for (_, old) in &kept[..surplus] {
            let _ = std::fs::remove_file(old);
        }
        Ok(())
    }

    /// A consistent copy of the store (`VACUUM INTO`), replacing any file at `to`.
    fn copy_to(&self, to: &Path) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(to);
        self.conn
            .execute("VACUUM INTO ?1", [to.to_string_lossy()])
            .with_context(|| format!("cannot copy the history store to {}", to.display()))?;
        Ok(())
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> anyhow::Result<Vec<RunInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.started_at, r.year, r.command, r.files, r.summary
             FROM runs r ORDER BY r.id",
        )?;
        let mut runs: Vec<RunInfo> = stmt
            .query_map([], |r| {
                Ok(RunInfo {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    year: r.get(2)?,
                    command: r.get(3)?,
                    files: r.get(4)?,
                    summary: r.get(5)?,
                    replaced: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut replaced = self.conn.prepare(
            "SELECT old.partnership_id || ' ' || old.template_id || ' ' || old.year
                    || CASE WHEN old.respondent_id = 'lead' THEN '' ELSE ' (' || old.respondent_id || ')' END
             FROM returns old JOIN returns new ON new.id = old.replaced_by
             WHERE new.run_id = ?1 ORDER BY 1",
        )?;
        for run in &mut runs {
            run.replaced = replaced
                .query_map([run.id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
        }
        Ok(runs)
    }

    /// Undoes run `id` and every run after it from the copy taken before it; returns the
    /// runs removed. The mail log and any table no run writes are kept as they are.
    pub fn undo_runs_from(&mut self, id: i64) -> anyhow::Result<Vec<RunInfo>> {
        let runs = self.runs()?;
        let removed: Vec<RunInfo> = runs.into_iter().filter(|r| r.id >= id).collect();
        if removed.first().map(|r| r.id) != Some(id) {
            anyhow::bail!(
                "there is no run {id} in {}; `ptk runs` lists them",
                self.path.display()
            );
        }
        let backup = self.backups_dir().join(format!("before-run-{id}.db"));
        if !backup.exists() {
            anyhow::bail!(
                "the copy of the store from before run {id} is no longer kept ({} keeps the copies from before the last {BACKUPS_KEPT} runs), so run {id} cannot be undone; a later run can",
                self.backups_dir().display()
            );
        }
        open::check_existing(&backup).map_err(|n| anyhow::anyhow!(n.message(&backup)))?;
        let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
        self.copy_to(
            &self
                .backups_dir()
                .join(format!("before-undo-{id}-{stamp}.db")),
        )?;
        self.conn
            .execute("ATTACH DATABASE ?1 AS before", [backup.to_string_lossy()])?;
        let restored = (|| -> anyhow::Result<()> {
            self.conn.pragma_update(None, "foreign_keys", "OFF")?;
            let tx = self.conn.transaction()?;
            for t in RUN_TABLES.iter().rev() {
                tx.execute(&format!("DELETE FROM main.{t}"), [])?;
            }
            for t in RUN_TABLES {
                let columns: Vec<String> = tx
                    .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let columns = columns.join(", ");
                tx.execute(
                    &format!("INSERT INTO main.{t} ({columns}) SELECT {columns} FROM before.{t}"),
                    [],
                )?;
            }
            tx.commit()?;
            Ok(())
        })();
        let _ = self.conn.pragma_update(None, "foreign_keys", "ON");
        let _ = self.conn.execute("DETACH DATABASE before", params![]);
        restored.with_context(|| format!("cannot undo run {id}; the store is as it was"))?;
        // The copies from before the undone runs are of a history that no longer is.
        for r in &removed {
            if r.id > id {
                let _ = std::fs::remove_file(
                    self.backups_dir().join(format!("before-run-{}.db", r.id)),
                );
            }
        }
        Ok(removed)
    }
}
