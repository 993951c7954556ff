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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use compiler::callgraph::DeltaStar;
use vm::layout::SegType;
use vm::{ExitStatus, ProgramState, UpdateBegun, UpdateRequest, VersionNo, Vm, VmConfig, VmError};

use crate::proto::{
    DeltaViewInfo, DeltaViewSpec, Ending, FrameRow, LoadInfo, ProcRow, PupInfo, Response,
    StatusInfo, UpdateEnded, UpdateInfo, UpdateSpec,
};
use crate::trace::PupState;

/// Longest `within` an update may ask for (7 days). Bounded so a deadline
/// can always be computed; anything longer is a typo.
pub const MAX_WITHIN_MS: u64 = 7 * 24 * 3600 * 1000;
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
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in one connection thread must not wedge the others.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How the program ended, for `Notice::Exited`: `returned`, `exit(3)`,
/// `stopped`, or the runtime error with its backtrace.
pub fn exit_message(status: &ExitStatus) -> String {
    match status {
        ExitStatus::Returned => "returned".to_string(),
        ExitStatus::Exit(code) => format!("exit({code})"),
        ExitStatus::Stopped => "stopped".to_string(),
        ExitStatus::Error(e) => e.to_string(),
        ExitStatus::TimedOut => "timed out".to_string(),
    }
}

/// The program's state in words (`not started`, `running version 1`,
/// `exited (0)`), from the engine's committed versions: `behind` are the
/// procedures not yet at the highest running version, with their versions.
pub fn program_words(
    program: &ProgramState,
    hrvn: VersionNo,
    behind: &[(String, VersionNo)],
) -> String {
    match program {
        ProgramState::Idle => "not started".to_string(),
        ProgramState::Running { .. } if !behind.is_empty() => {
            let list: Vec<String> = behind
                .iter()
                .take(8)
                .map(|(n, v)| format!("{n} at {v}"))
                .collect();
            let more = if behind.len() > 8 { ", ..." } else { "" };
            format!(
                "running version {hrvn} in part: {} procedure{} not yet at version {hrvn} ({}{more})",
                behind.len(),
                if behind.len() == 1 { "" } else { "s" },
                list.join(", ")
            )
        }
        ProgramState::Running { version } if hrvn > *version => {
            format!("running version {hrvn} (started as version {version})")
        }
        ProgramState::Running { version } => format!("running version {version}"),
        ProgramState::Exited(ExitStatus::Returned) => "exited (0)".to_string(),
        ProgramState::Exited(ExitStatus::Exit(code)) => format!("exited ({code})"),
        ProgramState::Exited(ExitStatus::Stopped) => "stopped".to_string(),
        ProgramState::Exited(ExitStatus::Error(e)) => {
            format!("ended by a runtime error: {}", e.message)
        }
        ProgramState::Exited(ExitStatus::TimedOut) => "timed out".to_string(),
    }
}

/// The procedures of the highest running version that are committed to an
/// older one (read from the engine's one record of committed versions).
fn behind(st: &vm::engine::Status) -> Vec<(String, VersionNo)> {
    st.bindings
        .iter()
        .filter(|(_, _, committed, table)| {
            (VersionNo(1)..st.hrvn).contains(committed) && table.iter().any(|(v, _)| *v == st.hrvn)
        })
        .map(|(_, name, committed, _)| (name.clone(), *committed))
        .collect()
}

/// The wire form of what beginning an update found.
pub fn update_info(b: &UpdateBegun) -> UpdateInfo {
    UpdateInfo {
        from: b.from.0,
        to: b.to.0,
        changed: b.changed.clone(),
        reasons: b.reasons.clone(),
        backtrace: b.backtrace.iter().map(|f| f.name.clone()).collect(),
        frames: b.backtrace.iter().map(|f| f.to_string()).collect(),
        warped_unchanged: b.warped_unchanged.clone(),
        committed: b.committed.clone(),
        pending: b.pending.clone(),
        failed: b.failed.clone(),
        notes: b.notes.clone(),
        return_interrupts: b.return_interrupts,
        complete: b.complete,
    }
}

