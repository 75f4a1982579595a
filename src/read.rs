//! Reading a returned workbook: whatever Excel, LibreOffice or a script saved
//! (xlsx, xlsm, xls, ods), recognised by its content rather than its file name.
//!
//! A returned file is untrusted input, so reading is bounded:
//! - the file must be at most [`Limits::max_file_bytes`] (checked on the bytes read,
//!   never on a size the file claims);
//! - an xlsx/xlsm/ods is unpacked once, through a cap on the bytes actually inflated
//!   ([`Limits::max_unpacked_bytes`]), before calamine reads it;
//! - xlsx/xlsm sheets are streamed cell by cell and only the wanted cells are kept,
//!   stopping after the last wanted row;
//! - an ODS or XLS sheet's real extent is measured by a pre-scan (the ODS XML, the
//!   XLS cell records) before calamine builds its grid, and refused if the grid would
//!   exceed [`Limits::max_cells`];
//! - the identification sheet is read up to [`Limits::max_id_rows`] rows.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsx};
use chrono::NaiveDate;

use crate::contract;

/// Bounds on what one file may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    /// Most cells a sheet grid may have (rows × columns of its used extent).
    pub max_cells: u64,
    /// Most rows read from the identification sheet.
    pub max_id_rows: u32,
}

impl Limits {
    /// Most bytes an xlsx's parts may unpack to in total: four times the file limit
    /// (a real return unpacks to well under a megabyte).
    pub fn max_unpacked_bytes(&self) -> u64 {
        self.max_file_bytes.saturating_mul(4)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 20 * 1024 * 1024,
            max_cells: 2_000_000,
            max_id_rows: 5_000,
        }
    }
}

/// The container a file really is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Ods,
    Xls,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Ods => "ods",
            Format::Xls => "xls",
        }
    }
}

/// Why a file could not be read, in terms an officer can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    /// A zip whose parts unpack to more than the limit (a "zip bomb", or not a return).
    UnpacksTooLarge {
        limit: u64,
    },
    Encrypted,
    Corrupt(String),
}

impl ReadError {
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::TooLarge { .. } | ReadError::UnpacksTooLarge { .. } => "too-large",
            ReadError::Encrypted => "encrypted",
            ReadError::Corrupt(_) => "unreadable",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ReadError::TooLarge { bytes, limit } => format!(
                "the file is {:.1} MB, more than the {:.0} MB a return may be; it is probably not the issued form. Ask for the form to be sent again without extra content",
                *bytes as f64 / 1e6,
                *limit as f64 / 1e6
            ),
            ReadError::UnpacksTooLarge { limit } => format!(
                "the file unpacks to more than {:.0} MB (a workbook is a compressed archive, and this one holds far more than any return), so it is not read; it may be deliberately malformed. Ask for the issued form to be filled in and sent again",
                *limit as f64 / 1e6
            ),
            ReadError::Encrypted => "the file is password-protected (encrypted), so it cannot be read. Ask the sender to remove the password (File > Info > Protect Workbook in Excel) and send it again".into(),
            ReadError::Corrupt(why) if why.contains("Zip") || why.contains("zip") => format!(
                "the file is damaged or incomplete (it may have been cut short when it was sent) and cannot be opened; ask the sender to save it again from Excel or LibreOffice and resend it (detail: {why})"
            ),
            ReadError::Corrupt(why) => format!(
                "the file cannot be opened as a spreadsheet ({why}). It may be damaged or not really a workbook; ask the sender to save it again from Excel or LibreOffice and resend it"
            ),
        }
    }
}

/// A cell's value, owned and small: only the answer cells are ever turned into these.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CellValue {
    #[default]
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    /// A spreadsheet error such as #N/A or #REF!.
    Error(String),
}

