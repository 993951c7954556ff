//! The heap allocator. Every piece of its bookkeeping lives here, on the
//! Rust side: the program can write any byte of its heap without making
//! the allocator unsound.
//!
//! Small objects (up to [`MAX_SMALL`] bytes) come from size classes: a
//! class's run is a page-aligned block carved from the heap's top and cut
//! into equal slots; freed slots go to the class's free list once they
//! leave the quarantine. Larger objects are page-granular spans, reused
//! best-fit (and split) from a set of free spans, into which a freed span
//! is merged with its free neighbours. A page map gives, for
//! every heap page below the top, the run that holds it.
//!
//! The shadow (one byte per 16-byte granule) is nonzero exactly on the
//! granules of live objects' bytes: `ceil(size / 16)` granules from the
//! object's start. Freed objects wait in a FIFO quarantine bounded in bytes
//! before their memory is handed out again, so a use after free reads a
//! zero shadow byte and is caught.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{FreeError, GRANULE};

/// Largest size served by a size class; larger objects are spans.
pub(super) const MAX_SMALL: u64 = 32 << 10;
const PAGE: u64 = 4096;
const NONE: u32 = u32::MAX;
/// Slot states.
const NEVER: u8 = 0;
const LIVE: u8 = 1;
const FREED: u8 = 2;
/// Class index of a big span's run.
const BIG: u8 = u8::MAX;

/// The size classes: 16..=256 by 16, then four per doubling to 32 KiB.
fn class_sizes() -> Vec<u64> {
    let mut v: Vec<u64> = (1..=16).map(|i| i * 16).collect();
    let mut base = 256;
    while base < MAX_SMALL {
        for q in 1..=4 {
            v.push(base + base / 4 * q);
        }
        base *= 2;
    }
    v
}

/// One run: a block of equal slots of one class, or one big span.
struct Run {
    /// Offset from the heap base.
    off: u64,
    /// Bytes per slot (a big span: its whole length).
    slot: u64,
    /// Class index, or [`BIG`].
    class: u8,
    /// Per slot: requested size (kept after free, for messages).
    sizes: Vec<u64>,
    /// Per slot: type tag.
    tags: Vec<u32>,
    /// Per slot: [`NEVER`], [`LIVE`] or [`FREED`].
    state: Vec<u8>,
    /// A big span that is in [`Heap::spans`] (free, out of the quarantine).
    free_span: bool,
}

/// What an address of the heap is, for classifying a failed check.
pub(super) enum Where {
    /// Not inside any object ever allocated.
    Nothing,
    /// Inside the bytes of a live object `(start, size)`.
    Live(u64, u64),
    /// In a live object's slot but past its size.
    Past(u64, u64),
    /// Inside the bytes of a freed object `(start, size)`.
    Freed(u64, u64),
}

pub(super) struct Heap {
    base: u64,
    len: u64,
    shadow: *mut u8,
    sizes: Vec<u64>,
    /// Size class for `(size + 15) / 16` when that is at most 64 (1 KiB).
    small_lut: [u8; 65],
    top: u64,
    pagemap: Vec<u32>,
    runs: Vec<Run>,
    /// Per class: free slots as `run << 32 | slot`.
    free: Vec<Vec<u64>>,
    /// Per class: the run being carved and its next unused slot.
    carving: Vec<(u32, u32)>,
    /// Free big spans: `(pages, run)`.
    spans: BTreeSet<(u64, u32)>,
    /// Freed big objects whose memory is not yet reused: offset → size. A
    /// freed span may be merged into its neighbour, so its own run no
    /// longer says where the object was: this does, for double frees and
    /// uses after free.
    freed_big: BTreeMap<u64, u64>,
    quarantine: VecDeque<u64>,
    q_bytes: u64,
    q_limit: u64,
}

// SAFETY: `shadow` points into a mapping owned by the `ProgramMemory` that
// owns this heap (behind its mutex); nothing else aliases it mutably.
unsafe impl Send for Heap {}

fn pack(run: u32, slot: u32) -> u64 {
    (run as u64) << 32 | slot as u64
}

fn unpack(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}

fn granules(size: u64) -> u64 {
    size.div_ceil(GRANULE)
}

