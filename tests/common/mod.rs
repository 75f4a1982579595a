//! Shared helpers for the integration tests: run the `ptk` binary, and look inside
//! xlsx files for what calamine does not expose (cell protection, data validation).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `ptk` with `args` in `dir` (never the repository, so its ptk.toml is not used).
pub fn ptk(dir: &Path, args: &[&str]) -> Output {
    ptk_env(dir, args, &[])
}

/// Runs ptk with extra environment variables (the test hooks).
pub fn ptk_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ptk"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .expect("ptk runs")
}

/// A Python with the packages in tests/requirements.txt: a venv under target/ that this
/// creates and fills from PyPI the first time (and again when the list changes).
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = repo().join("target/test-python");
        let py = venv.join("bin/python");
        let wanted = std::fs::read_to_string(repo().join("tests/requirements.txt")).unwrap();
        let stamp = venv.join("requirements.installed");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return py;
        }
        let ok = (py.exists()
            || Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success()))
            && Command::new(&py)
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r"])
                .arg(repo().join("tests/requirements.txt"))
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "could not install the test tools in tests/requirements.txt (needs python3 with venv, and PyPI)"
        );
        std::fs::write(&stamp, wanted).unwrap();
        py
    })
}

/// Runs a Python script with the test venv's packages; panics with its output on failure.
pub fn run_python(dir: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// LibreOffice's `soffice`, for the tests that re-save or print a workbook as an officer
/// would. Missing: under CI (CI=true) the test fails, since scripts/install-test-tools.sh
/// should have installed it; elsewhere the test says plainly that it is skipped.
pub fn soffice(test: &str) -> Option<PathBuf> {
    let found = ["soffice", "libreoffice"].iter().find_map(|name| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .filter(|s| s.success())
            .map(|_| PathBuf::from(name))
    });
    if found.is_none() {
        let why = format!(
            "{test}: LibreOffice (soffice) is not installed; run scripts/install-test-tools.sh"
        );
        assert!(std::env::var_os("CI").is_none(), "{why} (CI must have it)");
        eprintln!("SKIPPED {why}");
    }
    found
}

/// findings.csv in `dir` as file name → the finding codes of that file, in order.
pub fn finding_codes(dir: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut r = csv::Reader::from_path(dir.join("findings.csv")).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let name = Path::new(&rec[0])
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.entry(name).or_default().push(rec[6].to_string());
    }
    out
}

