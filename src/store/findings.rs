//! The findings' lifecycle. A finding is open until the partnership's (and respondent's)
//! form is accepted: a rejected file is resolved by a current accepted return for the same
//! partnership, form, year and respondent issued later than it, or issued no earlier and
//! read in a later run than the one that first rejected it. Resolved findings
//! leave the year's open list (findings.csv, the review's Findings sheet) and no longer
//! count as needing correction. Derived at reading time, so undoing a run re-opens them.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::params;

use super::*;

/// SQL: the file `f` (rejected) is resolved by an accepted return.
const RESOLVING_RETURN: &str = "
    SELECT r.path, r.ingested_at FROM returns r
    WHERE r.current = 1 AND r.partnership_id = f.partnership_id AND r.template_id = f.template_id
      AND r.year = f.year AND lower(r.respondent_id) = lower(COALESCE(f.respondent_id, 'lead'))
      AND (r.issued_at > f.issued_at
           OR (r.run_id > COALESCE(f.first_run, f.run_id) AND (f.issued_at IS NULL OR r.issued_at >= f.issued_at)))";

/// SQL: the findings of file `f` are open (not resolved, and not of a return since
/// replaced by a later one).
pub(super) fn open_finding_sql() -> String {
    format!(
        "NOT (f.status = 'rejected' AND EXISTS ({RESOLVING_RETURN}))
         AND NOT EXISTS (SELECT 1 FROM returns o WHERE o.sha256 = f.sha256 AND o.current = 0)"
    )
}

/// A rejected file that an accepted return resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedFile {
    pub path: String,
    pub partnership_id: String,
    /// The accepted return's file, and when it was read.
    pub by: String,
    pub at: String,
}

impl Store {
    /// The rejected files of `year`'s runs that accepted returns have resolved, by path.
    pub fn resolved_files(&self, year: i32) -> anyhow::Result<Vec<ResolvedFile>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.path, f.partnership_id,
                    (SELECT path FROM ({RESOLVING_RETURN}) ORDER BY 1 LIMIT 1),
                    (SELECT ingested_at FROM ({RESOLVING_RETURN}) ORDER BY 1 LIMIT 1)
             FROM files f JOIN runs u ON u.id = f.run_id
             WHERE u.year = ?1 AND f.status = 'rejected' AND EXISTS ({RESOLVING_RETURN})
             ORDER BY f.path"
        ))?;
        let rows = stmt.query_map([year], |r| {
            Ok(ResolvedFile {
                path: r.get(0)?,
                partnership_id: r.get(1)?,
                by: r.get(2)?,
                at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many files run `run_id` rejected that still need correcting (not resolved by
    /// an accepted return).
    pub fn needs_correcting(&self, run_id: i64) -> anyhow::Result<usize> {
        let n: i64 = self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM files f WHERE f.run_id = ?1 AND f.status = 'rejected'
                 AND NOT EXISTS ({RESOLVING_RETURN})"
            ),
            [run_id],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// findings.csv for the year: this run's rows (`run_csv`, as the ingest wrote them)
    /// without those of resolved files and of files left as `other_year`'s, then the open findings of the year's earlier runs
    /// for files this run did not read. The same rows as the review's Findings sheet.
    pub fn year_findings_csv(
        &self,
        year: i32,
        run_id: i64,
        run_csv: &[u8],
        other_year: &[String],
    ) -> anyhow::Result<Vec<u8>> {
        let mut resolved: BTreeSet<String> = self
            .resolved_files(year)?
            .into_iter()
            .map(|f| f.path)
            .collect();
        // Files left as another year's belong to that year's list.
        resolved.extend(other_year.iter().cloned());
        let body = run_csv
            .strip_prefix(crate::output::UTF8_BOM)
            .unwrap_or(run_csv);
        let mut reader = csv::Reader::from_reader(body);
        let mut out = crate::output::SafeCsv::to_writer(Vec::new());
        out.row(reader.headers()?.iter())?;
        let mut this_run = BTreeSet::new();
        for rec in reader.records() {
            let rec = rec?;
            this_run.insert(rec[0].to_string());
            if !resolved.contains(&rec[0]) {
                out.row(rec.iter())?;
            }
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.path, COALESCE(f.partnership_id, ''), x.sheet, x.cell, x.question_id, x.severity, x.code, x.message
             FROM findings x JOIN files f ON f.sha256 = x.sha256 JOIN runs u ON u.id = f.run_id
             WHERE u.year = ?1 AND f.run_id <> ?2 AND {}
             ORDER BY f.path, x.seq",
            open_finding_sql()
        ))?;
        let rows = stmt.query_map(params![year, run_id], |r| {
            (0..8)
                .map(|i| r.get::<_, String>(i))
                .collect::<Result<Vec<_>, _>>()
        })?;
        for row in rows {
            let row = row?;
            if !this_run.contains(&row[0]) {
                out.row(row.iter())?;
            }
        }
        out.finish()
    }
}

/// Rewrites findings.csv at `path` as the year's open findings (see
/// [`Store::year_findings_csv`]), atomically.
pub fn rewrite_year_findings(
    store: &Store,
    year: i32,
    run_id: i64,
    path: &Path,
    other_year: &[String],
) -> anyhow::Result<()> {
    let run_csv = std::fs::read(path)?;
    crate::output::write_atomic(
        path,
        &store.year_findings_csv(year, run_id, &run_csv, other_year)?,
    )
}
