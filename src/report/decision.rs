//! The decision rules: which partnerships the Leadership Team should decide about,
//! why, with the evidence from every year in the store, and what to do. A pure function
//! over the gathered rows; the thresholds come from the `[decision]` table of ptk.toml.
//!
//! Each rule is defined once, in [`Rule`]: its setting, the words the Overview uses for
//! it, its line in docs/review.md and the action it proposes. A test checks the docs
//! list exactly these rules, and the unit tests' `example` must cover every rule (the
//! match is exhaustive, so a rule without a test does not compile).

use chrono::{Months, NaiveDate};
use serde::Deserialize;

use super::row::{ReturnState, Row};
use crate::register::Status;

/// The `[decision]` table of ptk.toml. Every rule is on by default; a number of 0 or an
/// empty list turns its rule off.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionRules {
    pub lowest_band: bool,
    pub decline_points: f64,
    pub down_two_years: bool,
    pub stages: Vec<String>,
    pub no_accepted_return: bool,
    pub no_usable_return: bool,
    pub proposals: bool,
    pub exit_within_months: u32,
}

impl Default for DecisionRules {
    fn default() -> Self {
        DecisionRules {
            lowest_band: true,
            decline_points: 5.0,
            down_two_years: true,
            stages: vec!["Failing".into()],
            no_accepted_return: true,
            no_usable_return: true,
            proposals: true,
            exit_within_months: 6,
        }
    }
}

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

/// What the rules need besides the rows.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub year: i32,
    /// The scored form's template id (the self-assessment).
    pub scored_id: &'a str,
    /// The lowest band: (label, the score it is below).
    pub lowest_band: Option<(&'a str, f64)>,
    /// The date the data are as of (the latest ingest run), for "within 6 months".
    pub as_of: Option<NaiveDate>,
}

/// Why a partnership is on the list, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    LowestBand {
        band: String,
        overall: f64,
        below: f64,
        /// Years running in the band, this one included.
        years: usize,
        /// Points on last year, where it was scored.
        change: Option<f64>,
    },
    Declined {
        from: f64,
        to: f64,
    },
    /// Every year of the slide, oldest first, each lower than the one before.
    DownYears {
        scores: Vec<(i32, f64)>,
    },
    /// The respondents who chose a decision stage (who, stage), and the stages the
    /// others chose. One respondent alone: `who` is empty.
    Stage {
        chosen: Vec<(String, String)>,
        others: Vec<String>,
    },
    NoAcceptedReturn {
        why: &'static str,
    },
    NoUsableReturn {
        why: &'static str,
        last_year: i32,
        last: f64,
        /// The lowest band's label, when the last score was in it.
        low: Option<String>,
        /// The score before the last, when the last was lower.
        falling_from: Option<f64>,
    },
    Proposal(super::row::Proposal),
    ExitSoon {
        date: Option<NaiveDate>,
    },
}

/// "two", "three" … for years running; digits from ten.
fn count_word(n: usize) -> String {
    const WORDS: [&str; 10] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_string())
}

fn signed(x: f64) -> String {
    if x >= 0.05 {
        format!("up {x:.1}")
    } else if x <= -0.05 {
        format!("down {:.1}", -x)
    } else {
        "no change".into()
    }
}

/// Whole pounds with thousands separators: 25000 → "25,000".
fn money(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// Why a partnership has no usable return this year, in words.
fn why_missing(state: &ReturnState) -> &'static str {
    match state {
        ReturnState::Rejected(_) => "rejected",
        ReturnState::Unreadable(_) => "unreadable",
        _ => "missing",
    }
}

impl Reason {
    pub fn rule(&self) -> Rule {
        match self {
            Reason::LowestBand { .. } => Rule::LowestBand,
            Reason::Declined { .. } => Rule::Declined,
            Reason::DownYears { .. } => Rule::DownYears,
            Reason::Stage { .. } => Rule::Stage,
            Reason::NoAcceptedReturn { .. } => Rule::NoAcceptedReturn,
            Reason::NoUsableReturn { .. } => Rule::NoUsableReturn,
            Reason::Proposal(_) => Rule::Proposal,
            Reason::ExitSoon { .. } => Rule::ExitSoon,
        }
    }

