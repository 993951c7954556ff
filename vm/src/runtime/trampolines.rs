//! Entering and leaving generated code: the entry/unwind/return-barrier
//! and safepoint trampolines, and the host entry points generated code calls.

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use super::libc::LibcFn;
use super::printf::{Printf, format, store};
use super::{Ctx, ExitStatus, RuntimeError, TrapKind};
use crate::memory::{BadAccess, MemFault, ProgramMemory};

thread_local! {
    /// The context of the generated code running on this thread (for the
    /// return barrier, which gets no arguments).
    pub(super) static CURRENT: std::cell::Cell<*const Ctx> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Run `entry(arg)` (generated code) in `ctx` on this thread until it
/// returns or unwinds; the stack limit is set from this thread's stack.
///
/// # Safety
/// `entry` must be generated code taking at most one i64 argument whose
/// safepoints and builtins use `ctx`, and this thread's stack must be larger
/// than `stack_size` (its lowest `stack_size` bytes below here are given
/// back to the system when the code ends).
pub unsafe fn run_code(ctx: &Ctx, entry: u64, arg: u64, stack_size: usize) -> ExitStatus {
    // SAFETY: the same contract.
    unsafe { run_code_value(ctx, entry, arg, stack_size).0 }
}

/// [`run_code`], also giving what the code left in the integer return
/// register: an int-returning entry's return value when the status is
/// [`ExitStatus::Returned`] (meaningless otherwise).
///
/// # Safety
/// As for [`run_code`].
pub unsafe fn run_code_value(
    ctx: &Ctx,
    entry: u64,
    arg: u64,
    stack_size: usize,
) -> (ExitStatus, u64) {
    let here = &arg as *const u64 as u64;
    // Leave room for the runtime's own frames (printf, the host) below the
    // last generated frame, and for the largest frame generated code makes.
    let margin = 1 << 20;
    let lowest = here
        .saturating_sub(stack_size as u64)
        .saturating_add(margin);
    ctx.set_stack_limit(lowest);
    ctx.drop_barrier();
    // Each entry starts with the whole data stack: frames a runtime error
    // abandoned are gone with the run that made them.
    ctx.dsp.store(
        ctx.dsp_hi.load(std::sync::atomic::Ordering::Relaxed),
        std::sync::atomic::Ordering::Relaxed,
    );
    *ctx.status.lock().unwrap() = None;
    let prev = CURRENT.with(|c| c.replace(ctx));
    // SAFETY: per the contract; podus_enter returns here either normally or
    // through podus_unwind.
    let value = unsafe { podus_enter(entry, ctx as *const Ctx as u64, arg) };
    CURRENT.with(|c| c.set(prev));
    ctx.drop_barrier();
    release_stack_below(here, stack_size);
    (ctx.take_status().unwrap_or(ExitStatus::Returned), value)
}

/// Gives the pages of the stack the code used back to the system: after a
/// deep recursion they would otherwise stay resident as long as the thread
/// lives. `here` is an address in the frame of [`run_code`], which is back
/// from the code: nothing below it but the frames this call makes is live,
/// and those lie within the 64 KiB left alone.
fn release_stack_below(here: u64, stack_size: usize) {
    const PAGE: u64 = 4096;
    let top = here.saturating_sub(64 << 10) & !(PAGE - 1);
    let bottom = (here.saturating_sub(stack_size as u64) + PAGE - 1) & !(PAGE - 1);
    if top > bottom {
        // SAFETY: [bottom, top) lies inside this thread's stack mapping
        // (run_code's callers give it a stack larger than `stack_size`) and
        // below every live frame; MADV_DONTNEED on private anonymous memory
        // only makes the pages read back as zeros when next touched.
        unsafe {
            libc::madvise(
                bottom as *mut libc::c_void,
                (top - bottom) as usize,
                libc::MADV_DONTNEED,
            );
        }
    }
}

/// Address of the safepoint stub generated code calls, without arguments
/// and with Cranelift's PreserveAll convention, when a poll fails: at
/// procedure entry (`entry`) or at a loop back-edge. The stub saves every
/// caller-saved register (the general ones and xmm0–15) and calls
/// [`rt_safepoint`] with what it finds: the context in r15, the frame in rbp,
/// the caller's stack pointer, and its own return address — an address in
/// the polling procedure's code, which identifies it. A back-edge passes
/// `u64::MAX` as the stack pointer: a loop cannot overflow the stack.
pub fn safepoint_stub_addr(entry: bool) -> u64 {
    if entry {
        podus_safepoint_entry as *const () as u64
    } else {
        podus_safepoint_loop as *const () as u64
    }
}

unsafe extern "C" {
    fn podus_safepoint_entry();
    fn podus_safepoint_loop();
    // The context travels as an integer: the assembly only reads and writes
    // its `entry_sp` word at offset 16.
    fn podus_enter(entry: u64, ctx: u64, arg: u64) -> u64;
    fn podus_unwind(ctx: u64) -> !;
    pub(super) fn podus_return_barrier();
}

// The trampolines. podus_enter saves the callee-saved registers and its
// stack pointer (Ctx offset 16) and calls the code; podus_unwind restores
// that stack pointer and returns from podus_enter. podus_return_barrier is
// "returned to" by the frame whose slot held the barrier: it keeps the
// return values (rax, xmm0), asks the runtime for the original return address
// (running the update recheck meanwhile) and jumps there.
std::arch::global_asm!(
    ".text",
    ".globl podus_enter",
    ".p2align 4",
    "podus_enter:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rsi + 16], rsp",
    // r15 is Cranelift's pinned register: generated code finds its context
    // there. Callee-saved, so the runtime's Rust code preserves it.
    "mov r15, rsi",
    "mov rax, rdi",
    "mov rdi, rdx",
    "call rax",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    "",
    ".globl podus_unwind",
    ".p2align 4",
    "podus_unwind:",
    "mov rsp, [rdi + 16]",
    "xor eax, eax",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    "",
    ".globl podus_return_barrier",
    ".p2align 4",
    "podus_return_barrier:",
    "sub rsp, 32",
    "mov [rsp], rax",
    "movsd [rsp + 8], xmm0",
    "mov rdi, rbp",
    "call {hit}",
    "mov r11, rax",
    "mov rax, [rsp]",
    "movsd xmm0, [rsp + 8]",
    "add rsp, 32",
    "jmp r11",
    "",
    ".globl podus_safepoint_entry",
    ".p2align 4",
    "podus_safepoint_entry:",
    "push rax",
    "xor eax, eax",
    "jmp 2f",
    "",
    ".globl podus_safepoint_loop",
    ".p2align 4",
    "podus_safepoint_loop:",
    "push rax",
    "mov rax, -1",
    // Shared body: rax is 0 (entry) or -1 (back-edge, no stack check).
    "2:",
    "push rcx",
    "push rdx",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    "sub rsp, 256",
    "movdqu [rsp + 0], xmm0",
    "movdqu [rsp + 16], xmm1",
    "movdqu [rsp + 32], xmm2",
    "movdqu [rsp + 48], xmm3",
    "movdqu [rsp + 64], xmm4",
    "movdqu [rsp + 80], xmm5",
    "movdqu [rsp + 96], xmm6",
    "movdqu [rsp + 112], xmm7",
    "movdqu [rsp + 128], xmm8",
    "movdqu [rsp + 144], xmm9",
    "movdqu [rsp + 160], xmm10",
    "movdqu [rsp + 176], xmm11",
    "movdqu [rsp + 192], xmm12",
    "movdqu [rsp + 208], xmm13",
    "movdqu [rsp + 224], xmm14",
    "movdqu [rsp + 240], xmm15",
    "mov rdi, r15",
    "mov rsi, rbp",
    "lea rdx, [rsp + 336]",
    "test rax, rax",
    "cmovnz rdx, rax",
    "mov rcx, [rsp + 328]",
    "call {safepoint}",
    "movdqu xmm0, [rsp + 0]",
    "movdqu xmm1, [rsp + 16]",
    "movdqu xmm2, [rsp + 32]",
    "movdqu xmm3, [rsp + 48]",
    "movdqu xmm4, [rsp + 64]",
    "movdqu xmm5, [rsp + 80]",
    "movdqu xmm6, [rsp + 96]",
    "movdqu xmm7, [rsp + 112]",
    "movdqu xmm8, [rsp + 128]",
    "movdqu xmm9, [rsp + 144]",
    "movdqu xmm10, [rsp + 160]",
    "movdqu xmm11, [rsp + 176]",
    "movdqu xmm12, [rsp + 192]",
    "movdqu xmm13, [rsp + 208]",
    "movdqu xmm14, [rsp + 224]",
    "movdqu xmm15, [rsp + 240]",
    "add rsp, 256",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "ret",
    hit = sym rt_barrier_hit,
    safepoint = sym rt_safepoint,
);

fn barrier_hit_impl(fp: u64) -> u64 {
    let ctx = CURRENT.with(|c| c.get());
    // SAFETY: the barrier is only ever installed on a thread running code
    // under podus_enter, which set CURRENT.
    let ctx = unsafe { &*ctx };
    let orig = ctx.barrier_orig.load(SeqCst);
    ctx.drop_barrier();
    ctx.host().barrier_hit(ctx, fp, orig);
    orig
}

/// Leave the running code with `status` (never returns).
///
/// # Safety
/// Must be called on the thread running code in `ctx`, from a frame that
/// holds no value with a destructor.
pub(super) unsafe fn leave(ctx: &Ctx, status: ExitStatus) -> ! {
    ctx.set_status(status);
    // SAFETY: per the contract; the status (with its destructor) now lives in
    // the context, not in any frame being discarded.
    unsafe { podus_unwind(ctx as *const Ctx as u64) }
}

/// Safepoint slow path: the limit check failed. Either the stack really is
/// exhausted, or a request is pending.
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn safepoint_impl(ctx: *const Ctx, fp: u64, sp: u64, pc: u64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    if sp < ctx.real_limit.load(SeqCst) {
        let err = ctx
            .host()
            .runtime_error(ctx, TrapKind::StackOverflow, fp, pc, u32::MAX);
        // SAFETY: this frame holds nothing with a destructor.
        unsafe { leave(ctx, ExitStatus::Error(err)) }
    }
    if let Err(st) = ctx.host().handle_requests(ctx, fp, pc) {
        // SAFETY: as above.
        unsafe { leave(ctx, st) }
    }
}

/// A runtime error detected by generated code (never returns).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn trap_impl(ctx: *const Ctx, kind: u32, fp: u64, pc: u64, span: u32) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    let err = ctx
        .host()
        .runtime_error(ctx, TrapKind::from_u32(kind), fp, pc, span);
    // SAFETY: this frame holds nothing with a destructor once `err` is moved.
    unsafe { leave(ctx, ExitStatus::Error(err)) }
}

