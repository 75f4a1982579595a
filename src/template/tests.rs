use super::*;
use std::path::Path;

const MINIMAL: &str = r#"
id = "mini"
version = 2
title = "Mini"
[[bands]]
label = "Green"
min = 60
[[bands]]
label = "Red"
min = 0
[[sections]]
id = "s1"
title = "One"
[[sections.questions]]
id = "q1"
text = "Is it?"
type = "scale"
options = [{ label = "0 - No", points = 0 }, { label = "2 - Yes", points = 2 }, { label = "Not applicable" }]
"#;

fn problems(text: &str) -> Vec<String> {
    parse(Path::new("t.toml"), text)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn minimal_template_loads() {
    let t = parse(Path::new("t.toml"), MINIMAL).unwrap();
    assert_eq!(t.version, 2);
    assert!(t.is_scored());
    assert_eq!(t.question("q1").unwrap().max_points(), Some(2.0));
    assert_eq!(t.band_for(59.9).unwrap().label, "Red");
    assert_eq!(t.band_for(60.0).unwrap().label, "Green");
    assert_eq!(t.sheets(), vec!["Form"]);
}

#[test]
fn who_answers_and_the_disagreement_threshold() {
    let t = parse(Path::new("t.toml"), MINIMAL).unwrap();
    assert_eq!(
        t.respondents,
        Recipients::Lead,
        "one form per partnership unless asked"
    );
    assert_eq!(t.disagreement, DEFAULT_DISAGREEMENT);
    let all = MINIMAL.replacen(
        "version = 2",
        "version = 2\nrespondents = \"all\"\ndisagreement = 1.5",
        1,
    );
    let t = parse(Path::new("t.toml"), &all).unwrap();
    assert_eq!((t.respondents, t.disagreement), (Recipients::All, 1.5));
    let bad = MINIMAL.replacen("version = 2", "version = 2\ndisagreement = 0", 1);
    let p = problems(&bad);
    assert!(
        p.iter()
            .any(|m| m.contains("disagreement must be a number of points above 0")),
        "{p:?}"
    );
}

#[test]
fn duplicate_question_id_reports_both_lines() {
    let text = MINIMAL.to_string()
        + "[[sections.questions]]\nid = \"Q1\"\ntext = \"Again\"\ntype = \"text\"\n";
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("t.toml:20:"), "{p:?}");
    assert!(p[0].contains("used twice (first at line 15)"), "{p:?}");
}

#[test]
fn scale_without_points_is_rejected() {
    let text = MINIMAL
        .replace("points = 0 }", "}")
        .replace("points = 2 }", "}");
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|m| m.contains("none of its options has points")),
        "{p:?}"
    );
}

#[test]
fn unknown_type_is_rejected_with_line() {
    let text = MINIMAL.replace("type = \"scale\"", "type = \"scael\"");
    let p = problems(&text);
    assert!(p[0].starts_with("t.toml:17:"), "{p:?}");
    assert!(p[0].contains("scael"), "{p:?}");
}

#[test]
fn unknown_key_is_rejected() {
    let text = MINIMAL.replace("title = \"One\"", "title = \"One\"\nwieght = 2");
    let p = problems(&text);
    assert!(p[0].contains("wieght"), "{p:?}");
}

#[test]
fn bands_must_reach_zero() {
    let text = MINIMAL.replace("min = 0\n", "min = 10\n");
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|m| m.contains("lower values would have no band")),
        "{p:?}"
    );
}

#[test]
fn comma_in_option_label_is_rejected() {
    let text = MINIMAL.replace("2 - Yes", "2 - Yes, fully");
    let p = problems(&text);
    assert!(p.iter().any(|m| m.contains("comma")), "{p:?}");
}

#[test]
fn risk_section_generates_rows() {
    let text = r#"
id = "r"
version = 1
title = "R"
[[risk_ratings]]
label = "High"
min = 15
[[risk_ratings]]
label = "Low"
min = 1
[[sections]]
id = "risks"
title = "Risks"
layout = "risks"
rows = 3
"#;
    let t = parse(Path::new("r.toml"), text).unwrap();
    let ids: Vec<&str> = t.questions().map(|(_, q)| q.id.as_str()).collect();
    assert_eq!(ids.len(), 15);
    assert_eq!(ids[0], "risks_1_risk");
    assert!(t.question("risks_1_likelihood").unwrap().required);
    assert!(!t.question("risks_2_likelihood").unwrap().required);
    assert_eq!(t.risk_rating_for(16.0).unwrap().label, "High");
    assert!(!t.is_scored());
}

