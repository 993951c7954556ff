//! The update engine (SPEC §4): which procedures may be replaced when, and
//! the two-phase commit of semantic groups.
//!
//! Invariants:
//! - a group commits only when no member is syntactically active: no old
//!   frame of a member, and no old frame of anything in a member's δ* in the
//!   target version (old = code of a version older than the target);
//! - per procedure, updates commit in version order: a group of a later
//!   update waits while any member is still pending in an earlier one;
//! - prepare (carry-over, then the mprocedure, on the helper thread with a
//!   time limit) writes only the target version's own data segments; commit
//!   stores the bindings. A failed prepare restores those segments, so the
//!   program cannot tell that it was tried;
//! - all of this runs with the program paused (control thread) or on the
//!   program thread itself at a return barrier.
//!
//! Shape (STYLE.md "State machines and the effects around them"): the
//! [`Engine`] holds the state, keyed by [`ProcId`] (each procedure's
//! committed version lives in `Engine::cur` alone); `plan::plan` is a
//! pure function of the loaded versions, the engine and the request;
//! committing reaches the program only through the `Program` trait
//! (`live::Live` in the VM, a recording fake in `tests.rs`). The stack
//! comes in as frames, walked by the caller.
//!
//! - `plan`: the changed set, the groups and their precomputed stores;
//! - `active`: activeness of a group against old frames (δ*);
//! - `commit`: begin, check, commit a group, abandon, completion;
//! - `retire`: giving back versions nothing needs;
//! - `report`: the `status` snapshot;
//! - `live`: the real `Program` and the entry points the VM calls.

mod active;
mod commit;
mod live;
mod plan;
mod report;
mod retire;
#[cfg(test)]
mod tests;

pub use commit::AbandonReason;
pub(crate) use live::plan;
pub(crate) use live::{abandon, begin, on_exit, recheck};
pub(crate) use report::status;
pub use report::{ProcBindings, Status, StatusPending, StatusVersion, TableBinding};

use crate::FrameInfo;
use crate::binding::{BindingTable, ProcId};
use crate::events::Event;
use crate::ids::VersionNo;
use crate::layout::LargeAddr;
use crate::runtime::ExitStatus;
use crate::version::Version;
use compiler::changes::ChangesFile;
use std::collections::HashMap;
use std::time::Duration;

/// Where a barrier goes after a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Barrier {
    /// On this return slot (of the top frame).
    Install(u64),
    /// Nowhere: nothing is pending, or no frame could return into a check.
    Remove,
    /// The program ended: forget any barrier without touching its stack.
    Drop,
}

/// The narrow way the engine reaches the program (STYLE.md "State machines
/// and the effects around them"): everything an update does to the running
/// program goes through here, so that unit tests can run the engine
/// against a fake that records it. The live implementation is
/// [`live::Live`]; the stack itself comes in as frames, walked by the
/// caller.
pub(crate) trait Program {
    /// Tell observers (`ush`, traces, tests).
    fn emit(&mut self, e: Event);
    /// SET SDTE: store `addr` in `table[id]`.
    ///
    /// # Safety
    /// `table` belongs to a live version; the program is paused or is the
    /// calling thread; `addr` is code that callers through `table` may run.
    unsafe fn store_binding(&mut self, table: BindingTable, id: ProcId, addr: u64);
    /// Read `len` bytes of data at `addr`.
    ///
    /// # Safety
    /// `[addr, addr+len)` lies in a committed data segment of a live version.
    unsafe fn read(&self, addr: u64, len: usize) -> Vec<u8>;
    /// Write `bytes` at `addr`.
    ///
    /// # Safety
    /// As [`Program::read`]; the segment is the target version's own, which
    /// no code runs against until its group commits.
    unsafe fn write(&mut self, addr: u64, bytes: &[u8]);
    /// Run the mprocedure at `entry` (named `label` in reports, e.g.
    /// `v2:mproc:tick`) with `old_base` as its old data, under its time
    /// limit.
    fn run_mproc(&mut self, label: &str, entry: u64, old_base: u64) -> ExitStatus;
    /// Move the return barrier.
    fn barrier(&mut self, b: Barrier);
    /// Decode an address of the VM's region.
    fn decode(&self, addr: u64) -> Option<LargeAddr>;
    /// Give a retired version's memory back.
    ///
    /// # Safety
    /// As [`Version::release`]: nothing runs or points into `v` any more.
    unsafe fn release(&mut self, v: &Version);
    /// Wake whoever waits for the pending updates to change.
    fn notify_waiters(&mut self);
}