/// Checks an update request's numbers and names before the VM sees it.
fn check_spec(spec: &UpdateSpec) -> Result<UpdateRequest, String> {
    for v in [spec.from, spec.to].into_iter().flatten() {
        check_version(v)?;
    }
    if let Some(ms) = spec.within_ms {
        if ms == 0 {
            return Err("within must be longer than 0".to_string());
        }
        if ms > MAX_WITHIN_MS {
            return Err(format!(
                "within {ms} ms is longer than the limit of {MAX_WITHIN_MS} ms (7 days)"
            ));
        }
    }
    let names = spec
        .changed
        .iter()
        .flatten()
        .chain(spec.together.iter().flatten());
    let mut count = 0usize;
    for n in names {
        count += 1;
        if n.is_empty() || n.len() > MAX_NAME_LEN {
            return Err(format!(
                "procedure name of {} bytes is not a procedure name",
                n.len()
            ));
        }
    }
    if count > MAX_UPDATE_NAMES {
        return Err(format!(
            "the update lists {count} names; at most {MAX_UPDATE_NAMES} are accepted"
        ));
    }
    if spec.together.iter().any(|t| t.is_empty()) {
        return Err("an empty together list".to_string());
    }
    Ok(UpdateRequest {
        from: spec.from.map(VersionNo),
        to: spec.to.map(VersionNo),
        changed: spec.changed.clone(),
        together: spec.together.clone(),
        within: spec.within_ms.map(Duration::from_millis),
        atomic: spec.atomic,
    })
}

/// Version numbers start at 1.
fn check_version(v: u64) -> Result<(), String> {
    if v == 0 {
        Err("version numbers start at 1".to_string())
    } else {
        Ok(())
    }
}

/// Escapes a string for a double-quoted Graphviz ID or label.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A procedure's state in the call graph, in order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeState {
    OnStack,
    Pending,
    Updated,
    Unchanged,
}

impl NodeState {
    fn words(self) -> &'static str {
        match self {
            NodeState::OnStack => "on stack",
            NodeState::Pending => "pending",
            NodeState::Updated => "updated",
            NodeState::Unchanged => "unchanged",
        }
    }
    fn color(self) -> &'static str {
        match self {
            NodeState::OnStack => "#f4a6a6",
            NodeState::Pending => "#ffd27f",
            NodeState::Updated => "#a8dba8",
            NodeState::Unchanged => "#e8e8e8",
        }
    }
}