#[test]
fn sections_are_numbered_in_form_order_across_sheets() {
    let text = r#"
id = "n"
version = 1
title = "N"
sheet = "Questions"
[[risk_ratings]]
label = "Low"
min = 1
[[sections]]
id = "a"
title = "A"
[[sections.questions]]
id = "qa"
text = "A?"
type = "text"
[[sections]]
id = "risks"
title = "Risks"
sheet = "Risk assessment"
layout = "risks"
rows = 1
[[sections]]
id = "b"
title = "B"
[[sections.questions]]
id = "qb"
text = "B?"
type = "text"
"#;
    let t = parse(Path::new("n.toml"), text).unwrap();
    let order: Vec<&str> = t.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(order, ["a", "b", "risks"]);
    assert_eq!(t.sheets(), ["Questions", "Risk assessment"]);
}

#[test]
fn normalise_label_ignores_case_and_spacing() {
    assert_eq!(normalise_label("  3 -  In   Place "), "3 - in place");
}

const TABLE: &str = r#"
id = "t"
version = 2
title = "T"
action_below = 1
action_since = 2
[[bands]]
label = "Red"
min = 0
[[sections]]
id = "s1"
title = "One"
[[sections.questions]]
id = "q1"
text = "Is it?"
type = "scale"
options = [{ label = "0 - No", points = 0 }, { label = "2 - Yes", points = 2 }]
[[sections]]
id = "obj"
title = "Objectives"
sheet = "Objectives"
[[sections.questions]]
id = "objectives"
text = "Your objectives"
type = "table"
rows = 2
since = 2
columns = [
  { id = "objective", heading = "Objective", type = "text", required = true, carried = true },
  { id = "progress", heading = "Progress", type = "choice", options = [{ label = "On track" }, { label = "At risk" }] },
]
"#;

#[test]
fn a_table_question_makes_a_question_per_cell() {
    let t = parse(Path::new("t.toml"), TABLE).unwrap();
    let ids: Vec<&str> = t.sections[1]
        .questions
        .iter()
        .map(|q| q.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "objectives_1_objective",
            "objectives_1_progress",
            "objectives_1_committed",
            "objectives_2_objective",
            "objectives_2_progress",
            "objectives_2_committed"
        ]
    );
    let Layout::Table(table) = &t.sections[1].layout else {
        panic!("a table layout")
    };
    assert_eq!((table.rows, table.columns.len()), (2, 2));
    let progress = t.question("objectives_2_progress").unwrap();
    assert_eq!(
        (progress.kind, progress.options.len(), progress.since),
        (QuestionType::Choice, 2, 2)
    );
    assert!(
        !t.question("objectives_1_objective").unwrap().required,
        "blank rows are allowed"
    );
    // action_below: the scored statement gets its three action cells, asked since 2.
    assert_eq!(t.action_below, Some(1.0));
    let actions: Vec<(&str, u32)> = t.actions.iter().map(|q| (q.id.as_str(), q.since)).collect();
    assert_eq!(
        actions,
        [("q1_action", 2), ("q1_action_who", 2), ("q1_action_by", 2)]
    );
    assert_eq!(t.actions_for("q1").len(), 3);
}

#[test]
fn table_problems_are_reported_with_their_line() {
    let p = problems(&TABLE.replace("rows = 2\n", ""));
    assert!(
        p.iter()
            .any(|m| m.starts_with("t.toml:23:") && m.contains("needs rows = N")),
        "{p:?}"
    );
    let p = problems(&TABLE.replace("type = \"choice\", options", "type = \"scale\", options"));
    assert!(
        p.iter()
            .any(|m| m.starts_with("t.toml:30:")
                && m.contains("column 'progress' is of type 'scale'")),
        "{p:?}"
    );
    let p = problems(&TABLE.replace("{ label = \"At risk\" }", "{ label = \"At risk, late\" }"));
    assert!(
        p.iter().any(|m| m.contains(
            "table 'objectives', column 'progress': option 'At risk, late' contains a comma"
        )),
        "{p:?}"
    );
    let p = problems(&TABLE.replace("id = \"progress\"", "id = \"committed\""));
    assert!(
        p.iter()
            .any(|m| m.contains("'committed' is the name ptk gives")),
        "{p:?}"
    );
    let p = problems(&TABLE.replace("sheet = \"Objectives\"\n", ""));
    assert!(
        p.iter()
            .any(|m| m.contains("table section 'obj' shares the sheet 'Form'")),
        "{p:?}"
    );
    let p = problems(&TABLE.replace("action_below = 1", "action_below = -1"));
    assert!(
        p.iter()
            .any(|m| m.starts_with("t.toml:5:")
                && m.contains("action_below must be a number of points")),
        "{p:?}"
    );
    let p = problems(&TABLE.replace("since = 2\n", "since = 0\n"));
    assert!(
        p.iter()
            .any(|m| m.starts_with("t.toml:27:") && m.contains("since must be")),
        "{p:?}"
    );
}
