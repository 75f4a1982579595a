//! Planning: who is written to, about what, with which attachment, under which key.
//! Pure apart from reading the outbox's workbooks and the store; nothing is sent here.

mod chase;
mod corrections;
mod feedback;
mod follow_up;
mod issue;

pub use chase::{plan_chase, ChaseOptions, ChasePlan};
pub use corrections::{plan_corrections, CorrectionLetters, CorrectionsPlan};
pub use feedback::{plan_ad_packs, plan_feedback, FeedbackLetters, FeedbackPlan};
pub use follow_up::{plan_follow_up, FollowUpLetters, FollowUpPlan};
pub use issue::{plan_issue, IssueLetters, IssuePlan};
