//! Checking the rules against the gathered rows: a pure function of plain data, with
//! each partnership's evidence from every year in the store.

use chrono::Months;

use super::reason::Reason;
use super::rule::Rule;
use super::settings::{Context, DecisionRules};
use crate::register::Status;
use crate::report::row::{ReturnState, Row};

/// Why a partnership has no usable return this year, in words.
fn why_missing(state: &ReturnState) -> &'static str {
    match state {
        ReturnState::Rejected(_) => "rejected",
        ReturnState::Unreadable(_) => "unreadable",
        _ => "missing",
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
            // Only an exit document still owed: not one received, nor a year known
            // only from imported history (which shows no exit document either way).
            if rules.exit_within_months == 0
                || row.partnership.status != Status::Exiting
                || !row.state.is_outstanding()
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
