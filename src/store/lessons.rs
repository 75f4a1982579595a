//! The lessons and achievements recorded in every exit document in the store, all
//! years, for the review's Lessons sheet.

use rusqlite::params;

use super::*;

/// One exit document's lessons, as the partnership recorded them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitLessons {
    pub year: i32,
    pub partnership_id: String,
    /// The name in the store's copy of the register (the id where it has none).
    pub partnership_name: String,
    pub achieved: String,
    pub lessons: String,
}

impl Store {
    /// Every current return of `template_id` (the exit document), every year, with its
    /// `achieved` and `lessons` answers, by year then partnership.
    pub fn exit_lessons(&self, template_id: &str) -> anyhow::Result<Vec<ExitLessons>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.year, r.partnership_id, COALESCE(p.name, r.partnership_id),
                    COALESCE((SELECT value FROM answers WHERE return_id = r.id AND question_id = 'achieved'), ''),
                    COALESCE((SELECT value FROM answers WHERE return_id = r.id AND question_id = 'lessons'), '')
             FROM returns r LEFT JOIN partnerships p ON p.id = r.partnership_id
             WHERE r.template_id = ?1 AND r.current = 1
             ORDER BY r.year, r.partnership_id, r.respondent_id",
        )?;
        let rows = stmt.query_map(params![template_id], |r| {
            Ok(ExitLessons {
                year: r.get(0)?,
                partnership_id: r.get(1)?,
                partnership_name: r.get(2)?,
                achieved: r.get(3)?,
                lessons: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
