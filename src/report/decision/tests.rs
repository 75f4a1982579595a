//! The decision rules' unit tests: each rule at and either side of its edges, and
//! with its setting off.

use super::reason::{count_word, money};
use super::*;
use crate::register::Status;
use crate::register::{Partnership, Priority};
use crate::report::row::Proposal;
use crate::report::row::{ReturnState, Row};
use chrono::NaiveDate;

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
            match p.status {
                Status::Exiting => "exit",
                Status::Proposed => "new-partnership",
                _ => "self-assessment",
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

fn proposal() -> Proposal {
    Proposal {
        highest_risk: Some((16.0, "High".into())),
        annual_cost: Some(25000.0),
        termination: Some("No - not yet considered".into()),
    }
}

/// Scores by year, what to set on the row, and how to turn the rule off.
type Example = (Vec<(i32, f64)>, fn(&mut Row), fn(&mut DecisionRules));

/// For each rule: a row that meets it (and no other rule), and the setting that
/// turns it off. Exhaustive, so a new rule does not compile without its test.
fn example(rule: Rule, p: &mut Partnership) -> Example {
    match rule {
        Rule::LowestBand => (vec![(2026, 49.9)], |_| {}, |r| r.lowest_band = false),
        Rule::Declined => (
            vec![(2025, 70.0), (2026, 65.0)],
            |_| {},
            |r| r.decline_points = 0.0,
        ),
        Rule::DownYears => (
            vec![(2024, 60.4), (2025, 60.0), (2026, 59.9)],
            |_| {},
            |r| r.down_two_years = false,
        ),
        Rule::Stage => (
            vec![(2026, 80.0)],
            |r| r.stage = Some("Failing".into()),
            |r| r.stages.clear(),
        ),
        Rule::NoAcceptedReturn => (vec![(2024, 60.0)], |_| {}, |r| r.no_accepted_return = false),
        Rule::NoUsableReturn => (
            vec![(2024, 70.0), (2025, 60.0)],
            |r| r.state = ReturnState::Rejected("x".into()),
            |r| r.no_usable_return = false,
        ),
        Rule::Proposal => {
            p.status = Status::Proposed;
            (
                vec![],
                |r| {
                    r.state = ReturnState::Accepted;
                    r.proposal = Some(proposal());
                },
                |r| r.proposals = false,
            )
        }
        Rule::ExitSoon => {
            p.status = Status::Exiting;
            (vec![], |_| {}, |r| r.exit_within_months = 0)
        }
    }
}

#[test]
fn every_rule_has_words_a_doc_line_an_action_and_a_test() {
    for rule in Rule::ALL {
        let d = rule.def();
        assert!(!d.setting.is_empty() && !d.doc.is_empty() && !d.action.is_empty());
        let mut p = partnership("A", Status::Active);
        let (years, set, off) = example(rule, &mut p);
        let mut r = row(&p, &years);
        set(&mut r);
        let on = DecisionRules::default();
        assert!(rule.words(&on, &cx()).is_some(), "{rule:?} has words");
        let got = reasons(&r, &on, &cx());
        assert_eq!(
            got.iter().map(Reason::rule).collect::<Vec<_>>(),
            [rule],
            "{rule:?}: {got:?}"
        );
        assert!(!got[0].words(2026).is_empty());
        let mut rules = on.clone();
        off(&mut rules);
        assert!(reasons(&r, &rules, &cx()).is_empty(), "{rule:?} off");
        assert_eq!(rule.words(&rules, &cx()), None, "{rule:?} off has no words");
        // The setting as documented parses, and its "off" value turns it off.
        let key = d.setting.split(' ').next().unwrap();
        let parsed: DecisionRules = toml::from_str(&format!("{key} = {}", d.off)).unwrap();
        assert!(
            reasons(&r, &parsed, &cx()).is_empty(),
            "{rule:?}: {key} = {}",
            d.off
        );
        let parsed: DecisionRules = toml::from_str(d.setting).unwrap();
        assert_eq!(parsed, on, "{} is the default", d.setting);
    }
}

#[test]
fn docs_list_exactly_the_rules() {
    let docs = include_str!("../../../docs/review.md");
    let table: Vec<&str> = docs
        .lines()
        .skip_while(|l| !l.starts_with("| rule |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .collect();
    let want: Vec<String> = Rule::ALL
        .iter()
        .map(|r| {
            let d = r.def();
            format!(
                "| {} | `{}` (off: {}) | {} |",
                d.doc, d.setting, d.off, d.action
            )
        })
        .collect();
    assert_eq!(table, want);
}

#[test]
fn lowest_band_edges_years_running_and_change() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let of = |years: &[(i32, f64)]| reasons(&row(&p, years), &r, &cx());
    assert!(
        of(&[(2026, 50.0)]).is_empty(),
        "at the threshold is not below"
    );
    assert_eq!(
        of(&[(2023, 40.0), (2024, 45.0), (2025, 38.4), (2026, 46.4)]),
        [Reason::LowestBand {
            band: "Red".into(),
            overall: 46.4,
            below: 50.0,
            years: 4,
            change: Some(46.4 - 38.4),
        }]
    );
    let words = of(&[(2023, 40.0), (2024, 45.0), (2025, 38.4), (2026, 46.4)])[0].words(2026);
    assert_eq!(
        words,
        "Red: overall 46.4% (below 50), Red four years running, up 8.0 on 2025"
    );
    // A gap year or a year at 50 ends the run.
    match &of(&[(2023, 40.0), (2025, 50.0), (2026, 46.4)])[0] {
        Reason::LowestBand { years, .. } => assert_eq!(*years, 1),
        other => panic!("{other:?}"),
    }
    match &of(&[(2024, 40.0), (2026, 46.4)])[0] {
        Reason::LowestBand { years, change, .. } => {
            assert_eq!((*years, *change), (1, None))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        of(&[(2026, 40.0)])[0].words(2026),
        "Red: overall 40.0% (below 50)"
    );
    let no_bands = Context {
        lowest_band: None,
        ..cx()
    };
    assert!(reasons(&row(&p, &[(2026, 10.0)]), &r, &no_bands).is_empty());
}

#[test]
fn decline_at_and_either_side_of_the_threshold() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let of = |years: &[(i32, f64)]| reasons(&row(&p, years), &r, &cx());
    assert_eq!(
        of(&[(2025, 70.0), (2026, 65.0)]),
        [Reason::Declined {
            from: 70.0,
            to: 65.0
        }]
    );
    assert!(of(&[(2025, 70.0), (2026, 65.1)]).is_empty());
    assert_eq!(of(&[(2025, 70.0), (2026, 64.0)]).len(), 1);
    assert_eq!(
        of(&[(2025, 70.0), (2026, 65.0)])[0].words(2026),
        "Down 5.0 points on 2025 (70.0 → 65.0)"
    );
    let two = DecisionRules {
        decline_points: 2.0,
        ..r.clone()
    };
    assert_eq!(
        reasons(&row(&p, &[(2025, 70.0), (2026, 68.0)]), &two, &cx()).len(),
        1
    );
    assert!(reasons(&row(&p, &[(2025, 70.0), (2026, 68.1)]), &two, &cx()).is_empty());
    let negative = DecisionRules {
        decline_points: -1.0,
        ..r
    };
    assert!(
        reasons(&row(&p, &[(2025, 70.0), (2026, 60.0)]), &negative, &cx())
            .iter()
            .all(|x| x.rule() != Rule::Declined)
    );
}

#[test]
fn falls_between_different_numbers_of_respondents_are_not_listed() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let mut x = row(&p, &[(2024, 80.0), (2025, 70.0), (2026, 60.0)]);
    x.respondents_scored = (Some(3), Some(1));
    assert!(reasons(&x, &r, &cx()).is_empty());
    x.respondents_scored = (Some(3), Some(3));
    assert_eq!(
        reasons(&x, &r, &cx())
            .iter()
            .map(Reason::rule)
            .collect::<Vec<_>>(),
        [Rule::Declined, Rule::DownYears]
    );
    x.respondents_scored = (Some(1), None);
    assert_eq!(reasons(&x, &r, &cx()).len(), 2, "unknown before: compared");
}

#[test]
fn down_years_gives_the_whole_slide_and_stops_at_a_flat_or_missing_year() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let of = |years: &[(i32, f64)]| reasons(&row(&p, years), &r, &cx());
    let sep = of(&[(2023, 60.4), (2024, 57.6), (2025, 56.0), (2026, 55.3)]);
    assert_eq!(
        sep,
        [Reason::DownYears {
            scores: vec![(2023, 60.4), (2024, 57.6), (2025, 56.0), (2026, 55.3)]
        }]
    );
    assert_eq!(
        sep[0].words(2026),
        "Down three years running (2023 60.4 → 2024 57.6 → 2025 56.0 → 2026 55.3), 5.1 points since 2023"
    );
    // A flat year breaks the run; one year down is not two.
    assert!(of(&[(2024, 60.0), (2025, 60.0), (2026, 59.9)]).is_empty());
    assert!(of(&[(2025, 60.0), (2026, 59.9)]).is_empty());
    // Rising then falling: only the fall counts.
    match &of(&[
        (2022, 50.5),
        (2023, 61.0),
        (2024, 60.5),
        (2025, 60.2),
        (2026, 60.1),
    ])[0]
    {
        Reason::DownYears { scores } => assert_eq!(scores[0], (2023, 61.0)),
        other => panic!("{other:?}"),
    }
    // A missing year breaks it, and no score this year means no slide.
    assert!(of(&[(2023, 62.0), (2024, 61.0), (2026, 60.5)]).is_empty());
    let none = row(&p, &[(2023, 62.0), (2024, 61.0), (2025, 60.5)]);
    assert!(check(Rule::DownYears, &none, &r, &cx()).is_none());
    assert!(check(Rule::DownYears, &row(&p, &[]), &r, &cx()).is_none());
}

