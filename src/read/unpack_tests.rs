//! Tests of the bounded unpacked copy (unpack.rs).

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

/// A part written as UTF-16 is checked as the UTF-8 it becomes: a shared-strings
/// table claiming a hundred trillion strings is refused whatever its encoding.
#[test]
fn utf16_parts_are_checked_after_they_are_made_utf8() {
    use std::io::Write;
    let utf16 = |xml: &str| -> Vec<u8> {
        let mut b = vec![0xFF, 0xFE];
        b.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        b
    };
    let build = |count: &str| {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflate = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("[Content_Types].xml", deflate).unwrap();
        z.write_all(b"<Types/>").unwrap();
        z.start_file("xl/sharedStrings.xml", deflate).unwrap();
        let sst = format!(
            r#"<?xml version="1.0" encoding="UTF-16"?><sst uniqueCount="{count}"><si><t>é</t></si></sst>"#
        );
        z.write_all(&utf16(&sst)).unwrap();
        z.finish().unwrap().into_inner()
    };
    let e = unpack_bounded(&build("100000000000000"), &Limits::default()).unwrap_err();
    assert_eq!(e.code(), Code::TooLarge, "{e:?}");
    let (_, copy) = unpack_bounded(&build("1"), &Limits::default()).unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(copy)).unwrap();
    let mut sst = String::new();
    zip.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut sst)
        .unwrap();
    assert_eq!(
        sst,
        r#"<?xml version="1.0" encoding="UTF-8"?><sst uniqueCount="1"><si><t>é</t></si></sst>"#
    );
}

/// The copy calamine reads has no theme and no fonts, fills or borders, and every
/// value still reads as before: a date as a date (through its number format), a
/// number as a number, whatever the cell's font, fill or border.
#[test]
fn styles_lose_their_looks_not_their_number_formats() {
    use rust_xlsxwriter::{Color, ExcelDateTime, Format as Look, FormatBorder, Workbook as Book};
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
