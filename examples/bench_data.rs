//! Benchmark data: N synthetic partnerships, their self-assessments issued by the real
//! `ptk issue` code path, filled with varied answers (some invalid), plus earlier
//! years' history.
//!
//!     cargo run --release --example bench_data -- --n 1000 --out bench/n1000
//!
//! Writes `register.csv`, `history.csv`, `issued/` (blank forms) and `returns/`
//! (filled forms). Filling edits the answer cells in the sheet XML, the way a
//! spreadsheet program stores typed values, so the returns look like real ones to
//! every reader. Deterministic for the same N.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use ptk::issue::{self, IssueSettings};
use ptk::register::{self, Partnership};
use ptk::template::{self, QuestionType, Template};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: small, fast, deterministic.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn args() -> (usize, PathBuf) {
    let a: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        a.iter()
            .position(|x| x == k)
            .and_then(|i| a.get(i + 1))
            .cloned()
    };
    let n = get("--n").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let out = get("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("bench/n{n}")));
    (n, out)
}

const PRIORITIES: [&str; 4] = [
    "Become financially self-sufficient",
    "Early intervention",
    "Maximise our assets",
    "Enable communities",
];
const ADS: [&str; 5] = [
    "Angela Hutchings",
    "Marcus Hill",
    "Naomi Clarke",
    "Owen Price",
    "Ruth Adams",
];

fn main() -> anyhow::Result<()> {
    let (n, out) = args();
    std::fs::create_dir_all(&out)?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let t = template::find(&root.join("templates"), "self-assessment")?;

    // Register.
    let mut csv = String::from(
        "partnership_id,name,lead_officer,email,assistant_director,business_plan_priority,status\n",
    );
    for i in 1..=n {
        csv.push_str(&format!(
            "B{i:05},Synthetic Partnership {i},Officer {i},officer{i}@example.gov.uk,{},{},active\n",
            ADS[i % ADS.len()],
            PRIORITIES[i % PRIORITIES.len()]
        ));
    }
    let reg_path = out.join("register.csv");
    std::fs::write(&reg_path, &csv)?;
    let (reg, problems) = register::load(&reg_path)?;
    anyhow::ensure!(problems.is_empty(), "{problems:?}");

    // History for 2024 and 2025.
    let mut hist = String::from("year,partnership_id,section_id,percent\n");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for p in &reg.partnerships {
        for year in [2024, 2025] {
            let mut sum = 0.0;
            for s in ["foundations", "partners", "communication", "measuring"] {
                let v = 30.0 + rng.below(650) as f64 / 10.0;
                sum += v;
                hist.push_str(&format!("{year},{},{s},{v}\n", p.id));
            }
            hist.push_str(&format!("{year},{},overall,{}\n", p.id, sum / 4.0));
        }
    }
    std::fs::write(out.join("history.csv"), hist)?;

    // Issue through the real code path.
    let settings = IssueSettings {
        council: "Benchmark Council".into(),
        year: 2026,
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        deadline: chrono::NaiveDate::from_ymd_opt(2027, 1, 29).unwrap(),
        return_address: "partnerships@example.gov.uk".into(),
        password: None,
    };
    let who: Vec<&Partnership> = reg.partnerships.iter().collect();
    let letter = ptk::letter::load_named(&root.join("templates"), "issue")?;
    let issued_dir = out.join("issued");
    let issued = issue::issue_all(
        &t,
        &who,
        &Default::default(),
        &settings,
        &BTreeMap::new(),
        &BTreeMap::new(),
        &letter,
        &issued_dir,
        &Default::default(),
    )?;

    // Fill every form.
    let cells = answer_cells(&issued[0].path, &t)?;
    let returns = out.join("returns");
    std::fs::create_dir_all(&returns)?;
    issued
        .par_iter()
        .enumerate()
        .try_for_each(|(i, f)| -> anyhow::Result<()> {
            let answers = answers_for(&t, i as u64);
            let filled = fill(&std::fs::read(&f.path)?, &cells, &answers)?;
            std::fs::write(returns.join(f.path.file_name().unwrap()), filled)?;
            Ok(())
        })?;
    println!("{n} returns in {}", returns.display());
    Ok(())
}

/// A value to put in a cell.
enum Value {
    Text(String),
    Number(f64),
}

