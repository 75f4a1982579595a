//! The history store: an embedded SQLite database holding every partnership, every
//! file ever ingested (so unchanged files are skipped by hash), the accepted returns
//! with their answers and scores, the findings, and imported earlier-year scores.
//!
//! One ingest run is one transaction: a crash or kill leaves the store as it was.
//!
//! The folder follows the store's parts: [`schema`] (tables and upgrades of older
//! stores), [`queries`] (what the commands read), [`run`] (writing one ingest run) and
//! [`history`] (earlier years' scores imported from CSV).

mod carried;
mod feedback;
mod findings;
mod history;
mod lessons;
mod open;
pub use lessons::ExitLessons;
mod queries;
mod reissues;
mod report;
mod respondents;
mod run;
mod runs;
mod schema;

pub use findings::{rewrite_year_findings, ResolvedFile};
pub use history::{check_history_rows, history_csv, parse_history_csv, parse_history_lines};
pub use open::NotAStore;
pub use reissues::FormKey;
pub use respondents::RejectedFile;
pub use run::{newest, Candidate, Duplicate, RunWriter};
pub use runs::{RunInfo, BACKUPS_KEPT};
pub use schema::APPLICATION_ID;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension};

use schema::{upgrade_from_v1, upgrade_from_v2, upgrade_from_v3, INDEXES, SCHEMA, SCHEMA_VERSION};

/// The store this process opened (for plain messages about failures after opening).
static LAST_OPENED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Plain words for a failure of the store (read-only, disk full, locked, damaged), if
/// `e` is one.
pub fn plain_error(e: &anyhow::Error) -> Option<String> {
    open::plain(LAST_OPENED.get()?, e)
}

/// The register's and the respondents file's bytes, as a run read them.
type RunSources = (Option<Vec<u8>>, Option<Vec<u8>>);

pub struct Store {
    conn: Connection,
    pub path: PathBuf,
    /// The register and respondents files' bytes, recorded with the next run.
    run_sources: Option<RunSources>,
    /// The year whose data the next run may replace (imported history, or a file an
    /// earlier run recorded for another year): the officer's `--replace-year`.
    replace_year: Option<i32>,
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
    /// Whose return it is (`lead` for forms issued before respondents existed).
    pub respondent_id: Option<String>,
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
    /// How many respondents' returns the result comes from.
    pub respondents: usize,
}

/// One respondent's answer to one question (see [`Store::respondent_answers`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RespondentAnswer {
    pub partnership_id: String,
    pub respondent_id: String,
    pub question_id: String,
    pub value: String,
    pub points: Option<f64>,
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
    /// `sent`, `drafted`, or `failed: <reason>`.
    pub result: String,
    /// `drafted` (an .eml to check and send), `sent` (handed to the SMTP server) or
    /// `failed`.
    pub state: String,
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
    /// How many respondents' returns a stored result comes from; `None` for imported
    /// history (partnership-level already).
    pub respondents: Option<u32>,
}

/// What a run changed, for its summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunChanges {
    pub run_id: i64,
    /// (partnership, template, year) of returns that replaced an earlier one.
    pub replaced: Vec<(String, String, i32)>,
    /// (file, year it is recorded for): files an earlier run recorded for another year,
    /// left as that year's (a run changes only its own year).
    pub other_year: Vec<(String, i32)>,
    /// (partnership, year, file): returns that would replace imported history for their
    /// year, held back (not stored) without `--replace-year`.
    pub held_back: Vec<(String, i32, String)>,
    /// (partnership, year, file): returns that replaced imported history, as allowed by
    /// `--replace-year`.
    pub replaced_history: Vec<(String, i32, String)>,
}

impl Store {
    /// Records the register (and respondents file) this run uses, so that the year's
    /// review can be made again with them later (see [`Store::run_register`]).
    pub fn record_sources(
        &mut self,
        register: &Path,
        respondents: Option<&Path>,
    ) -> anyhow::Result<()> {
        let read =
            |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
        self.run_sources = Some((Some(read(register)?), respondents.map(read).transpose()?));
        Ok(())
    }

    /// Lets the next run replace `year`'s imported history and files recorded for another
    /// year (`--replace-year`): without it they are left alone and reported.
    pub fn allow_replacing(&mut self, year: i32) {
        self.replace_year = Some(year);
    }

