//! `ptk mail` against a real SMTP server on 127.0.0.1, `.eml` output read by Python's
//! `email` package, and returns taken straight from mailboxes by `ptk ingest`.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use mail_parser::MimeHeaders;
use ptk::store::Store;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An SMTP server on 127.0.0.1 that stores what it receives in a maildir. Stopped on drop.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> Self {
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

    fn received(&self) -> Vec<Vec<u8>> {
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

fn mail(dir: &Path, what: &[&str], extra: &[&str]) -> std::process::Output {
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
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ptk(dir, &refs)
}

/// The register as id → (officer, email).
fn officers() -> std::collections::HashMap<String, (String, String)> {
    let mut r = csv::Reader::from_path(repo().join("samples/register.csv")).unwrap();
    r.records()
        .map(|x| x.unwrap())
        .map(|x| (x[0].to_string(), (x[3].to_string(), x[4].to_string())))
        .collect()
}

#[test]
fn smtp_delivers_each_form_once_with_its_workbook() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "self-assessment", &[]).status.success());
    let maildir = dir.path().join("received");
    let port = free_port();
    let server = SmtpServer::start(port, &maildir);
    let smtp = format!("127.0.0.1:{port}");
    let send = |extra: &[&str]| {
        let mut e = vec![
            "--smtp",
            smtp.as_str(),
            "--smtp-security",
            "plain",
            "--per-minute",
            "0",
            "--retries",
            "0",
        ];
        e.extend_from_slice(extra);
        mail(
            dir.path(),
            &["issue", "out", "--template", "self-assessment"],
            &e,
        )
    };

    // A first batch of 5, then the rest, then nothing: no message goes twice.
    let out = send(&["--limit", "5"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("5 sent via smtp:127.0.0.1"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(server.received().len(), 5);
    let out = send(&[]);
    assert!(
        text(&out.stdout).contains("8 sent via smtp"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("5 already sent before"));
    let out = send(&[]);
    assert!(
        text(&out.stdout).contains("0 sent via smtp")
            && text(&out.stdout).contains("13 already sent"),
        "{}",
        text(&out.stdout)
    );

    let received = server.received();
    assert_eq!(
        received.len(),
        13,
        "one message per active partnership, each once"
    );
    let officers = officers();
    let mut seen = std::collections::BTreeSet::new();
    for raw in &received {
        let m = mail_parser::MessageParser::default().parse(raw).unwrap();
        let att = m.attachments().next().expect("a workbook is attached");
        let name = att.attachment_name().unwrap().to_string();
        let pid = name.split('_').next().unwrap().to_string();
        let (officer, email) = &officers[&pid];
        let to = m.to().unwrap().first().unwrap();
        assert_eq!(
            to.address(),
            Some(email.as_str()),
            "{pid} goes to its lead officer"
        );
        assert_eq!(to.name(), Some(officer.as_str()));
        let subject = m.subject().unwrap();
        assert!(
            subject.starts_with("Partnership Self-Assessment 2026: ")
                && subject.ends_with("please return by 29 January 2027"),
            "{subject}"
        );
        let body = m.body_text(0).unwrap();
        assert!(
            body.contains(&format!("Dear {officer},"))
                && body.contains("partnerships@rochford.gov.uk by 29 January 2027"),
            "{body}"
        );
        assert!(
            !body.contains('{') && !subject.contains('{'),
            "every placeholder is filled"
        );
        let issued = std::fs::read(dir.path().join("out").join(&name)).unwrap();
        assert!(
            att.contents() == issued.as_slice(),
            "{name} arrives byte-identical to the issued workbook"
        );
        seen.insert(pid);
    }
    assert_eq!(seen.len(), 13);
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let sends = store.sends().unwrap();
    assert_eq!(sends.iter().filter(|s| s.result == "sent").count(), 13);

    // The server's maildir is a mailbox ptk ingest can read: 13 blank forms, identified.
    let out = ptk(
        dir.path(),
        &[
            "ingest",
            maildir.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--store",
            dir.path().join("in.db").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "blank forms miss answers"
    );
    let report = std::fs::read_to_string(dir.path().join("ingest-report.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(report.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 13);
    assert!(rows.iter().all(|r| &r[2] == "rejected"
        && !r[3].is_empty()
        && r[10].contains("Subject: Partnership Self-Assessment 2026")));
}

#[test]
fn a_failed_send_is_recorded_and_the_next_run_sends_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "exit", &[]).status.success());
    let port = free_port();
    let smtp = format!("127.0.0.1:{port}");
    let args = [
        "--smtp",
        smtp.as_str(),
        "--smtp-security",
        "plain",
        "--per-minute",
        "0",
        "--retries",
        "0",
    ];
    // Nobody is listening: both fail, and the failures are recorded.
    let out = mail(dir.path(), &["issue", "out", "--template", "exit"], &args);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    assert!(
        text(&out.stdout).contains("0 sent via smtp") && text(&out.stdout).contains("2 failed"),
        "{}",
        text(&out.stdout)
    );
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    assert!(store
        .sends()
        .unwrap()
        .iter()
        .all(|s| s.result.starts_with("failed: ")));
    drop(store);
    // The server comes up: the next run sends both.
    let server = SmtpServer::start(port, &dir.path().join("received"));
    let out = mail(dir.path(), &["issue", "out", "--template", "exit"], &args);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(server.received().len(), 2);
}

#[test]
fn plain_smtp_to_a_remote_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "exit", &[]).status.success());
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "exit"],
        &["--smtp", "mail.example.org:25", "--smtp-security", "plain"],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(
        text(&out.stderr).contains("--smtp-insecure"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn eml_files_parse_with_pythons_email_package() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "self-assessment", &[]).status.success());
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "self-assessment"],
        &["--cc-ad"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = r#"
import email, glob, hashlib, sys
from email import policy
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_bytes(open(f, "rb").read(), policy=policy.default)
    atts = list(m.iter_attachments())
    body = m.get_body(("plain",)).get_content()
    print("|".join([m["To"].addresses[0].addr_spec, m["Cc"].addresses[0].addr_spec, atts[0].get_filename(),
                    hashlib.sha256(atts[0].get_content()).hexdigest(), str(len(atts)), str("Dear " in body)]))
"#;
    let py = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.path().join("mail-outbox"))
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", text(&py.stderr));
    let lines: Vec<String> = text(&py.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 13);
    let officers = officers();
    for line in lines {
        let f: Vec<&str> = line.split('|').collect();
        let pid = f[2].split('_').next().unwrap();
        assert_eq!(f[0], officers[pid].1);
        assert!(
            f[1].ends_with("@rochford.gov.uk"),
            "the Assistant Director is copied"
        );
        let issued = std::fs::read(dir.path().join("out").join(f[2])).unwrap();
        let sha: String =
            sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&issued))
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        assert_eq!(f[3], sha, "{} attachment is the issued workbook", f[2]);
        assert_eq!((f[4], f[5]), ("1", "True"));
    }
}

