//! `ptk mail` against a real SMTP server on 127.0.0.1, `.eml` output read by Python's
//! `email` package, and returns taken straight from mailboxes by `ptk ingest`.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use mail_parser::MimeHeaders;
use ptk::store::Store;

fn mail(dir: &Path, what: &[&str], extra: &[&str]) -> std::process::Output {
    mail_run(dir, None, what, extra)
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
        let mut e = local_smtp(smtp.as_str());
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
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("8 sent via smtp"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("5 already sent before"));
    let out = send(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
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
    let args = local_smtp(smtp.as_str());
    // Nobody is listening: the run stops at the first message (recorded as failed),
    // says what to do, and does not try the other.
    let started = Instant::now();
    let out = mail(dir.path(), &["issue", "out", "--template", "exit"], &args);
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        text(&out.stdout).contains("0 sent via smtp") && text(&out.stdout).contains("1 failed"),
        "{}",
        text(&out.stdout)
    );
    let said = text(&out.stderr);
    assert!(
        said.contains("cannot connect to the SMTP server 127.0.0.1")
            && said.contains("1 more were not tried"),
        "{said}"
    );
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let sends = store.sends().unwrap();
    assert_eq!(sends.len(), 1);
    assert!(sends[0].result.starts_with("failed: "));
    drop(store);
    // The server comes up: the next run sends both.
    let server = SmtpServer::start(port, &dir.path().join("received"));
    let out = mail(dir.path(), &["issue", "out", "--template", "exit"], &args);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(server.received().len(), 2);
}

#[test]
fn a_server_without_starttls_fails_at_once_naming_the_setting_to_use() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "self-assessment", &[]).status.success());
    let port = free_port();
    let server = SmtpServer::start(port, &dir.path().join("received"));
    let smtp = format!("127.0.0.1:{port}");
    // STARTTLS is the default; this server offers none. With the default retries and
    // rate, 13 messages used to take two minutes, failing each in turn.
    let started = Instant::now();
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "self-assessment"],
        &["--smtp", smtp.as_str()],
    );
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(ptk::exit::CANNOT_RUN));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let said = text(&out.stderr);
    assert!(
        said.contains("does not offer STARTTLS")
            && said.contains("--smtp-security plain")
            && said.contains("12 more were not tried"),
        "{said}"
    );
    assert!(!text(&out.stdout).contains("run the same command again"));
    assert!(!said.contains("run the same command again"));
    assert!(server.received().is_empty());
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
    // With the sample respondents, partners' forms have long names (the ones lettre
    // alone gave only RFC 2231's filename*0=, shown by Outlook as "ATT00001").
    let resp = repo().join("samples/respondents.csv");
    let resp = resp.to_str().unwrap();
    assert!(
        issue(dir.path(), "self-assessment", &["--respondents", resp])
            .status
            .success()
    );
    let out = mail_run(
        dir.path(),
        Some(resp),
        &["issue", "out", "--template", "self-assessment"],
        &["--cc-ad"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = r#"
import email, glob, hashlib, re, sys
from email import policy
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw, policy=policy.default)
    atts = list(m.iter_attachments())
    body = m.get_body(("plain",)).get_content()
    cc = m["Cc"].addresses[0].addr_spec if m["Cc"] else ""
    # The raw headers (compat32 keeps them as written): a plain name= on the
    # Content-Type and a plain filename= beside filename* on the Content-Disposition.
    old = email.message_from_bytes(raw, policy=policy.compat32)
    part = [p for p in old.walk() if p.get_content_disposition() == "attachment"][0]
    ctype = re.sub(r"\r?\n[ \t]", " ", str(part["Content-Type"]))
    disp = re.sub(r"\r?\n[ \t]", " ", str(part["Content-Disposition"]))
    plain_name = re.search(r';\s*name="([^"]*)"', ctype)
    plain_filename = re.search(r';\s*filename="([^"]*)"', disp)
    star = re.search(r";\s*filename\*(0\*?)?=", disp)
    print("|".join([m["To"].addresses[0].addr_spec, cc, atts[0].get_filename(),
                    hashlib.sha256(atts[0].get_content()).hexdigest(), str(len(atts)), str("Dear " in body),
                    plain_name.group(1) if plain_name else "-", plain_filename.group(1) if plain_filename else "-",
                    str(star is not None)]))
"#;
    let py = run_python(
        dir.path(),
        script,
        &[dir.path().join("mail-outbox").to_str().unwrap()],
    );
    let lines: Vec<String> = py.lines().map(str::to_string).collect();
    let issued = xlsx_files(&dir.path().join("out"));
    assert_eq!(lines.len(), issued.len(), "one message per issued form");
    assert!(
        lines
            .iter()
            .any(|l| l.split('|').nth(2).unwrap().len() > 40),
        "some attachments have long names: {lines:?}"
    );
    let officers = officers();
    for line in lines {
        let f: Vec<&str> = line.split('|').collect();
        let pid = f[2].split('_').next().unwrap();
        if f[2].split('_').count() == 3 {
            assert_eq!(f[0], officers[pid].1);
            assert!(
                f[1].ends_with("@rochford.gov.uk"),
                "the Assistant Director is copied"
            );
        } else {
            assert_ne!(
                f[0], officers[pid].1,
                "a partner's form goes to the partner"
            );
        }
        let issued = std::fs::read(dir.path().join("out").join(f[2])).unwrap();
        let sha: String =
            sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&issued))
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        assert_eq!(f[3], sha, "{} attachment is the issued workbook", f[2]);
        assert_eq!((f[4], f[5]), ("1", "True"));
        assert_eq!(f[6], f[2], "Content-Type name= of {}", f[2]);
        assert_eq!(f[7], f[2], "Content-Disposition filename= of {}", f[2]);
        assert_eq!(f[8], "True", "filename* (RFC 2231) of {}", f[2]);
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
    // Chasing: only partnerships that were issued a form (none was issued here), and
    // not HOU07, whose corrections letter is its reminder.
    let out = mail(dir.path(), &["chase"], &["--dry-run", "--outbox", "out"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("No chase email is needed"), "{said}");
    assert!(
        said.contains("LSP01: not reminded: no 'self-assessment' form was issued"),
        "{said}"
    );
    assert!(
        said.contains("HOU07: not reminded: Aisha Begum's return needs correcting"),
        "{said}"
    );
}

