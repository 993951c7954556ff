//! The live program behind [`Program`]: the VM's shared state, with the
//! program paused (control thread) or running this code (a return barrier).
//! The engine's entry points for the rest of the VM live here: each walks
//! what it needs of the stack and hands the engine a [`Live`].

use super::commit::{self, AbandonReason};
use super::plan::{self, Plan};
use super::{Barrier, Loaded, Program, UpdateBegun, UpdateError, UpdateRequest};
use crate::binding::{BindingTable, ProcId};
use crate::events::Event;
use crate::layout::LargeAddr;
use crate::runtime::ExitStatus;
use crate::version::Version;
use crate::{FrameInfo, ProgramState, Shared, State};
use std::time::Duration;

/// The running program, reached through the VM's [`Shared`].
pub(crate) struct Live<'a>(pub(crate) &'a Shared);

impl Program for Live<'_> {
    fn emit(&mut self, e: Event) {
        self.0.bus.emit(e);
    }

    unsafe fn store_binding(&mut self, table: BindingTable, id: ProcId, addr: u64) {
        // SAFETY: per the trait's contract.
        unsafe { table.set(id, addr) };
    }

    unsafe fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        // SAFETY: per the trait's contract.
        unsafe { std::slice::from_raw_parts(addr as *const u8, len) }.to_vec()
    }

    unsafe fn write(&mut self, addr: u64, bytes: &[u8]) {
        // SAFETY: per the trait's contract.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
    }

    fn run_mproc(&mut self, label: &str, entry: u64, old_base: u64) -> ExitStatus {
        self.0.set_mproc_label(Some((label.to_string(), entry)));
        let status = self.0.run_mproc(entry, old_base);
        self.0.set_mproc_label(None);
        status
    }

    fn barrier(&mut self, b: Barrier) {
        match b {
            // SAFETY: the engine runs with the program paused or on the
            // program thread, and passes the return slot of its top frame.
            Barrier::Install(slot) => unsafe { self.0.ctx.install_barrier(slot) },
            // SAFETY: as above.
            Barrier::Remove => unsafe { self.0.ctx.remove_barrier() },
            Barrier::Drop => self.0.ctx.drop_barrier(),
        }
    }

    fn decode(&self, addr: u64) -> Option<LargeAddr> {
        self.0.space.decode(addr)
    }

    unsafe fn release(&mut self, v: &Version) {
        // SAFETY: per the trait's contract.
        unsafe { v.release(&self.0.space) };
    }

    fn notify_waiters(&mut self) {
        self.0.cv.notify_all();
    }
}

/// Work out an update of the running program (SPEC §4.1): refused while
/// no program runs, else what [`plan::plan`] makes of the loaded versions.
pub(crate) fn plan(st: &State, req: &UpdateRequest) -> Result<Plan, UpdateError> {
    match st.ctl.program {
        ProgramState::Idle => return Err(UpdateError::NotRunning),
        ProgramState::Exited(_) => return Err(UpdateError::Ended),
        ProgramState::Running { .. } if !st.ctl.running => return Err(UpdateError::Ended),
        ProgramState::Running { .. } => {}
    }
    let loaded = Loaded {
        versions: &st.versions,
        names: &st.names,
    };
    plan::plan(loaded, &st.engine, req)
}

/// SPEC §4.2 step 1, with the program paused at `at` (or not running).
pub(crate) fn begin(
    sh: &Shared,
    st: &mut State,
    at: Option<(u64, u64)>,
    plan: Plan,
    within: Option<Duration>,
) -> UpdateBegun {
    let frames = match at {
        // SAFETY: the program is paused at (fp, pc).
        Some((fp, pc)) => unsafe { sh.walk(st, fp, pc) },
        None => vec![],
    };
    commit::begin(&mut Live(sh), st, frames, plan, within)
}

/// A return barrier fired (on the program thread), with `frames` on the stack.
pub(crate) fn recheck(sh: &Shared, st: &mut State, frames: &[FrameInfo]) {
    commit::recheck(&mut Live(sh), st, frames)
}

/// The program ended.
pub(crate) fn on_exit(sh: &Shared, st: &mut State) {
    commit::on_exit(&mut Live(sh), st)
}

/// Abandon the pending groups of update `id` (or of all). Program paused.
pub(crate) fn abandon(sh: &Shared, st: &mut State, id: Option<u64>, why: AbandonReason) -> usize {
    commit::abandon(&mut Live(sh), st, id, why)
}