impl CellValue {
    pub fn is_blank(&self) -> bool {
        match self {
            CellValue::Empty => true,
            CellValue::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as text, as a person would read it.
    pub fn display(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(s) => s.clone(),
            CellValue::Number(n) => format_number(*n),
            CellValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            CellValue::Date(d) => d.format("%Y-%m-%d").to_string(),
            CellValue::Error(e) => e.clone(),
        }
    }
}

/// "3" rather than "3.0"; full precision otherwise.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn from_ref(d: &DataRef<'_>) -> CellValue {
    match d {
        DataRef::Empty => CellValue::Empty,
        DataRef::String(s) => CellValue::Text(s.clone()),
        DataRef::SharedString(s) => CellValue::Text((*s).to_string()),
        DataRef::Int(i) => CellValue::Number(*i as f64),
        DataRef::Float(f) => CellValue::Number(*f),
        DataRef::Bool(b) => CellValue::Bool(*b),
        DataRef::DateTime(dt) => dt
            .as_datetime()
            .map_or(CellValue::Number(dt.as_f64()), |d| {
                CellValue::Date(d.date())
            }),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => CellValue::Text(s.clone()),
        DataRef::Error(e) => CellValue::Error(e.to_string()),
    }
}

fn from_data(d: &Data) -> CellValue {
    match d {
        Data::Empty => CellValue::Empty,
        Data::String(s) => CellValue::Text(s.clone()),
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Float(f) => CellValue::Number(*f),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map_or(CellValue::Number(dt.as_f64()), |d| {
                CellValue::Date(d.date())
            }),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => CellValue::Text(s.clone()),
        Data::Error(e) => CellValue::Error(e.to_string()),
    }
}

fn iso_date(s: &str) -> CellValue {
    let day = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_or(CellValue::Text(s.to_string()), CellValue::Date)
}

/// Recognises the container from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    const ZIP: &[u8] = b"PK\x03\x04";
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.starts_with(ZIP) {
        // ODS stores its mimetype uncompressed as the first entry.
        let head = &bytes[..bytes.len().min(200)];
        if head
            .windows(46)
            .any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet")
        {
            Some(Format::Ods)
        } else {
            Some(Format::Xlsx)
        }
    } else if bytes.starts_with(CFB) {
        Some(Format::Xls)
    } else {
        None
    }
}

/// An encrypted OOXML file is a compound file holding an `EncryptedPackage` stream.
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// Cell values by zero-based (row, column).
pub type Cells = HashMap<(u32, u32), CellValue>;

/// An open returned workbook.
pub struct Workbook<'a> {
    pub format: Format,
    inner: Inner<'a>,
    names: Vec<(String, String)>,
    sheets: Vec<String>,
    limits: Limits,
}

enum Inner<'a> {
    /// Reads the bounded, unpacked copy made by [`unpack_bounded`].
    Xlsx(Box<Xlsx<Cursor<Vec<u8>>>>),
    /// Reads the bounded, unpacked copy made by [`unpack_bounded`].
    Ods(Box<Ods<Cursor<Vec<u8>>>>),
    Xls(Box<Xls<Cursor<&'a [u8]>>>),
}