/// The .eml files in a folder, sorted.
fn emls(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v
}

#[test]
fn drafts_are_marked_unsent_and_a_later_smtp_run_sends_each_draft_once() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "self-assessment", &[]).status.success());
    // 1. Drafts: .eml files Outlook opens ready to send, recorded as drafted.
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "self-assessment"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("13 drafted as .eml files"),
        "{}",
        text(&out.stdout)
    );
    let drafts = emls(&dir.path().join("mail-outbox"));
    assert_eq!(drafts.len(), 13);
    for d in &drafts {
        let raw = std::fs::read(d).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            m.header_raw("X-Unsent").map(str::trim),
            Some("1"),
            "{} is a draft",
            d.display()
        );
    }
    let status = |dir: &Path| {
        let csv_path = dir.join("status.csv");
        let out = ptk(
            dir,
            &[
                "status",
                "--year",
                "2026",
                "--store",
                dir.join("ptk.db").to_str().unwrap(),
                "--register",
                repo().join("samples/register.csv").to_str().unwrap(),
                "--templates",
                repo().join("templates").to_str().unwrap(),
                "--outbox",
                "out",
                "--csv",
                csv_path.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let rows: Vec<csv::StringRecord> = csv::Reader::from_path(&csv_path)
            .unwrap()
            .records()
            .map(Result::unwrap)
            .collect();
        (text(&out.stdout), rows)
    };
    let (said, rows) = status(dir.path());
    assert!(said.contains("form drafted"), "{said}");
    let lsp = rows.iter().find(|r| &r[0] == "LSP01").unwrap();
    assert_eq!((&lsp[5], &lsp[7]), ("drafted", "drafted"));
    // A second draft run writes nothing again.
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "self-assessment"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 drafted as .eml files in")
            && text(&out.stdout).contains("13 already drafted"),
        "{}",
        text(&out.stdout)
    );

    // 2. The officer has checked them: --smtp sends every draft, each once.
    let maildir = dir.path().join("received");
    let port = free_port();
    let server = SmtpServer::start(port, &maildir);
    let smtp = format!("127.0.0.1:{port}");
    let send = || {
        mail(
            dir.path(),
            &["issue", "out", "--template", "self-assessment"],
            &local_smtp(smtp.as_str()),
        )
    };
    let drafted_ids: std::collections::BTreeSet<String> = drafts
        .iter()
        .map(|d| {
            let raw = std::fs::read(d).unwrap();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            m.message_id().unwrap().to_string()
        })
        .collect();
    let out = send();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("13 sent via smtp:127.0.0.1"),
        "{}",
        text(&out.stdout)
    );
    let received = server.received();
    assert_eq!(received.len(), 13);
    // What is delivered is the message drafted (same Message-ID), without the draft mark.
    let ids = |msgs: Vec<Vec<u8>>| -> std::collections::BTreeSet<String> {
        msgs.iter()
            .map(|raw| {
                let m = mail_parser::MessageParser::default().parse(raw).unwrap();
                assert!(m.header_raw("X-Unsent").is_none());
                m.message_id().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(ids(received), drafted_ids);
    // The drafts cannot be sent again from Outlook: none is left in the folder the
    // officer sends from, and the copies kept in sent/ have no draft mark.
    assert!(
        text(&out.stdout).contains("13 draft(s) of the messages just sent were moved to"),
        "{}",
        text(&out.stdout)
    );
    assert!(emls(&dir.path().join("mail-outbox")).is_empty());
    let kept = emls(&dir.path().join("mail-outbox/sent"));
    assert_eq!(kept.len(), 13);
    for k in &kept {
        let raw = std::fs::read(k).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert!(m.header_raw("X-Unsent").is_none(), "{}", k.display());
        assert!(drafted_ids.contains(m.message_id().unwrap()));
    }
    // 3. Nothing is sent twice.
    let out = send();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 sent via smtp")
            && text(&out.stdout).contains("13 already sent"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(server.received().len(), 13);
    let (said, rows) = status(dir.path());
    assert!(said.contains("form sent"), "{said}");
    assert!(rows
        .iter()
        .filter(|r| &r[2] == "self-assessment")
        .all(|r| &r[7] == "sent" && &r[5] == "sent"));
}

#[test]
fn chase_letters_that_say_attached_carry_the_form_and_only_issued_forms_are_chased() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "self-assessment", &[]).status.success());
    assert!(issue(dir.path(), "exit", &[]).status.success());
    // The exit forms are sent by ptk; then DIG15's file leaves the outbox (moved by
    // hand). LSP01's self-assessment email is only drafted, never sent. The
    // new-partnership forms are never issued.
    let port = free_port();
    let _server = SmtpServer::start(port, &dir.path().join("received"));
    let smtp = format!("127.0.0.1:{port}");
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "exit"],
        &[
            "--smtp",
            &smtp,
            "--smtp-security",
            "plain",
            "--per-minute",
            "0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = mail(
        dir.path(),
        &[
            "issue",
            "out",
            "--template",
            "self-assessment",
            "--partnership",
            "LSP01",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    std::fs::remove_file(dir.path().join("out/DIG15_exit_2026.xlsx")).unwrap();
    // One email a day: a form sent today is not chased today.
    let out = mail(dir.path(), &["chase"], &["--outbox", "out", "--dry-run"]);
    let said = text(&out.stdout);
    assert!(
        said.contains("DIG15: not reminded: the form was sent to")
            && said.contains("today (one email a day)"),
        "{said}"
    );
    // Weeks later (the forms went on 23 November).
    {
        let conn = rusqlite::Connection::open(dir.path().join("ptk.db")).unwrap();
        conn.execute_batch("UPDATE sends SET sent_at = '2026-11-23T10:00:00'")
            .unwrap();
    }
    let chased = dir.path().join("chased");
    let out = mail(
        dir.path(),
        &["chase"],
        &["--outbox", "out", "--eml-dir", chased.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    for who in ["MGT16", "ART17"] {
        assert!(
            said.contains(&format!(
                "{who}: not reminded: no 'new-partnership' form was issued"
            )),
            "{said}"
        );
    }
    assert!(
        said.contains("DIG15: the issued form") && said.contains("goes without it"),
        "{said}"
    );
    assert!(
        said.contains(
            "LSP01: not reminded: the issue email to Helen Marsh was drafted but never sent"
        ),
        "{said}"
    );
    let letters = emls(&chased);
    assert_eq!(
        letters.len(),
        14,
        "12 self-assessments (not LSP01's, only drafted) and 2 exits"
    );
    let mut without = Vec::new();
    for l in &letters {
        let raw = std::fs::read(l).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let body = m.body_text(0).unwrap().to_string();
        let att = m.attachments().next();
        if body.contains("attached") {
            let att = att.unwrap_or_else(|| panic!("{} says attached: {body}", l.display()));
            let name = att.attachment_name().unwrap();
            let issued = std::fs::read(dir.path().join("out").join(name)).unwrap();
            assert!(att.contents() == issued.as_slice(), "{name}");
            let pid = name.split('_').next().unwrap();
            assert!(
                l.to_string_lossy().contains(pid),
                "{name} goes to its own partnership"
            );
        } else {
            assert!(att.is_none());
            assert!(
                body.contains("reply to this email and we will send it"),
                "{body}"
            );
            without.push(l.file_name().unwrap().to_string_lossy().into_owned());
        }
        assert!(!body.contains("have not yet received") || !body.contains("could not open"));
    }
    assert_eq!(without.len(), 1, "{without:?}");
    assert!(without[0].contains("DIG15"), "{without:?}");
    // Only those chosen, with --partnership.
    let out = mail(
        dir.path(),
        &["chase"],
        &[
            "--outbox",
            "out",
            "--dry-run",
            "--resend",
            "--partnership",
            "CSP02",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Dry run: 1 message(s) would be drafted"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_smtp_server_that_echoes_the_login_never_puts_the_password_in_the_log() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "exit", &["--partnership", "ENV14"])
        .status
        .success());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A server that offers AUTH PLAIN and LOGIN and refuses the login, quoting it back.
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        writeln!(w, "220 echo.test ESMTP\r").unwrap();
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            let cmd = line.trim_end().to_string();
            line.clear();
            let upper = cmd.to_ascii_uppercase();
            let reply = if upper.starts_with("EHLO") {
                "250-echo.test\r\n250 AUTH PLAIN LOGIN".to_string()
            } else if upper.starts_with("AUTH") {
                // The whole command; then its argument cut short and folded over two
                // reply lines; then part of the password itself.
                let arg = cmd.rsplit(' ').next().unwrap_or("");
                let cut = &arg[..arg.len() - 3];
                let (a, b) = cut.split_at(cut.len() - 6);
                format!(
                    "535-5.7.8 Authentication failed: {cmd}\r\n535-5.7.8 for {a}\r\n535-5.7.8 {b} (cut)\r\n535 5.7.8 password {}",
                    &"Tr0ub4dor&3-secret"[2..14]
                )
            } else if upper.starts_with("QUIT") {
                "221 bye".to_string()
            } else {
                format!("500 what is {cmd}")
            };
            if write!(w, "{reply}\r\n").is_err() || upper.starts_with("QUIT") {
                break;
            }
        }
    });
    let password = "Tr0ub4dor&3-secret";
    let smtp = format!("127.0.0.1:{port}");
    let out = ptk_env(
        dir.path(),
        &[
            "mail",
            "issue",
            "out",
            "--template",
            "exit",
            "--partnership",
            "ENV14",
            "--year",
            "2026",
            "--from",
            "partnerships@rochford.gov.uk",
            "--deadline",
            "2027-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
            "--store",
            dir.path().join("ptk.db").to_str().unwrap(),
            "--register",
            repo().join("samples/register.csv").to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--smtp",
            &smtp,
            "--smtp-security",
            "plain",
            "--smtp-user",
            "ptk-mailer",
            "--retries",
            "0",
            "--per-minute",
            "0",
        ],
        &[("PTK_SMTP_PASSWORD", password)],
    );
    let _ = server.join();
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::CANNOT_RUN),
        "{}",
        text(&out.stdout)
    );
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let secrets = [
        password.to_string(),
        b64.encode(password),
        b64.encode(format!("\0ptk-mailer\0{password}")),
    ];
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(shown.contains("failed"), "{shown}");
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let logged: String = store
        .sends()
        .unwrap()
        .iter()
        .map(|s| s.result.clone())
        .collect();
    assert!(
        logged.contains("535"),
        "the server's refusal is kept: {logged}"
    );
    assert!(
        logged.contains("AUTH PLAIN [redacted]"),
        "the echo was there, cut: {logged}"
    );
    assert!(
        shown.contains("refused the login for 'ptk-mailer'"),
        "{shown}"
    );
    // No 8 characters of any secret, on screen or in the log.
    for s in &secrets {
        let s: Vec<char> = s.chars().collect();
        for w in s.windows(8) {
            let w: String = w.iter().collect();
            assert!(!shown.contains(&w), "{w} on screen: {shown}");
            assert!(!logged.contains(&w), "{w} in the sends log: {logged}");
        }
    }
}

