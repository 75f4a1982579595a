//! Memory taken for a file's content: every reservation checked, so that reaching the
//! reader's memory limit is reported as such.

use super::ReadError;

/// Debug builds only: makes the reader's checked allocations fail, as they would at the
/// memory limit (`PTK_TEST_ALLOC_FAIL_ON`, tests/intake.rs).
pub static FAIL_ALLOCATIONS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Reserves room for `more` bytes, or says the memory limit was reached (instead of
/// the process aborting, which would be told apart from damage only by luck).
pub(super) fn reserve(v: &mut Vec<u8>, more: usize) -> Result<(), ReadError> {
    if cfg!(debug_assertions) && FAIL_ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ReadError::OutOfMemory);
    }
    v.try_reserve(more).map_err(|_| ReadError::OutOfMemory)
}