#[test]
fn any_respondent_choosing_a_decision_stage_is_named() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let mut x = row(&p, &[(2026, 80.0)]);
    x.stage = Some("Functioning".into());
    x.stages = vec![
        ("Ann Lead".into(), "Functioning".into()),
        ("Essex Police".into(), "failing ".into()),
        ("Fire".into(), "Functioning".into()),
    ];
    let got = reasons(&x, &r, &cx());
    assert_eq!(
        got,
        [Reason::Stage {
            chosen: vec![("Essex Police".into(), "failing ".into())],
            others: vec!["Functioning".into(), "Functioning".into()],
        }]
    );
    assert_eq!(
        got[0].words(2026),
        "Life-cycle stage: Essex Police: failing ; 2 others: Functioning"
    );
    x.stages[2].1 = "Flying".into();
    assert_eq!(
        reasons(&x, &r, &cx())[0].words(2026),
        "Life-cycle stage: Essex Police: failing ; 1 other: Functioning; 1 other: Flying"
    );
    x.stages[1].1 = "Frustration".into();
    assert!(reasons(&x, &r, &cx()).is_empty(), "none chose Failing");
    // One respondent: the partnership's own stage.
    x.stages.clear();
    x.stage = Some("Failing".into());
    assert_eq!(
        reasons(&x, &r, &cx())[0].words(2026),
        "Life-cycle stage: Failing"
    );
    x.stage = None;
    assert!(reasons(&x, &r, &cx()).is_empty());
}

