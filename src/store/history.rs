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
                rows.push(HistoryRow {
                    year,
                    partnership_id: pid,
                    scope,
                    percent,
                    respondents: None,
                });
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
