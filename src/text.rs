//! Text rules shared by the register, the templates and the returned answers.

/// Labels compared the way a returned answer is matched: case and spacing ignored.
pub fn normalise_label(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// When a CSV's bytes are not UTF-8 (Excel's "Unicode Text" is UTF-16; its plain "CSV" is
/// Windows-1252 on a UK PC), what to tell the officer: which file, what it is, and how to
/// save it as ptk reads it.
pub fn not_csv_utf8(path: &std::path::Path, bytes: &[u8]) -> Option<String> {
    let utf16 = bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || bytes.iter().take(200).filter(|&&b| b == 0).count() > 10;
    let kind = if utf16 {
        "UTF-16 (Excel's \"Unicode Text\")"
    } else if std::str::from_utf8(bytes).is_err() {
        "Windows-1252 (Excel's plain \"CSV (Comma delimited)\")"
    } else {
        return None;
    };
    Some(format!(
        "{} is saved as {kind}, not as CSV UTF-8, so ptk cannot read it reliably. In Excel: File > Save As, choose \"CSV UTF-8 (Comma delimited) (*.csv)\", save, and run again",
        path.display()
    ))
}
