//! Why a file could not be read, and what the officer is told.

use crate::findings::Code;

/// Why a file could not be read, in terms an officer can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    /// A zip whose parts unpack to more than the limit (a "zip bomb", or not a return).
    UnpacksTooLarge {
        limit: u64,
    },
    /// The file states sizes it cannot really hold (a sheet of billions of cells, a
    /// hundred trillion shared strings) that a reader would reserve memory for.
    ClaimsTooMuch(String),
    /// Memory for reading it could not be had: the reader's memory limit, reported as
    /// such and never as damage (the same file gives the same verdict every run).
    OutOfMemory,
    Encrypted,
    /// The file's parts contradict each other (a sheet listed with no content, text that
    /// is not the encoding it declares): damage, not a form ptk cannot read.
    Damaged(String),
    /// A worksheet saved by Excel 2.0, 3.0 or 4.0 (1987–1992): not damage, a format
    /// calamine does not read. Which version.
    OldExcel(&'static str),
    Corrupt(String),
}

impl ReadError {
    /// The finding code the error is reported as.
    pub fn code(&self) -> Code {
        match self {
            ReadError::TooLarge { .. }
            | ReadError::UnpacksTooLarge { .. }
            | ReadError::ClaimsTooMuch(_)
            | ReadError::OutOfMemory => Code::TooLarge,
            ReadError::Encrypted => Code::Encrypted,
            ReadError::Damaged(_) | ReadError::OldExcel(_) | ReadError::Corrupt(_) => {
                Code::Unreadable
            }
        }
    }

    pub fn message(&self) -> String {
        match self {
            ReadError::TooLarge { bytes, limit } => format!(
                "the file is {:.1} MB, more than the {:.0} MB a return may be; it is probably not the issued form. Ask for the form to be sent again without extra content",
                *bytes as f64 / 1e6,
                *limit as f64 / 1e6
            ),
            ReadError::UnpacksTooLarge { limit } => format!(
                "the file unpacks to more than {:.0} MB (a workbook is a compressed archive, and this one holds far more than any return), so it is not read; it may be deliberately malformed. Ask for the issued form to be filled in and sent again",
                *limit as f64 / 1e6
            ),
            ReadError::ClaimsTooMuch(what) => format!(
                "the file is not read: {what}, far more than any return holds (a return is a few hundred cells), and reading it would take more memory than a return may; it is not the issued form, or it is damaged or deliberately malformed. Ask for the issued form to be filled in, saved from Excel as .xlsx and sent again"
            ),
            ReadError::OutOfMemory => "reading the file needed more memory than a reader may use (the memory limit, --max-memory-mb), far more than any return needs; it is not the plain form, or it is deliberately malformed. Ask for the issued form to be filled in, saved from Excel as .xlsx and sent again".into(),
            ReadError::Encrypted => "the file is password-protected (encrypted), so it cannot be read. Ask the sender to remove the password (File > Info > Protect Workbook in Excel) and send it again".into(),
            ReadError::Damaged(why) => format!(
                "the file is damaged or cut short (perhaps when it was sent) and cannot be opened; ask the sender to save it again from Excel or LibreOffice and resend it (detail: {why})"
            ),
            ReadError::OldExcel(version) => format!(
                "the file is an {version} worksheet, a format from before 1993 that ptk cannot read (it is not damaged). Ask the sender to open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx), then send it again"
            ),
            ReadError::Corrupt(why) if why.contains("Zip") || why.contains("zip") => format!(
                "the file is damaged or cut short (perhaps when it was sent) and cannot be opened; ask the sender to save it again from Excel or LibreOffice and resend it (detail: {why})"
            ),
            ReadError::Corrupt(why) => format!(
                "the file is saved in a form ptk cannot read ({why}): another program or an old version of Excel may have written it, or it is damaged. Ask the sender to open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx), then send it again"
            ),
        }
    }
}
