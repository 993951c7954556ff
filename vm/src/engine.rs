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

use crate::binding::{BindingTable, ProcId};
use crate::events::{Event, Primitive};
use crate::layout::SegType;
use crate::runtime::ExitStatus;
use crate::version::Version;
use crate::{FrameInfo, ProgramState, Shared, State};
use compiler::changes::ChangesFile;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

/// How many retired version numbers the engine remembers by number.
pub const RECENT_RETIRED: usize = 64;

/// One semantic group: updated atomically.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// Procedures rebound together (sorted).
    pub members: Vec<String>,
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
    /// Target-module index of each member, in `members` order: activeness
    /// is then one δ* bit test per member and old frame, with no hashing.
    idx: Vec<usize>,
    /// Procedure ID of each member, in `members` order.
    ids: Vec<ProcId>,
    /// The binding stores of the commit: (`table_u`, P, value). They depend
    /// only on which versions are loaded, so they hold (and the tables are
    /// live) while the engine's `versions_gen` is still `stores_gen`.
    stores: Vec<(BindingTable, ProcId, u64)>,
    stores_gen: Option<u64>,
    /// Whether any member or global has a data segment to prepare (statics
    /// to carry over or an mproc to run): such groups take the full path.
    has_data: bool,
}

/// An update in progress.
#[derive(Clone, Debug)]
pub struct Update {
    /// Engine-wide id.
    pub id: u64,
    /// Version it starts from.
    pub from: u64,
    /// Target version.
    pub to: u64,
    /// Groups still waiting.
    pub groups: Vec<Group>,
    /// Groups committed.
    pub applied: Vec<Vec<String>>,
    /// Groups abandoned or failed, each with the reason.
    pub not_applied: Vec<(Vec<String>, String)>,
    /// The `within` the update was begun with (for the reason it names).
    pub within: Option<Duration>,
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

/// The engine's state (inside the VM's state lock).
#[derive(Default)]
pub struct Engine {
    /// Version each procedure is committed to: the one record of it that
    /// every report reads (HRVN is derived from it).
    pub cur: HashMap<ProcId, u64>,
    /// Version each changed global's value was last moved to.
    pub(crate) global_cur: HashMap<String, u64>,
    /// Updates with groups still waiting, oldest first.
    pub pending: Vec<Update>,
    /// The most recently retired version numbers (at most
    /// [`RECENT_RETIRED`]): a pup doing thousands of updates must not grow.
    pub retired: std::collections::VecDeque<u64>,
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
}

impl Engine {
    /// The program starts running `v`: every procedure of it is current.
    pub(crate) fn on_run(&mut self, v: u64, ver: &Version) {
        self.cur = ver.procs.values().map(|p| (ProcId(p.id), v)).collect();
        self.global_cur.clear();
        self.pending.clear();
        self.return_interrupts = false;
    }

    /// Highest running version number: the highest version some procedure
    /// is committed to (0 before the program runs).
    pub fn hrvn(&self) -> u64 {
        self.cur.values().copied().max().unwrap_or(0)
    }

