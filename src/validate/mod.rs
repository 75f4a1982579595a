//! Validation rules: pure functions from a question and a cell value to an answer or
//! a finding. Every finding has a stable code (listed in `docs/findings.md`) and a
//! message that says what is wrong and what to do.
//!
//! By step, each using only those before it: [`finding`] (a problem found), [`answer`]
//! (one cell against its question), [`whole_return`] (every answer of a return).

mod answer;
mod finding;
mod whole_return;

pub use crate::findings::Code;
pub use answer::{check_answer, match_option, Answer};
pub use finding::{Finding, Severity};
pub use whole_return::{describe, validate_return};

#[cfg(test)]
mod edge_tests;
