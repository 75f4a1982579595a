//! `ptk ingest` on every container a return can come in, and on hostile ones: files
//! built here from real returns with one claim forged, real encrypted files from other
//! projects' test suites (tests/fixtures/foreign), and Outlook .msg files written by an
//! independent writer (aspose-email-foss).

mod common;

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

fn foreign(name: &str) -> PathBuf {
    repo().join("tests/fixtures/foreign").join(name)
}

fn sample(name: &str) -> PathBuf {
    repo().join("samples/returns").join(name)
}

/// Runs `ptk ingest` on `inputs` with the shipped templates and register. Under
/// `prlimit --as` when `mem_mb` is given: a file that makes a reader reserve gigabytes
/// then aborts the process, so the run only succeeds if the guards stop it first.
fn ingest(dir: &Path, inputs: &[&Path], mem_mb: Option<u64>) -> std::process::Output {
    let mut cmd = match mem_mb {
        Some(mb) => {
            let mut c = std::process::Command::new("prlimit");
            c.arg(format!("--as={}", mb * 1024 * 1024))
                .arg("--")
                .arg(env!("CARGO_BIN_EXE_ptk"));
            c
        }
        None => std::process::Command::new(env!("CARGO_BIN_EXE_ptk")),
    };
    cmd.arg("ingest")
        .args(inputs)
        .args(["--year", "2026", "--quiet", "--templates"])
        .arg(repo().join("templates"))
        .arg("--register")
        .arg(repo().join("samples/register.csv"))
        .arg("--store")
        .arg(dir.join("ptk.db"))
        .current_dir(dir)
        .output()
        .expect("ptk runs")
}

/// One row of ingest-report.csv.
#[derive(Debug)]
struct Row {
    status: String,
    partnership: String,
    message: String,
    email: String,
}

/// ingest-report.csv by the path's last component (an attachment: after the last '/').
fn report(dir: &Path) -> BTreeMap<String, Row> {
    let mut r = csv::Reader::from_path(dir.join("ingest-report.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let name = rec[0].rsplit('/').next().unwrap().to_string();
            let row = Row {
                status: rec[2].to_string(),
                partnership: rec[3].to_string(),
                message: rec[9].to_string(),
                email: rec.get(10).unwrap_or("").to_string(),
            };
            (name, row)
        })
        .collect()
}

/// findings.csv as file name → (code, message) of its first finding.
fn findings(dir: &Path) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let mut r = csv::Reader::from_path(dir.join("findings.csv")).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let name = rec[0].rsplit('/').next().unwrap().to_string();
        out.entry(name)
            .or_insert((rec[6].to_string(), rec[7].to_string()));
    }
    out
}

