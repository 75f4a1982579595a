//! What reaches `ptk ingest` from outside, read as safely as a workbook: odd file names,
//! odd entries in the returns folder, saved e-mails (issue #18, the intake side).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn samples() -> PathBuf {
    repo().join("samples/returns")
}

const GOOD: &str = "CVS10_self-assessment_2026.xlsx";

/// Runs `ptk ingest` over `inputs` (any bytes for their names); store and reports in `dir`.
fn ingest(dir: &Path, inputs: &[&Path], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ptk"));
    cmd.arg("ingest").args(inputs).args([
        OsStr::new("--year"),
        OsStr::new("2026"),
        OsStr::new("--templates"),
        repo().join("templates").as_os_str(),
        OsStr::new("--register"),
        repo().join("samples/register.csv").as_os_str(),
        OsStr::new("--store"),
        dir.join("ptk.db").as_os_str(),
    ]);
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .expect("ptk runs")
}

/// ingest-report.csv rows as path (as shown) → (status, message).
fn report(dir: &Path) -> BTreeMap<String, (String, String)> {
    let mut r = csv::Reader::from_path(dir.join("ingest-report.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), (rec[2].to_string(), rec[9].to_string()))
        })
        .collect()
}

/// The report's row whose path ends with `tail`.
fn row<'a>(r: &'a BTreeMap<String, (String, String)>, tail: &str) -> &'a (String, String) {
    let hits: Vec<_> = r.iter().filter(|(p, _)| p.ends_with(tail)).collect();
    assert_eq!(hits.len(), 1, "one row ending {tail:?} in {r:#?}");
    hits[0].1
}

#[cfg(unix)]
#[test]
fn a_return_in_a_folder_and_under_a_name_that_are_not_utf8_is_accepted() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // "Réponses 2026" in Latin-1, and a Windows zip's 0x96 dash in the file name.
    let folder = dir.path().join(OsStr::from_bytes(b"R\xe9ponses 2026"));
    std::fs::create_dir(&folder).unwrap();
    let name = OsStr::from_bytes(b"CVS10 \x96 r\xe9ponse.xlsx");
    std::fs::copy(samples().join(GOOD), folder.join(name)).unwrap();
    std::fs::copy(samples().join(GOOD), folder.join("plain.xlsx")).unwrap();
    let out = ingest(dir.path(), &[&folder], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = report(dir.path());
    assert_eq!(r.len(), 2, "{r:#?}");
    // The odd bytes are shown escaped, not lost.
    let (status, _) = row(&r, "R\\xe9ponses 2026/CVS10 \\x96 r\\xe9ponse.xlsx");
    assert_eq!(status, "accepted");
    // The same content under a plain name is a duplicate of it, not another reading.
    assert_eq!(row(&r, "plain.xlsx").0, "duplicate");
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 38 + 8);
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