    /// The version procedure `id` will be running when an update loaded
    /// now applies: the target of the latest pending update that will move
    /// it, else its committed version (`None` if the program never ran it).
    pub fn old_version(&self, id: ProcId) -> Option<u64> {
        let mut v = *self.cur.get(&id)?;
        for up in &self.pending {
            if up.groups.iter().any(|g| g.pre.ids.contains(&id)) {
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
    pub from: Option<u64>,
    /// Target version (default: the newest loaded).
    pub to: Option<u64>,
    /// Procedures to treat as changed (must include every computed change).
    pub changed: Option<Vec<String>>,
    /// Semantic dependencies: each list is updated together.
    pub together: Vec<Vec<String>>,
    /// Abandon what is still pending after this long.
    pub within: Option<Duration>,
    /// All changed procedures form one group.
    pub atomic: bool,
}

impl UpdateRequest {
    /// The request a changes file describes.
    pub fn from_changes(c: &ChangesFile) -> UpdateRequest {
        UpdateRequest {
            from: c.update.map(|u| u.0),
            to: c.update.map(|u| u.1),
            changed: c.changed.clone(),
            together: c.together.clone(),
            within: c.within,
            atomic: c.atomic,
        }
    }
}

/// Why an update could not begin. Nothing changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UpdateError {
    /// A version is not loaded.
    #[error("version {0} is not loaded")]
    NoVersion(u64),
    /// The versions are not in order.
    #[error("cannot update from version {from} to version {to}: the target must be newer")]
    Order {
        /// From.
        from: u64,
        /// To.
        to: u64,
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
        to: u64,
        /// A procedure at a newer version.
        name: String,
        /// Its committed version.
        committed: u64,
    },
    /// Every procedure is at the target already.
    #[error("every procedure is already at version {0}: nothing to update")]
    AlreadyAt(u64),
    /// An update to the same target is still pending.
    #[error("an update to version {0} is already pending (wait for it, or abort it first)")]
    AlreadyPending(u64),
    /// The changes do not fit the versions.
    #[error("{0}")]
    Changes(String),
}

/// What beginning an update found and did (the paper's ush lines).
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateBegun {
    /// The update's id.
    pub id: u64,
    /// From.
    pub from: u64,
    /// To.
    pub to: u64,
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
    /// Return interrupts were enabled.
    pub return_interrupts: bool,
    /// Nothing is left pending.
    pub complete: bool,
}

/// The procedures on the stack in frames older than `to`, as indices of
/// the target's module (a procedure the target lacks cannot be reached by
/// its code, so it does not count), deduplicated.
fn old_frames(frames: &[FrameInfo], target: &Version, to: u64) -> Vec<usize> {
    let mut old: Vec<usize> = frames
        .iter()
        .filter(|f| f.kind == SegType::Proc && f.version < to)
        .filter_map(|f| target.index.get(&f.name).copied())
        .collect();
    old.sort_unstable();
    old.dedup();
    old
}

/// SPEC §4.1: a group is active if a member is on the stack in an old
/// frame or its new version can reach (δ*) a procedure that is.
fn is_active(g: &Group, target: &Version, old: &[usize]) -> bool {
    let hit = |i: usize| old.iter().any(|&q| i == q || target.delta.reaches(i, q));
    if g.pre.idx.len() == g.members.len() {
        return g.pre.idx.iter().any(|&i| hit(i));
    }
    // Not precomputed against this target: look the names up.
    g.members
        .iter()
        .any(|m| target.index.get(m).is_some_and(|&i| hit(i)))
}

struct Uf {
    parent: HashMap<String, String>,
}

impl Uf {
    fn find(&mut self, x: &str) -> String {
        let p = self
            .parent
            .entry(x.to_string())
            .or_insert_with(|| x.to_string())
            .clone();
        if p == x {
            return p;
        }
        let r = self.find(&p);
        self.parent.insert(x.to_string(), r.clone());
        r
    }
    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent.insert(ra, rb);
        }
    }
}

/// What an update will do, worked out before the program is paused (the
/// diff and the groups cost time that should not be pause time).
pub(crate) struct Plan {
    from: u64,
    to: u64,
    changed: BTreeSet<String>,
    reasons: Vec<String>,
    groups: Vec<Group>,
    warped: Vec<String>,
    notes: Vec<String>,
}

/// Work out an update (SPEC §4.1) without touching the program.
pub(crate) fn plan(st: &State, req: &UpdateRequest) -> Result<Plan, UpdateError> {
    match st.ctl.program {
        ProgramState::Idle => return Err(UpdateError::NotRunning),
        ProgramState::Exited(_) => return Err(UpdateError::Ended),
        ProgramState::Running { .. } if !st.ctl.running => return Err(UpdateError::Ended),
        ProgramState::Running { .. } => {}
    }
    let to = match req.to {
        Some(t) => t,
        None => *st
            .versions
            .keys()
            .next_back()
            .ok_or(UpdateError::NoVersion(0))?,
    };
    let target = st.versions.get(&to).ok_or(UpdateError::NoVersion(to))?;
    // Versions are a number line (SPEC §4.2.1): the target may be any loaded
    // version that no procedure has passed; the update moves those not yet
    // at it, starting from the oldest committed version among them.
    if let Some((id, &committed)) = st
        .engine
        .cur
        .iter()
        .filter(|(_, c)| **c > to)
        .min_by_key(|(id, _)| **id)
    {
        return Err(UpdateError::Older {
            to,
            name: st.names.name(id.0).unwrap_or("?").to_string(),
            committed,
        });
    }
    if st.engine.pending.iter().any(|u| u.to == to) {
        return Err(UpdateError::AlreadyPending(to));
    }
    // Where each procedure will be when this update applies: its committed
    // version, or the target of an earlier pending update that moves it.
    let behind = target
        .procs
        .values()
        .map(|p| ProcId(p.id))
        .filter(|id| st.engine.cur.get(id).is_some_and(|&c| c < to))
        .filter_map(|id| st.engine.old_version(id))
        .min();
    let from = match (req.from, behind) {
        (Some(f), _) => f,
        (None, Some(b)) => b,
        (None, None) => return Err(UpdateError::AlreadyAt(to)),
    };
    if !st.versions.contains_key(&from) && !st.engine.retired.contains(&from) {
        // (A version retired long ago is simply "not loaded".)
        return Err(UpdateError::NoVersion(from));
    }
    if to <= from {
        return Err(UpdateError::Order { from, to });
    }

    // Changed procedures: compared per procedure against the version it is
    // committed to now (after an abandoned group that may be older than `from`).
    let mut diffs: HashMap<u64, compiler::diff::Diff> = HashMap::new();
    let mut changed = BTreeSet::new();
    let mut reasons = Vec::new();
    let mut changed_globals = BTreeSet::new();
    for (name, np) in &target.procs {
        let src = st.engine.cur.get(&ProcId(np.id)).copied().unwrap_or(from);
        if src >= to {
            continue;
        }
        let Some(sv) = st.versions.get(&src) else {
            continue;
        };
        if !sv.procs.contains_key(name) {
            continue; // new in the target: only new code reaches it
        }
        let d = diffs
            .entry(src)
            .or_insert_with(|| compiler::diff::diff(&sv.module, &target.module));
        if let Some(c) = d.changed.iter().find(|c| &c.name == name) {
            changed.insert(name.clone());
            let rs: Vec<String> = c.reasons.iter().map(|r| r.to_string()).collect();
            reasons.push(format!("{name}: {}", rs.join(", ")));
        }
    }
    if let Some(sv) = st.versions.get(&from) {
        let d = diffs
            .entry(from)
            .or_insert_with(|| compiler::diff::diff(&sv.module, &target.module));
        changed_globals.extend(d.changed_globals.iter().cloned());
        for g in &target.module.mprocs {
            if target.globals.contains_key(&g.name) {
                changed_globals.insert(g.name.clone());
            }
        }
        changed_globals.retain(|g| sv.globals.contains_key(g) && target.globals.contains_key(g));
        // A global already moved to the target (by an earlier try of this
        // update) keeps the value the program has given it since.
        changed_globals.retain(|g| st.engine.global_cur.get(g).is_none_or(|&v| v < to));
    }
    if let Some(list) = &req.changed {
        let missing: Vec<&String> = changed.iter().filter(|c| !list.contains(c)).collect();
        if !missing.is_empty() {
            let m: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return Err(UpdateError::Changes(format!(
                "the changes file omits procedures that changed: {}",
                m.join(" ")
            )));
        }
        for p in list {
            if !target.procs.contains_key(p) {
                return Err(UpdateError::Changes(format!(
                    "changed: version {to} has no procedure {p}"
                )));
            }
            changed.insert(p.clone());
        }
    }
    for t in &req.together {
        for p in t {
            if !target.procs.contains_key(p) {
                return Err(UpdateError::Changes(format!(
                    "together: version {to} has no procedure {p}"
                )));
            }
        }
    }

    // Groups: changed procedures, together lists, automatic groups.
    let mut uf = Uf {
        parent: HashMap::new(),
    };
    let mut in_group: BTreeSet<String> = changed.clone();
    let mut notes = Vec::new();
    for t in &req.together {
        for p in t {
            in_group.insert(p.clone());
            uf.union(&t[0], p);
        }
    }
    let src_module = st.versions.get(&from).map(|v| v.module.clone());
    // A procedure's code in the version it will be running when this update
    // applies (SPEC §4.2.1: "old" is per procedure).
    let old_proc = |name: &str| -> Option<&compiler::ir::Proc> {
        let v = st
            .names
            .id(name)
            .and_then(|id| st.engine.old_version(ProcId(id)))
            .unwrap_or(from);
        let ver = st.versions.get(&v).or_else(|| st.versions.get(&from))?;
        ver.index.get(name).map(|&i| &ver.module.procs[i])
    };
    if let Some(sm) = &src_module {
        for p in &changed {
            let (Some(old), Some(new)) = (old_proc(p), target.procs.get(p)) else {
                continue;
            };
            let iproc_fits = target
                .iprocs
                .get(p)
                .is_some_and(|i| i.old_sig.as_ref() == Some(&old.sig));
            if old.sig != new.sig && !iproc_fits {
                let callers: Vec<String> = target
                    .module
                    .procs
                    .iter()
                    .filter_map(|q| old_proc(&q.name))
                    .filter(|q| q.callees.contains(p))
                    .map(|q| q.name.clone())
                    .collect();
                for c in &callers {
                    in_group.insert(c.clone());
                    uf.union(p, c);
                }
                if !callers.is_empty() {
                    notes.push(format!(
                        "{p} changed its signature and has no interprocedure: its callers {} join its group",
                        callers.join(" ")
                    ));
                }
            }
        }
        for g in &changed_globals {
            let users: BTreeSet<String> = sm
                .procs
                .iter()
                .chain(target.module.procs.iter())
                .filter(|q| q.globals_used.contains(g) && target.procs.contains_key(&q.name))
                .map(|q| q.name.clone())
                .collect();
            let users: Vec<String> = users.into_iter().collect();
            for u in &users {
                in_group.insert(u.clone());
                uf.union(&users[0], u);
            }
            notes.push(format!(
                "global {g} changed: its users {} form a group",
                users.join(" ")
            ));
        }
    }
    if req.atomic {
        let all: Vec<String> = in_group.iter().cloned().collect();
        for p in &all {
            uf.union(&all[0], p);
        }
    }
    let mut groups: HashMap<String, Group> = HashMap::new();
    for p in &in_group {
        let r = uf.find(p);
        groups.entry(r).or_default().members.push(p.clone());
    }
    if let Some(sm) = &src_module {
        for g in &changed_globals {
            let user = sm
                .procs
                .iter()
                .chain(target.module.procs.iter())
                .find(|q| q.globals_used.contains(g) && target.procs.contains_key(&q.name));
            match user {
                Some(u) => {
                    let r = uf.find(&u.name);
                    groups.get_mut(&r).unwrap().globals.push(g.clone());
                }
                None => {
                    // Nobody uses it: its data moves at once.
                    groups.insert(
                        format!("global {g}"),
                        Group {
                            globals: vec![g.clone()],
                            ..Group::default()
                        },
                    );
                }
            }
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    for g in &mut groups {
        g.members.sort();
    }
    groups.sort_by(|a, b| a.members.cmp(&b.members));
    for g in &mut groups {
        precompute(st, to, g);
    }

    // Warp: unchanged procedures in no group are flagged new.
    let mut warped = Vec::new();
    for name in target.names_by_id() {
        let id = ProcId(target.procs[name].id);
        if !in_group.contains(name) && st.engine.cur.get(&id).is_some_and(|&c| c < to) {
            warped.push(name.to_string());
        }
    }
    Ok(Plan {
        from,
        to,
        changed,
        reasons,
        groups,
        warped,
        notes,
    })
}

/// Fill in `g.pre` against the current versions.
fn precompute(st: &State, to: u64, g: &mut Group) {
    let Some(target) = st.versions.get(&to) else {
        return;
    };
    g.pre.idx = g
        .members
        .iter()
        .filter_map(|m| target.index.get(m).copied())
        .collect();
    g.pre.ids = g
        .members
        .iter()
        .filter_map(|m| target.procs.get(m).map(|p| ProcId(p.id)))
        .collect();
    g.pre.has_data = !g.globals.is_empty()
        || g.members.iter().any(|m| {
            target.mprocs.contains_key(m)
                || target
                    .procs
                    .get(m)
                    .is_some_and(|np| np.data_owner == to && np.data != 0)
        });
    g.pre.stores = binding_stores(st, to, &g.members);
    g.pre.stores_gen = Some(st.engine.versions_gen);
}

/// The stores that rebind `members` to version `to` in every older live
/// table (SET SDTE): each `table_u[P]` gets what [`resolve`] says.
fn binding_stores(st: &State, to: u64, members: &[String]) -> Vec<(BindingTable, ProcId, u64)> {
    let mut out = Vec::with_capacity(members.len() * 2);
    for p in members {
        for (&u, uv) in st.versions.range(..to).rev() {
            let Some(addr) = resolve(st, u, p, to) else {
                continue;
            };
            let table = uv.bindings();
            let id = ProcId(uv.procs[p].id);
            if table.entry(id).is_some() {
                out.push((table, id, addr));
            }
        }
    }
    out
}

/// SPEC §4.2 step 1, with the program paused at `at` (or not running).
pub(crate) fn begin(
    sh: &Shared,
    st: &mut State,
    at: Option<(u64, u64)>,
    plan: Plan,
    within: Option<Duration>,
) -> UpdateBegun {
    let Plan {
        from,
        to,
        changed,
        reasons,
        groups,
        warped,
        notes,
    } = plan;
    if let Some(target) = st.versions.get(&to) {
        for w in &warped {
            st.engine.cur.insert(ProcId(target.procs[w].id), to);
        }
        // Procedures new in the target and in no group: only new code
        // reaches them, so they run at the target from now on.
        for p in target.procs.values() {
            let id = ProcId(p.id);
            if !st.engine.cur.contains_key(&id) && !groups.iter().any(|g| g.pre.ids.contains(&id)) {
                st.engine.cur.insert(id, to);
            }
        }
    }
    sh.bus.emit(Event::UpdateBegan { from, to });
    sh.bus.emit(Event::Primitive(Primitive::GetRts));
    let frames = match at {
        // SAFETY: the program is paused at (fp, pc).
        Some((fp, pc)) => unsafe { sh.walk(st, fp, pc) },
        None => vec![],
    };
    st.engine.next_id += 1;
    let id = st.engine.next_id;
    st.engine.pending.push(Update {
        id,
        from,
        to,
        groups,
        applied: vec![],
        not_applied: vec![],
        within,
    });
    let outcome = check(sh, st, &frames);
    sh.bus.emit(Event::Primitive(Primitive::SetHrvn));
    let still: Vec<Vec<String>> = st
        .engine
        .pending
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.groups.iter().map(|g| g.members.clone()).collect())
        .unwrap_or_default();
    let enabled = arm(sh, st, &frames, true);
    retire(sh, st, &frames);
    sh.bus.emit(Event::Primitive(Primitive::Eof));
    let committed: Vec<String> = outcome
        .committed
        .iter()
        .flatten()
        .filter(|p| changed.contains(*p))
        .cloned()
        .collect();
    let failed = outcome.failed.clone();
    outcome.announce(sh);
    UpdateBegun {
        id,
        from,
        to,
        changed: changed.into_iter().collect(),
        reasons,
        backtrace: frames,
        warped_unchanged: warped,
        committed,
        pending: still.clone(),
        failed,
        notes,
        return_interrupts: enabled,
        complete: still.is_empty(),
    }
}

#[derive(Default)]
struct CheckOutcome {
    committed: Vec<Vec<String>>,
    failed: Vec<(Vec<String>, String)>,
    /// `UpdateComplete` events to send once the dispatch is over.
    completed: Vec<Event>,
}

impl CheckOutcome {
    fn announce(self, sh: &Shared) {
        for e in self.completed {
            sh.bus.emit(e);
        }
    }
}

/// Commit every group that is inactive now; finish updates with nothing left.
fn check(sh: &Shared, st: &mut State, frames: &[FrameInfo]) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    let mut pending = std::mem::take(&mut st.engine.pending);
    let mut blocked: HashSet<String> = HashSet::new();
    for up in pending.iter_mut() {
        let old = match st.versions.get(&up.to) {
            Some(target) => old_frames(frames, target, up.to),
            None => vec![],
        };
        // Groups that stay are moved to `kept` in order (removing committed
        // ones from the front of a Vec would be quadratic in the pause).
        let mut kept = Vec::with_capacity(up.groups.len());
        for g in std::mem::take(&mut up.groups) {
            let stays = match st.versions.get(&up.to) {
                Some(target) => {
                    (!blocked.is_empty() && g.members.iter().any(|m| blocked.contains(m)))
                        || is_active(&g, target, &old)
                }
                None => true,
            };
            if stays {
                kept.push(g);
                continue;
            }
            match commit_group(sh, st, up, &g) {
                Ok(()) => {
                    out.committed.push(g.members.clone());
                    up.applied.push(g.members);
                }
                Err(e) => {
                    out.failed.push((g.members.clone(), e.clone()));
                    sh.bus.emit(Event::GroupFailed {
                        to: up.to,
                        members: g.members.clone(),
                        error: e.clone(),
                    });
                    up.not_applied.push((g.members, e));
                }
            }
        }
        up.groups = kept;
        for g in &up.groups {
            blocked.extend(g.members.iter().cloned());
        }
    }
    // Completions are announced by the caller after the dispatcher's DI POP
    // and EOF, in the paper's order.
    for up in pending.iter().filter(|u| u.groups.is_empty()) {
        out.completed.push(completion(up));
    }
    pending.retain(|u| !u.groups.is_empty());
    st.engine.pending = pending;
    sh.cv.notify_all();
    out
}

/// After a check: keep a barrier on the top frame while anything is
/// pending (EI POP), or take it away when nothing is (DI POP). Returns
/// whether return interrupts are enabled.
fn arm(sh: &Shared, st: &mut State, frames: &[FrameInfo], at_begin: bool) -> bool {
    if st.engine.pending.is_empty() {
        if st.engine.return_interrupts {
            st.engine.return_interrupts = false;
            sh.bus.emit(Event::Primitive(Primitive::DiPop));
        }
        // SAFETY: paused or on the program thread.
        unsafe { sh.ctx.remove_barrier() };
        return false;
    }
    if !st.engine.return_interrupts || at_begin {
        if !st.engine.return_interrupts {
            sh.bus.emit(Event::Primitive(Primitive::EiPop));
        }
        st.engine.return_interrupts = true;
    }
    // The barrier goes on the return slot of the top frame: when it returns
    // the stack is shallower than now, and only then can anything have become
    // inactive. The entry frame returns into the runtime, which checks on exit.
    if frames.len() >= 2 {
        // SAFETY: frames[0] is the top frame of the paused program thread
        // (or of the program thread running this barrier).
        unsafe { sh.ctx.install_barrier(frames[0].fp + 8) };
    } else {
        // SAFETY: as above.
        unsafe { sh.ctx.remove_barrier() };
    }
    true
}

/// A return barrier fired (on the program thread).
pub(crate) fn recheck(sh: &Shared, st: &mut State, frames: &[FrameInfo]) {
    if st.engine.pending.is_empty() {
        return;
    }
    sh.bus.emit(Event::Primitive(Primitive::GetRts));
    let outcome = check(sh, st, frames);
    arm(sh, st, frames, false);
    retire(sh, st, frames);
    sh.bus.emit(Event::Primitive(Primitive::Eof));
    outcome.announce(sh);
}

/// The program ended: nothing is on the stack, so everything can commit.
pub(crate) fn on_exit(sh: &Shared, st: &mut State) {
    sh.ctx.drop_barrier();
    if !st.engine.pending.is_empty() {
        let outcome = check(sh, st, &[]);
        st.engine.return_interrupts = false;
        retire(sh, st, &[]);
        outcome.announce(sh);
        return;
    }
    st.engine.return_interrupts = false;
    retire(sh, st, &[]);
}

/// The `UpdateComplete` event of a finished update.
fn completion(up: &Update) -> Event {
    Event::UpdateComplete {
        to: up.to,
        applied: up.applied.clone(),
        not_applied: up.not_applied.iter().map(|(g, _)| g.clone()).collect(),
        reasons: up.not_applied.iter().map(|(_, r)| r.clone()).collect(),
    }
}

/// Why pending groups are abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbandonReason {
    /// The update's `within` ran out.
    Within,
    /// `abort`.
    Abort,
}

