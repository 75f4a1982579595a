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
