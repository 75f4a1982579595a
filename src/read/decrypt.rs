//! Workbooks encrypted with Excel's default password, which Excel and LibreOffice open
//! without asking: decrypted before they are read.

use super::{compound, ReadError};

/// The password Excel gives a workbook that is only protected against changes (and
/// saving as .xls with protection): Excel and LibreOffice open such a file without
/// asking, so ptk does too.
const DEFAULT_PASSWORD: &str = "VelvetSweatshop";

/// An encrypted xlsx (a compound file holding `EncryptionInfo` and `EncryptedPackage`)
/// decrypted with Excel's default password: `None` if it is not one, `Encrypted` if it
/// has a real password (or its encryption cannot be read).
pub(super) fn decrypt_default_password(bytes: &[u8]) -> Result<Option<Vec<u8>>, ReadError> {
    let Ok(file) = compound::Compound::open(bytes) else {
        return Ok(None); // not a sound compound file: reported as such below
    };
    if !file.entries.iter().any(|e| e.name == "EncryptedPackage") {
        return Ok(None);
    }
    // The package states its decrypted size, which the decrypting crate allocates at
    // once: it must fit in the stream that holds it (the chains were checked above).
    let package = file.stream("EncryptedPackage").unwrap_or_default();
    let claimed = package.get(..8).map_or(u64::MAX, |b| {
        u64::from_le_bytes(b.try_into().unwrap_or([0xFF; 8]))
    });
    if claimed > package.len() as u64 {
        return Err(ReadError::Encrypted);
    }
    let owned = bytes.to_vec();
    let plain =
        std::panic::catch_unwind(|| office_crypto::decrypt_from_bytes(owned, DEFAULT_PASSWORD))
            .map_err(|_| ReadError::Encrypted)?
            .map_err(|_| ReadError::Encrypted)?;
    if !plain.starts_with(b"PK\x03\x04") {
        return Err(ReadError::Encrypted);
    }
    Ok(Some(plain))
}