impl Program {
    /// A pup's program named `name` on `host`, with a fresh VM.
    pub fn new(name: &str, host: &str, config: VmConfig) -> Result<Program, VmError> {
        Ok(Program {
            name: name.to_string(),
            host: host.to_string(),
            vm: Vm::new(config)?,
            ever_loaded: AtomicBool::new(false),
            entries: Mutex::new(BTreeMap::new()),
            ops: Mutex::new(()),
        })
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
            versions: st.versions.iter().map(|v| v.0.0).collect(),
            program: program_words(&st.program, st.hrvn, &behind(&st)),
            pending: st.pending.len(),
            region_base: self.vm.region_base(),
        }
    }

    /// Decodes and loads a version.
    pub fn load(&self, version: u64, object: &[u8], source: Option<&str>) -> Response {
        if let Err(e) = check_version(version) {
            return Response::Error(e);
        }
        let module = match compiler::object::read_object(object) {
            Ok(m) => m,
            Err(e) => return Response::Error(format!("version {version}: {e}")),
        };
        let version = VersionNo(version);
        match self.vm.load(version, module, source) {
            Ok(r) => {
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
    pub fn run(&self, version: Option<u64>, announce: impl FnOnce(u64)) -> Response {
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
                Some(v) => v.0,
                None => return Response::Error("no version is loaded (use load first)".into()),
            },
        };
        if !st.versions.iter().any(|x| x.0 == v) {
            return Response::Error(format!("version {v} is not loaded"));
        }
        let Some(Some(entry)) = lock(&self.entries).get(&v).copied() else {
            return Response::Error(format!("version {v} has no main procedure"));
        };
        announce(entry);
        match self.vm.run(Some(v)) {
            Ok(version) => Response::Running { version: version.0 },
            Err(e) => Response::Error(e.to_string()),
        }
    }

    /// Begins an update.
    pub fn update(&self, spec: &UpdateSpec) -> Response {
        let req = match check_spec(spec) {
            Ok(r) => r,
            Err(e) => return Response::Error(e),
        };
        match self.vm.begin_update(req) {
            Ok(b) => Response::UpdateBegun(update_info(&b)),
            Err(e) => Response::Error(e.to_string()),
        }
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
            let ended = self.vm.ended_since(mark).iter().map(update_ended).collect();
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
                .map(|&(v, slot, procs, bytes)| (v.0, slot, procs, bytes))
                .collect(),
            retired: st.retired.iter().map(|v| v.0).collect(),
            hrvn: st.hrvn.0,
            program: program_words(&st.program, st.hrvn, &behind(&st)),
            pending: st
                .pending
                .iter()
                .map(|(_, from, to, groups)| (from.0, to.0, groups.clone()))
                .collect(),
            bindings: st
                .bindings
                .iter()
                .map(|(id, name, committed, table)| {
                    let table = table.iter().map(|(v, d)| (v.0, d.clone())).collect();
                    (*id, name.clone(), committed.0, table)
                })
                .collect(),
            return_interrupts: st.return_interrupts,
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

    /// The version asked for, or the newest loaded; an error if it is not
    /// loaded.
    fn version_or_newest(&self, version: Option<u64>) -> Result<VersionNo, String> {
        let st = self.vm.status();
        match version.map(VersionNo) {
            Some(v) if st.versions.iter().any(|x| x.0 == v) => Ok(v),
            Some(v) if st.retired.contains(&v) => Err(format!("version {v} has been retired")),
            Some(v) => Err(format!("version {v} is not loaded")),
            None => st
                .versions
                .last()
                .map(|x| x.0)
                .ok_or_else(|| "no version is loaded".to_string()),
        }
    }

    /// δ* of a version: procedure names in ID order and the matrix's first
    /// [`DELTA_SHOWN`] rows and columns (the rest is one `DeltaView` away;
    /// the whole matrix has n² cells).
    pub fn delta(&self, version: Option<u64>) -> Response {
        let spec = DeltaViewSpec {
            version,
            size: DELTA_SHOWN,
            ..Default::default()
        };
        let (v, names, view) = match self.delta_parts(&spec) {
            Ok(x) => x,
            Err(e) => return Response::Error(e),
        };
        let mut matrix = String::new();
        let cut = view.cols.len() < names.len();
        for row in &view.cells {
            matrix.push_str(row);
            matrix.push_str(if cut { " ...\n" } else { "\n" });
        }
        if view.rows.len() < names.len() {
            matrix.push_str(":\n");
        }
        Response::Delta {
            version: v.0,
            names,
            matrix,
        }
    }

    /// A block of δ* in procedure-ID order, or one procedure's row.
    pub fn delta_view(&self, spec: &DeltaViewSpec) -> Response {
        match self.delta_parts(spec) {
            Ok((_, _, view)) => Response::DeltaView(view),
            Err(e) => Response::Error(e),
        }
    }

    fn delta_parts(
        &self,
        spec: &DeltaViewSpec,
    ) -> Result<(VersionNo, Vec<String>, DeltaViewInfo), String> {
        let v = self.version_or_newest(spec.version)?;
        let module = self
            .vm
            .module(v)
            .ok_or_else(|| format!("version {v} is not loaded"))?;
        let names: Vec<String> = self.vm.procs(v).into_iter().map(|(_, n)| n).collect();
        let ds = DeltaStar::of_module(&module);
        // δ* is indexed in module order; the pup shows procedure-ID order.
        let index: HashMap<&str, usize> = module
            .procs
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let idx = |pos: usize| index.get(names[pos].as_str()).copied();
        let mut view = DeltaViewInfo {
            version: v.0,
            total: names.len() as u32,
            components: ds.components() as u32,
            ..Default::default()
        };
        if let Some(of) = &spec.of {
            let p = index
                .get(of.as_str())
                .ok_or_else(|| format!("version {v} has no procedure {of}"))?;
            let row = ds.row(*p);
            for (pos, n) in names.iter().enumerate() {
                if idx(pos).is_some_and(|q| row.contains(q)) {
                    view.reach_count += 1;
                    if view.reach.len() < DELTA_REACH_SHOWN {
                        view.reach.push(n.clone());
                    }
                }
            }
            return Ok((v, names, view));
        }
        let size = spec.size.clamp(1, DELTA_VIEW_MAX) as usize;
        let span = |from: u32| {
            let from = (from as usize).min(names.len());
            (from..(from + size).min(names.len())).filter(|&pos| idx(pos).is_some())
        };
        let rows: Vec<usize> = span(spec.row).collect();
        let cols: Vec<usize> = span(spec.col).collect();
        let ri: Vec<usize> = rows.iter().filter_map(|&p| idx(p)).collect();
        let ci: Vec<usize> = cols.iter().filter_map(|&p| idx(p)).collect();
        for bits in ds.corner(&ri, &ci) {
            let cells: Vec<&str> = (0..ci.len())
                .map(|j| if bits.contains(j) { "1" } else { "0" })
                .collect();
            view.cells.push(cells.join(" "));
        }
        view.rows = rows.iter().map(|&p| (p as u32, names[p].clone())).collect();
        view.cols = cols.iter().map(|&p| (p as u32, names[p].clone())).collect();
        Ok((v, names, view))
    }

    /// The call graph of a version as Graphviz DOT, each procedure coloured
    /// by its state: on stack, pending, updated or unchanged.
    pub fn graph(&self, version: Option<u64>) -> Response {
        let v = match self.version_or_newest(version) {
            Ok(v) => v,
            Err(e) => return Response::Error(e),
        };
        let Some(module) = self.vm.module(v) else {
            return Response::Error(format!("version {v} is not loaded"));
        };
        let on_stack: BTreeSet<String> = self
            .vm
            .stack()
            .into_iter()
            .filter(|f| f.kind == SegType::Proc)
            .map(|f| f.name)
            .collect();
        let status = self.vm.status();
        let pending: BTreeSet<&String> = status
            .pending
            .iter()
            .flat_map(|(_, _, _, groups)| groups.iter().flatten())
            .collect();
        // "Updated" is read from the engine's one record of committed
        // versions: a procedure committed past the version the program
        // started as (or, once it ended, the oldest version loaded).
        let started = match status.program {
            ProgramState::Running { version } => version,
            _ => status.versions.first().map_or(VersionNo(0), |v| v.0),
        };
        let updated: BTreeMap<String, VersionNo> = status
            .bindings
            .iter()
            .filter(|(_, _, committed, _)| *committed > started)
            .map(|(_, name, committed, _)| (name.clone(), *committed))
            .collect();
        let state_of = |name: &String| {
            if on_stack.contains(name) {
                NodeState::OnStack
            } else if pending.contains(name) {
                NodeState::Pending
            } else if updated.contains_key(name) {
                NodeState::Updated
            } else {
                NodeState::Unchanged
            }
        };

        let mut dot = String::new();
        let title = format!("program {} version {v}", self.name);
        let _ = writeln!(dot, "digraph {} {{", dot_quote(&title));
        let _ = writeln!(
            dot,
            "  label={}; labelloc=t;",
            dot_quote(&format!("{title}: call graph"))
        );
        let _ = writeln!(
            dot,
            "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"
        );
        let names: Vec<String> = self.vm.procs(v).into_iter().map(|(_, n)| n).collect();
        for name in &names {
            let state = state_of(name);
            let words = match (state, updated.get(name)) {
                (NodeState::Updated, Some(to)) => format!("updated to v{to}"),
                _ => state.words().to_string(),
            };
            let _ = writeln!(
                dot,
                "  {} [label={}, fillcolor={}];",
                dot_quote(name),
                dot_quote(&format!("{name}\n{words}")),
                dot_quote(state.color())
            );
        }
        for p in &module.procs {
            let callees: BTreeSet<&String> =
                p.callees.iter().filter(|c| names.contains(c)).collect();
            for c in callees {
                let _ = writeln!(dot, "  {} -> {};", dot_quote(&p.name), dot_quote(c));
            }
        }
        // A legend, so the colours explain themselves.
        let _ = writeln!(dot, "  subgraph cluster_legend {{");
        let _ = writeln!(dot, "    label=\"states\"; style=dashed;");
        for s in [
            NodeState::OnStack,
            NodeState::Pending,
            NodeState::Updated,
            NodeState::Unchanged,
        ] {
            let _ = writeln!(
                dot,
                "    {} [label={}, fillcolor={}, shape=note];",
                dot_quote(&format!("legend: {}", s.words())),
                dot_quote(s.words()),
                dot_quote(s.color())
            );
        }
        let _ = writeln!(dot, "  }}");
        dot.push_str("}\n");
        Response::Graph { dot }
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

/// The wire form of how an update ended.
pub fn ending(e: vm::Ending) -> Ending {
    match e {
        vm::Ending::Complete => Ending::Complete,
        vm::Ending::Partial => Ending::Partial,
        vm::Ending::NothingApplied => Ending::NothingApplied,
    }
}

/// The wire form of an update that ended.
fn update_ended(e: &vm::UpdateEnded) -> UpdateEnded {
    UpdateEnded {
        id: e.id,
        to: e.to.0,
        ending: ending(e.ending),
        applied: e.applied.clone(),
        not_applied: e.not_applied.iter().map(|(g, _)| g.clone()).collect(),
        reasons: e.not_applied.iter().map(|(_, r)| r.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_requests_are_checked() {
        let ok = UpdateSpec {
            to: Some(2),
            within_ms: Some(1000),
            ..Default::default()
        };
        assert!(check_spec(&ok).is_ok());
        let zero = UpdateSpec {
            to: Some(0),
            ..Default::default()
        };
        assert!(check_spec(&zero).is_err());
        let long = UpdateSpec {
            within_ms: Some(u64::MAX),
            ..Default::default()
        };
        assert!(
            check_spec(&long)
                .unwrap_err()
                .contains("longer than the limit")
        );
        let empty = UpdateSpec {
            together: vec![vec![]],
            ..Default::default()
        };
        assert!(check_spec(&empty).is_err());
        let big = UpdateSpec {
            changed: Some(vec!["x".repeat(MAX_NAME_LEN + 1)]),
            ..Default::default()
        };
        assert!(check_spec(&big).is_err());
    }

    #[test]
    fn dot_strings_are_escaped() {
        assert_eq!(dot_quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn exit_messages() {
        assert_eq!(exit_message(&ExitStatus::Returned), "returned");
        assert_eq!(exit_message(&ExitStatus::Exit(3)), "exit(3)");
        assert_eq!(exit_message(&ExitStatus::Stopped), "stopped");
    }
}
