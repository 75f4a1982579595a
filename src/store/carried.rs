//! What next year's form is prefilled from: one current return's answers per
//! partnership (the lead officer's, or else the first other respondent's by id).

use std::collections::{BTreeMap, HashMap};

use rusqlite::params;

use super::*;

impl Store {
    /// The answers of each partnership's chosen current return of `template_id` in
    /// `year`, by partnership id then question id: the lead's return where there is one,
    /// else the respondent whose id sorts first, so the choice does not depend on the
    /// order returns arrived in.
    pub fn carried_answers(
        &self,
        template_id: &str,
        year: i32,
    ) -> anyhow::Result<BTreeMap<String, HashMap<String, String>>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.partnership_id, a.question_id, a.value FROM answers a
             JOIN returns r ON r.id = a.return_id
             WHERE r.id IN (
                 SELECT id FROM returns x
                 WHERE x.year = ?2 AND x.template_id = ?1 AND x.current = 1
                   AND x.respondent_id = (
                     SELECT y.respondent_id FROM returns y
                     WHERE y.year = x.year AND y.template_id = x.template_id
                       AND y.partnership_id = x.partnership_id AND y.current = 1
                     ORDER BY y.respondent_id != 'lead', y.respondent_id LIMIT 1))",
        )?;
        let mut out: BTreeMap<String, HashMap<String, String>> = BTreeMap::new();
        for row in stmt.query_map(params![template_id, year], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (p, q, v) = row?;
            out.entry(p).or_default().insert(q, v);
        }
        Ok(out)
    }
}