/// Where each answer cell is, from the `_ptk` cell map of one issued form (all forms of
/// a template share the layout): question id → (sheet xml part, A1 reference).
fn answer_cells(issued: &Path, t: &Template) -> anyhow::Result<HashMap<String, (String, String)>> {
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(issued)?;
    let order = wb.sheet_names();
    let ids = wb.worksheet_range("_ptk")?;
    let map: HashMap<String, String> = ids
        .rows()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let mut out = HashMap::new();
    for (_, q) in t.questions() {
        let c = ptk::contract::parse_ref(&map[&q.answer_name()]).context("cell map")?;
        let idx = order.iter().position(|s| *s == c.sheet).context("sheet")? + 1;
        out.insert(
            q.id.clone(),
            (format!("xl/worksheets/sheet{idx}.xml"), c.a1()),
        );
    }
    Ok(out)
}

/// Varied answers: a level per partnership with noise, some Not applicable; about 3%
/// have words in a score cell and 2% miss a required answer (both are rejected).
fn answers_for(t: &Template, i: u64) -> HashMap<String, Value> {
    let mut rng = Rng(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let level = rng.below(5) as i64;
    let broken = rng.below(100);
    let mut out = HashMap::new();
    for (_, q) in t.questions() {
        let v = match q.kind {
            QuestionType::Scale => {
                let scored: Vec<&str> = q
                    .options
                    .iter()
                    .filter(|o| o.points.is_some())
                    .map(|o| o.label.as_str())
                    .collect();
                if q.options.len() > scored.len() && rng.below(12) == 0 {
                    Value::Text("Not applicable".into())
                } else {
                    let k = (level + rng.below(3) as i64 - 1).clamp(0, scored.len() as i64 - 1);
                    Value::Text(scored[k as usize].to_string())
                }
            }
            QuestionType::Choice | QuestionType::YesNo => Value::Text(
                q.options[rng.below(q.options.len() as u64) as usize]
                    .label
                    .clone(),
            ),
            QuestionType::Text | QuestionType::Table => {
                Value::Text(format!("Synthetic answer {i} to {}", q.id))
            }
            QuestionType::Email => Value::Text(format!("officer{i}@example.gov.uk")),
            QuestionType::Date => Value::Number(46360.0 + rng.below(30) as f64),
            QuestionType::Number => Value::Number(1.0 + rng.below(4) as f64),
        };
        out.insert(q.id.clone(), v);
    }
    if broken < 3 {
        out.insert("F2".into(), Value::Text("Quite good".into()));
    } else if broken < 5 {
        out.remove("P3");
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Rewrites the answer cells of an issued xlsx with values, copying everything else.
fn fill(
    xlsx: &[u8],
    cells: &HashMap<String, (String, String)>,
    answers: &HashMap<String, Value>,
) -> anyhow::Result<Vec<u8>> {
    let mut by_part: HashMap<&str, Vec<(&str, &Value)>> = HashMap::new();
    for (q, v) in answers {
        let (part, a1) = &cells[q];
        by_part
            .entry(part.as_str())
            .or_default()
            .push((a1.as_str(), v));
    }
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(xlsx))?;
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i)?;
        let name = entry.name()?.to_string();
        match by_part.get(name.as_str()) {
            None => zout.raw_copy_file(entry)?,
            Some(edits) => {
                let mut xml = String::new();
                entry.read_to_string(&mut xml)?;
                for (a1, v) in edits {
                    let open = format!("<c r=\"{a1}\" ");
                    let start = xml
                        .find(&open)
                        .with_context(|| format!("cell {a1} in {name}"))?;
                    // `<c r=".." s=".."/>` for a blank cell, `<c ...>...</c>` for a merged one.
                    let tag_end = start + xml[start..].find('>').context("cell tag")?;
                    let end = if xml.as_bytes()[tag_end - 1] == b'/' {
                        tag_end + 1
                    } else {
                        tag_end + xml[tag_end..].find("</c>").context("cell end")? + 4
                    };
                    let style = xml[start..end]
                        .split("s=\"")
                        .nth(1)
                        .and_then(|s| s.split('"').next())
                        .unwrap_or("0")
                        .to_string();
                    let cell = match v {
                        Value::Text(s) => format!(
                            "<c r=\"{a1}\" s=\"{style}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                            escape(s)
                        ),
                        Value::Number(n) => format!("<c r=\"{a1}\" s=\"{style}\"><v>{n}</v></c>"),
                    };
                    xml.replace_range(start..end, &cell);
                }
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated);
                zout.start_file(name, opts)?;
                zout.write_all(xml.as_bytes())?;
            }
        }
    }
    Ok(zout.finish()?.into_inner())
}
