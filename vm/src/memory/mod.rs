//! The memory a UC program owns besides its statics: two data stacks and a
//! heap, with the shadow map that says which heap bytes are live, and the
//! one pointer check every load, store and C library call goes through.
//!
//! # The API generated code and the compiler use
//!
//! **Layout** ([`ProgramMemory::layout`], constants baked into code):
//! `MemLayout { arena_base, stacks_len, heap_base, heap_len, shadow_base,
//! space_base }`, all `u64`. `[arena_base, arena_base + stacks_len)` holds
//! both data stacks (Program's first, then MProc's:
//! [`ProgramMemory::data_stack`] gives `(lo, hi)` of each), `heap_base =
//! arena_base + stacks_len`, the shadow has one byte per 16-byte heap
//! granule. 64 KiB past the heap's end are mapped too (never handed out),
//! so a scalar of up to 64 bytes that starts inside the heap never faults.
//!
//! **The inline check** (what codegen emits; [`ProgramMemory::check`]
//! computes exactly the same verdict): an access of `len` (1..=64) bytes at
//! `addr` is allowed iff
//! - (a) `addr - arena_base < stacks_len` (wrapping sub, unsigned compare), or
//! - (b) `addr - heap_base < heap_len` and
//!   `shadow[(addr - heap_base) >> 4] != 0`, or
//! - (c) `off = addr - space_base`, `off < REGION_SIZE`,
//!   `(off >> TYPE_SHIFT) & 7 == 3` and
//!   `(off & (SEGMENT_SIZE - 1)) + len <= SEGMENT_SIZE`.
//!
//! When it fails, codegen calls
//! `rt_bad_access(ctx, addr, len | (write as u64) << 63, fp, pc, span)`,
//! which never returns. The C library's ranges use the stricter
//! [`ProgramMemory::check_range`] (every granule of the range).
//!
//! **Runtime entries** (`extern "C"`, in `runtime`, first argument the
//! `*const Ctx`; `fp`/`pc`/`span` as for `rt_trap`):
//! - `rt_malloc(ctx, size: u64, tag: u32) -> u64`
//! - `rt_calloc(ctx, n: u64, size: u64, tag: u32) -> u64`
//! - `rt_realloc(ctx, ptr: u64, size: u64, tag: u32, fp: u64, pc: u64, span: u32) -> u64`
//! - `rt_free(ctx, ptr: u64, fp: u64, pc: u64, span: u32)`
//! - `rt_bad_access(ctx, addr: u64, len_and_write: u64, fp: u64, pc: u64, span: u32) -> !`
//! - `rt_libc(ctx, which: u32, args: *const u64, fp: u64, pc: u64, span: u32) -> u64`
//!   (`which` is a `runtime::LibcFn`; see there for its numbering and how
//!   arguments and results are passed)
//! - `rt_sprintf(ctx, desc: *const Printf, args: *const u64, dst: u64, fp: u64, pc: u64, span: u32) -> i32`
//! - `rt_snprintf(ctx, desc: *const Printf, args: *const u64, dst: u64, cap: u64, fp: u64, pc: u64, span: u32) -> i32`
//!
//! `rt_printf_at(ctx, desc, args, fp, pc, span)` is `rt_printf` with a
//! position for the error of a bad `%s` pointer (`rt_printf` is kept).
//!
//! **`LibcFn` numbering** (`runtime::LibcFn`, `from_name`, `arity`):
//! strlen 1, strcmp 2, strncmp 3, strcpy 4, strncpy 5, strcat 6, strncat 7,
//! strchr 8, strrchr 9, strstr 10, memcpy 11, memmove 12, memset 13,
//! memcmp 14; isalnum 20, isalpha 21, isdigit 22, isxdigit 23, islower 24,
//! isupper 25, isspace 26, ispunct 27, isprint 28, iscntrl 29, isgraph 30,
//! toupper 31, tolower 32; atoi 40, atol 41, strtol 42, strtoul 43,
//! strtod 44, abs 45, labs 46, strdup 47.
//!
//! **printf descriptors**: `prepare_conv` gives `ConvKind::Str` for every
//! `%s` (its slot points to a NUL-terminated literal outside program
//! memory, as today) and `ConvKind::Ptr` for `%p`; `%c` is `ConvKind::Char`.
//! For a `%s` whose argument is a `char *` value, the code generator sets
//! the piece's `kind` to `ConvKind::CStr` and passes the program address
//! in the slot: it is read with the checks, at most the precision's bytes.
//!
//! `tag` is the object's type (0 = raw bytes); realloc keeps the old tag
//! when given 0. Failures stop the program with a runtime error whose
//! [`crate::RuntimeError::fault`] is the [`MemFault`].