/// Abandon the pending groups of update `id` (or of all). Program paused.
pub(crate) fn abandon(sh: &Shared, st: &mut State, id: Option<u64>, why: AbandonReason) -> usize {
    let mut n = 0;
    let mut outcome = CheckOutcome::default();
    let mut pending = std::mem::take(&mut st.engine.pending);
    for up in pending.iter_mut().filter(|u| id.is_none_or(|i| i == u.id)) {
        n += up.groups.len();
        let reason = match (why, up.within) {
            (AbandonReason::Within, Some(w)) => {
                format!(
                    "still active when within {} ran out",
                    crate::fmt_duration(w)
                )
            }
            (AbandonReason::Within, None) => "still active when within ran out".to_string(),
            (AbandonReason::Abort, _) => "abandoned by abort while still active".to_string(),
        };
        for g in up.groups.drain(..) {
            up.not_applied.push((g.members, reason.clone()));
        }
        outcome.completed.push(completion(up));
    }
    pending.retain(|u| !u.groups.is_empty());
    st.engine.pending = pending;
    if st.engine.pending.is_empty() {
        arm(sh, st, &[], false);
    }
    sh.cv.notify_all();
    outcome.announce(sh);
    n
}

fn data_restore(v: &Version, addr: u64) {
    if let Some(bytes) = v.init_data.get(&addr) {
        // SAFETY: an owned, committed data segment of a live version.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
    }
}

