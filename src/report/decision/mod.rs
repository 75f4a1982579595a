//! The decision rules: which partnerships the Leadership Team should decide about,
//! why, with the evidence from every year in the store, and what to do. A pure function
//! over the gathered rows; the thresholds come from the `[decision]` table of ptk.toml.
//!
//! Each rule is defined once, in [`Rule`]: its setting, the words the Overview uses for
//! it, its line in docs/review.md and the action it proposes. A test checks the docs
//! list exactly these rules, and the unit tests' `example` must cover every rule (the
//! match is exhaustive, so a rule without a test does not compile).
//!
//! [`settings`] holds what the rules read, [`rule`] defines each rule, [`reason`] words
//! why a partnership is listed and [`check`] applies the rules; each uses only the
//! ones before it.

mod check;
mod reason;
mod rule;
mod settings;

pub use check::{check, decide, evidence, reasons, Decision};
pub use reason::{signed, Reason};
pub use rule::{Rule, RuleDef};
pub use settings::{Context, DecisionRules};

#[cfg(test)]
mod tests;
