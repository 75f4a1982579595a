//! Outlook `.msg` files ([MS-OXMSG]): what Outlook for Windows saves when a reply is
//! dragged out of the inbox or saved with "Save As". Pure: the file's bytes in; the
//! message's sender, date and subject and its workbook attachments out, including those
//! of a message attached inside it (a forwarded reply).
//!
//! A .msg is a compound file. Its properties are streams named `__substg1.0_<id><type>`
//! (strings, binary) plus fixed-size values in `__properties_version1.0`; each
//! attachment is a storage `__attach_version1.0_#<n>` holding the file's bytes
//! (`3701` binary) or, for an attached message, a storage `__substg1.0_3701000D` laid out
//! like the message itself.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::envelope::{Envelope, Received, MAX_DEPTH};
use super::input::WORKBOOK_EXTENSIONS;

/// The `.eml` reader, for an `.eml` attached to a .msg. It is passed in by
/// [`super::email`] (which in turn reads a .msg attached to an `.eml` with this module),
/// so that the two readers do not import each other.
pub type ReadEml = fn(&[u8], usize) -> Option<Received>;

type File<'a> = cfb::CompoundFile<Cursor<&'a [u8]>>;

/// Reads a .msg file. `Err` says, in plain words, why it is not a readable message.
pub fn parse(bytes: &[u8], eml: ReadEml) -> Result<Received, String> {
    parse_at(bytes, 0, eml)
}

/// Reads a .msg file found `depth` messages deep (attached to another message), so
/// that messages inside messages of either format stop at [`MAX_DEPTH`] levels.
pub(super) fn parse_at(bytes: &[u8], depth: usize, eml: ReadEml) -> Result<Received, String> {
    // The sector chains are checked first (a looping chain would make any reader run
    // for ever); then the `cfb` crate walks the storages.
    crate::read::compound::Compound::open(bytes)
        .map_err(|why| format!("it is not a readable Outlook message: {why}"))?;
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| format!("it is not a readable Outlook message: {e}"))?;
    let root = PathBuf::from("/");
    if !file.is_stream(root.join("__properties_version1.0")) {
        return Err("it is a compound file but not an Outlook message".into());
    }
    let mut received = Received {
        envelope: envelope(&mut file, &root, 32),
        ..Received::default()
    };
    attachments(&mut file, &root, 32, depth, eml, &mut received);
    Ok(received)
}

fn read_stream(file: &mut File<'_>, path: &Path) -> Option<Vec<u8>> {
    let mut s = file.open_stream(path).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(out)
}

/// A string property of the object at `dir`: Unicode (`001F`) or 8-bit (`001E`, in the
/// message's code page `enc`).
fn string(file: &mut File<'_>, dir: &Path, id: u16, enc: Enc) -> Option<String> {
    if let Some(b) = read_stream(file, &dir.join(format!("__substg1.0_{id:04X}001F"))) {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|u| u16::from_le_bytes([u[0], u[1]]))
            .collect();
        let s = String::from_utf16_lossy(&units);
        return Some(s.trim_end_matches('\0').to_string());
    }
    let b = read_stream(file, &dir.join(format!("__substg1.0_{id:04X}001E")))?;
    Some(enc.decode(&b).0.trim_end_matches('\0').to_string())
}

type Enc = &'static encoding_rs::Encoding;

/// The code page of a message's 8-bit strings: PidTagMessageCodepage, else
/// PidTagInternetCodepage, else Windows-1252 (what Outlook uses in Western Europe).
fn code_page(props: &[(u16, u16, [u8; 8])]) -> Enc {
    [0x3FFDu16, 0x3FDE]
        .iter()
        .find_map(|id| {
            let (_, _, v) = props
                .iter()
                .find(|(p, kind, _)| p == id && *kind == 0x0003)?;
            codepage::to_encoding(u16::try_from(u32::from_le_bytes([v[0], v[1], v[2], v[3]])).ok()?)
        })
        .unwrap_or(encoding_rs::WINDOWS_1252)
}