mod heap;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Mutex;

use crate::layout::{REGION_SIZE, SEGMENT_SIZE, SegType, TYPE_SHIFT};
use crate::runtime::Role;

/// Bytes per shadow granule: heap objects are 16-aligned and the shadow
/// says, per granule, whether it holds live bytes.
pub const GRANULE: u64 = 16;
/// Mapped past the heap's end so that an inline-checked scalar never faults.
const TAIL: u64 = 64 << 10;
/// Addresses below this are null pointers (plus an offset).
const NULL_PAGE: u64 = 4096;

/// Sizes of the program's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemConfig {
    /// Bytes of each of the two data stacks.
    pub stack_len: u64,
    /// Bytes reserved for the heap (address space only until used).
    pub heap_len: u64,
    /// Freed bytes held back before their memory is reused.
    pub quarantine: u64,
}

impl Default for MemConfig {
    /// 64 MiB per data stack, a 4 GiB heap, a 2 MiB quarantine.
    fn default() -> MemConfig {
        MemConfig {
            stack_len: 64 << 20,
            heap_len: 4 << 30,
            quarantine: 2 << 20,
        }
    }
}

/// Where the program's memory is: constants generated code bakes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemLayout {
    /// Start of both data stacks.
    pub arena_base: u64,
    /// Bytes of both data stacks together.
    pub stacks_len: u64,
    /// Start of the heap (`arena_base + stacks_len`).
    pub heap_base: u64,
    /// Bytes of the heap.
    pub heap_len: u64,
    /// The shadow: byte `i` is nonzero iff heap granule `i` is live.
    pub shadow_base: u64,
    /// The VM's region base (`AddressSpace::base`), for check (c).
    pub space_base: u64,
}

/// Why an access was refused, for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    /// Below 4096: a null pointer plus an offset.
    Null,
    /// Inside the bytes of a heap object that was freed.
    Freed {
        /// The object's start.
        object: u64,
        /// Its size.
        size: u64,
    },
    /// Starts inside memory the program owns but runs past its end: a heap
    /// object, a static-data segment or a data stack.
    Overrun {
        /// The start of what it overruns.
        object: u64,
        /// Its size.
        size: u64,
    },
    /// Outside every object the program owns.
    Wild,
}

/// A refused access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAccess {
    /// First byte.
    pub addr: u64,
    /// Bytes.
    pub len: u64,
    /// A store (else a load).
    pub write: bool,
    /// What the address is.
    pub kind: AccessKind,
}

fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

impl fmt::Display for BadAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = format!(
            "{} {} at {:#x}",
            if self.write { "writing" } else { "reading" },
            bytes(self.len),
            self.addr
        );
        match self.kind {
            AccessKind::Null => write!(f, "null pointer dereference ({what})"),
            AccessKind::Freed { size, .. } => write!(
                f,
                "use of freed memory: {what}, inside a {size}-byte object freed earlier"
            ),
            AccessKind::Overrun { object, size } => write!(
                f,
                "out-of-bounds access: {what}, past the end of a {size}-byte object at {object:#x}"
            ),
            AccessKind::Wild => write!(
                f,
                "wild pointer: {what} outside every object the program owns"
            ),
        }
    }
}

/// A refused `free` (or `realloc`) of a pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// Not a pointer malloc returned.
    NotAllocated {
        /// The pointer.
        addr: u64,
    },
    /// A pointer into the middle of a live object.
    Interior {
        /// The pointer.
        addr: u64,
        /// The object's start.
        object: u64,
        /// Its size.
        size: u64,
    },
    /// The object was already freed.
    DoubleFree {
        /// The pointer.
        addr: u64,
        /// The object's size.
        size: u64,
    },
}

impl fmt::Display for FreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FreeError::NotAllocated { addr } => {
                write!(f, "free of a pointer malloc did not return ({addr:#x})")
            }
            FreeError::Interior { addr, object, size } => write!(
                f,
                "free of a pointer into the middle of a {size}-byte object ({addr:#x} is {} past its start {object:#x})",
                bytes(addr - object)
            ),
            FreeError::DoubleFree { addr, size } => {
                write!(f, "double free of {addr:#x} (a {size}-byte object)")
            }
        }
    }
}

