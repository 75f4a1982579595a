//! The floor for the benchmark: what the libraries alone cost on the same files and
//! threads, so ptk's own cost can be stated as a ratio.
//!
//!     cargo run --release --example floor -- read bench/n1000/returns
//!     cargo run --release --example floor -- write bench/n1000/register.csv /tmp/out
//!
//! `read`: for every file, open it with calamine, read the identity sheet and the
//! answer cells with `worksheet_range_ref` (zero-copy), and nothing else.
//! `write`: build each partnership's workbook with ptk's builder (rust_xlsxwriter)
//! and write it with a plain `fs::write`: no register checks, no atomic rename, no
//! mail merge. Both use rayon's default pool, like ptk.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use calamine::{DataRef, Reader, ReaderRef, Xlsx};
use rayon::prelude::*;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .collect();
    v.sort();
    v
}

/// The answer cells (row, col) by sheet, from one file's cell map: every sheet that
/// holds answers (the Assessment and, since version 2, the Objectives table).
fn answer_positions(sample: &Path) -> Vec<(String, Vec<(u32, u32)>)> {
    let mut wb: Xlsx<_> = calamine::open_workbook(sample).unwrap();
    let ids = wb.worksheet_range("_ptk").unwrap();
    let mut by_sheet: Vec<(String, Vec<(u32, u32)>)> = Vec::new();
    for c in ids
        .rows()
        .filter(|r| r[0].to_string().starts_with("ptk_"))
        .filter_map(|r| ptk::contract::parse_ref(&r[1].to_string()))
        .filter(|c| c.sheet != "_ptk")
    {
        match by_sheet.iter_mut().find(|(s, _)| *s == c.sheet) {
            Some((_, v)) => v.push((c.row, c.col)),
            None => by_sheet.push((c.sheet.clone(), vec![(c.row, c.col)])),
        }
    }
    by_sheet
}

fn read(dir: &Path) {
    let files = files(dir);
    let cells = answer_positions(&files[0]);
    let start = Instant::now();
    let found: usize = files
        .par_iter()
        .map(|f| {
            let bytes = std::fs::read(f).unwrap();
            let mut wb = Xlsx::new(Cursor::new(bytes.as_slice())).unwrap();
            let mut n = 0;
            {
                let ids = wb.worksheet_range_ref("_ptk").unwrap();
                n += ids
                    .rows()
                    .filter(|r| !matches!(r[0], DataRef::Empty))
                    .count();
            }
            for (sheet, cells) in &cells {
                let form = wb.worksheet_range_ref(sheet).unwrap();
                n += cells
                    .iter()
                    .filter(|(r, c)| {
                        form.get_value((*r, *c))
                            .is_some_and(|v| !matches!(v, DataRef::Empty))
                    })
                    .count();
            }
            n
        })
        .sum();
    let s = start.elapsed().as_secs_f64();
    println!(
        "floor read: {} files, {found} cells, {s:.3} s, {:.0} files/s",
        files.len(),
        files.len() as f64 / s
    );
}

fn write(register: &Path, out: &Path) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let t = ptk::template::find(&root.join("templates"), "self-assessment").unwrap();
    let (reg, _) = ptk::register::load(register).unwrap();
    let settings = ptk::issue::IssueSettings {
        council: "Benchmark Council".into(),
        year: 2026,
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        deadline: chrono::NaiveDate::from_ymd_opt(2027, 1, 29).unwrap(),
        return_address: "partnerships@example.gov.uk".into(),
        password: None,
    };
    std::fs::create_dir_all(out).unwrap();
    let start = Instant::now();
    reg.partnerships.par_iter().for_each(|p| {
        let bytes = ptk::issue::build_workbook(
            &t,
            p,
            &ptk::respondents::Respondent::lead(p, &settings.council),
            1,
            &settings,
            &[],
            &Default::default(),
        )
        .unwrap();
        std::fs::write(out.join(format!("{}.xlsx", p.id)), bytes).unwrap();
    });
    let s = start.elapsed().as_secs_f64();
    let n = reg.partnerships.len();
    println!(
        "floor write: {n} files, {s:.3} s, {:.0} files/s",
        n as f64 / s
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("read") => read(Path::new(&a[2])),
        Some("write") => write(Path::new(&a[2]), Path::new(&a[3])),
        _ => eprintln!("usage: floor read DIR | floor write REGISTER OUT"),
    }
}
