//! The pause protocol: how the controller gets the program to hold still
//! at a safepoint, and how the program holds.
//!
//! The controller ([`pause`], [`pause_with`]) takes the state lock, counts
//! itself among the pause waiters, raises `REQ_PAUSE` and waits on the
//! condition variable until the program says where it is paused
//! (`Ctl::paused_at`). The program, at its next safepoint
//! ([`Shared::serve_requests`]), records `(fp, pc)`, wakes the controller
//! and waits until no waiter is left. The state lock is held by whoever
//! acts, so the program cannot move while the controller works on its stack.

use crate::runtime::{Ctx, REQ_PAUSE, REQ_STOP};
use crate::{ExitStatus, Shared, State};
use std::sync::MutexGuard;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Instant;

/// Run `f` with the program paused at a safepoint, given where it is
/// paused (`None` when it is not running). The state lock is held throughout,
/// so the program thread cannot move until `f` returns.
pub(crate) fn pause<T>(
    sh: &Shared,
    f: impl FnOnce(&Shared, &mut State, Option<(u64, u64)>) -> T,
) -> T {
    let r: Result<T, std::convert::Infallible> =
        pause_with(sh, |_| Ok(()), |sh, st, at, ()| f(sh, st, at));
    match r {
        Ok(t) => t,
    }
}

/// [`pause`] with a preparation step that runs under the state lock but
/// before the program is asked to pause, so that its cost is not pause
/// time; when it fails the program is not paused at all.
pub(crate) fn pause_with<P, T, E>(
    sh: &Shared,
    prep: impl FnOnce(&State) -> Result<P, E>,
    f: impl FnOnce(&Shared, &mut State, Option<(u64, u64)>, P) -> T,
) -> Result<T, E> {
    let mut st = sh.lock();
    let p = prep(&st)?;
    if !st.ctl.running {
        return Ok(f(sh, &mut st, None, p));
    }
    st.ctl.pause_waiters += 1;
    sh.request(&sh.ctx, REQ_PAUSE);
    while st.ctl.paused_at.is_none() && st.ctl.running {
        st = sh.cv.wait(st).unwrap_or_else(|p| p.into_inner());
    }
    let at = if st.ctl.running {
        st.ctl.paused_at
    } else {
        None
    };
    if at.is_some() {
        sh.bus.defer();
    }
    let r = f(sh, &mut st, at, p);
    // Let the program go first, then send what `f` had to say (see
    // `events::Bus`): observers are not the program's business.
    sh.bus.flush(move || {
        st.ctl.pause_waiters -= 1;
        sh.cv.notify_all();
        drop(st);
    });
    Ok(r)
}

impl Shared {
    /// The program's side, at a safepoint with the state lock held: stop
    /// if asked to, and hold while anyone waits for the program to pause
    /// (saying where it holds, and measuring how long it held).
    pub(crate) fn serve_requests(
        &self,
        ctx: &Ctx,
        mut st: MutexGuard<'_, State>,
        fp: u64,
        pc: u64,
    ) -> Result<(), ExitStatus> {
        loop {
            let req = ctx.requests.load(SeqCst);
            if req & REQ_STOP != 0 {
                ctx.clear(REQ_STOP);
                return Err(ExitStatus::Stopped);
            }
            if req & REQ_PAUSE == 0 {
                break;
            }
            if st.ctl.pause_waiters == 0 {
                ctx.clear(REQ_PAUSE);
                continue;
            }
            st.ctl.paused_at = Some((fp, pc));
            let paused = Instant::now();
            self.cv.notify_all();
            while st.ctl.pause_waiters > 0 && ctx.requests.load(SeqCst) & REQ_STOP == 0 {
                st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            st.ctl.paused_at = None;
            st.ctl.last_pause_ns = paused.elapsed().as_nanos() as u64;
            if st.ctl.pause_waiters == 0 {
                ctx.clear(REQ_PAUSE);
            }
        }
        ctx.rearm();
        Ok(())
    }
}
