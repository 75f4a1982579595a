//! What the review workbook reads beyond the shared queries: each partnership's
//! section scores for one year (for like-for-like comparisons), the exit dates given on
//! exit documents, and the year's findings with the form they were found on.

use std::collections::BTreeMap;

use rusqlite::params;

use super::queries::{stored_finding, MERGED_HISTORY};
use super::*;

/// One respondent's answer to one question: (respondent id, question id, answer).
pub type Said = (String, String, String);

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

    /// The template version each partnership's current returns of a year were issued
    /// on (the highest, where its respondents' forms differ), by partnership id.
    pub fn template_versions(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<std::collections::HashMap<String, u32>> {
        let mut stmt = self.conn.prepare(
            "SELECT partnership_id, MAX(template_version) FROM returns
             WHERE year = ?1 AND template_id = ?2 AND current = 1 AND partnership_id IS NOT NULL
             GROUP BY partnership_id",
        )?;
        let rows = stmt.query_map(params![year, template_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
        })?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            if let (p, Some(v)) = row? {
                out.insert(p, v.max(1) as u32);
            }
        }
        Ok(out)
    }

    /// Each partnership's mean points per scored statement over its current returns of
    /// a year (answers with points only): partnership id → question id → mean.
    pub fn statement_means(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<std::collections::HashMap<String, std::collections::HashMap<String, f64>>>
    {
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, a.question_id, AVG(a.points)
             FROM returns r JOIN answers a ON a.return_id = r.id
             WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1
               AND r.partnership_id IS NOT NULL AND a.points IS NOT NULL
             GROUP BY r.partnership_id, a.question_id",
        )?;
        let rows = stmt.query_map(params![year, template_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        let mut out: std::collections::HashMap<String, std::collections::HashMap<String, f64>> =
            Default::default();
        for row in rows {
            let (p, q, mean) = row?;
            out.entry(p).or_default().insert(q, mean);
        }
        Ok(out)
    }

    /// The answers to `questions` on every current return of a year, by partnership:
    /// (respondent id, question id, answer), blank answers left out, in respondent order.
    pub fn answers_to(
        &self,
        year: i32,
        template_id: &str,
        questions: &[String],
    ) -> anyhow::Result<BTreeMap<String, Vec<Said>>> {
        let mut out: BTreeMap<String, Vec<Said>> = BTreeMap::new();
        if questions.is_empty() {
            return Ok(out);
        }
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, r.respondent_id, a.question_id, a.value
             FROM returns r JOIN answers a ON a.return_id = r.id
             WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1 AND TRIM(a.value) != ''
             ORDER BY r.partnership_id, r.respondent_id != 'lead', r.respondent_id",
        )?;
        for row in stmt.query_map(params![year, template_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })? {
            let (p, rid, q, v) = row?;
            if questions.contains(&q) {
                out.entry(p).or_default().push((rid, q, v));
            }
        }
        Ok(out)
    }

    /// Each respondent's own overall % on their current return of a year, by
    /// partnership, where two or more returns are scored (for the respondents' range).
    pub fn respondent_overalls(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<BTreeMap<String, Vec<f64>>> {
        let mut stmt = self.conn.prepare(
            "SELECT partnership_id, overall FROM returns
             WHERE year = ?1 AND template_id = ?2 AND current = 1 AND overall IS NOT NULL
             ORDER BY partnership_id, respondent_id",
        )?;
        let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for row in stmt.query_map(params![year, template_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?))
        })? {
            let (p, v) = row?;
            out.entry(p).or_default().push(v);
        }
        out.retain(|_, v| v.len() > 1);
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
