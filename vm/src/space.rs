//! The reservation: one large PROT_NONE region per VM, segments committed and
//! protected one by one.
//!
//! Invariant (W^X): a page is never writable and executable at once. Code is
//! written while its pages are RW and only then flipped to RX; data and
//! binding tables are RW and never executable.

use crate::layout::{LargeAddr, REGION_SIZE, SEGMENT_SIZE, SLOTS, SegType, VERSION_SHIFT};
use memmap2::{MmapMut, MmapOptions};
use nix::sys::mman::{ProtFlags, mprotect};
use std::ptr::NonNull;

/// Page size used for rounding (x86-64 Linux).
pub const PAGE: u64 = 4096;

/// Round up to whole pages.
pub fn page_round(n: u64) -> u64 {
    n.div_ceil(PAGE) * PAGE
}

/// Protection of a committed range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prot {
    /// Not accessible (reserved or released).
    None,
    /// Readable and writable (data, tables, code being written).
    ReadWrite,
    /// Readable and executable (finished code).
    ReadExec,
}

/// The reserved region. Dropping it unmaps everything.
pub struct AddressSpace {
    // Held for its Drop: the whole reservation is unmapped with it.
    map: MmapMut,
    base: u64,
}

// SAFETY: the mapping is plain memory; all mutation of its contents goes
// through raw pointers under the VM's own synchronization.
unsafe impl Send for AddressSpace {}
unsafe impl Sync for AddressSpace {}

/// Errors of the reservation.
#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    /// mmap of the region failed.
    #[error("cannot reserve the {size} byte address space: {err}")]
    Reserve {
        /// Requested size.
        size: u64,
        /// OS error.
        err: std::io::Error,
    },
    /// mprotect/madvise failed.
    #[error("cannot change protection of {addr:#x}+{len:#x}: {err}")]
    Protect {
        /// Start.
        addr: u64,
        /// Length.
        len: u64,
        /// OS error.
        err: nix::Error,
    },
}

impl AddressSpace {
    /// Reserve the region: PROT_NONE and MAP_NORESERVE, so it costs address
    /// space only, not memory or swap.
    pub fn reserve() -> Result<AddressSpace, SpaceError> {
        let map = MmapOptions::new()
            .len(REGION_SIZE as usize)
            .no_reserve_swap()
            .map_anon()
            .map_err(|err| SpaceError::Reserve {
                size: REGION_SIZE,
                err,
            })?;
        let base = map.as_ptr() as u64;
        let space = AddressSpace { map, base };
        // memmap2 maps anonymous memory RW; take it all back to PROT_NONE so
        // that only committed segments are accessible.
        space.protect(base, REGION_SIZE, Prot::None)?;
        Ok(space)
    }

    /// The region base: the `other` field.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Absolute address of a large address.
    pub fn addr(&self, a: LargeAddr) -> u64 {
        a.encode(self.base)
    }

    /// Absolute address of the start of segment `(slot, ty, id, 0)`.
    pub fn segment(&self, slot: u32, ty: SegType, id: u32) -> u64 {
        self.addr(LargeAddr::segment(slot, ty, id))
    }

    /// Decode an absolute address of this region.
    pub fn decode(&self, addr: u64) -> Option<LargeAddr> {
        LargeAddr::decode(self.base, addr)
    }

    /// Change protection of `[addr, addr+len)` (page-rounded).
    pub fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), SpaceError> {
        debug_assert!(addr >= self.base && addr + len <= self.base + REGION_SIZE);
        let len = page_round(len);
        if len == 0 {
            return Ok(());
        }
        let flags = match prot {
            Prot::None => ProtFlags::PROT_NONE,
            Prot::ReadWrite => ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            Prot::ReadExec => ProtFlags::PROT_READ | ProtFlags::PROT_EXEC,
        };
        // SAFETY: the range lies inside our own mapping.
        unsafe { mprotect(NonNull::new(addr as *mut _).unwrap(), len as usize, flags) }
            .map_err(|err| SpaceError::Protect { addr, len, err })
    }

    /// Give the pages of `[addr, addr+len)` back to the OS and make them
    /// inaccessible again: what "unmapped" means inside the reservation.
    pub fn release(&self, addr: u64, len: u64) -> Result<(), SpaceError> {
        let len = page_round(len);
        if len == 0 {
            return Ok(());
        }
        self.protect(addr, len, Prot::None)?;
        // SAFETY: the range lies inside our own private anonymous mapping;
        // MADV_DONTNEED drops its pages (they read as zero if recommitted).
        let rc = unsafe { libc::madvise(addr as *mut _, len as usize, libc::MADV_DONTNEED) };
        if rc != 0 {
            return Err(SpaceError::Protect {
                addr,
                len,
                err: nix::Error::last(),
            });
        }
        Ok(())
    }

    /// Release a whole version space (every segment of the slot).
    pub fn release_slot(&self, slot: u32) -> Result<(), SpaceError> {
        debug_assert!(slot < SLOTS);
        let start = self.base + ((slot as u64) << VERSION_SHIFT);
        self.release(start, 1u64 << VERSION_SHIFT)
    }

    /// Write `bytes` at `addr` (which must be committed RW).
    ///
    /// # Safety
    /// `[addr, addr+bytes.len())` must be committed read-write and not be
    /// read or executed concurrently.
    pub unsafe fn write(&self, addr: u64, bytes: &[u8]) {
        debug_assert!(addr >= self.base && addr + bytes.len() as u64 <= self.base + REGION_SIZE);
        // SAFETY: per the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
    }

    /// Bytes of the region resident in memory (RSS of the mapping): used by
    /// tests and benchmarks to show that retired spaces are really given back.
    pub fn resident_bytes(&self) -> u64 {
        let pages = (REGION_SIZE / PAGE) as usize;
        // mincore over 8 TiB would need a 2 GiB vector; sample /proc instead.
        let _ = pages;
        let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
            return 0;
        };
        let mut total = 0;
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((lo, hi)) = range.split_once('-') {
                    if let (Ok(lo), Ok(hi)) =
                        (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16))
                    {
                        inside = lo >= self.base && hi <= self.base + REGION_SIZE;
                        continue;
                    }
                }
            }
            if inside {
                if let Some(rest) = line.strip_prefix("Rss:") {
                    let kb: u64 = rest
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse()
                        .unwrap_or(0);
                    total += kb * 1024;
                }
            }
        }
        total
    }

    /// Keep the mapping alive for as long as the space lives (used only so
    /// that `map` is read; the mapping is what the addresses point into).
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Never empty; present for symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A segment must hold its contents: checked at load so that nothing spills
/// into the next procedure's segment.
pub fn fits_segment(len: u64) -> bool {
    len <= SEGMENT_SIZE
}
