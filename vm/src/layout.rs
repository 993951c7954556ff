//! The large address: `other | version | type | proc ID | disp` (SPEC §3).
//!
//! All field widths live here and nowhere else, and so do the offsets into
//! the runtime context that generated code and assembly rely on (each pinned
//! by a compile-time assertion). A field is decoded as
//! `((addr - base) >> shift) & mask`, so the region base (`other`) needs no
//! alignment beyond a page.

use crate::ids::Slot;
use std::fmt;

/// Bits of the displacement inside a segment (64 KiB segments).
pub const DISP_BITS: u32 = 16;
/// Bits of the procedure ID (65,536 names per program).
pub const PROC_BITS: u32 = 16;
/// Bits of the segment type.
pub const TYPE_BITS: u32 = 3;
/// Bits of the version-space slot (256 version spaces).
pub const VERSION_BITS: u32 = 8;

/// Shift of the proc ID field.
pub const PROC_SHIFT: u32 = DISP_BITS;
/// Shift of the type field.
pub const TYPE_SHIFT: u32 = PROC_SHIFT + PROC_BITS;
/// Shift of the version field.
pub const VERSION_SHIFT: u32 = TYPE_SHIFT + TYPE_BITS;
/// Size in bytes of the whole region one pup reserves.
pub const REGION_SIZE: u64 = 1 << (VERSION_SHIFT + VERSION_BITS);
/// Size of one segment (one procedure's code, or its statics).
pub const SEGMENT_SIZE: u64 = 1 << DISP_BITS;
/// Number of version-space slots.
pub const SLOTS: u32 = 1 << VERSION_BITS;
/// Largest procedure ID.
pub const MAX_PROC_ID: u32 = (1 << PROC_BITS) - 1;

/// Offset of [`crate::runtime::Ctx::limit`]: generated code loads it at
/// every safepoint (`codegen`, through the pinned register r15).
pub const CTX_LIMIT: usize = 0;
/// Offset of [`crate::runtime::Ctx::entry_sp`]: `podus_enter` stores the
/// stack pointer there and `podus_unwind` reloads it (`runtime`'s assembly).
pub const CTX_ENTRY_SP: usize = 16;

// Code that is not Rust addresses these fields by number: a reordered or
// resized `Ctx` must fail to compile, not corrupt a stack at run time.
const _: () = assert!(std::mem::offset_of!(crate::runtime::Ctx, limit) == CTX_LIMIT);
const _: () = assert!(std::mem::offset_of!(crate::runtime::Ctx, entry_sp) == CTX_ENTRY_SP);

const fn mask(bits: u32) -> u64 {
    (1u64 << bits) - 1
}

/// What a segment holds: the `type` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SegType {
    /// Procedure code.
    Proc = 0,
    /// Interprocedure code.
    IProc = 1,
    /// Mprocedure code.
    MProc = 2,
    /// Static data of a procedure or a global.
    Data = 3,
    /// The version's binding table.
    Table = 4,
    /// Reserved for remote procedures.
    Remote = 5,
}

impl SegType {
    /// The type for a field value, if it is one of ours.
    pub fn from_bits(v: u64) -> Option<SegType> {
        Some(match v {
            0 => SegType::Proc,
            1 => SegType::IProc,
            2 => SegType::MProc,
            3 => SegType::Data,
            4 => SegType::Table,
            5 => SegType::Remote,
            _ => return None,
        })
    }

    /// Short name used in decoded addresses (`v2:proc:do_pizza+0x40`).
    pub fn short(self) -> &'static str {
        match self {
            SegType::Proc => "proc",
            SegType::IProc => "iproc",
            SegType::MProc => "mproc",
            SegType::Data => "data",
            SegType::Table => "table",
            SegType::Remote => "remote",
        }
    }

    /// Code segments are the ones a return address can point into.
    pub fn is_code(self) -> bool {
        matches!(self, SegType::Proc | SegType::IProc | SegType::MProc)
    }
}

/// A large address split into its fields (relative to a region base).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LargeAddr {
    /// Version-space slot (not the user-visible version number).
    pub slot: Slot,
    /// Segment type.
    pub ty: SegType,
    /// Procedure ID (the name service's internal name).
    pub proc_id: u32,
    /// Displacement inside the segment.
    pub disp: u32,
}

impl LargeAddr {
    /// Start of the segment `(slot, ty, proc_id, 0)`.
    pub fn segment(slot: Slot, ty: SegType, proc_id: u32) -> LargeAddr {
        LargeAddr {
            slot,
            ty,
            proc_id,
            disp: 0,
        }
    }

    /// The offset from the region base.
    pub fn offset(self) -> u64 {
        debug_assert!(self.slot.0 < SLOTS && self.proc_id <= MAX_PROC_ID);
        ((self.slot.0 as u64) << VERSION_SHIFT)
            | ((self.ty as u64) << TYPE_SHIFT)
            | ((self.proc_id as u64) << PROC_SHIFT)
            | self.disp as u64
    }

    /// The absolute address in a region starting at `base`.
    pub fn encode(self, base: u64) -> u64 {
        base + self.offset()
    }

    /// Split an absolute address; `None` if it is outside the region or its
    /// type field is not one of ours.
    pub fn decode(base: u64, addr: u64) -> Option<LargeAddr> {
        let off = addr.checked_sub(base)?;
        if off >= REGION_SIZE {
            return None;
        }
        Some(LargeAddr {
            slot: Slot(((off >> VERSION_SHIFT) & mask(VERSION_BITS)) as u32),
            ty: SegType::from_bits((off >> TYPE_SHIFT) & mask(TYPE_BITS))?,
            proc_id: ((off >> PROC_SHIFT) & mask(PROC_BITS)) as u32,
            disp: (off & mask(DISP_BITS)) as u32,
        })
    }
}

impl fmt::Display for LargeAddr {
    /// The raw form, with slot and proc ID as numbers: `s1:proc:#3+0x40`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "s{}:{}:#{}+{:#x}",
            self.slot,
            self.ty.short(),
            self.proc_id,
            self.disp
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encode_decode_round_trip(slot in 0..SLOTS, ty in 0u64..6, proc_id in 0..=MAX_PROC_ID,
                                    disp in 0u32..(1 << DISP_BITS), base_page in 1u64..(1 << 30)) {
            let base = base_page << 12;
            let a = LargeAddr { slot: Slot(slot), ty: SegType::from_bits(ty).unwrap(), proc_id, disp };
            let addr = a.encode(base);
            prop_assert_eq!(LargeAddr::decode(base, addr), Some(a));
            // The field formula of SPEC §3, literally.
            prop_assert_eq!(((addr - base) >> VERSION_SHIFT) & mask(VERSION_BITS), slot as u64);
            prop_assert_eq!(((addr - base) >> PROC_SHIFT) & mask(PROC_BITS), proc_id as u64);
        }

        #[test]
        fn outside_the_region_is_not_decoded(base_page in 1u64..(1 << 30), below in 1u64..4096, above in 0u64..(1 << 20)) {
            let base = base_page << 12;
            prop_assert_eq!(LargeAddr::decode(base, base - below), None);
            prop_assert_eq!(LargeAddr::decode(base, base + REGION_SIZE + above), None);
        }
    }

    #[test]
    fn widths_fit_a_user_address_space() {
        assert_eq!(REGION_SIZE, 1 << 43);
        assert_eq!(SEGMENT_SIZE, 65536);
    }
}