/// A message from `from` with `subject`, carrying `parts` (each a whole MIME part).
fn message(from: &str, subject: &str, parts: &[String]) -> String {
    let mut m = format!(
        "From: {from}\r\nTo: returns@rochford.gov.uk\r\nSubject: {subject}\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b-{subject}\"\r\n\r\n--b-{subject}\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    );
    for p in parts {
        m.push_str(&format!("--b-{subject}\r\n{p}\r\n"));
    }
    m.push_str(&format!("--b-{subject}--\r\n"));
    m
}

/// A workbook attachment part.
fn workbook_part(name: &str, bytes: &[u8]) -> String {
    format!("Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}", base64(bytes))
}

/// A forwarded message part (message/rfc822, as Outlook and Thunderbird forward "as attachment").
fn forwarded_part(inner: &str) -> String {
    format!("Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n{inner}")
}

#[cfg(unix)]
#[test]
fn named_pipes_are_not_a_file_at_once_and_the_rest_of_the_run_is_normal() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(samples().join(GOOD), inbox.join(GOOD)).unwrap();
    for name in ["x.eml", "x.xlsx", "x.mbox", "x.msg"] {
        let st = Command::new("mkfifo")
            .arg(inbox.join(name))
            .status()
            .unwrap();
        assert!(st.success());
    }
    let started = std::time::Instant::now();
    let out = ingest(dir.path(), &[&inbox], &[]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(took.as_secs() < 20, "took {took:?}");
    let r = report(dir.path());
    assert_eq!(r.len(), 5, "{r:#?}");
    for name in ["x.eml", "x.xlsx", "x.mbox", "x.msg"] {
        let (status, message) = row(&r, &format!("/{name}"));
        assert_eq!(status, "skipped", "{name}");
        assert!(
            message.contains("not a file (a named pipe)"),
            "{name}: {message}"
        );
    }
    assert_eq!(row(&r, GOOD).0, "accepted");
    // A pipe named on the command line is not opened either.
    let dir2 = tempfile::tempdir().unwrap();
    let out = ingest(dir2.path(), &[&inbox.join("x.eml")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(row(&report(dir2.path()), "x.eml").1.contains("not a file"));
}

#[test]
fn a_return_forwarded_three_levels_deep_is_accepted_and_each_envelope_named() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let bytes = std::fs::read(samples().join(GOOD)).unwrap();
    let level3 = message(
        "Partner <partner@cvs.org.uk>",
        "CVS10 return",
        &[workbook_part("CVS10 return.xlsx", &bytes)],
    );
    let level2 = message(
        "Ann <ann@rochford.gov.uk>",
        "FW CVS10 return",
        &[forwarded_part(&level3)],
    );
    let level1 = message(
        "Bob <bob@rochford.gov.uk>",
        "FW FW CVS10 return",
        &[forwarded_part(&level2)],
    );
    std::fs::write(inbox.join("forwarded.eml"), &level1).unwrap();
    // The same return sent on as an attached .eml file.
    let other = std::fs::read(samples().join("CSP02_self-assessment_2026.xlsx")).unwrap();
    let inner = message(
        "Partner <p@hou.org.uk>",
        "CSP02 return",
        &[workbook_part("CSP02.xlsx", &other)],
    );
    let eml_part = format!(
        "Content-Type: application/octet-stream; name=\"reply.eml\"\r\nContent-Disposition: attachment; filename=\"reply.eml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64(inner.as_bytes())
    );
    std::fs::write(
        inbox.join("attached.eml"),
        message("Cat <cat@rochford.gov.uk>", "FW CSP02", &[eml_part]),
    )
    .unwrap();
    let out = ingest(dir.path(), &[&inbox], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = report(dir.path());
    assert_eq!(r.len(), 2, "{r:#?}");
    assert_eq!(row(&r, "forwarded.eml/CVS10 return.xlsx").0, "accepted");
    assert_eq!(row(&r, "attached.eml/CSP02.xlsx").0, "accepted");
    // The email column names every level, outermost first.
    let mut csv = csv::Reader::from_path(dir.path().join("ingest-report.csv")).unwrap();
    let emails: Vec<String> = csv.records().map(|r| r.unwrap()[10].to_string()).collect();
    let fw = emails.iter().find(|e| e.contains("FW FW")).unwrap();
    let (b, a, p) = (
        fw.find("bob@").unwrap(),
        fw.find("ann@").unwrap(),
        fw.find("partner@cvs").unwrap(),
    );
    assert!(b < a && a < p, "{fw}");
}

#[cfg(unix)]
#[test]
fn a_folder_with_cur_and_new_accounts_for_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    for sub in ["cur", "new", "new/sub", "more"] {
        std::fs::create_dir_all(inbox.join(sub)).unwrap();
    }
    let bytes = std::fs::read(samples().join(GOOD)).unwrap();
    std::fs::write(
        inbox.join("new/1.host"),
        message(
            "P <p@cvs.org.uk>",
            "CVS10",
            &[workbook_part("CVS10.xlsx", &bytes)],
        ),
    )
    .unwrap();
    std::fs::write(
        inbox.join("cur/2.host:2,S"),
        message("Q <q@x.org>", "hello", &[]),
    )
    .unwrap();
    std::fs::write(
        inbox.join("new/sub/3.host"),
        message("R <r@x.org>", "deeper", &[]),
    )
    .unwrap();
    std::fs::write(inbox.join("new/.hidden"), "x").unwrap();
    assert!(Command::new("mkfifo")
        .arg(inbox.join("new/pipe"))
        .status()
        .unwrap()
        .success());
    let outside = dir.path().join("outside.eml");
    std::fs::write(&outside, message("S <s@x.org>", "outside", &[])).unwrap();
    std::os::unix::fs::symlink(&outside, inbox.join("new/link")).unwrap();
    // Ordinary returns beside the maildir's folders.
    for f in ["CSP02_self-assessment_2026.xlsx", "ENV14_exit_2026.xlsx"] {
        std::fs::copy(samples().join(f), inbox.join(f)).unwrap();
    }
    std::fs::copy(
        samples().join("WST05 return.xlsx"),
        inbox.join("more/LEI06.xlsx"),
    )
    .unwrap();
    let out = ingest(dir.path(), &[&inbox], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = report(dir.path());
    assert_eq!(r.len(), 9, "{r:#?}");
    assert_eq!(row(&r, "new/1.host/CVS10.xlsx").0, "accepted");
    assert_eq!(row(&r, "CSP02_self-assessment_2026.xlsx").0, "accepted");
    assert_eq!(row(&r, "ENV14_exit_2026.xlsx").0, "accepted");
    assert_eq!(row(&r, "more/LEI06.xlsx").0, "accepted");
    assert!(row(&r, "cur/2.host:2,S").1.contains("no workbook attached"));
    assert_eq!(row(&r, "new/sub/3.host").0, "skipped");
    assert!(row(&r, "new/.hidden").1.contains("hidden file"));
    assert!(row(&r, "new/pipe").1.contains("not a file"));
    assert!(row(&r, "new/link").1.contains("not followed"));
}

#[test]
fn single_message_mbox_apple_mail_folders_and_empty_attachments_each_get_their_row() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("Returns.mbox")).unwrap();
    let bytes = std::fs::read(samples().join(GOOD)).unwrap();
    // One message renamed .mbox: no "From " line.
    std::fs::write(
        inbox.join("single.mbox"),
        message(
            "P <p@cvs.org.uk>",
            "CVS10",
            &[workbook_part("CVS10.xlsx", &bytes)],
        ),
    )
    .unwrap();
    // Apple Mail's export: a folder X.mbox with a file named mbox inside.
    let other = std::fs::read(samples().join("CSP02_self-assessment_2026.xlsx")).unwrap();
    let mbox = format!(
        "From p@hou.org.uk Mon Dec  7 10:00:00 2026\n{}\nFrom q@x.org Mon Dec  7 11:00:00 2026\n{}\n",
        message("P <p@hou.org.uk>", "CSP02", &[workbook_part("CSP02.xlsx", &other)]),
        message("Q <q@x.org>", "Outlook 0 KB", &[workbook_part("empty.xlsx", b"")]),
    );
    std::fs::write(inbox.join("Returns.mbox/mbox"), mbox).unwrap();
    let out = ingest(dir.path(), &[&inbox], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let r = report(dir.path());
    assert_eq!(r.len(), 3, "{r:#?}");
    assert_eq!(row(&r, "single.mbox#1/CVS10.xlsx").0, "accepted");
    assert_eq!(row(&r, "Returns.mbox/mbox#1/CSP02.xlsx").0, "accepted");
    let (status, message) = row(&r, "Returns.mbox/mbox#2/empty.xlsx");
    assert_eq!(status, "rejected");
    assert!(message.contains("empty (0 bytes)"), "{message}");
    assert!(!message.contains("21.0 MB"), "{message}");
}

/// Runs `ptk ingest` under an address-space cap and returns its output and its peak
/// resident memory in bytes (the largest of ptk and its reader processes, from wait4).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by wait4, which gives its peak memory
fn ingest_measured(dir: &Path, inputs: &[&Path], cap_bytes: u64) -> (i32, u64) {
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={cap_bytes}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_ptk"))
        .arg("ingest")
        .args(inputs)
        .args([
            OsStr::new("--year"),
            OsStr::new("2026"),
            OsStr::new("--quiet"),
            OsStr::new("--templates"),
            repo().join("templates").as_os_str(),
            OsStr::new("--register"),
            repo().join("samples/register.csv").as_os_str(),
            OsStr::new("--store"),
            dir.join("ptk.db").as_os_str(),
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::null());
    let child = cmd.spawn().expect("prlimit runs");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, once.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let code = std::process::ExitStatus::from_raw(status)
        .code()
        .unwrap_or(-1);
    (code, usage.ru_maxrss as u64 * 1024)
}

#[cfg(target_os = "linux")]
#[test]
fn a_mailbox_of_hundreds_of_megabytes_is_read_in_bounded_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    for f in [GOOD, "CSP02_self-assessment_2026.xlsx"] {
        std::fs::copy(samples().join(f), inbox.join(f)).unwrap();
    }
    // Six messages with a 12 MB attachment each (read and handed on), four of ~100 MB
    // (over the 80 MB a message may be: passed over, never held), then a real return:
    // over 450 MB in all. The attachments are noise, so they are rejected.
    let mut filler = vec![0u8; 12 << 20];
    let mut x: u32 = 1;
    for b in filler.iter_mut() {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (x >> 24) as u8;
    }
    let big = message(
        "Big <big@x.org>",
        "scan",
        &[workbook_part("scan.xlsx", &filler)],
    );
    let huge_body = base64(&filler);
    let mut f = std::io::BufWriter::new(std::fs::File::create(inbox.join("inbox.mbox")).unwrap());
    for i in 0..10 {
        writeln!(f, "From big@x.org Mon Dec  7 10:00:00 2026").unwrap();
        if i < 6 {
            f.write_all(big.as_bytes()).unwrap();
        } else {
            f.write_all(b"From: Huge <huge@x.org>\r\nSubject: huge\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n").unwrap();
            for _ in 0..6 {
                f.write_all(huge_body.as_bytes()).unwrap();
                f.write_all(b"\r\n").unwrap();
            }
        }
        writeln!(f).unwrap();
    }
    let ret = std::fs::read(samples().join("WST05 return.xlsx")).unwrap();
    writeln!(f, "From p@wst.org Mon Dec  7 10:00:00 2026").unwrap();
    f.write_all(
        message(
            "P <p@wst.org>",
            "WST05",
            &[workbook_part("WST05.xlsx", &ret)],
        )
        .as_bytes(),
    )
    .unwrap();
    drop(f);
    let size = std::fs::metadata(inbox.join("inbox.mbox")).unwrap().len();
    assert!(size > 450_000_000, "{size}");

    let (code, peak) = ingest_measured(dir.path(), &[&inbox], 3 << 30);
    assert_eq!(
        code,
        ptk::exit::REJECTED,
        "the scans are rejected, the rest accepted"
    );
    eprintln!("peak resident memory: {} MB", peak >> 20);
    assert!(peak < 600 << 20, "peak memory {} MB", peak >> 20);
    let r = report(dir.path());
    assert_eq!(r.len(), 13, "{r:#?}");
    assert_eq!(row(&r, GOOD).0, "accepted");
    assert_eq!(row(&r, "CSP02_self-assessment_2026.xlsx").0, "accepted");
    assert_eq!(row(&r, "inbox.mbox#11/WST05.xlsx").0, "accepted");
    // The first scan is rejected, the identical ones after it are duplicates of it.
    assert_eq!(row(&r, "inbox.mbox#1/scan.xlsx").0, "rejected");
    for i in 2..=6 {
        assert_ne!(row(&r, &format!("inbox.mbox#{i}/scan.xlsx")).0, "accepted");
    }
    for i in 7..=10 {
        let (status, message) = row(&r, &format!("inbox.mbox#{i}"));
        assert_eq!(status, "rejected");
        assert!(
            message.contains("an email with a return may be"),
            "{message}"
        );
    }
}

/// A workbook shaped like SheetJS's large_strings.xlsb: a megabyte or so that unpacks
/// to over 100 MB (a shared-strings part of one string repeated), honest about its sizes.
fn unpacks_to_over_100_mb(to: &Path) {
    let script = r#"
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == "xl/_rels/workbook.xml.rels":
            data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        zout.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    n = 1_000_000
    sst = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (n, n)
           + b"".join([b"<si><t>" + b"z" * 100 + b"</t></si>"] * n) + b"</sst>")
    zout.writestr("xl/sharedStrings.xml", sst, compress_type=zipfile.ZIP_DEFLATED)
print("ok")
"#;
    let said = run_python(
        to.parent().unwrap(),
        script,
        &[samples().join(GOOD).to_str().unwrap(), to.to_str().unwrap()],
    );
    assert_eq!(said.trim(), "ok");
}

#[test]
fn a_file_that_unpacks_to_over_100_mb_gets_the_same_verdict_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let file = inbox.join("large_strings.xlsx");
    unpacks_to_over_100_mb(&file);
    assert!(std::fs::metadata(&file).unwrap().len() < 2_000_000);
    for run in 0..20 {
        let out = ingest(dir.path(), &[&file], &[]);
        assert_eq!(
            out.status.code(),
            Some(ptk::exit::REJECTED),
            "run {run}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            finding_codes(dir.path())["large_strings.xlsx"],
            ["too-large"],
            "run {run}"
        );
        let (status, message) = row(&report(dir.path()), "large_strings.xlsx").clone();
        assert_eq!(status, "rejected");
        assert!(
            message.contains("unpacks to more than"),
            "run {run}: {message}"
        );
    }
}