/// Reads a file into memory, refusing one larger than the limit without reading it all.
pub fn read_bounded(
    path: &std::path::Path,
    limits: &Limits,
) -> std::io::Result<Result<Vec<u8>, ReadError>> {
    let f = std::fs::File::open(path)?;
    // The file system's size (capped by the limit) sizes the buffer: one allocation and
    // one read for an ordinary file. It is only a hint; `take` still bounds the read.
    let hint = f
        .metadata()
        .map_or(0, |m| m.len())
        .min(limits.max_file_bytes)
        + 1;
    let mut buf = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    f.take(limits.max_file_bytes + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limits.max_file_bytes {
        let bytes = std::fs::metadata(path).map_or(buf.len() as u64, |m| m.len());
        return Ok(Err(ReadError::TooLarge {
            bytes,
            limit: limits.max_file_bytes,
        }));
    }
    Ok(Ok(buf))
}

impl<'a> Workbook<'a> {
    /// Opens workbook bytes of any supported format.
    pub fn open(bytes: &'a [u8], limits: Limits) -> Result<Self, ReadError> {
        if bytes.len() as u64 > limits.max_file_bytes {
            return Err(ReadError::TooLarge {
                bytes: bytes.len() as u64,
                limit: limits.max_file_bytes,
            });
        }
        let format = sniff(bytes)
            .ok_or_else(|| ReadError::Corrupt("it is not an Excel or OpenDocument file".into()))?;
        let corrupt = |e: &dyn std::fmt::Display| {
            let msg = e.to_string();
            if msg.to_lowercase().contains("password") {
                ReadError::Encrypted
            } else {
                ReadError::Corrupt(msg)
            }
        };
        let inner = match format {
            Format::Xlsx => Inner::Xlsx(Box::new(
                Xlsx::new(Cursor::new(unpack_bounded(bytes, &limits)?)).map_err(|e| corrupt(&e))?,
            )),
            Format::Ods => {
                let unpacked = unpack_bounded(bytes, &limits)?;
                check_ods_extent(&unpacked, &limits)?;
                Inner::Ods(Box::new(
                    Ods::new(Cursor::new(unpacked)).map_err(|e| corrupt(&e))?,
                ))
            }
            Format::Xls => {
                if is_encrypted_ooxml(bytes) {
                    return Err(ReadError::Encrypted);
                }
                check_xls_extent(bytes, &limits)?;
                Inner::Xls(Box::new(
                    Xls::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?,
                ))
            }
        };
        let (names, sheets) = match &inner {
            Inner::Xlsx(w) => (w.defined_names().to_vec(), w.sheet_names()),
            Inner::Ods(w) => (w.defined_names().to_vec(), w.sheet_names()),
            Inner::Xls(w) => (w.defined_names().to_vec(), w.sheet_names()),
        };
        Ok(Self {
            format,
            inner,
            names,
            sheets,
            limits,
        })
    }

    /// Workbook-scoped defined names and what they refer to.
    pub fn defined_names(&self) -> &[(String, String)] {
        &self.names
    }

    pub fn sheet_names(&self) -> &[String] {
        &self.sheets
    }

    pub fn has_sheet(&self, name: &str) -> bool {
        self.sheets.iter().any(|s| s == name)
    }

    /// Reads the key/value rows of the identification sheet, or `None` if it has none.
    pub fn identification(&mut self) -> Result<Option<Vec<(String, String)>>, ReadError> {
        if !self.has_sheet(contract::ID_SHEET) {
            return Ok(None);
        }
        let max_row = self.limits.max_id_rows;
        let mut rows: HashMap<u32, (String, String)> = HashMap::new();
        self.visit(contract::ID_SHEET, max_row, &mut |r, c, v| {
            if c <= 1 {
                let e = rows.entry(r).or_default();
                if c == 0 {
                    e.0 = v.display()
                } else {
                    e.1 = v.display()
                }
            }
        })?;
        let mut out: Vec<(u32, (String, String))> = rows
            .into_iter()
            .filter(|(_, (k, _))| !k.trim().is_empty())
            .collect();
        out.sort_by_key(|(r, _)| *r);
        Ok(Some(
            out.into_iter()
                .map(|(_, (k, v))| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
        ))
    }

    /// Reads the wanted cells (zero-based row, col) of one sheet. Cells not present
    /// come back empty; a missing sheet is `Ok(None)`.
    pub fn cells(
        &mut self,
        sheet: &str,
        wanted: &[(u32, u32)],
    ) -> Result<Option<Cells>, ReadError> {
        if !self.has_sheet(sheet) {
            return Ok(None);
        }
        let max_row = wanted.iter().map(|(r, _)| *r).max().unwrap_or(0);
        let want: std::collections::HashSet<(u32, u32)> = wanted.iter().copied().collect();
        let mut found = HashMap::with_capacity(wanted.len());
        self.visit(sheet, max_row, &mut |r, c, v| {
            if want.contains(&(r, c)) {
                found.insert((r, c), v);
            }
        })?;
        Ok(Some(found))
    }

    /// Calls `f` for the cells of `sheet` in rows `0..=max_row` (at least).
    fn visit(
        &mut self,
        sheet: &str,
        max_row: u32,
        f: &mut dyn FnMut(u32, u32, CellValue),
    ) -> Result<(), ReadError> {
        let corrupt =
            |e: &dyn std::fmt::Display| ReadError::Corrupt(format!("sheet '{sheet}': {e}"));
        match &mut self.inner {
            Inner::Xlsx(w) => {
                let mut reader = w.worksheet_cells_reader(sheet).map_err(|e| corrupt(&e))?;
                let mut seen: u64 = 0;
                while let Some(cell) = reader.next_cell().map_err(|e| corrupt(&e))? {
                    let (r, c) = cell.get_position();
                    // Rows are written in order, so nothing wanted lies beyond max_row.
                    if r > max_row {
                        break;
                    }
                    seen += 1;
                    if seen > self.limits.max_cells {
                        return Err(ReadError::Corrupt(format!(
                            "sheet '{sheet}' has more than {} cells",
                            self.limits.max_cells
                        )));
                    }
                    let v = cell.get_value();
                    if !matches!(v, DataRef::Empty) {
                        f(r, c, from_ref(v));
                    }
                }
                Ok(())
            }
            Inner::Ods(w) => visit_range(
                w.worksheet_range(sheet).map_err(|e| corrupt(&e))?,
                max_row,
                f,
            ),
            Inner::Xls(w) => visit_range(
                w.worksheet_range(sheet).map_err(|e| corrupt(&e))?,
                max_row,
                f,
            ),
        }
    }
}

fn visit_range(
    range: calamine::Range<Data>,
    max_row: u32,
    f: &mut dyn FnMut(u32, u32, CellValue),
) -> Result<(), ReadError> {
    for (r, c, v) in range.used_cells() {
        let (r, c) = (
            r as u32 + range.start().map_or(0, |s| s.0),
            c as u32 + range.start().map_or(0, |s| s.1),
        );
        if r <= max_row {
            f(r, c, from_data(v));
        }
    }
    Ok(())
}

/// Unpacks an xlsx/xlsm or ods (a zip archive) into a new archive whose parts are stored
/// uncompressed, reading every part through a cap on the total unpacked size. calamine
/// then reads the stored copy. Without this, a file of a megabyte or two whose parts
/// inflate to gigabytes (a "zip bomb") made calamine allocate all of it (measured: a
/// 1.5 MB file, 4.6 GB and 17 s). The one inflation happens here instead of in
/// calamine, so a real return costs about the same. Sizes the archive claims are never
/// trusted: only the bytes actually unpacked count.
fn unpack_bounded(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let zip_err = |e: &dyn std::fmt::Display| ReadError::Corrupt(format!("Zip: {e}"));
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_err(&e))?;
    let cap = limits.max_unpacked_bytes();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() * 4)));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut total: u64 = 0;
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
        drop(raw);
        let mut part = zin.by_index(i).map_err(|e| zip_err(&e))?;
        // ptk reads only a worksheet's cells, so its copy stops after the cell data:
        // what follows (data validations, conditional formats, page setup) is neither
        // inflated nor kept.
        let cells_only = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        out.start_file(name, stored).map_err(|e| zip_err(&e))?;
        // At most one byte more than what is left under the cap, whatever the part claims.
        let left = cap - total;
        let mut limited = (&mut part).take(left + 1);
        let copied = if cells_only {
            copy_cells_only(&mut limited, &mut out).map_err(|e| zip_err(&e))?
        } else {
            std::io::copy(&mut limited, &mut out).map_err(|e| zip_err(&e))?
        };
        if copied > left {
            return Err(ReadError::UnpacksTooLarge { limit: cap });
        }
        total += copied;
    }
    Ok(out.finish().map_err(|e| zip_err(&e))?.into_inner())
}