/// The fixed-size properties of the object at `dir` (its `__properties_version1.0`
/// stream after a header of `header` bytes): (property id, type) → 8-byte value.
fn fixed(file: &mut File<'_>, dir: &Path, header: usize) -> Vec<(u16, u16, [u8; 8])> {
    let Some(b) = read_stream(file, &dir.join("__properties_version1.0")) else {
        return Vec::new();
    };
    b.get(header..)
        .unwrap_or(&[])
        .chunks_exact(16)
        .map(|e| {
            let tag = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
            let mut v = [0u8; 8];
            v.copy_from_slice(&e[8..16]);
            ((tag >> 16) as u16, tag as u16, v)
        })
        .collect()
}

/// From, date and subject, as the .eml reader gives them.
fn envelope(file: &mut File<'_>, dir: &Path, header: usize) -> Envelope {
    let props = fixed(file, dir, header);
    let enc = code_page(&props);
    let name = string(file, dir, 0x0C1A, enc) // PidTagSenderName
        .or_else(|| string(file, dir, 0x0042, enc)) // PidTagSentRepresentingName
        .unwrap_or_default();
    let address = string(file, dir, 0x5D01, enc) // PidTagSenderSmtpAddress
        .or_else(|| string(file, dir, 0x5D02, enc)) // PidTagSentRepresentingSmtpAddress
        .or_else(|| string(file, dir, 0x0C1F, enc).filter(|a| is_smtp(a))) // PidTagSenderEmailAddress
        .or_else(|| string(file, dir, 0x0065, enc).filter(|a| is_smtp(a))) // PidTagSentRepresentingEmailAddress
        .unwrap_or_default();
    let from = match (name.trim(), address.trim()) {
        (n, a) if !n.is_empty() && !a.is_empty() && n != a => format!("{n} <{a}>"),
        ("", a) => a.to_string(),
        (n, _) => n.to_string(),
    };
    // When it was sent, else when it arrived, else the Date: of its internet headers.
    let time = [0x0039u16, 0x0E06]
        .iter()
        .find_map(|id| {
            props
                .iter()
                .find(|(pid, kind, _)| pid == id && *kind == 0x0040)
                .and_then(|(_, _, v)| filetime(u64::from_le_bytes(*v)))
        })
        .map(|d| d.to_rfc3339())
        .or_else(|| {
            let headers = string(file, dir, 0x007D, enc)?; // PidTagTransportMessageHeaders
            mail_parser::MessageParser::default()
                .parse_headers(headers.as_bytes())?
                .date()
                .map(|d| d.to_rfc3339())
        })
        .unwrap_or_default();
    Envelope {
        from,
        date: time,
        subject: string(file, dir, 0x0037, enc).unwrap_or_default(), // PidTagSubject
        forwarded: Vec::new(),
    }
}

/// An SMTP address, not an Exchange one (`/O=ORG/OU=.../CN=...`).
fn is_smtp(a: &str) -> bool {
    a.contains('@') && !a.starts_with('/')
}

/// A FILETIME (100 ns since 1601) as a UTC time; `None` for 0 or out of range.
fn filetime(t: u64) -> Option<DateTime<Utc>> {
    const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;
    if t == 0 {
        return None;
    }
    let since_unix = i64::try_from(t).ok()? - UNIX_EPOCH_AS_FILETIME as i64;
    DateTime::from_timestamp(
        since_unix.div_euclid(10_000_000),
        (since_unix.rem_euclid(10_000_000) * 100) as u32,
    )
}