/// The loaded versions by number.
pub(crate) type Versions = std::collections::BTreeMap<VersionNo, std::sync::Arc<Version>>;

/// What [`plan::plan`] reads of the VM: the loaded versions and the names
/// of their procedures.
#[derive(Clone, Copy)]
pub(crate) struct Loaded<'a> {
    /// The loaded versions.
    pub versions: &'a Versions,
    /// Procedure names by ID.
    pub names: &'a crate::names::NameService,
}

/// How many retired version numbers the engine remembers by number.
pub const RECENT_RETIRED: usize = 64;

/// One semantic group: updated atomically.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// Procedures rebound together, by ID (the engine's key for them).
    pub members: Vec<ProcId>,
    /// Their names, in `members` order (sorted by name): for reports, and
    /// to look them up in a version.
    pub names: Vec<String>,
    /// Changed globals whose data moves with this group.
    pub globals: Vec<String>,
    /// What committing it takes, worked out before the pause.
    pub(crate) pre: Precomputed,
}

/// The part of a group's commit that can be worked out before the program
/// is paused, so that the pause itself is a few bit tests and stores per
/// procedure (SPEC §7: 1,000 procedures in 2 ms).
#[derive(Clone, Debug, Default)]
pub(crate) struct Precomputed {
    /// Target-module index of each member, in `names` order: activeness
    /// is then one δ* bit test per member and old frame, with no hashing.
    pub(super) idx: Vec<usize>,
    /// The binding stores of the commit: (`table_u`, P, value). They depend
    /// only on which versions are loaded, so they hold (and the tables are
    /// live) while the engine's `versions_gen` is still `stores_gen`.
    pub(super) stores: Vec<(BindingTable, ProcId, u64)>,
    pub(super) stores_gen: Option<u64>,
    /// Whether any member or global has a data segment to prepare (statics
    /// to carry over or an mproc to run): such groups take the full path.
    pub(super) has_data: bool,
}

/// An update in progress.
#[derive(Clone, Debug)]
pub struct Update {
    /// Engine-wide id.
    pub id: u64,
    /// Version it starts from.
    pub from: VersionNo,
    /// Target version.
    pub to: VersionNo,
    /// Groups still waiting.
    pub groups: Vec<Group>,
    /// Groups committed.
    pub applied: Vec<Vec<String>>,
    /// Groups abandoned or failed, each with the reason.
    pub not_applied: Vec<Abandoned>,
    /// The `within` the update was begun with (for the reason it names).
    pub within: Option<Duration>,
    /// What beginning it changed outside its groups, so that an update
    /// that ends with nothing applied leaves every procedure's committed
    /// version as it found it (SPEC §4.2.1: warping an unchanged procedure
    /// is not running a new version): each warped procedure with the
    /// version it was at, and the procedures new in the target.
    pub warped: Vec<(ProcId, VersionNo)>,
    /// Procedures new in the target and in no group, bound to it at begin.
    pub born: Vec<ProcId>,
    /// Set when the program ended with the update pending.
    pub at_exit: bool,
}

/// How an update ended (SPEC §4.2.1): exactly one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every group applied.
    Complete,
    /// Some groups applied, the rest abandoned.
    Partial,
    /// No group applied.
    NothingApplied,
}

impl Ending {
    /// The ending of an update that applied `applied` groups and abandoned
    /// `abandoned`.
    pub fn of(applied: usize, abandoned: usize) -> Ending {
        match (applied, abandoned) {
            (_, 0) => Ending::Complete,
            (0, _) => Ending::NothingApplied,
            _ => Ending::Partial,
        }
    }
}

/// Why a group of an update was not applied (SPEC §4.2.1). A caller that
/// decides on it (`wait` fails unless `abort` alone abandoned groups)
/// matches the variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotApplied {
    /// A member was still active when the update's `within` ran out.
    Within(Option<Duration>),
    /// `abort` abandoned it while a member was still active.
    Abort,
    /// Preparing or committing it failed (an mproc trapped, old data of
    /// another version); nothing of it changed. The text is for the user.
    Failed(String),
}

/// A group an update did not apply, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Abandoned {
    /// Its members' names.
    pub members: Vec<String>,
    /// Why.
    pub why: NotApplied,
}

