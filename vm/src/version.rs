//! A loaded version: its slot, placed code, data, binding table and δ*
//! (how one is made is [`crate::load`]).
//!
//! Invariants:
//! - procedure P of version v is at exactly `(slot_v, 0, P, 0)`, its
//!   interprocedure at `(slot_v, 1, P, 0)`, its mprocedure at `(slot_v, 2, P, 0)`,
//!   statics at `(slot_owner, 3, P, 0)`, the table at `(slot_v, 4, 0, 0)`;
//! - an unchanged procedure or global shares the data segment of the version
//!   that owns it, so running code of both versions sees one copy.

use crate::ids::{Slot, VersionNo};
use crate::layout::SegType;
use crate::runtime::Printf;
use crate::space::AddressSpace;
use compiler::callgraph::DeltaStar;
use compiler::ir::{Module, Signature, Static, VarTy};
use cranelift_jit::JITModule;
use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::sync::Arc;

/// One procedure of a version.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    /// Procedure ID.
    pub id: u32,
    /// Signature in this version.
    pub sig: Signature,
    /// Absolute address of its code.
    pub code: u64,
    /// Code size in bytes.
    pub size: u32,
    /// Absolute address of its data segment (0 if it has no statics).
    pub data: u64,
    /// The version number that owns that data segment.
    pub data_owner: VersionNo,
    /// Its statics (layout).
    pub statics: Vec<Static>,
    /// Names it calls.
    pub callees: Vec<String>,
    /// Globals it uses.
    pub globals_used: Vec<String>,
}

/// One global of a version.
#[derive(Debug, Clone)]
pub struct GlobalInfo {
    /// Its ID (globals share the name space with procedures).
    pub id: u32,
    /// Its type.
    pub ty: VarTy,
    /// Absolute address of its data.
    pub addr: u64,
    /// Version number owning the data.
    pub owner: VersionNo,
}

/// Placed interprocedure or mprocedure code.
#[derive(Debug, Clone)]
pub struct AuxCode {
    /// Absolute address.
    pub addr: u64,
    /// Size in bytes.
    pub size: u32,
    /// For an interprocedure: the old signature it accepts.
    pub old_sig: Option<Signature>,
    /// The version its old signature (iproc) or `old.NAME` reads (mproc)
    /// were checked against, when there was one.
    pub old_version: Option<VersionNo>,
}

impl Version {
    /// This version's binding table.
    pub fn bindings(&self) -> crate::binding::BindingTable {
        // SAFETY: a version's table is committed RW from its load until the
        // version is retired, and a Version value lives exactly that long.
        unsafe { crate::binding::BindingTable::from_raw(self.table, self.table_bytes) }
    }
}

/// A loaded version.
pub struct Version {
    /// User-visible version number.
    pub number: VersionNo,
    /// Version-space slot.
    pub slot: Slot,
    /// The module it was compiled from, without procedure bodies: once
    /// its code is placed, what the pup needs of a version is its
    /// signatures, statics, call edges and globals (SPEC §7: a pup's
    /// memory is what an update needs). Code comparisons use `summary`.
    pub module: Arc<Module>,
    /// Digests of its procedures' normalized code and its globals, what
    /// `diff::diff_summaries` compares a new version against.
    pub summary: compiler::diff::Summary,
    /// Source text, when known (runtime errors then show line:column).
    pub source: Option<Arc<str>>,
    /// Procedures by name.
    pub procs: BTreeMap<String, ProcInfo>,
    /// Globals by name.
    pub globals: HashMap<String, GlobalInfo>,
    /// Interprocedures by served procedure.
    pub iprocs: BTreeMap<String, AuxCode>,
    /// Mprocedures by served procedure or global.
    pub mprocs: BTreeMap<String, AuxCode>,
    /// Absolute address of the binding table.
    pub table: u64,
    /// Committed size of the table.
    pub table_bytes: u64,
    /// δ* of this version, indexed like `module.procs`.
    pub delta: DeltaStar,
    /// Module index of each procedure name.
    pub index: HashMap<String, usize>,
    /// Initial contents of the data segments this version owns, so a failed
    /// prepare can be undone: (address, bytes).
    pub init_data: HashMap<u64, Vec<u8>>,
    /// Printf descriptors and `%s` literals: never read from Rust, but the
    /// version's code points at them, so they live exactly as long as it
    /// (boxed so that their addresses stay put while the vector grows).
    #[allow(dead_code, clippy::vec_box)]
    pub(crate) printfs: Vec<Box<Printf>>,
    #[allow(dead_code)]
    pub(crate) strings: Vec<CString>,
    /// The `JITModule` that placed the code.
    pub(crate) code: VersionCode,
    /// Total bytes of procedure code.
    pub code_bytes: u64,
}

