//! Planning: who is written to, about what, with which attachment, under which key.
//! Pure apart from reading the outbox's workbooks and the store; nothing is sent here.

mod chase;
mod corrections;
mod issue;

pub use chase::{plan_chase, ChaseOptions, ChasePlan};
pub use corrections::{plan_corrections, CorrectionLetters, CorrectionsPlan};
pub use issue::{plan_issue, IssueLetters, IssuePlan};