/// How many ended updates the engine remembers for `wait`.
pub const RECENT_ENDED: usize = 64;

/// An update that ended, as `wait` reports it (SPEC §4.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateEnded {
    /// The update's id.
    pub id: u64,
    /// Its target version.
    pub to: VersionNo,
    /// Complete, partial or nothing applied.
    pub ending: Ending,
    /// Groups applied (names).
    pub applied: Vec<Vec<String>>,
    /// Groups not applied, each with why.
    pub not_applied: Vec<Abandoned>,
    /// It ended because the program did (nothing on the stack, so what
    /// waited committed then): no code of the target ran, and the next
    /// `run` starts at it.
    pub at_exit: bool,
}

/// The engine's state (inside the VM's state lock).
#[derive(Default)]
pub struct Engine {
    /// Version each procedure is committed to: the one record of it that
    /// every report reads (HRVN is derived from it).
    pub cur: HashMap<ProcId, VersionNo>,
    /// Version each changed global's value was last moved to.
    pub(crate) global_cur: HashMap<ProcId, VersionNo>,
    /// Updates with groups still waiting, oldest first.
    pub pending: Vec<Update>,
    /// The most recently retired version numbers (at most
    /// [`RECENT_RETIRED`]): a pup doing thousands of updates must not grow.
    pub retired: std::collections::VecDeque<VersionNo>,
    /// How many versions have been retired in all.
    pub retired_count: u64,
    /// Return interrupts enabled (a barrier is wanted).
    pub return_interrupts: bool,
    next_id: u64,
    /// Pause times of recent commits (ns), newest last (bounded).
    pub pauses: std::collections::VecDeque<u64>,
    /// Bumped whenever a version is loaded or retired: precomputed binding
    /// stores are only used while it has not moved.
    pub(crate) versions_gen: u64,
    /// The most recently ended updates (at most [`RECENT_ENDED`]).
    ended: std::collections::VecDeque<UpdateEnded>,
    /// How many updates have ended in all.
    ended_count: u64,
}

impl Engine {
    /// Remember an update that ended.
    fn remember(&mut self, e: UpdateEnded) {
        self.ended.push_back(e);
        if self.ended.len() > RECENT_ENDED {
            self.ended.pop_front();
        }
        self.ended_count += 1;
    }

    /// How many updates have ended so far: a mark for [`Engine::ended_since`].
    pub fn ended_mark(&self) -> u64 {
        self.ended_count
    }

    /// The updates that ended after `mark` was taken, oldest first (of the
    /// last [`RECENT_ENDED`]).
    pub fn ended_since(&self, mark: u64) -> Vec<UpdateEnded> {
        let n = self.ended_count.saturating_sub(mark) as usize;
        let n = n.min(self.ended.len());
        self.ended
            .iter()
            .skip(self.ended.len() - n)
            .cloned()
            .collect()
    }

    /// The program starts running `v`: every procedure of it is current.
    pub(crate) fn on_run(&mut self, v: VersionNo, ver: &Version) {
        self.cur = ver.procs.values().map(|p| (ProcId(p.id), v)).collect();
        self.global_cur.clear();
        self.pending.clear();
        self.return_interrupts = false;
    }

    /// Highest running version number: the highest version some procedure
    /// is committed to (0 before the program runs).
    pub fn hrvn(&self) -> VersionNo {
        self.cur.values().copied().max().unwrap_or(VersionNo(0))
    }

    /// The version procedure `id` will be running when an update loaded
    /// now applies: the target of the latest pending update that will move
    /// it, else its committed version (`None` if the program never ran it).
    pub fn old_version(&self, id: ProcId) -> Option<VersionNo> {
        let mut v = *self.cur.get(&id)?;
        for up in &self.pending {
            if up.groups.iter().any(|g| g.members.contains(&id)) {
                v = v.max(up.to);
            }
        }
        Some(v)
    }
}

/// What `update` asks for.
#[derive(Clone, Debug, Default)]
pub struct UpdateRequest {
    /// Starting version (default: the highest running version).
    pub from: Option<VersionNo>,
    /// Target version (default: the newest loaded).
    pub to: Option<VersionNo>,
    /// Procedures to treat as changed (must include every computed change).
    pub changed: Option<Vec<String>>,
    /// Semantic dependencies: each list is updated together.
    pub together: Vec<Vec<String>>,
    /// Abandon what is still pending after this long.
    pub within: Option<Duration>,
    /// All changed procedures form one group.
    pub atomic: bool,
    /// Refuse the update if it would start a static or global afresh
    /// whose old value has another type ([`UpdateError::WouldReset`]).
    pub strict: bool,
}

