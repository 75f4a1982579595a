//! The feedback emails' texts (templates/email/feedback.txt, feedback-corrected.txt,
//! ad-pack.txt): each with the placeholders its planner fills, so `ptk templates check`
//! can refuse a text with a placeholder no run would fill.

use std::collections::BTreeMap;
use std::path::Path;

/// The placeholders of a letter about one partnership's feedback, to one of its people.
pub const FEEDBACK_FIELDS: &[&str] = &[
    "council",
    "partnership",
    "partnership_id",
    "officer",
    "organisation",
    "lead_officer",
    "assistant_director",
    "form",
    "year",
    "file",
    "contact",
];

/// The placeholders of an Assistant Director's letter.
pub const AD_FIELDS: &[&str] = &[
    "council",
    "officer",
    "assistant_director",
    "year",
    "partnerships",
    "count",
    "file",
    "contact",
];

/// Every feedback email text and its placeholders.
pub const LETTERS: &[(&str, &[&str])] = &[
    ("feedback", FEEDBACK_FIELDS),
    ("feedback-corrected", FEEDBACK_FIELDS),
    ("ad-pack", AD_FIELDS),
];

/// Checks each feedback email text in `<templates>/email/` (or the built-in one) as a
/// run would fill it; one sentence per problem, naming the file and the placeholder.
pub fn check(templates_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, fields) in LETTERS {
        let fields: BTreeMap<&str, String> = fields.iter().map(|f| (*f, String::new())).collect();
        if let Err(e) =
            crate::letter::load_named(templates_dir, name).and_then(|t| t.render(&fields))
        {
            problems.push(format!("{e:#}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feedback_text_with_a_placeholder_no_run_fills_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check(dir.path()).is_empty(), "the built-in texts");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        assert!(check(&shipped).is_empty(), "the shipped texts");
        std::fs::create_dir(dir.path().join("email")).unwrap();
        std::fs::write(
            dir.path().join("email/feedback.txt"),
            "Subject: {partnership}\n\nYour score: {score}",
        )
        .unwrap();
        std::fs::write(dir.path().join("email/ad-pack.txt"), "Hello {partnerships}").unwrap();
        let p = check(dir.path());
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("feedback.txt") && p[0].contains("{score}"),
            "{p:?}"
        );
        assert!(
            p[1].contains("ad-pack.txt") && p[1].contains("Subject:"),
            "{p:?}"
        );
    }

    #[test]
    fn docs_feedback_lists_exactly_the_placeholders_of_each_text() {
        let docs =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/feedback.md"))
                .unwrap();
        let listed = |file: &str| -> Vec<String> {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{file}`")))
                .unwrap_or_else(|| panic!("docs/feedback.md has no row for {file}"));
            let last = row.trim_end_matches('|').rsplit('|').next().unwrap();
            let mut v: Vec<String> = last
                .split('`')
                .filter(|w| w.starts_with('{') && w.ends_with('}'))
                .map(|w| w.trim_matches(|c| c == '{' || c == '}').to_string())
                .collect();
            v.sort();
            v
        };
        let sorted = |f: &[&str]| {
            let mut v: Vec<String> = f.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(listed("feedback.txt"), sorted(FEEDBACK_FIELDS));
        assert_eq!(listed("ad-pack.txt"), sorted(AD_FIELDS));
        assert!(docs.contains(
            "| `feedback-corrected.txt` | `ptk mail feedback --corrected` | as `feedback.txt` |"
        ));
    }
}
