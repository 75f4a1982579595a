//! What every visible sheet of a form shares (protection, the answer and evidence
//! headings the instructions name, dropdown column widths), below the sheet writers so
//! that none of them imports another.

use rust_xlsxwriter::{ProtectionOptions, Worksheet};

use super::settings::IssueSettings;

/// The heading of the evidence column, named in the instructions.
pub(super) const EVIDENCE_HEADER: &str = "Evidence / comments";
/// The heading of the answer column, named in the instructions.
pub(super) const ANSWER_HEADER: &str = "Your answer";

/// Width (characters) a column needs to show `label` whole in a dropdown, with room
/// for the dropdown arrow.
pub(super) fn dropdown_width(label: &str) -> f64 {
    label.chars().count() as f64 + 4.0
}

/// Locks a visible sheet, but lets the officer make rows taller and columns wider:
/// a long answer must never be stuck behind a row height.
pub(super) fn protect(ws: &mut Worksheet, settings: &IssueSettings) {
    match &settings.password {
        Some(pw) if !pw.is_empty() => ws.protect_with_password(pw),
        _ => ws.protect(),
    };
    ws.protect_with_options(&ProtectionOptions {
        format_rows: true,
        format_columns: true,
        ..ProtectionOptions::default()
    });
}