/// `exit(code)` (never returns).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn exit_impl(ctx: *const Ctx, code: i64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    // SAFETY: nothing with a destructor is live here.
    unsafe { leave(ctx, ExitStatus::Exit(code)) }
}

/// `sleep_ms(ms)`: a safepoint that waits; an update can happen meanwhile,
/// after which the remaining time is slept.
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn sleep_impl(ctx: *const Ctx, ms: i64, fp: u64, pc: u64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    if let Some(r) = ctx.host().virtual_sleep(ctx, ms, fp, pc) {
        if let Err(st) = r {
            // SAFETY: nothing with a destructor is live here.
            unsafe { leave(ctx, st) }
        }
        return;
    }
    let deadline = Instant::now() + Duration::from_millis(ms.max(0) as u64);
    loop {
        let requested = ctx.host().sleep_until(ctx, deadline);
        if requested && let Err(st) = ctx.host().handle_requests(ctx, fp, pc) {
            // SAFETY: nothing with a destructor is live here.
            unsafe { leave(ctx, st) }
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}

/// `now_ms()`: milliseconds since the Unix epoch (or the virtual clock of
/// a test run).
fn now_ms_impl() -> i64 {
    let ctx = CURRENT.with(|c| c.get());
    if !ctx.is_null() {
        // SAFETY: CURRENT is set only while code runs in that context.
        if let Some(t) = unsafe { &*ctx }.host().virtual_now() {
            return t;
        }
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// The host entry points generated code calls (and the trampolines call
// for it). A panic must not unwind into generated code, which has no unwind
// information (the process would abort): each entry point runs its body
// under `guarded`, which turns a panic into a runtime error of the program,
// as wasmtime's `catch_unwind_and_record_trap` turns one into a trap.
// Every `extern "C"` function of the runtime is one of these.

/// Runs the body of a host entry point called by code running in `ctx` on
/// this thread; a panic in it ends that code with an
/// [`TrapKind::Internal`] runtime error naming the panic.
pub(super) fn guarded<R>(ctx: *const Ctx, body: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(r) => r,
        // Not called by generated code (no context on this thread): an
        // ordinary Rust caller, which may unwind.
        Err(payload) if ctx.is_null() => std::panic::resume_unwind(payload),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            drop(payload);
            let err = RuntimeError {
                kind: TrapKind::Internal,
                message: format!("{}: {what}", TrapKind::Internal.describe()),
                backtrace: vec![],
                fault: None,
            };
            // SAFETY: `ctx` is the context of the code that called the entry
            // point on this thread (its callers' contract); once `err` is
            // moved nothing with a destructor is live in this frame, and
            // the entry point's own frame holds only the moved body.
            unsafe { leave(&*ctx, ExitStatus::Error(err)) }
        }
    }
}

extern "C" fn rt_barrier_hit(fp: u64) -> u64 {
    guarded(CURRENT.with(|c| c.get()), || barrier_hit_impl(fp))
}

/// Safepoint slow path (see [`safepoint_impl`]).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
pub unsafe extern "C" fn rt_safepoint(ctx: *const Ctx, fp: u64, sp: u64, pc: u64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { safepoint_impl(ctx, fp, sp, pc) })
}

/// A runtime error detected by generated code (see [`trap_impl`]).
///
/// # Safety
/// As for [`rt_safepoint`].
pub unsafe extern "C" fn rt_trap(ctx: *const Ctx, kind: u32, fp: u64, pc: u64, span: u32) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { trap_impl(ctx, kind, fp, pc, span) })
}

