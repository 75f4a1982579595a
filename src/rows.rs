//! Reading the council's own CSV lists (the partnership register, the respondents file):
//! the header checked for the columns needed, every record with the line number that
//! Excel and Notepad show, blank rows passed over. A bad record is the caller's problem
//! to collect, never the end of the file: the officer fixes every row in one pass.

use std::collections::HashMap;

/// The records of a CSV list, with their line numbers.
pub struct Rows<'b> {
    bytes: &'b [u8],
    reader: csv::Reader<&'b [u8]>,
    /// Byte offsets where lines start (after LF, CRLF or a lone CR).
    line_starts: Vec<u64>,
    /// Lower-case header names, in file order.
    pub headers: Vec<String>,
    col: HashMap<String, usize>,
}

/// One record of a [`Rows`] list.
pub struct Row {
    /// The line it starts on (from 1).
    pub line: u64,
    pub record: csv::StringRecord,
}

/// Opens CSV bytes (UTF-8, with or without the byte-order mark Excel writes). `Err` is
/// a problem with the header row (line 1): unreadable, or missing one of `required`,
/// where `needs` says what the file needs ("the register needs …").
pub fn open<'b>(bytes: &'b [u8], required: &[&str], needs: &str) -> Result<Rows<'b>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The csv crate's own line count is one short per CRLF line before the record (as
    // Excel saves CSV); a line is found from the record's byte offset instead.
    let line_starts: Vec<u64> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| i as u64 + 1),
        )
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the header row: {e}"))?
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the header row is missing the column(s) {}; {needs}",
            missing.join(", ")
        ));
    }
    let col = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect();
    Ok(Rows {
        bytes,
        reader,
        line_starts,
        headers,
        col,
    })
}

impl Rows<'_> {
    /// The line of a record at `pos`. A record's offset can point at the line break
    /// ending the one before (CRLF): its line is the one of its first character.
    fn line_of(&self, pos: Option<&csv::Position>) -> u64 {
        pos.map_or(0, |p| {
            let mut at = p.byte() as usize;
            while matches!(self.bytes.get(at), Some(b'\r' | b'\n')) {
                at += 1;
            }
            self.line_starts.partition_point(|&s| s <= at as u64) as u64
        })
    }

    /// The next record that is not blank; `Err` is (line, what is wrong) for a record
    /// that cannot be read as CSV.
    pub fn next_row(&mut self) -> Option<Result<Row, (u64, String)>> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return None,
                Ok(true) if record.iter().all(str::is_empty) => continue,
                Ok(true) => {
                    let line = self.line_of(record.position());
                    return Some(Ok(Row { line, record }));
                }
                Err(e) => {
                    let line = self.line_of(e.position());
                    return Some(Err((line, format!("this row cannot be read as CSV: {e}"))));
                }
            }
        }
    }

    /// The field `name` of `row` (trimmed; empty when the column or field is absent).
    pub fn get<'r>(&self, row: &'r Row, name: &str) -> &'r str {
        self.col
            .get(name)
            .and_then(|&i| row.record.get(i))
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_as_editors_show_them_whatever_the_line_endings() {
        for eol in ["\n", "\r\n", "\r"] {
            let text = ["a,b", "1,2", "", "3,\"x", "y\"", "4,5"].join(eol);
            let mut rows = open(text.as_bytes(), &["a"], "it needs a").unwrap();
            let mut got = Vec::new();
            while let Some(r) = rows.next_row() {
                let r = r.unwrap();
                got.push((r.line, rows.get(&r, "a").to_string()));
            }
            assert_eq!(
                got,
                [(2, "1".into()), (4, "3".into()), (6, "4".into())],
                "{eol:?}"
            );
        }
    }

    #[test]
    fn a_missing_column_is_named() {
        let e = open(b"\xEF\xBB\xBFa,c\n1,2\n", &["a", "b"], "it needs a, b")
            .err()
            .unwrap();
        assert_eq!(
            e,
            "the header row is missing the column(s) b; it needs a, b"
        );
    }
}
