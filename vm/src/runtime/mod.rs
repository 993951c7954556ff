//! What generated code calls and jumps through: the context block it polls,
//! the entry/unwind/return-barrier trampolines, and the builtins.
//!
//! Invariants:
//! - Generated code touches only [`Ctx::limit`] (offset 0), through r15,
//!   which holds the context while code runs. A safepoint is
//!   `sp < ctx.limit` — one load and a never-taken branch. Stack overflow and
//!   every request (pause, stop, abort) share that one word, as Go's stack
//!   guard does: a request stores `u64::MAX` into it.
//! - Code is entered only through [`podus_enter`], which records the stack
//!   pointer that [`podus_unwind`] returns to; runtime errors, `exit` and
//!   `stop` leave through it. No Rust value with a destructor is live in a
//!   frame that is unwound over.
//! - At most one return barrier is installed at a time; its slot and the
//!   original return address live in the context, so stack walks see through it.
//!
//! Parts: `context` (the block and its requests), `stack` (frame walks),
//! `trampolines` (entering and leaving code, the host entry points), `printf`
//! and `libm` (the C library builtins).

mod context;
mod libc;
mod libm;
mod printf;
mod stack;
#[cfg(test)]
mod tests;
mod trampolines;

pub use context::{Ctx, Role};
pub use libc::LibcFn;
pub use libm::{GlibcRand, math_addr, rt_rand, rt_srand};
pub use printf::{ConvKind, MAX_FIELD, PrintPiece, Printf, prepare_conv};
pub use stack::{RawFrame, StackEnds, walk_stack, walk_stack_ends};
pub use trampolines::{
    rt_bad_access, rt_calloc, rt_exit, rt_free, rt_libc, rt_malloc, rt_now_ms, rt_printf,
    rt_printf_at, rt_realloc, rt_safepoint, rt_sleep, rt_snprintf, rt_sprintf, rt_trap, run_code,
    run_code_value, safepoint_stub_addr, sleep_addr, trap_addr,
};

use std::time::Instant;

/// Request bit: pause at the next safepoint (the controller wants the stack).
pub const REQ_PAUSE: u32 = 1;
/// Request bit: stop the program at the next safepoint.
pub const REQ_STOP: u32 = 2;
/// Request bit: abort an mprocedure (time limit passed).
pub const REQ_ABORT: u32 = 4;
/// Request bit held for the whole of a test run (`test-update`): every poll
/// fails, so the host sees (and counts) every safepoint.
pub const REQ_TEST: u32 = 8;

/// Why code running in a context stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum ExitStatus {
    /// The entry procedure returned.
    Returned,
    /// `exit(code)` was called.
    Exit(i64),
    /// A runtime error (already rendered with its backtrace).
    Error(RuntimeError),
    /// A `stop` request ended it.
    Stopped,
    /// An mprocedure ran out of time.
    TimedOut,
}

impl ExitStatus {
    /// The process-style exit code: 0 on return or stop, the code of `exit`,
    /// 1 on a runtime error or timeout.
    pub fn code(&self) -> i64 {
        match self {
            ExitStatus::Returned | ExitStatus::Stopped => 0,
            ExitStatus::Exit(c) => *c,
            ExitStatus::Error(_) | ExitStatus::TimedOut => 1,
        }
    }
}

/// What went wrong at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TrapKind {
    /// Integer division by zero.
    DivByZero = 1,
    /// Integer remainder by zero.
    RemByZero = 2,
    /// Array index out of bounds.
    OutOfBounds = 3,
    /// The stack limit was reached.
    StackOverflow = 4,
    /// A shift count outside 0..63 (of a 64-bit operand).
    BadShift = 5,
    /// The runtime itself failed (a panic in a host function called by
    /// generated code, contained there).
    Internal = 6,
    /// A shift count outside 0..31 (of a 32-bit `int` or `unsigned`).
    BadShift32 = 7,
    /// A load, store or C library call through a null, freed or wild
    /// pointer ([`RuntimeError::fault`] says which).
    BadPointer = 8,
    /// A bad `free` or `realloc` ([`RuntimeError::fault`] says which).
    BadFree = 9,
}

impl TrapKind {
    fn from_u32(v: u32) -> TrapKind {
        match v {
            1 => TrapKind::DivByZero,
            2 => TrapKind::RemByZero,
            3 => TrapKind::OutOfBounds,
            5 => TrapKind::BadShift,
            6 => TrapKind::Internal,
            7 => TrapKind::BadShift32,
            8 => TrapKind::BadPointer,
            9 => TrapKind::BadFree,
            _ => TrapKind::StackOverflow,
        }
    }