/// `exit(code)` (see [`exit_impl`]).
///
/// # Safety
/// As for [`rt_safepoint`].
pub unsafe extern "C" fn rt_exit(ctx: *const Ctx, code: i64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { exit_impl(ctx, code) })
}

/// `sleep_ms(ms)` (see [`sleep_impl`]).
///
/// # Safety
/// As for [`rt_safepoint`].
pub unsafe extern "C" fn rt_sleep(ctx: *const Ctx, ms: i64, fp: u64, pc: u64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { sleep_impl(ctx, ms, fp, pc) })
}

/// `now_ms()` (see [`now_ms_impl`]).
pub extern "C" fn rt_now_ms() -> i64 {
    guarded(CURRENT.with(|c| c.get()), now_ms_impl)
}

/// The program's memory, which the host of code calling the heap and C
/// library builtins must have (a host without it ends the program with an
/// internal error, through `guarded`).
fn memory(ctx: &Ctx) -> &ProgramMemory {
    ctx.host()
        .memory()
        .expect("the heap and C library builtins need the program's memory")
}

/// Stops the program with the runtime error for `fault` at `pc`/`span`.
///
/// # Safety
/// As for [`leave`]: called on the thread running code in `ctx`, from a
/// frame holding nothing with a destructor once the error is built.
unsafe fn fault(ctx: &Ctx, fault: MemFault, fp: u64, pc: u64, span: u32) -> ! {
    let err = ctx.host().fault_error(ctx, fault, fp, pc, span);
    // SAFETY: per the contract.
    unsafe { leave(ctx, ExitStatus::Error(err)) }
}

