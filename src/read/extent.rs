//! Pre-scans that measure what a sheet really holds before calamine builds its grid.

use std::io::Cursor;

use super::compound::Compound;
use super::{Limits, ReadError};

/// Measures the used extent of every worksheet in an .xls file by scanning the cell
/// records of its BIFF stream, so that a file whose cells sit far apart is refused
/// before it is loaded: calamine builds every sheet's whole grid (up to 65,536 × 256
/// cells, twice: values and formulas, about 1 GB) when it opens the file.
pub(super) fn check_xls_extent(file: &Compound<'_>, limits: &Limits) -> Result<(), ReadError> {
    // calamine reads the "Workbook" stream, or "Book" in files from before Excel 97.
    let Some(mut data) = file.stream("Workbook").or_else(|| file.stream("Book")) else {
        return Ok(()); // calamine names what is missing in its own words
    };
    data.truncate(usize::try_from(limits.max_file_bytes).unwrap_or(usize::MAX));
    // (first row, last row, first column, last column) of the sheet being scanned.
    let mut extent: Option<(u16, u16, u16, u16)> = None;
    let check = |e: Option<(u16, u16, u16, u16)>| match e {
        Some((r0, r1, c0, c1))
            if (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1) > limits.max_cells =>
        {
            Err(ReadError::Corrupt(format!(
                "a sheet's cells span more than {} cells, far more than a return has",
                limits.max_cells
            )))
        }
        _ => Ok(()),
    };
    let u16_at = |b: &[u8], i: usize| b.get(i..i + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32_at = |b: &[u8], i: usize| {
        b.get(i..i + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    // Substreams nest (a chart inside a sheet has its own BOF..EOF); a sheet ends at
    // the EOF that closes its own BOF.
    let mut depth = 0u32;
    let mut pos = 0usize;
    while let (Some(kind), Some(len)) = (u16_at(&data, pos), u16_at(&data, pos + 2)) {
        let body = data
            .get(pos + 4..(pos + 4 + usize::from(len)).min(data.len()))
            .unwrap_or(&[]);
        pos += 4 + usize::from(len);
        let mut cells: [Option<(u16, u16)>; 2] = [None, None];
        match kind {
            // BOF and EOF: a sheet (or the workbook globals) starts or ends.
            0x0809 => {
                if depth == 0 {
                    check(extent.take())?;
                }
                depth += 1;
                continue;
            }
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    check(extent.take())?;
                }
                continue;
            }
            // FILEPASS: the workbook is encrypted (XOR or RC4). calamine only notices RC4
            // and otherwise reads the encrypted bytes as if they were cells.
            0x002F => return Err(ReadError::Encrypted),
            // DIMENSIONS: calamine reserves room for the grid it states before reading a
            // cell, so a claim beyond what a return holds is refused (BIFF8: first row,
            // last row + 1 as 32-bit numbers, then first column, last column + 1).
            0x0200 => {
                let (rows, cols) = match body.len() {
                    14 | 16 => (
                        u32_at(body, 0).zip(u32_at(body, 4)),
                        u16_at(body, 8).zip(u16_at(body, 10)),
                    ),
                    10 => (
                        u16_at(body, 0)
                            .zip(u16_at(body, 2))
                            .map(|(a, b)| (a.into(), b.into())),
                        u16_at(body, 4).zip(u16_at(body, 6)),
                    ),
                    _ => continue,
                };
                if let (Some((r0, r1)), Some((c0, c1))) = (rows, cols) {
                    let c0 = if c0 > 0xFF || c1 < c0 { 0 } else { c0 };
                    let claimed = if r1 >= 1 && c1 >= 1 {
                        // calamine subtracts without a check: a first row past the last
                        // one would wrap round to about 4 billion rows.
                        let rows = (u64::from(r1) - 1).wrapping_sub(u64::from(r0)) & 0xFFFF_FFFF;
                        (rows + 1).saturating_mul(u64::from(c1 - c0))
                    } else {
                        1
                    };
                    if claimed > limits.max_cells {
                        return Err(ReadError::ClaimsTooMuch(format!(
                            "a sheet says it holds {claimed} cells"
                        )));
                    }
                }
                continue;
            }
            // Cells with a value: blank, number, label, rich label, bool/error,
            // formula, RK, shared-string label. Each starts with row, column.
            0x0201 | 0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x0006 | 0x027E | 0x00FD => {
                cells[0] = u16_at(body, 0).zip(u16_at(body, 2));
            }
            // MULRK, MULBLANK: row, first column, ..., last column (the last two bytes).
            0x00BD | 0x00BE if body.len() >= 6 => {
                let row = u16_at(body, 0);
                cells[0] = row.zip(u16_at(body, 2));
                cells[1] = row.zip(u16_at(body, body.len() - 2));
            }
            _ => continue,
        }
        for (r, c) in cells.into_iter().flatten() {
            extent = Some(match extent {
                None => (r, r, c, c),
                Some((r0, r1, c0, c1)) => (r0.min(r), r1.max(r), c0.min(c), c1.max(c)),
            });
        }
    }
    check(extent)
}

/// Measures the used extent of every sheet in an ODS file with a streaming XML scan,
/// so that a file whose cells sit far apart (which would make calamine allocate a
/// huge grid) is refused before it is loaded.
pub(super) fn check_ods_extent(bytes: &[u8], limits: &Limits) -> Result<(), ReadError> {
    use quick_xml::events::Event;
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::Corrupt(e.to_string()))?;
    let content = zip.by_name("content.xml").map_err(|e| match e {
        zip::result::ZipError::FileNotFound => ReadError::Corrupt(
            "it is an OpenDocument file without its content part (content.xml)".into(),
        ),
        e => ReadError::Corrupt(format!("content.xml: {e}")),
    })?;
    // `bytes` is the copy from `unpack_bounded`: content.xml is already within its cap.
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let (mut row, mut col) = (0u64, 0u64);
    let (mut row_repeat, mut max_row, mut max_col) = (1u64, 0u64, 0u64);
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| a.value.trim().parse().ok())
            .unwrap_or(1)
    };
    let too_big = |r: u64, c: u64| r.saturating_mul(c) > limits.max_cells;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| ReadError::Corrupt(format!("content.xml: {e}")))?;
        match ev {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" => {
                    (row, max_row, max_col) = (0, 0, 0);
                }
                "table:table-row" => {
                    row_repeat = attr(&e, "table:number-rows-repeated");
                    col = 0;
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let repeat = attr(&e, "table:number-columns-repeated");
                    let has_value = e
                        .attributes()
                        .flatten()
                        .any(|a| a.key.as_ref() == "office:value-type");
                    if has_value {
                        max_col = max_col.max(col + repeat);
                        max_row = max_row.max(row + row_repeat);
                        if too_big(max_row, max_col) {
                            return Err(ReadError::Corrupt(format!(
                                "a sheet's cells span more than {} cells, far more than a return has",
                                limits.max_cells
                            )));
                        }
                    }
                    col = col.saturating_add(repeat);
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                row = row.saturating_add(row_repeat);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Code;
    use crate::read::{sniff, Format, Workbook};

    #[test]
    fn far_apart_ods_cells_are_refused_before_loading() {
        use std::io::Write;
        let mut buf = Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            z.start_file("mimetype", stored).unwrap();
            z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
                .unwrap();
            z.start_file("content.xml", stored).unwrap();
            z.write_all(
                br#"<office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet>
<table:table table:name="_ptk"><table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row>
<table:table-row><table:table-cell table:number-columns-repeated="1000"/><table:table-cell office:value-type="float" office:value="1"/></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"#,
            )
            .unwrap();
            z.finish().unwrap();
        }
        let bytes = buf.into_inner();
        assert_eq!(sniff(&bytes), Some(Format::Ods));
        let e = Workbook::open(&bytes, Limits::default())
            .err()
            .expect("refused");
        assert!(
            matches!(&e, ReadError::Corrupt(m) if m.contains("span more than")),
            "{e:?}"
        );
    }

    /// A small xlsx whose shared strings unpack to 5 MB: over the cap (4 × a 1 MB file
    /// limit), so it is refused before calamine reads it; the real sizes count, not the
    /// ones the archive states.
    /// A BIFF record: type, length, body.
    fn record(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut r = kind.to_le_bytes().to_vec();
        r.extend((body.len() as u16).to_le_bytes());
        r.extend(body);
        r
    }

    /// An .xls (compound file with a BIFF8 Workbook stream) with one sheet holding
    /// the given number cells (row, column).
    fn xls_with_cells(cells: &[(u16, u16)]) -> Vec<u8> {
        use std::io::Write;
        let mut stream = record(0x0809, &[0; 16]); // workbook globals
        stream.extend(record(0x000A, &[]));
        stream.extend(record(0x0809, &[0; 16])); // the sheet
        for (r, c) in cells {
            let mut body = r.to_le_bytes().to_vec();
            body.extend(c.to_le_bytes());
            body.extend([0u8; 2]); // format
            body.extend(1.0f64.to_le_bytes());
            stream.extend(record(0x0203, &body));
        }
        stream.extend(record(0x000A, &[]));
        let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        cfb.create_stream("/Workbook")
            .unwrap()
            .write_all(&stream)
            .unwrap();
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    /// Two cells at opposite corners of an .xls sheet: calamine would build the whole
    /// 65,536 × 256 grid (twice) when opening the file, so it must be refused first.
    #[test]
    fn far_apart_xls_cells_are_refused_before_loading() {
        let limits = Limits::default();
        let far = xls_with_cells(&[(0, 0), (65_535, 255)]);
        assert_eq!(sniff(&far), Some(Format::Xls));
        let e = check_xls_extent(&Compound::open(&far).unwrap(), &limits).expect_err("refused");
        assert!(
            matches!(&e, ReadError::Corrupt(m) if m.contains("span more than")),
            "{e:?}"
        );
        let e = Workbook::open(&far, limits).err().expect("refused");
        assert!(matches!(&e, ReadError::Corrupt(m) if m.contains("span more than")));
        // A sheet of ordinary size passes the check.
        let near = xls_with_cells(&[(0, 0), (40, 5), (3, 2)]);
        assert!(check_xls_extent(&Compound::open(&near).unwrap(), &limits).is_ok());
    }

    /// An .xls whose globals hold `globals` records and whose one sheet holds `sheet`.
    fn xls_with_records(globals: &[Vec<u8>], sheet: &[Vec<u8>]) -> Vec<u8> {
        use std::io::Write;
        let mut stream = record(0x0809, &[0; 16]);
        globals.iter().for_each(|r| stream.extend(r));
        stream.extend(record(0x000A, &[]));
        stream.extend(record(0x0809, &[0; 16]));
        sheet.iter().for_each(|r| stream.extend(r));
        stream.extend(record(0x000A, &[]));
        let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        cfb.create_stream("/Workbook")
            .unwrap()
            .write_all(&stream)
            .unwrap();
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    /// BIFF8 DIMENSIONS: first row, last row + 1, first column, last column + 1.
    fn dimensions(r0: u32, r1: u32, c0: u16, c1: u16) -> Vec<u8> {
        let mut b = r0.to_le_bytes().to_vec();
        b.extend(r1.to_le_bytes());
        b.extend(c0.to_le_bytes());
        b.extend(c1.to_le_bytes());
        b.extend([0, 0]);
        record(0x0200, &b)
    }

    #[test]
    fn stated_dimensions_beyond_a_return_are_refused() {
        let limits = Limits::default();
        let check = |file: &[u8]| check_xls_extent(&Compound::open(file).unwrap(), &limits);
        // An ordinary sheet: 40 rows, 6 columns.
        assert!(check(&xls_with_records(&[], &[dimensions(0, 40, 0, 6)])).is_ok());
        // 2^32 rows.
        let e = check(&xls_with_records(&[], &[dimensions(0, u32::MAX, 0, 4)])).unwrap_err();
        assert_eq!(e.code(), Code::TooLarge);
        // A first row after the last: calamine's subtraction would wrap round.
        let e = check(&xls_with_records(&[], &[dimensions(10, 5, 0, 4)])).unwrap_err();
        assert!(matches!(e, ReadError::ClaimsTooMuch(_)), "{e:?}");
    }

    #[test]
    fn a_filepass_record_means_encrypted_whatever_the_method() {
        let limits = Limits::default();
        for method in [0u16, 1] {
            // XOR (0) or RC4 (1); the cells after it are encrypted garbage.
            let file = xls_with_records(
                &[record(0x002F, &[method as u8, 0, 1, 0, 0xAA, 0xBB])],
                &[dimensions(0, 65_536, 0, 256)],
            );
            let e = check_xls_extent(&Compound::open(&file).unwrap(), &limits).unwrap_err();
            assert_eq!(e, ReadError::Encrypted, "method {method}");
        }
    }
}
