//! Each decision rule defined once: its setting, how the setting turns it off, its
//! line in docs/review.md, the action it proposes and the words the Overview uses.

use super::settings::{Context, DecisionRules};

/// Every decision rule, in the order the Overview and the docs list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    LowestBand,
    Declined,
    DownYears,
    Stage,
    NoAcceptedReturn,
    NoUsableReturn,
    Proposal,
    ExitSoon,
}

/// What defines a rule besides its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDef {
    /// The key in `[decision]`, as written with its default value.
    pub setting: &'static str,
    /// How the setting turns the rule off.
    pub off: &'static str,
    /// The rule's line in docs/review.md's table.
    pub doc: &'static str,
    /// What the Leadership Team is asked to do.
    pub action: &'static str,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::LowestBand,
        Rule::Declined,
        Rule::DownYears,
        Rule::Stage,
        Rule::NoAcceptedReturn,
        Rule::NoUsableReturn,
        Rule::Proposal,
        Rule::ExitSoon,
    ];

    pub fn def(self) -> RuleDef {
        let (setting, off, doc, action) = match self {
            Rule::LowestBand => (
                "lowest_band = true",
                "false",
                "Overall score in the lowest band (Red); the evidence says how many years running it has been there and its change on last year",
                "Agree an improvement plan, or exit",
            ),
            Rule::Declined => (
                "decline_points = 5",
                "0",
                "Overall down this many points or more on last year",
                "Ask the partnership why, and agree what it will change",
            ),
            Rule::DownYears => (
                "down_two_years = true",
                "false",
                "Overall lower than the year before, two years running or more; the evidence gives every year of the slide and the points lost since it began",
                "Agree an improvement plan, or exit",
            ),
            Rule::Stage => (
                "stages = [\"Failing\"]",
                "[]",
                "Any respondent (the lead officer or a partner) chooses one of these life-cycle stages; each such respondent is named, with how many chose otherwise",
                "Decide whether to continue, change or end the partnership",
            ),
            Rule::NoAcceptedReturn => (
                "no_accepted_return = true",
                "false",
                "No accepted self-assessment this year or last year (partnerships that owe one)",
                "Chase the return; if none comes, decide whether the partnership should continue",
            ),
            Rule::NoUsableReturn => (
                "no_usable_return = true",
                "false",
                "No usable self-assessment this year (rejected, unreadable or missing: it says which) where the last score was in the lowest band or lower than the one before",
                "Chase the return",
            ),
            Rule::Proposal => (
                "proposals = true",
                "false",
                "A new-partnership proposal received and awaiting a decision, with its highest risk, annual council contribution and whether termination arrangements are understood",
                "Decide whether to approve",
            ),
            Rule::ExitSoon => (
                "exit_within_months = 6",
                "0",
                "Exiting, no accepted exit document, and the exit date within this many months of the data date (or not known)",
                "Chase the exit document and confirm the exit arrangements",
            ),
        };
        RuleDef {
            setting,
            off,
            doc,
            action,
        }
    }

    /// The rule in force in words, for the Overview ("overall down 5 points or more on
    /// 2025"); none when its setting turns it off.
    pub fn words(self, rules: &DecisionRules, cx: &Context) -> Option<String> {
        let y = cx.year;
        match self {
            Rule::LowestBand => match (rules.lowest_band, cx.lowest_band) {
                (true, Some((band, below))) => Some(format!(
                    "overall score in the {band} band (below {below:.0})"
                )),
                _ => None,
            },
            Rule::Declined => (rules.decline_points > 0.0).then(|| {
                format!(
                    "overall down {} points or more on {}",
                    crate::read::format_number(rules.decline_points),
                    y - 1
                )
            }),
            Rule::DownYears => rules
                .down_two_years
                .then(|| "overall down two years running or more".to_string()),
            Rule::Stage => (!rules.stages.is_empty()).then(|| {
                format!(
                    "any respondent says the life-cycle stage is {}",
                    rules.stages.join(" or ")
                )
            }),
            Rule::NoAcceptedReturn => rules
                .no_accepted_return
                .then(|| format!("no accepted self-assessment in {y} or {}", y - 1)),
            Rule::NoUsableReturn => rules.no_usable_return.then(|| {
                format!("no usable self-assessment in {y} where the last score was low or falling")
            }),
            Rule::Proposal => rules
                .proposals
                .then(|| "a new-partnership proposal awaiting a decision".to_string()),
            Rule::ExitSoon => (rules.exit_within_months > 0).then(|| {
                format!(
                    "leaving within {} months (or on a date not known) with no accepted exit document",
                    rules.exit_within_months
                )
            }),
        }
    }
}
