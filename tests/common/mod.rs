//! Shared helpers for the integration tests: run the `ptk` binary, and look inside
//! xlsx files for what calamine does not expose (cell protection, data validation).
//! Filling forms is in [`forms`], running ptk on the samples and checking a run in
//! [`checks`].
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod checks;
mod forms;
// Each test file uses only some of these.
#[allow(unused_imports)]
pub use checks::*;
#[allow(unused_imports)]
pub use forms::*;

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
/// would. Those tests are `#[ignore = "needs LibreOffice: …"]`, so plain `cargo test`
/// reports them ignored; run with `-- --include-ignored` (as CI does) and a missing
/// LibreOffice fails the test with what to install, never a silent pass.
pub fn soffice(test: &str) -> PathBuf {
    ["soffice", "libreoffice"]
        .iter()
        .find_map(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| s.success())
                .map(|_| PathBuf::from(name))
        })
        .unwrap_or_else(|| {
            panic!(
                "{test}: LibreOffice (soffice) is not installed; run `sudo bash scripts/install-test-tools.sh`, or leave out --include-ignored"
            )
        })
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

/// The options that send through the local test SMTP server at `smtp` (host:port): no
/// TLS (a server on this computer), no pause between messages, no retries.
pub fn local_smtp(smtp: &str) -> Vec<&str> {
    vec![
        "--smtp",
        smtp,
        "--smtp-security",
        "plain",
        "--per-minute",
        "0",
        "--retries",
        "0",
    ]
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An SMTP server on 127.0.0.1 that stores what it receives in a maildir. Stopped on drop.
pub struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    pub fn start(port: u16, maildir: &Path) -> Self {
        let child = Command::new(python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the SMTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            maildir: maildir.to_path_buf(),
        }
    }

    pub fn received(&self) -> Vec<Vec<u8>> {
        ptk::ingest::email::maildir_messages(&self.maildir)
            .unwrap()
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A partnership's result as the test computes it: section id → percent, and overall.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub sections: std::collections::BTreeMap<String, f64>,
    pub overall: f64,
}

/// This year's scores of the scored form, computed here rather than read back from
/// ptk's results: the points come from the template's option labels (templates/<id>.toml,
/// parsed with `toml`), and the aggregation is written out below. Only which returns
/// are current (intake's verdict) and the raw answer each held (the reader's text) are
/// taken from the store. Per statement: the mean points of the respondents who chose a
/// scored option; per section: 100 × Σ means ÷ (max points × statements with a mean);
/// overall: the sections' percents weighted by their `weight`.
pub fn expected_scores(
    db: &Path,
    year: i32,
    template: &str,
) -> std::collections::BTreeMap<String, Expected> {
    use std::collections::BTreeMap;
    let toml_text =
        std::fs::read_to_string(repo().join(format!("templates/{template}.toml"))).unwrap();
    let t: toml::Value = toml::from_str(&toml_text).unwrap();
    let sets = t
        .get("option_sets")
        .and_then(|s| s.as_table())
        .cloned()
        .unwrap_or_default();
    // section id → (weight, [(question id, label → points)])
    type Points = BTreeMap<String, f64>;
    type Section = (String, f64, Vec<(String, Points)>);
    let mut sections: Vec<Section> = Vec::new();
    for s in t["sections"].as_array().unwrap() {
        let weight = s.get("weight").map_or(1.0, |w| {
            w.as_float()
                .unwrap_or_else(|| w.as_integer().unwrap() as f64)
        });
        let mut qs = Vec::new();
        for q in s
            .get("questions")
            .and_then(|q| q.as_array())
            .into_iter()
            .flatten()
        {
            let options = match q.get("options_from") {
                Some(from) => sets[from.as_str().unwrap()].clone(),
                None => q
                    .get("options")
                    .cloned()
                    .unwrap_or(toml::Value::Array(vec![])),
            };
            let points: Points = options
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|o| {
                    let p = o.get("points")?;
                    Some((
                        o["label"].as_str()?.to_string(),
                        p.as_float()
                            .unwrap_or_else(|| p.as_integer().unwrap() as f64),
                    ))
                })
                .collect();
            if !points.is_empty() {
                qs.push((q["id"].as_str().unwrap().to_string(), points));
            }
        }
        if !qs.is_empty() {
            sections.push((s["id"].as_str().unwrap().to_string(), weight, qs));
        }
    }
    // partnership → question → every respondent's answer
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT r.partnership_id, a.question_id, a.value FROM returns r
             JOIN answers a ON a.return_id = r.id
             WHERE r.year = ?1 AND r.template_id = ?2 AND r.current = 1",
        )
        .unwrap();
    let mut answers: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let rows = stmt
        .query_map(rusqlite::params![year, template], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap();
    for r in rows {
        let (pid, q, v) = r.unwrap();
        answers
            .entry(pid)
            .or_default()
            .entry(q)
            .or_default()
            .push(v);
    }
    let mut out = BTreeMap::new();
    for (pid, by_q) in answers {
        let mut percents = BTreeMap::new();
        let (mut weighted, mut weights) = (0.0, 0.0);
        for (sid, weight, qs) in &sections {
            let (mut sum, mut max) = (0.0, 0.0);
            for (qid, points) in qs {
                let chosen: Vec<f64> = by_q
                    .get(qid)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| points.get(v.trim()).copied())
                    .collect();
                if !chosen.is_empty() {
                    sum += chosen.iter().sum::<f64>() / chosen.len() as f64;
                    max += points.values().cloned().fold(f64::MIN, f64::max);
                }
            }
            if max > 0.0 {
                let pct = 100.0 * sum / max;
                percents.insert(sid.clone(), pct);
                weighted += weight * pct;
                weights += weight;
            }
        }
        if weights > 0.0 {
            out.insert(
                pid,
                Expected {
                    sections: percents,
                    overall: weighted / weights,
                },
            );
        }
    }
    out
}

/// Each partnership's overall percent in `year` as samples/history.csv gives it.
pub fn sample_history_overall(year: i32) -> HashMap<String, f64> {
    let text = std::fs::read_to_string(repo().join("samples/history.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() == 4 && f[0] == year.to_string() && f[2] == "overall")
                .then(|| (f[1].to_string(), f[3].parse().unwrap()))
        })
        .collect()
}
