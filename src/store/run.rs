//! Writing one ingest run: files, returns, answers, scores and findings in one
//! transaction, then settling which return is current for each form.

use anyhow::Context;
use rusqlite::{params, Transaction};

use std::collections::HashMap;

use crate::register::Partnership;
use crate::template::Template;

use super::queries::stored_finding;
use super::*;

impl Store {
    /// Starts recording an ingest run. Everything written through the returned
    /// [`RunWriter`] is one transaction: nothing is kept unless [`RunWriter::commit`]
    /// commits, so a crash or kill leaves the store as it was. `fail_after` is a test
    /// hook that aborts the process part-way through, to prove exactly that.
    pub fn begin_run(
        &mut self,
        year: i32,
        started_at: &str,
        partnerships: &[Partnership],
        fail_after: Option<usize>,
    ) -> anyhow::Result<RunWriter<'_>> {
        self.backup_before_run()?;
        let (register, respondents) = self.run_sources.clone().unwrap_or_default();
        // The run writes each row just after the row it refers to, in this one
        // transaction, so SQLite's foreign-key checks (a look-up in the parent table
        // for every answer and finding: a tenth of the run's store work) can only
        // pass. They stay off for the rest of this process, which after a run only
        // reads, logs sends (no references) or undoes (which turns them off itself).
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let tx = self.conn.transaction()?;
        upsert_partnerships(&tx, partnerships)?;
        tx.execute(
            "INSERT INTO runs (started_at, year, ptk_version, files, summary, command, register, respondents)
             VALUES (?1, ?2, ?3, 0, '', ?4, ?5, ?6)",
            params![started_at, year, env!("CARGO_PKG_VERSION"), super::runs::command_line(), register, respondents],
        )?;
        let run_id = tx.last_insert_rowid();
        Ok(RunWriter {
            tx,
            run_id,
            year,
            replace_year: self.replace_year,
            changes: RunChanges::default(),
            _guard: crate::interrupt::RunGuard::new(),
            started_at: started_at.to_string(),
            fail_after,
            written: 0,
        })
    }
}

/// One ingest run being written (see [`Store::begin_run`]).
pub struct RunWriter<'c> {
    tx: Transaction<'c>,
    run_id: i64,
    year: i32,
    replace_year: Option<i32>,
    /// What the run left alone or replaced in other years, for its summary.
    changes: RunChanges,
    /// Ctrl-C asks this run to stop rather than killing the process (see `interrupt`).
    _guard: crate::interrupt::RunGuard,
    started_at: String,
    fail_after: Option<usize>,
    written: usize,
}

/// A return read in this run that lost to a later one for the same form.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    pub sha256: String,
    pub partnership_id: String,
    /// The file's status before it was found to be a duplicate.
    pub was: String,
    pub kept_path: String,
}

impl Duplicate {
    /// What the reports say about the duplicate.
    pub fn message(&self) -> String {
        format!(
            "another return for {} ({}) was issued or saved later and is used instead",
            self.partnership_id, self.kept_path
        )
    }
}

/// (partnership id in lower case, template id, year, respondent id in lower case): one
/// respondent's form.
type FormKey = (String, String, i32, String);

/// One of several returns for the same partnership, template and year.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub issued_at: String,
    pub modified: Option<i64>,
    pub path: String,
}

/// The return to keep among several for the same form: the one issued latest, then
/// saved latest, then last by path (so the choice never depends on timing).
pub fn newest(candidates: &[Candidate]) -> usize {
    (0..candidates.len())
        .max_by(|&a, &b| {
            let (x, y) = (&candidates[a], &candidates[b]);
            (&x.issued_at, x.modified, &x.path).cmp(&(&y.issued_at, y.modified, &y.path))
        })
        .unwrap_or(0)
}

