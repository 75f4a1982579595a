//! What the commands read from the store: earlier scores, the year's returns and
//! findings, files seen before, and the mail log.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, Connection, OptionalExtension};

use crate::score::PriorScore;

use super::*;

/// Every score the store holds for a scored template (`?1`): imported history, except
/// where a partnership's result (aggregated over its respondents' current returns) gives
/// the same year, partnership and scope, plus those results.
pub(super) const MERGED_HISTORY: &str = "
    SELECT h.year, h.partnership_id, h.scope, h.percent, NULL AS respondents FROM history h
    WHERE NOT EXISTS (SELECT 1 FROM result_scores s
                      WHERE s.template_id = ?1 AND s.year = h.year
                        AND s.partnership_id = h.partnership_id AND s.scope = h.scope AND s.percent IS NOT NULL)
    UNION ALL
    SELECT s.year, s.partnership_id, s.scope, s.percent, r.respondents FROM result_scores s
    JOIN results r ON r.template_id = s.template_id AND r.year = s.year AND r.partnership_id = s.partnership_id
    WHERE s.template_id = ?1 AND s.percent IS NOT NULL";

impl Store {
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

    /// Each partnership's result for the scored form (aggregated over its respondents'
    /// current returns), by partnership id, as the review shows it: scores, the
    /// life-cycle stage and how many respondents it comes from, in compact form (a review
    /// of thousands of partnerships holds one of these for each). `stage_question` is
    /// kept for callers; the stage is aggregated with the scores.
    pub fn scored_returns(
        &self,
        year: i32,
        template_id: &str,
        _stage_question: &str,
    ) -> anyhow::Result<HashMap<String, ScoredReturn>> {
        let mut out = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT partnership_id, overall, band, stage, respondents FROM results
             WHERE year = ?1 AND template_id = ?2",
        )?;
        let rows = stmt.query_map(params![year, template_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ScoredReturn {
                    overall: r.get(1)?,
                    band: r.get(2)?,
                    stage: r.get::<_, Option<String>>(3)?.filter(|s| !s.is_empty()),
                    sections: Vec::new(),
                    respondents: r.get::<_, i64>(4)? as usize,
                },
            ))
        })?;
        for row in rows {
            let (pid, ret) = row?;
            out.insert(pid, ret);
        }
        let mut stmt = self.conn.prepare(
            "SELECT partnership_id, scope, percent FROM result_scores
             WHERE year = ?1 AND template_id = ?2 AND percent IS NOT NULL AND scope != ?3
             ORDER BY partnership_id, scope",
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
        if out.is_empty() {
            return self.imported_scores(year);
        }
        Ok(out)
    }

    /// A year known only from imported history: its scores as imported, one "return" per
    /// partnership with an overall score (no band, stage or respondents).
    fn imported_scores(&self, year: i32) -> anyhow::Result<HashMap<String, ScoredReturn>> {
        let mut out: HashMap<String, ScoredReturn> = HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT partnership_id, scope, percent FROM history WHERE year = ?1
             ORDER BY partnership_id, scope",
        )?;
        let rows = stmt.query_map([year], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        for row in rows {
            let (pid, scope, pct) = row?;
            let ret = out.entry(pid).or_default();
            if scope == crate::score::OVERALL {
                ret.overall = Some(pct);
            } else {
                ret.sections.push((scope, pct));
            }
        }
        out.retain(|_, r| r.overall.is_some());
        Ok(out)
    }

    /// When history was last imported (`ptk history import` runs are recorded as year 0).
    pub fn history_imported_at(&self) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT MAX(started_at) FROM runs WHERE year = 0", [], |r| {
                r.get(0)
            })?)
    }

    /// Whether the store knows anything of `year`: a run for it, or imported scores.
    pub fn year_has_data(&self, year: i32) -> anyhow::Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE year = ?1) OR EXISTS (SELECT 1 FROM history WHERE year = ?1)",
            [year],
            |r| r.get(0),
        )?)
    }

    /// The register and respondents files as the latest run for `year` read them, with
    /// when it started (see [`Store::record_sources`]).
    #[allow(clippy::type_complexity)]
    pub fn run_register(
        &self,
        year: i32,
    ) -> anyhow::Result<Option<(String, Vec<u8>, Option<Vec<u8>>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT started_at, register, respondents FROM runs
                 WHERE year = ?1 AND register IS NOT NULL ORDER BY id DESC LIMIT 1",
                [year],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Who has returned a form for a year: partnership id → the respondent ids of its
    /// current returns, sorted (the lead's is `lead`).
    pub fn returned_respondents(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<HashMap<String, Vec<String>>> {
        let mut stmt = self.conn.prepare(
            "SELECT partnership_id, respondent_id FROM returns
             WHERE year = ?1 AND template_id = ?2 AND current = 1
             ORDER BY partnership_id, respondent_id",
        )?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for row in stmt.query_map(params![year, template_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })? {
            let (p, r) = row?;
            out.entry(p).or_default().push(r);
        }
        Ok(out)
    }

    /// The answers of every respondent of the partnerships with two or more current
    /// returns for a form and year, for comparing their views: (partnership id,
    /// respondent id, question id, answer, points), by partnership, respondent, question.
    pub fn respondent_answers(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<Vec<RespondentAnswer>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, r.respondent_id, a.question_id, a.value, a.points
             FROM returns r JOIN answers a ON a.return_id = r.id
             WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1
               AND (SELECT COUNT(*) FROM returns o WHERE o.current = 1 AND o.year = r.year
                      AND o.template_id = r.template_id AND o.partnership_id = r.partnership_id) > 1
             ORDER BY r.partnership_id, r.respondent_id, a.question_id",
        )?;
        let rows = stmt.query_map(params![year, template_id], |r| {
            Ok(RespondentAnswer {
                partnership_id: r.get(0)?,
                respondent_id: r.get(1)?,
                question_id: r.get(2)?,
                value: r.get(3)?,
                points: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The current (accepted, not replaced) returns of a year, by partnership id, with
    /// every answer and score: the lead officer's where a form went to several
    /// respondents (exit and new-partnership forms go to the lead alone).
    pub fn current_returns(
        &self,
        year: i32,
        template_id: &str,
    ) -> anyhow::Result<BTreeMap<String, ReturnRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, partnership_id, template_version, path, status, overall, band FROM returns
             WHERE year = ?1 AND template_id = ?2 AND current = 1
             ORDER BY respondent_id = 'lead', respondent_id",
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

    /// Files read for a review year that could not be opened at all (finding
    /// `unreadable` or `encrypted`), so say nothing of whose they are, newest first.
    pub fn unreadable_files(&self, year: i32) -> anyhow::Result<Vec<(String, SeenFile)>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.sha256, f.status, f.path, f.partnership_id, f.template_id, f.template_version, f.year, f.message
             FROM files f JOIN runs u ON u.id = f.run_id
             WHERE u.year = ?1 AND f.status = 'rejected' AND f.partnership_id IS NULL
             AND EXISTS (SELECT 1 FROM findings x WHERE x.sha256 = f.sha256
                         AND x.code IN ('unreadable', 'encrypted'))
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

    /// Whether a message with this key was delivered (`sent`) or written as a draft
    /// (`drafted`) before; `sent` wins over `drafted`. `None`: never, or only failed.
    pub fn send_state(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM sends WHERE key = ?1 AND state IN ('sent', 'drafted')
                 ORDER BY state = 'sent' DESC LIMIT 1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Whether a message with this key was delivered before (a draft does not count).
    pub fn was_sent(&self, key: &str) -> anyhow::Result<bool> {
        Ok(self.send_state(key)?.as_deref() == Some("sent"))
    }

    /// Records one send attempt at once (its own transaction), so a failure part-way
    /// through a batch leaves an exact record of who got what.
    pub fn record_send(&self, s: &SendRecord) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO sends (key, kind, message_id, partnership_id, recipient, template_id, year, file_sha256, sent_at, transport, result, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![s.key, s.kind, s.message_id, s.partnership_id, s.recipient, s.template_id, s.year, s.file_sha256, s.sent_at, s.transport, s.result, s.state],
        )?;
        Ok(())
    }

    /// Every send attempt, oldest first.
    pub fn sends(&self) -> anyhow::Result<Vec<SendRecord>> {
        self.sends_where("1", rusqlite::params![])
    }

    /// Every send attempt for one year's forms, oldest first.
    pub fn sends_for_year(&self, year: i32) -> anyhow::Result<Vec<SendRecord>> {
        self.sends_where("year = ?1", rusqlite::params![year])
    }

    fn sends_where(
        &self,
        filter: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> anyhow::Result<Vec<SendRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT key, kind, message_id, partnership_id, recipient, template_id, year, file_sha256, sent_at, transport, result, state FROM sends WHERE {filter} ORDER BY id",
        ))?;
        let rows = stmt.query_map(params, |r| {
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
                state: r.get(11)?,
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

/// Maps `sha256, status, path, partnership_id, template_id, template_version, year, message`.
pub(super) fn seen_file(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, SeenFile)> {
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

pub(super) fn stored_finding(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFinding> {
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
