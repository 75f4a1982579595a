//! The bounded unpacked copy of a zip-based workbook (xlsx, xlsm, xlsb, ods) that calamine reads.

use std::io::{Cursor, Read, Write};

use super::{Format, Limits, ReadError};

/// Unpacks an xlsx/xlsm or ods (a zip archive) into a new archive whose parts are stored
/// uncompressed, reading every part through a cap on the total unpacked size. calamine
/// then reads the stored copy. Without this, a file of a megabyte or two whose parts
/// inflate to gigabytes (a "zip bomb") made calamine allocate all of it (measured: a
/// 1.5 MB file, 4.6 GB and 17 s). The one inflation happens here instead of in
/// calamine, so a real return costs about the same. Sizes the archive claims are never
/// trusted: only the bytes actually unpacked count.
///
/// Two more claims are checked on the way: a shared-strings table's count of strings,
/// which calamine reserves memory for, against the size of the part (see
/// [`check_string_count`]); and an ods without its `mimetype` entry (which LibreOffice
/// still opens) gets one in the copy, so that it is read as the ods it is.
pub(super) fn unpack_bounded(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Format, Vec<u8>), ReadError> {
    let zip_err = |e: &dyn std::fmt::Display| ReadError::Corrupt(format!("Zip: {e}"));
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_err(&e))?;
    let format = zip_format(&zin);
    let cap = limits.max_unpacked_bytes();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() * 4)));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut total: u64 = 0;
    if format == Format::Ods && zin.index_for_name("mimetype").is_none() {
        out.start_file("mimetype", stored)
            .and_then(|()| Ok(out.write_all(ODS_MIMETYPE)?))
            .map_err(|e| zip_err(&e))?;
    }
    for i in 0..zin.len() {
        // Parts calamine never reads are copied as they are, still compressed.
        let raw = zin.by_index_raw(i).map_err(|e| zip_err(&e))?;
        if raw.is_dir() {
            continue;
        }
        let name = raw.name().map_err(|e| zip_err(&e))?.into_owned();
        if name.starts_with("docProps/") || name == "[Content_Types].xml" {
            out.raw_copy_file(raw).map_err(|e| zip_err(&e))?;
            continue;
        }
        // An xlsx's theme only gives colours to calamine's style objects, which ptk never
        // asks for: left out, it is neither inflated nor parsed (calamine falls back to
        // the default colours).
        let xlsx_part =
            |file: &str| format == Format::Xlsx && name.rsplit('/').next() == Some(file);
        if xlsx_part("theme1.xml") && name.contains("/theme/") {
            continue;
        }
        let styles = xlsx_part("styles.xml") && name.contains('/');
        drop(raw);
        let mut part = zin.by_index(i).map_err(|e| zip_err(&e))?;
        // ptk reads only a worksheet's cells, so its copy stops after the cell data:
        // what follows (data validations, conditional formats, page setup) is neither
        // inflated nor kept.
        let cells_only = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        out.start_file(name, stored).map_err(|e| zip_err(&e))?;
        // At most one byte more than what is left under the cap, whatever the part claims.
        let left = cap - total;
        // The size the part claims only sizes the buffer (capped, so a forged claim
        // costs nothing): a part read into room for all of it inflates in a few large
        // steps, where a growing buffer made many small ones (measured: 13% of a
        // reader's instructions went to reading parts, a third of that to probing).
        let mut data = Vec::with_capacity(capacity_hint(part.size(), left));
        let mut limited = (&mut part).take(left + 1);
        let copied = if cells_only {
            copy_cells_only(&mut limited, &mut data, &mut out).map_err(|e| zip_err(&e))?
        } else {
            limited.read_to_end(&mut data).map_err(|e| zip_err(&e))?;
            if data.len() as u64 <= left {
                check_string_count(&data)?;
            }
            let read = data.len() as u64;
            if styles {
                drop_cell_looks(&mut data);
            }
            out.write_all(&data).map_err(|e| zip_err(&e))?;
            read
        };
        if copied > left {
            return Err(ReadError::UnpacksTooLarge { limit: cap });
        }
        total += copied;
    }
    Ok((format, out.finish().map_err(|e| zip_err(&e))?.into_inner()))
}

