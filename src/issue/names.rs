//! The names of the files an issue run writes.

/// The file name for a partnership's workbook: `<partnership_id>_<template_id>_<year>.xlsx`.
/// Both ids are already restricted to safe characters; this is a second guard.
pub fn file_name(partnership_id: &str, template_id: &str, year: i32) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}_{}_{year}.xlsx", safe(partnership_id), safe(template_id))
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
}
