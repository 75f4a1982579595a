//! The bounded unpacked copy of a zip-based workbook (xlsx, xlsm, xlsb, ods) that calamine reads.

use std::io::{Cursor, Read, Write};

use super::memory::reserve;
use super::repair::{self, SheetParts};
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
    // The zip crate says "out of memory" when a reservation fails: the memory limit,
    // not damage.
    let zip_err = |e: &dyn std::fmt::Display| {
        let e = e.to_string();
        if e.contains("out of memory") {
            ReadError::OutOfMemory
        } else {
            ReadError::Corrupt(format!("Zip: {e}"))
        }
    };
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_err(&e))?;
    let format = zip_format(&zin);
    let cap = limits.max_unpacked_bytes();
    // What the parts claim to unpack to, checked against the cap before anything is
    // allocated for them: a claim over it is too large at once, whatever the
    // allocator would have managed (a claim under it is still not trusted below).
    let mut claimed: u64 = 0;
    for i in 0..zin.len() {
        let raw = zin.by_index_raw(i).map_err(|e| zip_err(&e))?;
        claimed = claimed.saturating_add(raw.size());
    }
    if claimed > cap {
        return Err(ReadError::UnpacksTooLarge { limit: cap });
    }
    let mut copy = Vec::new();
    // Room for the stored copy at once (the parts, plus their headers), so it is not
    // grown by doubling to twice what it holds.
    let headers = 200 * zin.len() as u64 + 1024;
    reserve(
        &mut copy,
        usize::try_from(claimed.max(bytes.len() as u64) + headers).unwrap_or(usize::MAX),
    )?;
    let mut out = zip::ZipWriter::new(Cursor::new(copy));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut total: u64 = 0;
    // The parts that say where the sheets are are read first and repaired (repair.rs).
    let mut sheet_parts = SheetParts::default();
    if format == Format::Xlsx {
        sheet_parts = read_sheet_parts(&mut zin, cap, &mut total, &zip_err)?;
        sheet_parts.repair(&|name| zin.index_for_name(name).is_some())?;
    }
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
        if let Some(read) = sheet_parts.take(&name) {
            out.start_file(name, stored)
                .and_then(|()| Ok(out.write_all(&read)?))
                .map_err(|e| zip_err(&e))?;
            continue;
        }
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
        let ods_content = format == Format::Ods && name == "content.xml";
        drop(raw);
        let mut part = zin.by_index(i).map_err(|e| zip_err(&e))?;
        // ptk reads only a worksheet's cells, so its copy stops after the cell data:
        // what follows (data validations, conditional formats, page setup) is neither
        // inflated nor kept.
        let cells_only = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        out.start_file(name.as_str(), stored)
            .map_err(|e| zip_err(&e))?;
        // At most one byte more than what is left under the cap, whatever the part claims.
        let left = cap - total;
        // The size the part claims only sizes the buffer (capped, so a forged claim
        // costs nothing): a part read into room for all of it inflates in a few large
        // steps, where a growing buffer made many small ones (measured: 13% of a
        // reader's instructions went to reading parts, a third of that to probing).
        let mut data = Vec::new();
        reserve(&mut data, capacity_hint(part.size(), left))?;
        let mut limited = (&mut part).take(left + 1);
        // A part written as UTF-16 is read whole, then made UTF-8 (repair.rs).
        let xml = name.ends_with(".xml") || name.ends_with(".rels");
        (&mut limited)
            .take(2)
            .read_to_end(&mut data)
            .map_err(|e| zip_err(&e))?;
        let utf16 = xml && repair::utf16_order(&data).is_some();
        let cells_only = cells_only && !utf16;
        let copied = if cells_only {
            copy_cells_only(&mut limited, &mut data, &mut out)?
        } else {
            read_checked(&mut limited, &mut data).map_err(|e| e.into_read_error(&zip_err))?;
            let mut read = data.len() as u64;
            if utf16 && read <= left {
                if let Some(utf8) = repair::utf16_to_utf8(&name, &data, left, cap)? {
                    read = read.max(utf8.len() as u64);
                    data = utf8;
                }
            }
            if read <= left {
                check_string_count(&data)?;
            }
            if styles {
                drop_cell_looks(&mut data);
            }
            if ods_content {
                drop_table_whitespace(&mut data);
            }
            out.write_all(&data).map_err(|e| zip_err(&e))?;
            read
        };
        if copied > left {
            return Err(ReadError::UnpacksTooLarge { limit: cap });
        }
        total += copied;
    }
    // Parts a repair made that the file did not have.
    for name in [repair::PACKAGE_RELS, repair::WORKBOOK_RELS] {
        if let Some(made) = sheet_parts.take(name) {
            out.start_file(name, stored)
                .and_then(|()| Ok(out.write_all(&made)?))
                .map_err(|e| zip_err(&e))?;
        }
    }
    Ok((format, out.finish().map_err(|e| zip_err(&e))?.into_inner()))
}

