//! The history store: an embedded SQLite database holding every partnership, every
//! file ever ingested (so unchanged files are skipped by hash), the accepted returns
//! with their answers and scores, the findings, and imported earlier-year scores.
//!
//! One ingest run is one transaction: a crash or kill leaves the store as it was.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::register::Partnership;
use crate::score::PriorScore;

/// Raised whenever the schema changes; an older store is upgraded on open.
const SCHEMA_VERSION: i64 = 2;

/// Every score the store holds for a scored template (`?1`): imported history, except
/// where a current return gives the same year, partnership and scope, plus those returns.
const MERGED_HISTORY: &str = "
    SELECT h.year, h.partnership_id, h.scope, h.percent FROM history h
    WHERE NOT EXISTS (SELECT 1 FROM returns r JOIN scores s ON s.return_id = r.id
                      WHERE r.current = 1 AND r.template_id = ?1 AND r.year = h.year
                        AND r.partnership_id = h.partnership_id AND s.scope = h.scope AND s.percent IS NOT NULL)
    UNION ALL
    SELECT r.year, r.partnership_id, s.scope, s.percent FROM scores s JOIN returns r ON r.id = s.return_id
    WHERE r.current = 1 AND r.template_id = ?1 AND s.percent IS NOT NULL";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partnerships (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    lead_officer TEXT NOT NULL,
    email TEXT NOT NULL,
    assistant_director TEXT NOT NULL,
    assistant_director_email TEXT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    year INTEGER NOT NULL,
    ptk_version TEXT NOT NULL,
    files INTEGER NOT NULL,
    summary TEXT NOT NULL
);
-- Every file ingested, accepted or not, by content hash.
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    partnership_id TEXT,
    template_id TEXT,
    template_version INTEGER,
    year INTEGER,
    issued_at TEXT,
    message TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id)
);
CREATE TABLE IF NOT EXISTS findings (
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL,
    code TEXT NOT NULL,
    sheet TEXT NOT NULL,
    cell TEXT NOT NULL,
    question_id TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (sha256, seq)
) WITHOUT ROWID;
-- Accepted returns. Exactly one is current per partnership, template and year;
-- a corrected return replaces the earlier one, which keeps replaced_by.
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE REFERENCES files(sha256),
    partnership_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    year INTEGER NOT NULL,
    path TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    overall REAL,
    band TEXT,
    current INTEGER NOT NULL,
    replaced_by INTEGER REFERENCES returns(id),
    replaced_at TEXT,
    -- The run that read it, and the file's modification time (ns since 1970), to
    -- choose between two returns for the same form in one run.
    run_id INTEGER NOT NULL REFERENCES runs(id),
    modified INTEGER
);
CREATE INDEX IF NOT EXISTS returns_run ON returns (run_id);
CREATE INDEX IF NOT EXISTS returns_key ON returns (partnership_id, template_id, year, current);
CREATE TABLE IF NOT EXISTS answers (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    points REAL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (return_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scores (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    scope TEXT NOT NULL,
    percent REAL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (return_id, scope)
) WITHOUT ROWID;
-- Every email ptk sent or tried to send; `key` identifies the message so a re-run never
-- sends it twice. Written one row at a time, as each message goes.
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    partnership_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    template_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    transport TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sends_key ON sends (key, result);
-- Earlier years' scores loaded with `ptk history import`.
CREATE TABLE IF NOT EXISTS history (
    year INTEGER NOT NULL,
    partnership_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    percent REAL NOT NULL,
    PRIMARY KEY (year, partnership_id, scope)
);
"#;

pub struct Store {
    conn: Connection,
    pub path: PathBuf,
}

/// What the store knows of a file seen before.
#[derive(Debug, Clone)]
pub struct SeenFile {
    pub status: String,
    pub path: String,
    pub partnership_id: Option<String>,
    pub template_id: Option<String>,
    pub template_version: Option<u32>,
    pub year: Option<i32>,
    pub message: String,
}

/// A finding as stored and reported.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    pub path: String,
    pub partnership_id: String,
    pub severity: String,
    pub code: String,
    pub sheet: String,
    pub cell: String,
    pub question_id: String,
    pub message: String,
}

/// One file's outcome, as the store records it.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub sha256: String,
    pub path: String,
    pub status: String,
    pub partnership_id: Option<String>,
    pub template_id: Option<String>,
    pub template_version: Option<u32>,
    pub year: Option<i32>,
    pub issued_at: Option<String>,
    pub message: String,
    pub findings: Vec<crate::validate::Finding>,
    /// Present for accepted returns.
    pub accepted: Option<AcceptedReturn>,
}