/// Which workbook a zip holds, from its part names: `xl/workbook.bin` is an xlsb;
/// a `mimetype` or `content.xml` without `[Content_Types].xml` is an ods (also when
/// the mimetype entry is missing, which LibreOffice still opens); else xlsx/xlsm.
pub(super) fn zip_format<R: Read + std::io::Seek>(zip: &zip::ZipArchive<R>) -> Format {
    let has = |name: &str| zip.index_for_name(name).is_some();
    if has("xl/workbook.bin") {
        Format::Xlsb
    } else if !has("[Content_Types].xml")
        && (has("mimetype") || has("content.xml") || has("META-INF/manifest.xml"))
    {
        Format::Ods
    } else {
        Format::Xlsx
    }
}

const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// The fewest bytes one shared string can take (`<si/>`).
const MIN_STRING_BYTES: u64 = 5;

/// A shared-strings table (`<sst uniqueCount="N">`) must be able to hold the strings it
/// claims: calamine reserves room for N strings before reading one, so a 14 KB file
/// claiming 100,000,000,000,000 aborted the process. A claim of more strings than the
/// part has room for (at 5 bytes a string) is refused.
fn check_string_count(part: &[u8]) -> Result<(), ReadError> {
    let Some(root) = root_element(part) else {
        return Ok(());
    };
    if root.rsplit(|b| *b == b':').next() != Some(&b"sst"[..]) {
        return Ok(());
    }
    let tag_start = memchr::memmem::find(part, root).unwrap_or(0);
    let tag_end = memchr::memchr(b'>', &part[tag_start..]).map_or(part.len(), |e| tag_start + e);
    let tag = &part[tag_start..tag_end];
    let Some(at) = memchr::memmem::find(tag, b"uniqueCount=") else {
        return Ok(());
    };
    let digits = tag[at + 12..]
        .iter()
        .skip(1) // the opening quote
        .take_while(|b| b.is_ascii_digit());
    let claimed = digits.fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    if claimed > part.len() as u64 / MIN_STRING_BYTES {
        return Err(ReadError::ClaimsTooMuch(format!(
            "its shared-strings table says it holds {claimed} different texts in {} bytes",
            part.len()
        )));
    }
    Ok(())
}

/// Takes the fonts, fills and borders out of an xlsx's style sheet. calamine parses
/// them into style objects for every cell format, which ptk never reads; what decides
/// how a value is read (a date or a number) is the number formats (`numFmts`) and the
/// cell formats (`cellXfs`) that point at them, and those are kept as they are, so
/// every value reads the same (a cell format's font, fill or border number then points
/// at nothing, which calamine takes as none). Measured: a quarter of calamine's work
/// opening a return went to the style sheet and theme. A section not found in the
/// expected form is left in place.
fn drop_cell_looks(xml: &mut Vec<u8>) {
    for tag in [&b"fonts"[..], b"fills", b"borders"] {
        let Some(start) = find_start_tag(xml, tag) else {
            continue;
        };
        let mut end_tag = b"</".to_vec();
        end_tag.extend_from_slice(tag);
        end_tag.push(b'>');
        let Some(end) = memchr::memmem::find(&xml[start..], &end_tag) else {
            continue;
        };
        xml.drain(start..start + end + end_tag.len());
    }
}

/// Where the first `<tag ...>` or `<tag>` (not `<tag/>`, not a longer name) starts.
fn find_start_tag(xml: &[u8], tag: &[u8]) -> Option<usize> {
    let mut open = b"<".to_vec();
    open.extend_from_slice(tag);
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&xml[from..], &open) {
        let start = from + at;
        let after = start + open.len();
        match xml.get(after) {
            Some(b'>') => return Some(start),
            Some(b) if b.is_ascii_whitespace() => {
                let close = memchr::memchr(b'>', &xml[after..])? + after;
                return (xml[close - 1] != b'/').then_some(start);
            }
            _ => from = after,
        }
    }
    None
}

