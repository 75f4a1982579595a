//! Text rules shared by the register, the templates and the returned answers.

/// Labels compared the way a returned answer is matched: case and spacing ignored.
pub fn normalise_label(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
