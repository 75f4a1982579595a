//! `--help` of every subcommand, walked as an officer would read it: every option and
//! argument described, worked examples of its own that use ids from the sample register
//! and fit on one line, and the exit codes.

mod common;

use common::*;

fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut a: Vec<&str> = args.to_vec();
    a.push("--help");
    let out = ptk(dir.path(), &a);
    assert!(out.status.success(), "{a:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The entries of a help section ("Commands:", "Options:", "Arguments:"): each entry's
/// first line and its description (the same line after the name, and the deeper-indented
/// lines below it).
fn section(help: &str, title: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == title {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line.is_empty() || !line.starts_with(' ') {
            break;
        }
        let indent = line.len() - line.trim_start().len();
        if indent <= 6 {
            let t = line.trim_start();
            let (name, desc) = match t.find("  ") {
                Some(i) => (t[..i].to_string(), t[i..].trim().to_string()),
                None => (t.to_string(), String::new()),
            };
            out.push((name, desc));
        } else if let Some(last) = out.last_mut() {
            last.1.push(' ');
            last.1.push_str(line.trim());
        }
    }
    out
}

/// A description without clap's own `[default: …]` and `[possible values: …]` notes.
fn own_words(desc: &str) -> String {
    let mut s = desc.to_string();
    for tag in ["[default: ", "[possible values: "] {
        while let Some(i) = s.find(tag) {
            let end = s[i..].find(']').map_or(s.len(), |j| i + j + 1);
            s.replace_range(i..end, "");
        }
    }
    s.trim().to_string()
}

/// Every leaf subcommand, as its argument path (`["mail", "chase"]`).
fn leaves() -> Vec<Vec<String>> {
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut found = Vec::new();
    while let Some(path) = todo.pop() {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let h = help(&refs);
        let subs: Vec<String> = section(&h, "Commands:")
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n != "help")
            .collect();
        if subs.is_empty() {
            found.push(path);
        } else {
            for s in subs {
                let mut p = path.clone();
                p.push(s);
                todo.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_option_of_every_subcommand_is_described() {
    let leaves = leaves();
    assert!(leaves.len() >= 12, "found only {leaves:?}");
    let mut missing = Vec::new();
    for path in &leaves {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let h = help(&refs);
        for title in ["Options:", "Arguments:"] {
            for (name, desc) in section(&h, title) {
                if own_words(&desc).is_empty() {
                    missing.push(format!("ptk {} {name}", path.join(" ")));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "options with no description: {missing:#?}"
    );
}

#[test]
fn every_subcommand_has_its_own_examples_and_the_exit_codes() {
    let ids: Vec<String> = csv::Reader::from_path(repo().join("samples/register.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    for path in leaves() {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let h = help(&refs);
        let me = format!("ptk {}", path.join(" "));
        assert!(
            h.contains("Exit codes") && h.contains("2 could not run"),
            "{me}: no exit codes\n{h}"
        );
        let examples: Vec<&str> = h
            .lines()
            .skip_while(|l| !l.starts_with("Example"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(!examples.is_empty(), "{me}: no examples\n{h}");
        for e in examples {
            assert!(
                e.trim_start().starts_with(&format!("{me} ")) || e.trim() == me,
                "{me}: example of another command, or a wrapped line: {e:?}"
            );
            let words: Vec<&str> = e.split_whitespace().collect();
            for w in words.windows(2).filter(|w| w[0] == "--partnership") {
                assert!(
                    ids.iter().any(|i| i == w[1]),
                    "{me}: {e}: {} is not in samples/register.csv",
                    w[1]
                );
            }
        }
    }
}

#[test]
fn a_short_year_is_refused_everywhere_it_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["issue", "--template", "self-assessment", "--year", "26"][..],
        &["report", "--year", "26"],
        &["ingest", "returns", "--year", "26"],
        &["review", "returns", "--year", "0"],
        &["status", "--year", "0"],
        &["mail", "chase", "--year", "26"],
        &["mail", "corrections", "--year", "2101"],
        &[
            "mail",
            "issue",
            "out",
            "--template",
            "exit",
            "--year",
            "199",
        ],
    ] {
        let out = ptk(dir.path(), args);
        assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("write the year in full, from 2000 to 2100"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
