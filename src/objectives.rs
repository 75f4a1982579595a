//! Objectives and actions carried from one year to the next, and reported.
//!
//! Pure functions on plain data (answers by question id), so the issue run, the review
//! and the feedback can share them and they are tested without files. The store gives
//! the answers (see `Store::carried_answers`); which return they come from is said in
//! `docs/templates.md`: the lead officer's, or else the first other respondent's.

use std::collections::{BTreeMap, HashMap};

use crate::template::{Layout, Table, Template, COMMITTED};

/// Progress labels that close an objective: it is reported that year and not carried
/// to the next year's form.
pub const CLOSED: [&str; 3] = ["Achieved", "Not achieved", "Dropped"];

/// The progress label that names an objective on the Assistant Director's page.
pub const AT_RISK: &str = "At risk";

/// The column of an objectives table holding progress, by its id.
pub const PROGRESS_COLUMN: &str = "progress";

/// Last year's action for one statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Action {
    pub what: String,
    pub who: String,
    pub by: String,
}

/// What next year's form is prefilled with for one partnership.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Carried {
    /// The year the values come from.
    pub from_year: i32,
    /// By table id: the rows carried, each the carried columns' values by column id.
    pub rows: BTreeMap<String, Vec<BTreeMap<String, String>>>,
    /// By statement (question id): the action agreed last year.
    pub actions: BTreeMap<String, Action>,
}

impl Carried {
    pub fn is_empty(&self) -> bool {
        self.rows.values().all(Vec::is_empty) && self.actions.is_empty()
    }
}

fn tables(template: &Template) -> impl Iterator<Item = &Table> {
    template.sections.iter().filter_map(|s| match &s.layout {
        Layout::Table(t) => Some(t),
        _ => None,
    })
}

fn get<'a>(answers: &'a HashMap<String, String>, id: &str) -> &'a str {
    answers.get(id).map_or("", |v| v.trim())
}

/// What to carry from one accepted return's answers (`answers`, by question id, as
/// stored) onto next year's form: every table row with something in a carried column
/// whose progress does not close it ([`CLOSED`]), in row order with blank rows left
/// out; and every statement's action that has a "what".
pub fn carry(template: &Template, from_year: i32, answers: &HashMap<String, String>) -> Carried {
    let mut out = Carried {
        from_year,
        ..Carried::default()
    };
    for t in tables(template).filter(|t| t.is_carried()) {
        let mut rows = Vec::new();
        for n in 1..=t.rows {
            let progress = get(answers, &t.cell_id(n, PROGRESS_COLUMN));
            if CLOSED.iter().any(|c| c.eq_ignore_ascii_case(progress)) {
                continue;
            }
            let row: BTreeMap<String, String> = t
                .columns
                .iter()
                .filter(|c| c.carried)
                .map(|c| (c.id.clone(), get(answers, &t.cell_id(n, &c.id)).to_string()))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            if !row.is_empty() {
                rows.push(row);
            }
        }
        out.rows.insert(t.id.clone(), rows);
    }
    for (_, q) in template.questions().filter(|(_, q)| q.is_scored()) {
        let what = get(answers, &format!("{}_action", q.id));
        if !what.is_empty() {
            out.actions.insert(
                q.id.clone(),
                Action {
                    what: what.to_string(),
                    who: get(answers, &format!("{}_action_who", q.id)).to_string(),
                    by: get(answers, &format!("{}_action_by", q.id)).to_string(),
                },
            );
        }
    }
    out
}

/// Last year's objectives and actions for every partnership that has them, read from
/// the store at `store_path` (nothing when there is no store yet, or the template
/// carries nothing).
pub fn carried_for(
    template: &Template,
    store_path: &std::path::Path,
    year: i32,
) -> anyhow::Result<BTreeMap<String, Carried>> {
    let carries = template.action_below.is_some() || tables(template).any(Table::is_carried);
    if !carries || !store_path.exists() {
        return Ok(BTreeMap::new());
    }
    let store = crate::store::Store::open(store_path)?;
    Ok(store
        .carried_answers(&template.id, year - 1)?
        .into_iter()
        .map(|(p, answers)| (p, carry(template, year - 1, &answers)))
        .filter(|(_, c)| !c.is_empty())
        .collect())
}

