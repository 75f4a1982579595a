//! Reading a returned workbook: whatever Excel, LibreOffice or a script saved
//! (xlsx, xlsm, xlsb, xls, ods), recognised by its content rather than its file name.
//!
//! A returned file is untrusted input, so reading is bounded, and no size or count the
//! file states is trusted before it is checked against the bytes really there:
//! - the file must be at most [`Limits::max_file_bytes`] (checked on the bytes read,
//!   never on a size the file claims);
//! - an xlsx/xlsm/xlsb/ods is unpacked once, through a cap on the bytes actually
//!   inflated ([`Limits::max_unpacked_bytes`]), before calamine reads it; on the way a
//!   shared-strings count larger than its part can hold is refused, and what calamine
//!   would parse but ptk never reads (an xlsx's theme, fonts, fills and borders) is left
//!   out of the copy ([`unpack`]);
//! - an .xls's compound-file sector chains are walked first, so a chain that loops is
//!   refused ([`compound`]); a FILEPASS record means it is encrypted;
//! - xlsx/xlsm/xlsb sheets are streamed cell by cell and only the wanted cells are kept,
//!   stopping after the last wanted row;
//! - an ODS or XLS sheet's real extent (and an XLS sheet's stated DIMENSIONS) is
//!   measured by a pre-scan before calamine builds its grid, and refused if the grid
//!   would exceed [`Limits::max_cells`] ([`extent`]);
//! - the identification sheet is read up to [`Limits::max_id_rows`] rows.
//!
//! These guards turn the attacks known so far into clean findings quickly; they cannot
//! cover a reader bug nobody has found yet, which is what running each file in a
//! worker process with memory and time limits is for (issue #10, part A).

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Ods, Reader, Xls, Xlsb, Xlsx};

pub(crate) mod compound;
mod decrypt;
mod error;
mod extent;
mod memory;
mod repair;
mod unpack;
mod xlsb;

use chrono::NaiveDate;
use decrypt::decrypt_default_password;
pub use error::ReadError;
use extent::{check_ods_extent, check_xls_extent};
pub use memory::FAIL_ALLOCATIONS;
use unpack::unpack_bounded;

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
    /// Excel's binary workbook (a zip like xlsx, with binary parts).
    Xlsb,
    Ods,
    Xls,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Xlsb => "xlsb",
            Format::Ods => "ods",
            Format::Xls => "xls",
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

/// Recognises the format from the content, never the file name: a compound file is
/// an .xls; a zip is told apart by its parts (`xl/workbook.bin` for xlsb; `content.xml`
/// or an OpenDocument mimetype for ods, also when the mimetype entry is missing).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    const ZIP: &[u8] = b"PK\x03\x04";
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.starts_with(CFB) {
        return Some(Format::Xls);
    }
    if !bytes.starts_with(ZIP) {
        return None;
    }
    // ODS stores its mimetype uncompressed as the first entry.
    let head = &bytes[..bytes.len().min(200)];
    if memchr::memmem::find(head, b"application/vnd.oasis.opendocument.spreadsheet").is_some() {
        return Some(Format::Ods);
    }
    Some(match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(zip) => unpack::zip_format(&zip),
        Err(_) => Format::Xlsx, // the xlsx reader names the damage
    })
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
    /// Reads the bounded, unpacked copy made by [`unpack_bounded`].
    Xlsb(Box<Xlsb<Cursor<Vec<u8>>>>),
    Xls(Box<Xls<Cursor<&'a [u8]>>>),
}

/// A file's bytes and when it was last modified, both from one opening of the file.
#[derive(Debug)]
pub struct FileBytes {
    pub bytes: Vec<u8>,
    pub modified: Option<std::time::SystemTime>,
}