impl Heap {
    pub(super) fn new(base: u64, len: u64, shadow: *mut u8, q_limit: u64) -> Heap {
        let sizes = class_sizes();
        let mut small_lut = [0u8; 65];
        for (g, c) in small_lut.iter_mut().enumerate() {
            let want = (g as u64).max(1) * GRANULE;
            *c = sizes.iter().position(|&s| s >= want).unwrap() as u8;
        }
        let n = sizes.len();
        Heap {
            base,
            len,
            shadow,
            sizes,
            small_lut,
            top: 0,
            pagemap: Vec::new(),
            runs: Vec::new(),
            free: vec![Vec::new(); n],
            carving: vec![(NONE, 0); n],
            spans: BTreeSet::new(),
            freed_big: BTreeMap::new(),
            quarantine: VecDeque::new(),
            q_bytes: 0,
            q_limit,
        }
    }

    /// Forget every object (the shadow and pages are cleared by the caller).
    pub(super) fn clear(&mut self) {
        *self = Heap::new(self.base, self.len, self.shadow, self.q_limit);
    }

    /// How far the heap has been carved (offset of its top).
    pub(super) fn top(&self) -> u64 {
        self.top
    }

    fn class_of(&self, size: u64) -> Option<usize> {
        if size <= 64 * GRANULE {
            Some(self.small_lut[granules(size) as usize] as usize)
        } else if size <= MAX_SMALL {
            Some(self.sizes.partition_point(|&s| s < size))
        } else {
            None
        }
    }

    fn set_shadow(&mut self, off: u64, size: u64, v: u8) {
        let n = granules(size);
        // SAFETY: `off + size` lies inside the heap, and the shadow mapping
        // has one byte per heap granule.
        unsafe { std::ptr::write_bytes(self.shadow.add((off / GRANULE) as usize), v, n as usize) };
    }

    /// Carve `bytes` (page multiple) from the top for a new run.
    fn carve(&mut self, bytes: u64, slot: u64, class: u8) -> Option<u32> {
        if self.len - self.top < bytes {
            return None;
        }
        let run = self.runs.len() as u32;
        let n = (bytes / slot) as usize;
        self.runs.push(Run {
            off: self.top,
            slot,
            class,
            sizes: vec![0; n],
            tags: vec![0; n],
            state: vec![NEVER; n],
            free_span: false,
        });
        self.top += bytes;
        self.pagemap.resize((self.top / PAGE) as usize, run);
        Some(run)
    }

    /// A new object of `size` bytes; its offset from the heap base.
    pub(super) fn alloc(&mut self, size: u64, tag: u32) -> Option<u64> {
        if size > self.len {
            return None;
        }
        if let Some(off) = self.try_alloc(size, tag) {
            return Some(off);
        }
        // Out of fresh memory: let the quarantine go before saying no.
        while self.release_one() {}
        self.try_alloc(size, tag)
    }

    fn try_alloc(&mut self, size: u64, tag: u32) -> Option<u64> {
        let (run, slot) = match self.class_of(size) {
            Some(c) => self.alloc_small(c)?,
            None => (self.alloc_big(size)?, 0),
        };
        let r = &mut self.runs[run as usize];
        let s = slot as usize;
        r.state[s] = LIVE;
        r.sizes[s] = size;
        r.tags[s] = tag;
        let off = r.off + slot as u64 * r.slot;
        self.set_shadow(off, size, 1);
        Some(off)
    }

    fn alloc_small(&mut self, c: usize) -> Option<(u32, u32)> {
        if let Some(v) = self.free[c].pop() {
            return Some(unpack(v));
        }
        let (run, next) = self.carving[c];
        if run != NONE && (next as usize) < self.runs[run as usize].state.len() {
            self.carving[c] = (run, next + 1);
            return Some((run, next));
        }
        let slot = self.sizes[c];
        let bytes = (slot * 8).max(64 << 10).div_ceil(PAGE) * PAGE;
        let run = self.carve(bytes, slot, c as u8)?;
        self.carving[c] = (run, 1);
        Some((run, 0))
    }

