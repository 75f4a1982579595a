//! A finding: one problem in one file, with its code's severity. The codes themselves
//! (severity, words, advice) are defined once, in [`crate::findings`].

use serde::{Deserialize, Serialize};

use crate::contract::CellRef;
use crate::findings::Code;
pub use crate::findings::Severity;

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: Code,
    pub sheet: String,
    /// A1 form, e.g. `C12`; empty for file-level findings.
    pub cell: String,
    pub question_id: String,
    pub message: String,
}

impl Finding {
    /// A finding about the whole file.
    pub fn file(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: code.severity(),
            code,
            sheet: String::new(),
            cell: String::new(),
            question_id: String::new(),
            message: message.into(),
        }
    }

    /// A finding about one question's cell.
    pub fn at(code: Code, cell: &CellRef, question_id: &str, message: impl Into<String>) -> Self {
        Self {
            severity: code.severity(),
            code,
            sheet: cell.sheet.clone(),
            cell: cell.a1(),
            question_id: question_id.to_string(),
            message: message.into(),
        }
    }
}