#[test]
fn an_allocation_refused_in_a_reader_is_reported_as_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    for f in [GOOD, "CSP02_self-assessment_2026.xlsx"] {
        std::fs::copy(samples().join(f), inbox.join(f)).unwrap();
    }
    let out = ingest(dir.path(), &[&inbox], &[("PTK_TEST_ALLOC_FAIL_ON", GOOD)]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(finding_codes(dir.path())[GOOD], ["too-large"]);
    let r = report(dir.path());
    let (status, message) = row(&r, GOOD);
    assert_eq!(status, "rejected");
    assert!(message.contains("the memory limit"), "{message}");
    assert!(!message.contains("damaged"), "{message}");
    assert_eq!(row(&r, "CSP02_self-assessment_2026.xlsx").0, "accepted");
}

/// `ptk ingest` over `inputs` with the templates and register in `dir` (so the test
/// can change them during the run); returns the running child.
#[cfg(target_os = "linux")]
fn ingest_spawned(
    dir: &Path,
    inputs: &[&Path],
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_ptk"))
        .arg("ingest")
        .args(inputs)
        .args(["--year", "2026", "--quiet"])
        .arg("--templates")
        .arg(dir.join("templates"))
        .arg("--register")
        .arg(dir.join("register.csv"))
        .arg("--store")
        .arg(dir.join("ptk.db"))
        .args(extra)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ptk runs")
}

