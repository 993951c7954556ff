//! The reservation: one large PROT_NONE region per VM, segments committed and
//! protected one by one.
//!
//! Invariant (W^X): a page is never writable and executable at once. Code is
//! written while its pages are RW and only then flipped to RX; data and
//! binding tables are RW and never executable.
//!
//! Code reaches the reservation through cranelift-jit: each version's
//! `JITModule` allocates from a [`PlacingMemory`], which puts every function
//! at exactly the address it was told (the procedure's segment start), keeps
//! it RW until `finalize` and flips it to RX there.

use crate::ids::Slot;
use crate::layout::{
    LargeAddr, REGION_SIZE, SEGMENT_SIZE, SLOTS, SegType, TYPE_SHIFT, VERSION_SHIFT,
};
use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::{ModuleError, ModuleResult};
use memmap2::{MmapMut, MmapOptions};
use nix::sys::mman::{ProtFlags, mprotect};
use std::io;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// `mprotect` of `[addr, addr+len)` (page-rounded), which the caller has
/// checked lies inside a live reservation.
fn protect_range(addr: u64, len: u64, prot: Prot) -> Result<(), SpaceError> {
    let len = page_round(len);
    if len == 0 {
        return Ok(());
    }
    let flags = match prot {
        Prot::None => ProtFlags::PROT_NONE,
        Prot::ReadWrite => ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
        Prot::ReadExec => ProtFlags::PROT_READ | ProtFlags::PROT_EXEC,
    };
    // SAFETY: the range lies inside the reservation (the callers' check),
    // which is our own mapping.
    unsafe { mprotect(NonNull::new(addr as *mut _).unwrap(), len as usize, flags) }
        .map_err(|err| SpaceError::Protect { addr, len, err })
}

/// `PROT_NONE` and `MADV_DONTNEED` on `[addr, addr+len)`, which the caller
/// has checked lies inside a live reservation.
fn release_range(addr: u64, len: u64) -> Result<(), SpaceError> {
    let len = page_round(len);
    if len == 0 {
        return Ok(());
    }
    protect_range(addr, len, Prot::None)?;
    // Its pages are dropped too (they read as zero if recommitted).
    discard_range(addr, len)
}

