//! Where a partnership's respondents disagree: the scored statements on which their
//! points differ by the template's `disagreement` threshold or more. Pure: stored
//! answers in, the list for the "Where respondents disagree" sheet out. The spread
//! itself comes from [`crate::score::aggregate`], so the review and the scores agree
//! on what was counted (Not applicable and blanks left out).

use std::collections::HashMap;

use crate::register::Partnership;
use crate::score::{aggregate, PointsOf};
use crate::store::RespondentAnswer;
use crate::template::Template;

/// One statement a partnership's respondents see differently.
#[derive(Debug, Clone, PartialEq)]
pub struct Disagreement {
    pub partnership_id: String,
    pub partnership: String,
    /// The statement's number as printed on the form ("1.2").
    pub number: String,
    pub question_id: String,
    pub text: String,
    /// Highest − lowest points among the respondents who chose a scored option.
    pub spread: f64,
    /// Each respondent's answer, in respondent order (the lead first): (who, answer
    /// as given, points).
    pub answers: Vec<(String, String, Option<f64>)>,
}

/// Every statement whose spread is at least `template.disagreement`, largest spread
/// first, then in `partnerships` order, then in form order. `answers` are every
/// respondent's stored answers (any order); `who(partnership id, respondent id)` gives
/// a respondent's place (the lead 0) and "Name (Organisation)". Partnerships not in
/// `partnerships` are left out.
pub fn find(
    template: &Template,
    partnerships: &[&Partnership],
    answers: &[RespondentAnswer],
    who: &dyn Fn(&str, &str) -> (usize, String),
) -> Vec<Disagreement> {
    // Partnership → respondent → question → (answer, points).
    type ByQuestion<'a> = HashMap<&'a str, (&'a str, Option<f64>)>;
    let mut by_p: HashMap<String, HashMap<&str, ByQuestion<'_>>> = HashMap::new();
    for a in answers {
        by_p.entry(a.partnership_id.to_ascii_lowercase())
            .or_default()
            .entry(a.respondent_id.as_str())
            .or_default()
            .insert(a.question_id.as_str(), (a.value.as_str(), a.points));
    }
    let numbers: HashMap<&str, (usize, String, &str)> = template
        .sections
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.questions.iter().enumerate().map(move |(qi, q)| {
                (
                    q.id.as_str(),
                    (
                        si * 10_000 + qi,
                        format!("{}.{}", si + 1, qi + 1),
                        q.text.as_str(),
                    ),
                )
            })
        })
        .collect();
    // (spread, partnership index, question index) → row.
    let mut found: Vec<((f64, usize, usize), Disagreement)> = Vec::new();
    for (pi, p) in partnerships.iter().enumerate() {
        let Some(resp) = by_p.get(&p.id.to_ascii_lowercase()) else {
            continue;
        };
        if resp.len() < 2 {
            continue;
        }
        let mut people: Vec<(usize, String, &str, &ByQuestion<'_>)> = resp
            .iter()
            .map(|(rid, qs)| {
                let (rank, label) = who(&p.id, rid);
                (rank, label, *rid, qs)
            })
            .collect();
        people.sort_by(|a, b| (a.0, a.2).cmp(&(b.0, b.2)));
        // One closure type for all (made by one expression), so no boxing.
        let lookups: Vec<_> = people
            .iter()
            .map(|(_, _, _, qs)| move |q: &str| qs.get(q).and_then(|(_, pts)| *pts))
            .collect();
        let refs: Vec<PointsOf<'_>> = lookups.iter().map(|f| f as PointsOf<'_>).collect();
        for q in aggregate(template, &refs).questions {
            if !q.disagrees(template.disagreement) {
                continue;
            }
            let Some((qi, number, text)) = numbers.get(q.question_id.as_str()) else {
                continue;
            };
            let spread = q.spread.unwrap_or(0.0);
            let answers = people
                .iter()
                .map(|(_, label, _, qs)| {
                    let (value, points) = qs
                        .get(q.question_id.as_str())
                        .copied()
                        .unwrap_or(("", None));
                    (label.clone(), value.to_string(), points)
                })
                .collect();
            found.push((
                (spread, pi, *qi),
                Disagreement {
                    partnership_id: p.id.clone(),
                    partnership: p.name.clone(),
                    number: number.clone(),
                    question_id: q.question_id.clone(),
                    text: (*text).to_string(),
                    spread,
                    answers,
                },
            ));
        }
    }
    found.sort_by(|(a, _), (b, _)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    found.into_iter().map(|(_, d)| d).collect()
}