/// A memory error that stops the program (the typed part of its
/// [`crate::RuntimeError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemFault {
    /// A load, store or library read/write through a bad pointer.
    Access(BadAccess),
    /// A bad `free`.
    Free(FreeError),
    /// A bad `realloc` (the pointer is judged as `free` would).
    Realloc(FreeError),
}

impl fmt::Display for MemFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemFault::Access(a) => a.fmt(f),
            MemFault::Free(e) => e.fmt(f),
            MemFault::Realloc(e) => {
                let s = e.to_string();
                write!(f, "realloc{}", s.strip_prefix("free").unwrap_or(&s))
            }
        }
    }
}

/// An anonymous private NORESERVE read-write mapping, unmapped on drop.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(len: u64) -> std::io::Result<Mapping> {
        let len = len as usize;
        // SAFETY: a fresh anonymous mapping; no existing memory is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: ptr as *mut u8,
            len,
        })
    }

    /// Drops the pages of `[off, off + len)`: they read as zero again.
    fn discard(&self, off: u64, len: u64) {
        let len = (len.min(self.len as u64 - off)).div_ceil(4096) * 4096;
        if len > 0 {
            // SAFETY: inside our own mapping; only drops its pages.
            unsafe {
                libc::madvise(
                    self.ptr.add(off as usize) as *mut _,
                    len as usize,
                    libc::MADV_DONTNEED,
                )
            };
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr as *mut _, self.len) };
    }
}

/// The program's data stacks and heap: one reservation made when the VM is
/// created, living as long as the VM; the heap belongs to the program, not
/// to a version, and survives every update.
pub struct ProgramMemory {
    arena: Mapping,
    shadow: Mapping,
    layout: MemLayout,
    cfg: MemConfig,
    heap: Mutex<heap::Heap>,
}

// SAFETY: the mappings are plain memory owned by this value; the allocator
// state is behind the mutex, and the program's own reads and writes of its
// memory are the program's (two threads that never run at once).
unsafe impl Send for ProgramMemory {}
// SAFETY: as for Send.
unsafe impl Sync for ProgramMemory {}

impl ProgramMemory {
    /// Reserves the memory (sizes rounded up to pages and granules) for a
    /// VM whose address space starts at `space_base`.
    pub fn new(cfg: MemConfig, space_base: u64) -> std::io::Result<ProgramMemory> {
        let page = |n: u64| n.max(4096).div_ceil(4096) * 4096;
        let cfg = MemConfig {
            stack_len: page(cfg.stack_len),
            heap_len: page(cfg.heap_len),
            quarantine: cfg.quarantine,
        };
        let stacks_len = 2 * cfg.stack_len;
        let arena = Mapping::new(stacks_len + cfg.heap_len + TAIL)?;
        let shadow = Mapping::new(cfg.heap_len / GRANULE)?;
        let arena_base = arena.ptr as u64;
        let layout = MemLayout {
            arena_base,
            stacks_len,
            heap_base: arena_base + stacks_len,
            heap_len: cfg.heap_len,
            shadow_base: shadow.ptr as u64,
            space_base,
        };
        let heap = heap::Heap::new(layout.heap_base, cfg.heap_len, shadow.ptr, cfg.quarantine);
        Ok(ProgramMemory {
            arena,
            shadow,
            layout,
            cfg,
            heap: Mutex::new(heap),
        })
    }

    /// The addresses generated code bakes in.
    pub fn layout(&self) -> MemLayout {
        self.layout
    }

    /// The data stack of the thread `role` runs on: `(lo, hi)`; it grows
    /// down from `hi`.
    pub fn data_stack(&self, role: Role) -> (u64, u64) {
        let lo = self.layout.arena_base
            + match role {
                Role::Program => 0,
                Role::MProc => self.cfg.stack_len,
            };
        (lo, lo + self.cfg.stack_len)
    }

    fn heap(&self) -> std::sync::MutexGuard<'_, heap::Heap> {
        self.heap.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shadow_at(&self, heap_off: u64) -> u8 {
        // SAFETY: `heap_off < heap_len`, and the shadow has a byte per granule.
        unsafe { *self.shadow.ptr.add((heap_off / GRANULE) as usize) }
    }