    /// The reason and its evidence in words, as the Overview shows it.
    pub fn words(&self, year: i32) -> String {
        match self {
            Reason::LowestBand {
                band,
                overall,
                below,
                years,
                change,
            } => {
                let mut s = format!("{band}: overall {overall:.1}% (below {below:.0})");
                if *years > 1 {
                    s.push_str(&format!(", {band} {} years running", count_word(*years)));
                }
                if let Some(c) = change {
                    s.push_str(&format!(", {} on {}", signed(*c), year - 1));
                }
                s
            }
            Reason::Declined { from, to } => format!(
                "Down {:.1} points on {} ({from:.1} → {to:.1})",
                from - to,
                year - 1
            ),
            Reason::DownYears { scores } => {
                let trail = scores
                    .iter()
                    .map(|(y, v)| format!("{y} {v:.1}"))
                    .collect::<Vec<_>>()
                    .join(" → ");
                let (first_year, first) = scores[0];
                let last = scores[scores.len() - 1].1;
                format!(
                    "Down {} years running ({trail}), {:.1} points since {first_year}",
                    count_word(scores.len() - 1),
                    first - last
                )
            }
            Reason::Stage { chosen, others } => {
                if others.is_empty() && chosen.len() == 1 && chosen[0].0.is_empty() {
                    return format!("Life-cycle stage: {}", chosen[0].1);
                }
                let mut parts: Vec<String> =
                    chosen.iter().map(|(w, s)| format!("{w}: {s}")).collect();
                let mut seen: Vec<(&str, usize)> = Vec::new();
                for o in others {
                    match seen.iter_mut().find(|(s, _)| *s == o.as_str()) {
                        Some(e) => e.1 += 1,
                        None => seen.push((o, 1)),
                    }
                }
                for (s, n) in seen {
                    let who = if n == 1 { "other" } else { "others" };
                    parts.push(format!("{n} {who}: {s}"));
                }
                format!("Life-cycle stage: {}", parts.join("; "))
            }
            Reason::NoAcceptedReturn { why } => format!(
                "No accepted self-assessment in {year} or {} ({year}'s is {why})",
                year - 1
            ),
            Reason::NoUsableReturn {
                why,
                last_year,
                last,
                low,
                falling_from,
            } => {
                let mut s =
                    format!("{year} self-assessment {why}; last score {last:.1} in {last_year}");
                if let Some(b) = low {
                    s.push_str(&format!(" ({b})"));
                }
                if let Some(f) = falling_from {
                    s.push_str(&format!(", down from {f:.1}"));
                }
                s
            }
            Reason::Proposal(p) => {
                let risk = p
                    .highest_risk
                    .as_ref()
                    .map_or("no risks recorded".to_string(), |(s, r)| {
                        format!("highest risk {} {r}", crate::read::format_number(*s))
                    });
                let cost = p
                    .annual_cost
                    .map_or("council contribution not given".to_string(), |c| {
                        format!("£{} a year from the council", money(c))
                    });
                let term = p
                    .termination
                    .as_deref()
                    .map_or("termination not answered".to_string(), |t| {
                        format!("termination arrangements: {t}")
                    });
                format!("New partnership proposed: {risk}; {cost}; {term}")
            }
            Reason::ExitSoon { date: Some(d) } => format!(
                "Leaving on {} with no accepted exit document",
                d.format("%-d %b %Y")
            ),
            Reason::ExitSoon { date: None } => {
                "Exiting with no accepted exit document; exit date not known".to_string()
            }
        }
    }
}

/// One partnership on the list: its index in the rows, and every reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub row: usize,
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// The actions its reasons propose, each once, in rule order.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in &self.reasons {
            let a = r.rule().def().action;
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// Every year's overall, this year's included, oldest first.
fn history(row: &Row, year: i32) -> Vec<(i32, f64)> {
    let mut h: Vec<(i32, f64)> = row
        .by_year
        .iter()
        .filter(|(y, _)| **y < year)
        .map(|(y, v)| (*y, *v))
        .collect();
    if let Some(o) = row.overall {
        h.push((year, o));
    }
    h
}