/// "Name (Organisation): answer" for each respondent, one a line; an answer that
/// does not count says so, so a blank never reads as a low score.
pub fn answers_text(d: &Disagreement) -> String {
    d.answers
        .iter()
        .map(|(who, value, points)| match (value.trim(), points) {
            ("", _) => format!("{who}: (no answer)"),
            (v, None) => format!("{who}: {v} (not scored)"),
            (v, Some(_)) => format!("{who}: {v}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let text = r#"
id = "t"
version = 1
title = "T"
disagreement = 2
[[bands]]
label = "All"
min = 0
[option_sets]
s = [{ label = "0 - No", points = 0 }, { label = "1 - Some", points = 1 }, { label = "2 - Most", points = 2 }, { label = "3 - All", points = 3 }, { label = "Not applicable" }]
[[sections]]
id = "a"
title = "A"
[[sections.questions]]
id = "a1"
text = "First"
type = "scale"
options_from = "s"
[[sections.questions]]
id = "a2"
text = "Second"
type = "scale"
options_from = "s"
[[sections]]
id = "b"
title = "B"
[[sections.questions]]
id = "b1"
text = "Third"
type = "scale"
options_from = "s"
"#;
        crate::template::parse(std::path::Path::new("t.toml"), text).unwrap()
    }

    fn p(id: &str) -> Partnership {
        Partnership {
            id: id.into(),
            name: format!("{id} partnership"),
            category: String::new(),
            lead_officer: String::new(),
            email: String::new(),
            assistant_director: String::new(),
            assistant_director_email: None,
            priority: crate::register::Priority::EarlyIntervention,
            status: crate::register::Status::Active,
            lead_organisation: String::new(),
            partners: String::new(),
            start_date: None,
            exit_date: None,
            notes: String::new(),
            line: 0,
        }
    }

    fn a(pid: &str, rid: &str, q: &str, points: Option<f64>) -> RespondentAnswer {
        RespondentAnswer {
            partnership_id: pid.into(),
            respondent_id: rid.into(),
            question_id: q.into(),
            value: points.map_or("Not applicable".into(), |v| format!("{v} - x")),
            points,
        }
    }

    fn who(_: &str, rid: &str) -> (usize, String) {
        (usize::from(rid != "lead"), format!("{rid} (Org)"))
    }

    #[test]
    fn two_points_apart_is_listed_one_is_not_largest_first() {
        let t = template();
        let (p1, p2) = (p("P1"), p("P2"));
        let answers = vec![
            a("P1", "lead", "a1", Some(3.0)),
            a("P1", "x", "a1", Some(2.0)), // 1 apart: agree
            a("P1", "lead", "a2", Some(3.0)),
            a("P1", "x", "a2", Some(1.0)), // 2 apart
            a("P1", "lead", "b1", Some(0.0)),
            a("P1", "x", "b1", None), // Not applicable: nothing to compare
            a("P2", "x", "a1", Some(0.0)),
            a("P2", "lead", "a1", Some(3.0)), // 3 apart
            a("P2", "y", "a1", Some(2.0)),
            a("P2", "lead", "b1", Some(1.0)),
            a("P2", "x", "b1", Some(3.0)), // 2 apart
        ];
        let found = find(&t, &[&p1, &p2], &answers, &who);
        let got: Vec<(&str, &str, f64)> = found
            .iter()
            .map(|d| (d.partnership_id.as_str(), d.number.as_str(), d.spread))
            .collect();
        assert_eq!(
            got,
            [("P2", "1.1", 3.0), ("P1", "1.2", 2.0), ("P2", "2.1", 2.0)]
        );
        // The lead first, then the others by id; every answer shown.
        assert_eq!(
            found[0].answers,
            [
                ("lead (Org)".to_string(), "3 - x".to_string(), Some(3.0)),
                ("x (Org)".to_string(), "0 - x".to_string(), Some(0.0)),
                ("y (Org)".to_string(), "2 - x".to_string(), Some(2.0)),
            ]
        );
        assert_eq!(found[1].text, "Second");
    }

    #[test]
    fn one_respondent_or_an_unknown_partnership_gives_nothing() {
        let t = template();
        let p1 = p("P1");
        let answers = vec![
            a("P1", "lead", "a1", Some(3.0)),
            a("P9", "lead", "a1", Some(3.0)),
            a("P9", "x", "a1", Some(0.0)),
        ];
        assert!(find(&t, &[&p1], &answers, &who).is_empty());
    }

    #[test]
    fn answers_that_do_not_count_say_so() {
        let d = Disagreement {
            partnership_id: "P".into(),
            partnership: "P".into(),
            number: "1.1".into(),
            question_id: "a1".into(),
            text: "T".into(),
            spread: 2.0,
            answers: vec![
                ("Ann (C)".into(), "3 - All".into(), Some(3.0)),
                ("Bo (D)".into(), "Not applicable".into(), None),
                ("Cy (E)".into(), String::new(), None),
            ],
        };
        assert_eq!(
            answers_text(&d),
            "Ann (C): 3 - All\nBo (D): Not applicable (not scored)\nCy (E): (no answer)"
        );
    }
}
