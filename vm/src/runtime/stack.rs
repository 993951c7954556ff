//! Walking the frame-pointer chain of a stopped thread of generated code.

use std::sync::atomic::Ordering::SeqCst;

use super::Ctx;
use super::trampolines::podus_return_barrier;

/// One frame found by [`walk_stack`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// An address inside the frame's code (its segment start for the
    /// innermost frame, a return address for the others).
    pub pc: u64,
    /// The frame pointer of that frame.
    pub fp: u64,
}

/// Walk the frame-pointer chain from the innermost frame (`pc`, `fp`) to
/// the entry frame, innermost first. `is_code` says whether an address is
/// generated code; the walk stops at the first return address that is not
/// (the entry trampoline).
///
/// # Safety
/// `fp` must be the frame pointer of a live frame of generated code on a
/// thread that is not running (paused, or the calling thread itself).
pub unsafe fn walk_stack(
    ctx: &Ctx,
    pc: u64,
    fp: u64,
    is_code: impl Fn(u64) -> bool,
) -> Vec<RawFrame> {
    let mut frames = Vec::new();
    // SAFETY: per the contract.
    unsafe { for_each_frame(ctx, pc, fp, is_code, 50_000_000, |f| frames.push(f)) };
    frames
}

/// The frame loop of [`walk_stack`] and [`walk_stack_ends`]: gives `visit`
/// the innermost frame, then each caller's frame outward (at most
/// `max_callers` of them), reading a return address the barrier replaced
/// from the context.
///
/// # Safety
/// As for [`walk_stack`].
unsafe fn for_each_frame(
    ctx: &Ctx,
    pc: u64,
    mut fp: u64,
    is_code: impl Fn(u64) -> bool,
    max_callers: u64,
    mut visit: impl FnMut(RawFrame),
) {
    visit(RawFrame { pc, fp });
    let barrier = podus_return_barrier as *const () as u64;
    let slot = ctx.barrier_slot.load(SeqCst);
    for _ in 0..max_callers {
        if fp == 0 || !fp.is_multiple_of(8) {
            break;
        }
        // SAFETY: generated code keeps frame pointers, so fp points at
        // [saved fp, return address] of a live frame; the chain strictly
        // rises (checked below), so the walk ends at the stack's top.
        let (saved_fp, mut ret) = unsafe { (*(fp as *const u64), *((fp + 8) as *const u64)) };
        if ret == barrier && slot == fp + 8 {
            ret = ctx.barrier_orig.load(SeqCst);
        }
        if !is_code(ret) || saved_fp <= fp {
            break;
        }
        visit(RawFrame {
            pc: ret,
            fp: saved_fp,
        });
        fp = saved_fp;
    }
}

/// What [`walk_stack_ends`] keeps of a stack: its innermost and outermost
/// frames, and how many there are in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackEnds {
    /// Up to `keep` innermost frames, innermost first.
    pub inner: Vec<RawFrame>,
    /// Up to `keep` outermost frames not in `inner`, innermost first.
    pub outer: Vec<RawFrame>,
    /// Frames on the stack in all.
    pub total: u64,
}

/// [`walk_stack`] in bounded memory however deep the stack: keeps the
/// `keep` innermost and the `keep` outermost frames and counts the rest.
///
/// # Safety
/// As for [`walk_stack`].
pub unsafe fn walk_stack_ends(
    ctx: &Ctx,
    pc: u64,
    fp: u64,
    is_code: impl Fn(u64) -> bool,
    keep: usize,
) -> StackEnds {
    let keep = keep.max(1);
    let mut inner = Vec::with_capacity(keep);
    let mut outer = std::collections::VecDeque::with_capacity(keep);
    let mut total = 0u64;
    let visit = |f: RawFrame| {
        total += 1;
        if inner.len() < keep {
            inner.push(f);
        } else {
            if outer.len() == keep {
                outer.pop_front();
            }
            outer.push_back(f);
        }
    };
    // SAFETY: per the contract.
    unsafe { for_each_frame(ctx, pc, fp, is_code, u64::MAX, visit) };
    StackEnds {
        inner,
        outer: outer.into(),
        total,
    }
}