/// Whether an ods's manifest lists encryption data (a password-protected file: its
/// content is encrypted, so reading it as XML fails).
pub(super) fn ods_is_encrypted(unpacked: &[u8]) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(unpacked)) else {
        return false;
    };
    let Ok(manifest) = zip.by_name("META-INF/manifest.xml") else {
        return false;
    };
    let mut text = Vec::new();
    // The copy is already bounded; the manifest of a real file is a few kilobytes.
    if manifest.take(1 << 20).read_to_end(&mut text).is_err() {
        return false;
    }
    memchr::memmem::find(&text, b"encryption-data").is_some()
}

/// Room reserved for a part before it is read: what it claims to unpack to, plus one
/// byte so the end is seen without growing, never more than is left under the cap nor
/// more than [`MAX_HINT`] (a claim is not trusted; past the hint the buffer grows).
fn capacity_hint(claimed: u64, left: u64) -> usize {
    const MAX_HINT: u64 = 4 << 20;
    usize::try_from(claimed.min(left).min(MAX_HINT) + 1).unwrap_or(0)
}

/// How much of a worksheet is inflated at a time while looking for the end of its
/// cell data: large steps inflate fast; the copy overshoots the end by less than this.
const CELLS_STEP: u64 = 8 * 1024;

/// Copies a worksheet part up to the end of its cell data (`</sheetData>`) and closes
/// its root element; copies it whole if it has no such end. Returns the bytes read.
/// `data` is the (empty) buffer to read into, sized by the caller.
fn copy_cells_only(
    from: &mut impl Read,
    data: &mut Vec<u8>,
    to: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    const END: &[u8] = b"</sheetData>";
    loop {
        // Straight into the buffer's spare room: no zeroed chunk, no second copy.
        let before = data.len();
        let n = from.take(CELLS_STEP).read_to_end(data)?;
        if n == 0 {
            to.write_all(data)?;
            return Ok(data.len() as u64);
        }
        // The tag may straddle two reads: search from just before the new bytes.
        let start = before.saturating_sub(END.len() - 1);
        let Some(at) = memchr::memmem::find(&data[start..], END) else {
            continue;
        };
        let Some(root) = root_element(data).map(<[u8]>::to_vec) else {
            continue; // not a worksheet as expected: keep it whole
        };
        let read = data.len() as u64;
        data.truncate(start + at + END.len());
        data.extend_from_slice(b"</");
        data.extend_from_slice(&root);
        data.push(b'>');
        to.write_all(data)?;
        return Ok(read);
    }
}