/// A copy of a zip with each part passed through `edit` (name, bytes) → Some(new bytes),
/// or None to leave the part out.
fn rezip(src: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut part = zin.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        let method = part.compression();
        if let Some(data) = edit(&name, data) {
            let opts = zip::write::SimpleFileOptions::default().compression_method(method);
            out.start_file(name, opts).unwrap();
            out.write_all(&data).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

fn u32_at(b: &[u8], i: usize) -> usize {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as usize
}

/// Sets entry `id` of a compound file's allocation table (its first FAT sector).
fn set_fat(file: &mut [u8], id: usize, next: u32) {
    let sector = 1usize << file[30];
    let at = (u32_at(file, 76) + 1) * sector + 4 * id;
    file[at..at + 4].copy_from_slice(&next.to_le_bytes());
}

/// The three shapes issue #10 found, each built from a real return with one claim forged.
fn hostile_files(dir: &Path) {
    // A shared-strings table claiming a hundred trillion strings.
    let sst = rezip(&sample("CSP02_self-assessment_2026.xlsx"), |name, data| {
        if name != "xl/sharedStrings.xml" {
            return Some(data);
        }
        let text = String::from_utf8(data).unwrap();
        let at = text.find("uniqueCount=\"").expect("uniqueCount") + 13;
        let end = at + text[at..].find('"').unwrap();
        Some(format!("{}100000000000000{}", &text[..at], &text[end..]).into_bytes())
    });
    std::fs::write(dir.join("claims-strings.xlsx"), sst).unwrap();

    // An .xls whose first sheet's DIMENSIONS record says its last row is 2^32 - 1.
    let mut xls = std::fs::read(repo().join("tests/fixtures/savers/libreoffice.xls")).unwrap();
    let dims = xls
        .windows(4)
        .position(|w| w == [0x00, 0x02, 0x0E, 0x00])
        .expect("a DIMENSIONS record");
    xls[dims + 8..dims + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(dir.join("claims-rows.xls"), xls).unwrap();

    // An .xls whose directory's sector chain points back to itself.
    let mut xls = std::fs::read(repo().join("tests/fixtures/savers/libreoffice.xls")).unwrap();
    let dir_start = u32_at(&xls, 48);
    set_fat(&mut xls, dir_start, dir_start as u32);
    std::fs::write(dir.join("looping-chain.xls"), xls).unwrap();
}

#[test]
fn forged_claims_and_looping_chains_end_as_findings_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    hostile_files(&inbox);
    for good in [
        "CSP02_self-assessment_2026.xlsx",
        "SEP04_self-assessment_2026.xls",
    ] {
        std::fs::copy(sample(good), inbox.join(good)).unwrap();
    }
    let started = Instant::now();
    // 1 GB of address space: each forged file made calamine ask for far more.
    let out = ingest(dir.path(), &[&inbox], Some(1024));
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let rows = report(dir.path());
    let codes = findings(dir.path());
    assert_eq!(rows.len(), 5, "{rows:?}");
    for good in [
        "CSP02_self-assessment_2026.xlsx",
        "SEP04_self-assessment_2026.xls",
    ] {
        assert_eq!(rows[good].status, "accepted", "{good}: {:?}", rows[good]);
    }
    for (file, code, says) in [
        (
            "claims-strings.xlsx",
            "too-large",
            "100000000000000 different texts",
        ),
        ("claims-rows.xls", "too-large", "a sheet says it holds"),
        ("looping-chain.xls", "unreadable", "loop back on themselves"),
    ] {
        assert_eq!(rows[file].status, "rejected", "{file}");
        assert_eq!(codes[file].0, code, "{file}: {:?}", codes[file]);
        assert!(codes[file].1.contains(says), "{file}: {}", codes[file].1);
    }
}

#[test]
fn password_protected_xls_ods_and_xlsb_are_reported_encrypted() {
    // XOR and RC4 .xls (Apache POI's test files), an .ods and an .xlsb with a password
    // (calamine's test files).
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "xor-encryption-abc.xls",
        "password.xls",
        "pass_protected.ods",
        "pass_protected.xlsb",
    ];
    let paths: Vec<PathBuf> = files.iter().map(|f| foreign(f)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let out = ingest(dir.path(), &refs, None);
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let codes = findings(dir.path());
    for f in files {
        assert_eq!(codes[f].0, "encrypted", "{f}: {:?}", codes[f]);
        assert!(codes[f].1.contains("password-protected"), "{f}");
    }
}

#[test]
fn xlsb_files_are_read_not_skipped() {
    // A foreign .xlsb (Excel's binary format) is opened and its sheets looked at: it is
    // rejected for having no _ptk sheet, not skipped as "not a workbook". Apache POI's
    // Simple.xlsb made calamine panic (found in the corpus run): it is refused first,
    // saying what is wrong rather than that the reader failed.
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(
        dir.path(),
        &[&foreign("issues.xlsb"), &foreign("Simple.xlsb")],
        None,
    );
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let rows = report(dir.path());
    let codes = findings(dir.path());
    assert_eq!(rows["issues.xlsb"].status, "rejected");
    assert_eq!(codes["issues.xlsb"].0, "not-ptk");
    assert_eq!(rows["Simple.xlsb"].status, "rejected");
    assert_eq!(codes["Simple.xlsb"].0, "unreadable");
    assert!(
        codes["Simple.xlsb"].1.contains("list of sheets is damaged"),
        "{}",
        codes["Simple.xlsb"].1
    );
}

#[test]
fn an_ods_without_its_mimetype_entry_is_read_as_ods() {
    let dir = tempfile::tempdir().unwrap();
    let ods = rezip(
        &repo().join("tests/fixtures/savers/libreoffice.ods"),
        |name, data| (name != "mimetype").then_some(data),
    );
    let path = dir.path().join("no-mimetype.ods");
    std::fs::write(&path, ods).unwrap();
    let out = ingest(dir.path(), &[&path], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = report(dir.path());
    assert_eq!(rows["no-mimetype.ods"].status, "accepted");
    assert_eq!(rows["no-mimetype.ods"].partnership, "WST05");

    // Without its content either, the message is about an OpenDocument file, not an
    // xlsx's missing parts.
    let dir = tempfile::tempdir().unwrap();
    let ods = rezip(
        &repo().join("tests/fixtures/savers/libreoffice.ods"),
        |name, data| (name != "mimetype" && name != "content.xml").then_some(data),
    );
    let path = dir.path().join("no-content.ods");
    std::fs::write(&path, ods).unwrap();
    let out = ingest(dir.path(), &[&path], None);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let (code, message) = &findings(dir.path())["no-content.ods"];
    assert_eq!(code, "unreadable");
    assert!(
        message.contains("OpenDocument file without its content part")
            && !message.contains("_rels"),
        "{message}"
    );
}

/// Writes Outlook .msg files with aspose-email-foss (from email.message objects, as
/// Outlook would store a received reply), then checks them with extract-msg.
const WRITE_MSG: &str = r#"
import sys
from email.message import EmailMessage
from aspose.email_foss.msg import MapiMessage
import extract_msg

out, wst05, csp02, cvs10, env14 = sys.argv[1:6]
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

def reply(sender, subject, date, name, path):
    m = EmailMessage()
    m["From"], m["To"] = sender, "partnerships@rochford.gov.uk"
    m["Subject"], m["Date"] = subject, date
    m.set_content("Please find our return attached.")
    m.add_attachment(open(path, "rb").read(), maintype=XLSX[0], subtype=XLSX[1], filename=name)
    return m

# A reply with the return attached, dragged out of the inbox.
r = reply("Sarah Bentley <sarah.bentley@rochford.gov.uk>", "RE: WST05 self-assessment",
          "Fri, 04 Dec 2026 09:30:00 +0000", "WST05 return.xlsx", wst05)
MapiMessage.from_email_message(r).save(out + "/reply.msg")

# A colleague forwards a partnership's reply: the return is inside the attached message.
inner = reply("Amy Price <amy.price@castlepoint.gov.uk>", "RE: CSP02 self-assessment",
              "Mon, 07 Dec 2026 14:00:00 +0000", "CSP02 return.xlsx", csp02)
fwd = EmailMessage()
fwd["From"], fwd["To"] = "Tom Fletcher <tom.fletcher@rochford.gov.uk>", "partnerships@rochford.gov.uk"
fwd["Subject"], fwd["Date"] = "FW: CSP02 self-assessment", "Tue, 08 Dec 2026 08:15:00 +0000"
fwd.set_content("Forwarding the CSP02 return, sent to me by mistake.")
fwd.add_attachment(inner)
fwd.add_attachment(b"not a workbook", maintype="text", subtype="plain", filename="notes.txt")
MapiMessage.from_email_message(fwd).save(out + "/forwarded.msg")

# A reply forwarded, and that forward forwarded again: three messages, one inside the other.
l3 = reply("Partner <partner@cvs.org.uk>", "CVS10 return", "Mon, 07 Dec 2026 11:00:00 +0000",
           "CVS10 return.xlsx", cvs10)
def forward(sender, subject, date, inner):
    m = EmailMessage()
    m["From"], m["To"] = sender, "partnerships@rochford.gov.uk"
    m["Subject"], m["Date"] = subject, date
    m.set_content("Forwarding.")
    m.add_attachment(inner)
    return m
l2 = forward("Ann Lee <ann.lee@rochford.gov.uk>", "FW: CVS10 return", "Tue, 08 Dec 2026 09:00:00 +0000", l3)
l1 = forward("Bob Marsh <bob.marsh@rochford.gov.uk>", "FW: FW: CVS10 return", "Wed, 09 Dec 2026 10:00:00 +0000", l2)
MapiMessage.from_email_message(l1).save(out + "/forwarded-twice.msg")

# A reply saved as .eml, attached as a file to an Outlook message.
eml = reply("Lee Shaw <lee.shaw@environment.org.uk>", "ENV14 return", "Thu, 10 Dec 2026 12:00:00 +0000",
            "ENV14 return.xlsx", env14)
carrier = EmailMessage()
carrier["From"], carrier["To"] = "Cat Ng <cat.ng@rochford.gov.uk>", "partnerships@rochford.gov.uk"
carrier["Subject"], carrier["Date"] = "FW: ENV14", "Fri, 11 Dec 2026 09:00:00 +0000"
carrier.set_content("The reply, saved from another mail program.")
carrier.add_attachment(bytes(eml), maintype="application", subtype="octet-stream", filename="reply.eml")
MapiMessage.from_email_message(carrier).save(out + "/eml-in-msg.msg")

# The independent reader sees what ptk should see.
m = extract_msg.openMsg(out + "/reply.msg")
assert m.subject == "RE: WST05 self-assessment", m.subject
assert [a.longFilename for a in m.attachments] == ["WST05 return.xlsx"]
assert m.attachments[0].data == open(wst05, "rb").read()
f = extract_msg.openMsg(out + "/forwarded.msg")
emb = [a for a in f.attachments if a.type == extract_msg.enums.AttachmentType.MSG]
assert len(emb) == 1, f.attachments
inner = emb[0].data
assert inner.subject == "RE: CSP02 self-assessment", inner.subject
assert [a.longFilename for a in inner.attachments] == ["CSP02 return.xlsx"]
d = extract_msg.openMsg(out + "/forwarded-twice.msg").attachments[0].data
assert d.subject == "FW: CVS10 return", d.subject
d = d.attachments[0].data
assert d.subject == "CVS10 return" and [a.longFilename for a in d.attachments] == ["CVS10 return.xlsx"]
c = extract_msg.openMsg(out + "/eml-in-msg.msg")
assert [(a.type, a.longFilename) for a in c.attachments] == [(extract_msg.enums.AttachmentType.DATA, "reply.eml")], c.attachments
print("ok")
"#;

#[test]
fn outlook_msg_files_ingest_like_eml_including_forwarded_replies() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let said = run_python(
        dir.path(),
        WRITE_MSG,
        &[
            inbox.to_str().unwrap(),
            sample("WST05 return.xlsx").to_str().unwrap(),
            sample("CSP02_self-assessment_2026.xlsx").to_str().unwrap(),
            sample("CVS10_self-assessment_2026.xlsx").to_str().unwrap(),
            sample("ENV14_exit_2026.xlsx").to_str().unwrap(),
        ],
    );
    assert_eq!(said.trim(), "ok");
    // A damaged .msg (its directory chain loops) is named and rejected, like a damaged
    // workbook (issue #18); the run goes on.
    let mut bad = std::fs::read(inbox.join("reply.msg")).unwrap();
    let dir_start = u32_at(&bad, 48);
    set_fat(&mut bad, dir_start, dir_start as u32);
    std::fs::write(inbox.join("damaged.msg"), bad).unwrap();

    let out = ingest(dir.path(), &[&inbox], Some(1024));
    let rows = report(dir.path());
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{rows:?} {}",
        text(&out.stderr)
    );
    assert_eq!(rows.len(), 5, "{rows:?}");
    let wst = &rows["WST05 return.xlsx"];
    assert_eq!(
        (wst.status.as_str(), wst.partnership.as_str()),
        ("accepted", "WST05")
    );
    assert!(
        wst.email
            .contains("From: Sarah Bentley <sarah.bentley@rochford.gov.uk>")
            && wst.email.contains("Date: 2026-12-04T09:30:00")
            && wst.email.contains("Subject: RE: WST05 self-assessment"),
        "{}",
        wst.email
    );
    let csp = &rows["CSP02 return.xlsx"];
    assert_eq!(
        (csp.status.as_str(), csp.partnership.as_str()),
        ("accepted", "CSP02")
    );
    // Named by the message it arrived in (the forward, as the officer filed it), then
    // by the message forwarded inside it, as for an .eml.
    assert!(
        csp.email
            .starts_with("From: Tom Fletcher <tom.fletcher@rochford.gov.uk>")
            && csp.email.contains("Subject: FW: CSP02 self-assessment")
            && csp
                .email
                .contains("; forwarding From: Amy Price <amy.price@castlepoint.gov.uk>")
            && csp.email.ends_with("Subject: RE: CSP02 self-assessment"),
        "{}",
        csp.email
    );
    // Each level of a forward of a forward, outermost first.
    let cvs = &rows["CVS10 return.xlsx"];
    assert_eq!(
        (cvs.status.as_str(), cvs.partnership.as_str()),
        ("accepted", "CVS10")
    );
    let levels: Vec<usize> = [
        "From: Bob Marsh <bob.marsh@rochford.gov.uk>; Date: 2026-12-09T10:00:00",
        "Subject: FW: FW: CVS10 return",
        "forwarding From: Ann Lee <ann.lee@rochford.gov.uk>",
        "Subject: FW: CVS10 return",
        "forwarding From: Partner <partner@cvs.org.uk>",
        "Subject: CVS10 return",
    ]
    .iter()
    .map(|part| {
        cvs.email
            .find(part)
            .unwrap_or_else(|| panic!("{part:?} not in {}", cvs.email))
    })
    .collect();
    assert!(levels.windows(2).all(|w| w[0] < w[1]), "{}", cvs.email);
    // An .eml attached as a file to an Outlook message is opened like an attached message.
    let env = &rows["ENV14 return.xlsx"];
    assert_eq!(
        (env.status.as_str(), env.partnership.as_str()),
        ("accepted", "ENV14")
    );
    assert!(
        env.email.starts_with("From: Cat Ng <cat.ng@rochford.gov.uk>")
            && env.email.contains(
                "; forwarding From: Lee Shaw <lee.shaw@environment.org.uk>; Date: 2026-12-10T12:00:00"
            ),
        "{}",
        env.email
    );
    let damaged = &rows["damaged.msg"];
    assert_eq!(damaged.status, "rejected");
    assert!(
        damaged.message.contains("not a readable Outlook message"),
        "{}",
        damaged.message
    );
}

/// Rewrites a filled return as other writers shape an xlsx (issue #18), and prints the
/// return's scores as worked out here from its answers (read with openpyxl, the points
/// from the template's option labels): `section,percent` lines, then `overall,percent`.
const OTHER_WRITERS: &str = r#"
import re, sys, tomllib, zipfile
import openpyxl
src, out, template = sys.argv[1], sys.argv[2], sys.argv[3]

def rewrite(dst, edit, add=()):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for item in zin.infolist():
            data = edit(item.filename, zin.read(item.filename))
            if data is not None:
                z.writestr(item.filename, data)
        for name, data in add:
            z.writestr(name, data)

def no_rids(name, data):
    if name == "xl/workbook.xml":
        data, n = re.subn(rb' r:id="[^"]*"', b"", data)
        assert n == 3, n
    return data

# Sheets listed without relationship ids; then without the relationships part either.
rewrite(out + "/no-rids.xlsx", no_rids)
rewrite(out + "/no-rels.xlsx",
        lambda n, d: None if n == "xl/_rels/workbook.xml.rels" else no_rids(n, d))
# ...and without the sheets' content: damaged.
rewrite(out + "/no-sheets.xlsx",
        lambda n, d: None if n.startswith("xl/worksheets/") else no_rids(n, d))

# Every part calamine reads written as UTF-16, in both byte orders, with and without a
# byte-order mark, declared as UTF-16.
def utf16(name, data, broken=False):
    if not (name.endswith(".xml") or name.endswith(".rels")) or name.startswith("docProps/") \
            or name == "[Content_Types].xml":
        return data
    text = data.decode("utf-8")
    if text.startswith("<?xml"):
        text = re.sub(r'encoding="[^"]*"', 'encoding="UTF-16"', text, count=1)
    else:
        text = '<?xml version="1.0" encoding="UTF-16" standalone="yes"?>\n' + text
    if name.startswith("xl/worksheets/"):
        data = b"\xfe\xff" + text.encode("utf-16-be")
    elif name == "xl/styles.xml":
        data = text.encode("utf-16-le")
    else:
        data = b"\xff\xfe" + text.encode("utf-16-le")
    if broken and name == "xl/worksheets/sheet2.xml":
        data = data[:-3]  # half a character short
    return data
rewrite(out + "/utf16.xlsx", utf16)
rewrite(out + "/utf16-cut.xlsx", lambda n, d: utf16(n, d, broken=True))

# An Excel 4.0 macro sheet, hidden, first in the list.
MACRO = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData><row r="1">'
         b'<c r="A1" t="str"><f>HALT()</f><v>TRUE</v></c></row></sheetData></xm:macrosheet>')