    fn alloc_big(&mut self, size: u64) -> Option<u32> {
        let pages = size.div_ceil(PAGE);
        if let Some(&(have, run)) = self.spans.range((pages, 0)..).next() {
            self.spans.remove(&(have, run));
            self.runs[run as usize].free_span = false;
            let off = self.runs[run as usize].off;
            let gone: Vec<u64> = self
                .freed_big
                .range(off..off + pages * PAGE)
                .map(|(&k, _)| k)
                .collect();
            for k in gone {
                self.freed_big.remove(&k);
            }
            if have > pages {
                // Split: the rest is a free span of its own.
                let r = &mut self.runs[run as usize];
                r.slot = pages * PAGE;
                let rest_off = r.off + pages * PAGE;
                let rest = self.runs.len() as u32;
                self.runs.push(Run {
                    off: rest_off,
                    slot: (have - pages) * PAGE,
                    class: BIG,
                    sizes: vec![0],
                    tags: vec![0],
                    state: vec![NEVER],
                    free_span: true,
                });
                let p0 = (rest_off / PAGE) as usize;
                self.pagemap[p0..p0 + (have - pages) as usize].fill(rest);
                self.spans.insert((have - pages, rest));
            }
            return Some(run);
        }
        self.carve(pages * PAGE, pages * PAGE, BIG)
    }

    /// The run and slot whose slot holds heap offset `off`, if any.
    fn locate(&self, off: u64) -> Option<(u32, u32)> {
        let run = *self.pagemap.get((off / PAGE) as usize)?;
        let r = &self.runs[run as usize];
        let slot = (off - r.off) / r.slot;
        // A run's tail shorter than a slot belongs to no slot.
        (slot < r.state.len() as u64).then_some((run, slot as u32))
    }

    /// The object `off` must start, for free and realloc.
    fn object_at(&self, addr: u64) -> Result<(u32, u32), FreeError> {
        let off = addr.wrapping_sub(self.base);
        let not_ours = FreeError::NotAllocated { addr };
        if off >= self.len {
            return Err(not_ours);
        }
        let (run, slot) = self.locate(off).ok_or(not_ours)?;
        let r = &self.runs[run as usize];
        let start = r.off + slot as u64 * r.slot;
        let s = slot as usize;
        match r.state[s] {
            LIVE if start == off => Ok((run, slot)),
            FREED if start == off => Err(FreeError::DoubleFree {
                addr,
                size: r.sizes[s],
            }),
            LIVE if off < start + r.sizes[s].max(1) => Err(FreeError::Interior {
                addr,
                object: self.base + start,
                size: r.sizes[s],
            }),
            _ => match self.freed_big.get(&off) {
                Some(&size) => Err(FreeError::DoubleFree { addr, size }),
                None => Err(not_ours),
            },
        }
    }

    /// Frees the object at absolute address `addr` (not null).
    pub(super) fn free(&mut self, addr: u64) -> Result<(), FreeError> {
        let (run, slot) = self.object_at(addr)?;
        let r = &mut self.runs[run as usize];
        let s = slot as usize;
        r.state[s] = FREED;
        let (off, size, bytes) = (r.off + slot as u64 * r.slot, r.sizes[s], r.slot);
        if r.class == BIG {
            self.freed_big.insert(off, size);
        }
        self.set_shadow(off, size, 0);
        self.quarantine.push_back(pack(run, slot));
        self.q_bytes += bytes;
        while self.q_bytes > self.q_limit && self.release_one() {}
        Ok(())
    }

    /// Hands the oldest quarantined object back to its free list.
    fn release_one(&mut self) -> bool {
        let Some(v) = self.quarantine.pop_front() else {
            return false;
        };
        let (run, _) = unpack(v);
        let r = &self.runs[run as usize];
        self.q_bytes -= r.slot;
        if r.class == BIG {
            let (off, len) = (r.off, r.slot);
            if len >= 64 << 10 {
                // SAFETY: the span lies inside the heap mapping; its pages
                // are only dropped (they read as zero afterwards).
                unsafe {
                    libc::madvise(
                        (self.base + off) as *mut _,
                        len as usize,
                        libc::MADV_DONTNEED,
                    )
                };
            }
            self.insert_span(run);
        } else {
            self.free[r.class as usize].push(v);
        }
        true
    }

