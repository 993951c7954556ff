//! Newtypes for numbers that must not be mixed up (STYLE.md): a version's
//! slot in the address space ([`Slot`]) is not its user-visible version
//! number ([`VersionNo`]), and neither is a procedure ID
//! ([`crate::binding::ProcId`]).
//!
//! Invariant: a [`Slot`] is below [`crate::layout::SLOTS`] wherever it
//! names a version space (the loader only hands out free ones).

use std::fmt;

/// A version-space slot: which of the region's [`crate::layout::SLOTS`]
/// version spaces a loaded version occupies. Slots are reused after a
/// version retires; version numbers never are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(pub u32);

impl Slot {
    /// The slot as an index (of the VM's table of used slots).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Slot {
    /// The bare number (a decoded address writes it `s3`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A user-visible version number (1, 2, ...): what `ush load` names, what
/// the changes file's `version` line says, and what every message prints.
/// Never reused, and not a [`Slot`]. The wire protocol carries it as a bare
/// `u64`; the pup converts at its boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionNo(pub u64);

impl fmt::Display for VersionNo {
    /// The bare number, so messages read `version 2` as they always have
    /// (width and alignment flags apply as they did to the `u64`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_number_prints_as_the_bare_number_it_wraps() {
        for n in [0u64, 1, 2, 17, u64::MAX] {
            assert_eq!(VersionNo(n).to_string(), n.to_string());
            // Width and alignment flags behave as they did on the u64.
            assert_eq!(
                format!("{:>6}|{:<4}", VersionNo(n), VersionNo(n)),
                format!("{n:>6}|{n:<4}")
            );
        }
        assert_eq!(format!("v{}", VersionNo(3)), "v3");
        assert!(VersionNo(2) < VersionNo(10), "ordered as numbers");
    }
}
