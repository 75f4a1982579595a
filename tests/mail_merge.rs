//! One email per person a day, through the binary: letters to the same address go as one
//! message (drafts and SMTP alike), a reminder and a corrections letter are merged, and
//! a second run the same day writes to nobody already written to. Messages are read back
//! by Python's `email` package (the attachments' names as Outlook reads them) and by
//! mail-parser (the text).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use mail_parser::MimeHeaders;

/// The sample register, but CSP02 led by Helen Marsh (as LSP01 is; her address in
/// another case) and CAB08 by Aisha Begum (as HOU07 is).
fn register(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    let text = text
        .replace(
            "David Okafor,david.okafor@rochford.gov.uk",
            "Helen Marsh,Helen.Marsh@Rochford.gov.uk",
        )
        .replace(
            "Gareth Lewis,gareth.lewis@rochford.gov.uk",
            "Aisha Begum,aisha.begum@rochford.gov.uk",
        );
    let path = dir.join("register.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let store = dir.join("ptk.db");
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for a in [
        "--year",
        "2026",
        "--templates",
        repo().join("templates").to_str().unwrap(),
        "--register",
        dir.join("register.csv").to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ] {
        all.push(a.to_string());
    }
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    ptk(dir, &refs)
}

fn mail(dir: &Path, what: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["mail"];
    args.extend_from_slice(what);
    args.extend_from_slice(&[
        "--from",
        "partnerships@rochford.gov.uk",
        "--deadline",
        "2027-01-29",
        "--return-address",
        "partnerships@rochford.gov.uk",
    ]);
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// What Python's email package reads in each message file of `dir`: the address, and
/// each attachment's name as `get_filename()` gives it, with the plain `name=` of its
/// Content-Type and the plain `filename=` of its Content-Disposition (Outlook's).
fn read_by_python(dir: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let script = r#"
import email, glob, re, sys
from email import policy
for f in sorted(glob.glob(sys.argv[1] + "/*")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw, policy=policy.default)
    old = email.message_from_bytes(raw, policy=policy.compat32)
    atts = []
    for p in old.walk():
        if p.get_content_disposition() != "attachment":
            continue
        ctype = re.sub(r"\r?\n[ \t]", " ", str(p["Content-Type"]))
        disp = re.sub(r"\r?\n[ \t]", " ", str(p["Content-Disposition"]))
        name = re.search(r';\s*name="([^"]*)"', ctype)
        plain = re.search(r';\s*filename="([^"]*)"', disp)
        atts.append(";".join([p.get_filename() or "-", name.group(1) if name else "-",
                              plain.group(1) if plain else "-"]))
    print(m["To"].addresses[0].addr_spec.lower() + "|" + ",".join(atts))
"#;
    let out = run_python(dir, script, &[dir.to_str().unwrap()]);
    let mut by_to: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for line in out.lines() {
        let (to, atts) = line.split_once('|').unwrap();
        let names: Vec<String> = atts
            .split(',')
            .filter(|a| !a.is_empty())
            .map(|a| {
                let f: Vec<&str> = a.split(';').collect();
                assert_eq!(f[0], f[1], "name= of {a}");
                assert_eq!(f[0], f[2], "filename= of {a}");
                f[0].to_string()
            })
            .collect();
        by_to.entry(to.to_string()).or_default().push(names);
    }
    by_to
}

/// The messages the server received that are not in `before`, written to `dir` one
/// file each.
fn save(received: &[Vec<u8>], before: &[Vec<u8>], dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, raw) in received.iter().filter(|r| !before.contains(r)).enumerate() {
        std::fs::write(dir.join(format!("{i:03}.eml")), raw).unwrap();
    }
}

fn body_to(dir: &Path, to: &str) -> (String, String) {
    for f in std::fs::read_dir(dir).unwrap() {
        let raw = std::fs::read(f.unwrap().path()).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let addr = m.to().unwrap().first().unwrap().address().unwrap();
        if addr.eq_ignore_ascii_case(to) {
            assert!(m.attachments().all(|a| a.attachment_name().is_some()));
            return (
                m.subject().unwrap().to_string(),
                m.body_text(0).unwrap().to_string(),
            );
        }
    }
    panic!("no message to {to}");
}

fn emls(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "eml")
            })
            .count()
        })
        .unwrap_or(0)
}