def macro(name, data):
    if name == "xl/workbook.xml":
        data = data.replace(b"<sheets>", b'<sheets><sheet name="Macro1" sheetId="9" state="hidden" r:id="rIdM1" />')
    if name == "xl/_rels/workbook.xml.rels":
        data = data.replace(b"</Relationships>", b'<Relationship Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml" Id="rIdM1" /></Relationships>')
    if name == "[Content_Types].xml":
        data = data.replace(b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>')
    return data
rewrite(out + "/macro.xlsm", macro, [("xl/macrosheets/sheet1.xml", MACRO)])
whole = open(out + "/macro.xlsm", "rb").read()
open(out + "/macro-cut.xlsm", "wb").write(whole[: len(whole) * 2 // 3])

# The scores, from the original's answers: per section 100 x points / (most points x
# statements answered with a scored option); overall the sections weighted.
t = tomllib.load(open(template, "rb"))
wb = openpyxl.load_workbook(src)
def answer(qid):
    sheet, cell = next(iter(wb.defined_names["ptk_" + qid].destinations))
    return wb[sheet][cell.replace("$", "")].value
weighted = weights = 0.0
for s in t["sections"]:
    got = top = 0.0
    for q in s.get("questions", []):
        options = t["option_sets"][q["options_from"]] if "options_from" in q else q.get("options", [])
        points = {o["label"]: o["points"] for o in options if "points" in o}
        a = answer(q["id"]) if points else None
        if a is not None and str(a).strip() in points:
            got += points[str(a).strip()]
            top += max(points.values())
    if top:
        pct = 100 * got / top
        print(f"{s['id']},{pct!r}")
        weighted += s.get("weight", 1) * pct
        weights += s.get("weight", 1)
print(f"overall,{weighted / weights!r}")
"#;

/// `ptk history export` of the store in `dir`: (partnership, section) → percent.
fn exported_scores(dir: &Path) -> BTreeMap<(String, String), f64> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ptk"))
        .args(["history", "export", "--store"])
        .arg(dir.join("ptk.db"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut r = csv::Reader::from_reader(&out.stdout[..]);
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                (rec[1].to_string(), rec[2].to_string()),
                rec[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn returns_shaped_by_other_writers_are_read_with_the_same_answers_and_damage_is_still_damage() {
    let dir = tempfile::tempdir().unwrap();
    let built = dir.path().join("built");
    std::fs::create_dir(&built).unwrap();
    let original = sample("CVS10_self-assessment_2026.xlsx");
    let said = run_python(
        dir.path(),
        OTHER_WRITERS,
        &[
            original.to_str().unwrap(),
            built.to_str().unwrap(),
            repo()
                .join("templates/self-assessment.toml")
                .to_str()
                .unwrap(),
        ],
    );
    let expected: BTreeMap<(String, String), f64> = said
        .lines()
        .map(|l| {
            let (section, pct) = l.split_once(',').unwrap();
            (
                ("CVS10".to_string(), section.to_string()),
                pct.parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 5, "{said}");
    let overall = expected[&("CVS10".into(), "overall".into())];

    // Each shape on its own (the same partnership's return: one per store).
    for name in ["no-rids.xlsx", "no-rels.xlsx", "utf16.xlsx", "macro.xlsm"] {
        let run = dir.path().join(name.replace('.', "-"));
        std::fs::create_dir(&run).unwrap();
        let out = ingest(&run, &[&built.join(name)], None);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let row = &report(&run)[name];
        assert_eq!(
            (row.status.as_str(), row.partnership.as_str()),
            ("accepted", "CVS10"),
            "{name}: {row:?}"
        );
        let scored = format!("CVS10 scored {overall:.1}%");
        assert!(row.message.starts_with(&scored), "{name}: {}", row.message);
        let got = exported_scores(&run);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (key, want) in &expected {
            assert!(
                (got[key] - want).abs() < 1e-9,
                "{name} {key:?}: {} not {want}",
                got[key]
            );
        }
    }

    // Truly damaged files still say so.
    let damaged = ["no-sheets.xlsx", "utf16-cut.xlsx", "macro-cut.xlsm"];
    let paths: Vec<PathBuf> = damaged.iter().map(|n| built.join(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let out = ingest(dir.path(), &refs, None);
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let rows = report(dir.path());
    let codes = findings(dir.path());
    for (name, detail) in [
        (
            "no-sheets.xlsx",
            "it lists a sheet '_ptk' whose content is not in the file",
        ),
        (
            "utf16-cut.xlsx",
            "xl/worksheets/sheet2.xml is marked as UTF-16 text but is not valid UTF-16",
        ),
        ("macro-cut.xlsm", "Zip"),
    ] {
        assert_eq!(rows[name].status, "rejected", "{name}");
        assert_eq!(codes[name].0, "unreadable", "{name}");
        let m = &rows[name].message;
        assert!(
            m.starts_with("the file is damaged or cut short") && m.contains(detail),
            "{name}: {m}"
        );
    }
}

#[test]
fn excel_2_to_4_worksheets_are_named_as_such_not_called_damaged() {
    // A worksheet saved by Excel 2.0/3.0/4.0 (before 1993): its first record is a BOF
    // record, not a compound file. ptk cannot read it, and must say so plainly rather
    // than suggest the file is damaged.
    let dir = tempfile::tempdir().unwrap();
    let record = |kind: u16, data: &[u8]| {
        let mut r = kind.to_le_bytes().to_vec();
        r.extend_from_slice(&(data.len() as u16).to_le_bytes());
        r.extend_from_slice(data);
        r
    };
    let mut files = Vec::new();
    for (bof, data, version) in [
        (0x0009u16, &[0x02u8, 0, 0x10, 0][..], "Excel 2.0"),
        (0x0209, &[0, 0, 0x10, 0, 0, 0][..], "Excel 3.0"),
        (0x0409, &[0, 0, 0x10, 0, 0, 0][..], "Excel 4.0"),
    ] {
        let mut bytes = record(bof, data);
        bytes.extend(record(0x000A, &[]));
        let path = dir
            .path()
            .join(format!("{}.xls", version.replace(' ', "_")));
        std::fs::write(&path, bytes).unwrap();
        files.push((path, version));
    }
    let inputs: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    let out = ingest(dir.path(), &inputs, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let found = findings(dir.path());
    for (path, version) in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (code, message) = &found[name];
        assert_eq!(code, "unreadable", "{name}");
        assert!(
            message.contains(&format!("{version} worksheet")) && message.contains("not damaged"),
            "{name}: {message}"
        );
        assert!(
            message.contains("save it as an Excel Workbook (.xlsx)"),
            "{message}"
        );
    }
}
