//! Earlier years' scores, imported from and exported to the long history CSV.

use std::path::Path;

use rusqlite::params;

use super::queries::MERGED_HISTORY;
use super::*;

impl Store {
    /// Loads earlier years' scores; a row for the same year, partnership and scope
    /// replaces the one stored. One transaction.
    pub fn import_history(&mut self, rows: &[HistoryRow]) -> anyhow::Result<usize> {
        self.backup_before_run()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO runs (started_at, year, ptk_version, files, summary, command) VALUES (?1, 0, ?2, 1, ?3, ?4)",
            params![
                chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                env!("CARGO_PKG_VERSION"),
                format!("imported {} score(s)", rows.len()),
                super::runs::command_line()
            ],
        )?;
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

    /// How many of `rows` a stored result (from returns already read) shadows: the
    /// review and export use the result, not the imported score.
    pub fn history_shadowed(
        &self,
        template_id: &str,
        rows: &[HistoryRow],
    ) -> anyhow::Result<usize> {
        let mut stmt = self.conn.prepare(
            "SELECT COUNT(*) > 0 FROM result_scores WHERE template_id = ?1 AND year = ?2
             AND partnership_id = ?3 AND scope = ?4 AND percent IS NOT NULL",
        )?;
        let mut n = 0;
        for r in rows {
            if stmt.query_row(
                params![template_id, r.year, r.partnership_id, r.scope],
                |x| x.get::<_, bool>(0),
            )? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Every score the store holds, in the long history format: current returns of
    /// scored templates first, then imported history for what returns do not cover.
    /// Sorted by year, partnership, then `overall` after the sections.
    pub fn history(&self, template_id: &str) -> anyhow::Result<Vec<HistoryRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT year, partnership_id, scope, percent, respondents FROM ({MERGED_HISTORY})
             ORDER BY year, partnership_id, scope = 'overall', scope"
        ))?;
        let rows = stmt.query_map([template_id], |r| {
            Ok(HistoryRow {
                year: r.get(0)?,
                partnership_id: r.get(1)?,
                scope: r.get(2)?,
                percent: r.get(3)?,
                respondents: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Parses the long history CSV: `year,partnership_id,section_id,percent`, where
/// `section_id` is a section id or `overall`. Every bad line is reported.
pub fn parse_history_csv(path: &Path, bytes: &[u8]) -> Result<Vec<HistoryRow>, Vec<String>> {
    match parse_history_lines(path, bytes)? {
        (rows, problems) if problems.is_empty() => Ok(rows.into_iter().map(|(_, r)| r).collect()),
        (_, problems) => Err(problems),
    }
}

/// The good rows of a history CSV, each with its line number, and a problem for each bad
/// line; `Err` when the file cannot be read at all (encoding, header).
#[allow(clippy::type_complexity)]
pub fn parse_history_lines(
    path: &Path,
    bytes: &[u8],
) -> Result<(Vec<(u64, HistoryRow)>, Vec<String>), Vec<String>> {
    if let Some(m) = crate::text::not_csv_utf8(path, bytes) {
        return Err(vec![m]);
    }
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
            .filter(|y| (2000..=2100).contains(y));
        let percent = get(cv)
            .trim_end_matches('%')
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| (0.0..=100.0).contains(p));
        let (pid, scope) = (get(cp), get(cs));
        match (year, percent) {
            (Some(year), Some(percent)) if !pid.is_empty() && !scope.is_empty() => {
                rows.push((line, HistoryRow {
                    year,
                    partnership_id: pid,
                    scope,
                    percent,
                    respondents: None,
                }));
            }
            _ => problems.push(format!(
                "{}:{line}: expected a year from 2000 to 2100 (like 2025), a partnership_id, a section_id (or 'overall') and a percent from 0 to 100; found '{}'",
                path.display(),
                rec.iter().collect::<Vec<_>>().join(",")
            )),
        }
    }
    Ok((rows, problems))
}

/// Checks parsed history rows against the register (`partnership_ids`, exactly as
/// written there) and the scored template's `sections` (plus `overall`): every unknown
/// partnership (with the register's spelling when only the case differs), unknown
/// section and repeated row, with its line number.
pub fn check_history_rows(
    path: &Path,
    rows: &[(u64, HistoryRow)],
    partnership_ids: &[String],
    sections: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<(i32, &str, &str), u64> = Default::default();
    for (line, r) in rows {
        let at = format!("{}:{line}", path.display());
        if !partnership_ids.contains(&r.partnership_id) {
            match partnership_ids.iter().find(|id| id.eq_ignore_ascii_case(&r.partnership_id)) {
                Some(id) => problems.push(format!(
                    "{at}: partnership '{}' is written '{id}' in the register; write it the same way",
                    r.partnership_id
                )),
                None => problems.push(format!(
                    "{at}: partnership '{}' is not in the register; check the id (or add the partnership to the register)",
                    r.partnership_id
                )),
            }
        }
        if r.scope != crate::score::OVERALL && !sections.contains(&r.scope) {
            problems.push(format!(
                "{at}: section '{}' is not a section of the self-assessment; use one of: {}, overall",
                r.scope,
                sections.join(", ")
            ));
        }
        match seen.get(&(r.year, r.partnership_id.as_str(), r.scope.as_str())) {
            Some(first) => problems.push(format!(
                "{at}: repeats line {first} ({} {} {}); keep one of them",
                r.year, r.partnership_id, r.scope
            )),
            None => {
                seen.insert((r.year, &r.partnership_id, &r.scope), *line);
            }
        }
    }
    problems
}

/// Writes history rows as the long CSV, partnership-level, with how many respondents
/// each stored result comes from (blank for imported rows). Importing it back ignores
/// that column: history stays partnership-level.
pub fn history_csv(rows: &[HistoryRow]) -> anyhow::Result<Vec<u8>> {
    let mut csv = crate::output::SafeCsv::new();
    csv.row([
        "year",
        "partnership_id",
        "section_id",
        "percent",
        "respondents",
    ])?;
    for r in rows {
        csv.row([
            r.year.to_string(),
            r.partnership_id.clone(),
            r.scope.clone(),
            format!("{}", r.percent),
            r.respondents.map(|n| n.to_string()).unwrap_or_default(),
        ])?;
    }
    csv.into_bytes()
}
