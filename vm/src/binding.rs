//! Binding tables (SPEC §3.1) behind one type, so that the bounds check and
//! the raw pointer arithmetic of a table entry live in one place.
//!
//! Invariant: a [`BindingTable`] is made only from a version's committed,
//! readable and writable table, and is used only while that version is
//! loaded (the engine's `versions_gen` tells when a kept one may be stale).

use std::fmt;

/// A procedure ID: stable by name across versions, never reused (the index
/// of the procedure's entry in every binding table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcId(pub u32);

impl fmt::Display for ProcId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One version's binding table: `len` 8-byte entries from `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindingTable {
    base: u64,
    len: u64,
}

/// Size of one entry.
const ENTRY: u64 = 8;

impl BindingTable {
    /// The table of `bytes` bytes at `base`.
    ///
    /// # Safety
    /// `base..base + bytes` must be committed, readable and writable, and
    /// stay so while the returned value (or a copy) is used.
    pub unsafe fn from_raw(base: u64, bytes: u64) -> BindingTable {
        BindingTable {
            base,
            len: bytes / ENTRY,
        }
    }

    /// Address of the table.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for a table with no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address of `id`'s entry, if the table has one.
    pub fn entry(&self, id: ProcId) -> Option<u64> {
        (u64::from(id.0) < self.len).then(|| self.base + ENTRY * u64::from(id.0))
    }

    /// What `id`'s entry holds (the address its callers reach), if the
    /// table has the entry.
    pub fn get(&self, id: ProcId) -> Option<u64> {
        let at = self.entry(id)?;
        // SAFETY: inside the committed table (per `from_raw`'s contract);
        // entries are aligned 8-byte words, written whole.
        Some(unsafe { std::ptr::read_volatile(at as *const u64) })
    }

    /// Stores `value` in `id`'s entry (SET SDTE): one aligned 8-byte store.
    /// Returns false, storing nothing, if the table has no such entry.
    ///
    /// # Safety
    /// The program must be paused at a safepoint, or this must be the
    /// program thread (or the table not yet in use); `value` must be code
    /// that callers through this table may reach (same signature, or an
    /// interprocedure accepting theirs).
    pub unsafe fn set(&self, id: ProcId, value: u64) -> bool {
        match self.entry(id) {
            Some(at) => {
                // SAFETY: inside the committed table; the caller keeps the
                // program from reading it meanwhile.
                unsafe { std::ptr::write_volatile(at as *mut u64, value) };
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_bounds_checked() {
        let mut words = vec![0u64; 4];
        let base = words.as_mut_ptr() as u64;
        // SAFETY: `words` outlives the table and is 32 bytes.
        let t = unsafe { BindingTable::from_raw(base, 32) };
        assert_eq!(t.len(), 4);
        // SAFETY: nothing else reads `words` meanwhile.
        assert!(unsafe { t.set(ProcId(3), 0x1234) });
        // SAFETY: as above; an index past the end is refused, not written.
        assert!(!unsafe { t.set(ProcId(4), 1) }, "past the end");
        assert_eq!(t.get(ProcId(3)), Some(0x1234));
        assert_eq!(t.get(ProcId(4)), None);
        assert_eq!(t.entry(ProcId(1)), Some(base + 8));
        assert_eq!(words[3], 0x1234);
    }
}
