//! `ptk`, the Partnership Toolkit: a council's annual partnership reviews as a
//! reliable batch routine.
//!
//! The modules follow the pipeline:
//! register + template → issue → returned file → read → validate → score → store → report.
//!
//! - [`register`]: the partnership register (CSV).
//! - [`template`]: template definitions (TOML).
//! - [`contract`]: the fixed interface between issued and returned workbooks.
//! - [`issue`]: writing one workbook per partnership.
//! - [`score`]: scoring rules (pure).
//! - [`config`], [`letter`], [`output`]: settings, email text, safe output.
//! - [`mail`], [`status`]: the emails out, and where each form stands.

pub mod config;
pub mod contract;
pub mod dates;
pub mod feedback;
pub mod findings;
pub mod ingest;
pub mod interrupt;
pub mod issue;
pub mod letter;
pub mod mail;
pub mod objectives;
pub mod output;
pub mod read;
pub mod register;
pub mod report;
pub mod respondents;
pub mod rows;
pub mod score;
pub mod sends;
pub mod status;
pub mod store;
pub mod template;
pub mod text;
pub mod validate;
pub mod xlsx;

/// Process exit codes, documented in the README.
pub mod exit {
    /// Everything worked.
    pub const OK: i32 = 0;
    /// The run finished, but some input was rejected (files, rows or template problems).
    pub const REJECTED: i32 = 1;
    /// The run could not be done (bad arguments, unreadable register or template, store problem).
    pub const CANNOT_RUN: i32 = 2;
}
