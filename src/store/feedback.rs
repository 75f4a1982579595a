//! What a partnership's own feedback reads beyond the review: every answer of each of
//! its respondents' current returns, whether one respondent returned or several (the
//! review's [`Store::respondent_answers`] keeps only partnerships it can compare).

use rusqlite::params;

use super::*;

impl Store {
    /// Every answer on the current returns of `template_id` for `year` from
    /// `partnership_id`'s respondents, by respondent then question.
    pub fn partnership_answers(
        &self,
        year: i32,
        template_id: &str,
        partnership_id: &str,
    ) -> anyhow::Result<Vec<RespondentAnswer>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, r.respondent_id, a.question_id, a.value, a.points
             FROM returns r JOIN answers a ON a.return_id = r.id
             WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1
               AND r.partnership_id = ?3 COLLATE NOCASE
             ORDER BY r.respondent_id, a.question_id",
        )?;
        let rows = stmt.query_map(params![year, template_id, partnership_id], |r| {
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
}