/// Formats a printf call, stopping the program on a bad `%s` pointer.
///
/// # Safety
/// As for [`format`], called by generated code with its own context.
unsafe fn format_or_fault(
    ctx: &Ctx,
    desc: *const Printf,
    args: *const u64,
    at: (u64, u64, u32),
) -> Vec<u8> {
    // SAFETY: generated code passes a descriptor its version owns and one
    // slot per `*` and conversion.
    let r = unsafe { format(ctx.host().memory(), &*desc, args) };
    match r {
        Ok(out) => out,
        // SAFETY: nothing with a destructor is live once the error is built.
        Err(bad) => unsafe { fault(ctx, MemFault::Access(bad), at.0, at.1, at.2) },
    }
}

/// `printf` of a descriptor with no `%s` of a pointer (a bad one would be
/// reported without a backtrace): prefer [`rt_printf_at`].
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for, a descriptor that lives as long as its version, and one argument
/// slot per `*` and per conversion.
pub unsafe extern "C" fn rt_printf(ctx: *const Ctx, desc: *const Printf, args: *const u64) {
    // SAFETY: the same contract.
    unsafe { rt_printf_at(ctx, desc, args, 0, 0, u32::MAX) }
}

/// `printf`, with where it is called from for the runtime error of a bad
/// `%s` pointer.
///
/// # Safety
/// As for [`rt_printf`].
pub unsafe extern "C" fn rt_printf_at(
    ctx: *const Ctx,
    desc: *const Printf,
    args: *const u64,
    fp: u64,
    pc: u64,
    span: u32,
) {
    guarded(ctx, || {
        // SAFETY: generated code passes its own context.
        let ctx = unsafe { &*ctx };
        // SAFETY: the caller's contract.
        let out = unsafe { format_or_fault(ctx, desc, args, (fp, pc, span)) };
        ctx.host().output(&out);
    })
}

