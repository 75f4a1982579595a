//! The worker protocol: what the main process and a reader worker say over the
//! worker's stdin and stdout.
//!
//! Each message is one frame: its length as 4 bytes (little-endian), then the message
//! encoded with postcard (compact, serde-based; the outcome of a return is a few
//! kilobytes). The conversation:
//!
//! 1. main → worker: one [`Setup`]; worker → main: one [`Ready`].
//! 2. main → worker: [`Job`]s; worker → main: one [`Outcome`](crate::ingest::Outcome)
//!    per job, in the order sent. The worker reads one file at a time, so one that dies
//!    or runs out of time was reading the oldest unanswered job. The main process sends
//!    at most one job ahead, and only a small one (a path), so neither side can block
//!    the other by filling a pipe.
//! 3. main closes the worker's stdin; the worker exits.
//!
//! Both ends are the same binary, so the encoding needs no versioning.

use std::borrow::Cow;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::read::Limits;

/// The largest frame either side accepts: an attachment up to the file limit is sent in
/// a job; anything bigger is a broken stream, not a message.
const MAX_FRAME: usize = 1 << 30;

/// A file the main process read and checked, handed to the workers as it was read: a
/// template or register edited during a run changes nothing in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// Where it was read from (for messages only).
    #[serde(with = "path_bytes")]
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// What a worker needs for the whole run: the run's templates, register and
/// respondents as the main process read and checked them, never re-read from disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    #[serde(with = "path_bytes")]
    pub templates_dir: PathBuf,
    pub templates: Vec<Source>,
    pub register: Source,
    /// The respondents file, if the run has one.
    pub respondents: Option<Source>,
    pub year: i32,
    pub max_file_bytes: u64,
    pub max_cells: u64,
    pub max_id_rows: u32,
    /// The worker's memory cap (address space), where the platform has one.
    pub memory_cap_bytes: Option<u64>,
    /// Content hashes of files already in the store: these are not read again.
    pub seen: Vec<String>,
}

impl Setup {
    pub fn limits(&self) -> Limits {
        Limits {
            max_file_bytes: self.max_file_bytes,
            max_cells: self.max_cells,
            max_id_rows: self.max_id_rows,
        }
    }
}

/// The worker's answer to [`Setup`]: ready, or why it cannot work (e.g. the templates
/// folder changed since the main process loaded it).
pub type Ready = Result<(), String>;

/// One file to examine: a path to read, or an email attachment's bytes (empty when the
/// attachment was over the size limit) under its label.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job<'a> {
    #[serde(with = "path_bytes")]
    pub path: Cow<'a, Path>,
    pub attachment: Option<Cow<'a, [u8]>>,
}

/// Paths cross the pipe as their bytes, not as text: a file name that is not UTF-8 (a
/// Latin-1 "réponse", a Windows zip's 0x96 dash) is a path like any other, and must
/// reach the reader whole (serde's own encoding of a path refuses it).
pub mod path_bytes {
    use std::borrow::Cow;
    use std::path::{Path, PathBuf};

    use serde::{Deserializer, Serializer};

    #[cfg(unix)]
    fn to_bytes(p: &Path) -> Cow<'_, [u8]> {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(p.as_os_str().as_bytes())
    }

    #[cfg(not(unix))]
    fn to_bytes(p: &Path) -> Cow<'_, [u8]> {
        // Windows paths are UTF-16; the lossless form is WTF-8.
        Cow::Owned(p.as_os_str().as_encoded_bytes().to_vec())
    }

    #[cfg(unix)]
    fn from_bytes(b: Vec<u8>) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(b))
    }

    #[cfg(not(unix))]
    fn from_bytes(b: Vec<u8>) -> PathBuf {
        // SAFETY: the bytes came from `as_encoded_bytes` in the same binary.
        PathBuf::from(unsafe { std::ffi::OsString::from_encoded_bytes_unchecked(b) })
    }

    pub fn serialize<P: AsRef<Path>, S: Serializer>(p: &P, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&to_bytes(p.as_ref()))
    }

    pub fn deserialize<'de, T: From<PathBuf>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        Ok(T::from(from_bytes(serde_bytes_vec(d)?)))
    }

    fn serde_bytes_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path's bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Writes one message as a frame, in one write: the length and the message go out
/// together (two writes per frame had been one system call more per file each way).
pub fn send<T: Serialize>(w: &mut impl Write, msg: &T) -> std::io::Result<()> {
    let mut frame = postcard::to_extend(msg, vec![0u8; 4]).map_err(std::io::Error::other)?;
    let len = u32::try_from(frame.len() - 4).map_err(std::io::Error::other)?;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    w.write_all(&frame)?;
    w.flush()
}

/// Reads one frame's bytes; `None` at a clean end of the stream.
pub fn receive_frame(r: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other(format!(
            "a worker message of {len} bytes"
        )));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

/// Decodes a frame's bytes.
pub fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> std::io::Result<T> {
    postcard::from_bytes(bytes).map_err(std::io::Error::other)
}

/// Reads and decodes one message; `None` at a clean end of the stream.
pub fn receive<T: DeserializeOwned>(r: &mut impl Read) -> std::io::Result<Option<T>> {
    match receive_frame(r)? {
        Some(b) => decode(&b).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Outcome, Status};
    use crate::validate::{Code, Finding};

    #[test]
    fn an_outcome_survives_the_pipe_whole() {
        let mut o = Outcome::new(Path::new("in/a.xlsx"), Status::Rejected, "");
        o = o.reject(Finding::file(Code::TooLarge, "too big"));
        o.identity.partnership_id = Some("HWB01".into());
        o.identity.year = Some(2026);
        o.answers
            .push(("q1".into(), "Yes".into(), Some(2.0), String::new()));
        o.modified = Some(std::time::SystemTime::UNIX_EPOCH);
        let mut pipe = Vec::new();
        send(&mut pipe, &o).unwrap();
        send(
            &mut pipe,
            &Job {
                path: Cow::Borrowed(Path::new("mail.eml/b.xlsx")),
                attachment: Some(Cow::Borrowed(b"PK\x03\x04")),
            },
        )
        .unwrap();
        let mut r = pipe.as_slice();
        let back: Outcome = receive(&mut r).unwrap().unwrap();
        assert_eq!(back.identity, o.identity);
        assert_eq!(back.findings, o.findings);
        assert_eq!(back.answers, o.answers);
        assert_eq!(back.status, Status::Rejected);
        assert_eq!(back.modified, o.modified);
        let job: Job<'_> = receive(&mut r).unwrap().unwrap();
        assert_eq!(job.attachment.as_deref(), Some(&b"PK\x03\x04"[..]));
        assert!(receive::<Outcome>(&mut r).unwrap().is_none(), "clean end");
        // A truncated stream is an error, not a message.
        let cut = &pipe[..pipe.len() - 2];
        let mut r = cut;
        receive::<Outcome>(&mut r).unwrap();
        assert!(receive::<Job<'_>>(&mut r).is_err());
    }
}
