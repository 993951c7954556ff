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

use crate::proto::{
    FrameRow, LoadInfo, PendingRow, ProcBindings, ProcRow, PupInfo, Response, StatusInfo,
    TableBinding, UpdateSpec, VersionRow,
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
            Err(vm::UpdateError::WouldReset(r)) => Response::WouldReset(reset_rows(&r)),
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
                .map(|&(v, slot, procs, bytes)| VersionRow {
                    version: v.0,
                    slot,
                    procs,
                    code_bytes: bytes,
                })
                .collect(),
            retired: st.retired.iter().map(|v| v.0).collect(),
            hrvn: st.hrvn.0,
            program: program_words(&st.program, st.hrvn, &behind(&st)),
            pending: st
                .pending
                .iter()
                .map(|(_, from, to, groups)| PendingRow {
                    from: from.0,
                    to: to.0,
                    groups: groups.clone(),
                })
                .collect(),
            bindings: st
                .bindings
                .iter()
                .map(|(id, name, committed, table)| ProcBindings {
                    id: *id,
                    name: name.clone(),
                    committed: committed.0,
                    tables: table
                        .iter()
                        .map(|(v, d)| TableBinding {
                            table: v.0,
                            target: d.clone(),
                        })
                        .collect(),
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
