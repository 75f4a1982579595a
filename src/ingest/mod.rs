//! Ingest: the year-end batch import of returned workbooks.
//!
//! Every input file ends with exactly one status: accepted, accepted-with-warnings,
//! rejected, duplicate, unchanged or skipped. The stages, one file each:
//!
//! - `inputs`: finding the inputs in folders; [`email`]: unpacking saved emails
//!   ([`msg`]: Outlook's format). Below them, importing neither: `input` (one input,
//!   its attachment, the file endings) and `envelope` (what a message holds).
//! - `examine`: examining one file (bytes in, outcome out: read, identify, validate, score).
//! - [`pool`]: the worker processes that examine files under memory and time limits.
//! - [`run`]: the run: outcomes streamed into one store transaction and the report
//!   spool (`spool`, with each file's `FileReport`), then the summary.
//!
//! A module imports only modules below it (`scripts/module-cycles.py` checks).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::read::Limits;
use crate::register::Register;
use crate::score::Score;
use crate::template::Template;
use crate::validate::{Finding, Severity};

pub mod email;
mod envelope;
mod examine;
mod input;
mod inputs;
pub mod msg;
pub mod pool;
mod run;
mod spool;

pub use envelope::Envelope;
pub use examine::process;
pub use input::{Attachment, Input, MAIL_EXTENSIONS, WORKBOOK_EXTENSIONS};
pub use inputs::collect_inputs;
pub use run::{run, PendingReports, RunOutput};
pub use spool::{FileReport, Tally};

/// The outcome of one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    Accepted,
    AcceptedWithWarnings,
    Rejected,
    Duplicate,
    Unchanged,
    Skipped,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Accepted,
        Status::AcceptedWithWarnings,
        Status::Rejected,
        Status::Duplicate,
        Status::Unchanged,
        Status::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::AcceptedWithWarnings => "accepted-with-warnings",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::Unchanged => "unchanged",
            Status::Skipped => "skipped",
        }
    }

    pub fn is_accepted(self) -> bool {
        matches!(self, Status::Accepted | Status::AcceptedWithWarnings)
    }
}

impl std::str::FromStr for Status {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| anyhow::anyhow!("unknown file status '{s}'"))
    }
}

/// What is fixed for a whole run.
pub struct Context<'a> {
    pub templates: &'a [Template],
    pub register: &'a Register,
    /// The respondents beyond each partnership's lead (empty without a respondents file).
    pub respondents: &'a crate::respondents::Respondents,
    pub year: i32,
    pub limits: Limits,
    /// Content hashes of the files already in the store (not read again).
    pub seen: &'a HashSet<String>,
}

/// Which return a file is, from its hidden identification sheet (or, for an unchanged
/// file, from the store). Carried whole through the worker protocol, so a new key is one
/// field here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub partnership_id: Option<String>,
    pub template_id: Option<String>,
    pub template_version: Option<u32>,
    pub year: Option<i32>,
    pub issued_at: Option<String>,
    /// Whose form it is (`_ptk` respondent_id); `None` for forms issued before
    /// respondents existed, which are the lead officer's.
    pub respondent_id: Option<String>,
}

/// Everything learned from one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    #[serde(with = "pool::protocol::path_bytes")]
    pub path: PathBuf,
    pub sha256: String,
    pub status: Status,
    /// Which return it is, as far as it could be identified.
    pub identity: Identity,
    pub findings: Vec<Finding>,
    pub message: String,
    /// Validated answers and evidence, for accepted returns.
    pub answers: Vec<(String, String, Option<f64>, String)>,
    pub score: Option<Score>,
    /// Modification time, to choose between duplicates.
    pub modified: Option<std::time::SystemTime>,
    /// For an unchanged file: the status it was given when first ingested.
    pub previous: Option<String>,
    /// The email a return came in, if it came in one.
    pub envelope: Option<Envelope>,
}

impl Outcome {
    pub(crate) fn new(path: &Path, status: Status, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            sha256: String::new(),
            status,
            identity: Identity::default(),
            findings: Vec::new(),
            message: message.into(),
            answers: Vec::new(),
            score: None,
            modified: None,
            previous: None,
            envelope: None,
        }
    }

    pub(crate) fn reject(mut self, finding: Finding) -> Self {
        self.status = Status::Rejected;
        self.message = finding.message.clone();
        self.findings.push(finding);
        self
    }

    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }
}
