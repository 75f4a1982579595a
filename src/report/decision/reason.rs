//! Why a partnership is on the decision list, with its evidence, in the words the
//! Overview and the Assistant Directors' pages show.

use chrono::NaiveDate;

use super::rule::Rule;
use crate::report::row::Proposal;

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
    Proposal(Proposal),
    ExitSoon {
        date: Option<NaiveDate>,
    },
}

/// "two", "three" … for years running; digits from ten.
pub(super) fn count_word(n: usize) -> String {
    const WORDS: [&str; 10] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_string())
}

/// A change of score in words, to one decimal: "up 1.2", "down 0.4", "no change".
pub fn signed(x: f64) -> String {
    if x >= 0.05 {
        format!("up {x:.1}")
    } else if x <= -0.05 {
        format!("down {:.1}", -x)
    } else {
        "no change".into()
    }
}

/// Whole pounds with thousands separators: 25000 → "25,000".
pub(super) fn money(x: f64) -> String {
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