#[derive(Debug, Clone)]
pub struct AcceptedReturn {
    pub status: String,
    pub overall: Option<f64>,
    pub band: Option<String>,
    /// (question id, value, points, evidence)
    pub answers: Vec<(String, String, Option<f64>, String)>,
    /// (scope, percent, points, max points)
    pub scores: Vec<(String, Option<f64>, f64, f64)>,
}

/// A current return with its answers (question id → value, points, evidence) and
/// scores (scope → percent).
#[derive(Debug, Clone)]
pub struct ReturnRow {
    pub id: i64,
    pub partnership_id: String,
    pub template_version: u32,
    pub path: String,
    pub status: String,
    pub overall: Option<f64>,
    pub band: Option<String>,
    pub answers: BTreeMap<String, (String, Option<f64>, String)>,
    pub scores: BTreeMap<String, f64>,
}

/// A current return of the scored form, as the review shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoredReturn {
    pub overall: Option<f64>,
    pub band: Option<String>,
    /// The answer to the life-cycle stage question, if given.
    pub stage: Option<String>,
    /// (section id, percent) for the sections that have one, by section id.
    pub sections: Vec<(String, f64)>,
}

/// One email send attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRecord {
    pub key: String,
    pub kind: String,
    pub message_id: String,
    pub partnership_id: String,
    pub recipient: String,
    pub template_id: String,
    pub year: i32,
    pub file_sha256: String,
    pub sent_at: String,
    pub transport: String,
    /// `sent`, or `failed: <reason>`.
    pub result: String,
}

/// A question's average points (over scored answers) and how many gave each answer.
pub type QuestionStat = (Option<f64>, BTreeMap<String, usize>);

/// A row of the long history format: year, partnership, section or `overall`, percent.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub year: i32,
    pub partnership_id: String,
    pub scope: String,
    pub percent: f64,
}