/// A data segment's slots: (name, offset, type).
type Slots<'a> = Vec<(&'a str, u32, compiler::ir::VarTy)>;

/// One data segment a commit prepares: the target's segment and its slots
/// (name, offset, type), and the old segment with its slots, if any.
struct DataMove<'a> {
    name: &'a String,
    new_base: u64,
    new: Slots<'a>,
    old: Option<(u64, Slots<'a>)>,
}

/// Prepare (carry-over, mprocs) and commit one group.
fn commit_group(sh: &Shared, st: &mut State, up: &Update, g: &Group) -> Result<(), String> {
    let t0 = Instant::now();
    let to = up.to;
    let target = &st.versions[&to];
    let mut touched: Vec<u64> = Vec::new();
    let mut carried_events = Vec::new();
    let mut result: Result<(), String> = Ok(());

    // What moves: each member's statics and each changed global's value (a
    // global is one "static" at offset 0 of its own segment). Only segments
    // the target version owns are written.
    let mut moves: Vec<DataMove> = Vec::new();
    let has_data = g.pre.has_data || g.pre.stores_gen.is_none();
    for p in g.members.iter().filter(|_| has_data) {
        let Some(np) = target.procs.get(p) else {
            continue;
        };
        if np.data_owner != to || np.data == 0 {
            continue;
        }
        let src = st
            .engine
            .cur
            .get(&ProcId(np.id))
            .copied()
            .unwrap_or(up.from);
        let old = st
            .versions
            .get(&src)
            .and_then(|v| v.procs.get(p))
            .filter(|op| op.data != 0 && op.data != np.data)
            .map(|op| {
                (
                    op.data,
                    op.statics
                        .iter()
                        .map(|o| (o.name.as_str(), o.offset, o.ty))
                        .collect(),
                )
            });
        let new = np
            .statics
            .iter()
            .map(|s| (s.name.as_str(), s.offset, s.ty))
            .collect();
        moves.push(DataMove {
            name: p,
            new_base: np.data,
            new,
            old,
        });
    }
    for gname in &g.globals {
        let Some(ng) = target.globals.get(gname) else {
            continue;
        };
        if ng.owner != to {
            continue;
        }
        let old = st
            .versions
            .get(&up.from)
            .and_then(|v| v.globals.get(gname))
            .filter(|og| og.addr != ng.addr)
            .map(|og| (og.addr, vec![(gname.as_str(), 0, og.ty)]));
        moves.push(DataMove {
            name: gname,
            new_base: ng.addr,
            new: vec![(gname.as_str(), 0, ng.ty)],
            old,
        });
    }

    // Prepare: restore the new segment, carry same-name same-type values
    // over, then run the mprocedure (which sees old data read-only).
    for m in &moves {
        data_restore(target, m.new_base);
        touched.push(m.new_base);
        let (mut carried, mut reset) = (vec![], vec![]);
        for &(name, off, ty) in &m.new {
            let from = m.old.as_ref().and_then(|(base, slots)| {
                slots
                    .iter()
                    .find(|o| o.0 == name && o.2 == ty)
                    .map(|o| base + o.1 as u64)
            });
            match from {
                Some(src) => {
                    // SAFETY: both are committed data segments of live versions.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            src as *const u8,
                            (m.new_base + off as u64) as *mut u8,
                            ty.size() as usize,
                        )
                    };
                    carried.push(name.to_string());
                }
                None => reset.push(name.to_string()),
            }
        }
        let mut set = Vec::new();
        if let Some(mp) = target.mprocs.get(m.name) {
            let src = target
                .procs
                .get(m.name)
                .and_then(|p| st.engine.cur.get(&ProcId(p.id)))
                .copied();
            if let (Some(compiled), Some(src)) = (mp.old_version, src)
                && compiled != src
                && m.old.is_some()
            {
                result = Err(format!(
                    "mproc {} reads old data of version {compiled}, but {} is at version {src}: load the new version again so that its mproc is checked against version {src}",
                    m.name, m.name
                ));
                break;
            }
            // What the statics hold before the mproc, to tell afterwards
            // which ones it set (the report says how they finally are).
            let before: Vec<Vec<u8>> = m
                .new
                .iter()
                .map(|&(_, off, ty)| read_bytes(m.new_base + off as u64, ty.size() as usize))
                .collect();
            sh.set_mproc_label(Some((format!("v{to}:mproc:{}", m.name), mp.addr)));
            let status = sh.run_mproc(mp.addr, m.old.as_ref().map_or(0, |o| o.0));
            sh.set_mproc_label(None);
            match status {
                ExitStatus::Returned => {}
                other => {
                    result = Err(mproc_failure(&format!("mproc {}", m.name), other));
                    break;
                }
            }
            for (i, &(name, off, ty)) in m.new.iter().enumerate() {
                if read_bytes(m.new_base + off as u64, ty.size() as usize) != before[i] {
                    set.push(name.to_string());
                }
            }
            carried.retain(|c| !set.contains(c));
            reset.retain(|c| !set.contains(c));
        }
        carried_events.push(Event::Carried {
            name: m.name.clone(),
            carried,
            set,
            reset,
        });
    }
    if let Err(e) = result {
        for a in touched {
            data_restore(target, a);
        }
        return Err(e);
    }
    for e in carried_events {
        sh.bus.emit(e);
    }

    // Commit: store the bindings of every member in every older live table
    // (worked out before the pause unless a version came or went since).
    let fresh;
    let stores = if g.pre.stores_gen == Some(st.engine.versions_gen) {
        &g.pre.stores
    } else {
        fresh = binding_stores(st, to, &g.members);
        &fresh
    };
    for &(table, id, addr) in stores {
        // SET SDTE. SAFETY: `table` belongs to a live version (the stores
        // were worked out with the same versions loaded); the program is
        // paused or is this thread; `resolve` chose code callers through
        // this table may reach.
        unsafe { table.set(id, addr) };
    }
    for gname in &g.globals {
        st.engine.global_cur.insert(gname.clone(), to);
    }
    for p in &g.members {
        sh.bus.emit(Event::Primitive(Primitive::SetSdte));
        if let Some(np) = target.procs.get(p) {
            st.engine.cur.insert(ProcId(np.id), to);
        }
    }
    let pause_ns = t0.elapsed().as_nanos() as u64;
    st.engine.pauses.push_back(pause_ns);
    if st.engine.pauses.len() > 1024 {
        st.engine.pauses.pop_front();
    }
    sh.bus.emit(Event::GroupCommitted {
        to,
        members: g.members.clone(),
        pause_ns,
    });
    Ok(())
}