    /// Is `addr` inside a type-3 segment with `len` bytes left in it?
    fn in_statics(&self, addr: u64, len: u64) -> bool {
        let off = addr.wrapping_sub(self.layout.space_base);
        off < REGION_SIZE
            && (off >> TYPE_SHIFT) & 7 == SegType::Data as u64
            && (off & (SEGMENT_SIZE - 1)) + len <= SEGMENT_SIZE
    }

    /// The inline check's verdict for an access of `len` bytes at `addr`
    /// (exactly what generated code computes: for the heap only the first
    /// byte's granule is looked at); the refusal says why.
    pub fn check(&self, addr: u64, len: u64, write: bool) -> Result<(), BadAccess> {
        let l = &self.layout;
        if addr.wrapping_sub(l.arena_base) < l.stacks_len
            || self.in_statics(addr, len)
            || (addr.wrapping_sub(l.heap_base) < l.heap_len
                && self.shadow_at(addr - l.heap_base) != 0)
        {
            return Ok(());
        }
        Err(self.classify(addr, len, write))
    }

    /// The C library's check: every byte of `[addr, addr + len)` must be
    /// owned, in one piece (the data stacks, one static segment, or one
    /// live heap object, exact to its size in bytes). A zero-length range touches nothing and passes.
    pub fn check_range(&self, addr: u64, len: u64, write: bool) -> Result<(), BadAccess> {
        if len == 0 {
            return Ok(());
        }
        let l = &self.layout;
        let bad = |kind| BadAccess {
            addr,
            len,
            write,
            kind,
        };
        let s = addr.wrapping_sub(l.arena_base);
        if s < l.stacks_len {
            if len <= l.stacks_len - s {
                return Ok(());
            }
            return Err(bad(AccessKind::Overrun {
                object: l.arena_base,
                size: l.stacks_len,
            }));
        }
        let off = addr.wrapping_sub(l.space_base);
        if off < REGION_SIZE && (off >> TYPE_SHIFT) & 7 == SegType::Data as u64 {
            if self.in_statics(addr, len) {
                return Ok(());
            }
            return Err(bad(AccessKind::Overrun {
                object: addr & !(SEGMENT_SIZE - 1),
                size: SEGMENT_SIZE,
            }));
        }
        let h = addr.wrapping_sub(l.heap_base);
        if h < l.heap_len && self.shadow_at(h) != 0 {
            let end = h.checked_add(len).filter(|&e| e <= l.heap_len);
            let all = end.is_some_and(|end| {
                (h / GRANULE + 1..end.div_ceil(GRANULE)).all(|g| self.shadow_at(g * GRANULE) != 0)
            });
            if all {
                // Contiguous live granules may still be two objects.
                let heap = self.heap();
                if let heap::Where::Live(obj, size) = heap.classify(h) {
                    // Exact to the byte (the inline check is exact to the
                    // granule): the C library knows the whole range.
                    if addr + len <= obj + size {
                        return Ok(());
                    }
                    return Err(bad(AccessKind::Overrun { object: obj, size }));
                }
                return Ok(());
            }
            let heap = self.heap();
            if let heap::Where::Live(object, size) = heap.classify(h) {
                return Err(bad(AccessKind::Overrun { object, size }));
            }
        }
        Err(self.classify(addr, len, write))
    }

    /// The owned piece `addr` is in: `(avail, start, size)`, where
    /// `avail >= 1` bytes from `addr` on are owned — to the end of the data
    /// stacks, of its static segment, or of the live heap object (exact to
    /// the byte)
    /// — and `start`/`size` name the piece (the object, for messages). A C
    /// string is scanned with this and may not leave the piece it starts
    /// in: running off its end is an [`AccessKind::Overrun`].
    pub fn owned_piece(&self, addr: u64, write: bool) -> Result<(u64, u64, u64), BadAccess> {
        let l = &self.layout;
        let s = addr.wrapping_sub(l.arena_base);
        if s < l.stacks_len {
            return Ok((l.stacks_len - s, l.arena_base, l.stacks_len));
        }
        if self.in_statics(addr, 1) {
            let seg = addr & !(SEGMENT_SIZE - 1);
            return Ok((seg + SEGMENT_SIZE - addr, seg, SEGMENT_SIZE));
        }
        let h = addr.wrapping_sub(l.heap_base);
        if h < l.heap_len
            && self.shadow_at(h) != 0
            && let heap::Where::Live(obj, size) = self.heap().classify(h)
        {
            if addr < obj + size {
                return Ok((obj + size - addr, obj, size));
            }
            return Err(BadAccess {
                addr,
                len: 1,
                write,
                kind: AccessKind::Overrun { object: obj, size },
            });
        }
        Err(self.classify(addr, 1, write))
    }

