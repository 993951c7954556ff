//! The pup's debug trace (SPEC §5.2, the paper's section 6.1): the lines a
//! pup started with `--debug` prints, and the pup states they mention.
//!
//! Invariant: every line of the trace is made here, so the wording the tests
//! and the paper share lives in one place; the server only decides where a
//! line goes (its stderr, and the ushes that asked for the trace).

use vm::{Primitive, ProgramState};

use crate::proto::Request;

/// The pup's state as the `INTERRUPT!` line reports it.
///
/// Numbered so that the paper's session reads the same: a `RUN` arrives in
/// state 0 and an `UPDATE` of a running program in state 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PupState {
    /// 0: no program has been started (versions may be loaded).
    Idle = 0,
    /// 1: the program ran and ended (returned, exit, stop or runtime
    /// error); loaded versions stay and `RUN` starts it again.
    Ended = 1,
    /// 2: the program is running and no update is pending.
    Running = 2,
    /// 3: the program is running and an update is pending: procedure-return
    /// interrupts are enabled until it completes.
    Updating = 3,
}

impl PupState {
    /// The state for a program in `program` with `pending` updates waiting.
    pub fn of(program: &ProgramState, pending: usize) -> PupState {
        match program {
            ProgramState::Idle => PupState::Idle,
            ProgramState::Exited(_) => PupState::Ended,
            ProgramState::Running { .. } if pending > 0 => PupState::Updating,
            ProgramState::Running { .. } => PupState::Running,
        }
    }

    /// The number printed in the trace.
    pub fn number(self) -> u8 {
        self as u8
    }
}

/// The pup states as `pup --help` documents them.
pub const STATES_HELP: &str = "\
Pup states (shown by --debug as `pup: INTERRUPT! (pup state: N) received command C`):
  0  idle: no program has been started yet (versions may be loaded)
  1  ended: the program returned, called exit, was stopped or hit a runtime
     error; its versions stay loaded and RUN starts it again
  2  running, no update pending
  3  running with an update pending: procedure-return interrupts are enabled
     until every changed procedure has been updated (or the update abandoned)";

/// The command name a request is announced with (`RUN`, `UPDATE`, ...).
pub fn command_name(req: &Request) -> &'static str {
    match req {
        Request::Info => "INFO",
        Request::Load { .. } => "LOAD",
        Request::Run { .. } => "RUN",
        Request::Update(_) => "UPDATE",
        Request::Wait { .. } => "WAIT",
        Request::Abort => "ABORT",
        Request::Status => "STATUS",
        Request::Stack => "STACK",
        Request::Delta { .. } => "DELTA",
        Request::Graph { .. } => "GRAPH",
        Request::Addr { .. } => "ADDR",
        Request::Output { .. } => "OUTPUT",
        Request::Debug { .. } => "DEBUG",
        Request::Stop => "STOP",
        Request::Bye => "BYE",
        Request::LoadBegin { .. } | Request::LoadChunk { .. } | Request::LoadEnd => "LOAD",
        Request::DeltaView(_) => "DELTA",
        Request::Interface => "INTERFACE",
        Request::Client(_) => "CLIENT",
        Request::History => "HISTORY",
        Request::Revert(_) => "REVERT",
    }
}

/// `pup: INTERRUPT! (pup state: 2) received command UPDATE`
pub fn interrupt(state: PupState, req: &Request) -> String {
    format!(
        "pup: INTERRUPT! (pup state: {}) received command {}",
        state.number(),
        command_name(req)
    )
}

/// `Execution begins at address 0x7f...` (the paper prints it without the
/// `pup:` prefix, right after the `RUN` interrupt).
pub fn execution_begins(addr: u64) -> String {
    format!("Execution begins at address {addr:#x}...")
}

/// `pup: UPDATE dispatcher received command GET RTS`
pub fn primitive(p: Primitive) -> String {
    format!("pup: UPDATE dispatcher received command {}", p.name())
}

/// A frame the update was waiting on returned.
pub const PROCEDURE_TERMINATED: &str = "pup: PROCEDURE INVOCATION TERMINATED!";

/// Writes `text` to the pup's standard error, ignoring failures.
///
/// Every pup trace line goes through here (log lines through [`wire::log!`])
/// rather than `eprintln!`, which panics when stderr is gone (the terminal
/// closed, or the process reading the pipe died): a pup's log is worth less
/// than its program, so a lost line must never take a connection thread or
/// the event thread down.
pub fn to_stderr(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm::ExitStatus;

    #[test]
    fn the_papers_states() {
        let running = ProgramState::Running {
            version: vm::VersionNo(1),
        };
        assert_eq!(PupState::of(&ProgramState::Idle, 0).number(), 0);
        assert_eq!(PupState::of(&running, 0).number(), 2);
        assert_eq!(PupState::of(&running, 1).number(), 3);
        assert_eq!(
            PupState::of(&ProgramState::Exited(ExitStatus::Returned), 0).number(),
            1
        );
        assert_eq!(
            interrupt(PupState::Idle, &Request::Run { version: None }),
            "pup: INTERRUPT! (pup state: 0) received command RUN"
        );
        assert_eq!(
            interrupt(PupState::Running, &Request::Update(Default::default())),
            "pup: INTERRUPT! (pup state: 2) received command UPDATE"
        );
        assert_eq!(
            primitive(Primitive::GetRts),
            "pup: UPDATE dispatcher received command GET RTS"
        );
    }
}