impl RunWriter<'_> {
    /// Records one file (skipped and unchanged files leave no trace). An accepted
    /// return is stored as pending; [`RunWriter::settle`] decides which is current.
    pub fn write(&mut self, f: &FileRecord, modified: Option<i64>) -> anyhow::Result<()> {
        crate::interrupt::check()?;
        if let Some(ms) = std::env::var("PTK_TEST_SLOW_WRITES")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            // Test hook: time to press Ctrl-C in the middle of a run.
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        if self.fail_after == Some(self.written) {
            // Simulates a crash in the middle of the write: nothing is committed.
            std::process::abort();
        }
        self.written += 1;
        if f.status == "unchanged" || f.status == "skipped" {
            return Ok(());
        }
        if self.leaves_alone(f)? {
            return Ok(());
        }
        insert_file(&self.tx, f, self.run_id)?;
        if let Some(acc) = &f.accepted {
            insert_return(&self.tx, f, acc, &self.started_at, self.run_id, modified)?;
        }
        Ok(())
    }

    /// Whether this file must not be recorded, because it would change another year (a
    /// file an earlier run recorded for another year) or replace imported history,
    /// unless the officer named the year with `--replace-year`. Notes it for the summary.
    fn leaves_alone(&mut self, f: &FileRecord) -> anyhow::Result<bool> {
        let allowed = self.replace_year == Some(self.year);
        let recorded: Option<i32> = self
            .tx
            .prepare_cached(
                "SELECT r.year FROM files f JOIN runs r ON r.id = f.run_id WHERE f.sha256 = ?1",
            )?
            .query_row([&f.sha256], |r| r.get(0))
            .optional()?;
        if let Some(y) = recorded.filter(|&y| y != self.year) {
            if !(allowed && f.accepted.is_some()) {
                self.changes.other_year.push((f.path.clone(), y));
                return Ok(true);
            }
        }
        let (Some(_), Some(pid), Some(year)) = (&f.accepted, &f.partnership_id, f.year) else {
            return Ok(false);
        };
        let imported: bool = self
            .tx
            .prepare_cached(
                "SELECT COUNT(*) > 0 FROM history WHERE year = ?1 AND partnership_id = ?2",
            )?
            .query_row(params![year, pid], |r| r.get(0))?;
        if imported {
            let note = (pid.clone(), year, f.path.clone());
            if self.replace_year == Some(year) {
                self.changes.replaced_history.push(note);
            } else {
                self.changes.held_back.push(note);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Findings already stored for a file (for an unchanged one).
    pub fn findings_for(&self, sha256: &str) -> anyhow::Result<Vec<StoredFinding>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT f.path, COALESCE(f.partnership_id, ''), x.severity, x.code, x.sheet, x.cell, x.question_id, x.message
             FROM findings x JOIN files f ON f.sha256 = x.sha256 WHERE x.sha256 = ?1 ORDER BY x.seq",
        )?;
        let rows = stmt.query_map([sha256], stored_finding)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Settles this run's returns: among several for the same form the newest is kept
    /// and the others become duplicates; the kept one becomes current, replacing any
    /// earlier run's. Done in SQL over the whole run, so memory does not grow with the
    /// number of returns; only forms returned more than once are looked at one by one.
    pub fn settle(&mut self) -> anyhow::Result<(RunChanges, Vec<Duplicate>)> {
        let tx = &self.tx;
        let repeated: Vec<FormKey> = tx
            .prepare(
                "SELECT lower(partnership_id), template_id, year, lower(respondent_id) FROM returns WHERE run_id = ?1
                 GROUP BY lower(partnership_id), template_id, year, lower(respondent_id) HAVING COUNT(*) > 1
                 ORDER BY 1, 2, 3, 4",
            )?
            .query_map([self.run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let mut duplicates = Vec::new();
        for (pid, template_id, year, respondent) in &repeated {
            let members: Vec<(i64, String, Candidate)> = tx
                .prepare_cached(
                    "SELECT id, sha256, issued_at, modified, path FROM returns
                     WHERE run_id = ?1 AND lower(partnership_id) = ?2 AND template_id = ?3 AND year = ?4
                       AND lower(respondent_id) = ?5",
                )?
                .query_map(params![self.run_id, pid, template_id, year, respondent], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        Candidate {
                            issued_at: r.get(2)?,
                            modified: r.get(3)?,
                            path: r.get(4)?,
                        },
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let candidates: Vec<Candidate> = members.iter().map(|m| m.2.clone()).collect();
            let keep = newest(&candidates);
            let kept = &members[keep].2;
            for (_, (id, sha, _)) in members.iter().enumerate().filter(|(i, _)| *i != keep) {
                tx.prepare_cached("DELETE FROM answers WHERE return_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM scores WHERE return_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM returns WHERE id = ?1")?
                    .execute([id])?;
                let (partnership_id, was): (String, String) = tx.query_row(
                    "SELECT partnership_id, status FROM files WHERE sha256 = ?1",
                    [sha],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let dup = Duplicate {
                    sha256: sha.clone(),
                    partnership_id,
                    was,
                    kept_path: kept.path.clone(),
                };
                let message = dup.message();
                tx.execute(
                    "UPDATE files SET status = 'duplicate', message = ?2 WHERE sha256 = ?1",
                    params![sha, message],
                )?;
                tx.execute(
                    "INSERT INTO findings (sha256, seq, severity, code, sheet, cell, question_id, message)
                     VALUES (?1, (SELECT COUNT(*) FROM findings WHERE sha256 = ?1), 'warning', 'duplicate-return', '', '', '', ?2)",
                    params![sha, message],
                )?;
                duplicates.push(dup);
            }
        }
        // Now one return per form in this run. Those replacing an earlier current one:
        let replaced: Vec<(String, String, i32)> = tx
            .prepare(
                "SELECT r.partnership_id, r.template_id, r.year FROM returns r
                 JOIN returns p ON p.current = 1 AND p.partnership_id = r.partnership_id
                                AND p.template_id = r.template_id AND p.year = r.year
                                AND p.respondent_id = r.respondent_id
                 WHERE r.run_id = ?1 ORDER BY lower(r.partnership_id), r.template_id, r.year",
            )?
            .query_map([self.run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        tx.execute(
            "UPDATE returns SET current = 0, replaced_at = ?2,
                    replaced_by = (SELECT r.id FROM returns r WHERE r.run_id = ?1
                                   AND r.partnership_id = returns.partnership_id
                                   AND r.template_id = returns.template_id AND r.year = returns.year
                                   AND r.respondent_id = returns.respondent_id)
             WHERE current = 1 AND EXISTS (SELECT 1 FROM returns r WHERE r.run_id = ?1
                                   AND r.partnership_id = returns.partnership_id
                                   AND r.template_id = returns.template_id AND r.year = returns.year
                                   AND r.respondent_id = returns.respondent_id)",
            params![self.run_id, self.started_at],
        )?;
        tx.execute(
            "UPDATE returns SET current = 1 WHERE run_id = ?1",
            [self.run_id],
        )?;
        Ok((
            RunChanges {
                run_id: self.run_id,
                replaced,
                ..std::mem::take(&mut self.changes)
            },
            duplicates,
        ))
    }

    /// Rewrites the partnership results (see `results` in the schema) of every form this
    /// run stored a return for, from all the respondents' current returns: a single
    /// return's own score, or several scored together with `template(id, version)` (the
    /// newest version among those returns). Call after [`RunWriter::settle`]. A form with
    /// several returns whose template is unknown keeps no result. Returns the number of
    /// forms refreshed.
    pub fn refresh_results<'t>(
        &mut self,
        template: impl Fn(&str, u32) -> Option<&'t Template>,
    ) -> anyhow::Result<usize> {
        let tx = &self.tx;
        // The forms this run stored a return for, with how many current returns each has.
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS touched (
                 partnership_id TEXT NOT NULL, template_id TEXT NOT NULL, year INTEGER NOT NULL,
                 returns INTEGER NOT NULL, PRIMARY KEY (partnership_id, template_id, year)) WITHOUT ROWID;
             DELETE FROM touched;",
        )?;
        tx.execute(
            "INSERT INTO touched (partnership_id, template_id, year, returns)
             SELECT f.partnership_id, f.template_id, f.year,
                    (SELECT COUNT(*) FROM returns c WHERE c.current = 1 AND c.partnership_id = f.partnership_id
                       AND c.template_id = f.template_id AND c.year = f.year)
             FROM (SELECT DISTINCT partnership_id, template_id, year FROM returns WHERE run_id = ?1) f",
            [self.run_id],
        )?;
        // Most forms have one respondent's return, whose own score is the result (the
        // aggregate of one): copied in SQL, set-based, instead of re-read and re-scored.
        tx.execute_batch(&format!(
            "DELETE FROM result_scores WHERE EXISTS (SELECT 1 FROM touched t WHERE t.partnership_id = result_scores.partnership_id
                 AND t.template_id = result_scores.template_id AND t.year = result_scores.year);
             DELETE FROM results WHERE EXISTS (SELECT 1 FROM touched t WHERE t.partnership_id = results.partnership_id
                 AND t.template_id = results.template_id AND t.year = results.year);
             INSERT INTO results (template_id, year, partnership_id, respondents, overall, band, stage)
               SELECT r.template_id, r.year, r.partnership_id, 1, r.overall, r.band,
                      (SELECT NULLIF(TRIM(a.value), '') FROM answers a WHERE a.return_id = r.id AND a.question_id = '{stage}')
               FROM returns r JOIN touched t ON t.partnership_id = r.partnership_id AND t.template_id = r.template_id
                                            AND t.year = r.year
               WHERE r.current = 1 AND t.returns = 1;
             INSERT INTO result_scores (template_id, year, partnership_id, scope, percent, points, max_points)
               SELECT r.template_id, r.year, r.partnership_id, s.scope, s.percent, s.points, s.max_points
               FROM scores s JOIN returns r ON r.id = s.return_id
                             JOIN touched t ON t.partnership_id = r.partnership_id AND t.template_id = r.template_id
                                            AND t.year = r.year
               WHERE r.current = 1 AND t.returns = 1;",
            stage = crate::score::STAGE_QUESTION
        ))?;
        // Forms with several respondents' returns are scored together.
        let forms: Vec<(String, String, i32)> = tx
            .prepare(
                "SELECT partnership_id, template_id, year FROM touched WHERE returns > 1
                 ORDER BY 1, 2, 3",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (pid, tid, year) in &forms {
            let returns: Vec<(i64, u32)> = tx
                .prepare_cached(
                    "SELECT id, template_version FROM returns
                     WHERE partnership_id = ?1 AND template_id = ?2 AND year = ?3 AND current = 1
                     ORDER BY respondent_id = 'lead' DESC, respondent_id",
                )?
                .query_map(params![pid, tid, year], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let version = returns.iter().map(|r| r.1).max();
            let Some(t) = version.and_then(|v| template(tid, v)) else {
                continue;
            };
            let mut answers = tx.prepare_cached(
                "SELECT question_id, value, points FROM answers WHERE return_id = ?1",
            )?;
            let mut each: Vec<HashMap<String, (String, Option<f64>)>> = Vec::new();
            for (id, _) in &returns {
                each.push(
                    answers
                        .query_map([id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
                        .collect::<Result<_, _>>()?,
                );
            }
            let points: Vec<_> = each
                .iter()
                .map(|m| move |q: &str| m.get(q).and_then(|a| a.1))
                .collect();
            let refs: Vec<crate::score::PointsOf<'_>> = points
                .iter()
                .map(|f| f as crate::score::PointsOf<'_>)
                .collect();
            let agg = crate::score::aggregate(t, &refs);
            let stages: Vec<&str> = each
                .iter()
                .filter_map(|m| m.get(crate::score::STAGE_QUESTION).map(|a| a.0.as_str()))
                .collect();
            tx.prepare_cached(
                "INSERT INTO results (template_id, year, partnership_id, respondents, overall, band, stage)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                tid,
                year,
                pid,
                returns.len() as i64,
                agg.score.overall,
                agg.score.band,
                crate::score::most_common(&stages)
            ])?;
            let mut scores = tx.prepare_cached(
                "INSERT INTO result_scores (template_id, year, partnership_id, scope, percent, points, max_points)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for sec in &agg.score.sections {
                scores.execute(params![
                    tid,
                    year,
                    pid,
                    sec.section_id,
                    sec.percent,
                    sec.points,
                    sec.max_points
                ])?;
            }
            if t.is_scored() {
                let (pts, max) = agg
                    .score
                    .sections
                    .iter()
                    .fold((0.0, 0.0), |(p, m), s| (p + s.points, m + s.max_points));
                scores.execute(params![
                    tid,
                    year,
                    pid,
                    crate::score::OVERALL,
                    agg.score.overall,
                    pts,
                    max
                ])?;
            }
        }
        let refreshed: i64 = tx.query_row("SELECT COUNT(*) FROM touched", [], |r| r.get(0))?;
        Ok(refreshed as usize)
    }

    /// Records the run's summary and commits everything written.
    pub fn commit(self, files: usize, summary: &str) -> anyhow::Result<()> {
        crate::interrupt::check()?;
        self.tx.execute(
            "UPDATE runs SET files = ?1, summary = ?2 WHERE id = ?3",
            params![files as i64, summary, self.run_id],
        )?;
        self.tx
            .commit()
            .context("cannot save the run to the history store")
    }
}
fn upsert_partnerships(tx: &Transaction<'_>, partnerships: &[Partnership]) -> anyhow::Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO partnerships (id, name, category, lead_officer, email, assistant_director, assistant_director_email, priority, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category, lead_officer = excluded.lead_officer,
           email = excluded.email, assistant_director = excluded.assistant_director,
           assistant_director_email = excluded.assistant_director_email, priority = excluded.priority, status = excluded.status",
    )?;
    for p in partnerships {
        stmt.execute(params![
            p.id,
            p.name,
            p.category,
            p.lead_officer,
            p.email,
            p.assistant_director,
            p.assistant_director_email,
            p.priority.label(),
            p.status.as_str()
        ])?;
    }
    Ok(())
}

fn insert_file(tx: &Transaction<'_>, f: &FileRecord, run_id: i64) -> anyhow::Result<()> {
    // A file seen before with a different outcome (e.g. a new template fixed it) is re-recorded.
    tx.prepare_cached("DELETE FROM findings WHERE sha256 = ?1")?
        .execute([&f.sha256])?;
    tx.prepare_cached(
        "INSERT INTO files (sha256, path, status, partnership_id, template_id, template_version, year, issued_at, message, run_id, respondent_id, first_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10)
         ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, status = excluded.status, partnership_id = excluded.partnership_id,
           template_id = excluded.template_id, template_version = excluded.template_version, year = excluded.year,
           issued_at = excluded.issued_at, message = excluded.message, run_id = excluded.run_id,
           respondent_id = excluded.respondent_id",
    )?
    .execute(params![f.sha256, f.path, f.status, f.partnership_id, f.template_id, f.template_version, f.year, f.issued_at, f.message, run_id, f.respondent_id])?;
    // Findings, like answers, go in blocks of rows per statement.
    for (b, block) in f.findings.chunks(ROW_BLOCK).enumerate() {
        let mut stmt = tx.prepare_cached(&insert_rows_sql(
            "findings (sha256, seq, severity, code, sheet, cell, question_id, message)",
            8,
            block.len(),
        ))?;
        let mut i = 0;
        for (k, x) in block.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, &f.sha256)?;
            stmt.raw_bind_parameter(i + 2, (b * ROW_BLOCK + k) as i64)?;
            stmt.raw_bind_parameter(i + 3, x.severity.as_str())?;
            stmt.raw_bind_parameter(i + 4, x.code.as_str())?;
            stmt.raw_bind_parameter(i + 5, &x.sheet)?;
            stmt.raw_bind_parameter(i + 6, &x.cell)?;
            stmt.raw_bind_parameter(i + 7, &x.question_id)?;
            stmt.raw_bind_parameter(i + 8, &x.message)?;
            i += 8;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

/// Rows stored per INSERT statement (at most 8 parameters each: 1,024 parameters, far
/// under SQLite's limit of 32,766). A form's answers fit in one or two statements: one
/// statement step per block instead of per row.
const ROW_BLOCK: usize = 128;

/// `INSERT INTO <table_and_columns> VALUES (?,…), (?,…)` for `rows` rows of `columns`.
fn insert_rows_sql(table_and_columns: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    format!(
        "INSERT INTO {table_and_columns} VALUES {}",
        vec![row.as_str(); rows].join(",")
    )
}

/// Inserts an accepted return as pending (not yet current) for this run.
fn insert_return(
    tx: &Transaction<'_>,
    f: &FileRecord,
    acc: &AcceptedReturn,
    now: &str,
    run_id: i64,
    modified: Option<i64>,
) -> anyhow::Result<()> {
    let (Some(pid), Some(tid), Some(version), Some(year)) = (
        &f.partnership_id,
        &f.template_id,
        f.template_version,
        f.year,
    ) else {
        anyhow::bail!(
            "internal error: an accepted return without identification ({})",
            f.path
        );
    };
    let inserted = tx.prepare_cached(
        "INSERT OR IGNORE INTO returns (sha256, partnership_id, template_id, template_version, year, path, issued_at, ingested_at, status, overall, band, current, run_id, modified, respondent_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, ?14)",
    )?
    .execute(params![f.sha256, pid, tid, version, year, f.path, f.issued_at.clone().unwrap_or_default(), now, acc.status, acc.overall, acc.band, run_id, modified,
        f.respondent_id.as_deref().unwrap_or(crate::respondents::LEAD)])?;
    if inserted == 0 {
        return Ok(());
    }
    let id = tx.last_insert_rowid();
    // Answers go in blocks of rows per statement (storing answers is most of the
    // store's cost), in key order: each row then lands at the end of the table's
    // B-tree, so pages fill up in order instead of splitting in the middle.
    let mut answers: Vec<&(String, String, Option<f64>, String)> = acc.answers.iter().collect();
    answers.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for block in answers.chunks(ROW_BLOCK) {
        let mut stmt = tx.prepare_cached(&insert_rows_sql(
            "answers (return_id, question_id, value, points, evidence)",
            5,
            block.len(),
        ))?;
        let mut i = 0;
        for (q, v, p, e) in block.iter().copied() {
            stmt.raw_bind_parameter(i + 1, id)?;
            stmt.raw_bind_parameter(i + 2, q)?;
            stmt.raw_bind_parameter(i + 3, v)?;
            stmt.raw_bind_parameter(i + 4, p)?;
            stmt.raw_bind_parameter(i + 5, e)?;
            i += 5;
        }
        stmt.raw_execute()?;
    }
    for block in acc.scores.chunks(ROW_BLOCK) {
        let mut stmt = tx.prepare_cached(&insert_rows_sql(
            "scores (return_id, scope, percent, points, max_points)",
            5,
            block.len(),
        ))?;
        let mut i = 0;
        for (scope, pct, pts, max) in block {
            stmt.raw_bind_parameter(i + 1, id)?;
            stmt.raw_bind_parameter(i + 2, scope)?;
            stmt.raw_bind_parameter(i + 3, pct)?;
            stmt.raw_bind_parameter(i + 4, pts)?;
            stmt.raw_bind_parameter(i + 5, max)?;
            i += 5;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}