impl UpdateRequest {
    /// The request a changes file describes.
    pub fn from_changes(c: &ChangesFile) -> UpdateRequest {
        UpdateRequest {
            from: c.update.map(|u| VersionNo(u.0)),
            to: c.update.map(|u| VersionNo(u.1)),
            changed: c.changed.clone(),
            together: c.together.clone(),
            within: c.within,
            atomic: c.atomic,
            strict: c.strict,
        }
    }
}

/// Why an update could not begin. Nothing changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UpdateError {
    /// A version is not loaded.
    #[error("version {0} is not loaded")]
    NoVersion(VersionNo),
    /// The versions are not in order.
    #[error("cannot update from version {from} to version {to}: the target must be newer")]
    Order {
        /// From.
        from: VersionNo,
        /// To.
        to: VersionNo,
    },
    /// Nothing runs yet.
    #[error("no program is running (use run first)")]
    NotRunning,
    /// The program has ended: there is nothing to update.
    #[error("the program is not running (it has stopped); run it again before updating")]
    Ended,
    /// The target is older than what a procedure already runs.
    #[error(
        "cannot update to version {to}: {name} is already at version {committed} (an update only moves procedures forward)"
    )]
    Older {
        /// Target.
        to: VersionNo,
        /// A procedure at a newer version.
        name: String,
        /// Its committed version.
        committed: VersionNo,
    },
    /// Every procedure is at the target already.
    #[error("every procedure is already at version {0}: nothing to update")]
    AlreadyAt(VersionNo),
    /// An update to the same target is still pending.
    #[error("an update to version {0} is already pending (wait for it, or abort it first)")]
    AlreadyPending(VersionNo),
    /// The changes do not fit the versions.
    #[error("{0}")]
    Changes(String),
    /// `strict` and the update would lose data: each listed static or
    /// global changes type and no mproc carries it.
    #[error("update refused (strict): {}", resets_text(.0))]
    WouldReset(Vec<Reset>),
}

/// A static or global that an update starts afresh although the version it
/// leaves holds one of the same name: its type changed and no mproc carries
/// it (SPEC §2.1). Reported by every update, refused by a strict one, so
/// that no state is lost silently.
#[derive(Clone, Debug, PartialEq)]
pub struct Reset {
    /// `proc.static` for a static, the global's name for a global.
    pub name: String,
    /// The version whose value is dropped.
    pub from: VersionNo,
    /// Its type there.
    pub old: compiler::ir::VarTy,
    /// Its type in the target, where it starts from its initializer.
    pub new: compiler::ir::VarTy,
}

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} in version {}, {} now)",
            self.name, self.old, self.from, self.new
        )
    }
}

fn resets_text(r: &[Reset]) -> String {
    let list: Vec<String> = r.iter().map(|r| r.to_string()).collect();
    format!(
        "it would reset {} to the initializer: the type changed and no mproc carries the value",
        list.join(", ")
    )
}

/// What beginning an update found and did (the paper's ush lines).
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateBegun {
    /// The update's id.
    pub id: u64,
    /// From.
    pub from: VersionNo,
    /// To.
    pub to: VersionNo,
    /// Changed procedures (computed plus listed).
    pub changed: Vec<String>,
    /// Why each was found changed (`name: code, statics`).
    pub reasons: Vec<String>,
    /// The runtime stack, innermost first.
    pub backtrace: Vec<FrameInfo>,
    /// Unchanged procedures in no group: flagged new.
    pub warped_unchanged: Vec<String>,
    /// Changed procedures updated at once.
    pub committed: Vec<String>,
    /// Groups left waiting.
    pub pending: Vec<Vec<String>>,
    /// Groups that failed to prepare: (members, error).
    pub failed: Vec<(Vec<String>, String)>,
    /// Notes on automatic groups.
    pub notes: Vec<String>,
    /// Statics and globals this update starts afresh although their old
    /// version holds a value of another type.
    pub resets: Vec<Reset>,
    /// Return interrupts were enabled.
    pub return_interrupts: bool,
    /// Nothing is left pending.
    pub complete: bool,
}