    /// Why an access the check refused was refused.
    pub fn classify(&self, addr: u64, len: u64, write: bool) -> BadAccess {
        let l = &self.layout;
        let kind = if addr < NULL_PAGE {
            AccessKind::Null
        } else if self.in_statics(addr, 1) && !self.in_statics(addr, len) {
            AccessKind::Overrun {
                object: addr & !(SEGMENT_SIZE - 1),
                size: SEGMENT_SIZE,
            }
        } else {
            let h = addr.wrapping_sub(l.heap_base);
            if h < l.heap_len {
                match self.heap().classify(h) {
                    heap::Where::Freed(object, size) => AccessKind::Freed { object, size },
                    heap::Where::Past(object, size) | heap::Where::Live(object, size) => {
                        AccessKind::Overrun { object, size }
                    }
                    heap::Where::Nothing => AccessKind::Wild,
                }
            } else {
                AccessKind::Wild
            }
        };
        BadAccess {
            addr,
            len,
            write,
            kind,
        }
    }

    /// `malloc(size)` with type `tag`: a 16-aligned address, or 0 when the
    /// heap is exhausted. `malloc(0)` gives a unique pointer (as glibc's),
    /// through which no byte may be accessed.
    pub fn malloc(&self, size: u64, tag: u32) -> u64 {
        match self.heap().alloc(size, tag) {
            Some(off) => self.layout.heap_base + off,
            None => 0,
        }
    }

    /// `calloc(n, size)`: zeroed; 0 when `n * size` overflows or the heap
    /// is exhausted.
    pub fn calloc(&self, n: u64, size: u64, tag: u32) -> u64 {
        let Some(total) = n.checked_mul(size) else {
            return 0;
        };
        let p = self.malloc(total, tag);
        if p != 0 {
            // SAFETY: a fresh live object of `total` bytes in the heap.
            unsafe { std::ptr::write_bytes(p as *mut u8, 0, total as usize) };
        }
        p
    }

    /// `free(ptr)`; `free(NULL)` does nothing.
    pub fn free(&self, ptr: u64) -> Result<(), FreeError> {
        if ptr == 0 {
            return Ok(());
        }
        self.heap().free(ptr)
    }

    /// `realloc(ptr, size)` as glibc's: `realloc(NULL, n)` is `malloc(n)`,
    /// `realloc(p, 0)` frees `p` and gives 0, exhaustion gives 0 and leaves
    /// `p` alone. The contents up to the smaller size are kept, and so is
    /// the tag unless `tag` is nonzero.
    pub fn realloc(&self, ptr: u64, size: u64, tag: u32) -> Result<u64, FreeError> {
        if ptr == 0 {
            return Ok(self.malloc(size, tag));
        }
        if size == 0 {
            self.free(ptr)?;
            return Ok(0);
        }
        let mut heap = self.heap();
        let (slot, old, old_tag) = heap.live_object(ptr)?;
        let tag = if tag == 0 { old_tag } else { tag };
        if size <= slot && size > slot / 2 {
            heap.resize_in_place(ptr, size, tag);
            return Ok(ptr);
        }
        let Some(off) = heap.alloc(size, tag) else {
            return Ok(0);
        };
        let new = self.layout.heap_base + off;
        // SAFETY: two distinct live heap objects, each at least this long.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr as *const u8, new as *mut u8, old.min(size) as usize)
        };
        heap.free(ptr).expect("checked live above");
        Ok(new)
    }

    /// Every live heap object: `(addr, size, tag)`.
    pub fn objects(&self) -> impl Iterator<Item = (u64, u64, u32)> + use<> {
        self.heap().objects().into_iter()
    }

    /// Bytes of freed objects not yet reusable (at most the configured
    /// quarantine, plus one object).
    pub fn quarantined(&self) -> u64 {
        self.heap().quarantined()
    }

    /// The program restarts: the heap is empty and both stacks are fresh
    /// (every page given back, reading as zero).
    pub fn reset(&self) {
        let mut heap = self.heap();
        let top = heap.top();
        heap.clear();
        self.arena.discard(0, self.layout.stacks_len + top);
        self.shadow.discard(0, top.div_ceil(GRANULE));
    }
}