/// Reads the parts that say where an xlsx's sheets are (any that are there), through
/// the same cap as every other part and made UTF-8, counting them in `total`.
fn read_sheet_parts(
    zin: &mut zip::ZipArchive<Cursor<&[u8]>>,
    cap: u64,
    total: &mut u64,
    zip_err: &dyn Fn(&dyn std::fmt::Display) -> ReadError,
) -> Result<SheetParts, ReadError> {
    let mut read = |name: &str| -> Result<Option<Vec<u8>>, ReadError> {
        let Some(i) = zin.index_for_name(name) else {
            return Ok(None);
        };
        let left = cap - *total;
        let mut part = zin.by_index(i).map_err(|e| zip_err(&e))?;
        let mut data = Vec::new();
        reserve(&mut data, capacity_hint(part.size(), left))?;
        read_checked(&mut (&mut part).take(left + 1), &mut data)
            .map_err(|e| e.into_read_error(zip_err))?;
        if data.len() as u64 > left {
            return Err(ReadError::UnpacksTooLarge { limit: cap });
        }
        let mut read = data.len() as u64;
        if let Some(utf8) = repair::utf16_to_utf8(name, &data, left, cap)? {
            read = read.max(utf8.len() as u64);
            data = utf8;
        }
        *total += read;
        Ok(Some(data))
    };
    Ok(SheetParts {
        package_rels: read(repair::PACKAGE_RELS)?,
        workbook: read(repair::WORKBOOK)?,
        workbook_rels: read(repair::WORKBOOK_RELS)?,
    })
}

/// Why a part could not be read: the reader (damage) or the memory for it.
enum PartError {
    Io(std::io::Error),
    Memory(ReadError),
}

impl PartError {
    fn into_read_error(self, zip_err: &dyn Fn(&dyn std::fmt::Display) -> ReadError) -> ReadError {
        match self {
            PartError::Io(e) => zip_err(&e),
            PartError::Memory(e) => e,
        }
    }
}

/// `read_to_end` with every growth of the buffer checked (doubling, as `read_to_end`
/// does, but a failed reservation is the memory limit, not an abort).
fn read_checked(from: &mut impl Read, data: &mut Vec<u8>) -> Result<(), PartError> {
    loop {
        if data.len() == data.capacity() {
            reserve(data, data.len().max(64 * 1024)).map_err(PartError::Memory)?;
        }
        let spare = data.capacity() - data.len();
        let n = from
            .take(spare as u64)
            .read_to_end(data)
            .map_err(PartError::Io)?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// Removes indentation between an ods's table elements (`>` then spaces or line breaks
/// then `<table:…` or `</table:…`), which a file pretty-printed by a script or another
/// program has and LibreOffice ignores, but calamine refuses ("Expecting
/// 'table-cell'"). Text inside a cell is in `<text:p>`, where ODS writes spaces as
/// `<text:s/>`, so no answer loses a space. (Worth fixing in calamine upstream.)
fn drop_table_whitespace(xml: &mut Vec<u8>) {
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let mut out = Vec::with_capacity(xml.len());
    let mut i = 0;
    let mut changed = false;
    while let Some(at) = memchr::memchr(b'>', &xml[i..]) {
        let end = i + at + 1;
        out.extend_from_slice(&xml[i..end]);
        let run = xml[end..].iter().take_while(|c| is_space(c)).count();
        let next = &xml[end + run..];
        if run > 0 && (next.starts_with(b"<table:") || next.starts_with(b"</table:")) {
            changed = true;
        } else {
            out.extend_from_slice(&xml[end..end + run]);
        }
        i = end + run;
    }
    if changed {
        out.extend_from_slice(&xml[i..]);
        *xml = out;
    }
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
) -> Result<u64, ReadError> {
    const END: &[u8] = b"</sheetData>";
    let io = |e: std::io::Error| ReadError::Corrupt(format!("Zip: {e}"));
    loop {
        // Straight into the buffer's spare room: no zeroed chunk, no second copy.
        let before = data.len();
        if data.capacity() - data.len() < CELLS_STEP as usize {
            reserve(data, data.len().max(CELLS_STEP as usize))?;
        }
        let n = from.take(CELLS_STEP).read_to_end(data).map_err(io)?;
        if n == 0 {
            to.write_all(data).map_err(io)?;
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
        to.write_all(data).map_err(io)?;
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
mod whitespace_tests {
    #[test]
    fn indentation_between_table_elements_goes_and_cell_text_stays() {
        let mut x = b"<table:table-row>\n  <table:table-cell><text:p>a  b</text:p> </table:table-cell>\n</table:table-row> <text:p>".to_vec();
        super::drop_table_whitespace(&mut x);
        assert_eq!(
            x,
            b"<table:table-row><table:table-cell><text:p>a  b</text:p></table:table-cell></table:table-row> <text:p>"
        );
    }
}

#[cfg(test)]
#[path = "unpack_tests.rs"]
mod tests;