#[test]
fn no_accepted_return_says_why_and_only_for_those_owing_an_assessment() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let mut x = row(&p, &[(2024, 60.0)]);
    x.state = ReturnState::Unreadable("f.xlsx".into());
    let got = reasons(&x, &r, &cx());
    assert_eq!(got, [Reason::NoAcceptedReturn { why: "unreadable" }]);
    assert_eq!(
        got[0].words(2026),
        "No accepted self-assessment in 2026 or 2025 (2026's is unreadable)"
    );
    assert!(reasons(&row(&p, &[(2025, 60.0)]), &r, &cx()).is_empty());
    assert!(reasons(&row(&p, &[(2026, 60.0)]), &r, &cx()).is_empty());
    x.expected = Some("exit".into());
    assert!(
        reasons(&x, &r, &cx()).is_empty(),
        "an exit document is not a self-assessment"
    );
    x.expected = None;
    assert!(reasons(&x, &r, &cx()).is_empty());
}

#[test]
fn no_usable_return_where_the_last_score_was_red_or_falling() {
    let r = DecisionRules::default();
    let p = partnership("A", Status::Active);
    let mut lei = row(&p, &[(2024, 59.5), (2025, 57.9)]);
    lei.state = ReturnState::Rejected("2 problems".into());
    let got = reasons(&lei, &r, &cx());
    assert_eq!(
        got,
        [Reason::NoUsableReturn {
            why: "rejected",
            last_year: 2025,
            last: 57.9,
            low: None,
            falling_from: Some(59.5),
        }]
    );
    assert_eq!(
        got[0].words(2026),
        "2026 self-assessment rejected; last score 57.9 in 2025, down from 59.5"
    );
    // Red in 2024, nothing in 2025, unreadable now: the missing-return reason
    // replaces "none in two years".
    let mut ict = row(&p, &[(2024, 48.3)]);
    ict.state = ReturnState::Unreadable("ICT12.xlsx".into());
    let got = reasons(&ict, &r, &cx());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].words(2026),
        "2026 self-assessment unreadable; last score 48.3 in 2024 (Red)"
    );
    let only_two_years = DecisionRules {
        no_usable_return: false,
        ..r.clone()
    };
    assert_eq!(
        reasons(&ict, &only_two_years, &cx())
            .iter()
            .map(Reason::rule)
            .collect::<Vec<_>>(),
        [Rule::NoAcceptedReturn]
    );
    // Level or rising, and not Red: not listed. Exactly 50 is not Red.
    assert!(reasons(&row(&p, &[(2024, 57.9), (2025, 57.9)]), &r, &cx()).is_empty());
    assert!(reasons(&row(&p, &[(2024, 55.0), (2025, 57.9)]), &r, &cx()).is_empty());
    assert!(reasons(&row(&p, &[(2025, 50.0)]), &r, &cx()).is_empty());
    match &reasons(&row(&p, &[(2025, 49.9)]), &r, &cx())[0] {
        Reason::NoUsableReturn { why, low, .. } => {
            assert_eq!((*why, low.as_deref()), ("missing", Some("Red")))
        }
        other => panic!("{other:?}"),
    }
    // Scored this year, or not owing a self-assessment: not this rule.
    let mut scored = row(&p, &[(2024, 59.5), (2025, 57.9), (2026, 70.0)]);
    assert!(check(Rule::NoUsableReturn, &scored, &r, &cx()).is_none());
    scored.overall = None;
    scored.expected = Some("exit".into());
    assert!(check(Rule::NoUsableReturn, &scored, &r, &cx()).is_none());
    assert!(check(Rule::NoUsableReturn, &row(&p, &[]), &r, &cx()).is_none());
}