/// Copies a worksheet part up to the end of its cell data (`</sheetData>`) and closes
/// its root element; copies it whole if it has no such end. Returns the bytes read.
fn copy_cells_only(from: &mut impl Read, to: &mut impl std::io::Write) -> std::io::Result<u64> {
    const END: &[u8] = b"</sheetData>";
    let mut data = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = from.read(&mut chunk)?;
        if n == 0 {
            to.write_all(&data)?;
            return Ok(data.len() as u64);
        }
        // The tag may straddle two reads: search from just before the new bytes.
        let start = data.len().saturating_sub(END.len() - 1);
        data.extend_from_slice(&chunk[..n]);
        let Some(at) = memchr::memmem::find(&data[start..], END) else {
            continue;
        };
        let Some(root) = root_element(&data).map(<[u8]>::to_vec) else {
            continue; // not a worksheet as expected: keep it whole
        };
        let read = data.len() as u64;
        data.truncate(start + at + END.len());
        data.extend_from_slice(b"</");
        data.extend_from_slice(&root);
        data.push(b'>');
        to.write_all(&data)?;
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

/// Measures the used extent of every worksheet in an .xls file by scanning the cell
/// records of its BIFF stream, so that a file whose cells sit far apart is refused
/// before it is loaded: calamine builds every sheet's whole grid (up to 65,536 × 256
/// cells, twice: values and formulas, about 1 GB) when it opens the file.
fn check_xls_extent(bytes: &[u8], limits: &Limits) -> Result<(), ReadError> {
    let Ok(mut cfb) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return Ok(()); // calamine gives the error in its own words
    };
    let Some(name) = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| cfb.is_stream(n))
    else {
        return Ok(());
    };
    let mut data = Vec::new();
    cfb.open_stream(name)
        .and_then(|s| s.take(limits.max_file_bytes).read_to_end(&mut data))
        .map_err(|e| ReadError::Corrupt(format!("the workbook stream cannot be read: {e}")))?;
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
fn check_ods_extent(bytes: &[u8], limits: &Limits) -> Result<(), ReadError> {
    use quick_xml::events::Event;
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ReadError::Corrupt(e.to_string()))?;
    let content = zip
        .by_name("content.xml")
        .map_err(|e| ReadError::Corrupt(format!("content.xml: {e}")))?;
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

    #[test]
    fn sniffs_containers() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Xlsx));
        assert_eq!(sniff(b"PK\x03\x04\x14\x00\x00\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet"), Some(Format::Ods));
        assert_eq!(
            sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]),
            Some(Format::Xls)
        );
        assert_eq!(sniff(b"%PDF-1.4"), None);
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let e = Workbook::open(b"PK\x03\x04 this is not a zip", Limits::default())
            .err()
            .unwrap();
        assert_eq!(e.code(), "unreadable");
        let e = Workbook::open(b"hello", Limits::default()).err().unwrap();
        assert_eq!(e.code(), "unreadable");
    }

    #[test]
    fn size_limit_is_enforced_on_bytes() {
        let limits = Limits {
            max_file_bytes: 10,
            ..Limits::default()
        };
        let e = Workbook::open(&[0u8; 11], limits).err().unwrap();
        assert_eq!(e.code(), "too-large");
    }

    /// An ODS whose two cells sit a million rows and a thousand columns apart: calamine
    /// would allocate the whole grid between them, so it must be refused first.
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
        assert_eq!(e.code(), "too-large");
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
        let unpacked = unpack_bounded(&bytes, &roomy).unwrap();
        let mut back = zip::ZipArchive::new(Cursor::new(unpacked)).unwrap();
        let part = back.by_name("xl/sharedStrings.xml").unwrap();
        assert_eq!(part.compression(), zip::CompressionMethod::Stored);
        assert_eq!(part.size(), (5 << 20) + 27);
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
            copy_cells_only(&mut Trickle(sheet), &mut out).unwrap(),
            sheet.len() as u64
        );
        assert_eq!(out, sheet);
        let sheet = br#"<?xml version="1.0"?><worksheet xmlns="s"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData><dataValidations count="1"/></worksheet>"#;
        let mut out = Vec::new();
        let read = copy_cells_only(&mut Trickle(sheet), &mut out).unwrap();
        assert!(read < sheet.len() as u64, "stopped reading early");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<?xml version="1.0"?><worksheet xmlns="s"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>"#
        );
        assert_eq!(
            root_element(b"<?xml?><!-- x --><a:b c='d'>"),
            Some(&b"a:b"[..])
        );
        assert_eq!(root_element(b"no tags"), None);
    }

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
        let e = check_xls_extent(&far, &limits).expect_err("refused");
        assert!(
            matches!(&e, ReadError::Corrupt(m) if m.contains("span more than")),
            "{e:?}"
        );
        let e = Workbook::open(&far, limits).err().expect("refused");
        assert!(matches!(&e, ReadError::Corrupt(m) if m.contains("span more than")));
        // A sheet of ordinary size passes the check.
        let near = xls_with_cells(&[(0, 0), (40, 5), (3, 2)]);
        assert!(check_xls_extent(&near, &limits).is_ok());
    }

    #[test]
    fn numbers_display_plainly() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
    }
}