fn mproc_failure(name: &str, st: ExitStatus) -> String {
    match st {
        ExitStatus::TimedOut | ExitStatus::Stopped => format!("{name} ran out of time"),
        ExitStatus::Error(e) => format!("{name} trapped: {}", e.message),
        ExitStatus::Exit(c) => format!("{name} called exit({c})"),
        ExitStatus::Returned => String::new(),
    }
}

/// A copy of `len` bytes of a committed data segment.
fn read_bytes(addr: u64, len: usize) -> Vec<u8> {
    // SAFETY: callers pass a slot inside a committed data segment of a live
    // version (the target's own segment being prepared).
    unsafe { std::slice::from_raw_parts(addr as *const u8, len) }.to_vec()
}

/// What `table_u[P]` should hold once P is committed to `to`: the new code
/// when the signature is the same (identity links collapse), else the first
/// interprocedure that accepts version u's signature. `None` leaves the old
/// binding: then only old callers (all in P's group) reach it.
fn resolve(st: &State, u: u64, p: &str, to: u64) -> Option<u64> {
    let sig_u = &st.versions.get(&u)?.procs.get(p)?.sig;
    let tv = st.versions.get(&to)?;
    let np = tv.procs.get(p)?;
    if let Some(ip) = tv.iprocs.get(p)
        && ip.old_sig.as_ref() == Some(sig_u)
    {
        return Some(ip.addr);
    }
    if *sig_u == np.sig {
        return Some(np.code);
    }
    st.versions.range(u + 1..to).find_map(|(_, w)| {
        w.iprocs
            .get(p)
            .filter(|ip| ip.old_sig.as_ref() == Some(sig_u))
            .map(|ip| ip.addr)
    })
}