#[test]
fn a_proposal_received_is_listed_with_its_risk_cost_and_termination() {
    let r = DecisionRules::default();
    let p = partnership("MGT16", Status::Proposed);
    let mut x = row(&p, &[]);
    x.state = ReturnState::Accepted;
    x.proposal = Some(proposal());
    let got = reasons(&x, &r, &cx());
    assert_eq!(
        got[0].words(2026),
        "New partnership proposed: highest risk 16 High; £25,000 a year from the council; termination arrangements: No - not yet considered"
    );
    x.proposal = Some(Proposal::default());
    assert_eq!(
        reasons(&x, &r, &cx())[0].words(2026),
        "New partnership proposed: no risks recorded; council contribution not given; termination not answered"
    );
    x.proposal = None;
    assert!(reasons(&x, &r, &cx()).is_empty(), "no form in");
    let active = partnership("A", Status::Active);
    let mut y = row(&active, &[(2026, 70.0)]);
    y.proposal = Some(proposal());
    assert!(
        reasons(&y, &r, &cx()).is_empty(),
        "only proposed partnerships"
    );
    assert_eq!(money(1234567.0), "1,234,567");
    assert_eq!(money(999.0), "999");
    assert_eq!(money(-1000.0), "-1,000");
    // Nothing a year is "0", never "-0".
    assert_eq!(money(0.0), "0");
}

