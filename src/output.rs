//! Writing outputs safely: atomically (temp file in the same folder, then rename)
//! so a crash never leaves a half-written workbook, CSV or store, and CSV text
//! neutralised against formula injection.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |f| Ok(f.write_all(bytes)?))
}

/// Writes `path` atomically with `fill`, which streams the content into a temporary
/// file in the same folder (so a large workbook is never held whole in memory); the
/// file replaces `path` only once `fill` has succeeded and the data is on disk.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".ptk-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    fill(tmp.as_file_mut())
        .and_then(|_| Ok(tmp.as_file().sync_all()?))
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The temporary file is created private (0600); a finished output is an ordinary
    // file that colleagues on a shared drive can open, so it gets what the umask allows.
    ordinary_permissions(tmp.as_file())
        .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Gives a file the permissions a newly created file gets here (0666 less the umask).
#[cfg(unix)]
fn ordinary_permissions(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))
}

/// The process's file-creation mask, read once: from /proc on Linux (no side effect),
/// else by setting it and straight back (at the first write, before any worker threads
/// write files).
#[cfg(unix)]
fn umask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        let from_proc = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            });
        from_proc.unwrap_or_else(|| {
            // SAFETY: umask only swaps the process's file-creation mask; it is set back.
            let m = unsafe {
                let m = libc::umask(0o022);
                libc::umask(m);
                m
            };
            #[allow(clippy::useless_conversion)] // mode_t is u16 on some systems
            u32::from(m)
        })
    })
}

/// Windows files carry no Unix mode; the folder's ACL applies.
#[cfg(not(unix))]
fn ordinary_permissions(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// The UTF-8 byte-order mark. Excel reads a CSV without it as the local code page
/// (Windows-1252 in the UK), garbling £, – and …; with it, as UTF-8, like its own
/// "CSV UTF-8" format. Every CSV ptk writes starts with it.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Neutralises a text value that a spreadsheet would run as a formula, as OWASP
/// recommends: a value starting with = + - @, tab or carriage return gets a
/// leading apostrophe. Plain numbers such as "-3.5" are left alone.
pub fn csv_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && value.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Makes text safe to print on a terminal or in a one-line message: control
/// characters (terminal escape sequences, CR/LF that would forge a new line, NUL) and
/// the Unicode bidirectional overrides that can disguise a file name are shown as
/// visible `\u{..}` escapes instead of being acted on. Ordinary text is borrowed.
pub fn printable(value: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(value, false)
}

/// Like [`printable`], but keeps line breaks and tabs: for multi-line text written
/// into a CSV field or a cell, where a line break is ordinary content.
pub fn printable_text(value: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(value, true)
}

fn is_hostile(c: char, keep_breaks: bool) -> bool {
    if keep_breaks && matches!(c, '\n' | '\t') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn escape_controls(value: &str, keep_breaks: bool) -> std::borrow::Cow<'_, str> {
    if !value.chars().any(|c| is_hostile(c, keep_breaks)) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if is_hostile(c, keep_breaks) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A CSV with every field passed through [`csv_safe`], built in memory ([`SafeCsv::new`])
/// or streamed to any writer ([`SafeCsv::to_writer`], e.g. the temporary file of
/// [`write_atomic_with`]). Rows are written in the order given.
pub struct SafeCsv<W: Write = Vec<u8>> {
    writer: csv::Writer<WithBom<W>>,
}

/// A writer that puts [`UTF8_BOM`] before the first byte.
struct WithBom<W: Write> {
    inner: W,
    pending: bool,
}

impl<W: Write> WithBom<W> {
    fn bom(&mut self) -> std::io::Result<()> {
        if self.pending {
            self.inner.write_all(UTF8_BOM)?;
            self.pending = false;
        }
        Ok(())
    }
}

impl<W: Write> Write for WithBom<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bom()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.bom()?;
        self.inner.flush()
    }
}

