//! What the mailing side asks about respondents: whose rejected files still wait for a
//! correction, so each corrections letter goes to the person whose file it was.

use rusqlite::params;

use super::Store;

/// A rejected file that still waits for its respondent's corrected return.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedFile {
    pub sha256: String,
    pub path: String,
    pub partnership_id: String,
    pub template_id: String,
    /// Whose file it was (`lead` for a form without `respondent_id`).
    pub respondent_id: String,
    /// The file's summary message, as ingest recorded it.
    pub message: String,
}

impl Store {
    /// The newest rejected file of each partnership, form and respondent for a review
    /// year that no accepted return from the same respondent has since replaced (a
    /// colleague's accepted return does not settle it). Sorted by partnership, form,
    /// respondent.
    pub fn rejected_respondent_files(&self, year: i32) -> anyhow::Result<Vec<RejectedFile>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.sha256, f.path, f.partnership_id, f.template_id,
                    COALESCE(NULLIF(f.respondent_id, ''), 'lead') AS rid, f.message
             FROM files f JOIN runs u ON u.id = f.run_id
             WHERE u.year = ?1 AND f.status = 'rejected' AND f.partnership_id IS NOT NULL
               AND f.template_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.current = 1 AND r.year = u.year
                               AND r.partnership_id = f.partnership_id
                               AND r.template_id = f.template_id
                               AND lower(r.respondent_id) = lower(COALESCE(NULLIF(f.respondent_id, ''), 'lead')))
             ORDER BY f.partnership_id, f.template_id, lower(rid), f.run_id DESC, f.path",
        )?;
        let rows = stmt.query_map(params![year], |r| {
            Ok(RejectedFile {
                sha256: r.get(0)?,
                path: r.get(1)?,
                partnership_id: r.get(2)?,
                template_id: r.get(3)?,
                respondent_id: r.get(4)?,
                message: r.get(5)?,
            })
        })?;
        let mut out: Vec<RejectedFile> = Vec::new();
        for row in rows {
            let row = row?;
            // Newest first within each respondent: keep the first.
            let same = out.last().is_some_and(|l| {
                l.partnership_id == row.partnership_id
                    && l.template_id == row.template_id
                    && l.respondent_id.eq_ignore_ascii_case(&row.respondent_id)
            });
            if !same {
                out.push(row);
            }
        }
        Ok(out)
    }
}