/// A reply with the given attachments, as RFC 5322 bytes.
fn reply(from: &str, subject: &str, files: &[&Path]) -> Vec<u8> {
    use lettre::message::{header::ContentType, Attachment, MultiPart, SinglePart};
    let b = lettre::Message::builder()
        .from(from.parse().unwrap())
        .to("partnerships@rochford.gov.uk".parse().unwrap())
        .subject(subject);
    let text = SinglePart::plain("Please find our return attached. From the team.".to_string());
    let m = if files.is_empty() {
        b.singlepart(text).unwrap()
    } else {
        let mut mp = MultiPart::mixed().singlepart(text);
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            mp = mp.singlepart(Attachment::new(name).body(
                std::fs::read(f).unwrap(),
                ContentType::parse("application/octet-stream").unwrap(),
            ));
        }
        b.multipart(mp).unwrap()
    };
    m.formatted()
}

#[test]
fn an_mbox_of_replies_ingests_to_the_right_returns() {
    let dir = tempfile::tempdir().unwrap();
    let s = repo().join("samples/returns");
    let note = dir.path().join("agenda.pdf");
    std::fs::write(&note, b"%PDF-1.4 not a workbook").unwrap();
    let messages = [
        reply(
            "Helen Marsh <helen.marsh@rochford.gov.uk>",
            "RE: LSP self-assessment",
            &[&s.join("Joint LSP self assessment 2026 FINAL.xlsx")],
        ),
        reply(
            "Gareth Lewis <gareth.lewis@rochford.gov.uk>",
            "RE: reminder",
            &[],
        ),
        reply(
            "Priya Raman <priya.raman@rochford.gov.uk>",
            "Two returns",
            &[
                &s.join("HWB03 self-assessment.ods"),
                &s.join("CSP02_self-assessment_2026.xlsx"),
            ],
        ),
        reply(
            "Tom Fletcher <tom.fletcher@rochford.gov.uk>",
            "Agenda",
            &[&note],
        ),
    ];
    let mut mbox = Vec::new();
    for m in &messages {
        mbox.extend_from_slice(b"From sender@rochford.gov.uk Mon Dec  7 10:00:00 2026\n");
        for line in String::from_utf8_lossy(m).replace("\r\n", "\n").lines() {
            if line.starts_with("From ") {
                mbox.push(b'>');
            }
            mbox.extend_from_slice(line.as_bytes());
            mbox.push(b'\n');
        }
        mbox.push(b'\n');
    }
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::File::create(inbox.join("replies.mbox"))
        .unwrap()
        .write_all(&mbox)
        .unwrap();
    std::fs::write(
        inbox.join("late.eml"),
        reply(
            "Sarah Bentley <sarah.bentley@rochford.gov.uk>",
            "WST05",
            &[&s.join("WST05 return.xlsx")],
        ),
    )
    .unwrap();

    let out = ptk(
        dir.path(),
        &[
            "ingest",
            inbox.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--store",
            dir.path().join("ptk.db").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = std::fs::read_to_string(dir.path().join("ingest-report.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(report.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let find = |needle: &str| {
        rows.iter()
            .find(|r| r[0].contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {report}"))
    };
    assert_eq!(
        rows.len(),
        6,
        "four returns and two messages without one: {report}"
    );
    for (needle, pid, subject) in [
        (
            "replies.mbox#1/Joint LSP",
            "LSP01",
            "RE: LSP self-assessment",
        ),
        ("replies.mbox#3/HWB03", "HWB03", "Two returns"),
        ("replies.mbox#3/CSP02", "CSP02", "Two returns"),
        ("late.eml/WST05", "WST05", "WST05"),
    ] {
        let r = find(needle);
        assert_eq!((&r[2], &r[3]), ("accepted", pid), "{needle}");
        assert!(
            r[10].contains(&format!("Subject: {subject}")) && r[10].contains("From: "),
            "{needle}: {}",
            &r[10]
        );
    }
    for (needle, from) in [
        ("replies.mbox#2", "Gareth Lewis"),
        ("replies.mbox#4", "Tom Fletcher"),
    ] {
        let r = find(needle);
        assert_eq!(&r[2], "skipped");
        assert!(
            r[9].contains("no workbook attached") && r[9].contains(from),
            "{}",
            &r[9]
        );
    }
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let n: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM returns", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn corrections_list_the_problems_and_send_the_file_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("ptk.db");
    let out = ptk(
        dir.path(),
        &[
            "ingest",
            repo()
                .join("samples/returns/HOU07_self-assessment_2026.xlsx")
                .to_str()
                .unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--store",
            store.to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let out = mail(dir.path(), &["corrections"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let emls: Vec<PathBuf> = std::fs::read_dir(dir.path().join("mail-outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(emls.len(), 1, "only HOU07 has a rejected return");
    let raw = std::fs::read(&emls[0]).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        m.to().unwrap().first().unwrap().address(),
        Some("aisha.begum@rochford.gov.uk")
    );
    let body = m.body_text(0).unwrap();
    assert!(
        body.contains("- Sheet 'Assessment', cell C10: Question 1.2"),
        "{body}"
    );
    assert!(
        body.contains("cell C51") && body.contains("'last Tuesday' is not a date"),
        "{body}"
    );
    let att = m.attachments().next().unwrap();
    let original =
        std::fs::read(repo().join("samples/returns/HOU07_self-assessment_2026.xlsx")).unwrap();
    assert!(
        att.contents() == original.as_slice(),
        "their own file goes back"
    );
    // Chasing: every partnership with no accepted return, HOU07 included.
    let out = mail(dir.path(), &["chase"], &["--dry-run"]);
    assert!(
        text(&out.stdout).contains("Dry run: 17 message(s) would be sent"),
        "{}",
        text(&out.stdout)
    );
}