/// Retire every version space nothing needs any more (SPEC §3.1).
fn retire(sh: &Shared, st: &mut State, frames: &[FrameInfo]) {
    let newest = st.versions.keys().next_back().copied().unwrap_or(0);
    let mut busy: HashSet<u64> = frames.iter().map(|f| f.version).collect();
    busy.insert(newest);
    let hrvn = st.engine.hrvn();
    busy.insert(hrvn);
    for up in &st.engine.pending {
        busy.insert(up.from);
        busy.insert(up.to);
    }
    let slot_of: HashMap<crate::ids::Slot, u64> =
        st.versions.values().map(|v| (v.slot, v.number)).collect();
    for v in st.versions.values() {
        for p in v.procs.values() {
            if p.data != 0 && p.data_owner != v.number {
                busy.insert(p.data_owner);
            }
            if let Some(target) = v.bindings().get(ProcId(p.id))
                && let Some(a) = sh.space.decode(target)
                && let Some(&tv) = slot_of.get(&a.slot)
                && tv != v.number
            {
                busy.insert(tv);
            }
        }
        for g in v.globals.values() {
            if g.owner != v.number {
                busy.insert(g.owner);
            }
        }
    }
    let running = st.ctl.running;
    let dead: Vec<u64> = st
        .versions
        .keys()
        .copied()
        .filter(|v| *v < hrvn && !busy.contains(v) && (running || st.engine.pending.is_empty()))
        .collect();
    for v in dead {
        if let Some(ver) = st.versions.remove(&v) {
            st.engine.versions_gen += 1;
            // SAFETY: `ver` is dead: no frame runs it, no table points into it.
            unsafe { ver.release(&sh.space) };
            st.slots[ver.slot.index()] = false;
            st.engine.retired.push_back(v);
            if st.engine.retired.len() > RECENT_RETIRED {
                st.engine.retired.pop_front();
            }
            st.engine.retired_count += 1;
            sh.bus.emit(Event::Retired {
                version: v,
                slot: ver.slot,
            });
        }
    }
}