/// `MADV_DONTNEED` on `[addr, addr+len)` inside a live reservation: its
/// pages are given back and read as zero, its protection is kept.
fn discard_range(addr: u64, len: u64) -> Result<(), SpaceError> {
    let len = page_round(len);
    // SAFETY: the range lies inside our own private anonymous mapping (the
    // callers' check); MADV_DONTNEED only drops its pages.
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

/// The reserved region. Dropping it unmaps everything.
pub struct AddressSpace {
    // Held for its Drop: the whole reservation is unmapped with it.
    map: MmapMut,
    base: u64,
}

// SAFETY: the mapping is plain memory; all mutation of its contents goes
// through raw pointers under the VM's own synchronization.
unsafe impl Send for AddressSpace {}
// SAFETY: as for Send: shared access is the VM's synchronized raw-pointer use.
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
        // that only committed segments are accessible ...
        space.protect(base, REGION_SIZE, Prot::None)?;
        // ... except every slot's static data (type 3), which stays RW for
        // the space's whole life: generated code's inline pointer check
        // admits any address of a type-3 segment (`memory::ProgramMemory::
        // check`), so each must be readable and writable whether or not a
        // version is loaded there. Untouched pages cost nothing (NORESERVE),
        // and it is one protection change per slot.
        for slot in 0..SLOTS {
            let (lo, len) = space.data_range(Slot(slot));
            space.protect(lo, len, Prot::ReadWrite)?;
        }
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
    pub fn segment(&self, slot: Slot, ty: SegType, id: u32) -> u64 {
        self.addr(LargeAddr::segment(slot, ty, id))
    }

    /// Decode an absolute address of this region.
    pub fn decode(&self, addr: u64) -> Option<LargeAddr> {
        LargeAddr::decode(self.base, addr)
    }

    /// Change protection of `[addr, addr+len)` (page-rounded).
    pub fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), SpaceError> {
        debug_assert!(addr >= self.base && addr + len <= self.base + REGION_SIZE);
        protect_range(addr, len, prot)
    }

    /// Give the pages of `[addr, addr+len)` back to the OS and make them
    /// inaccessible again: what "unmapped" means inside the reservation.
    pub fn release(&self, addr: u64, len: u64) -> Result<(), SpaceError> {
        debug_assert!(addr >= self.base && addr + len <= self.base + REGION_SIZE);
        release_range(addr, len)
    }

    /// The static-data (type 3) segments of `slot`: one contiguous range,
    /// `(start, len)`, mapped read-write for the space's whole life.
    pub fn data_range(&self, slot: Slot) -> (u64, u64) {
        debug_assert!(slot.0 < SLOTS);
        (self.segment(slot, SegType::Data, 0), 1u64 << TYPE_SHIFT)
    }

    /// Release a whole version space (every segment of the slot). Its
    /// static data is zeroed (its pages given back) but stays read-write:
    /// see [`AddressSpace::reserve`].
    pub fn release_slot(&self, slot: Slot) -> Result<(), SpaceError> {
        debug_assert!(slot.0 < SLOTS);
        let start = self.base + ((slot.0 as u64) << VERSION_SHIFT);
        let end = start + (1u64 << VERSION_SHIFT);
        let (lo, len) = self.data_range(slot);
        self.release(start, lo - start)?;
        discard_range(lo, len)?;
        self.release(lo + len, end - (lo + len))
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
            if let Some((range, _)) = line.split_once(' ')
                && let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) = (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16))
            {
                inside = lo >= self.base && hi <= self.base + REGION_SIZE;
                continue;
            }
            if inside && let Some(rest) = line.strip_prefix("Rss:") {
                let kb: u64 = rest
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .unwrap_or(0);
                total += kb * 1024;
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

/// Where the next function a version's `JITModule` defines must go: set by
/// the loader just before `define_function_bytes`, taken (reset to none) by
/// the one allocation that function makes.
#[derive(Clone, Debug, Default)]
pub struct NextCode(Arc<AtomicU64>);

impl NextCode {
    /// The next allocation goes to `addr`, a segment start.
    pub fn set(&self, addr: u64) {
        self.0.store(addr, Ordering::Relaxed);
    }

    /// Takes the address set last, if any: each is used once.
    fn take(&self) -> Option<u64> {
        match self.0.swap(0, Ordering::Relaxed) {
            0 => None,
            a => Some(a),
        }
    }
}

/// A `JITMemoryProvider` that allocates inside the reservation, each
/// function at exactly the address it was told through [`NextCode`].
///
/// Cranelift-jit makes exactly one executable allocation per defined
/// function; this provider turns that allocation into "commit the segment
/// start RW" (the pattern of cranelift-jit's own `ArenaMemoryProvider`),
/// flips every committed range to RX in [`JITMemoryProvider::finalize`]
/// (after clearing the instruction cache where the target needs it), and
/// gives the pages back to the OS in [`JITMemoryProvider::free_memory`].
/// It refuses data allocations: a version's data and table are placed by
/// the loader, not by the JIT, and are never executable.
///
/// The procedures' code segments of a version are one block, committed RW
/// with one call at the first allocation in it and flipped RX with one call:
/// a protection change per procedure would leave two mappings per procedure
/// (code, then the PROT_NONE rest of its segment), and Linux allows 65,530
/// mappings per process (`vm.max_map_count`), which a 20,000-procedure
/// program would exceed. Interprocedures and mprocedures, few, are
/// committed one by one.
///
/// It holds the reservation's base, not a borrow of it: it only touches
/// memory while a load or a retirement runs, both of which hold the
/// [`AddressSpace`]; dropping it does nothing.
pub struct PlacingMemory {
    base: u64,
    next: NextCode,
    /// The block of procedure segments, `(start, len)`.
    block: (u64, u64),
    /// Whether the block has been committed RW (it is then in `writing`).
    block_open: bool,
    /// Ranges committed RW, not yet finalized.
    writing: Vec<(u64, u64)>,
    /// Ranges finalized RX.
    done: Vec<(u64, u64)>,
}

impl PlacingMemory {
    /// A provider for the reservation `space`, placing where `next` says;
    /// `block` is the version's span of procedure segments.
    pub fn new(space: &AddressSpace, next: NextCode, block: (u64, u64)) -> PlacingMemory {
        debug_assert!(block.0 >= space.base && block.0 + block.1 <= space.base + REGION_SIZE);
        PlacingMemory {
            base: space.base,
            next,
            block,
            block_open: false,
            writing: Vec::new(),
            done: Vec::new(),
        }
    }
}

fn jit_error(e: SpaceError) -> ModuleError {
    ModuleError::Allocation {
        err: io::Error::other(e),
    }
}

impl JITMemoryProvider for PlacingMemory {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> io::Result<*mut u8> {
        if !matches!(kind, JITMemoryKind::Executable) {
            return Err(io::Error::other(
                "podus places only code through the JIT; data is placed by the loader",
            ));
        }
        let addr = self.next.take().ok_or_else(|| {
            io::Error::other("a JIT allocation without an address to place it at")
        })?;
        let size = size as u64;
        let in_region = addr >= self.base && addr + size <= self.base + REGION_SIZE;
        let aligned = align.is_power_of_two() && addr % align == 0;
        if !in_region || !aligned || size > SEGMENT_SIZE {
            return Err(io::Error::other(format!(
                "cannot place {size} bytes aligned to {align} at {addr:#x}"
            )));
        }
        let (start, len) = self.block;
        if addr >= start && addr + size <= start + len {
            if !self.block_open {
                if self.done.contains(&self.block) {
                    return Err(io::Error::other("the version's code is already final"));
                }
                protect_range(start, len, Prot::ReadWrite).map_err(io::Error::other)?;
                self.writing.push(self.block);
                self.block_open = true;
            }
        } else {
            protect_range(addr, size, Prot::ReadWrite).map_err(io::Error::other)?;
            self.writing.push((addr, size));
        }
        Ok(addr as *mut u8)
    }

    fn finalize(&mut self, _branch_protection: BranchProtection) -> ModuleResult<()> {
        for (addr, len) in std::mem::take(&mut self.writing) {
            // SAFETY: [addr, addr+len) was committed RW by `allocate` and
            // holds the code just written there.
            unsafe {
                wasmtime_internal_jit_icache_coherence::clear_cache(addr as *const _, len as usize)
            }
            .map_err(|e| ModuleError::Allocation {
                err: io::Error::other(e.to_string()),
            })?;
            protect_range(addr, len, Prot::ReadExec).map_err(jit_error)?;
            self.done.push((addr, len));
        }
        self.block_open = false;
        wasmtime_internal_jit_icache_coherence::pipeline_flush_mt().map_err(|e| {
            ModuleError::Allocation {
                err: io::Error::other(e.to_string()),
            }
        })?;
        Ok(())
    }

    unsafe fn free_memory(&mut self) {
        for (addr, len) in self.done.drain(..).chain(self.writing.drain(..)) {
            let _ = release_range(addr, len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The permissions `/proc/self/maps` shows for the page holding `addr`.
    fn perms_of(addr: u64) -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let mut parts = line.split_whitespace();
            let (Some(range), Some(perms)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (lo, hi) = range.split_once('-').unwrap();
            let (lo, hi) = (
                u64::from_str_radix(lo, 16).unwrap(),
                u64::from_str_radix(hi, 16).unwrap(),
            );
            if (lo..hi).contains(&addr) {
                return perms.to_string();
            }
        }
        panic!("{addr:#x} is in no mapping");
    }

    #[test]
    fn placing_memory_puts_each_function_exactly_where_told_and_flips_it_at_finalize() {
        let space = AddressSpace::reserve().unwrap();
        let next = NextCode::default();
        let block = (space.segment(Slot(1), SegType::Proc, 0), 4 * SEGMENT_SIZE);
        let mut mem = PlacingMemory::new(&space, next.clone(), block);
        let exec = || JITMemoryKind::Executable;

        // Nothing told, nothing placed.
        assert!(mem.allocate(16, 16, exec()).is_err());

        let at = space.segment(Slot(1), SegType::Proc, 2);
        next.set(at);
        let p = mem.allocate(100, 16, exec()).unwrap();
        assert_eq!(p as u64, at);
        // SAFETY: just committed RW by the provider.
        unsafe { p.write(0xc3) };
        assert_eq!(perms_of(at), "rw-p");
        // An address is used once.
        assert!(mem.allocate(16, 16, exec()).is_err());

        // Data is the loader's, never the JIT's.
        next.set(space.segment(Slot(1), SegType::Data, 0));
        assert!(mem.allocate(16, 8, JITMemoryKind::Writable).is_err());
        // A unit larger than its segment is refused.
        next.set(space.segment(Slot(1), SegType::Proc, 3));
        assert!(mem.allocate(SEGMENT_SIZE as usize + 1, 16, exec()).is_err());
        // Outside the block (an interprocedure), also exactly where told.
        let ip = space.segment(Slot(1), SegType::IProc, 2);
        next.set(ip);
        assert_eq!(mem.allocate(10, 16, exec()).unwrap() as u64, ip);

        mem.finalize(BranchProtection::None).unwrap();
        assert_eq!(perms_of(at), "r-xp");
        assert_eq!(perms_of(ip), "r-xp");
        // SAFETY: the code placed here is never run.
        unsafe { mem.free_memory() };
        assert_eq!(perms_of(at), "---p");
        assert_eq!(perms_of(ip), "---p");
    }
}