#[test]
fn exit_within_six_months_of_the_data_date() {
    let r = DecisionRules::default();
    let p = partnership("E", Status::Exiting);
    let mut e = row(&p, &[]);
    e.exit_date = NaiveDate::from_ymd_opt(2027, 5, 23);
    assert_eq!(reasons(&e, &r, &cx()).len(), 1, "exactly six months");
    assert_eq!(
        reasons(&e, &r, &cx())[0].words(2026),
        "Leaving on 23 May 2027 with no accepted exit document"
    );
    e.exit_date = NaiveDate::from_ymd_opt(2027, 5, 24);
    assert!(reasons(&e, &r, &cx()).is_empty());
    let no_date = Context {
        as_of: None,
        ..cx()
    };
    assert_eq!(reasons(&e, &r, &no_date).len(), 1, "no data date: listed");
    e.exit_date = None;
    assert_eq!(reasons(&e, &r, &cx()), [Reason::ExitSoon { date: None }]);
    assert_eq!(
        reasons(&e, &r, &cx())[0].words(2026),
        "Exiting with no accepted exit document; exit date not known"
    );
    e.state = ReturnState::Exited;
    assert!(reasons(&e, &r, &cx()).is_empty(), "exit document received");
    // A year known only from imported history owed no exit document that history shows.
    for state in [ReturnState::Imported, ReturnState::NotExpected] {
        e.state = state;
        assert!(reasons(&e, &r, &cx()).is_empty(), "{:?}", e.state);
    }
    e.state = ReturnState::Unreadable("E exit.xlsx".into());
    assert_eq!(
        reasons(&e, &r, &cx()).len(),
        1,
        "unreadable is not received"
    );
    let active = partnership("A", Status::Active);
    assert!(check(Rule::ExitSoon, &row(&active, &[(2026, 70.0)]), &r, &cx()).is_none());
}

#[test]
fn weakest_first_each_once_with_every_reason_and_its_actions() {
    let r = DecisionRules::default();
    let (a, b, c, d) = (
        partnership("A", Status::Active),
        partnership("B", Status::Active),
        partnership("C", Status::Active),
        partnership("D", Status::Exiting),
    );
    let rows = vec![
        row(&a, &[(2024, 70.0)]),
        row(&b, &[(2024, 80.0), (2025, 60.0), (2026, 45.0)]),
        row(&c, &[(2025, 41.0), (2026, 40.0)]),
        row(&d, &[]),
        row(&a, &[(2026, 90.0)]),
    ];
    let list = decide(&rows, &r, &cx());
    assert_eq!(list.iter().map(|d| d.row).collect::<Vec<_>>(), [2, 1, 0, 3]);
    assert_eq!(list[1].reasons.len(), 3, "{:?}", list[1].reasons);
    assert_eq!(
        list[1].reasons[1].words(2026),
        "Down 15.0 points on 2025 (60.0 → 45.0)"
    );
    assert_eq!(
        list[1].actions(),
        [Rule::LowestBand.def().action, Rule::Declined.def().action],
        "the same action once"
    );
}

#[test]
fn evidence_from_every_year() {
    let p = partnership("A", Status::Active);
    assert_eq!(evidence(&row(&p, &[]), 2026), "No score yet");
    assert_eq!(
        evidence(&row(&p, &[(2026, 61.26)]), 2026),
        "First return: 61.3"
    );
    assert_eq!(
        evidence(&row(&p, &[(2024, 48.3), (2026, 50.0)]), 2026),
        "2024 48.3 · 2026 50.0"
    );
    assert_eq!(evidence(&row(&p, &[(2025, 48.3)]), 2026), "2025 48.3");
    // A later year in the store is not this year's evidence.
    assert_eq!(
        evidence(&row(&p, &[(2025, 48.3), (2027, 70.0)]), 2026),
        "2025 48.3"
    );
    assert_eq!(count_word(12), "12");
    assert_eq!(signed(0.0), "no change");
    assert_eq!(signed(-2.0), "down 2.0");
}