    /// The message's first words.
    pub fn describe(self) -> &'static str {
        match self {
            TrapKind::DivByZero => "division by zero",
            TrapKind::RemByZero => "division by zero (remainder)",
            TrapKind::OutOfBounds => "array index out of bounds",
            TrapKind::StackOverflow => "stack overflow",
            TrapKind::BadShift => "shift count outside 0..63",
            TrapKind::BadShift32 => "shift count outside 0..31 (the width of an int)",
            TrapKind::Internal => "internal error in the runtime",
            TrapKind::BadPointer => "bad pointer",
            TrapKind::BadFree => "bad free",
        }
    }
}

/// A runtime error with its decoded backtrace.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError {
    /// What happened.
    pub kind: TrapKind,
    /// One line: what, where (procedure, version, source line when known).
    pub message: String,
    /// Decoded frames, innermost first (`v1:proc:f+0x40`).
    pub backtrace: Vec<String>,
    /// For [`TrapKind::BadPointer`] and [`TrapKind::BadFree`]: exactly what
    /// went wrong (the message's first words say it in the user's terms).
    pub fault: Option<crate::memory::MemFault>,
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "runtime error: {}", self.message)?;
        writeln!(f, "backtrace:")?;
        // Frames are numbered by their depth; the count of frames left out
        // between the innermost and outermost ones is not a frame.
        let mut i = 0u64;
        for fr in &self.backtrace {
            let skipped = fr
                .strip_prefix("... ")
                .and_then(|r| r.strip_suffix(" more frames ..."))
                .and_then(|n| n.parse::<u64>().ok());
            match skipped {
                Some(n) => {
                    writeln!(f, "  {fr}")?;
                    i += n;
                }
                None => {
                    writeln!(f, "  #{i} {fr}")?;
                    i += 1;
                }
            }
        }
        Ok(())
    }
}

/// The VM side of the runtime: what builtins and safepoints call into.
pub trait Host: Send + Sync {
    /// Program output (printf).
    fn output(&self, bytes: &[u8]);
    /// A request is pending and code is at a safepoint: handle it (pause
    /// until resumed, or decide to stop). `fp`/`pc` locate the safepoint.
    fn handle_requests(&self, ctx: &Ctx, fp: u64, pc: u64) -> Result<(), ExitStatus>;
    /// Block until `deadline` or until a request arrives; true if a request
    /// is pending.
    fn sleep_until(&self, ctx: &Ctx, deadline: Instant) -> bool;
    /// The frame whose return slot held the barrier has returned; `fp` is
    /// the frame pointer of the frame now on top (the caller) and `pc` the
    /// address it is about to continue at.
    fn barrier_hit(&self, ctx: &Ctx, fp: u64, pc: u64);
    /// Build the runtime error for a trap at `pc` (segment start of the
    /// running code) with source offset `span`.
    fn runtime_error(&self, ctx: &Ctx, kind: TrapKind, fp: u64, pc: u64, span: u32)
    -> RuntimeError;
    /// Under virtual time (test runs): `sleep_ms(ms)` as a safepoint that
    /// advances the virtual clock at once; `None` means real time.
    fn virtual_sleep(
        &self,
        _ctx: &Ctx,
        _ms: i64,
        _fp: u64,
        _pc: u64,
    ) -> Option<Result<(), ExitStatus>> {
        None
    }
    /// Under virtual time: what `now_ms()` reads; `None` means real time.
    fn virtual_now(&self) -> Option<i64> {
        None
    }
    /// The program's stacks and heap, which the heap and C library
    /// builtins work on; `None` for a host without them (those builtins
    /// then end the program with an internal error).
    fn memory(&self) -> Option<&crate::memory::ProgramMemory> {
        None
    }
    /// Build the runtime error for a memory fault: as
    /// [`Host::runtime_error`] (position, backtrace), with the fault's
    /// description as the message's first words.
    fn fault_error(
        &self,
        ctx: &Ctx,
        fault: crate::memory::MemFault,
        fp: u64,
        pc: u64,
        span: u32,
    ) -> RuntimeError {
        let kind = match fault {
            crate::memory::MemFault::Access(_) => TrapKind::BadPointer,
            _ => TrapKind::BadFree,
        };
        let mut e = self.runtime_error(ctx, kind, fp, pc, span);
        let rest = e.message.strip_prefix(kind.describe()).unwrap_or("");
        e.message = format!("{fault}{rest}");
        e.fault = Some(fault);
        e
    }
}