// SAFETY: the raw pointers in printf descriptors and strings are owned data.
unsafe impl Send for Version {}
// SAFETY: as for Send: the owned data is never mutated through a shared Version.
unsafe impl Sync for Version {}

impl Version {
    /// Procedure names in ID order.
    pub fn names_by_id(&self) -> Vec<&str> {
        let mut v: Vec<(&u32, &str)> = self
            .procs
            .iter()
            .map(|(n, p)| (&p.id, n.as_str()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, n)| n).collect()
    }

    /// The δ* matrix in procedure-ID order, rows of `0 1 1`, at most
    /// `max` rows and columns: a load reports it (as the paper's ush prints a
    /// "shrunk" table), and a 10,000-procedure program must not make it
    /// render 10^8 cells. Lines past the limit end in `...`, and a last line
    /// says how much was left out.
    pub fn delta_matrix(&self, max: usize) -> String {
        // Module indices in ID order, so each cell is a bit test.
        let mut order: Vec<(u32, usize)> = self
            .procs
            .iter()
            .map(|(n, p)| (p.id, self.index[n]))
            .collect();
        order.sort_unstable();
        let n = order.len();
        let shown = n.min(max);
        let idx: Vec<usize> = order[..shown].iter().map(|&(_, p)| p).collect();
        let cells = self.delta.corner(&idx, &idx);
        let mut s = String::with_capacity(shown * (2 * shown + 5));
        for row in &cells {
            for k in 0..shown {
                if k > 0 {
                    s.push(' ');
                }
                s.push(if row.contains(k) { '1' } else { '0' });
            }
            if shown < n {
                s.push_str(" ...");
            }
            s.push('\n');
        }
        if shown < n {
            s.push_str(&format!(
                ":\n({n} x {n}; the first {shown} rows and columns shown)\n"
            ));
        }
        s
    }

    /// Start of this version's space.
    pub fn space_base(&self, space: &AddressSpace) -> u64 {
        space.segment(self.slot, SegType::Proc, 0)
    }

    /// Gives the version's space back to the OS: its code through its
    /// `JITModule`, then the whole slot (data and table).
    ///
    /// # Safety
    /// The version must be retired: no frame of it is live, no binding
    /// table points into it, and no thread will enter it again.
    pub(crate) unsafe fn release(&self, space: &AddressSpace) {
        // SAFETY: per the caller's contract.
        unsafe { self.code.free() };
        let _ = space.release_slot(self.slot);
    }
}

/// A loaded version's `JITModule`, kept so that retiring the version can
/// free its code through [`JITModule::free_memory`]. Nothing else reads it.
pub(crate) struct VersionCode(std::sync::Mutex<Option<JITModule>>);

impl VersionCode {
    /// Keeps the module that placed a version's code.
    pub(crate) fn new(jit: JITModule) -> VersionCode {
        VersionCode(std::sync::Mutex::new(Some(jit)))
    }

    /// Gives the code's pages back ([`crate::space::PlacingMemory`]'s `free_memory`).
    ///
    /// # Safety
    /// No thread may run, or return into, this version's code afterwards.
    unsafe fn free(&self) {
        let jit = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(jit) = jit {
            // SAFETY: per the caller's contract.
            unsafe { jit.free_memory() };
        }
    }
}