#[test]
fn an_address_the_mail_library_refuses_skips_that_message_and_names_the_partnership() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let from: lettre::message::Mailbox = "partnerships@rochford.gov.uk".parse().unwrap();
    let one = |pid: &str, to: &str| ptk::mail::Outgoing {
        kind: ptk::mail::Kind::Issue,
        partnership_id: pid.into(),
        respondent_id: "lead".into(),
        template_id: "exit".into(),
        year: 2026,
        to: ("Ann".into(), to.into()),
        cc: None,
        letter: ptk::letter::Letter {
            subject: "Exit".into(),
            body: "Dear Ann".into(),
        },
        attachment: None,
        file_sha256: String::new(),
        key: format!("issue/exit/2026/{pid}/x"),
    };
    let plan = [one("BAD01", "ann at x.gov.uk"), one("OK02", "ann@x.gov.uk")];
    let mut t = ptk::mail::EmlFolder {
        dir: dir.path().join("drafts"),
    };
    let mut notes = Vec::new();
    let s = ptk::mail::deliver(
        &store,
        &plan,
        &from,
        &mut t,
        ptk::mail::DeliverOptions::default(),
        "2026-11-23T10:00:00",
        &mut |e, what| notes.push(format!("{} {what}", e.partnerships())),
    )
    .unwrap();
    assert_eq!((s.failed, s.drafted), (1, 1), "{notes:?}");
    assert!(
        notes[0].starts_with("BAD01 failed: ") && notes[0].contains("BAD01"),
        "{notes:?}"
    );
    assert_eq!(emls(&dir.path().join("drafts")).len(), 1);
}