/// `sprintf(dst, ...)`: the formatted bytes and a NUL written at `dst`
/// (the whole range checked first); gives the length without the NUL.
///
/// # Safety
/// As for [`rt_printf`].
pub unsafe extern "C" fn rt_sprintf(
    ctx: *const Ctx,
    desc: *const Printf,
    args: *const u64,
    dst: u64,
    fp: u64,
    pc: u64,
    span: u32,
) -> i32 {
    // SAFETY: the same contract.
    unsafe { rt_snprintf(ctx, desc, args, dst, u64::MAX, fp, pc, span) }
}

/// `snprintf(dst, cap, ...)`: at most `cap - 1` bytes and a NUL written
/// at `dst` (nothing when `cap` is 0); gives the length it would have
/// written, as C's does.
///
/// # Safety
/// As for [`rt_printf`].
#[allow(clippy::too_many_arguments)] // the C call's arguments plus where it is
pub unsafe extern "C" fn rt_snprintf(
    ctx: *const Ctx,
    desc: *const Printf,
    args: *const u64,
    dst: u64,
    cap: u64,
    fp: u64,
    pc: u64,
    span: u32,
) -> i32 {
    guarded(ctx, || {
        // SAFETY: generated code passes its own context.
        let ctx = unsafe { &*ctx };
        // SAFETY: the caller's contract.
        let out = unsafe { format_or_fault(ctx, desc, args, (fp, pc, span)) };
        match store(memory(ctx), out, dst, cap) {
            Ok(n) => n,
            // SAFETY: nothing with a destructor is live here.
            Err(bad) => unsafe { fault(ctx, MemFault::Access(bad), fp, pc, span) },
        }
    })
}

/// `malloc(size)` of an object of type `tag` (0 = raw bytes): 0 when the
/// heap is exhausted.
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
pub unsafe extern "C" fn rt_malloc(ctx: *const Ctx, size: u64, tag: u32) -> u64 {
    // SAFETY: generated code passes its own context.
    guarded(ctx, || memory(unsafe { &*ctx }).malloc(size, tag))
}

/// `calloc(n, size)`: zeroed; 0 on overflow or exhaustion.
///
/// # Safety
/// As for [`rt_malloc`].
pub unsafe extern "C" fn rt_calloc(ctx: *const Ctx, n: u64, size: u64, tag: u32) -> u64 {
    // SAFETY: generated code passes its own context.
    guarded(ctx, || memory(unsafe { &*ctx }).calloc(n, size, tag))
}

/// `realloc(ptr, size)` (the tag kept when `tag` is 0); a pointer malloc
/// did not return, or one already freed, stops the program.
///
/// # Safety
/// As for [`rt_malloc`].
pub unsafe extern "C" fn rt_realloc(
    ctx: *const Ctx,
    ptr: u64,
    size: u64,
    tag: u32,
    fp: u64,
    pc: u64,
    span: u32,
) -> u64 {
    guarded(ctx, || {
        // SAFETY: generated code passes its own context.
        let ctx = unsafe { &*ctx };
        match memory(ctx).realloc(ptr, size, tag) {
            Ok(p) => p,
            // SAFETY: nothing with a destructor is live here.
            Err(e) => unsafe { fault(ctx, MemFault::Realloc(e), fp, pc, span) },
        }
    })
}