/// The name of an XML document's root element (after any declaration, comments or
/// processing instructions), e.g. `worksheet` or `x:worksheet`.
fn root_element(xml: &[u8]) -> Option<&[u8]> {
    let mut rest = xml;
    loop {
        rest = &rest[memchr::memchr(b'<', rest)? + 1..];
        if !matches!(rest.first()?, b'?' | b'!') {
            let end = rest
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))?;
            return (end > 0).then(|| &rest[..end]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Code;
    use crate::read::CellValue;

    #[test]
    fn xlsx_parts_that_unpack_past_the_cap_are_refused() {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflate = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("[Content_Types].xml", deflate).unwrap();
        z.write_all(b"<Types/>").unwrap();
        z.start_file("xl/sharedStrings.xml", deflate).unwrap();
        z.write_all(b"<sst><si><t>").unwrap();
        z.write_all(&vec![b'a'; 5 << 20]).unwrap();
        z.write_all(b"</t></si></sst>").unwrap();
        let bytes = z.finish().unwrap().into_inner();
        assert!(bytes.len() < 100_000, "compressed to {} bytes", bytes.len());
        let limits = Limits {
            max_file_bytes: 1 << 20,
            ..Limits::default()
        };
        let e = unpack_bounded(&bytes, &limits).expect_err("refused");
        assert_eq!(e, ReadError::UnpacksTooLarge { limit: 4 << 20 });
        assert_eq!(e.code(), Code::TooLarge);
        assert!(
            e.message().contains("unpacks to more than 4 MB"),
            "{}",
            e.message()
        );
        // Under a larger cap the same parts unpack, stored, with the same content.
        let roomy = Limits {
            max_file_bytes: 2 << 20,
            ..Limits::default()
        };
        let (_, unpacked) = unpack_bounded(&bytes, &roomy).unwrap();
        let mut back = zip::ZipArchive::new(Cursor::new(unpacked)).unwrap();
        let part = back.by_name("xl/sharedStrings.xml").unwrap();
        assert_eq!(part.compression(), zip::CompressionMethod::Stored);
        assert_eq!(part.size(), (5 << 20) + 27);
    }

    /// An .xlsb goes through the same cap: a binary sheet part of 5 MB of zeros (a few
    /// kilobytes compressed) is refused under a 1 MB file limit, and recognised as xlsb.
    #[test]
    fn xlsb_parts_are_bounded_too() {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflate = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("[Content_Types].xml", deflate).unwrap();
        z.write_all(b"<Types/>").unwrap();
        z.start_file("xl/workbook.bin", deflate).unwrap();
        z.write_all(&[0x83, 0x01, 0x00]).unwrap();
        z.start_file("xl/worksheets/sheet1.bin", deflate).unwrap();
        z.write_all(&vec![0u8; 5 << 20]).unwrap();
        let bytes = z.finish().unwrap().into_inner();
        assert!(bytes.len() < 100_000);
        assert_eq!(crate::read::sniff(&bytes), Some(Format::Xlsb));
        let limits = Limits {
            max_file_bytes: 1 << 20,
            ..Limits::default()
        };
        let e = crate::read::Workbook::open(&bytes, limits)
            .err()
            .expect("refused");
        assert_eq!(e, ReadError::UnpacksTooLarge { limit: 4 << 20 });
    }

    #[test]
    fn shared_string_counts_are_checked_against_the_part() {
        let sst = |attrs: &str, items: usize| {
            let mut x = format!("<?xml version=\"1.0\"?><x:sst xmlns:x=\"s\" {attrs}>");
            x.push_str(&"<x:si><x:t>a</x:t></x:si>".repeat(items));
            x.push_str("</x:sst>");
            x.into_bytes()
        };
        assert!(check_string_count(&sst(r#"count="3" uniqueCount="3""#, 3)).is_ok());
        assert!(check_string_count(&sst("", 3)).is_ok());
        // A little more than the part holds is still possible in 5-byte entries...
        assert!(check_string_count(&sst(r#"uniqueCount="20""#, 3)).is_ok());
        // ...a hundred trillion is not.
        let e = check_string_count(&sst(r#"uniqueCount="100000000000000""#, 3)).unwrap_err();
        assert_eq!(e.code(), Code::TooLarge);
        // Other parts are not looked at.
        assert!(check_string_count(b"<styleSheet uniqueCount=\"99999999999\"/>").is_ok());
    }

    /// The copy calamine reads has no theme and no fonts, fills or borders, and every
    /// value still reads as before: a date as a date (through its number format), a
    /// number as a number, whatever the cell's font, fill or border.
    #[test]
    fn styles_lose_their_looks_not_their_number_formats() {
        use rust_xlsxwriter::{
            Color, ExcelDateTime, Format as Look, FormatBorder, Workbook as Book,
        };
        let mut book = Book::new();
        let sheet = book.add_worksheet().set_name("Answers").unwrap();
        let date = Look::new()
            .set_num_format("dd/mm/yyyy")
            .set_bold()
            .set_background_color(Color::RGB(0x1F4E79))
            .set_border(FormatBorder::Thin);
        let day = ExcelDateTime::from_ymd(2026, 12, 21).unwrap();
        sheet.write_datetime_with_format(0, 0, &day, &date).unwrap();
        let money = Look::new().set_num_format("0.00").set_italic();
        sheet.write_number_with_format(1, 0, 2.5, &money).unwrap();
        sheet.write_string(2, 0, "text").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let (format, copy) = unpack_bounded(&bytes, &Limits::default()).unwrap();
        assert_eq!(format, Format::Xlsx);
        let mut zip = zip::ZipArchive::new(Cursor::new(copy)).unwrap();
        assert!(zip.by_name("xl/theme/theme1.xml").is_err(), "no theme");
        let mut styles = String::new();
        zip.by_name("xl/styles.xml")
            .unwrap()
            .read_to_string(&mut styles)
            .unwrap();
        for gone in ["<fonts", "<fills", "<borders"] {
            assert!(!styles.contains(gone), "{gone} left in {styles}");
        }
        assert!(
            styles.contains("<numFmts") && styles.contains("<cellXfs"),
            "{styles}"
        );

        let mut wb = crate::read::Workbook::open(&bytes, Limits::default()).unwrap();
        let cells = wb
            .cells("Answers", &[(0, 0), (1, 0), (2, 0)])
            .unwrap()
            .unwrap();
        assert_eq!(
            cells[&(0, 0)],
            CellValue::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 21).unwrap())
        );
        assert_eq!(cells[&(1, 0)], CellValue::Number(2.5));
        assert_eq!(cells[&(2, 0)], CellValue::Text("text".into()));
    }

    #[test]
    fn only_whole_style_sections_are_taken_out() {
        let mut xml = br#"<styleSheet><fontsX/><fonts count="0"/><fills count="1"><fill/></fills><borders><border/></borders><cellXfs count="1"><xf numFmtId="14" fontId="0"/></cellXfs></styleSheet>"#.to_vec();
        drop_cell_looks(&mut xml);
        assert_eq!(
            String::from_utf8(xml).unwrap(),
            r#"<styleSheet><fontsX/><fonts count="0"/><cellXfs count="1"><xf numFmtId="14" fontId="0"/></cellXfs></styleSheet>"#
        );
        // No end tag: left whole.
        let mut cut = b"<styleSheet><fonts count=\"1\"><font/>".to_vec();
        let before = cut.clone();
        drop_cell_looks(&mut cut);
        assert_eq!(cut, before);
    }

    /// Reads a few bytes at a time, so that tags straddle reads.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(5);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn worksheet_copies_stop_after_the_cell_data() {
        let sheet = br#"<?xml version="1.0"?><!-- c --><x:worksheet xmlns:x="s"><x:sheetData><row r="1"/></x:sheetData></x:worksheet>"#;
        let mut out = Vec::new();
        // No unprefixed end tag: copied whole.
        assert_eq!(
            copy_cells_only(&mut Trickle(sheet), &mut Vec::new(), &mut out).unwrap(),
            sheet.len() as u64
        );
        assert_eq!(out, sheet);
        // What follows the cell data (here 4 reading steps of data validations) is not
        // read, also when the end tag straddles two steps.
        let head = r#"<?xml version="1.0"?><worksheet xmlns="s"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>"#;
        let tail = format!(
            "<dataValidations count=\"1\">{}</dataValidations></worksheet>",
            "<dataValidation/>".repeat(4 * CELLS_STEP as usize / 17)
        );
        let step = CELLS_STEP as usize;
        for pad in [0, step - head.len() - 5] {
            let cells = format!("{head}{}</sheetData>", " ".repeat(pad));
            let sheet = format!("{cells}{tail}");
            let mut out = Vec::new();
            let read =
                copy_cells_only(&mut Trickle(sheet.as_bytes()), &mut Vec::new(), &mut out).unwrap();
            assert!(read <= 2 * CELLS_STEP, "stopped reading early: {read}");
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("{cells}</worksheet>")
            );
        }
        assert_eq!(
            root_element(b"<?xml?><!-- x --><a:b c='d'>"),
            Some(&b"a:b"[..])
        );
        assert_eq!(root_element(b"no tags"), None);
    }
}