impl Default for SafeCsv {
    fn default() -> Self {
        Self::new()
    }
}

impl SafeCsv {
    pub fn new() -> Self {
        Self::to_writer(Vec::new())
    }

    pub fn into_bytes(self) -> anyhow::Result<Vec<u8>> {
        self.finish()
    }

    pub fn write_to(self, path: &Path) -> anyhow::Result<()> {
        write_atomic(path, &self.into_bytes()?)
    }
}

impl<W: Write> SafeCsv<W> {
    /// The CSV starts with [`UTF8_BOM`], written with the first bytes (or at the finish,
    /// for a CSV with no rows).
    pub fn to_writer(w: W) -> Self {
        Self {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(WithBom {
                    inner: w,
                    pending: true,
                }),
        }
    }

    pub fn row<I, S>(&mut self, fields: I) -> anyhow::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for f in fields {
            self.writer.write_field(csv_safe(f.as_ref()).as_bytes())?;
        }
        self.writer.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> anyhow::Result<W> {
        let mut w = self
            .writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot finish CSV: {e}"))?;
        w.flush()?;
        Ok(w.inner)
    }
}

/// Refuses an output that would overwrite one of the run's inputs (the history store, the
/// register…): `inputs` are (what it is, its path). Compared as the files they name, so
/// `./ptk.db` and `work/../ptk.db` are the same.
pub fn refuse_overwriting(out: &Path, inputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    let resolve = |p: &Path| -> std::path::PathBuf {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        match (abs.parent(), abs.file_name()) {
            (Some(dir), Some(name)) => dir
                .canonicalize()
                .map(|d| d.join(name))
                .unwrap_or(abs.clone()),
            _ => abs.clone(),
        }
    };
    let target = resolve(out);
    for (what, input) in inputs {
        if resolve(input) == target {
            anyhow::bail!(
                "{} is the {what}: ptk will not write its output over it. Name another file with --out",
                out.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_numbers_are_not() {
        assert_eq!(csv_safe("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_safe("+44 1702"), "'+44 1702");
        assert_eq!(csv_safe("@cmd"), "'@cmd");
        assert_eq!(csv_safe("\tx"), "'\tx");
        assert_eq!(csv_safe("-2.5"), "-2.5");
        assert_eq!(csv_safe("plain"), "plain");
    }

    #[test]
    fn control_characters_are_shown_not_acted_on() {
        assert_eq!(printable("plain £ – …"), "plain £ – …");
        assert_eq!(printable("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(printable("two\r\nlines"), "two\\u{d}\\u{a}lines");
        assert_eq!(printable("evil\u{202E}xslx.exe"), "evil\\u{202e}xslx.exe");
        assert_eq!(
            printable_text("keep\nbreaks\tand\u{7}"),
            "keep\nbreaks\tand\\u{7}"
        );
    }

    #[test]
    fn csv_rows_are_quoted_and_neutralised_in_memory_and_streamed() {
        let rows: [[&str; 3]; 2] = [["a", "=1+1", "x,y"], ["-2.5", "say \"hi\"", ""]];
        let mut mem = SafeCsv::new();
        let mut streamed = SafeCsv::to_writer(std::io::Cursor::new(Vec::new()));
        for r in rows {
            mem.row(r).unwrap();
            streamed.row(r).unwrap();
        }
        let mem = mem.into_bytes().unwrap();
        assert_eq!(
            String::from_utf8(mem.clone()).unwrap(),
            "\u{feff}a,'=1+1,\"x,y\"\r\n-2.5,\"say \"\"hi\"\"\",\r\n"
        );
        assert_eq!(
            SafeCsv::new().into_bytes().unwrap(),
            UTF8_BOM,
            "even with no rows"
        );
        assert_eq!(streamed.finish().unwrap().into_inner(), mem);
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o666 & !umask(), "the umask's permissions, not 0600");
        }
    }
}
