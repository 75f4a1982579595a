//! `ptk ingest` reads returns in worker processes: a file that makes the reader abort,
//! hang or exhaust memory is that file's problem alone. Also: byte-identical copies in
//! one run, and hostile names kept off the terminal and out of the CSVs raw.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use ptk::store::Store;

fn samples() -> PathBuf {
    repo().join("samples/returns")
}

/// Runs `ptk ingest` over `inputs`; store and reports in `dir`.
fn ingest(
    dir: &Path,
    inputs: &[&Path],
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let store = dir.join("ptk.db");
    let templates = repo().join("templates");
    let register = repo().join("samples/register.csv");
    let mut args: Vec<String> = vec!["ingest".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    for a in [
        "--year",
        "2026",
        "--templates",
        templates.to_str().unwrap(),
        "--register",
        register.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ] {
        args.push(a.into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ptk_env(dir, &refs, env)
}

/// ingest-report.csv rows as file name → (status, partnership_id, message).
fn report(dir: &Path) -> BTreeMap<String, (String, String, String)> {
    let mut r = csv::Reader::from_path(dir.join("ingest-report.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let name = Path::new(&rec[0])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, (rec[2].into(), rec[3].into(), rec[9].into()))
        })
        .collect()
}

fn count(dir: &Path, sql: &str) -> i64 {
    let s = Store::open(&dir.join("ptk.db")).unwrap();
    s.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

const VICTIM: &str = "CVS10_self-assessment_2026.xlsx";

/// The samples run with `hook` set on VICTIM: it alone ends `reader-failed` (its
/// message naming `limit`), everything else as in a normal run, stored and reported;
/// then a run without the hook reads it as normal.
fn survives(hook: &str, extra: &[&str], limit: &str) {
    let reference = tempfile::tempdir().unwrap();
    let out = ingest(reference.path(), &[&samples()], &[], &[]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let expected = report(reference.path());
    assert_eq!(expected[VICTIM].0, "accepted");

    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &[&samples()], extra, &[(hook, VICTIM)]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let got = report(dir.path());
    let (status, _, message) = &got[VICTIM];
    assert_eq!(status, "rejected");
    assert!(message.contains("could not be read safely"), "{message}");
    assert!(message.contains(limit), "{message}");
    assert!(
        message.contains("save it again as an Excel Workbook (.xlsx)"),
        "{message}"
    );
    assert_eq!(finding_codes(dir.path())[VICTIM], ["reader-failed"]);
    // The summary names the file.
    assert!(stdout.contains("Could not be read safely"), "{stdout}");
    assert!(stdout.contains(VICTIM), "{stdout}");
    // Every other file got its normal outcome, and the accepted ones were stored.
    let mut rest = got.clone();
    rest.remove(VICTIM);
    let mut expected_rest = expected.clone();
    expected_rest.remove(VICTIM);
    assert_eq!(rest, expected_rest);
    let accepted = expected_rest
        .values()
        .filter(|v| v.0.starts_with("accepted"))
        .count() as i64;
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM returns WHERE current = 1"),
        accepted
    );
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM files WHERE status = 'rejected' AND path LIKE '%CVS10_self-assessment_2026.xlsx'"),
        1
    );

    // Run again without the failure: the file is read again and accepted.
    let again = ingest(dir.path(), &[&samples()], extra, &[]);
    assert_eq!(
        again.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(report(dir.path())[VICTIM].0, "accepted");
    assert!(!text(&again.stdout).contains("Could not be read safely"));
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM returns WHERE current = 1"),
        accepted + 1
    );
}

#[test]
fn a_reader_that_aborts_costs_only_its_file() {
    survives("PTK_TEST_ABORT_ON", &[], "crashed on it (it aborted");
}

#[test]
fn a_reader_that_never_finishes_is_stopped_at_the_time_limit() {
    survives(
        "PTK_TEST_HANG_ON",
        &["--file-timeout", "1"],
        "time limit of 1 seconds",
    );
}

#[test]
fn a_reader_that_exhausts_memory_is_stopped_at_the_memory_limit() {
    survives(
        "PTK_TEST_OOM_ON",
        &["--max-memory-mb", "256"],
        "memory limit of 256 MB",
    );
}

/// Copies a zip (an xlsx) with one more part.
fn add_part(from: &Path, to: &Path, part: &str, data: &str) {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        zout.start_file(name, opts).unwrap();
        zout.write_all(&bytes).unwrap();
    }
    zout.start_file(part, opts).unwrap();
    zout.write_all(data.as_bytes()).unwrap();
    zout.finish().unwrap();
}

#[test]
fn a_forged_shared_strings_count_is_rejected_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let good = samples().join("CSP02_self-assessment_2026.xlsx");
    std::fs::copy(&good, inbox.join("CSP02.xlsx")).unwrap();
    // A return with a shared-strings table that claims a hundred million million
    // strings: calamine reserves room for them all up front.
    add_part(
        &samples().join(VICTIM),
        &inbox.join("forged.xlsx"),
        "xl/sharedStrings.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="100000000000000" uniqueCount="100000000000000"><si><t>x</t></si></sst>"#,
    );
    assert!(std::fs::metadata(inbox.join("forged.xlsx")).unwrap().len() < 20_000);
    let out = ingest(dir.path(), &[&inbox], &["--max-memory-mb", "256"], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let got = report(dir.path());
    assert_eq!(got["CSP02.xlsx"].0, "accepted");
    assert_eq!(got["forged.xlsx"].0, "rejected");
    // reader-failed (memory limit) in a worker; `too-large` once the reader checks
    // the claim first (the in-process guard being added in src/read.rs).
    let c = &finding_codes(dir.path())["forged.xlsx"];
    assert!(c == &["reader-failed"] || c == &["too-large"], "{c:?}");
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM returns WHERE current = 1"),
        1
    );
}

#[test]
fn a_byte_identical_copy_in_the_same_run_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let good = samples().join("CSP02_self-assessment_2026.xlsx");
    std::fs::copy(&good, inbox.join("a.xlsx")).unwrap();
    std::fs::copy(&good, inbox.join("b copy.xlsx")).unwrap();
    // More copies, so an order that depended on which reader finished first would show.
    for c in ["c", "d", "e", "f"] {
        std::fs::copy(&good, inbox.join(format!("{c}.xlsx"))).unwrap();
    }
    let out = ingest(dir.path(), &[&inbox], &[], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stderr)
    );
    let got = report(dir.path());
    assert_eq!(got["a.xlsx"].0, "accepted");
    let (status, pid, message) = &got["b copy.xlsx"];
    assert_eq!(status, "duplicate");
    assert_eq!(pid, "CSP02");
    assert!(
        message.contains("identical to") && message.contains("a.xlsx"),
        "{message}"
    );
    assert_eq!(
        finding_codes(dir.path())["b copy.xlsx"],
        ["duplicate-return"]
    );
    for c in ["c", "d", "e", "f"] {
        let (status, _, message) = &got[&format!("{c}.xlsx")];
        assert_eq!(status, "duplicate");
        assert!(
            message.contains("identical to") && message.contains("a.xlsx"),
            "{message}"
        );
    }
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("6 files: 1 accepted, 5 duplicate."),
        "{stdout}"
    );
    // The counts match what was stored: one return, one file record.
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM returns"), 1);
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM files"), 1);
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for j in 0..4 {
            if j <= chunk.len() {
                out.push(A[(n >> (18 - 6 * j)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn an_attachment_named_with_escape_sequences_is_shown_not_acted_on() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // Rejected (last year's form); without --quiet every file is listed on the console.
    let bytes = std::fs::read(samples().join("TOU11_self-assessment_2025.xlsx")).unwrap();
    let eml = format!(
        "From: Sender <s@example.org>\r\nTo: r@example.gov.uk\r\nSubject: \x1b]0;pwned\x07return\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nattached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"\x1b[2J\x1b[31mred.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64(&bytes)
    );
    std::fs::write(inbox.join("m.eml"), eml).unwrap();
    let out = ingest(dir.path(), &[&inbox], &[], &[]);
    let console = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED), "{console}");
    assert!(console.contains("\\u{1b}[31mred.xlsx"), "{console}");
    assert!(!console.contains('\x1b'), "{console:?}");
    assert!(!console.contains('\x07'), "{console:?}");
    for csv in ["ingest-report.csv", "findings.csv"] {
        let body = std::fs::read_to_string(dir.path().join(csv)).unwrap();
        assert!(body.contains("red.xlsx"), "{csv}: {body}");
        // Shown as visible escapes, so the name is still recognisable.
        assert!(body.contains("\\u{1b}[31mred.xlsx"), "{csv}: {body}");
        assert!(
            !body.contains('\x1b') && !body.contains('\x07'),
            "{csv}: {body:?}"
        );
    }
}

/// The `.xls` sample with every sheet's DIMENSIONS record claiming 2^32 rows.
fn xls_claiming_huge_dimensions(to: &Path) {
    let mut b = std::fs::read(samples().join("SEP04_self-assessment_2026.xls")).unwrap();
    let mut patched = 0;
    let mut i = 0;
    // BIFF8 DIMENSIONS: type 0x0200, length 14: first row, last row + 1 (u32 each), ...
    while let Some(at) = b[i..]
        .windows(4)
        .position(|w| w == [0x00, 0x02, 0x0e, 0x00])
    {
        let at = i + at;
        b[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        patched += 1;
        i = at + 4;
    }
    assert!(patched > 0);
    std::fs::write(to, b).unwrap();
}

/// The `.xls` sample with its workbook stream's sector chain looping back on itself.
fn xls_with_a_looping_sector_chain(to: &Path) {
    let mut b = std::fs::read(samples().join("SEP04_self-assessment_2026.xls")).unwrap();
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as usize;
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    let sector = 1usize << u16_at(&b, 0x1e);
    let dir = (u32_at(&b, 0x30) + 1) * sector;
    let fat_entry = |b: &[u8], sid: usize| {
        let fat_sector = u32_at(b, 0x4c + 4 * (sid / (sector / 4)));
        (fat_sector + 1) * sector + (sid % (sector / 4)) * 4
    };
    let start = (0..sector / 128)
        .map(|e| dir + e * 128)
        .find(|&off| {
            let name: Vec<u8> = "Workbook"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            b[off..off + name.len()] == name[..]
        })
        .map(|off| u32_at(&b, off + 116))
        .expect("a Workbook stream");
    let second = u32_at(&b, fat_entry(&b, start));
    let at = fat_entry(&b, second);
    b[at..at + 4].copy_from_slice(&(start as u32).to_le_bytes());
    std::fs::write(to, b).unwrap();
}

#[test]
fn forged_xls_files_are_rejected_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(
        samples().join("CSP02_self-assessment_2026.xlsx"),
        inbox.join("CSP02.xlsx"),
    )
    .unwrap();
    xls_claiming_huge_dimensions(&inbox.join("dimensions.xls"));
    xls_with_a_looping_sector_chain(&inbox.join("loop.xls"));
    let out = ingest(dir.path(), &[&inbox], &["--max-memory-mb", "256"], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let got = report(dir.path());
    assert_eq!(got["CSP02.xlsx"].0, "accepted");
    assert_eq!(got["dimensions.xls"].0, "rejected");
    assert_eq!(got["loop.xls"].0, "rejected");
    let c = finding_codes(dir.path());
    // reader-failed (memory) in a worker; `too-large` once the reader checks the claim.
    assert!(
        c["dimensions.xls"] == ["reader-failed"] || c["dimensions.xls"] == ["too-large"],
        "{c:?}"
    );
    // The chain check of the compound-file reader catches this loop before calamine.
    assert!(
        c["loop.xls"] == ["unreadable"] || c["loop.xls"] == ["reader-failed"],
        "{c:?}"
    );
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM returns WHERE current = 1"),
        1
    );
}

/// A copy of a return with its partnership id replaced by `id` (so its outcome is as
/// long as the id) and ~100 KB of incompressible padding (so its job is big too).
fn big_return(id: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let from = samples().join("CSP02_self-assessment_2026.xlsx");
    let mut zin = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name == "xl/sharedStrings.xml" {
            bytes = String::from_utf8(bytes)
                .unwrap()
                .replace("CSP02", id)
                .into_bytes();
        }
        zout.start_file(name, opts).unwrap();
        zout.write_all(&bytes).unwrap();
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let padding: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    zout.start_file("padding.bin", opts).unwrap();
    zout.write_all(&padding).unwrap();
    zout.finish().unwrap().into_inner()
}

#[test]
fn big_attachments_with_big_outcomes_do_not_stall_the_readers() {
    // Each outcome (a 40,000-character partnership id, in the identity and the message)
    // and each job (an attachment over 100 KB) is bigger than a pipe holds: a reader
    // writing one while the main process writes the other must not wait for ever.
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let mut eml = String::from(
        "From: s@example.org\r\nSubject: returns\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    for n in 0..6 {
        let id = format!("{n}{}", "X".repeat(40_000));
        eml.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"r{n}.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64(&big_return(&id))
        ));
    }
    eml.push_str("--b--\r\n");
    std::fs::write(inbox.join("m.eml"), eml).unwrap();
    let out = ingest(dir.path(), &[&inbox], &["--file-timeout", "10"], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let got = report(dir.path());
    assert_eq!(got.len(), 6);
    for n in 0..6 {
        let (status, pid, _) = &got[&format!("r{n}.xlsx")];
        assert_eq!(status, "rejected");
        assert_eq!(pid.len(), 40_001);
    }
    let c = finding_codes(dir.path());
    assert!(c.values().all(|v| v == &["unknown-partnership"]), "{c:?}");
}

#[test]
fn a_reader_library_that_prints_does_not_disturb_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let file = samples().join(VICTIM);
    let out = ingest(dir.path(), &[&file], &[], &[("PTK_TEST_PRINT_ON", VICTIM)]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(report(dir.path())[VICTIM].0, "accepted");
}

#[test]
fn a_reader_that_goes_away_before_its_job_is_the_pools_failure_not_the_files() {
    // The first reader closes its end of the pipe at once, before reading its file:
    // the pool's write meets a closed pipe. That must be handled (never a SIGPIPE that
    // kills ptk, as it once was), and the file, which did nothing, is read by the next
    // reader and accepted: it is not blamed.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("hung-up-once");
    let one = samples().join(VICTIM);
    let out = ingest(
        dir.path(),
        &[&one],
        &[],
        &[("PTK_TEST_WORKER_HANGS_UP", marker.to_str().unwrap())],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the file is read by another reader: {:?} {}",
        out.status,
        text(&out.stderr)
    );
    assert!(marker.exists(), "the hook did make a reader hang up");
    assert_eq!(report(dir.path())[VICTIM].0, "accepted");
    assert!(finding_codes(dir.path())
        .get(VICTIM)
        .is_none_or(|c| c.is_empty()));
}

#[test]
fn readers_that_keep_going_away_stop_the_run_without_blaming_a_file() {
    // Every reader goes away before its first job: the pool cannot work, which is no
    // file's fault. The run stops (exit 2), says why and what to check, and saves
    // nothing: no file is recorded as rejected.
    let dir = tempfile::tempdir().unwrap();
    let one = samples().join(VICTIM);
    let out = ingest(
        dir.path(),
        &[&one],
        &[],
        &[("PTK_TEST_WORKER_HANGS_UP", "1")],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing from this run was saved"), "{err}");
    assert!(
        err.contains("keep stopping before they read any file")
            && err.contains("No file was at fault"),
        "{err}"
    );
    assert!(
        !dir.path().join("ingest-report.csv").exists(),
        "no report blames the file"
    );
}
