//! What the review workbook reads beyond the shared queries: each partnership's
//! section scores for one year (for like-for-like comparisons), the exit dates given on
//! exit documents, and the year's findings with the form they were found on.

use std::collections::BTreeMap;

use rusqlite::params;

use super::queries::{stored_finding, MERGED_HISTORY};
use super::*;

impl Store {
    /// Section % by partnership for one year of the scored template (merged history:
    /// imported scores, or the current return where there is one), by section id.
    pub fn section_scores(
        &self,
        template_id: &str,
        year: i32,
    ) -> anyhow::Result<BTreeMap<String, Vec<(String, f64)>>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT partnership_id, scope, percent FROM ({MERGED_HISTORY})
             WHERE year = ?2 AND scope != 'overall' ORDER BY partnership_id, scope"
        ))?;
        let mut out: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
        for row in stmt.query_map(params![template_id, year], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })? {
            let (p, scope, pct) = row?;
            out.entry(p).or_default().push((scope, pct));
        }
        Ok(out)
    }

    /// The answer to `question_id` on each partnership's latest current return of
    /// `template_id` up to `year` (e.g. the exit date on its exit document).
    pub fn latest_answers(
        &self,
        template_id: &str,
        question_id: &str,
        year: i32,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, a.value FROM answers a JOIN returns r ON r.id = a.return_id
             WHERE r.current = 1 AND r.template_id = ?1 AND a.question_id = ?2 AND r.year <= ?3
               AND a.value != ''
             ORDER BY r.partnership_id, r.year",
        )?;
        let rows = stmt.query_map(params![template_id, question_id, year], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        // Later years overwrite earlier ones.
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The open findings (see `findings`) of the files ingested by runs for `year`, in path order, with the
    /// template of the file (to show question numbers as the form shows them).
    pub fn findings_with_template(
        &self,
        year: i32,
    ) -> anyhow::Result<Vec<(StoredFinding, Option<String>)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.path, COALESCE(f.partnership_id, ''), x.severity, x.code, x.sheet, x.cell, x.question_id, x.message, f.template_id
             FROM findings x JOIN files f ON f.sha256 = x.sha256 JOIN runs r ON r.id = f.run_id
             WHERE r.year = ?1 AND {} ORDER BY f.path, x.seq",
            super::findings::open_finding_sql()
        ))?;
        let rows = stmt.query_map([year], |r| Ok((stored_finding(r)?, r.get(8)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