const HELEN: &str = "helen.marsh@rochford.gov.uk";
const AISHA: &str = "aisha.begum@rochford.gov.uk";
const TOM: &str = "tom.fletcher@rochford.gov.uk";
const REBECCA: &str = "rebecca.shaw@rochford.gov.uk";

/// Issues the self-assessment forms into `out/` (issued 2026-11-23, due 2027-01-29).
fn issue_forms(d: &Path) {
    let out = run(
        d,
        &[
            "issue",
            "--template",
            "self-assessment",
            "--out",
            "out",
            "--issued-on",
            "2026-11-23",
            "--deadline",
            "2027-01-29",
            "--return-address",
            "partnerships@rochford.gov.uk",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn one_email_per_person_a_day_with_every_form_and_correction_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register(d);
    issue_forms(d);
    let port = free_port();
    let server = SmtpServer::start(port, &d.join("received"));
    let smtp = format!("127.0.0.1:{port}");
    let by_smtp = local_smtp(smtp.as_str());

    // The forms: 13 letters, but Helen (LSP01, CSP02) and Aisha (HOU07, CAB08) get one
    // email each with both forms.
    let out = mail(
        d,
        &["issue", "out", "--template", "self-assessment"],
        &by_smtp,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("13 letters go as 11 emails"),
        "{}",
        text(&out.stdout)
    );
    let issued = server.received();
    assert_eq!(issued.len(), 11);
    save(&issued, &[], &d.join("issued"));
    let got = read_by_python(&d.join("issued"));
    assert_eq!(got.len(), 11, "{got:?}");
    assert_eq!(
        got[HELEN],
        [[
            "CSP02_self-assessment_2026.xlsx",
            "LSP01_self-assessment_2026.xlsx"
        ]]
    );
    assert_eq!(
        got[AISHA],
        [[
            "CAB08_self-assessment_2026.xlsx",
            "HOU07_self-assessment_2026.xlsx"
        ]]
    );
    let (subject, body) = body_to(&d.join("issued"), HELEN);
    assert_eq!(
        subject,
        "Partnership review 2026: forms to complete (CSP02, LSP01)"
    );
    assert_eq!(body.matches("Dear Helen Marsh,").count(), 1, "{body}");
    assert_eq!(body.matches("With thanks,").count(), 1, "{body}");
    for name in [
        "Castle Point and Rochford Community Safety Partnership",
        "Joint Castle Point and Rochford Local Strategic Partnership",
    ] {
        assert!(body.contains(name), "{name}: {body}");
    }
    for (i, name) in [
        (1, "Castle Point and Rochford Community Safety Partnership"),
        (
            2,
            "Joint Castle Point and Rochford Local Strategic Partnership",
        ),
    ] {
        let heading = format!(
            "{i} of 2: Partnership Self-Assessment 2026: {name} – please return by 29 January 2027"
        );
        assert!(body.contains(&heading), "{heading}: {body}");
    }
    assert!(
        !body.contains("Rochford Health and Wellbeing Board"),
        "no other person's partnership: {body}"
    );

    // Weeks later: HOU07's return (Aisha's) needs correcting, so does LEI06's (Tom's).
    {
        let conn = rusqlite::Connection::open(d.join("ptk.db")).unwrap();
        conn.execute_batch("UPDATE sends SET sent_at = '2026-11-23T10:00:00'")
            .unwrap();
    }
    for f in [
        "HOU07_self-assessment_2026.xlsx",
        "LEI06_self-assessment_2026.xlsx",
    ] {
        let path = repo().join("samples/returns").join(f);
        let out = run(d, &["ingest", path.to_str().unwrap(), "--quiet"]);
        assert_eq!(
            out.status.code(),
            Some(ptk::exit::REJECTED),
            "{}",
            text(&out.stderr)
        );
    }

    // Reminders, drafted first: one draft per person, Helen's with both forms, Aisha's
    // with her reminder (CAB08) and her corrections (HOU07, her own file back).
    let out = mail(d, &["chase"], &["--outbox", "out", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("12 letters go as 10 emails")
            && said.contains("Dry run: 10 message(s) would be drafted"),
        "{said}"
    );
    let out = mail(d, &["chase"], &["--outbox", "out"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("HOU07: the corrections letter for Aisha Begum goes in the same email"),
        "{said}"
    );
    // 11 reminders (not HOU07's or LEI06's, whose returns need correcting) and
    // Aisha's corrections letter: 12 letters, 10 emails. Tom gets nothing from a chase.
    assert!(said.contains("12 letters go as 10 emails"), "{said}");
    let drafts = d.join("mail-outbox");
    assert_eq!(emls(&drafts), 10);
    let got = read_by_python(&drafts);
    assert_eq!(
        got[HELEN],
        [[
            "CSP02_self-assessment_2026.xlsx",
            "LSP01_self-assessment_2026.xlsx"
        ]]
    );
    assert_eq!(
        got[AISHA],
        [[
            "CAB08_self-assessment_2026.xlsx",
            "HOU07_self-assessment_2026.xlsx"
        ]]
    );
    assert!(!got.contains_key(TOM), "{got:?}");
    let (subject, body) = body_to(&drafts, AISHA);
    assert_eq!(
        subject,
        "Partnership review 2026: a reminder and a return to correct (CAB08, HOU07)"
    );
    assert!(
        body.contains("We have not yet received your completed form for Citizens Advice"),
        "{body}"
    );
    assert!(
        body.contains("- Sheet 'Assessment', cell C10: Question 1.2"),
        "{body}"
    );
    assert_eq!(body.matches("Dear Aisha Begum,").count(), 1, "{body}");
    let hou07 =
        std::fs::read(repo().join("samples/returns/HOU07_self-assessment_2026.xlsx")).unwrap();
    let raw = std::fs::read_dir(&drafts)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .find(|raw| {
            let m = mail_parser::MessageParser::default().parse(raw).unwrap();
            m.to().unwrap().first().unwrap().address() == Some(AISHA)
        })
        .unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert!(
        m.attachments().any(|a| a.contents() == hou07.as_slice()),
        "her own file goes back"
    );

    // The same letters drafted again make the same bytes, but for the Date.
    let again = d.join("again");
    let out = mail(
        d,
        &["chase"],
        &[
            "--outbox",
            "out",
            "--resend",
            "--eml-dir",
            again.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let undated = |p: &Path| -> Vec<String> {
        String::from_utf8(std::fs::read(p).unwrap())
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("Date:"))
            .map(str::to_string)
            .collect()
    };
    let mut compared = 0;
    for f in std::fs::read_dir(&drafts).unwrap() {
        let f = f.unwrap().path();
        assert_eq!(
            undated(&f),
            undated(&again.join(f.file_name().unwrap())),
            "{}",
            f.display()
        );
        compared += 1;
    }
    assert_eq!(compared, 10);

    // Sent by SMTP: the same 10, each merged draft moved out of the outbox.
    let out = mail(
        d,
        &["chase"],
        &[&["--outbox", "out"][..], &by_smtp].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("10 sent via smtp"), "{said}");
    assert!(
        said.contains("10 draft(s) of the messages just sent"),
        "{said}"
    );
    assert_eq!(emls(&drafts), 0);
    let received = server.received();
    assert_eq!(received.len(), 21);
    save(&received, &issued, &d.join("chased"));
    let got = read_by_python(&d.join("chased"));
    assert_eq!(got.len(), 10);
    assert_eq!(got[HELEN].len(), 1, "one email to Helen");
    assert_eq!(got[HELEN][0].len(), 2, "with both forms");
    assert_eq!(got[AISHA].len(), 1, "one email to Aisha");
    assert_eq!(got[AISHA][0].len(), 2, "with her form and her file");

    // A second chase the same day sends nothing.
    let out = mail(
        d,
        &["chase"],
        &[&["--outbox", "out"][..], &by_smtp].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 sent via smtp"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(server.received().len(), 21);

    // TOU11 sends last year's form today: Rebecca, already reminded today, is owed a
    // corrections letter; it waits for tomorrow. Aisha's went with her reminder. Tom,
    // not written to today, gets his.
    let path = repo().join("samples/returns/TOU11_self-assessment_2025.xlsx");
    let out = run(d, &["ingest", path.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let out = mail(
        d,
        &["corrections"],
        &[&["--outbox", "out"][..], &by_smtp].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        said.lines().any(|l| l.starts_with("TOU11")
            && l.contains("held back: rebecca.shaw@rochford.gov.uk was already written to today (a reminder for TOU11, sent at")
            && l.contains(&format!("on or after {tomorrow}"))),
        "{said}"
    );
    assert!(
        said.contains(&format!("1 held back until {tomorrow}")),
        "{said}"
    );
    assert!(said.contains("1 sent via smtp"), "{said}");
    let before = received;
    let received = server.received();
    assert_eq!(received.len(), 22);
    save(&received, &before, &d.join("corrected"));
    let got = read_by_python(&d.join("corrected"));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        [TOM],
        "only Tom: Aisha's corrections went with her reminder, Rebecca's waits"
    );
    assert!(!got.contains_key(REBECCA));
    // And once more the same day: nothing at all.
    let out = mail(
        d,
        &["corrections"],
        &[&["--outbox", "out"][..], &by_smtp].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 sent via smtp"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(server.received().len(), 22);
}

#[test]
fn letters_copied_to_different_assistant_directors_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register(d);
    // CSP02 (Helen's too, here) has another Assistant Director than LSP01.
    let path = d.join("register.csv");
    let csv = std::fs::read_to_string(&path).unwrap().replace(
        "Helen Marsh,Helen.Marsh@Rochford.gov.uk,Angela Hutchings,angela.hutchings@rochford.gov.uk",
        "Helen Marsh,Helen.Marsh@Rochford.gov.uk,Marcus Hill,marcus.hill@rochford.gov.uk",
    );
    assert!(csv.contains("marcus.hill@rochford.gov.uk,"));
    std::fs::write(&path, csv).unwrap();
    issue_forms(d);
    let out = mail(
        d,
        &["issue", "out", "--template", "self-assessment"],
        &["--cc-ad"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Aisha's two (both Angela Hutchings's) are merged; Helen's two are not.
    assert!(
        text(&out.stdout).contains("13 letters go as 12 emails"),
        "{}",
        text(&out.stdout)
    );
    let mut helen = Vec::new();
    for f in std::fs::read_dir(d.join("mail-outbox")).unwrap() {
        let raw = std::fs::read(f.unwrap().path()).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = m.to().unwrap().first().unwrap().address().unwrap();
        if !to.eq_ignore_ascii_case(HELEN) {
            continue;
        }
        let cc = m
            .cc()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        let names: Vec<String> = m
            .attachments()
            .map(|a| a.attachment_name().unwrap().to_string())
            .collect();
        helen.push((cc, names));
    }
    helen.sort();
    assert_eq!(
        helen,
        [
            (
                "angela.hutchings@rochford.gov.uk".to_string(),
                vec!["LSP01_self-assessment_2026.xlsx".to_string()]
            ),
            (
                "marcus.hill@rochford.gov.uk".to_string(),
                vec!["CSP02_self-assessment_2026.xlsx".to_string()]
            ),
        ]
    );
}
