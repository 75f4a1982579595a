//! The finding codes, each defined once: its stable code, severity, the line
//! docs/findings.md gives it (what it means, the typical fix), the officer's advice
//! (printed by `ptk mail corrections`) and what the partnership is asked. A test checks
//! that docs/findings.md lists exactly these codes with these words.
//!
//! Adding a code is one row in [`codes!`] below (and its line in docs/findings.md,
//! which the test asks for); the enum, `Code::ALL` and every lookup follow from the row.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// The return is rejected: not scored, not stored.
    Error,
    /// Worth knowing; the return is still accepted.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What a finding asks of the partnership, in a corrections email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Correct the answers in their own file, which goes back to them; the finding's own
    /// message says where (sheet, cell, question) and what.
    Correct,
    /// Their file cannot be used: send the return again. `why` tells the partnership
    /// why and what to do; with `current_form` the issued form goes with the letter.
    Resend {
        why: &'static str,
        current_form: bool,
    },
    /// Nothing to ask of the partnership: a warning, or the council's own matter
    /// (register, templates); the officer's advice says what to do.
    Nothing,
}

/// Everything ptk says about one finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The stable code in findings.csv; its text never changes once released.
    pub code: &'static str,
    pub severity: Severity,
    /// What it means (the "meaning" column of docs/findings.md).
    pub meaning: &'static str,
    /// The typical fix (the "typical fix" column of docs/findings.md).
    pub fix: &'static str,
    /// What the officer is told to do (printed by `ptk mail corrections`).
    pub officer: &'static str,
    /// What the partnership is asked in a corrections letter.
    pub partnership: Remedy,
}

macro_rules! codes {
    ($($variant:ident {
        code: $code:literal,
        severity: $severity:ident,
        meaning: $meaning:literal,
        fix: $fix:literal,
        officer: $officer:literal,
        partnership: $remedy:expr,
    },)*) => {
        /// The stable finding codes (one row each in [`codes!`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of the table (and of docs/findings.md).
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code's row.
            pub fn info(self) -> &'static CodeInfo {
                match self {
                    $(Code::$variant => &CodeInfo {
                        code: $code,
                        severity: Severity::$severity,
                        meaning: $meaning,
                        fix: $fix,
                        officer: $officer,
                        partnership: $remedy,
                    },)*
                }
            }
        }
    };
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.info().code
    }

    /// Whether a finding with this code rejects the return.
    pub fn severity(self) -> Severity {
        self.info().severity
    }

    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