/// One procedure in a [`Status`]: (ID, name, committed version, bindings:
/// (table version, decoded target)).
pub type ProcBindings = (u32, String, u64, Vec<(u64, String)>);

/// A snapshot for `status`, `versions`, `procs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Live versions: (number, slot, procedures, code bytes).
    pub versions: Vec<(u64, u32, usize, u64)>,
    /// The most recently retired versions.
    pub retired: Vec<u64>,
    /// How many versions were retired in all.
    pub retired_count: u64,
    /// Highest running version number.
    pub hrvn: u64,
    /// The program.
    pub program: ProgramState,
    /// Pending updates: (id, from, to, groups).
    pub pending: Vec<(u64, u64, u64, Vec<Vec<String>>)>,
    /// Per procedure: (ID, name, committed version, bindings: (table
    /// version, decoded target)).
    pub bindings: Vec<ProcBindings>,
    /// Return interrupts enabled.
    pub return_interrupts: bool,
    /// Recent commit pause times, ns.
    pub pauses: Vec<u64>,
}

pub(crate) fn status(sh: &Shared, st: &State) -> Status {
    let mut bindings = Vec::new();
    let mut names: BTreeSet<(u32, String)> = BTreeSet::new();
    for v in st.versions.values() {
        for (n, p) in &v.procs {
            names.insert((p.id, n.clone()));
        }
    }
    for (id, name) in names {
        let mut per = Vec::new();
        for v in st.versions.values() {
            if let (true, Some(t)) = (v.procs.contains_key(&name), v.bindings().get(ProcId(id))) {
                let d = sh
                    .space
                    .decode(t)
                    .map(|a| {
                        let ver = st
                            .versions
                            .values()
                            .find(|x| x.slot == a.slot)
                            .map(|x| x.number)
                            .unwrap_or(0);
                        format!("v{ver}:{}:{}", a.ty.short(), name)
                    })
                    .unwrap_or_else(|| format!("{t:#x}"));
                per.push((v.number, d));
            }
        }
        let cur = st.engine.cur.get(&ProcId(id)).copied().unwrap_or(0);
        bindings.push((id, name, cur, per));
    }
    Status {
        versions: st
            .versions
            .values()
            .map(|v| (v.number, v.slot.0, v.procs.len(), v.code_bytes))
            .collect(),
        retired: st.engine.retired.iter().copied().collect(),
        retired_count: st.engine.retired_count,
        hrvn: st.engine.hrvn(),
        program: st.ctl.program.clone(),
        pending: st
            .engine
            .pending
            .iter()
            .map(|u| {
                (
                    u.id,
                    u.from,
                    u.to,
                    u.groups.iter().map(|g| g.members.clone()).collect(),
                )
            })
            .collect(),
        bindings,
        return_interrupts: st.engine.return_interrupts,
        pauses: st.engine.pauses.iter().copied().collect(),
    }
}