/// What a run changed, for its summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunChanges {
    pub run_id: i64,
    /// (partnership, template, year) of returns that replaced an earlier one.
    pub replaced: Vec<(String, String, i32)>,
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the folder {} for the store", dir.display())
            })?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the history store {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            .with_context(|| {
                format!(
                    "{} is not a ptk history store (or is damaged)",
                    path.display()
                )
            })?;
        conn.execute_batch(SCHEMA).with_context(|| {
            format!(
                "{} is not a ptk history store (or is damaged)",
                path.display()
            )
        })?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match version.as_deref().map(str::parse::<i64>) {
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?1)", [SCHEMA_VERSION.to_string()])?;
            }
            Some(Ok(v)) if v == SCHEMA_VERSION => {}
            Some(Ok(1)) => upgrade_from_v1(&conn).with_context(|| {
                format!("cannot upgrade the history store {}", path.display())
            })?,
            Some(Ok(v)) if v > SCHEMA_VERSION => anyhow::bail!(
                "the history store {} was written by a newer ptk (schema {v}); use that version of ptk",
                path.display()
            ),
            Some(_) => anyhow::bail!("the history store {} has an unknown schema version", path.display()),
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The files an ingest skips as unchanged, by content hash: every file seen before
    /// except the rejected ones. A rejected file is read again on every run, because what
    /// rejected it may since have been fixed outside the file (a partnership added to the
    /// register, a template version restored, the right --year).
    pub fn settled_files(&self) -> anyhow::Result<HashMap<String, SeenFile>> {
        let mut stmt = self.conn.prepare(
            "SELECT sha256, status, path, partnership_id, template_id, template_version, year, message FROM files
             WHERE status != 'rejected'",
        )?;
        let rows = stmt.query_map([], seen_file)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Findings stored for a file.
    pub fn findings_for(&self, sha256: &str) -> anyhow::Result<Vec<StoredFinding>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.path, COALESCE(f.partnership_id, ''), x.severity, x.code, x.sheet, x.cell, x.question_id, x.message
             FROM findings x JOIN files f ON f.sha256 = x.sha256 WHERE x.sha256 = ?1 ORDER BY x.seq",
        )?;
        let rows = stmt.query_map([sha256], stored_finding)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

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
        let tx = self.conn.transaction()?;
        upsert_partnerships(&tx, partnerships)?;
        tx.execute(
            "INSERT INTO runs (started_at, year, ptk_version, files, summary) VALUES (?1, ?2, ?3, 0, '')",
            params![started_at, year, env!("CARGO_PKG_VERSION")],
        )?;
        let run_id = tx.last_insert_rowid();
        Ok(RunWriter {
            tx,
            run_id,
            started_at: started_at.to_string(),
            fail_after,
            written: 0,
        })
    }

    /// Loads earlier years' scores; a row for the same year, partnership and scope
    /// replaces the one stored. One transaction.
    pub fn import_history(&mut self, rows: &[HistoryRow]) -> anyhow::Result<usize> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO history (year, partnership_id, scope, percent) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (year, partnership_id, scope) DO UPDATE SET percent = excluded.percent",
            )?;
            for r in rows {
                stmt.execute(params![r.year, r.partnership_id, r.scope, r.percent])?;
            }
        }
        tx.commit()?;
        Ok(rows.len())
    }

    /// Every score the store holds, in the long history format: current returns of
    /// scored templates first, then imported history for what returns do not cover.
    /// Sorted by year, partnership, then `overall` after the sections.
    pub fn history(&self, template_id: &str) -> anyhow::Result<Vec<HistoryRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT year, partnership_id, scope, percent FROM ({MERGED_HISTORY})
             ORDER BY year, partnership_id, scope = 'overall', scope"
        ))?;
        let rows = stmt.query_map([template_id], |r| {
            Ok(HistoryRow {
                year: r.get(0)?,
                partnership_id: r.get(1)?,
                scope: r.get(2)?,
                percent: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Overall % by partnership and year (the merged history of [`Store::history`]).
    pub fn overall_by_year(
        &self,
        template_id: &str,
    ) -> anyhow::Result<BTreeMap<String, BTreeMap<i32, f64>>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT partnership_id, year, percent FROM ({MERGED_HISTORY}) WHERE scope = 'overall'"
        ))?;
        let mut out: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
        for row in stmt.query_map([template_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i32>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })? {
            let (p, y, v) = row?;
            out.entry(p).or_default().insert(y, v);
        }
        Ok(out)
    }

    /// Average section % by (year, section) over all partnerships, from the merged history.
    pub fn section_averages(
        &self,
        template_id: &str,
    ) -> anyhow::Result<BTreeMap<(i32, String), f64>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT year, scope, AVG(percent) FROM ({MERGED_HISTORY}) WHERE scope != 'overall' GROUP BY year, scope"
        ))?;
        let rows = stmt.query_map([template_id], |r| {
            Ok((
                (r.get::<_, i32>(0)?, r.get::<_, String>(1)?),
                r.get::<_, f64>(2)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Earlier scores per partnership, before `year`, for the reference table on issued forms.
    pub fn prior_scores(
        &self,
        template_id: &str,
        year: i32,
    ) -> anyhow::Result<HashMap<String, Vec<PriorScore>>> {
        let mut out: HashMap<String, Vec<PriorScore>> = HashMap::new();
        for r in self
            .history(template_id)?
            .into_iter()
            .filter(|r| r.year < year)
        {
            out.entry(r.partnership_id).or_default().push(PriorScore {
                year: r.year,
                scope: r.scope,
                percent: r.percent,
            });
        }
        Ok(out)
    }

    /// The current returns of the scored form, by partnership id, as the review shows
    /// them: scores and the answer to `stage_question` only, in compact form (a review
    /// of thousands of partnerships holds one of these for each).
    pub fn scored_returns(
        &self,
        year: i32,
        template_id: &str,
        stage_question: &str,
    ) -> anyhow::Result<HashMap<String, ScoredReturn>> {
        let mut out = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, r.overall, r.band,
                    (SELECT a.value FROM answers a WHERE a.return_id = r.id AND a.question_id = ?3)
             FROM returns r WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1",
        )?;
        let rows = stmt.query_map(params![year, template_id, stage_question], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ScoredReturn {
                    overall: r.get(1)?,
                    band: r.get(2)?,
                    stage: r.get::<_, Option<String>>(3)?.filter(|s| !s.is_empty()),
                    sections: Vec::new(),
                },
            ))
        })?;
        for row in rows {
            let (pid, ret) = row?;
            out.insert(pid, ret);
        }
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, s.scope, s.percent FROM scores s JOIN returns r ON r.id = s.return_id
             WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1 AND s.percent IS NOT NULL AND s.scope != ?3
             ORDER BY r.partnership_id, s.scope",
        )?;
        let rows = stmt.query_map(params![year, template_id, crate::score::OVERALL], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        for row in rows {
            let (pid, scope, pct) = row?;
            if let Some(ret) = out.get_mut(&pid) {
                ret.sections.push((scope, pct));
            }
        }
        Ok(out)
    }

    /// The current (accepted, not replaced) returns of a year, by partnership id, with
    /// every answer and score.
    pub fn current_returns(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<BTreeMap<String, ReturnRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, partnership_id, template_version, path, status, overall, band FROM returns
             WHERE year = ?1 AND template_id = ?2 AND current = 1",
        )?;
        let rows = stmt.query_map(params![year, template_id], |r| {
            Ok(ReturnRow {
                id: r.get(0)?,
                partnership_id: r.get(1)?,
                template_version: r.get(2)?,
                path: r.get(3)?,
                status: r.get(4)?,
                overall: r.get(5)?,
                band: r.get(6)?,
                answers: BTreeMap::new(),
                scores: BTreeMap::new(),
            })
        })?;
        let mut out: BTreeMap<String, ReturnRow> = BTreeMap::new();
        for r in rows {
            let r = r?;
            out.insert(r.partnership_id.clone(), r);
        }
        let mut answers = self.conn.prepare_cached(
            "SELECT question_id, value, points, evidence FROM answers WHERE return_id = ?1",
        )?;
        let mut scores = self
            .conn
            .prepare_cached("SELECT scope, percent FROM scores WHERE return_id = ?1")?;
        type Answer = (String, (String, Option<f64>, String));
        let row = |x: &rusqlite::Row<'_>| -> rusqlite::Result<Answer> {
            Ok((x.get(0)?, (x.get(1)?, x.get(2)?, x.get(3)?)))
        };
        for r in out.values_mut() {
            for a in answers.query_map([r.id], row)? {
                let (q, a) = a?;
                r.answers.insert(q, a);
            }
            for sc in scores.query_map([r.id], |x| {
                Ok((x.get::<_, String>(0)?, x.get::<_, Option<f64>>(1)?))
            })? {
                let (scope, pct) = sc?;
                if let Some(pct) = pct {
                    r.scores.insert(scope, pct);
                }
            }
        }
        Ok(out)
    }

    /// Per scored question of the current returns of a year: (average points over the
    /// answers that scored, and how many returns gave each answer).
    pub fn question_stats(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<BTreeMap<String, QuestionStat>> {
        let mut out: BTreeMap<String, QuestionStat> = BTreeMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT a.question_id, a.value, COUNT(*), AVG(a.points) FROM answers a JOIN returns r ON r.id = a.return_id
             WHERE r.current = 1 AND r.year = ?1 AND r.template_id = ?2 GROUP BY a.question_id, a.value",
        )?;
        let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        let rows = stmt.query_map(params![year, template_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<f64>>(3)?,
            ))
        })?;
        for row in rows {
            let (q, value, n, avg) = row?;
            let e = out.entry(q.clone()).or_default();
            e.1.insert(value, n as usize);
            if let Some(avg) = avg {
                let s = sums.entry(q).or_default();
                s.0 += avg * n as f64;
                s.1 += n as usize;
            }
        }
        for (q, (sum, n)) in sums {
            if let Some(e) = out.get_mut(&q) {
                e.0 = (n > 0).then(|| sum / n as f64);
            }
        }
        Ok(out)
    }

    /// Files ingested for a review year that were rejected (including a form for the
    /// wrong year) and not since superseded by an accepted return for the same
    /// partnership and template, newest first.
    pub fn rejected_files(&self, year: i32) -> anyhow::Result<Vec<(String, SeenFile)>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.sha256, f.status, f.path, f.partnership_id, f.template_id, f.template_version, f.year, f.message
             FROM files f JOIN runs u ON u.id = f.run_id
             WHERE u.year = ?1 AND f.status = 'rejected' AND f.partnership_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.current = 1 AND r.year = u.year
                             AND r.partnership_id = f.partnership_id AND r.template_id = f.template_id)
             ORDER BY f.run_id DESC, f.path",
        )?;
        let rows = stmt.query_map([year], seen_file)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every finding of the files ingested by runs for `year`, in path order.
    pub fn findings_for_year(&self, year: i32) -> anyhow::Result<Vec<StoredFinding>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.path, COALESCE(f.partnership_id, ''), x.severity, x.code, x.sheet, x.cell, x.question_id, x.message
             FROM findings x JOIN files f ON f.sha256 = x.sha256 JOIN runs r ON r.id = f.run_id
             WHERE r.year = ?1 ORDER BY f.path, x.seq",
        )?;
        let rows = stmt.query_map([year], stored_finding)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Facts about the runs of a year: (runs, files recorded, latest run start).
    pub fn runs_for_year(&self, year: i32) -> anyhow::Result<(i64, i64, Option<String>)> {
        let (runs, latest): (i64, Option<String>) = self.conn.query_row(
            "SELECT COUNT(*), MAX(started_at) FROM runs WHERE year = ?1",
            [year],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let files: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM files f JOIN runs r ON r.id = f.run_id WHERE r.year = ?1",
            [year],
            |r| r.get(0),
        )?;
        Ok((runs, files, latest))
    }

    /// Whether a message with this key was sent successfully before.
    pub fn was_sent(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM sends WHERE key = ?1 AND result = 'sent' LIMIT 1",
                [key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Records one send attempt at once (its own transaction), so a failure part-way
    /// through a batch leaves an exact record of who got what.
    pub fn record_send(&self, s: &SendRecord) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO sends (key, kind, message_id, partnership_id, recipient, template_id, year, file_sha256, sent_at, transport, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![s.key, s.kind, s.message_id, s.partnership_id, s.recipient, s.template_id, s.year, s.file_sha256, s.sent_at, s.transport, s.result],
        )?;
        Ok(())
    }

    /// Every send attempt, oldest first.
    pub fn sends(&self) -> anyhow::Result<Vec<SendRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT key, kind, message_id, partnership_id, recipient, template_id, year, file_sha256, sent_at, transport, result FROM sends ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SendRecord {
                key: r.get(0)?,
                kind: r.get(1)?,
                message_id: r.get(2)?,
                partnership_id: r.get(3)?,
                recipient: r.get(4)?,
                template_id: r.get(5)?,
                year: r.get(6)?,
                file_sha256: r.get(7)?,
                sent_at: r.get(8)?,
                transport: r.get(9)?,
                result: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The path and hash of the newest rejected file for a partnership, template and year.
    pub fn rejected_file(
        &self,
        partnership_id: &str,
        template_id: &str,
        year: i32,
    ) -> anyhow::Result<Option<(String, String)>> {
        Ok(self
            .rejected_files(year)?
            .into_iter()
            .find(|(_, f)| {
                f.partnership_id.as_deref() == Some(partnership_id)
                    && f.template_id.as_deref() == Some(template_id)
            })
            .map(|(sha, f)| (f.path, sha)))
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// One ingest run being written (see [`Store::begin_run`]).
pub struct RunWriter<'c> {
    tx: Transaction<'c>,
    run_id: i64,
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

/// (partnership id in lower case, template id, year): one form.
type FormKey = (String, String, i32);

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
        if self.fail_after == Some(self.written) {
            // Simulates a crash in the middle of the write: nothing is committed.
            std::process::abort();
        }
        self.written += 1;
        if f.status == "unchanged" || f.status == "skipped" {
            return Ok(());
        }
        insert_file(&self.tx, f, self.run_id)?;
        if let Some(acc) = &f.accepted {
            insert_return(&self.tx, f, acc, &self.started_at, self.run_id, modified)?;
        }
        Ok(())
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
                "SELECT lower(partnership_id), template_id, year FROM returns WHERE run_id = ?1
                 GROUP BY lower(partnership_id), template_id, year HAVING COUNT(*) > 1
                 ORDER BY 1, 2, 3",
            )?
            .query_map([self.run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut duplicates = Vec::new();
        for (pid, template_id, year) in &repeated {
            let members: Vec<(i64, String, Candidate)> = tx
                .prepare_cached(
                    "SELECT id, sha256, issued_at, modified, path FROM returns
                     WHERE run_id = ?1 AND lower(partnership_id) = ?2 AND template_id = ?3 AND year = ?4",
                )?
                .query_map(params![self.run_id, pid, template_id, year], |r| {
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
                 WHERE r.run_id = ?1 ORDER BY lower(r.partnership_id), r.template_id, r.year",
            )?
            .query_map([self.run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        tx.execute(
            "UPDATE returns SET current = 0, replaced_at = ?2,
                    replaced_by = (SELECT r.id FROM returns r WHERE r.run_id = ?1
                                   AND r.partnership_id = returns.partnership_id
                                   AND r.template_id = returns.template_id AND r.year = returns.year)
             WHERE current = 1 AND EXISTS (SELECT 1 FROM returns r WHERE r.run_id = ?1
                                   AND r.partnership_id = returns.partnership_id
                                   AND r.template_id = returns.template_id AND r.year = returns.year)",
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
            },
            duplicates,
        ))
    }

    /// Records the run's summary and commits everything written.
    pub fn commit(self, files: usize, summary: &str) -> anyhow::Result<()> {
        self.tx.execute(
            "UPDATE runs SET files = ?1, summary = ?2 WHERE id = ?3",
            params![files as i64, summary, self.run_id],
        )?;
        self.tx
            .commit()
            .context("cannot save the run to the history store")
    }
}

/// Schema 1 kept answers, scores and findings in rowid tables with a separate primary-key
/// index; schema 2 makes them `WITHOUT ROWID` (one B-tree per row instead of two, which
/// roughly halves the cost of storing a return). Rewrites the three tables in one
/// transaction; nothing else changes.
fn upgrade_from_v1(conn: &Connection) -> rusqlite::Result<()> {
    let table_sql = |name: &str| -> rusqlite::Result<String> {
        conn.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )
    };
    let mut batch = String::from("BEGIN IMMEDIATE;\n");
    for name in ["findings", "answers", "scores"] {
        let create = table_sql(name)?;
        if create.contains("WITHOUT ROWID") {
            continue;
        }
        batch.push_str(&format!(
            "ALTER TABLE {name} RENAME TO {name}_v1;\n{create} WITHOUT ROWID;\nINSERT INTO {name} SELECT * FROM {name}_v1;\nDROP TABLE {name}_v1;\n"
        ));
    }
    batch.push_str(&format!(
        "UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version';\nCOMMIT;"
    ));
    conn.execute_batch(&batch).inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// Maps `sha256, status, path, partnership_id, template_id, template_version, year, message`.
fn seen_file(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, SeenFile)> {
    Ok((
        r.get(0)?,
        SeenFile {
            status: r.get(1)?,
            path: r.get(2)?,
            partnership_id: r.get(3)?,
            template_id: r.get(4)?,
            template_version: r.get(5)?,
            year: r.get(6)?,
            message: r.get(7)?,
        },
    ))
}

fn stored_finding(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFinding> {
    Ok(StoredFinding {
        path: r.get(0)?,
        partnership_id: r.get(1)?,
        severity: r.get(2)?,
        code: r.get(3)?,
        sheet: r.get(4)?,
        cell: r.get(5)?,
        question_id: r.get(6)?,
        message: r.get(7)?,
    })
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
        "INSERT INTO files (sha256, path, status, partnership_id, template_id, template_version, year, issued_at, message, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, status = excluded.status, partnership_id = excluded.partnership_id,
           template_id = excluded.template_id, template_version = excluded.template_version, year = excluded.year,
           issued_at = excluded.issued_at, message = excluded.message, run_id = excluded.run_id",
    )?
    .execute(params![f.sha256, f.path, f.status, f.partnership_id, f.template_id, f.template_version, f.year, f.issued_at, f.message, run_id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO findings (sha256, seq, severity, code, sheet, cell, question_id, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (i, x) in f.findings.iter().enumerate() {
        stmt.execute(params![
            f.sha256,
            i as i64,
            x.severity.as_str(),
            x.code.as_str(),
            x.sheet,
            x.cell,
            x.question_id,
            x.message
        ])?;
    }
    Ok(())
}

/// Answers stored per INSERT statement (5 parameters each, well under SQLite's limit).
const ANSWER_BLOCK: usize = 32;

/// `INSERT INTO answers ... VALUES (...), (...)` for `rows` rows.
fn insert_answers_sql(rows: usize) -> String {
    format!(
        "INSERT INTO answers (return_id, question_id, value, points, evidence) VALUES {}",
        vec!["(?,?,?,?,?)"; rows].join(",")
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
        "INSERT OR IGNORE INTO returns (sha256, partnership_id, template_id, template_version, year, path, issued_at, ingested_at, status, overall, band, current, run_id, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13)",
    )?
    .execute(params![f.sha256, pid, tid, version, year, f.path, f.issued_at.clone().unwrap_or_default(), now, acc.status, acc.overall, acc.band, run_id, modified])?;
    if inserted == 0 {
        return Ok(());
    }
    let id = tx.last_insert_rowid();
    // Answers go in blocks of rows per statement: one statement step per block instead
    // of per answer (storing answers was the largest part of the store's cost).
    for block in acc.answers.chunks(ANSWER_BLOCK) {
        let mut stmt = tx.prepare_cached(&insert_answers_sql(block.len()))?;
        let mut i = 0;
        for (q, v, p, e) in block {
            stmt.raw_bind_parameter(i + 1, id)?;
            stmt.raw_bind_parameter(i + 2, q)?;
            stmt.raw_bind_parameter(i + 3, v)?;
            stmt.raw_bind_parameter(i + 4, p)?;
            stmt.raw_bind_parameter(i + 5, e)?;
            i += 5;
        }
        stmt.raw_execute()?;
    }
    let mut stmt = tx.prepare_cached("INSERT INTO scores (return_id, scope, percent, points, max_points) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (scope, pct, pts, max) in &acc.scores {
        stmt.execute(params![id, scope, pct, pts, max])?;
    }
    Ok(())
}

/// Parses the long history CSV: `year,partnership_id,section_id,percent`, where
/// `section_id` is a section id or `overall`. Every bad line is reported.
pub fn parse_history_csv(path: &Path, bytes: &[u8]) -> Result<Vec<HistoryRow>, Vec<String>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(e) => {
            return Err(vec![format!(
                "{}: cannot read the header row: {e}",
                path.display()
            )])
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(cy), Some(cp), Some(cs), Some(cv)) = (
        col("year"),
        col("partnership_id"),
        col("section_id"),
        col("percent"),
    ) else {
        return Err(vec![format!(
            "{}:1: the header must have the columns year, partnership_id, section_id, percent",
            path.display()
        )]);
    };
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        let year = get(cy)
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y));
        let percent = get(cv)
            .trim_end_matches('%')
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p));
        let (pid, scope) = (get(cp), get(cs));
        match (year, percent) {
            (Some(year), Some(percent)) if !pid.is_empty() && !scope.is_empty() => {
                rows.push(HistoryRow { year, partnership_id: pid, scope, percent });
            }
            _ => problems.push(format!(
                "{}:{line}: expected a year (like 2025), a partnership_id, a section_id (or 'overall') and a percent from 0 to 100; found '{}'",
                path.display(),
                rec.iter().collect::<Vec<_>>().join(",")
            )),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Writes history rows as the long CSV.
pub fn history_csv(rows: &[HistoryRow]) -> anyhow::Result<Vec<u8>> {
    let mut csv = crate::output::SafeCsv::new();
    csv.row(["year", "partnership_id", "section_id", "percent"])?;
    for r in rows {
        csv.row([
            r.year.to_string(),
            r.partnership_id.clone(),
            r.scope.clone(),
            format!("{}", r.percent),
        ])?;
    }
    csv.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_csv_round_trips_and_reports_bad_lines() {
        let text = "year,partnership_id,section_id,percent\n2025,P1,foundations,62.5\n2025,P1,overall,70\n";
        let rows = parse_history_csv(Path::new("h.csv"), text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        let out = history_csv(&rows).unwrap();
        let back = parse_history_csv(Path::new("h.csv"), &out).unwrap();
        assert_eq!(back, rows);
        let bad =
            "year,partnership_id,section_id,percent\n2025,P1,overall,170\nabc,P1,overall,50\n";
        let p = parse_history_csv(Path::new("h.csv"), bad.as_bytes()).unwrap_err();
        assert_eq!(p.len(), 2);
        assert!(p[0].starts_with("h.csv:2:"), "{p:?}");
    }

    #[test]
    fn newest_prefers_issue_date_then_save_time_then_path() {
        let c = |issued: &str, modified: Option<i64>, path: &str| Candidate {
            issued_at: issued.into(),
            modified,
            path: path.into(),
        };
        assert_eq!(
            newest(&[c("2026-12-07", Some(1), "a"), c("2026-11-23", Some(9), "b")]),
            0
        );
        assert_eq!(
            newest(&[c("2026-11-23", Some(1), "a"), c("2026-11-23", Some(9), "b")]),
            1
        );
        assert_eq!(
            newest(&[c("2026-11-23", None, "b"), c("2026-11-23", None, "a")]),
            0
        );
    }

    #[test]
    fn imported_history_is_listed_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        let row = |y, v| HistoryRow {
            year: y,
            partnership_id: "P1".into(),
            scope: "overall".into(),
            percent: v,
        };
        s.import_history(&[row(2024, 50.0), row(2025, 60.0)])
            .unwrap();
        s.import_history(&[row(2025, 65.0)]).unwrap();
        let h = s.history("self-assessment").unwrap();
        assert_eq!(h, vec![row(2024, 50.0), row(2025, 65.0)]);
        let prior = s.prior_scores("self-assessment", 2025).unwrap();
        assert_eq!(prior["P1"].len(), 1);
    }

    #[test]
    fn a_schema_1_store_is_upgraded_in_place_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&SCHEMA.replace(") WITHOUT ROWID;", ");"))
                .unwrap();
            conn.execute_batch(
                "INSERT INTO meta VALUES ('schema_version', '1');
                 INSERT INTO runs VALUES (1, '2025-12-01T10:00:00', 2025, '0.1.0', 1, '');
                 INSERT INTO files VALUES ('abc', 'a.xlsx', 'accepted', 'P1', 'self-assessment', 1, 2025, '2025-11-01', '', 1);
                 INSERT INTO findings VALUES ('abc', 0, 'warning', 'older-version', '', '', '', 'old');
                 INSERT INTO returns (id, sha256, partnership_id, template_id, template_version, year, path, issued_at, ingested_at, status, overall, band, current, run_id)
                   VALUES (7, 'abc', 'P1', 'self-assessment', 1, 2025, 'a.xlsx', '2025-11-01', '2025-12-01', 'accepted', 50, 'Developing', 1, 1);
                 INSERT INTO answers VALUES (7, 'q1_1', '2 - Partly in place', 2, 'minutes');
                 INSERT INTO scores VALUES (7, 'overall', 50, 2, 4);",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let sql = |name: &str| -> String {
            s.conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .unwrap()
        };
        for t in ["findings", "answers", "scores"] {
            assert!(sql(t).contains("WITHOUT ROWID"), "{t}: {}", sql(t));
        }
        let version: String = s
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION.to_string());
        let answer: (String, f64, String) = s
            .conn
            .query_row(
                "SELECT value, points, evidence FROM answers WHERE return_id = 7",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            answer,
            ("2 - Partly in place".into(), 2.0, "minutes".into())
        );
        assert_eq!(s.findings_for("abc").unwrap().len(), 1);
        let prior = s.prior_scores("self-assessment", 2026).unwrap();
        assert_eq!(prior["P1"][0].percent, 50.0);
        drop(s);
        // Opening again is a no-op.
        assert!(Store::open(&path).is_ok());
    }
}