/// One objective as a return gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Objective {
    /// Row on the form (1-based).
    pub row: usize,
    /// What it says now.
    pub text: String,
    /// What it said when the form was issued, where it was carried from last year and
    /// has since been reworded.
    pub committed: Option<String>,
    pub progress: String,
    /// The remaining columns' values by column id (target, owner, due, comment…).
    pub details: BTreeMap<String, String>,
}

/// The objectives of one return: every row with anything in it, from the first table
/// whose rows are carried.
pub fn objectives(template: &Template, answers: &HashMap<String, String>) -> Vec<Objective> {
    let Some(t) = tables(template).find(|t| t.is_carried()) else {
        return Vec::new();
    };
    let Some(text_col) = t.columns.iter().find(|c| c.carried) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in 1..=t.rows {
        let text = get(answers, &t.cell_id(n, &text_col.id)).to_string();
        let committed = get(answers, &t.cell_id(n, COMMITTED)).to_string();
        let details: BTreeMap<String, String> = t
            .columns
            .iter()
            .filter(|c| c.id != text_col.id && c.id != PROGRESS_COLUMN)
            .map(|c| (c.id.clone(), get(answers, &t.cell_id(n, &c.id)).to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let progress = get(answers, &t.cell_id(n, PROGRESS_COLUMN)).to_string();
        if text.is_empty() && committed.is_empty() && details.is_empty() && progress.is_empty() {
            continue;
        }
        let reworded = !committed.is_empty()
            && crate::text::normalise_label(&committed) != crate::text::normalise_label(&text);
        out.push(Objective {
            row: n,
            text: if text.is_empty() {
                committed.clone()
            } else {
                text
            },
            committed: reworded.then_some(committed),
            progress,
            details,
        });
    }
    out
}

/// Every partnership's objectives and their summary, from each partnership's chosen
/// return's answers (`Store::carried_answers` for the year gives them): what the review's
/// Assistant Director page and the feedback show. Partnerships without objectives are
/// left out.
pub fn by_partnership(
    template: &Template,
    answers: &BTreeMap<String, HashMap<String, String>>,
) -> BTreeMap<String, (Vec<Objective>, ProgressSummary)> {
    answers
        .iter()
        .map(|(p, a)| (p.clone(), objectives(template, a)))
        .filter(|(_, o)| !o.is_empty())
        .map(|(p, o)| {
            let s = summarise(&o);
            (p, (o, s))
        })
        .collect()
}

/// A partnership's objectives by progress, for the review and the feedback.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProgressSummary {
    /// Count by progress label, in the order first met; "Not given" for rows without.
    pub counts: Vec<(String, usize)>,
    /// The objectives marked At risk, by their text.
    pub at_risk: Vec<String>,
}

/// Counts a partnership's objectives by progress and names the ones at risk.
pub fn summarise(objectives: &[Objective]) -> ProgressSummary {
    let mut out = ProgressSummary::default();
    for o in objectives {
        let label = if o.progress.is_empty() {
            "Not given".to_string()
        } else {
            o.progress.clone()
        };
        match out.counts.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => out.counts.push((label, 1)),
        }
        if o.progress.eq_ignore_ascii_case(AT_RISK) {
            out.at_risk.push(o.text.clone());
        }
    }
    out
}

/// An action agreed for a weak statement, as the review and the feedback report it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgreedAction {
    /// The statement's question id.
    pub question_id: String,
    /// The year the action was agreed.
    pub year: i32,
    pub action: Action,
    /// For an action agreed last year: the statement's answer this year ("3 - In
    /// place"), so its progress shows; `None` for this year's own actions.
    pub now: Option<String>,
}

