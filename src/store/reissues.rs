//! Forms issued again on purpose (`ptk issue --reissue`). A form is named by what it is
//! (template, year, partnership, respondent); its edition counts the deliberate
//! re-issues, so the issue email of each edition is sent once, and a later edition says
//! it replaces the earlier form. A form never re-issued is edition 1 and has no row.

use rusqlite::{params, OptionalExtension};

use super::Store;

/// Kept apart from the main schema (and its version): created on open, in any store.
pub(super) const REISSUES: &str = "
CREATE TABLE IF NOT EXISTS reissues (
    template_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    partnership_id TEXT NOT NULL,
    respondent_id TEXT NOT NULL,
    edition INTEGER NOT NULL,
    issued_on TEXT NOT NULL,
    replaced_file TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (template_id, year, partnership_id, respondent_id, edition)
);
";

/// Which form: template, year, partnership id, respondent id (`lead` for the lead
/// officer). Ids compare without regard to case, as everywhere else.
pub type FormKey<'a> = (&'a str, i32, &'a str, &'a str);

impl Store {
    /// The form's current edition: 1 unless it was re-issued.
    pub fn form_edition(&self, (t, year, pid, rid): FormKey<'_>) -> anyhow::Result<u32> {
        let e: Option<u32> = self
            .conn
            .query_row(
                "SELECT MAX(edition) FROM reissues WHERE template_id = ?1 AND year = ?2
                 AND lower(partnership_id) = lower(?3) AND lower(respondent_id) = lower(?4)",
                params![t, year, pid, rid],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(e.unwrap_or(1))
    }

    /// Records that the form was issued again as `edition` on `issued_on`, the earlier
    /// file kept at `replaced_file`.
    pub fn record_reissue(
        &self,
        (t, year, pid, rid): FormKey<'_>,
        edition: u32,
        issued_on: &str,
        replaced_file: &str,
        now: &str,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO reissues (template_id, year, partnership_id, respondent_id, edition, issued_on, replaced_file, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![t, year, pid, rid, edition, issued_on, replaced_file, now],
        )?;
        Ok(())
    }
}
