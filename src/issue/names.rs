//! The names of the files an issue run writes.

use crate::respondents::LEAD;

/// Keeps ids to safe file-name characters. The ids are already restricted; this is a
/// second guard.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file name for a partnership's workbook: `<partnership_id>_<template_id>_<year>.xlsx`
/// (the lead officer's form).
pub fn file_name(partnership_id: &str, template_id: &str, year: i32) -> String {
    format!("{}_{}_{year}.xlsx", safe(partnership_id), safe(template_id))
}

/// The file name for one respondent's workbook: the lead's keeps [`file_name`], so
/// every form issued before respondents existed keeps its name; the others add their
/// id, `<partnership_id>_<template_id>_<year>_<respondent_id>.xlsx`.
pub fn respondent_file_name(
    partnership_id: &str,
    template_id: &str,
    year: i32,
    respondent_id: &str,
) -> String {
    if respondent_id.is_empty() || respondent_id.eq_ignore_ascii_case(LEAD) {
        return file_name(partnership_id, template_id, year);
    }
    format!(
        "{}_{}_{year}_{}.xlsx",
        safe(partnership_id),
        safe(template_id),
        safe(respondent_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("P01", "self-assessment", 2026),
            "P01_self-assessment_2026.xlsx"
        );
        assert_eq!(file_name("a/b", "x", 2026), "a_b_x_2026.xlsx");
    }

    #[test]
    fn the_lead_keeps_the_usual_name_and_others_add_their_id() {
        assert_eq!(
            respondent_file_name("P01", "self-assessment", 2026, "lead"),
            "P01_self-assessment_2026.xlsx"
        );
        assert_eq!(
            respondent_file_name("P01", "self-assessment", 2026, "essex-police"),
            "P01_self-assessment_2026_essex-police.xlsx"
        );
        assert_eq!(
            respondent_file_name("P01", "x", 2026, "a.b"),
            "P01_x_2026_a_b.xlsx"
        );
    }
}