codes! {
    Unreadable {
        code: "unreadable",
        severity: Error,
        meaning: "the file cannot be opened: damaged, cut short (also: a sheet listed with no content in the file, a part marked UTF-16 that is not), not really a spreadsheet or in a form ptk cannot read (the message says which; what other programs write that ptk repairs on the way is in [formats.md](formats.md)), an .xls whose internal sector chains loop or point outside the file, or it made the reader library fail; a saved email (.eml, .msg, a mailbox's message) that cannot be parsed; an email attachment of 0 bytes",
        fix: "ask for it to be saved again and resent",
        officer: "the file cannot be opened; the partnership is asked to save it again and resend it",
        partnership: Remedy::Resend {
            why: "The file could not be opened: it may be damaged, or have been cut short when it was sent. Please open your copy, save it again from Excel as an Excel Workbook (.xlsx) and send it again.",
            current_form: false,
        },
    },
    Encrypted {
        code: "encrypted",
        severity: Error,
        meaning: "the file is password-protected (encrypted): an xlsx/xlsb saved with a password, an .xls with XOR or RC4 encryption (its FILEPASS record), an .ods whose manifest lists encryption data. An xlsx/xlsm encrypted with Excel's default password (\"VelvetSweatshop\", which Excel and LibreOffice open without asking) is decrypted and read; an .xls with it is still reported here",
        fix: "ask for it without the password",
        officer: "the file is password-protected; the partnership is asked to send it without the password",
        partnership: Remedy::Resend {
            why: "The file is protected with a password, so we cannot open it. Please remove the password (in Excel: File, Info, Protect Workbook, Encrypt with Password, then clear the password), save it and send it again.",
            current_form: false,
        },
    },
    TooLarge {
        code: "too-large",
        severity: Error,
        meaning: "bigger than `--max-file-mb` (default 20 MB); an xlsx, xlsb or ods whose parts unpack to more than 4 × that (a \"zip bomb\"); or a file that claims more than it can hold, which a reader would reserve memory for: an .xls sheet whose DIMENSIONS record states more than 2,000,000 cells, an xlsx shared-strings table whose `uniqueCount` is more strings than the part has room for (5 bytes each); a saved email (one message) bigger than 4 × the file limit; or reading it needed more memory than the reader's limit (what the parts claim to unpack to is checked against the limit before any memory is reserved for them, so the verdict is the same every run)",
        fix: "ask for the plain form",
        officer: "the file is too large to read safely; the partnership is asked for the plain form",
        partnership: Remedy::Resend {
            why: "The file is larger than we can accept. Please send just the completed form, saved as an Excel Workbook (.xlsx), without added pictures, sheets or attachments.",
            current_form: false,
        },
    },
    NotPtk {
        code: "not-ptk",
        severity: Error,
        meaning: "no hidden `_ptk` identification sheet (or it is incomplete): not an issued form",
        fix: "ask for the answers on the issued form",
        officer: "not a form issued by ptk; the partnership is sent the current form to fill in",
        partnership: Remedy::Resend {
            why: "It is not the form we sent you, so we cannot read the answers from it. Please enter them on the form itself (attached): you can copy them across from your file.",
            current_form: true,
        },
    },
    UnknownTemplate {
        code: "unknown-template",
        severity: Error,
        meaning: "the form's template id is not in the templates folder",
        fix: "point `--templates` at the right folder",
        officer: "the form's template is not in the templates folder: point --templates at the right folder, or the partnership is sent the current form",
        partnership: Remedy::Resend {
            why: "It was made from a form we no longer use. Please enter your answers on the current form (attached).",
            current_form: true,
        },
    },
    UnknownVersion {
        code: "unknown-version",
        severity: Error,
        meaning: "made from a newer template version than the folder has, or an older one whose questions no longer match (the version is named)",
        fix: "update the templates, or send the current form",
        officer: "an outdated version of the form; the partnership is sent the current form",
        partnership: Remedy::Resend {
            why: "It is an earlier version of the form, whose questions have changed. Please enter your answers on the current form (attached): most can be copied across.",
            current_form: true,
        },
    },
    OlderVersion {
        code: "older-version",
        severity: Warning,
        meaning: "made from an older template version whose questions still match (not given when the template marks what later versions added with `since`: such a return is complete for its version)",
        fix: "none",
        officer: "an older version whose questions still match; accepted, nothing to do",
        partnership: Remedy::Nothing,
    },
    UnknownPartnership {
        code: "unknown-partnership",
        severity: Error,
        meaning: "the partnership id is not in the register",
        fix: "add it to the register",
        officer: "the partnership id is not in the register: add the partnership, or correct its id, and run ptk ingest again",
        partnership: Remedy::Nothing,
    },
    WrongYear {
        code: "wrong-year",
        severity: Error,
        meaning: "the form is for another review year",
        fix: "ask for this year's return",
        officer: "the form is for another year (perhaps last year's file sent by mistake); the partnership is sent this year's form",
        partnership: Remedy::Resend {
            why: "It is the form for another year, perhaps last year's file sent by mistake. Please complete this year's form (attached).",
            current_form: true,
        },
    },
    StatusMismatch {
        code: "status-mismatch",
        severity: Warning,
        meaning: "the register status does not fit the template (e.g. a self-assessment from an exiting partnership)",
        fix: "check the register",
        officer: "the register status does not fit the form returned: check the register",
        partnership: Remedy::Nothing,
    },
    StructureChanged {
        code: "structure-changed",
        severity: Error,
        meaning: "an answer cell or a form sheet cannot be found (renamed/deleted sheet, names and cell map both gone)",
        fix: "send a fresh copy of the form",
        officer: "sheets or answer cells were renamed, moved or deleted; the partnership is sent a fresh form",
        partnership: Remedy::Resend {
            why: "Sheets or answer cells of the form were renamed, moved or deleted, so we cannot find all your answers. Please enter them on a fresh copy of the form (attached), without changing its layout.",
            current_form: true,
        },
    },
    MissingAnswer {
        code: "missing-answer",
        severity: Error,
        meaning: "a required question is blank",
        fix: "answer it",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    NotAnOption {
        code: "not-an-option",
        severity: Error,
        meaning: "the answer is not one of the dropdown options (exact label, different case/spacing, or the option's leading number are accepted)",
        fix: "choose from the dropdown",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    NotANumber {
        code: "not-a-number",
        severity: Error,
        meaning: "text where a number is needed",
        fix: "enter a number only",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    NotADate {
        code: "not-a-date",
        severity: Error,
        meaning: "text where a date is needed",
        fix: "enter a date",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    OutOfRange {
        code: "out-of-range",
        severity: Error,
        meaning: "a number outside its min/max, a fraction where a whole number is needed, or an implausible date",
        fix: "correct the value",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    InvalidEmail {
        code: "invalid-email",
        severity: Error,
        meaning: "not a valid email address",
        fix: "correct it",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    CellError {
        code: "cell-error",
        severity: Error,
        meaning: "the cell shows a spreadsheet error (#N/A, #DIV/0!, …)",
        fix: "type the answer over it",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    IncompleteRisk {
        code: "incomplete-risk",
        severity: Error,
        meaning: "a risk row has some but not all of description, likelihood, impact",
        fix: "complete or clear the row",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    IncompleteRow {
        code: "incomplete-row",
        severity: Error,
        meaning: "a row of a table question (such as the objectives) has something in it but not a column the template marks `required`",
        fix: "complete or clear the row",
        officer: "the partnership is asked to correct the answers named, in its own file",
        partnership: Remedy::Correct,
    },
    MissingAction {
        code: "missing-action",
        severity: Warning,
        meaning: "a statement is scored at or below the template's `action_below` but its Action (what) cell is blank",
        fix: "agree an action with the partnership; next year's form asks again",
        officer: "a statement scored at or below the template's action_below has no action (what, who, by when); accepted: agree one with the partnership, it will be asked again next year",
        partnership: Remedy::Nothing,
    },
    DuplicateReturn {
        code: "duplicate-return",
        severity: Warning,
        meaning: "another return for the same partnership, template and year in the same run was issued (then saved) later and is used instead; or the file is byte-for-byte identical to one read earlier in the same run (\"identical to …\", counted and stored once)",
        fix: "none",
        officer: "another return for the same form was used instead; nothing to do",
        partnership: Remedy::Nothing,
    },
    ReaderFailed {
        code: "reader-failed",
        severity: Error,
        meaning: "the file could not be read safely: the reader process reading it crashed, ran past the memory limit or past the time limit, twice (the message says which). The rest of the run is unaffected; the run's summary names the file",
        fix: "ask the sender to open it in Excel and save it again as an Excel Workbook (.xlsx)",
        officer: "the file could not be read safely (the reader crashed, ran out of memory or time); the partnership is asked to save it again as .xlsx",
        partnership: Remedy::Resend {
            why: "The file could not be read safely: opening it went wrong in a way a normal form never does. Please open your copy in Excel, save it again as an Excel Workbook (.xlsx) and send it again.",
            current_form: false,
        },
    },
    UnknownRespondent {
        code: "unknown-respondent",
        severity: Warning,
        meaning: "the form was issued to a respondent (its `_ptk` `respondent_id`) who is not in the respondents file now; the return is accepted and its answers count towards the partnership's score (people move on)",
        fix: "if they still take part, add them back to the respondents file",
        officer: "a form from a respondent who is no longer in the respondents file; accepted (their answers count): add them back to the file if they still take part",
        partnership: Remedy::Nothing,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of docs/findings.md's code table: (code, severity, meaning, fix).
    fn documented() -> Vec<[String; 4]> {
        let doc = include_str!("../docs/findings.md");
        let table = doc
            .split("| code | severity |")
            .nth(1)
            .expect("docs/findings.md has the code table")
            .split("\n\n")
            .next()
            .unwrap();
        table
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
                assert_eq!(cells.len(), 4, "a row of four columns: {l}");
                [
                    cells[0].trim_matches('`').to_string(),
                    cells[1].to_string(),
                    cells[2].to_string(),
                    cells[3].to_string(),
                ]
            })
            .collect()
    }

    #[test]
    fn docs_list_exactly_the_codes_with_their_words() {
        let docs = documented();
        let table: Vec<[String; 4]> = Code::ALL
            .iter()
            .map(|c| {
                let i = c.info();
                [i.code, i.severity.as_str(), i.meaning, i.fix].map(str::to_string)
            })
            .collect();
        for row in &table {
            assert!(
                docs.contains(row),
                "docs/findings.md lacks or words differently: {row:?}"
            );
        }
        for row in &docs {
            assert!(
                table.contains(row),
                "docs/findings.md has a row no code has: {row:?}"
            );
        }
        assert_eq!(docs.len(), table.len());
    }

    #[test]
    fn codes_are_unique_and_parse_back() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert!(!Code::ALL[..i].iter().any(|d| d.as_str() == c.as_str()));
        }
    }

    #[test]
    fn every_code_has_advice_for_the_officer_and_the_partnership() {
        for &code in Code::ALL {
            let i = code.info();
            assert!(i.officer.len() > 20, "{code:?}");
            match i.partnership {
                // Only an error asks something of the partnership; a warning never does.
                Remedy::Correct | Remedy::Resend { .. } => {
                    assert_eq!(i.severity, Severity::Error, "{code:?}")
                }
                Remedy::Nothing => {}
            }
            if let Remedy::Resend { why, .. } = i.partnership {
                assert!(
                    !why.contains("ask "),
                    "{code:?} talks to the officer: {why}"
                );
            }
        }
    }
}