#[test]
fn a_store_from_before_drafts_is_upgraded_and_its_eml_rows_become_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ptk.db");
    drop(Store::open(&path).unwrap());
    // Put the sends table back as earlier versions wrote it, with one .eml "sent" and
    // one SMTP send.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP INDEX sends_state; ALTER TABLE sends DROP COLUMN state;
         INSERT INTO sends (key, kind, message_id, partnership_id, recipient, template_id, year, file_sha256, sent_at, transport, result)
         VALUES ('issue/exit/2026/ENV14/a', 'issue', '<a>', 'ENV14', 'x@y.org', 'exit', 2026, '', '2026-11-01T09:00:00', 'eml:mail-outbox', 'sent'),
                ('issue/exit/2026/DIG15/b', 'issue', '<b>', 'DIG15', 'x@y.org', 'exit', 2026, '', '2026-11-01T09:00:00', 'smtp:mail.example:587', 'sent'),
                ('issue/exit/2026/DIG15/c', 'issue', '<c>', 'DIG15', 'x@y.org', 'exit', 2026, '', '2026-11-01T09:00:00', 'smtp:mail.example:587', 'failed: 451 later');",
    )
    .unwrap();
    drop(conn);
    for _ in 0..2 {
        // Opening upgrades once; opening again changes nothing.
        let store = Store::open(&path).unwrap();
        let states: Vec<(String, String)> = store
            .sends()
            .unwrap()
            .into_iter()
            .map(|s| (s.key, s.state))
            .collect();
        assert_eq!(
            states,
            [
                ("issue/exit/2026/ENV14/a".to_string(), "drafted".to_string()),
                ("issue/exit/2026/DIG15/b".into(), "sent".into()),
                ("issue/exit/2026/DIG15/c".into(), "failed".into()),
            ]
        );
        assert_eq!(
            store
                .send_state("issue/exit/2026/ENV14/a")
                .unwrap()
                .as_deref(),
            Some("drafted")
        );
        assert!(!store.was_sent("issue/exit/2026/ENV14/a").unwrap());
        assert!(store.was_sent("issue/exit/2026/DIG15/b").unwrap());
    }
}

