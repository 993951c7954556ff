//! What the VM's threads share: the state behind the state lock ([`State`])
//! and the runtime around it ([`Shared`]): the two code contexts, the
//! address space, the loader, the event bus and the mprocedure runner.
//!
//! Invariant: the program's stack and binding tables are touched only with
//! the state lock held and the program paused, or by the program thread
//! itself at its safepoints and return barriers (see [`crate::pause`]).

use crate::events;
use crate::layout::{SLOTS, SegType};
use crate::runtime::{self, Ctx, REQ_ABORT, RawFrame};
use crate::{
    ExitStatus, FrameInfo, ProgramState, RuntimeError, TrapKind, Version, VmConfig, codegen,
    engine, names, space, testrun,
};
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The program's run state and the pause protocol's bookkeeping.
pub(crate) struct Ctl {
    pub(crate) running: bool,
    /// How long the program thread was last held at a safepoint, measured
    /// by the program thread itself (what the program experiences).
    pub(crate) last_pause_ns: u64,
    pub(crate) pause_waiters: u32,
    pub(crate) paused_at: Option<(u64, u64)>,
    pub(crate) program: ProgramState,
}

/// Everything guarded by the state lock.
pub(crate) struct State {
    /// Shared with a load in progress, which interns into a copy and swaps
    /// it in when it commits (loads are serialized by `Shared::loader`).
    pub(crate) names: Arc<names::NameService>,
    /// Shared so a load can read the version it builds on without the lock.
    pub(crate) versions: BTreeMap<crate::ids::VersionNo, Arc<Version>>,
    pub(crate) slots: [bool; SLOTS as usize],
    pub(crate) engine: engine::Engine,
    pub(crate) ctl: Ctl,
}

pub(crate) struct Shared {
    pub(crate) ctx: Ctx,
    pub(crate) mctx: Ctx,
    pub(crate) space: space::AddressSpace,
    pub(crate) st: Mutex<State>,
    /// Serializes loads and holds their code generator: a load compiles
    /// with this lock, not the program's (`st`), held.
    pub(crate) loader: Mutex<codegen::Codegen>,
    pub(crate) cv: Condvar,
    pub(crate) wake: (Mutex<u64>, Condvar),
    pub(crate) bus: events::Bus,
    pub(crate) config: VmConfig,
    pub(crate) mproc_tx: Mutex<Option<Sender<(u64, u64)>>>,
    pub(crate) mproc_rx: Mutex<Option<Receiver<ExitStatus>>>,
    /// Set for a test run (`test-update`): virtual time, counted safepoints.
    pub(crate) test: std::sync::OnceLock<Arc<testrun::TestMode>>,
    /// The [`VmConfig::hold_after_output`] pause point was used.
    pub(crate) held: std::sync::atomic::AtomicBool,
    /// The mprocedure running on the helper thread, by its name
    /// (`v2:mproc:tick`) and entry: a trap in it is reported by name without
    /// the state lock, which the controller holds meanwhile.
    pub(crate) mproc_label: Mutex<Option<(String, u64)>>,
    /// The program's data stacks and heap (SPEC §2.3): the program's, not a
    /// version's, so they outlive every update.
    pub(crate) memory: crate::memory::ProgramMemory,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn wake_sleepers(&self) {
        let (m, c) = &self.wake;
        *m.lock().unwrap() += 1;
        c.notify_all();
    }

    pub(crate) fn request(&self, ctx: &Ctx, bit: u32) {
        ctx.request(bit);
        self.wake_sleepers();
    }

    /// Decode a code address into a frame description.
    pub(crate) fn frame_info(&self, st: &State, f: RawFrame) -> FrameInfo {
        let la = self.space.decode(f.pc);
        let (version, kind, proc_id, disp) = match la {
            Some(a) => {
                let v = st
                    .versions
                    .values()
                    .find(|v| v.slot == a.slot)
                    .map(|v| v.number)
                    .unwrap_or(crate::ids::VersionNo(0));
                (v, a.ty, a.proc_id, a.disp)
            }
            None => (crate::ids::VersionNo(0), SegType::Proc, 0, 0),
        };
        let name = st.names.name(proc_id).unwrap_or("?").to_string();
        FrameInfo {
            pc: f.pc,
            fp: f.fp,
            version,
            kind,
            proc_id,
            name,
            disp,
        }
    }

    pub(crate) fn is_code(&self, addr: u64) -> bool {
        self.space.decode(addr).is_some_and(|a| a.ty.is_code())
    }

    /// Walk and decode the stack of a paused (or the current) program.
    ///
    /// # Safety
    /// The program thread must be paused at `(fp, pc)` or be the caller.
    pub(crate) unsafe fn walk(&self, st: &State, fp: u64, pc: u64) -> Vec<FrameInfo> {
        // SAFETY: per the contract.
        let raw = unsafe { runtime::walk_stack(&self.ctx, pc, fp, |a| self.is_code(a)) };
        raw.into_iter().map(|f| self.frame_info(st, f)).collect()
    }

    /// Name the mprocedure about to run (or none) for its trap reports.
    pub(crate) fn set_mproc_label(&self, label: Option<(String, u64)>) {
        *self.mproc_label.lock().unwrap_or_else(|p| p.into_inner()) = label;
    }

    /// Run an mprocedure on the helper thread with the time limit.
    pub(crate) fn run_mproc(&self, entry: u64, old_base: u64) -> ExitStatus {
        let tx = self.mproc_tx.lock().unwrap();
        let rx = self.mproc_rx.lock().unwrap();
        let (Some(tx), Some(rx)) = (tx.as_ref(), rx.as_ref()) else {
            return ExitStatus::Error(RuntimeError {
                kind: TrapKind::StackOverflow,
                message: "mprocedure runner is gone".into(),
                backtrace: vec![],
                fault: None,
            });
        };
        self.mctx.clear(REQ_ABORT);
        if tx.send((entry, old_base)).is_err() {
            return ExitStatus::TimedOut;
        }
        match rx.recv_timeout(self.config.mproc_timeout) {
            Ok(st) => st,
            Err(_) => {
                // Ask it to stop at its next safepoint (every loop back-edge
                // is one) and wait for it to do so.
                self.request(&self.mctx, REQ_ABORT);
                let st = rx.recv().unwrap_or(ExitStatus::TimedOut);
                self.mctx.clear(REQ_ABORT);
                match st {
                    ExitStatus::Stopped => ExitStatus::TimedOut,
                    other => other,
                }
            }
        }
    }

    pub(crate) fn source_pos(&self, st: &State, pc: u64, span: u32) -> String {
        let Some(a) = self.space.decode(pc) else {
            return String::new();
        };
        let Some(v) = st.versions.values().find(|v| v.slot == a.slot) else {
            return String::new();
        };
        let name = st.names.name(a.proc_id).unwrap_or("?");
        let kind = match a.ty {
            SegType::IProc => "iproc ",
            SegType::MProc => "mproc ",
            _ => "",
        };
        let mut s = format!(" in {kind}{name} (version {})", v.number);
        if let (Some(src), true) = (&v.source, span != u32::MAX) {
            // The file where the text was written (a program may be several).
            let l = compiler::source::locate(src, &v.module.file, span as usize);
            s.push_str(&format!(" at {}:{}:{}", l.file, l.line, l.column));
        }
        s
    }
}