impl AgreedAction {
    /// "Agree a framework (who: David Okafor; by: 28 February 2027)".
    pub fn words(&self) -> String {
        let a = &self.action;
        let mut extra = Vec::new();
        if !a.who.is_empty() {
            extra.push(format!("who: {}", a.who));
        }
        if !a.by.is_empty() {
            let by =
                crate::register::parse_date(&a.by).map_or(a.by.clone(), crate::dates::long_date);
            extra.push(format!("by: {by}"));
        }
        if extra.is_empty() {
            a.what.clone()
        } else {
            format!("{} ({})", a.what, extra.join("; "))
        }
    }
}

/// One partnership's objectives and actions for the year's review and feedback.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reported {
    pub objectives: Vec<Objective>,
    pub summary: ProgressSummary,
    /// Actions agreed this year for its weak statements: due before next year's form.
    pub due: Vec<AgreedAction>,
    /// Actions agreed last year, each with the statement's answer this year.
    pub last_year: Vec<AgreedAction>,
}

impl Reported {
    /// "3 objectives: 1 Achieved, 1 At risk, 1 On track".
    pub fn counts_words(&self) -> String {
        let n = self.objectives.len();
        let parts: Vec<String> = self
            .summary
            .counts
            .iter()
            .map(|(l, c)| format!("{c} {l}"))
            .collect();
        format!(
            "{n} objective{}: {}",
            if n == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}

/// Every partnership's objectives and actions for `year`: `now` and `before` are each
/// partnership's chosen return's answers this year and last (`Store::carried_answers`).
/// Partnerships with none of either are left out.
pub fn reported(
    template: &Template,
    year: i32,
    now: &BTreeMap<String, HashMap<String, String>>,
    before: &BTreeMap<String, HashMap<String, String>>,
) -> BTreeMap<String, Reported> {
    let mut out: BTreeMap<String, Reported> = BTreeMap::new();
    for (p, answers) in now {
        let objectives = objectives(template, answers);
        let summary = summarise(&objectives);
        let due = carry(template, year, answers)
            .actions
            .into_iter()
            .map(|(q, action)| AgreedAction {
                question_id: q,
                year,
                action,
                now: None,
            })
            .collect();
        let last_year = before
            .get(p)
            .map(|b| carry(template, year - 1, b).actions)
            .unwrap_or_default()
            .into_iter()
            .map(|(q, action)| {
                let now = Some(get(answers, &q).to_string()).filter(|v| !v.is_empty());
                AgreedAction {
                    question_id: q,
                    year: year - 1,
                    action,
                    now,
                }
            })
            .collect();
        let order = |v: &mut Vec<AgreedAction>| {
            v.sort_by_key(|a| {
                template
                    .questions()
                    .position(|(_, q)| q.id == a.question_id)
            })
        };
        let (mut due, mut last_year): (Vec<_>, Vec<_>) = (due, last_year);
        order(&mut due);
        order(&mut last_year);
        let r = Reported {
            objectives,
            summary,
            due,
            last_year,
        };
        if !r.objectives.is_empty() || !r.due.is_empty() || !r.last_year.is_empty() {
            out.insert(p.clone(), r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let text = std::fs::read_to_string("templates/self-assessment.toml").unwrap();
        crate::template::parse(std::path::Path::new("self-assessment.toml"), &text).unwrap()
    }

    fn answers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn open_objectives_and_actions_are_carried_closed_ones_are_not() {
        let a = answers(&[
            ("objectives_1_objective", "Cut repeat calls"),
            ("objectives_1_owner", "Police"),
            ("objectives_1_progress", "On track"),
            ("objectives_1_comment", "not carried"),
            ("objectives_2_objective", "Open a hub"),
            ("objectives_2_progress", "Achieved"),
            ("objectives_4_objective", "Train volunteers"),
            ("M1_action", "Agree a framework"),
            ("M1_action_who", "DO"),
            ("M2_action", "  "),
        ]);
        let c = carry(&template(), 2026, &a);
        let rows = &c.rows["objectives"];
        assert_eq!(
            rows.len(),
            2,
            "the achieved one is closed; blank row 3 is left out"
        );
        assert_eq!(rows[0]["objective"], "Cut repeat calls");
        assert_eq!(rows[0]["owner"], "Police");
        assert!(!rows[0].contains_key("comment") && !rows[0].contains_key("progress"));
        assert_eq!(rows[1]["objective"], "Train volunteers");
        assert_eq!(c.actions.len(), 1);
        assert_eq!(c.actions["M1"].who, "DO");
    }

    #[test]
    fn a_reworded_objective_keeps_what_was_committed() {
        let a = answers(&[
            ("objectives_1_committed", "Open a hub in Rayleigh"),
            ("objectives_1_objective", "Open a hub in Rochford"),
            ("objectives_1_progress", "At risk"),
            ("objectives_2_committed", "Train volunteers"),
            ("objectives_2_objective", "train  volunteers"),
            ("objectives_2_progress", "On track"),
            ("objectives_3_objective", "New one"),
        ]);
        let o = objectives(&template(), &a);
        assert_eq!(o.len(), 3);
        assert_eq!(o[0].committed.as_deref(), Some("Open a hub in Rayleigh"));
        assert_eq!(o[1].committed, None, "case and spacing are not a change");
        let s = summarise(&o);
        assert_eq!(s.at_risk, ["Open a hub in Rochford"]);
        let all = BTreeMap::from([
            ("CSP02".to_string(), a.clone()),
            ("X".to_string(), HashMap::new()),
        ]);
        let by = by_partnership(&template(), &all);
        assert_eq!(
            by.keys().collect::<Vec<_>>(),
            ["CSP02"],
            "none without objectives"
        );
        assert_eq!(by["CSP02"].1, s);
        assert_eq!(
            s.counts,
            [
                ("At risk".to_string(), 1),
                ("On track".to_string(), 1),
                ("Not given".to_string(), 1)
            ]
        );
    }

    #[test]
    fn reported_gives_actions_due_in_form_order_and_last_years_with_the_answer_now() {
        let now = answers(&[
            ("objectives_1_objective", "Open a hub"),
            ("objectives_1_progress", "At risk"),
            ("M2_action", "Publish a report"),
            ("M2_action_who", "HM"),
            ("M2_action_by", "2027-06-30"),
            ("C1_action", "Agree a rationale"),
            ("P2_action", "Meet quarterly"),
            ("M1", "3 - In place"),
        ]);
        let before = answers(&[("M1_action", "Agree a framework"), ("M1_action_who", "DO")]);
        let t = template();
        let r = reported(
            &t,
            2027,
            &BTreeMap::from([
                ("CSP02".to_string(), now),
                ("X".to_string(), HashMap::new()),
            ]),
            &BTreeMap::from([("CSP02".to_string(), before)]),
        );
        assert_eq!(r.keys().collect::<Vec<_>>(), ["CSP02"], "none without any");
        let c = &r["CSP02"];
        assert_eq!(c.counts_words(), "1 objective: 1 At risk");
        let due: Vec<&str> = c.due.iter().map(|a| a.question_id.as_str()).collect();
        assert_eq!(due, ["P2", "C1", "M2"], "form order, not id order");
        assert_eq!(
            c.due[2].words(),
            "Publish a report (who: HM; by: 30 June 2027)"
        );
        assert_eq!(c.last_year.len(), 1);
        assert_eq!(c.last_year[0].year, 2026);
        assert_eq!(c.last_year[0].now.as_deref(), Some("3 - In place"));
        assert_eq!(c.last_year[0].words(), "Agree a framework (who: DO)");
    }
}