#[cfg(target_os = "linux")]
#[test]
fn templates_and_register_changed_during_a_run_change_nothing_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("templates")).unwrap();
    for e in std::fs::read_dir(repo().join("templates")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, d.join("templates").join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(repo().join("samples/register.csv"), d.join("register.csv")).unwrap();
    let inbox = d.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // Read first, and hangs: its reader is replaced twice, after the files changed.
    std::fs::copy(samples().join(GOOD), inbox.join("0-victim.xlsx")).unwrap();
    for f in ["CSP02_self-assessment_2026.xlsx", "WST05 return.xlsx"] {
        std::fs::copy(samples().join(f), inbox.join(f)).unwrap();
    }
    let child = ingest_spawned(
        d,
        &[&inbox],
        &["--file-timeout", "2"],
        &[
            ("PTK_TEST_HANG_ON", "0-victim.xlsx"),
            ("RAYON_NUM_THREADS", "1"),
        ],
    );
    // Once a reader process runs, the main process has read its templates and register.
    // (Reader processes are started by its threads: any task's children count.)
    let tasks = format!("/proc/{}/task", child.id());
    let has_children = || {
        std::fs::read_dir(&tasks)
            .into_iter()
            .flatten()
            .flatten()
            .any(|t| {
                !std::fs::read_to_string(t.path().join("children"))
                    .unwrap_or_default()
                    .trim()
                    .is_empty()
            })
    };
    let started = std::time::Instant::now();
    while !has_children() {
        assert!(
            started.elapsed().as_secs() < 60,
            "no reader process started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for e in std::fs::read_dir(d.join("templates")).unwrap() {
        std::fs::write(e.unwrap().path(), "this is not a template").unwrap();
    }
    std::fs::write(d.join("register.csv"), "nothing,useful\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let r = report(d);
    assert_eq!(r.len(), 3, "{r:#?}");
    assert!(row(&r, "0-victim.xlsx").1.contains("time limit"));
    assert_eq!(row(&r, "CSP02_self-assessment_2026.xlsx").0, "accepted");
    assert_eq!(row(&r, "WST05 return.xlsx").0, "accepted");
}

#[test]
fn a_return_with_excels_default_password_is_accepted_and_a_real_password_is_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let script = r#"
import sys
from msoffcrypto.format.ooxml import OOXMLFile
src, dst, password = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, "rb") as f, open(dst, "wb") as out:
    OOXMLFile(f).encrypt(password, out)
print("ok")
"#;
    for (name, password) in [
        ("default.xlsx", "VelvetSweatshop"),
        ("secret.xlsx", "Tr0ub4dor&3"),
    ] {
        let said = run_python(
            dir.path(),
            script,
            &[
                samples().join(GOOD).to_str().unwrap(),
                inbox.join(name).to_str().unwrap(),
                password,
            ],
        );
        assert_eq!(said.trim(), "ok");
        // Really encrypted: a compound file, not a zip.
        let b = std::fs::read(inbox.join(name)).unwrap();
        assert_eq!(&b[..4], b"\xD0\xCF\x11\xE0", "{name}");
    }
    let out = ingest(dir.path(), &[&inbox], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let r = report(dir.path());
    assert_eq!(r.len(), 2, "{r:#?}");
    let (status, message) = row(&r, "default.xlsx");
    assert_eq!(status, "accepted", "{message}");
    assert!(message.contains("CVS10"), "{message}");
    assert_eq!(row(&r, "secret.xlsx").0, "rejected");
    assert_eq!(finding_codes(dir.path())["secret.xlsx"], ["encrypted"]);
}

#[test]
fn an_ods_with_indentation_between_its_cells_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // As a script or another program pretty-prints content.xml; LibreOffice opens it.
    let script = r#"
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == "content.xml":
            data = re.sub(rb">(</?table:)", rb">\n    \1", data)
        method = zipfile.ZIP_STORED if item.filename == "mimetype" else zipfile.ZIP_DEFLATED
        zout.writestr(item, data, compress_type=method)
print("ok")
"#;
    let said = run_python(
        dir.path(),
        script,
        &[
            samples()
                .join("HWB03 self-assessment.ods")
                .to_str()
                .unwrap(),
            inbox.join("HWB03 pretty.ods").to_str().unwrap(),
        ],
    );
    assert_eq!(said.trim(), "ok");
    let out = ingest(dir.path(), &[&inbox], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = report(dir.path());
    let (status, message) = row(&r, "HWB03 pretty.ods");
    assert_eq!(status, "accepted", "{message}");
    assert!(message.contains("HWB03 scored"), "{message}");
}

#[test]
fn a_file_cut_short_is_damaged_and_one_ptk_cannot_read_says_save_as_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let bytes = std::fs::read(samples().join(GOOD)).unwrap();
    std::fs::write(inbox.join("cut.xlsx"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(inbox.join("text.xlsx"), "name,answer\nA,3\n").unwrap();
    let out = ingest(dir.path(), &[&inbox], &[]);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let r = report(dir.path());
    let cut = &row(&r, "cut.xlsx").1;
    assert!(cut.contains("damaged or cut short"), "{cut}");
    let other = &row(&r, "text.xlsx").1;
    assert!(other.contains("saved in a form ptk cannot read"), "{other}");
    assert!(
        other.contains("save it as an Excel Workbook (.xlsx)"),
        "{other}"
    );
}