/// `ptk <args>` for 2026 with the shipped templates, the given register, the store and
/// the outbox `out` in `dir`.
fn run_with_register(dir: &Path, register: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    let store = dir.join("ptk.db");
    let templates = repo().join("templates");
    all.extend([
        "--year",
        "2026",
        "--templates",
        templates.to_str().unwrap(),
        "--register",
        register.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--deadline",
        "2027-01-29",
        "--return-address",
        "partnerships@rochford.gov.uk",
    ]);
    let all: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    ptk(dir, &refs)
}

fn sha256_file(p: &Path) -> String {
    let bytes = std::fs::read(p).unwrap();
    sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn forms_are_issued_and_sent_once_per_form_and_a_reissue_is_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let register = dir.path().join("register.csv");
    std::fs::copy(repo().join("samples/register.csv"), &register).unwrap();
    let maildir = dir.path().join("received");
    let port = free_port();
    let server = SmtpServer::start(port, &maildir);
    let smtp = format!("127.0.0.1:{port}");
    let issue_on = |date: &str, extra: &[&str]| {
        let mut a = vec![
            "issue",
            "--template",
            "self-assessment",
            "--out",
            "out",
            "--issued-on",
            date,
        ];
        a.extend_from_slice(extra);
        let out = run_with_register(dir.path(), &register, &a);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let send = || {
        let out = run_with_register(
            dir.path(),
            &register,
            &[
                "mail",
                "issue",
                "out",
                "--template",
                "self-assessment",
                "--from",
                "partnerships@rochford.gov.uk",
                "--smtp",
                smtp.as_str(),
                "--smtp-security",
                "plain",
                "--per-minute",
                "0",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stdout));
        text(&out.stdout)
    };
    let outbox = dir.path().join("out");
    // 1. Issued and sent: one message per active partnership.
    let said = issue_on("2026-11-23", &[]);
    assert!(
        said.contains("Issued 13 'self-assessment' workbook(s)"),
        "{said}"
    );
    let said = send();
    assert!(said.contains("13 sent via smtp"), "{said}");
    assert_eq!(server.received().len(), 13);
    let before: Vec<(PathBuf, String)> = xlsx_files(&outbox)
        .into_iter()
        .map(|p| (p.clone(), sha256_file(&p)))
        .collect();

    // 2. Issued again on a later date: every form is left alone, nothing is delivered.
    let said = issue_on("2027-01-05", &[]);
    assert!(
        said.contains("Left alone 13 'self-assessment' form(s) already issued for 2026")
            && said.contains("Issued 0 'self-assessment' workbook(s)"),
        "{said}"
    );
    for (p, sha) in &before {
        assert_eq!(&sha256_file(p), sha, "{} unchanged", p.display());
    }
    let said = send();
    assert!(
        said.contains("0 sent via smtp") && said.contains("13 already sent"),
        "{said}"
    );
    assert_eq!(server.received().len(), 13);

    // 3. A partnership joins mid-year: issuing again writes and sends its form only.
    let mut csv = std::fs::read_to_string(&register).unwrap();
    csv.push_str("NEW20,Rochford Warm Homes Partnership,Operational,Priya Shah,priya.shah@rochford.gov.uk,Angela Hutchings,angela.hutchings@rochford.gov.uk,Enable communities,active,Rochford District Council,Essex County Council,2027-01-02,,Joined mid-year\n");
    std::fs::write(&register, csv).unwrap();
    let said = issue_on("2027-01-05", &[]);
    assert!(
        said.contains("Issued 1 'self-assessment' workbook(s) for 1 partnership(s)")
            && said.contains("Left alone 13"),
        "{said}"
    );
    let said = send();
    assert!(
        said.contains("1 sent via smtp") && said.contains("13 already sent"),
        "{said}"
    );
    let received = server.received();
    assert_eq!(received.len(), 14);
    let newest: Vec<String> = received
        .iter()
        .map(|raw| {
            let m = mail_parser::MessageParser::default().parse(raw).unwrap();
            m.to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_string()
        })
        .filter(|to| to == "priya.shah@rochford.gov.uk")
        .collect();
    assert_eq!(newest.len(), 1);

    // 4. A deliberate re-issue: the earlier file is kept, the new form goes once, as a
    // replacement.
    let lsp = outbox.join("LSP01_self-assessment_2026.xlsx");
    let lsp_sha = sha256_file(&lsp);
    let said = issue_on("2027-01-06", &["--reissue", "LSP01"]);
    assert!(
        said.contains("Re-issued LSP01") && said.contains("Issued 1 'self-assessment'"),
        "{said}"
    );
    let kept = outbox.join("replaced/LSP01_self-assessment_2026_edition-1.xlsx");
    assert_eq!(sha256_file(&kept), lsp_sha, "the earlier form is kept");
    assert_ne!(
        sha256_file(&lsp),
        lsp_sha,
        "a new form, issued on the new date"
    );
    let said = send();
    assert!(
        said.contains("1 sent via smtp") && said.contains("13 already sent"),
        "{said}"
    );
    let received = server.received();
    assert_eq!(received.len(), 15);
    let replacement: Vec<String> = received
        .iter()
        .filter_map(|raw| {
            let m = mail_parser::MessageParser::default().parse(raw).unwrap();
            let s = m.subject().unwrap().to_string();
            s.starts_with("Replacement form").then(|| {
                assert!(m
                    .body_text(0)
                    .unwrap()
                    .contains("replaces the one we sent you earlier"));
                m.to()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    assert_eq!(replacement, vec!["helen.marsh@rochford.gov.uk".to_string()]);
    let said = send();
    assert!(said.contains("0 sent via smtp"), "{said}");
    assert_eq!(server.received().len(), 15);
    // The templates check covers the replacement letter.
    let out = ptk(
        dir.path(),
        &[
            "templates",
            "check",
            "--templates",
            repo().join("templates").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_store_from_before_keeps_its_hash_keyed_sends_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    assert!(issue(dir.path(), "exit", &[]).status.success());
    // As ptk recorded sends before forms were keyed by what they are: the key's tail
    // was the workbook's hash (of a workbook since issued again, so another hash).
    let store = Store::open(&dir.path().join("ptk.db")).unwrap();
    let forms = xlsx_files(&dir.path().join("out"));
    assert_eq!(forms.len(), 2);
    let first = forms[0].file_name().unwrap().to_string_lossy().into_owned();
    let pid = first.split('_').next().unwrap().to_string();
    store
        .record_send(&ptk::store::SendRecord {
            key: format!("issue/exit/2026/{pid}/0123456789abcdef"),
            kind: "issue".into(),
            message_id: "<x@rochford.gov.uk>".into(),
            partnership_id: pid.clone(),
            recipient: "someone@rochford.gov.uk".into(),
            template_id: "exit".into(),
            year: 2026,
            file_sha256: "0123456789abcdef".repeat(4),
            sent_at: "2026-11-23T10:00:00".into(),
            transport: "smtp:mail.rochford.gov.uk:587".into(),
            result: "sent".into(),
            state: "sent".into(),
        })
        .unwrap();
    drop(store);
    let port = free_port();
    let server = SmtpServer::start(port, &dir.path().join("received"));
    let smtp = format!("127.0.0.1:{port}");
    let out = mail(
        dir.path(),
        &["issue", "out", "--template", "exit"],
        &[
            "--smtp",
            &smtp,
            "--smtp-security",
            "plain",
            "--per-minute",
            "0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let said = text(&out.stdout);
    assert!(
        said.contains("1 sent via smtp") && said.contains("1 already sent"),
        "{said}"
    );
    let received = server.received();
    assert_eq!(received.len(), 1);
    let m = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    let name = m
        .attachments()
        .next()
        .unwrap()
        .attachment_name()
        .unwrap()
        .to_string();
    assert!(!name.starts_with(&pid), "{pid} was sent before: {name}");
}
