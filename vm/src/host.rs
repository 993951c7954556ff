//! The runtime's callbacks into the VM ([`Host`]): program output, the
//! requests served at safepoints, sleeps, return barriers and runtime
//! errors. Generated code runs on two threads, each with its own context:
//! the program thread ([`Role::Program`]) and the mprocedure helper
//! ([`Role::MProc`]), which runs while the controller holds the state lock
//! and so must never take it.

use crate::runtime::{self, Ctx, Host, REQ_ABORT, Role};
use crate::{
    BACKTRACE_ENDS, Event, ExitStatus, HOLD_LIMIT, RuntimeError, Shared, TrapKind, engine,
};
use std::time::Instant;

impl Host for Shared {
    fn output(&self, bytes: &[u8]) {
        (self.config.output)(bytes);
        if self.bus.has_subscribers() {
            self.bus.emit(Event::Output(bytes.to_vec()));
        }
        if let Some(needle) = &self.config.hold_after_output
            && !needle.is_empty()
            && bytes.windows(needle.len()).any(|w| w == needle.as_slice())
            && !self.held.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            // The test pause point: wait for any request (it is served at
            // the program's next safepoint).
            self.sleep_until(&self.ctx, Instant::now() + HOLD_LIMIT);
        }
    }

    fn handle_requests(&self, ctx: &Ctx, fp: u64, pc: u64) -> Result<(), ExitStatus> {
        if ctx.role == Role::MProc {
            if ctx.requests.load(std::sync::atomic::Ordering::SeqCst) & REQ_ABORT != 0 {
                return Err(ExitStatus::Stopped);
            }
            ctx.rearm();
            return Ok(());
        }
        let mut st = self.lock();
        if let Some(t) = self.test.get() {
            t.at_safepoint(self, &mut st, fp, pc)?;
        }
        self.serve_requests(ctx, st, fp, pc)
    }

    fn sleep_until(&self, ctx: &Ctx, deadline: Instant) -> bool {
        let (m, c) = &self.wake;
        let mut g = m.lock().unwrap();
        loop {
            if ctx.requests.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = c.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    fn barrier_hit(&self, _ctx: &Ctx, fp: u64, pc: u64) {
        let mut st = self.lock();
        self.bus.emit(Event::ProcedureReturned);
        // SAFETY: we are the program thread, at the barrier.
        let frames = unsafe { self.walk(&st, fp, pc) };
        engine::recheck(self, &mut st, &frames);
        if let Some(t) = self.test.get() {
            t.observe(&st);
        }
    }

    fn virtual_sleep(
        &self,
        ctx: &Ctx,
        ms: i64,
        fp: u64,
        pc: u64,
    ) -> Option<Result<(), ExitStatus>> {
        let t = self.test.get()?;
        if ctx.role == Role::MProc {
            // An mproc runs while the program waits: its sleeps take no time.
            return Some(Ok(()));
        }
        // A sleep is a safepoint (counted), then the time passes at once.
        Some(
            self.handle_requests(ctx, fp, pc)
                .and_then(|()| t.advance(ms)),
        )
    }

    fn virtual_now(&self) -> Option<i64> {
        self.test.get().map(|t| t.now())
    }

    fn memory(&self) -> Option<&crate::memory::ProgramMemory> {
        Some(&self.memory)
    }

    fn runtime_error(
        &self,
        ctx: &Ctx,
        kind: TrapKind,
        fp: u64,
        pc: u64,
        span: u32,
    ) -> RuntimeError {
        if ctx.role == Role::MProc {
            // The controller holds the state lock while an mproc runs; the
            // name comes from the label it set before running it.
            let label = self
                .mproc_label
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let at = match (self.space.decode(pc), label) {
                (Some(a), Some((name, entry)))
                    if self.space.decode(entry).is_some_and(|e| {
                        e.slot == a.slot && e.proc_id == a.proc_id && e.ty == a.ty
                    }) =>
                {
                    format!("{name}+{:#x}", a.disp)
                }
                (Some(a), _) => a.to_string(),
                (None, _) => String::new(),
            };
            return RuntimeError {
                kind,
                message: format!("{} in mprocedure {at}", kind.describe()),
                backtrace: vec![at],
                fault: None,
            };
        }
        let st = self.lock();
        // However deep the stack (a stack overflow of a 4 GiB stack holds
        // tens of millions of frames), only its ends are kept and decoded.
        // SAFETY: we are the program thread; the frames are live.
        let ends = unsafe {
            runtime::walk_stack_ends(&self.ctx, pc, fp, |a| self.is_code(a), BACKTRACE_ENDS)
        };
        let mut message = format!("{}{}", kind.describe(), self.source_pos(&st, pc, span));
        if kind == TrapKind::StackOverflow {
            message.push_str(&format!(
                " (depth {} frames, stack limit {} KiB)",
                ends.total,
                self.config.stack_size >> 10
            ));
        }
        let shown = (ends.inner.len() + ends.outer.len()) as u64;
        let mut backtrace: Vec<String> = ends
            .inner
            .iter()
            .map(|&f| self.frame_info(&st, f).to_string())
            .collect();
        if ends.total > shown {
            backtrace.push(format!("... {} more frames ...", ends.total - shown));
        }
        backtrace.extend(
            ends.outer
                .iter()
                .map(|&f| self.frame_info(&st, f).to_string()),
        );
        RuntimeError {
            kind,
            message,
            backtrace,
            fault: None,
        }
    }
}
