//! The compound file ([MS-CFB]) that holds an .xls workbook or an Outlook .msg, checked
//! before any reader trusts it.
//!
//! calamine (and the `cfb` crate) follow a file's sector chains as the file states them.
//! A chain that loops back on itself made calamine read the directory for ever
//! (allocating until the machine ran out of memory), and a stream that claims gigabytes
//! over a looping chain did the same. Here every chain a reader will follow is walked
//! once, with the number of sectors the file really has as the bound: a chain longer
//! than that must repeat a sector, so the file is refused before a reader sees it.
//! Every claim (sector ids, chain lengths, stream sizes) is checked against the bytes
//! actually present.

/// End of a chain, and the first of the special sector ids (MS-CFB 2.1).
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const MAXREGSECT: u32 = 0xFFFF_FFFA;
const SIGNATURE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const MINI_SECTOR: usize = 64;
/// Streams shorter than this live in the mini stream (readers use this fixed cutoff).
const MINI_CUTOFF: u64 = 4096;

/// One directory entry: its name, type, first sector and size.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    /// 1 storage, 2 stream, 5 root (MS-CFB 2.6.1).
    pub kind: u8,
    start: u32,
    size: u64,
}

/// A compound file whose chains have all been checked.
pub(crate) struct Compound<'a> {
    bytes: &'a [u8],
    sector: usize,
    fat: Vec<u32>,
    minifat: Vec<u32>,
    mini_stream: Vec<u8>,
    pub entries: Vec<Entry>,
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map_or(0, |x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

const LOOPS: &str =
    "its internal sector chains loop back on themselves (the file is damaged or deliberately malformed)";

impl<'a> Compound<'a> {
    /// Parses the header, the allocation tables and the directory, and walks the chain
    /// of every stream; `Err` says in plain words what is wrong.
    pub(crate) fn open(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < 512 || bytes[..8] != SIGNATURE {
            return Err("it is too short to be a compound document".into());
        }
        let sector = match u16::from_le_bytes([bytes[30], bytes[31]]) {
            9 => 512,
            12 => 4096,
            s => return Err(format!("its header states a sector size of 2^{s} bytes")),
        };
        let mut c = Compound {
            bytes,
            sector,
            fat: Vec::new(),
            minifat: Vec::new(),
            mini_stream: Vec::new(),
            entries: Vec::new(),
        };
        let sectors = c.sectors();
        // DIFAT: 109 entries in the header, then a chain of DIFAT sectors.
        let mut difat: Vec<u32> = (0..109).map(|i| u32_at(bytes, 76 + 4 * i)).collect();
        let mut id = u32_at(bytes, 68);
        let mut steps = 0;
        while id < MAXREGSECT {
            steps += 1;
            if steps > sectors {
                return Err(LOOPS.into());
            }
            let s = c.sector_bytes(id)?;
            let n = s.len() / 4;
            difat.extend((0..n.saturating_sub(1)).map(|i| u32_at(s, 4 * i)));
            id = if n > 0 {
                u32_at(s, 4 * (n - 1))
            } else {
                ENDOFCHAIN
            };
        }
        let fat_sectors: Vec<u32> = difat.into_iter().filter(|&s| s < MAXREGSECT).collect();
        if fat_sectors.len() > sectors {
            return Err("its allocation table claims more sectors than the file has".into());
        }
        let mut fat = Vec::with_capacity(fat_sectors.len() * sector / 4);
        for &s in &fat_sectors {
            let b = c.sector_bytes(s)?;
            fat.extend((0..b.len() / 4).map(|i| u32_at(b, 4 * i)));
        }
        c.fat = fat;
        // The directory: read to its end, as readers do.
        let dir = c.read_chain(u32_at(bytes, 48), u64::MAX)?;
        let v4 = sector == 4096;
        c.entries = dir
            .chunks_exact(128)
            .map(|e| {
                let name_len = usize::from(u16::from_le_bytes([e[64], e[65]])).min(64);
                let units: Vec<u16> = e[..name_len.saturating_sub(2)]
                    .chunks_exact(2)
                    .map(|u| u16::from_le_bytes([u[0], u[1]]))
                    .collect();
                let size = if v4 {
                    u64::from(u32_at(e, 120)) | (u64::from(u32_at(e, 124)) << 32)
                } else {
                    u64::from(u32_at(e, 120))
                };
                Entry {
                    name: String::from_utf16_lossy(&units),
                    kind: e[66],
                    start: u32_at(e, 116),
                    size,
                }
            })
            .collect();
        let Some(root) = c.entries.first().cloned() else {
            return Err("it has no directory".into());
        };
        // The mini stream (the root's data) and its allocation table.
        let mini_fat_sectors = u64::from(u32_at(bytes, 64));
        if mini_fat_sectors > 0 {
            c.mini_stream = c.read_chain(root.start, root.size)?;
            let table = c.read_chain(
                u32_at(bytes, 60),
                mini_fat_sectors.saturating_mul(sector as u64),
            )?;
            c.minifat = (0..table.len() / 4)
                .map(|i| u32_at(&table, 4 * i))
                .collect();
        }
        // Every other entry's chain, as a reader would follow it.
        for e in c.entries.iter().skip(1) {
            if e.kind == 0 || e.size == 0 {
                continue;
            }
            if e.size < MINI_CUTOFF {
                c.read_mini(e.start, e.size)?;
            } else {
                c.walk(e.start, e.size, |_| Ok(()))?;
            }
        }
        Ok(c)
    }

    /// Sectors the file really has (a final partial sector counts).
    fn sectors(&self) -> usize {
        (self.bytes.len() - self.sector).div_ceil(self.sector)
    }

    fn sector_bytes(&self, id: u32) -> Result<&'a [u8], String> {
        let start = (id as usize + 1).saturating_mul(self.sector);
        if start >= self.bytes.len() {
            return Err(format!(
                "it refers to sector {id}, beyond the end of the file"
            ));
        }
        Ok(&self.bytes[start..(start + self.sector).min(self.bytes.len())])
    }

    /// Follows a chain of sectors from `start` until it ends or `size` bytes are
    /// covered, calling `f` on each sector id; a chain longer than the file's sector
    /// count loops.
    fn walk(
        &self,
        start: u32,
        size: u64,
        mut f: impl FnMut(u32) -> Result<(), String>,
    ) -> Result<(), String> {
        let (mut id, mut covered, mut steps) = (start, 0u64, 0usize);
        while id != ENDOFCHAIN && covered < size {
            steps += 1;
            if steps > self.sectors() {
                return Err(LOOPS.into());
            }
            let Some(&next) = self.fat.get(id as usize) else {
                return Err(format!(
                    "it refers to sector {id}, which its allocation table does not have"
                ));
            };
            f(id)?;
            covered += self.sector as u64;
            id = next;
        }
        Ok(())
    }

    fn read_chain(&self, start: u32, size: u64) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.walk(start, size, |id| {
            out.extend_from_slice(self.sector_bytes(id)?);
            Ok(())
        })?;
        out.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        Ok(out)
    }

    fn read_mini(&self, start: u32, size: u64) -> Result<Vec<u8>, String> {
        let (mut id, mut out) = (start, Vec::new());
        let most = self.mini_stream.len() / MINI_SECTOR + 1;
        let mut steps = 0;
        while id != ENDOFCHAIN && (out.len() as u64) < size {
            steps += 1;
            if steps > most {
                return Err(LOOPS.into());
            }
            let (Some(&next), Some(data)) = (
                self.minifat.get(id as usize),
                self.mini_stream
                    .get(id as usize * MINI_SECTOR..(id as usize + 1) * MINI_SECTOR),
            ) else {
                return Err(format!(
                    "it refers to mini sector {id}, which the file does not have"
                ));
            };
            out.extend_from_slice(data);
            id = next;
        }
        out.truncate(size as usize);
        Ok(out)
    }

    /// The bytes of the first entry with this name (case-insensitive, as readers match).
    pub(crate) fn stream(&self, name: &str) -> Option<Vec<u8>> {
        let e = self
            .entries
            .iter()
            .skip(1)
            .find(|e| e.kind == 2 && e.name.eq_ignore_ascii_case(name))?;
        if e.size < MINI_CUTOFF {
            self.read_mini(e.start, e.size).ok()
        } else {
            self.read_chain(e.start, e.size).ok()
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// A compound file made by the `cfb` crate with one stream of `len` bytes.
    pub(crate) fn with_stream(name: &str, data: &[u8]) -> Vec<u8> {
        let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        cfb.create_stream(name).unwrap().write_all(data).unwrap();
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    /// Sets FAT entry `id` (the FAT is the first FAT sector, as in small files).
    pub(crate) fn set_fat(file: &mut [u8], id: u32, next: u32) {
        let sector = 1usize << u16::from_le_bytes([file[30], file[31]]);
        let fat0 = u32_at(file, 76) as usize;
        let at = (fat0 + 1) * sector + 4 * id as usize;
        file[at..at + 4].copy_from_slice(&next.to_le_bytes());
    }

    #[test]
    fn reads_streams_of_a_sound_file() {
        let small = with_stream("/Workbook", b"hello");
        let c = Compound::open(&small).unwrap();
        assert_eq!(c.stream("workbook").as_deref(), Some(&b"hello"[..]));
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let file = with_stream("/Book", &big);
        let c = Compound::open(&file).unwrap();
        assert_eq!(c.stream("Book"), Some(big));
        assert_eq!(c.stream("Workbook"), None);
    }

    #[test]
    fn a_looping_directory_chain_is_refused() {
        let mut file = with_stream("/Workbook", b"hello");
        let dir_start = u32_at(&file, 48);
        set_fat(&mut file, dir_start, dir_start);
        let e = Compound::open(&file).err().expect("refused");
        assert!(e.contains("loop"), "{e}");
    }

    #[test]
    fn a_looping_stream_chain_is_refused() {
        let big = vec![7u8; 10_000];
        let mut file = with_stream("/Workbook", &big);
        let c = Compound::open(&file).unwrap();
        let start = c
            .entries
            .iter()
            .find(|e| e.name == "Workbook")
            .unwrap()
            .start;
        drop(c);
        // The stream's second sector points back to its first: harmless while the
        // stream's size bounds the reading...
        set_fat(&mut file, start + 1, start);
        assert!(Compound::open(&file).is_ok());
        // ...but not when the entry claims 4 GB: a reader would go round for ever.
        let name: Vec<u8> = "Workbook"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let entry = memchr::memmem::find(&file, &name).unwrap();
        file[entry + 120..entry + 124].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = Compound::open(&file).err().expect("refused");
        assert!(e.contains("loop"), "{e}");
    }

    #[test]
    fn garbage_and_bad_ids_are_errors_not_panics() {
        assert!(Compound::open(b"short").is_err());
        let mut file = with_stream("/Workbook", b"hello");
        // The directory starts far beyond the end of the file.
        file[48..52].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes());
        assert!(Compound::open(&file).is_err());
        let mut file = with_stream("/Workbook", b"hello");
        file[30] = 20;
        assert!(Compound::open(&file).is_err());
    }
}
