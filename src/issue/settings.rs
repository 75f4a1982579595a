//! What an issue run is given and what it gives back, in a module of its own below
//! the sheet writers, so that they and `mod.rs` do not import each other.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::respondents::Respondent;

/// Everything about an issue run that is the same for every partnership.
#[derive(Debug, Clone)]
pub struct IssueSettings {
    pub council: String,
    pub year: i32,
    /// The issue date written into `_ptk` and the document properties; fixed so that
    /// a run can be reproduced byte for byte.
    pub issued_on: NaiveDate,
    pub deadline: NaiveDate,
    pub return_address: String,
    /// Sheet-protection password; `None` protects without a password.
    pub password: Option<String>,
}

impl IssueSettings {
    /// The part of the settings the covering letter uses.
    pub fn letter_context(&self) -> crate::letter::LetterContext {
        crate::letter::LetterContext {
            council: self.council.clone(),
            year: self.year,
            deadline: self.deadline,
            return_address: self.return_address.clone(),
        }
    }
}

/// One workbook written by an issue run.
#[derive(Debug, Clone)]
pub struct Issued {
    pub partnership_id: String,
    /// Whose form it is (the lead officer's has id `lead`).
    pub respondent: Respondent,
    pub path: PathBuf,
}
