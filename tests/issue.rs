//! `ptk templates` and `ptk issue`, exercised through the binary.

mod common;

use std::collections::HashMap;
use std::path::Path;

use calamine::{open_workbook, Data, Reader, SheetVisible, Xlsx};
use common::*;
use ptk::contract;

fn id_sheet(path: &Path) -> HashMap<String, String> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(contract::ID_SHEET).unwrap();
    range
        .rows()
        .map(|r| {
            (
                r[0].to_string(),
                r.get(1).map(Data::to_string).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn shipped_templates_parse_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let t = repo().join("templates");
    let out = ptk(
        dir.path(),
        &["templates", "check", "--templates", t.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3 template(s) checked: no problems found"));
    let list = ptk(
        dir.path(),
        &["templates", "list", "--templates", t.to_str().unwrap()],
    );
    assert!(list.status.success(), "{}", text(&list.stderr));
    let listed = text(&list.stdout);
    for id in ["self-assessment", "exit", "new-partnership"] {
        assert!(listed.contains(id), "{listed}");
    }
}

#[test]
fn bad_template_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "id = \"bad\"\nversion = 1\ntitle = \"Bad\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n\
         [[sections.questions]]\nid = \"q1\"\ntext = \"Q\"\ntype = \"scale\"\noptions = [{ label = \"Low\" }]\n\
         [[sections.questions]]\nid = \"q1\"\ntext = \"Again\"\ntype = \"text\"\n",
    )
    .unwrap();
    let out = ptk(dir.path(), &["templates", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "bad.toml:8: question 'q1' is a scored scale but none of its options has points"
        ),
        "{err}"
    );
    assert!(
        err.contains("bad.toml:13: question id 'q1' is used twice (first at line 8)"),
        "{err}"
    );

    std::fs::write(&bad, "id = \"bad\"\nversion = 1\ntitle = \"Bad\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n[[sections.questions]]\nid = \"q\"\ntext = \"Q\"\ntype = \"multiple\"\n").unwrap();
    let out = ptk(dir.path(), &["templates", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml:10:") && err.contains("unknown variant `multiple`"),
        "{err}"
    );
}

#[test]
fn bad_register_stops_the_issue_and_names_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut reg = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    reg.push_str(
        "LSP01,Duplicate,Strategic,A,a@rochford.gov.uk,B,,Enable communities,active,,,,\n",
    );
    reg.push_str("BAD20,Bad email,Strategic,A,not an email,B,,Enable communities,active,,,,\n");
    reg.push_str("BAD21,Bad priority,Strategic,A,a@rochford.gov.uk,B,,Save the world,active,,,,\n");
    std::fs::write(dir.path().join("register.csv"), reg).unwrap();
    let t = repo().join("templates");
    let args = [
        "issue",
        "--template",
        "self-assessment",
        "--year",
        "2026",
        "--templates",
        t.to_str().unwrap(),
        "--register",
        "register.csv",
        "--out",
        "out",
        "--return-address",
        "p@rochford.gov.uk",
    ];
    let out = ptk(dir.path(), &args);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    let err = text(&out.stderr);
    assert!(
        err.contains("register.csv:20: partnership_id 'LSP01' is already used on line 2"),
        "{err}"
    );
    assert!(
        err.contains("register.csv:21: partnership BAD20 has email 'not an email'"),
        "{err}"
    );
    assert!(
        err.contains(
            "register.csv:22: partnership BAD21 has business_plan_priority 'Save the world'"
        ),
        "{err}"
    );
    assert!(err.contains("--skip-bad-rows"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing is issued from a bad register"
    );

    let mut skip = args.to_vec();
    skip.push("--skip-bad-rows");
    let out = ptk(dir.path(), &skip);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "finished, but rows were rejected"
    );
    assert_eq!(xlsx_files(&dir.path().join("out")).len(), 13);
}

#[test]
fn one_workbook_per_relevant_partnership() {
    let dir = tempfile::tempdir().unwrap();
    for (template, want) in [("self-assessment", 13), ("exit", 2), ("new-partnership", 2)] {
        let out = issue(dir.path(), template, &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let n = xlsx_files(&dir.path().join("out"))
            .iter()
            .filter(|p| p.to_string_lossy().contains(&format!("_{template}_2026")))
            .count();
        assert_eq!(n, want, "{template}");
    }
    // Exiting partnerships get the exit document, not the self-assessment.
    assert!(dir.path().join("out/ENV14_exit_2026.xlsx").exists());
    assert!(!dir
        .path()
        .join("out/ENV14_self-assessment_2026.xlsx")
        .exists());
    assert!(
        !dir.path()
            .join("out/TRN18_self-assessment_2026.xlsx")
            .exists(),
        "closed partnerships get nothing"
    );

    // The mail merge keeps one row per workbook across templates.
    let mm = std::fs::read_to_string(dir.path().join("out/mailmerge.csv")).unwrap();
    let mut r = csv::Reader::from_reader(mm.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 17);
    let lsp = rows
        .iter()
        .find(|r| &r[7] == "LSP01_self-assessment_2026.xlsx")
        .unwrap();
    assert_eq!(&lsp[0], "helen.marsh@rochford.gov.uk");
    assert_eq!(&lsp[1], "angela.hutchings@rochford.gov.uk");
    assert!(lsp[5].contains("Joint Castle Point and Rochford Local Strategic Partnership"));
    assert!(
        lsp[6].contains("Dear Helen Marsh") && lsp[6].contains("29 January 2027"),
        "{}",
        &lsp[6]
    );
}

#[test]
fn explicit_partnership_list() {
    let dir = tempfile::tempdir().unwrap();
    let out = issue(
        dir.path(),
        "new-partnership",
        &["--partnership", "LSP01", "--partnership", "MGT16"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let files = xlsx_files(&dir.path().join("out"));
    assert_eq!(files.len(), 2);
    let out = issue(dir.path(), "new-partnership", &["--partnership", "NOPE"]);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(text(&out.stderr).contains("partnership 'NOPE' is not in the register"));
}

#[test]
fn issued_workbooks_carry_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    for template in ["self-assessment", "exit", "new-partnership"] {
        assert!(issue(dir.path(), template, &[]).status.success());
    }
    let templates_dir = repo().join("templates");
    let files = xlsx_files(&dir.path().join("out"));
    assert_eq!(files.len(), 17);
    for path in files {
        let ids = id_sheet(&path);
        let template_id = &ids[contract::KEY_TEMPLATE_ID];
        let t = ptk::template::find(&templates_dir, template_id).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let pid = stem.split('_').next().unwrap();
        assert_eq!(ids[contract::KEY_PARTNERSHIP_ID], pid);
        assert_eq!(ids[contract::KEY_YEAR], "2026");
        assert_eq!(ids[contract::KEY_TEMPLATE_VERSION], t.version.to_string());
        assert_eq!(ids[contract::KEY_ISSUED_AT], "2026-11-23");

        // calamine sees the identification sheet as hidden and the names.
        let wb: Xlsx<_> = open_workbook(&path).unwrap();
        let meta = wb.sheets_metadata();
        let id_meta = meta.iter().find(|s| s.name == contract::ID_SHEET).unwrap();
        assert_eq!(id_meta.visible, SheetVisible::Hidden);
        let names: HashMap<String, String> = wb.defined_names().iter().cloned().collect();

        let facts = inspect(&path);
        for sheet in t.sheets() {
            assert_eq!(
                facts.protected.get(sheet),
                Some(&true),
                "{sheet} is protected"
            );
        }
        for (s, q) in t.questions() {
            let name = contract::answer_name(&q.id);
            let target = names
                .get(&name)
                .unwrap_or_else(|| panic!("{stem}: no name {name}"));
            let cell = contract::parse_ref(target).unwrap_or_else(|| panic!("{name} → {target}"));
            assert_eq!(
                ids.get(&name),
                Some(&contract::absolute_ref(
                    &cell.sheet,
                    cell.row,
                    cell.col as u16
                )),
                "cell map agrees with {name}"
            );
            let key = (cell.sheet.clone(), cell.a1());
            // A table's "as agreed last year" cell is ptk's to fill: locked, no check.
            if matches!(s.layout, ptk::template::Layout::Table(_))
                && q.id.ends_with(&format!("_{}", ptk::template::COMMITTED))
            {
                assert_eq!(
                    facts.locked.get(&key),
                    Some(&true),
                    "{stem}: {name} is locked"
                );
                continue;
            }
            assert_eq!(
                facts.locked.get(&key),
                Some(&false),
                "{stem}: {name} at {key:?} is unlocked"
            );
            let (kind, formula) = facts
                .validation
                .get(&key)
                .unwrap_or_else(|| panic!("{stem}: {name} has a validation"));
            if q.kind.has_options() {
                assert_eq!(kind, "list", "{name}");
                let labels: Vec<&str> = q.options.iter().map(|o| o.label.as_str()).collect();
                assert_eq!(
                    formula,
                    &format!("\"{}\"", labels.join(",")),
                    "{name} dropdown lists its options"
                );
            }
            if q.evidence {
                let ev = contract::parse_ref(&names[&contract::evidence_name(&q.id)]).unwrap();
                assert_eq!(facts.locked.get(&(ev.sheet.clone(), ev.a1())), Some(&false));
            }
        }
        // Question text is locked.
        let first = t.questions().next().unwrap().1;
        let cell = contract::parse_ref(&names[&first.answer_name()]).unwrap();
        assert_eq!(
            facts
                .locked
                .get(&(cell.sheet.clone(), contract::a1(cell.row, 1))),
            Some(&true)
        );
    }
}

#[test]
fn output_is_byte_for_byte_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for template in ["self-assessment", "new-partnership"] {
        assert!(issue(a.path(), template, &[]).status.success());
        assert!(issue(b.path(), template, &[]).status.success());
    }
    let fa = std::fs::read_dir(a.path().join("out")).unwrap().count();
    assert_eq!(fa, 16);
    for entry in std::fs::read_dir(a.path().join("out")).unwrap() {
        let p = entry.unwrap().path();
        let q = b.path().join("out").join(p.file_name().unwrap());
        assert!(
            std::fs::read(&p).unwrap() == std::fs::read(&q).unwrap(),
            "{} differs between runs",
            p.display()
        );
    }
}

#[test]
fn missing_return_address_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let t = repo().join("templates");
    let r = repo().join("samples/register.csv");
    let out = ptk(
        dir.path(),
        &[
            "issue",
            "--template",
            "exit",
            "--year",
            "2026",
            "--templates",
            t.to_str().unwrap(),
            "--register",
            r.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(
        text(&out.stderr).contains("--return-address"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_template_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = issue(dir.path(), "self-assesment", &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(text(&out.stderr).contains("no template with id 'self-assesment'"));
}

#[test]
fn earlier_scores_from_the_store_appear_on_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let store = import_sample_history(dir.path());
    let out = issue(
        dir.path(),
        "self-assessment",
        &["--store", store.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut wb: Xlsx<_> =
        open_workbook(dir.path().join("out/LSP01_self-assessment_2026.xlsx")).unwrap();
    let rows: Vec<Vec<String>> = wb
        .worksheet_range("Instructions")
        .unwrap()
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let heading = rows
        .iter()
        .position(|r| r[0] == "Your earlier scores")
        .expect("the earlier scores table");
    let overall = rows[heading..]
        .iter()
        .find(|r| r[0] == "Overall")
        .expect("an Overall row");
    // From samples/history.csv, LSP01's overall: 2023 67, 2024 65.75, 2025 76.875.
    let history = std::fs::read_to_string(repo().join("samples/history.csv")).unwrap();
    for year in ["2023", "2024", "2025"] {
        let pct: f64 = history
            .lines()
            .find(|l| l.starts_with(&format!("{year},LSP01,overall,")))
            .and_then(|l| l.rsplit(',').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            overall[1].contains(&format!("{year}: {pct:.1}%")),
            "{year} in {:?}",
            overall[1]
        );
    }
    // YTH13 has no history: the form says this year sets the baseline.
    let mut wb: Xlsx<_> =
        open_workbook(dir.path().join("out/YTH13_self-assessment_2026.xlsx")).unwrap();
    let text_all: String = wb
        .worksheet_range("Instructions")
        .unwrap()
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text_all.contains("this year's return sets the baseline"));
}