/// `ptk mail <what>` for 2026 on the samples with the store in `dir`, the respondents
/// file `respondents` if given, and `extra` arguments.
pub fn mail_run(dir: &Path, respondents: Option<&str>, what: &[&str], extra: &[&str]) -> Output {
    let store = dir.join("ptk.db");
    let mut args: Vec<String> = vec!["mail".into()];
    args.extend(what.iter().map(|s| s.to_string()));
    for a in [
        "--year",
        "2026",
        "--from",
        "partnerships@rochford.gov.uk",
        "--deadline",
        "2027-01-29",
        "--return-address",
        "partnerships@rochford.gov.uk",
        "--store",
        store.to_str().unwrap(),
        "--register",
        repo().join("samples/register.csv").to_str().unwrap(),
        "--templates",
        repo().join("templates").to_str().unwrap(),
    ] {
        args.push(a.into());
    }
    if let Some(r) = respondents {
        args.extend(["--respondents".to_string(), r.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ptk(dir, &refs)
}

pub fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Issues a template from the shipped templates and register into `dir/out`.
pub fn issue(dir: &Path, template: &str, extra: &[&str]) -> Output {
    let templates = repo().join("templates");
    let register = repo().join("samples/register.csv");
    let mut args = vec![
        "issue",
        "--template",
        template,
        "--year",
        "2026",
        "--templates",
        templates.to_str().unwrap(),
        "--register",
        register.to_str().unwrap(),
        "--out",
        "out",
        "--issued-on",
        "2026-11-23",
        "--deadline",
        "2027-01-29",
        "--return-address",
        "partnerships@rochford.gov.uk",
    ];
    args.extend_from_slice(extra);
    ptk(dir, &args)
}

/// What a test needs to know about one cell of an xlsx.
#[derive(Debug, Default)]
pub struct XlsxFacts {
    /// Sheet name → state ("visible", "hidden", "veryHidden").
    pub sheet_state: HashMap<String, String>,
    /// Defined name → formula text.
    pub names: HashMap<String, String>,
    /// (sheet, A1) → locked?
    pub locked: HashMap<(String, String), bool>,
    /// (sheet, A1) → (validation type, formula1)
    pub validation: HashMap<(String, String), (String, String)>,
    /// Sheet → protected?
    pub protected: HashMap<String, bool>,
}

fn read_zip(path: &Path, name: &str) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

pub fn inspect(path: &Path) -> XlsxFacts {
    let mut facts = XlsxFacts::default();
    let wb = read_zip(path, "xl/workbook.xml");
    let wb = roxmltree::Document::parse(&wb).unwrap();
    let rels = read_zip(path, "xl/_rels/workbook.xml.rels");
    let rels = roxmltree::Document::parse(&rels).unwrap();
    let target: HashMap<String, String> = rels
        .descendants()
        .filter(|n| n.has_tag_name("Relationship"))
        .map(|n| {
            (
                n.attribute("Id").unwrap().to_string(),
                n.attribute("Target").unwrap().to_string(),
            )
        })
        .collect();
    let styles = read_zip(path, "xl/styles.xml");
    let styles = roxmltree::Document::parse(&styles).unwrap();
    let xfs: Vec<bool> = styles
        .descendants()
        .find(|n| n.has_tag_name("cellXfs"))
        .unwrap()
        .children()
        .filter(|n| n.has_tag_name("xf"))
        .map(|xf| {
            !xf.children()
                .any(|c| c.has_tag_name("protection") && c.attribute("locked") == Some("0"))
        })
        .collect();
    for n in wb.descendants().filter(|n| n.has_tag_name("definedName")) {
        facts.names.insert(
            n.attribute("name").unwrap().to_string(),
            n.text().unwrap_or("").to_string(),
        );
    }
    for s in wb.descendants().filter(|n| n.has_tag_name("sheet")) {
        let name = s.attribute("name").unwrap().to_string();
        facts.sheet_state.insert(
            name.clone(),
            s.attribute("state").unwrap_or("visible").to_string(),
        );
        let rid = s.attribute((REL_NS, "id")).unwrap();
        let xml = read_zip(path, &format!("xl/{}", target[rid]));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        facts.protected.insert(
            name.clone(),
            doc.descendants().any(|n| n.has_tag_name("sheetProtection")),
        );
        for c in doc.descendants().filter(|n| n.has_tag_name("c")) {
            let s_idx: usize = c.attribute("s").map_or(0, |s| s.parse().unwrap());
            facts.locked.insert(
                (name.clone(), c.attribute("r").unwrap().to_string()),
                xfs[s_idx],
            );
        }
        for dv in doc
            .descendants()
            .filter(|n| n.has_tag_name("dataValidation"))
        {
            let kind = dv.attribute("type").unwrap_or("any").to_string();
            let f1 = dv
                .children()
                .find(|c| c.has_tag_name("formula1"))
                .and_then(|c| c.text())
                .unwrap_or("")
                .to_string();
            for cell in dv.attribute("sqref").unwrap().split_whitespace() {
                facts
                    .validation
                    .insert((name.clone(), cell.to_string()), (kind.clone(), f1.clone()));
            }
        }
    }
    facts
}

/// Lists the .xlsx files in a folder, sorted.
pub fn xlsx_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .collect();
    v.sort();
    v
}

/// Imports the shipped samples/history.csv into `dir/ptk.db`; returns the store path.
pub fn import_sample_history(dir: &Path) -> PathBuf {
    let store = dir.join("ptk.db");
    let h = repo().join("samples/history.csv");
    let out = ptk(
        dir,
        &[
            "history",
            "import",
            h.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    store
}