    /// Puts big span `run` into the free set, merged with the free spans
    /// right after and before it, so that freed neighbours can serve a
    /// larger object.
    fn insert_span(&mut self, mut run: u32) {
        loop {
            let r = &self.runs[run as usize];
            let next = self
                .pagemap
                .get(((r.off + r.slot) / PAGE) as usize)
                .copied();
            match next {
                Some(n) if n != run && self.is_free_span(n) => self.absorb(run, n),
                _ => break,
            }
        }
        let off = self.runs[run as usize].off;
        if off > 0 {
            let prev = self.pagemap[(off / PAGE - 1) as usize];
            if prev != run && self.is_free_span(prev) {
                self.absorb(prev, run);
                run = prev;
            }
        }
        let r = &mut self.runs[run as usize];
        r.free_span = true;
        self.spans.insert((r.slot / PAGE, run));
    }

    fn is_free_span(&self, run: u32) -> bool {
        let r = &self.runs[run as usize];
        r.class == BIG && r.free_span
    }

    /// Span `lo` takes over span `hi`, which follows it (and leaves the
    /// free set if it was there).
    fn absorb(&mut self, lo: u32, hi: u32) {
        let h = &mut self.runs[hi as usize];
        if h.free_span {
            self.spans.remove(&(h.slot / PAGE, hi));
        }
        h.free_span = false;
        h.state[0] = NEVER;
        let (hoff, hlen) = (h.off, h.slot);
        let p0 = (hoff / PAGE) as usize;
        self.pagemap[p0..p0 + (hlen / PAGE) as usize].fill(lo);
        let l = &mut self.runs[lo as usize];
        if l.free_span {
            self.spans.remove(&(l.slot / PAGE, lo));
            l.free_span = false;
        }
        l.slot += hlen;
    }

    /// Size and tag of the live object at `addr` (for realloc).
    pub(super) fn live_object(&self, addr: u64) -> Result<(u64, u64, u32), FreeError> {
        let (run, slot) = self.object_at(addr)?;
        let r = &self.runs[run as usize];
        let s = slot as usize;
        Ok((r.slot, r.sizes[s], r.tags[s]))
    }

    /// Resizes the live object at `addr` in place (its slot has room).
    pub(super) fn resize_in_place(&mut self, addr: u64, size: u64, tag: u32) {
        let (run, slot) = self.object_at(addr).expect("checked live by the caller");
        let r = &mut self.runs[run as usize];
        let s = slot as usize;
        let (off, old) = (r.off + slot as u64 * r.slot, r.sizes[s]);
        r.sizes[s] = size;
        r.tags[s] = tag;
        self.set_shadow(off, old, 0);
        self.set_shadow(off, size, 1);
    }

    /// What heap offset `off` (inside the heap) is.
    pub(super) fn classify(&self, off: u64) -> Where {
        let Some((run, slot)) = self.locate(off) else {
            return Where::Nothing;
        };
        let r = &self.runs[run as usize];
        let s = slot as usize;
        let start = r.off + slot as u64 * r.slot;
        let (obj, size) = (self.base + start, r.sizes[s]);
        let inside = off < start + granules(size) * GRANULE;
        match r.state[s] {
            LIVE if inside => Where::Live(obj, size),
            LIVE => Where::Past(obj, size),
            FREED if inside => Where::Freed(obj, size),
            _ => match self.freed_big.range(..=off).next_back() {
                Some((&o, &size)) if off < o + granules(size) * GRANULE => {
                    Where::Freed(self.base + o, size)
                }
                _ => Where::Nothing,
            },
        }
    }

    /// Every live object: `(addr, size, tag)`.
    pub(super) fn objects(&self) -> Vec<(u64, u64, u32)> {
        let mut v = Vec::new();
        for r in &self.runs {
            for (i, &st) in r.state.iter().enumerate() {
                if st == LIVE {
                    v.push((self.base + r.off + i as u64 * r.slot, r.sizes[i], r.tags[i]));
                }
            }
        }
        v
    }

    /// Bytes waiting in the quarantine.
    pub(super) fn quarantined(&self) -> u64 {
        self.q_bytes
    }
}