    /// Opens the store at `path`, creating it only where no file exists. An existing
    /// file is checked before anything is written to it: an empty file, a file that is not
    /// SQLite, another program's database and a newer ptk's store are refused, untouched.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the folder {} for the store", dir.display())
            })?;
        }
        let _ = LAST_OPENED.set(path.to_path_buf());
        match std::fs::symlink_metadata(path) {
            Ok(_) => open::check_existing(path).map_err(|n| anyhow::anyhow!(n.message(path)))?,
            Err(_) => open::create(path)?,
        }
        let explain = |e: rusqlite::Error| {
            let e = anyhow::Error::from(e);
            anyhow::anyhow!(open::plain(path, &e).unwrap_or_else(|| format!(
                "cannot open the history store {}: {e}",
                path.display()
            )))
        };
        let conn = Connection::open(path).map_err(explain)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(explain)?;
        // A run's writes use a few dozen statements (blocks of rows of each size seen);
        // the default cache of 16 made it prepare some again for every file.
        conn.set_prepared_statement_cache_capacity(128);
        // A run is one transaction: with SQLite's default page cache (2 MB) a large
        // one spills pages to the log and reads them back many times over. 64 MB
        // (taken only as needed) holds a run of several thousand returns.
        conn.pragma_update(None, "cache_size", -65536)
            .map_err(explain)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            .map_err(explain)?;
        conn.execute_batch(SCHEMA).map_err(explain)?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(explain)?;
        match version.as_deref().map(str::parse::<i64>) {
            Some(Ok(v)) if v == SCHEMA_VERSION => {}
            Some(Ok(v @ 1..=3)) => {
                let upgrade = |conn: &Connection| -> rusqlite::Result<()> {
                    if v == 1 {
                        upgrade_from_v1(conn)?;
                    }
                    if v <= 2 {
                        upgrade_from_v2(conn)?;
                    }
                    upgrade_from_v3(conn)
                };
                upgrade(&conn).with_context(|| {
                    format!("cannot upgrade the history store {}", path.display())
                })?
            }
            _ => anyhow::bail!(open::NotAStore::Damaged(
                "its schema version is missing or unknown".into()
            )
            .message(path)),
        }
        schema::add_send_state(&conn)
            .with_context(|| format!("cannot upgrade the history store {}", path.display()))?;
        conn.execute_batch(INDEXES)
            .with_context(|| format!("cannot index the history store {}", path.display()))?;
        conn.execute_batch(reissues::REISSUES)
            .with_context(|| format!("cannot upgrade the history store {}", path.display()))?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            run_sources: None,
            replace_year: None,
        })
    }
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
            respondents: None,
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
            conn.execute_batch(&schema::SCHEMA_V2.replace(") WITHOUT ROWID;", ");"))
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

    #[test]
    fn a_schema_2_store_gains_respondents_and_its_returns_become_results() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema::SCHEMA_V2).unwrap();
            conn.execute_batch(
                "INSERT INTO meta VALUES ('schema_version', '2');
                 INSERT INTO runs VALUES (1, '2025-12-01T10:00:00', 2025, '0.1.0', 2, '');
                 INSERT INTO files VALUES ('abc', 'a.xlsx', 'accepted', 'P1', 'self-assessment', 1, 2025, '2025-11-01', '', 1);
                 INSERT INTO files VALUES ('old', 'o.xlsx', 'accepted', 'P1', 'self-assessment', 1, 2025, '2025-10-01', '', 1);
                 INSERT INTO returns (id, sha256, partnership_id, template_id, template_version, year, path, issued_at, ingested_at, status, overall, band, current, run_id)
                   VALUES (7, 'abc', 'P1', 'self-assessment', 1, 2025, 'a.xlsx', '2025-11-01', '2025-12-01', 'accepted', 62.5, 'Amber', 1, 1),
                          (6, 'old', 'P1', 'self-assessment', 1, 2025, 'o.xlsx', '2025-10-01', '2025-12-01', 'accepted', 10, 'Red', 0, 1);
                 INSERT INTO answers VALUES (7, 'stage', 'Functioning', NULL, '');
                 INSERT INTO scores VALUES (7, 'overall', 62.5, 5, 8), (7, 'foundations', 75, 3, 4), (6, 'overall', 10, 1, 10);",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let version: String = s
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION.to_string());
        let marks: (i32, i64) = s
            .conn
            .query_row(
                "SELECT * FROM pragma_application_id, pragma_user_version",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            marks,
            (APPLICATION_ID, SCHEMA_VERSION),
            "an upgraded store is marked as ptk's"
        );
        let who: String = s
            .conn
            .query_row("SELECT respondent_id FROM returns WHERE id = 7", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(who, "lead", "every earlier return was the lead officer's");
        let result: (i64, f64, String, String) = s
            .conn
            .query_row(
                "SELECT respondents, overall, band, stage FROM results WHERE partnership_id = 'P1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(result, (1, 62.5, "Amber".into(), "Functioning".into()));
        let scored = s.scored_returns(2025, "self-assessment", "stage").unwrap();
        assert_eq!(
            scored["P1"].overall,
            Some(62.5),
            "the replaced return is not a result"
        );
        assert_eq!(
            scored["P1"].sections,
            vec![("foundations".to_string(), 75.0)]
        );
        let prior = s.prior_scores("self-assessment", 2026).unwrap();
        assert_eq!(prior["P1"].len(), 2);
        drop(s);
        assert!(Store::open(&path).is_ok(), "opening again is a no-op");
    }
}