#[cfg(test)]
mod tests {
    //! The engine's own rules on hand-built stacks: which groups are
    //! active (SPEC §4.1), with real versions loaded into a VM that never
    //! runs (so nothing but the frames given decides).

    use super::*;
    use crate::{Vm, VmConfig};

    /// a -> b -> c, main -> a; d alone. Version 2 changes nothing of the
    /// call graph; version 3 drops d.
    const CHAIN: &str = "void c() { printf(\"c\\n\"); }\n\
        void b() { c(); }\n\
        void a() { b(); }\n\
        void d() { printf(\"d\\n\"); }\n\
        main() { while (1) { a(); d(); sleep_ms(10); } }\n";

    fn vm() -> Vm {
        let vm = Vm::new(VmConfig::default()).unwrap();
        let m = |src: &str| compiler::compile("t.uc", src).unwrap();
        vm.load(1, m(CHAIN), None).unwrap();
        vm.load(2, m(&CHAIN.replace("\"c\\n\"", "\"c2\\n\"")), None)
            .unwrap();
        let v3 = CHAIN
            .replace("void d() { printf(\"d\\n\"); }\n", "")
            .replace(" d();", "");
        vm.load(3, m(&v3), None).unwrap();
        vm
    }

    fn frame(name: &str, version: u64, kind: SegType) -> FrameInfo {
        FrameInfo {
            pc: 0,
            fp: 0,
            version,
            kind,
            proc_id: 0,
            name: name.to_string(),
            disp: 0,
        }
    }

    fn group(members: &[&str]) -> Group {
        Group {
            members: members.iter().map(|m| m.to_string()).collect(),
            ..Group::default()
        }
    }

    /// Whether `members` is active for an update to `to` with `stack`,
    /// by name lookup and by the precomputed indices (both must agree).
    fn active(vm: &Vm, to: u64, stack: &[FrameInfo], members: &[&str]) -> bool {
        let st = vm.shared.lock();
        let target = &st.versions[&to];
        let old = old_frames(stack, target, to);
        let by_name = is_active(&group(members), target, &old);
        let mut g = group(members);
        precompute(&st, to, &mut g);
        assert_eq!(g.pre.ids.len(), g.pre.idx.len());
        assert_eq!(is_active(&g, target, &old), by_name, "{members:?}");
        by_name
    }

    #[test]
    fn an_old_frame_makes_its_procedure_and_every_caller_in_delta_star_active() {
        let vm = vm();
        let stack = [
            frame("c", 1, SegType::Proc),
            frame("b", 1, SegType::Proc),
            frame("a", 1, SegType::Proc),
            frame("main", 1, SegType::Proc),
        ];
        for p in ["a", "b", "c", "main"] {
            assert!(active(&vm, 2, &stack, &[p]), "{p}");
        }
        // d is on no stack and reaches nothing that is.
        assert!(!active(&vm, 2, &stack, &["d"]));
        // Only c is old; b and a reach it through δ*, d does not.
        let only_c = [
            frame("c", 1, SegType::Proc),
            frame("b", 2, SegType::Proc),
            frame("a", 2, SegType::Proc),
            frame("main", 2, SegType::Proc),
        ];
        assert!(active(&vm, 2, &only_c, &["a"]));
        assert!(active(&vm, 2, &only_c, &["c"]));
        assert!(!active(&vm, 2, &only_c, &["d"]));
        // A group is active if any member is.
        assert!(active(&vm, 2, &only_c, &["d", "b"]));
    }

    #[test]
    fn frames_of_the_target_or_newer_and_aux_code_make_nothing_active() {
        let vm = vm();
        let new = [
            frame("c", 2, SegType::Proc),
            frame("main", 2, SegType::Proc),
        ];
        assert!(!active(&vm, 2, &new, &["a"]));
        assert!(!active(&vm, 2, &new, &["c"]));
        let aux = [frame("c", 1, SegType::MProc), frame("b", 1, SegType::IProc)];
        assert!(!active(&vm, 2, &aux, &["a"]), "iproc and mproc frames");
        // For an update to 3, version-2 frames are old too (simultaneous
        // updates: every version older than the target counts).
        assert!(active(&vm, 3, &new, &["a"]));
    }

    #[test]
    fn a_procedure_the_target_lacks_cannot_be_reached_by_its_code() {
        let vm = vm();
        let stack = [
            frame("d", 1, SegType::Proc),
            frame("main", 2, SegType::Proc),
        ];
        // Version 3 has no d: nothing of version 3 can call into d's frame.
        assert!(!active(&vm, 3, &stack, &["a"]));
        assert!(active(&vm, 2, &stack, &["d"]));
        assert!(old_frames(&stack[..1], &vm.shared.lock().versions[&3], 3).is_empty());
    }

    #[test]
    fn an_empty_stack_leaves_nothing_active() {
        let vm = vm();
        for p in ["a", "b", "c", "d", "main"] {
            assert!(!active(&vm, 2, &[], &[p]));
        }
    }

    #[test]
    fn endings() {
        assert_eq!(Ending::of(3, 0), Ending::Complete);
        assert_eq!(Ending::of(0, 0), Ending::Complete);
        assert_eq!(Ending::of(1, 2), Ending::Partial);
        assert_eq!(Ending::of(0, 1), Ending::NothingApplied);
    }

    #[test]
    fn plan_refuses_bad_requests_without_touching_the_engine() {
        let vm = vm();
        let st = vm.shared.lock();
        // The program never ran: nothing to update.
        let err = plan(&st, &UpdateRequest::default()).err();
        assert_eq!(err, Some(UpdateError::NotRunning));
        assert!(st.engine.cur.is_empty() && st.engine.pending.is_empty());
    }
}
