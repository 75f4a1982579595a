//! A check on an .xlsb's sheet list that calamine does not make.
//!
//! calamine looks each sheet of `xl/workbook.bin` up in the workbook's relationships
//! and panics when one is missing or its record is short (found in the corpus run on
//! Apache POI's `Simple.xlsb`, whose writer put four extra bytes in every sheet record).
//! A panic is caught, but the officer would only hear that the reader failed; here the
//! file is refused first, saying what is wrong.

use std::io::{Cursor, Read};

use super::ReadError;

/// BrtBundleSh: one sheet of the workbook (MS-XLSB 2.4.304).
const BUNDLE_SHEET: u16 = 0x009C;
/// BrtEndBundleShs: the end of the sheet list.
const END_BUNDLE_SHEETS: u16 = 0x0090;

/// Checks every sheet record of the unpacked copy against the relationships.
pub(super) fn check_sheet_list(unpacked: &[u8]) -> Result<(), ReadError> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(unpacked)) else {
        return Ok(()); // calamine names the damage
    };
    let part = |zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str| -> Option<Vec<u8>> {
        let mut data = Vec::new();
        zip.by_name(name).ok()?.read_to_end(&mut data).ok()?;
        Some(data)
    };
    let (Some(book), rels) = (
        part(&mut zip, "xl/workbook.bin"),
        part(&mut zip, "xl/_rels/workbook.bin.rels").unwrap_or_default(),
    ) else {
        return Ok(());
    };
    let ids = relationship_ids(&rels);
    let bad = |why: String| {
        ReadError::Corrupt(format!(
            "its list of sheets is damaged ({why}); it may have been written by a program other than Excel"
        ))
    };
    let mut pos = 0;
    while pos < book.len() {
        let (kind, body) = match record(&book, &mut pos) {
            Some(r) => r,
            None => return Ok(()), // a short last record: calamine reports it
        };
        if kind == END_BUNDLE_SHEETS {
            break;
        }
        if kind != BUNDLE_SHEET {
            continue;
        }
        if body.len() < 12 {
            return Err(bad("a sheet record is too short".into()));
        }
        let n = u32::from_le_bytes([body[8], body[9], body[10], body[11]]);
        if n == u32::MAX {
            continue; // a sheet without a part
        }
        let units: Vec<u16> = body
            .get(12..12 + 2 * n as usize)
            .ok_or_else(|| bad("a sheet record is cut short".into()))?
            .chunks_exact(2)
            .map(|u| u16::from_le_bytes([u[0], u[1]]))
            .collect();
        let id = String::from_utf16_lossy(&units);
        if !ids.contains(&id) {
            return Err(bad(format!(
                "a sheet refers to a part '{}' the file does not list",
                crate::output::printable(&id)
            )));
        }
    }
    Ok(())
}

/// One record: its type and body; advances `pos`.
fn record<'a>(b: &'a [u8], pos: &mut usize) -> Option<(u16, &'a [u8])> {
    let mut kind = u16::from(*b.get(*pos)?);
    *pos += 1;
    if kind & 0x80 != 0 {
        kind = (kind & 0x7F) | (u16::from(*b.get(*pos)? & 0x7F) << 7);
        *pos += 1;
    }
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *b.get(*pos)?;
        *pos += 1;
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    let body = b.get(*pos..*pos + len)?;
    *pos += len;
    Some((kind, body))
}

/// The `Id`s of the `<Relationship>` elements (those calamine reads).
fn relationship_ids(xml: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    text.split("<Relationship")
        .skip(1)
        .filter(|el| el.starts_with(|c: char| c.is_whitespace() || c == '/' || c == '>'))
        .filter_map(|el| {
            let el = &el[..el.find('>').unwrap_or(el.len())];
            let at = el.find(" Id=").or_else(|| el.find("\tId="))? + 4;
            let quote = el[at..].chars().next()?;
            let rest = &el[at + 1..];
            Some(rest[..rest.find(quote)?].to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_ids_are_found() {
        let xml = br#"<Relationships><Relationship Id="rId3" Target="a"/><Relationship Target='b' Id='rId1'/></Relationships>"#;
        assert_eq!(relationship_ids(xml), ["rId3", "rId1"]);
    }

    /// Apache POI's Simple.xlsb (tests/fixtures/foreign): calamine panicked on it.
    #[test]
    fn a_sheet_record_that_names_no_listed_part_is_refused() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/foreign/Simple.xlsb");
        let bytes = std::fs::read(path).unwrap();
        let e = super::super::Workbook::open(&bytes, super::super::Limits::default())
            .err()
            .expect("refused");
        assert!(
            matches!(&e, ReadError::Corrupt(m) if m.contains("list of sheets is damaged")),
            "{e:?}"
        );
        // A sound xlsb passes.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/foreign/issues.xlsb");
        let bytes = std::fs::read(path).unwrap();
        assert!(super::super::Workbook::open(&bytes, super::super::Limits::default()).is_ok());
    }
}
