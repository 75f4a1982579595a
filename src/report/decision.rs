//! The decision rules: which partnerships the Leadership Team should decide about, and
//! why, in words. A pure function over the gathered rows; the thresholds come from the
//! `[decision]` table of ptk.toml (documented in docs/review.md).

use chrono::{Months, NaiveDate};
use serde::Deserialize;

use super::row::{ReturnState, Row};
use crate::register::Status;

/// The `[decision]` table of ptk.toml. Every rule is on by default; a number of 0 or an
/// empty list turns its rule off.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionRules {
    /// Overall score in the lowest band (Red).
    pub lowest_band: bool,
    /// Overall score down this many points or more on last year.
    pub decline_points: f64,
    /// Overall score lower than the year before, two years running.
    pub down_two_years: bool,
    /// Life-cycle stages that need a decision (the answer on the form).
    pub stages: Vec<String>,
    /// No accepted self-assessment this year or last year.
    pub no_accepted_return: bool,
    /// Exiting, no accepted exit document, and the exit date within this many months
    /// (or not known).
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
            exit_within_months: 6,
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

/// Why a partnership is on the list.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    LowestBand {
        band: String,
        overall: f64,
        below: f64,
    },
    Declined {
        from: f64,
        to: f64,
    },
    DownTwoYears {
        scores: [f64; 3],
    },
    Stage(String),
    NoAcceptedReturn,
    ExitSoon {
        date: Option<NaiveDate>,
    },
}