/// Which Excel 2.0–4.0 worksheet a file is, from its first record (a BOF record:
/// type 0x0009, 0x0209 or 0x0409, 4 to 16 bytes long), or `None`. These predate the
/// compound-file .xls that calamine reads.
fn old_excel(bytes: &[u8]) -> Option<&'static str> {
    let word = |i: usize| Some(u16::from_le_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]));
    if !(4..=16).contains(&word(2)?) {
        return None;
    }
    match word(0)? {
        0x0009 => Some("Excel 2.0"),
        0x0209 => Some("Excel 3.0"),
        0x0409 => Some("Excel 4.0"),
        _ => None,
    }
}

/// Reads a file into memory, refusing one larger than the limit without reading it all.
pub fn read_bounded(
    path: &std::path::Path,
    limits: &Limits,
) -> std::io::Result<Result<FileBytes, ReadError>> {
    let f = std::fs::File::open(path)?;
    // The file system's size (capped by the limit) sizes the buffer: one allocation and
    // one read for an ordinary file. It is only a hint; `take` still bounds the read.
    let meta = f.metadata().ok();
    let hint = meta
        .as_ref()
        .map_or(0, |m| m.len())
        .min(limits.max_file_bytes)
        + 1;
    let modified = meta.and_then(|m| m.modified().ok());
    let mut buf = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    f.take(limits.max_file_bytes + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limits.max_file_bytes {
        let bytes = std::fs::metadata(path).map_or(buf.len() as u64, |m| m.len());
        return Ok(Err(ReadError::TooLarge {
            bytes,
            limit: limits.max_file_bytes,
        }));
    }
    Ok(Ok(FileBytes {
        bytes: buf,
        modified,
    }))
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
        // An xlsx encrypted with Excel's default password is decrypted first, and read
        // as the xlsx it holds.
        let decrypted = decrypt_default_password(bytes)?;
        let zip_bytes = decrypted.as_deref().unwrap_or(bytes);
        // A zip's format is told from its parts while it is unpacked (one reading of
        // its directory); a compound file is an .xls.
        let (format, unpacked) = if zip_bytes.starts_with(b"PK\x03\x04") {
            unpack_bounded(zip_bytes, &limits)?
        } else {
            let format = sniff(bytes).ok_or_else(|| match old_excel(bytes) {
                Some(version) => ReadError::OldExcel(version),
                None => ReadError::Corrupt("it is not an Excel or OpenDocument file".into()),
            })?;
            (format, Vec::new())
        };
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
                Xlsx::new(Cursor::new(unpacked)).map_err(|e| corrupt(&e))?,
            )),
            Format::Xlsb => {
                xlsb::check_sheet_list(&unpacked)?;
                Inner::Xlsb(Box::new(
                    Xlsb::new(Cursor::new(unpacked)).map_err(|e| corrupt(&e))?,
                ))
            }
            Format::Ods => {
                if unpack::ods_is_encrypted(&unpacked) {
                    return Err(ReadError::Encrypted);
                }
                check_ods_extent(&unpacked, &limits)?;
                Inner::Ods(Box::new(
                    Ods::new(Cursor::new(unpacked)).map_err(|e| corrupt(&e))?,
                ))
            }
            Format::Xls => {
                let file = compound::Compound::open(bytes).map_err(|why| {
                    ReadError::Corrupt(format!(
                        "it is not a readable Excel 97-2003 workbook: {why}"
                    ))
                })?;
                // An encrypted xlsx is a compound file holding the encrypted package.
                if file.entries.iter().any(|e| e.name == "EncryptedPackage") {
                    return Err(ReadError::Encrypted);
                }
                check_xls_extent(&file, &limits)?;
                Inner::Xls(Box::new(
                    Xls::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?,
                ))
            }
        };
        let (names, sheets) = match &inner {
            Inner::Xlsx(w) => (w.defined_names().to_vec(), w.sheet_names()),
            Inner::Ods(w) => (w.defined_names().to_vec(), w.sheet_names()),
            Inner::Xls(w) => (w.defined_names().to_vec(), w.sheet_names()),
            Inner::Xlsb(w) => (w.defined_names().to_vec(), w.sheet_names()),
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
        self.identification_rows(false)
    }

    /// Reads the identity keys of the identification sheet: its rows up to the first
    /// cell-map entry (ptk writes the identity first). Most returns need no more, as
    /// their defined names locate every answer; the cell map (most of the sheet) is
    /// read with [`Workbook::identification`] only when they do not.
    pub fn identification_head(&mut self) -> Result<Option<Vec<(String, String)>>, ReadError> {
        self.identification_rows(true)
    }

    fn identification_rows(
        &mut self,
        head_only: bool,
    ) -> Result<Option<Vec<(String, String)>>, ReadError> {
        if !self.has_sheet(contract::ID_SHEET) {
            return Ok(None);
        }
        let max_row = self.limits.max_id_rows;
        let mut rows: HashMap<u32, (String, String)> = HashMap::with_capacity(512);
        self.visit(contract::ID_SHEET, max_row, &mut |r, c, v| {
            if c <= 1 {
                let text = v.display();
                if head_only && c == 0 && contract::is_cell_map_key(&text) {
                    return false;
                }
                let e = rows.entry(r).or_default();
                if c == 0 {
                    e.0 = text
                } else {
                    e.1 = text
                }
            }
            true
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
        let mut want: HashSet<(u32, u32)> = HashSet::with_capacity(wanted.len());
        want.extend(wanted.iter().copied());
        let mut found = HashMap::with_capacity(wanted.len());
        self.visit(sheet, max_row, &mut |r, c, v| {
            if want.contains(&(r, c)) {
                found.insert((r, c), v);
            }
            true
        })?;
        Ok(Some(found))
    }

    /// Calls `f` for the cells of `sheet` in rows `0..=max_row` (at least), until it
    /// returns false.
    fn visit(
        &mut self,
        sheet: &str,
        max_row: u32,
        f: &mut dyn FnMut(u32, u32, CellValue) -> bool,
    ) -> Result<(), ReadError> {
        let corrupt =
            |e: &dyn std::fmt::Display| ReadError::Corrupt(format!("sheet '{sheet}': {e}"));
        match &mut self.inner {
            // Rows are stored in order, so nothing wanted lies beyond max_row.
            Inner::Xlsx(w) => {
                let mut reader = w.worksheet_cells_reader(sheet).map_err(|e| corrupt(&e))?;
                visit_stream(|| reader.next_cell(), sheet, max_row, &self.limits, f)
            }
            Inner::Xlsb(w) => {
                let mut reader = w.worksheet_cells_reader(sheet).map_err(|e| corrupt(&e))?;
                visit_stream(|| reader.next_cell(), sheet, max_row, &self.limits, f)
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

/// Streams an xlsx/xlsb sheet's cells (in row order) up to `max_row`, refusing a sheet
/// of more than [`Limits::max_cells`] cells.
fn visit_stream<'a, E: std::fmt::Display>(
    mut next: impl FnMut() -> Result<Option<calamine::Cell<DataRef<'a>>>, E>,
    sheet: &str,
    max_row: u32,
    limits: &Limits,
    f: &mut dyn FnMut(u32, u32, CellValue) -> bool,
) -> Result<(), ReadError> {
    let mut seen: u64 = 0;
    while let Some(cell) =
        next().map_err(|e| ReadError::Corrupt(format!("sheet '{sheet}': {e}")))?
    {
        let (r, c) = cell.get_position();
        if r > max_row {
            break;
        }
        seen += 1;
        if seen > limits.max_cells {
            return Err(ReadError::Corrupt(format!(
                "sheet '{sheet}' has more than {} cells",
                limits.max_cells
            )));
        }
        let v = cell.get_value();
        if !matches!(v, DataRef::Empty) && !f(r, c, from_ref(v)) {
            break;
        }
    }
    Ok(())
}

fn visit_range(
    range: calamine::Range<Data>,
    max_row: u32,
    f: &mut dyn FnMut(u32, u32, CellValue) -> bool,
) -> Result<(), ReadError> {
    for (r, c, v) in range.used_cells() {
        let (r, c) = (
            r as u32 + range.start().map_or(0, |s| s.0),
            c as u32 + range.start().map_or(0, |s| s.1),
        );
        if r <= max_row && !f(r, c, from_data(v)) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Code;

    #[test]
    fn tells_excel_2_to_4_worksheets_by_their_first_record() {
        assert_eq!(
            old_excel(b"\x09\x00\x04\x00\x02\x00\x10\x00"),
            Some("Excel 2.0")
        );
        assert_eq!(
            old_excel(b"\x09\x02\x06\x00\x00\x00\x10\x00\x00\x00"),
            Some("Excel 3.0")
        );
        assert_eq!(
            old_excel(b"\x09\x04\x06\x00\x00\x00\x10\x00\x00\x00"),
            Some("Excel 4.0")
        );
        assert_eq!(old_excel(b"\x09\x04\x10\x00"), Some("Excel 4.0"));
        // A BOF of another version, a length no BOF has, or too short to tell.
        assert_eq!(old_excel(b"\x09\x08\x10\x00"), None);
        assert_eq!(old_excel(b"\x09\x00\x03\x00"), None);
        assert_eq!(old_excel(b"\x09\x00\x11\x00"), None);
        assert_eq!(old_excel(b"\x09\x00\x04"), None);
        assert_eq!(old_excel(b"hello"), None);
        let e = Workbook::open(
            b"\x09\x04\x06\x00\x00\x00\x10\x00\x00\x00\x0a\x00\x00\x00",
            Limits::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.code(), Code::Unreadable);
        assert!(
            e.message().contains("Excel 4.0 worksheet") && e.message().contains("not damaged"),
            "{}",
            e.message()
        );
    }

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
        assert_eq!(e.code(), Code::Unreadable);
        let e = Workbook::open(b"hello", Limits::default()).err().unwrap();
        assert_eq!(e.code(), Code::Unreadable);
    }

    #[test]
    fn size_limit_is_enforced_on_bytes() {
        let limits = Limits {
            max_file_bytes: 10,
            ..Limits::default()
        };
        let e = Workbook::open(&[0u8; 11], limits).err().unwrap();
        assert_eq!(e.code(), Code::TooLarge);
    }

    /// An ODS whose two cells sit a million rows and a thousand columns apart: calamine
    /// would allocate the whole grid between them, so it must be refused first.
    /// calamine's test workbook saved by Excel as .xlsb and as .xlsx (tests/fixtures/foreign):
    /// the binary format gives the same cells, through the same bounded path.
    #[test]
    fn xlsb_reads_the_same_cells_as_its_xlsx_twin() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/foreign");
        let xlsb = std::fs::read(dir.join("issues.xlsb")).unwrap();
        let xlsx = std::fs::read(dir.join("issues.xlsx")).unwrap();
        assert_eq!(sniff(&xlsb), Some(Format::Xlsb));
        let mut b = Workbook::open(&xlsb, Limits::default()).unwrap();
        let mut x = Workbook::open(&xlsx, Limits::default()).unwrap();
        let sorted = |w: &Workbook<'_>| {
            let mut v = w.sheet_names().to_vec();
            v.sort();
            v
        };
        assert_eq!(sorted(&b), sorted(&x));
        let grid: Vec<(u32, u32)> = (0..100)
            .flat_map(|r| (0..20).map(move |c| (r, c)))
            .collect();
        let mut compared = 0;
        for sheet in b.sheet_names().to_vec() {
            let cb = b.cells(&sheet, &grid).unwrap().unwrap();
            let cx = x.cells(&sheet, &grid).unwrap().unwrap();
            assert_eq!(cb, cx, "sheet {sheet}");
            compared += cb.len();
        }
        assert!(compared > 20, "only {compared} cells compared");
    }

    #[test]
    fn numbers_display_plainly() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
    }
}
