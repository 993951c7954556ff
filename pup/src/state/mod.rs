//! The program a pup holds: one [`Vm`] and what the pup remembers about it,
//! and the translation of each request into VM calls and back into wire
//! types.
//!
//! Invariants:
//! - everything a ush may ask about lives here, not in a connection, so a
//!   ush can leave and come back (even mid-update) and find it all again;
//! - requests that act on the VM run one at a time (the `ops` lock), except
//!   `Wait`, which only watches and must not hold up other ushes;
//! - every value from the wire is checked before it reaches the VM (version
//!   numbers, durations, list and name sizes); the VM itself checks modules
//!   and signatures at load and names against the target version at update.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vm::{ProgramState, VersionNo, Vm, VmConfig, VmError};

use crate::journal::{Journal, LoadRecord, now_ms};
use crate::proto::{
    ClientId, FrameRow, LoadInfo, PendingRow, ProcBindings, ProcRow, PupInfo, Response,
    RestoredInfo, RevertRefusal, RevertSpec, StatusInfo, TableBinding, UpdateSpec, VersionRow,
};
use crate::trace::PupState;

mod check;
mod convert;
mod graph;
#[cfg(test)]
mod tests;

use check::{check_spec, check_version};
use convert::{behind, reset_rows};
pub use convert::{ending, exit_message, program_words, update_ended, update_info};

/// Longest `within` an update may ask for (7 days). Bounded so a deadline
/// can always be computed; anything longer is a typo.
pub const MAX_WITHIN_MS: u64 = 7 * 24 * 3600 * 1000;
/// Most versions `restore` loads again (the newest; a pup has 256
/// version-space slots, and a few stay free for updates after it).
pub const RESTORE_MAX_VERSIONS: usize = 240;
/// Longest single `Wait` (1 day); longer requests are shortened to it.
pub const MAX_WAIT_MS: u64 = 24 * 3600 * 1000;
/// Most procedure names one update request may list in total.
pub const MAX_UPDATE_NAMES: usize = 100_000;
/// Longest procedure name accepted in an update request, in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// How often a `Wait` looks whether its ush is still there.
const WAIT_SLICE: Duration = Duration::from_millis(200);
/// Rows and columns of δ* a plain `delta` request answers with.
pub const DELTA_SHOWN: u32 = 32;
/// Most rows and columns one `DeltaView` answers with.
pub const DELTA_VIEW_MAX: u32 = 256;
/// Most names of one procedure's δ* row a `DeltaView` lists.
pub const DELTA_REACH_SHOWN: usize = 200;