impl Reason {
    /// The reason in words, as the Overview shows it.
    pub fn words(&self, year: i32) -> String {
        match self {
            Reason::LowestBand {
                band,
                overall,
                below,
            } => format!("{band}: overall {overall:.1}% (below {below:.0})"),
            Reason::Declined { from, to } => format!(
                "Down {:.1} points on {} ({from:.1} → {to:.1})",
                from - to,
                year - 1
            ),
            Reason::DownTwoYears { scores: [a, b, c] } => format!(
                "Down two years running ({} {a:.1} → {} {b:.1} → {year} {c:.1})",
                year - 2,
                year - 1
            ),
            Reason::Stage(s) => format!("Its officers say it is '{s}' (life-cycle stage)"),
            Reason::NoAcceptedReturn => {
                format!("No accepted self-assessment in {year} or {}", year - 1)
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

/// The reasons one row meets, in the order the rules are listed.
pub fn reasons(row: &Row, rules: &DecisionRules, cx: &Context) -> Vec<Reason> {
    let mut out = Vec::new();
    let y = cx.year;
    if let (true, Some(o), Some((band, below))) = (rules.lowest_band, row.overall, cx.lowest_band) {
        if o < below {
            out.push(Reason::LowestBand {
                band: band.to_string(),
                overall: o,
                below,
            });
        }
    }
    if let (Some(now), Some(before)) = (row.overall, row.previous) {
        if rules.decline_points > 0.0 && before - now >= rules.decline_points - 1e-9 {
            out.push(Reason::Declined {
                from: before,
                to: now,
            });
        }
    }
    if rules.down_two_years {
        let at = |k: i32| row.by_year.get(&(y - k)).copied();
        if let (Some(a), Some(b), Some(c)) = (at(2), at(1), row.overall) {
            if c < b && b < a {
                out.push(Reason::DownTwoYears { scores: [a, b, c] });
            }
        }
    }
    if let Some(s) = &row.stage {
        if rules
            .stages
            .iter()
            .any(|x| x.eq_ignore_ascii_case(s.trim()))
        {
            out.push(Reason::Stage(s.clone()));
        }
    }
    if rules.no_accepted_return
        && row.expected.as_deref() == Some(cx.scored_id)
        && row.overall.is_none()
        && row.previous.is_none()
    {
        out.push(Reason::NoAcceptedReturn);
    }
    if rules.exit_within_months > 0
        && row.partnership.status == Status::Exiting
        && row.state != ReturnState::Exited
    {
        let soon = match (row.exit_date, cx.as_of) {
            (Some(d), Some(now)) => now
                .checked_add_months(Months::new(rules.exit_within_months))
                .is_some_and(|limit| d <= limit),
            _ => true,
        };
        if soon {
            out.push(Reason::ExitSoon {
                date: row.exit_date,
            });
        }
    }
    out
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
mod tests {
    use super::*;
    use crate::register::{Partnership, Priority};

    fn partnership(id: &str, status: Status) -> Partnership {
        Partnership {
            id: id.into(),
            name: format!("{id} partnership"),
            category: String::new(),
            lead_officer: String::new(),
            email: String::new(),
            assistant_director: String::new(),
            assistant_director_email: None,
            priority: Priority::EarlyIntervention,
            status,
            lead_organisation: String::new(),
            partners: String::new(),
            start_date: None,
            exit_date: None,
            notes: String::new(),
            line: 0,
        }
    }

    fn row<'a>(p: &'a Partnership, years: &[(i32, f64)]) -> Row<'a> {
        let by_year: std::collections::BTreeMap<i32, f64> = years.iter().copied().collect();
        Row {
            expected: Some(
                if p.status == Status::Exiting {
                    "exit"
                } else {
                    "self-assessment"
                }
                .into(),
            ),
            state: if by_year.contains_key(&2026) {
                ReturnState::Accepted
            } else {
                ReturnState::NotReturned
            },
            overall: by_year.get(&2026).copied(),
            previous: by_year.get(&2025).copied(),
            first_year: by_year.keys().next().copied(),
            by_year,
            ..Row::new(p)
        }
    }

    fn cx() -> Context<'static> {
        Context {
            year: 2026,
            scored_id: "self-assessment",
            lowest_band: Some(("Red", 50.0)),
            as_of: NaiveDate::from_ymd_opt(2026, 11, 23),
        }
    }

    #[test]
    fn each_rule_and_its_threshold() {
        let r = DecisionRules::default();
        let p = partnership("A", Status::Active);
        let reasons_of = |years: &[(i32, f64)]| reasons(&row(&p, years), &r, &cx());
        assert!(matches!(
            reasons_of(&[(2026, 49.9)])[..],
            [Reason::LowestBand { .. }]
        ));
        assert!(reasons_of(&[(2026, 50.0)]).is_empty());
        assert!(matches!(
            reasons_of(&[(2025, 70.0), (2026, 65.0)])[..],
            [Reason::Declined { .. }]
        ));
        assert!(reasons_of(&[(2025, 70.0), (2026, 65.1)]).is_empty());
        assert!(matches!(
            reasons_of(&[(2024, 60.4), (2025, 60.0), (2026, 59.9)])[..],
            [Reason::DownTwoYears { .. }]
        ));
        assert!(reasons_of(&[(2024, 60.0), (2025, 60.0), (2026, 59.9)]).is_empty());
        assert_eq!(reasons_of(&[(2024, 60.0)]), [Reason::NoAcceptedReturn]);
        assert!(reasons_of(&[(2025, 60.0)]).is_empty());
        let mut failing = row(&p, &[(2026, 80.0)]);
        failing.stage = Some("failing ".into());
        assert_eq!(
            reasons(&failing, &r, &cx()),
            [Reason::Stage("failing ".into())]
        );
    }

    #[test]
    fn exit_within_six_months_of_the_data_date() {
        let r = DecisionRules::default();
        let p = partnership("E", Status::Exiting);
        let mut e = row(&p, &[]);
        e.exit_date = NaiveDate::from_ymd_opt(2027, 5, 23);
        assert_eq!(reasons(&e, &r, &cx()).len(), 1, "exactly six months");
        e.exit_date = NaiveDate::from_ymd_opt(2027, 5, 24);
        assert!(reasons(&e, &r, &cx()).is_empty());
        e.exit_date = None;
        assert_eq!(reasons(&e, &r, &cx()), [Reason::ExitSoon { date: None }]);
        e.state = ReturnState::Exited;
        assert!(reasons(&e, &r, &cx()).is_empty(), "exit document received");
        let off = DecisionRules {
            exit_within_months: 0,
            ..r
        };
        e.state = ReturnState::NotReturned;
        assert!(reasons(&e, &off, &cx()).is_empty());
    }

    #[test]
    fn weakest_first_each_once_with_every_reason() {
        let r = DecisionRules::default();
        let (a, b, c) = (
            partnership("A", Status::Active),
            partnership("B", Status::Active),
            partnership("C", Status::Active),
        );
        let rows = vec![
            row(&a, &[(2024, 70.0)]),
            row(&b, &[(2024, 80.0), (2025, 60.0), (2026, 45.0)]),
            row(&c, &[(2025, 41.0), (2026, 40.0)]),
        ];
        let list = decide(&rows, &r, &cx());
        assert_eq!(list.iter().map(|d| d.row).collect::<Vec<_>>(), [2, 1, 0]);
        assert_eq!(list[1].reasons.len(), 3, "{:?}", list[1].reasons);
        assert_eq!(
            list[1].reasons[1].words(2026),
            "Down 15.0 points on 2025 (60.0 → 45.0)"
        );
    }
}