/// `free(ptr)`; a bad or second free stops the program.
///
/// # Safety
/// As for [`rt_malloc`].
pub unsafe extern "C" fn rt_free(ctx: *const Ctx, ptr: u64, fp: u64, pc: u64, span: u32) {
    guarded(ctx, || {
        // SAFETY: generated code passes its own context.
        let ctx = unsafe { &*ctx };
        if let Err(e) = memory(ctx).free(ptr) {
            // SAFETY: nothing with a destructor is live here.
            unsafe { fault(ctx, MemFault::Free(e), fp, pc, span) }
        }
    })
}

/// The inline pointer check failed: stops the program with what the
/// address is. `len_and_write` is `len | (write as u64) << 63`.
///
/// # Safety
/// As for [`rt_malloc`].
pub unsafe extern "C" fn rt_bad_access(
    ctx: *const Ctx,
    addr: u64,
    len_and_write: u64,
    fp: u64,
    pc: u64,
    span: u32,
) {
    guarded(ctx, || {
        // SAFETY: generated code passes its own context.
        let ctx = unsafe { &*ctx };
        let (len, write) = (len_and_write & !(1 << 63), len_and_write >> 63 != 0);
        let bad: BadAccess = memory(ctx).classify(addr, len, write);
        // SAFETY: nothing with a destructor is live here.
        unsafe { fault(ctx, MemFault::Access(bad), fp, pc, span) }
    })
}

/// A C library function (`which` is a [`LibcFn`]) on `args`, one slot per
/// parameter (see `runtime::libc` for how values are passed).
///
/// # Safety
/// As for [`rt_malloc`], and `args` holds `LibcFn::arity` slots.
pub unsafe extern "C" fn rt_libc(
    ctx: *const Ctx,
    which: u32,
    args: *const u64,
    fp: u64,
    pc: u64,
    span: u32,
) -> u64 {
    guarded(ctx, || {
        // SAFETY: generated code passes its own context.
        let ctx = unsafe { &*ctx };
        let f = LibcFn::from_u32(which).expect("generated code names a C library function");
        // SAFETY: `args` holds the function's arity in slots (the contract).
        let a = unsafe { std::slice::from_raw_parts(args, f.arity()) };
        match super::libc::call(memory(ctx), f, a) {
            Ok(v) => v,
            // SAFETY: nothing with a destructor is live here.
            Err(e) => unsafe { fault(ctx, e, fp, pc, span) },
        }
    })
}

// Thunks that give `rt_sleep` and `rt_trap` the real return address in the
// calling procedure as their `pc` (the fourth argument, rcx), so that the
// top frame of a backtrace taken in a builtin or at a trap shows its real
// offset instead of the segment's start. At entry [rsp] is that return
// address; the jump keeps the stack as the call left it.
std::arch::global_asm!(
    ".text",
    ".globl podus_rt_sleep_pc",
    ".p2align 4",
    "podus_rt_sleep_pc:",
    "mov rcx, [rsp]",
    "jmp {sleep}",
    "",
    ".globl podus_rt_trap_pc",
    ".p2align 4",
    "podus_rt_trap_pc:",
    "mov rcx, [rsp]",
    "jmp {trap}",
    sleep = sym rt_sleep,
    trap = sym rt_trap,
);

unsafe extern "C" {
    fn podus_rt_sleep_pc();
    fn podus_rt_trap_pc();
}

/// Address generated code calls for `sleep_ms`: [`rt_sleep`] with the
/// caller's real return address as `pc`.
pub fn sleep_addr() -> u64 {
    podus_rt_sleep_pc as *const () as u64
}

/// Address generated code calls to report a trap: [`rt_trap`] with the
/// caller's real return address as `pc`.
pub fn trap_addr() -> u64 {
    podus_rt_trap_pc as *const () as u64
}