/// Collects the workbook attachments of the message at `dir` into `out`, in order, and
/// each message attached to it, with its own envelope, into `out.forwarded` (so the
/// report names every level of a forward, as for an .eml). An `.eml` or `.msg` file
/// attached as a file is read as a forwarded message too. `header` is the size of the
/// properties header at `dir`: 32 for a message file, 24 for a message inside one.
fn attachments(
    file: &mut File<'_>,
    dir: &Path,
    header: usize,
    depth: usize,
    eml: ReadEml,
    out: &mut Received,
) {
    let enc = code_page(&fixed(file, dir, header));
    let deeper = depth + 1 < MAX_DEPTH;
    let mut storages: Vec<PathBuf> = match file.read_storage(dir) {
        Ok(entries) => entries
            .filter(|e| e.is_storage() && e.name().starts_with("__attach_version1.0_#"))
            .map(|e| e.path().to_path_buf())
            .collect(),
        Err(_) => return,
    };
    storages.sort();
    for att in storages {
        let embedded = att.join("__substg1.0_3701000D");
        if file.is_storage(&embedded) {
            if deeper {
                let mut inner = Received {
                    envelope: envelope(file, &embedded, 24),
                    ..Received::default()
                };
                attachments(file, &embedded, 24, depth + 1, eml, &mut inner);
                out.forwarded.push(inner);
            }
            continue;
        }
        let Some(name) = string(file, &att, 0x3707, enc) // PidTagAttachLongFilename
            .or_else(|| string(file, &att, 0x3704, enc)) // PidTagAttachFilename
            .or_else(|| string(file, &att, 0x3001, enc))
        // PidTagDisplayName
        else {
            continue;
        };
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        let message = matches!(ext.as_str(), "eml" | "msg");
        if !message && !WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
            continue;
        }
        if message && !deeper {
            continue;
        }
        let Some(data) = read_stream(file, &att.join("__substg1.0_37010102")) else {
            continue;
        };
        match ext.as_str() {
            "eml" => out.forwarded.extend(eml(&data, depth + 1)),
            "msg" => out.forwarded.extend(parse_at(&data, depth + 1, eml).ok()),
            _ => out.workbooks.push((name, data)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// These samples attach no `.eml`; the `.eml` reader is tested in `email`.
    const NO_EML: ReadEml = |_, _| None;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// A properties stream: a header of `header` bytes, then one PT_SYSTIME entry.
    fn props(header: usize, time: Option<(u16, u64)>) -> Vec<u8> {
        let mut b = vec![0u8; header];
        if let Some((id, t)) = time {
            b.extend(((u32::from(id) << 16) | 0x0040).to_le_bytes());
            b.extend(6u32.to_le_bytes());
            b.extend(t.to_le_bytes());
        }
        b
    }

    /// Writes a message laid out as Outlook does, with a workbook, a picture and a
    /// forwarded message that has a workbook of its own.
    fn sample() -> Vec<u8> {
        let mut f = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        let put = |f: &mut cfb::CompoundFile<Cursor<Vec<u8>>>, path: &str, data: &[u8]| {
            f.create_stream(path).unwrap().write_all(data).unwrap();
        };
        // 2026-12-04T09:30:00Z as a FILETIME.
        let t = (1_796_376_600u64 + 11_644_473_600) * 10_000_000;
        put(
            &mut f,
            "/__properties_version1.0",
            &props(32, Some((0x0039, t))),
        );
        put(
            &mut f,
            "/__substg1.0_0037001F",
            &utf16("RE: Partnership self-assessment"),
        );
        put(&mut f, "/__substg1.0_0C1A001F", &utf16("Sarah Bentley"));
        put(
            &mut f,
            "/__substg1.0_5D01001F",
            &utf16("sarah.bentley@example.org"),
        );
        f.create_storage("/__attach_version1.0_#00000000").unwrap();
        put(
            &mut f,
            "/__attach_version1.0_#00000000/__properties_version1.0",
            &props(8, None),
        );
        put(
            &mut f,
            "/__attach_version1.0_#00000000/__substg1.0_3707001F",
            &utf16("WST05 return.xlsx"),
        );
        put(
            &mut f,
            "/__attach_version1.0_#00000000/__substg1.0_37010102",
            b"PK\x03\x04book",
        );
        f.create_storage("/__attach_version1.0_#00000001").unwrap();
        put(
            &mut f,
            "/__attach_version1.0_#00000001/__substg1.0_3707001F",
            &utf16("logo.png"),
        );
        put(
            &mut f,
            "/__attach_version1.0_#00000001/__substg1.0_37010102",
            b"\x89PNG",
        );
        let inner = "/__attach_version1.0_#00000002/__substg1.0_3701000D";
        f.create_storage("/__attach_version1.0_#00000002").unwrap();
        f.create_storage(inner).unwrap();
        put(
            &mut f,
            &format!("{inner}/__properties_version1.0"),
            &props(24, None),
        );
        put(
            &mut f,
            &format!("{inner}/__substg1.0_0037001E"),
            b"HWB03 return",
        );
        let att = format!("{inner}/__attach_version1.0_#00000000");
        f.create_storage(&att).unwrap();
        put(&mut f, &format!("{att}/__substg1.0_3704001E"), b"HWB03.XLS");
        put(
            &mut f,
            &format!("{att}/__substg1.0_37010102"),
            b"\xD0\xCF\x11\xE0",
        );
        f.flush().unwrap();
        f.into_inner().into_inner()
    }

    #[test]
    fn reads_sender_date_subject_and_workbooks_including_forwarded_ones() {
        let m = parse(&sample(), NO_EML).unwrap();
        assert_eq!(m.envelope.from, "Sarah Bentley <sarah.bentley@example.org>");
        assert_eq!(m.envelope.date, "2026-12-04T09:30:00+00:00");
        assert_eq!(m.envelope.subject, "RE: Partnership self-assessment");
        let names: Vec<&str> = m.workbooks.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["WST05 return.xlsx"]);
        assert_eq!(m.workbooks[0].1, b"PK\x03\x04book");
        // The forwarded message keeps its own envelope and workbook.
        assert_eq!(m.forwarded.len(), 1);
        let inner = &m.forwarded[0];
        assert_eq!(inner.envelope.subject, "HWB03 return");
        assert_eq!(inner.workbooks.len(), 1);
        assert_eq!(inner.workbooks[0].0, "HWB03.XLS");
        assert_eq!(inner.workbooks[0].1, b"\xD0\xCF\x11\xE0");
    }

    #[test]
    fn other_files_are_refused_in_plain_words() {
        assert!(parse(b"From: a@b\r\n\r\nhello", NO_EML)
            .unwrap_err()
            .contains("not a readable Outlook message"));
        // A compound file that is not a message (an .xls, say).
        let mut f = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        f.create_stream("/Workbook")
            .unwrap()
            .write_all(b"x")
            .unwrap();
        f.flush().unwrap();
        let xls = f.into_inner().into_inner();
        assert!(parse(&xls, NO_EML)
            .unwrap_err()
            .contains("not an Outlook message"));
    }

    /// 8-bit strings are read in the message's code page (here Cyrillic, 1251).
    #[test]
    fn eight_bit_strings_use_the_message_code_page() {
        let mut f = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        let mut p = vec![0u8; 32];
        p.extend(((0x3FFDu32 << 16) | 0x0003).to_le_bytes());
        p.extend(6u32.to_le_bytes());
        p.extend(1251u64.to_le_bytes());
        f.create_stream("/__properties_version1.0")
            .unwrap()
            .write_all(&p)
            .unwrap();
        f.create_stream("/__substg1.0_0037001E")
            .unwrap()
            .write_all(b"\xcf\xf0\xe8\xe2\xe5\xf2\0")
            .unwrap();
        f.create_stream("/__substg1.0_0C1F001E")
            .unwrap()
            .write_all(b"/O=COUNCIL/OU=EXCHANGE/CN=RECIPIENTS/CN=JSMITH")
            .unwrap();
        f.flush().unwrap();
        let m = parse(&f.into_inner().into_inner(), NO_EML).unwrap();
        assert_eq!(m.envelope.subject, "Привет");
        assert_eq!(
            m.envelope.from, "",
            "an Exchange address is not shown as one"
        );
    }

    #[test]
    fn filetimes_convert() {
        assert_eq!(filetime(0), None);
        assert_eq!(
            filetime(116_444_736_000_000_000).unwrap().to_rfc3339(),
            "1970-01-01T00:00:00+00:00"
        );
        assert_eq!(filetime(u64::MAX), None);
    }
}