/// The one program of a pup, and its history as far as ushes ask about it.
pub struct Program {
    name: String,
    host: String,
    vm: Vm,
    /// A version was loaded at some point ("fresh" pups have none).
    ever_loaded: AtomicBool,
    /// Address of `main` per loaded version (for `Execution begins at`).
    entries: Mutex<BTreeMap<VersionNo, Option<u64>>>,
    /// Serializes the requests that act on the VM.
    ops: Mutex<()>,
    /// The durable record of loads, updates, runs and stops (SPEC §4.7).
    journal: Journal,
    /// Set when the program was restored from the journal at start.
    restored: Mutex<Option<RestoredInfo>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in one connection thread must not wedge the others.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Program {
    /// A pup's program named `name` on `host`, with a fresh VM.
    /// `journal` records what it does (or is off).
    pub fn new(
        name: &str,
        host: &str,
        config: VmConfig,
        journal: Journal,
    ) -> Result<Program, VmError> {
        Ok(Program {
            name: name.to_string(),
            host: host.to_string(),
            vm: Vm::new(config)?,
            ever_loaded: AtomicBool::new(false),
            entries: Mutex::new(BTreeMap::new()),
            ops: Mutex::new(()),
            journal,
            restored: Mutex::new(None),
        })
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The VM (for event subscription and tests).
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The program name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the lock that serializes requests acting on the VM.
    pub fn serialize(&self) -> MutexGuard<'_, ()> {
        lock(&self.ops)
    }

    /// The pup state the trace reports.
    pub fn pup_state(&self) -> PupState {
        PupState::of(&self.vm.program_state(), self.vm.pending_updates())
    }

    /// A version space was retired: forget what the pup kept about it, so
    /// that a pup doing thousands of updates does not grow.
    pub fn forget_version(&self, version: VersionNo) {
        lock(&self.entries).remove(&version);
    }

    /// Who the pup is and what it holds.
    pub fn info(&self) -> PupInfo {
        let st = self.vm.status();
        PupInfo {
            name: self.name.clone(),
            host: self.host.clone(),
            pid: std::process::id(),
            fresh: !self.ever_loaded.load(Ordering::SeqCst),
            versions: st.versions.iter().map(|v| v.number.0).collect(),
            program: program_words(&st.program, st.hrvn, &behind(&st)),
            pending: st.pending.len(),
            region_base: self.vm.region_base(),
            restored_ms: lock(&self.restored).as_ref().map(|r| r.at_ms),
        }
    }

    /// Decodes and loads a version, and journals it (before the reply).
    pub fn load(
        &self,
        who: &ClientId,
        version: u64,
        object: &[u8],
        source: Option<&str>,
    ) -> Response {
        self.load_as(who, version, object, source, None, true)
    }

    /// [`Program::load`] of a version that holds the code of version
    /// `code_of` again (a revert's target, a restaged version); `journal`
    /// is false when restoring what the journal already holds.
    fn load_as(
        &self,
        who: &ClientId,
        version: u64,
        object: &[u8],
        source: Option<&str>,
        code_of: Option<u64>,
        journal: bool,
    ) -> Response {
        if let Err(e) = check_version(version) {
            return Response::Error(e);
        }
        let module = match compiler::object::read_object(object) {
            Ok(m) => m,
            Err(e) => return Response::Error(format!("version {version}: {e}")),
        };
        let main_file = module.file.clone();
        let version = VersionNo(version);
        match self.vm.load(version, module, source) {
            Ok(r) => {
                if journal {
                    let mprocs: Vec<String> = r.mprocs.iter().map(|m| m.0.clone()).collect();
                    self.journal
                        .load(who, version.0, code_of, &main_file, object, source, &mprocs);
                }
                self.ever_loaded.store(true, Ordering::SeqCst);
                let main = r.procs.iter().find(|p| p.1 == "main").map(|p| p.2);
                lock(&self.entries).insert(version, main);
                Response::Loaded(LoadInfo {
                    version: r.version.0,
                    slot: r.slot.0,
                    procs: r
                        .procs
                        .into_iter()
                        .map(|(id, name, addr, size)| ProcRow {
                            id,
                            name,
                            addr,
                            size,
                        })
                        .collect(),
                    delta_matrix: r.delta_matrix,
                    code_bytes: r.code_bytes,
                    space_base: r.space_base,
                    iprocs: r.iprocs,
                    mprocs: r.mprocs,
                    old_versions: r
                        .old_versions
                        .into_iter()
                        .map(|(name, v)| (name, v.0))
                        .collect(),
                    table: r.table,
                    load_ns: r.load_ns,
                })
            }
            Err(e) => Response::Error(e.to_string()),
        }
    }

    /// Starts `main` of `version` (default: the oldest loaded). `announce`
    /// gets the entry address once the run is certain to start, before the
    /// program prints anything.
    pub fn run(
        &self,
        who: &ClientId,
        version: Option<u64>,
        announce: impl FnOnce(u64),
    ) -> Response {
        let st = self.vm.status();
        if let ProgramState::Running { version } = st.program {
            return Response::Error(format!(
                "program {} is already running (version {version})",
                self.name
            ));
        }
        let v = match version {
            Some(v) => VersionNo(v),
            None => match st.versions.first() {
                Some(v) => v.number,
                None => return Response::Error("no version is loaded (use load first)".into()),
            },
        };
        if !st.versions.iter().any(|x| x.number == v) {
            return Response::Error(format!("version {v} is not loaded"));
        }
        let Some(Some(entry)) = lock(&self.entries).get(&v).copied() else {
            return Response::Error(format!("version {v} has no main procedure"));
        };
        announce(entry);
        match self.vm.run(Some(v)) {
            Ok(version) => {
                self.journal.run(who, version.0, false);
                Response::Running { version: version.0 }
            }
            Err(e) => Response::Error(e.to_string()),
        }
    }

    /// Begins an update, and journals that it began (and, if it ended at
    /// once, how) before the reply. An update to a version whose code the
    /// program has since gone back from (`update 2` after a revert to 1)
    /// loads that version's journaled code again as the next version and
    /// updates to it: versions stay a number line.
    pub fn update(&self, who: &ClientId, spec: &UpdateSpec) -> Response {
        if let Some(r) = self.restage(who, spec) {
            return r;
        }
        let req = match check_spec(spec) {
            Ok(r) => r,
            Err(e) => return Response::Error(e),
        };
        self.begin(who, req, None, false)
    }

    /// Begins `req` and journals it (`revert_to`: it is a revert).
    fn begin(
        &self,
        who: &ClientId,
        req: vm::UpdateRequest,
        revert_to: Option<u64>,
        lossy: bool,
    ) -> Response {
        let mark = self.vm.ended_mark();
        match self.vm.begin_update(req) {
            Ok(b) => {
                // The pause is over: the VM call returned.
                self.journal.update_begun(
                    who,
                    b.id,
                    b.from.0,
                    b.to.0,
                    revert_to,
                    lossy,
                    &b.committed,
                    &b.pending,
                    self.vm.last_pause_ns(),
                );
                for e in self.vm.ended_since(mark) {
                    self.journal_ended(&update_ended(&e));
                }
                Response::UpdateBegun(update_info(&b))
            }
            Err(vm::UpdateError::WouldReset(r)) => Response::WouldReset(reset_rows(&r)),
            Err(e) => Response::Error(e.to_string()),
        }
    }

    /// Journals how an update ended (once per update, whoever sees it
    /// first: the event thread or a `Wait`), with every procedure's
    /// committed version after it.
    pub fn journal_ended(&self, e: &crate::proto::UpdateEnded) {
        let st = self.vm.status();
        let committed: Vec<(String, u64)> = st
            .bindings
            .iter()
            .filter(|b| b.committed.0 > 0)
            .map(|b| (b.name.clone(), b.committed.0))
            .collect();
        let pause = st.pauses.iter().copied().max().unwrap_or(0);
        self.journal.update_ended(e, &committed, pause);
    }

    /// The version a version's code is: its own number, or the version it
    /// is a copy of.
    fn root(loads: &[LoadRecord], v: u64) -> u64 {
        loads
            .iter()
            .find(|l| l.version == v)
            .and_then(|l| l.code_of)
            .unwrap_or(v)
    }

    /// The next version number (past every loaded and journaled one).
    fn next_version(&self, loads: &[LoadRecord]) -> u64 {
        let st = self.vm.status();
        let loaded = st.versions.iter().map(|v| v.number.0).max().unwrap_or(0);
        let journaled = loads.iter().map(|l| l.version).max().unwrap_or(0);
        loaded.max(journaled).max(st.hrvn.0) + 1
    }

    /// `update V` where V is numbered below what runs but the code running
    /// is an earlier version's (a revert went back past V): load V's code
    /// again as the next version and update to that.
    fn restage(&self, who: &ClientId, spec: &UpdateSpec) -> Option<Response> {
        let to = spec.to?;
        let st = self.vm.status();
        if to >= st.hrvn.0 || spec.from.is_some() {
            return None;
        }
        // Only forward on the number line: the code running now is an
        // earlier version's than `to` (after a revert), and nothing is
        // pending (else the update is refused as ever).
        if !st.pending.is_empty() {
            return None;
        }
        let loads = self.journal.loads();
        let rec = loads.iter().find(|l| l.version == to)?;
        let root = rec.code_of.unwrap_or(to);
        if Self::root(&loads, st.hrvn.0) >= root {
            return None;
        }
        let n = self.next_version(&loads);
        match self.load_as(
            who,
            n,
            &rec.object.clone(),
            rec.source.as_deref(),
            Some(root),
            true,
        ) {
            Response::Loaded(_) => {}
            other => return Some(other),
        }
        let mut spec = spec.clone();
        spec.to = Some(n);
        let req = match check_spec(&spec) {
            Ok(r) => r,
            Err(e) => return Some(Response::Error(e)),
        };
        Some(self.begin(who, req, None, false))
    }

    /// `revert [V]`: an update to version V's code again, loaded from the
    /// journal (or the reverse program ush compiled) as the next version.
    pub fn revert(&self, who: &ClientId, spec: &RevertSpec) -> Response {
        let refuse = Response::RevertRefused;
        let st = self.vm.status();
        if !matches!(st.program, ProgramState::Running { .. }) {
            return refuse(RevertRefusal::NotRunning);
        }
        if !st.pending.is_empty() {
            return refuse(RevertRefusal::UpdatePending);
        }
        if let crate::proto::JournalState::Off(why) = self.journal.state() {
            return refuse(RevertRefusal::JournalOff(why));
        }
        let loads = self.journal.loads();
        let current = Self::root(&loads, st.hrvn.0);
        let to = match spec.to {
            Some(v) => {
                if !loads.iter().any(|l| l.version == v) {
                    return refuse(RevertRefusal::NeverLoaded(v));
                }
                Self::root(&loads, v)
            }
            None => match self.journal.last_applied() {
                Some((from, _)) => Self::root(&loads, from),
                None => return refuse(RevertRefusal::NothingToRevert),
            },
        };
        let behind = behind(&st);
        if to == current && behind.is_empty() {
            return refuse(RevertRefusal::AlreadyAt(to));
        }
        // Hand-written mprocs of the versions being gone back from.
        let mut mprocs: Vec<(u64, String, Vec<String>)> = Vec::new();
        for l in &loads {
            let root = l.code_of.unwrap_or(l.version);
            if l.mprocs.is_empty() || root <= to || root > current || l.version > st.hrvn.0 {
                continue;
            }
            let module = compiler::object::read_object(&l.object).ok();
            for m in &l.mprocs {
                if mprocs.iter().any(|(v, n, _)| *v == root && n == m) {
                    continue;
                }
                let set = module
                    .as_ref()
                    .and_then(|md| md.procs.iter().find(|p| &p.name == m))
                    .map(|p| {
                        p.statics
                            .iter()
                            .map(|s| format!("{m}.{}", s.name))
                            .collect()
                    })
                    .unwrap_or_else(|| vec![m.clone()]);
                mprocs.push((root, m.clone(), set));
            }
        }
        if !mprocs.is_empty() && !spec.lossy && spec.reverse.is_none() {
            return refuse(RevertRefusal::NeedsReverse { to, mprocs });
        }
        let Some(rec) = loads.iter().find(|l| l.version == to) else {
            return refuse(RevertRefusal::NeverLoaded(to));
        };
        let n = self.next_version(&loads);
        let (object, source) = match &spec.reverse {
            Some(r) => (r.object.clone(), r.source.clone()),
            None => (rec.object.clone(), rec.source.clone()),
        };
        match self.load_as(who, n, &object, source.as_deref(), Some(to), true) {
            Response::Loaded(_) => {}
            Response::Error(e) => return refuse(RevertRefusal::Load(e)),
            other => return other,
        }
        let req = vm::UpdateRequest {
            to: Some(VersionNo(n)),
            within: spec.within_ms.map(Duration::from_millis),
            atomic: spec.atomic,
            ..Default::default()
        };
        let lossy = spec.lossy && spec.reverse.is_none() && !mprocs.is_empty();
        match self.begin(who, req, Some(to), lossy) {
            Response::UpdateBegun(info) => Response::Reverted {
                to,
                info,
                lost: if lossy {
                    mprocs.into_iter().flat_map(|m| m.2).collect()
                } else {
                    Vec::new()
                },
            },
            other => other,
        }
    }

    /// The journal as `history` shows it.
    pub fn history(&self) -> Response {
        Response::History {
            journal: self.journal.state(),
            rows: self.journal.history(),
        }
    }

    /// Reloads every journaled version (in load order, through the load
    /// path ush's loads take, so names get the same IDs) and starts `main`
    /// at the version last committed. `Ok(None)`: nothing to restore.
    pub fn restore(&self) -> Result<Option<RestoredInfo>, String> {
        let loads = self.journal.loads();
        if loads.is_empty() {
            return Ok(None);
        }
        let nobody = ClientId::default();
        let mut versions = Vec::new();
        // Each version needs a version-space slot: a journal of more loads
        // than that restores the newest (names first seen in the skipped
        // versions may then get other IDs).
        let skip = loads.len().saturating_sub(RESTORE_MAX_VERSIONS);
        for l in &loads[skip..] {
            match self.load_as(
                &nobody,
                l.version,
                &l.object,
                l.source.as_deref(),
                l.code_of,
                false,
            ) {
                Response::Loaded(_) => versions.push(l.version),
                Response::Error(e) => {
                    return Err(format!("version {} does not load again: {e}", l.version));
                }
                other => return Err(format!("version {}: {other:?}", l.version)),
            }
        }
        let Some((run_version, committed, journal_ms)) = self.journal.committed() else {
            // Loaded but never run: the versions are back, nothing runs.
            let info = RestoredInfo {
                at_ms: now_ms(),
                journal_ms: 0,
                version: 0,
                versions,
            };
            self.journal.restore(0, &info.versions, 0);
            *lock(&self.restored) = Some(info.clone());
            return Ok(Some(info));
        };
        // Every procedure starts at the highest version any was committed
        // to (a partial update's abandoned groups start at it too: the
        // program's memory starts fresh, so nothing of theirs is active).
        let version = committed
            .as_ref()
            .and_then(|m| m.values().copied().max())
            .unwrap_or(run_version);
        let r = self.run(&nobody, Some(version), |_| {});
        if let Response::Error(e) = r {
            return Err(format!("main of version {version} does not start: {e}"));
        }
        let info = RestoredInfo {
            at_ms: now_ms(),
            journal_ms,
            version,
            versions,
        };
        self.journal.restore(version, &info.versions, journal_ms);
        *lock(&self.restored) = Some(info.clone());
        Ok(Some(info))
    }

    /// Waits until no update is pending, at most `timeout_ms` (shortened to
    /// [`MAX_WAIT_MS`]). Gives up early, returning `None`, once `gone` says
    /// the asking ush has left: nobody would read the answer.
    /// The reply says how each update that ended meanwhile ended, so that a
    /// ush learns it even for an update another ush began.
    pub fn wait(&self, timeout_ms: u64, gone: impl Fn() -> bool) -> Option<Response> {
        let deadline = Instant::now() + Duration::from_millis(timeout_ms.min(MAX_WAIT_MS));
        let mark = self.vm.ended_mark();
        let reply = |done: bool| {
            let ended: Vec<_> = self.vm.ended_since(mark).iter().map(update_ended).collect();
            // Durable before this ush hears that they ended.
            for e in &ended {
                self.journal_ended(e);
            }
            Some(Response::Waited { done, ended })
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.vm.wait_updates(left.min(WAIT_SLICE)) {
                return reply(true);
            }
            if left <= WAIT_SLICE {
                return reply(false);
            }
            if gone() {
                return None;
            }
        }
    }

    /// Abandons every pending group.
    pub fn abort(&self) -> Response {
        Response::Aborted {
            groups: self.vm.abort_updates(),
        }
    }

    /// What the pup holds.
    pub fn status(&self) -> StatusInfo {
        let st = self.vm.status();
        StatusInfo {
            versions: st
                .versions
                .iter()
                .map(|v| VersionRow {
                    version: v.number.0,
                    slot: v.slot,
                    procs: v.procs,
                    code_bytes: v.code_bytes,
                })
                .collect(),
            retired: st.retired.iter().map(|v| v.0).collect(),
            hrvn: st.hrvn.0,
            program: program_words(&st.program, st.hrvn, &behind(&st)),
            pending: st
                .pending
                .iter()
                .map(|u| PendingRow {
                    from: u.from.0,
                    to: u.to.0,
                    groups: u.groups.clone(),
                })
                .collect(),
            bindings: st
                .bindings
                .iter()
                .map(|b| ProcBindings {
                    id: b.id,
                    name: b.name.clone(),
                    committed: b.committed.0,
                    tables: b
                        .tables
                        .iter()
                        .map(|t| TableBinding {
                            table: t.table.0,
                            target: t.target.clone(),
                        })
                        .collect(),
                })
                .collect(),
            return_interrupts: st.return_interrupts,
            journal: self.journal.state(),
            restored: lock(&self.restored).clone(),
        }
    }

    /// The runtime stack, innermost first.
    pub fn stack(&self) -> Vec<FrameRow> {
        self.vm
            .stack()
            .into_iter()
            .map(|f| FrameRow {
                name: f.name.clone(),
                version: f.version.0,
                kind: f.kind.short().to_string(),
                decoded: f.to_string(),
                pc: f.pc,
            })
            .collect()
    }

    /// Decodes a large address.
    pub fn addr(&self, addr: u64) -> Response {
        Response::Addr {
            decoded: self.vm.decode(addr),
        }
    }

    /// Asks the running program to stop.
    pub fn stop(&self) -> Response {
        match self.vm.program_state() {
            ProgramState::Running { .. } => {
                self.vm.stop();
                Response::Ok
            }
            _ => Response::Error(format!("program {} is not running", self.name)),
        }
    }
}