/// A partnership's scores over the years in words, for the evidence column: "2023
/// 60.4 · 2024 57.6 · 2026 55.3", or "first return" / "no score yet".
pub fn evidence(row: &Row, year: i32) -> String {
    let h = history(row, year);
    match h.as_slice() {
        [] => "No score yet".into(),
        [(y, v)] if *y == year => format!("First return: {v:.1}"),
        _ => h
            .iter()
            .map(|(y, v)| format!("{y} {v:.1}"))
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// The reasons one row meets, in the order the rules are listed.
pub fn reasons(row: &Row, rules: &DecisionRules, cx: &Context) -> Vec<Reason> {
    let mut out: Vec<Reason> = Rule::ALL
        .iter()
        .filter_map(|rule| check(*rule, row, rules, cx))
        .collect();
    // A missing return with its last score says more than "none in two years".
    if out.iter().any(|r| r.rule() == Rule::NoUsableReturn) {
        out.retain(|r| r.rule() != Rule::NoAcceptedReturn);
    }
    out
}

/// Whether `row` meets `rule`, and its evidence.
pub fn check(rule: Rule, row: &Row, rules: &DecisionRules, cx: &Context) -> Option<Reason> {
    let y = cx.year;
    let owes_assessment = row.expected.as_deref() == Some(cx.scored_id);
    match rule {
        Rule::LowestBand => {
            let (band, below) = cx.lowest_band?;
            let o = row.overall?;
            if !rules.lowest_band || o >= below {
                return None;
            }
            let h = history(row, y);
            let mut years = 0;
            let mut expect = y;
            for (yr, v) in h.iter().rev() {
                if *yr != expect || *v >= below {
                    break;
                }
                years += 1;
                expect -= 1;
            }
            Some(Reason::LowestBand {
                band: band.to_string(),
                overall: o,
                below,
                years,
                change: row.change(),
            })
        }
        // A change between different numbers of respondents says who answered, not how
        // the partnership did: neither fall rule counts it.
        Rule::Declined | Rule::DownYears if row.respondents_changed() => None,
        Rule::Declined => {
            let (now, before) = (row.overall?, row.previous?);
            (rules.decline_points > 0.0 && before - now >= rules.decline_points - 1e-9).then_some(
                Reason::Declined {
                    from: before,
                    to: now,
                },
            )
        }
        Rule::DownYears => {
            if !rules.down_two_years {
                return None;
            }
            let h = history(row, y);
            let mut run = vec![*h.last()?];
            if run[0].0 != y {
                return None;
            }
            for (yr, v) in h.iter().rev().skip(1) {
                let (ny, nv) = run[run.len() - 1];
                if *yr != ny - 1 || *v <= nv {
                    break;
                }
                run.push((*yr, *v));
            }
            run.reverse();
            (run.len() >= 3).then_some(Reason::DownYears { scores: run })
        }
        Rule::Stage => {
            let decides = |s: &str| {
                rules
                    .stages
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(s.trim()))
            };
            if row.stages.is_empty() {
                let s = row.stage.as_ref()?;
                return decides(s).then(|| Reason::Stage {
                    chosen: vec![(String::new(), s.trim().to_string())],
                    others: Vec::new(),
                });
            }
            let (chosen, others): (Vec<_>, Vec<_>) =
                row.stages.iter().cloned().partition(|(_, s)| decides(s));
            (!chosen.is_empty()).then(|| Reason::Stage {
                chosen,
                others: others.into_iter().map(|(_, s)| s).collect(),
            })
        }
        Rule::NoAcceptedReturn => (rules.no_accepted_return
            && owes_assessment
            && row.overall.is_none()
            && row.previous.is_none())
        .then(|| Reason::NoAcceptedReturn {
            why: why_missing(&row.state),
        }),
        Rule::NoUsableReturn => {
            if !rules.no_usable_return || !owes_assessment || row.overall.is_some() {
                return None;
            }
            let h = history(row, y);
            let (last_year, last) = *h.last()?;
            let low = cx
                .lowest_band
                .filter(|(_, below)| last < *below)
                .map(|(b, _)| b.to_string());
            let falling_from = h
                .len()
                .checked_sub(2)
                .map(|i| h[i].1)
                .filter(|before| last < *before);
            (low.is_some() || falling_from.is_some()).then(|| Reason::NoUsableReturn {
                why: why_missing(&row.state),
                last_year,
                last,
                low,
                falling_from,
            })
        }
        Rule::Proposal => {
            let p = row.proposal.as_ref()?;
            (rules.proposals && row.partnership.status == Status::Proposed)
                .then(|| Reason::Proposal(p.clone()))
        }
        Rule::ExitSoon => {
            if rules.exit_within_months == 0
                || row.partnership.status != Status::Exiting
                || row.state == ReturnState::Exited
            {
                return None;
            }
            let soon = match (row.exit_date, cx.as_of) {
                (Some(d), Some(now)) => now
                    .checked_add_months(Months::new(rules.exit_within_months))
                    .is_some_and(|limit| d <= limit),
                _ => true,
            };
            soon.then_some(Reason::ExitSoon {
                date: row.exit_date,
            })
        }
    }
}

/// Every partnership meeting a rule, weakest first (lowest overall score this year;
/// those without one after, in register order), each once with all its reasons.
pub fn decide(rows: &[Row], rules: &DecisionRules, cx: &Context) -> Vec<Decision> {
    let mut list: Vec<Decision> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let reasons = reasons(r, rules, cx);
            (!reasons.is_empty()).then_some(Decision { row: i, reasons })
        })
        .collect();
    list.sort_by(|a, b| {
        let key = |d: &Decision| rows[d.row].overall;
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then(a.row.cmp(&b.row))
    });
    list
}

#[cfg(test)]
mod tests;
