//! Answers are located by the form's defined names; the cell map on the hidden `_ptk`
//! sheet is the fallback, read only when names are missing (some programs drop them on
//! saving). A return without its names, or missing some, must read exactly as the
//! issued form does.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::*;

const SAMPLE: &str = "CVS10_self-assessment_2026.xlsx";

/// The sample with its `xl/workbook.xml` changed by `edit`, written to `to`. Fails if
/// the edit changed nothing (the test would then prove nothing).
fn rewrite_workbook_xml(to: &Path, edit: impl Fn(&str) -> String) {
    let original = std::fs::read(repo().join("samples/returns").join(SAMPLE)).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(original)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zin.len() {
        let mut part = zin.by_index(i).unwrap();
        let name = part.name().unwrap().to_string();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        if name == "xl/workbook.xml" {
            let xml = String::from_utf8(data).unwrap();
            let changed = edit(&xml);
            assert_ne!(changed, xml, "the edit must change workbook.xml");
            data = changed.into_bytes();
        }
        out.start_file(name, opts).unwrap();
        out.write_all(&data).unwrap();
    }
    std::fs::write(to, out.finish().unwrap().into_inner()).unwrap();
}

/// Ingests one file alone; returns its ingest-report row (status, partnership, message)
/// and the run's history export (each section's score).
fn ingest_one(file: &Path) -> ((String, String, String), String) {
    let dir = tempfile::tempdir().unwrap();
    let templates = repo().join("templates");
    let register = repo().join("samples/register.csv");
    let store = dir.path().join("ptk.db");
    let out = ptk(
        dir.path(),
        &[
            "ingest",
            file.to_str().unwrap(),
            "--year",
            "2026",
            "--templates",
            templates.to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut r = csv::Reader::from_path(dir.path().join("ingest-report.csv")).unwrap();
    let rec = r.records().next().unwrap().unwrap();
    let row = (rec[2].to_string(), rec[3].to_string(), rec[9].to_string());
    let export = dir.path().join("export.csv");
    let out = ptk(
        dir.path(),
        &[
            "history",
            "export",
            "--store",
            store.to_str().unwrap(),
            "--out",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (row, std::fs::read_to_string(export).unwrap())
}

#[test]
fn a_return_without_its_defined_names_is_read_from_the_cell_map_with_the_same_answers() {
    let (want_row, want_export) = ingest_one(&repo().join("samples/returns").join(SAMPLE));
    assert_eq!(want_row.0, "accepted", "{want_row:?}");
    assert!(want_row.2.contains("scored"), "{want_row:?}");
    assert!(want_export.lines().count() > 2, "{want_export}");

    let tmp = tempfile::tempdir().unwrap();
    // Every defined name gone.
    let none = tmp.path().join("no-names.xlsx");
    rewrite_workbook_xml(&none, |xml| {
        let (Some(a), Some(b)) = (xml.find("<definedNames>"), xml.find("</definedNames>")) else {
            panic!("the sample has defined names");
        };
        format!("{}{}", &xml[..a], &xml[b + "</definedNames>".len()..])
    });
    // One answer's name gone (the rest still named): its cell comes from the cell map.
    let one = tmp.path().join("one-name-missing.xlsx");
    rewrite_workbook_xml(&one, |xml| {
        let start = xml.find("<definedName name=\"ptk_").expect("a ptk_ name");
        let end = start + xml[start..].find("</definedName>").unwrap() + "</definedName>".len();
        format!("{}{}", &xml[..start], &xml[end..])
    });
    for file in [&none, &one] {
        let (row, export) = ingest_one(file);
        assert_eq!(row, want_row, "{}", file.display());
        assert_eq!(export, want_export, "{}", file.display());
    }
}
