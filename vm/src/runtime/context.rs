//! The context block generated code polls (through r15) and the requests
//! and return barrier it carries.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};

use super::trampolines::podus_return_barrier;
use super::{ExitStatus, Host};

/// The per-thread context block whose address is baked into generated code.
#[repr(C)]
pub struct Ctx {
    /// Offset 0, read by generated code: safepoint taken when `sp < limit`.
    pub limit: AtomicU64,
    /// The real stack limit (lowest usable stack address plus a margin).
    pub real_limit: AtomicU64,
    /// Offset 16: the stack pointer saved by `podus_enter`.
    pub entry_sp: AtomicU64,
    /// Address of the return slot holding the barrier, or 0.
    pub barrier_slot: AtomicU64,
    /// The return address the barrier replaced.
    pub barrier_orig: AtomicU64,
    /// Pending request bits.
    pub requests: AtomicU32,
    /// Base of the address space (for decoding return addresses).
    pub region_base: u64,
    /// Why the code stopped, set before unwinding.
    pub status: Mutex<Option<ExitStatus>>,
    /// Which of the VM's code threads runs with this context.
    pub role: Role,
    host: *const dyn Host,
    /// The data-stack pointer (SPEC 2.3): generated code takes its frame
    /// of arrays and addressed locals below it and gives it back on
    /// return. Reset to `dsp_hi` each time code is entered.
    pub dsp: AtomicU64,
    /// The lowest address of this thread's data stack.
    pub dsp_lo: AtomicU64,
    /// Its top (exclusive).
    pub dsp_hi: AtomicU64,
}

/// The two threads generated code runs on, each with its own [`Ctx`]: the
/// host tells them apart by this, not by which context it was handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The program's thread: pauses, updates and stops are served at its
    /// safepoints, under the VM's state lock.
    Program,
    /// The mprocedure helper: it runs while the controller holds the state
    /// lock, so its safepoints only check for an abort.
    MProc,
}

// SAFETY: all mutable state is atomic or behind a mutex; the host pointer is
// to a Sync object that outlives the context.
unsafe impl Send for Ctx {}
// SAFETY: as for Send: shared use goes through atomics and the mutex.
unsafe impl Sync for Ctx {}

impl Ctx {
    /// A context for code of the region at `region_base`.
    ///
    /// # Safety
    /// `host` must outlive the context and every thread running code with it.
    pub unsafe fn new(region_base: u64, role: Role, host: *const dyn Host) -> Ctx {
        Ctx {
            limit: AtomicU64::new(u64::MAX),
            real_limit: AtomicU64::new(u64::MAX),
            entry_sp: AtomicU64::new(0),
            barrier_slot: AtomicU64::new(0),
            barrier_orig: AtomicU64::new(0),
            requests: AtomicU32::new(0),
            region_base,
            status: Mutex::new(None),
            role,
            host,
            dsp: AtomicU64::new(0),
            dsp_lo: AtomicU64::new(0),
            dsp_hi: AtomicU64::new(0),
        }
    }

    /// Gives the context its thread's data stack, `[lo, hi)`.
    pub fn set_data_stack(&self, lo: u64, hi: u64) {
        self.dsp_lo.store(lo, SeqCst);
        self.dsp_hi.store(hi, SeqCst);
        self.dsp.store(hi, SeqCst);
    }

    pub(super) fn host(&self) -> &dyn Host {
        // SAFETY: guaranteed by `Ctx::new`'s contract.
        unsafe { &*self.host }
    }

    /// Ask the code running in this context to stop at its next safepoint
    /// for `bit`.
    pub fn request(&self, bit: u32) {
        self.requests.fetch_or(bit, SeqCst);
        self.limit.store(u64::MAX, SeqCst);
    }

    /// Clear request bits; re-arm the real limit unless others remain.
    pub fn clear(&self, bits: u32) {
        self.requests.fetch_and(!bits, SeqCst);
        self.rearm();
    }

    /// Restore the real limit, keeping a pending request visible. The order
    /// (store, then re-check) pairs with [`Ctx::request`]'s (set, then store)
    /// so that no request is lost.
    pub fn rearm(&self) {
        self.limit.store(self.real_limit.load(SeqCst), SeqCst);
        if self.requests.load(SeqCst) != 0 {
            self.limit.store(u64::MAX, SeqCst);
        }
    }

    /// Set the real stack limit for the thread about to run code here.
    pub fn set_stack_limit(&self, lowest_usable: u64) {
        self.real_limit.store(lowest_usable, SeqCst);
        self.rearm();
    }

    /// Take the status recorded before an unwind.
    pub fn take_status(&self) -> Option<ExitStatus> {
        self.status.lock().unwrap().take()
    }

    pub(super) fn set_status(&self, st: ExitStatus) {
        *self.status.lock().unwrap() = Some(st);
    }

    /// Install the return barrier on the return slot at `slot` (the word at
    /// `fp + 8` of the frame that should trigger a recheck when it returns),
    /// replacing any previous one. Only while the code is paused or from
    /// the code's own thread.
    ///
    /// # Safety
    /// `slot` must be the return-address slot of a live frame of this
    /// context's thread, and that thread must not be running generated code.
    pub unsafe fn install_barrier(&self, slot: u64) {
        // SAFETY: per the contract.
        unsafe {
            self.remove_barrier();
            let orig = *(slot as *const u64);
            self.barrier_orig.store(orig, SeqCst);
            self.barrier_slot.store(slot, SeqCst);
            *(slot as *mut u64) = podus_return_barrier as *const () as u64;
        }
    }

    /// Put the original return address back, if a barrier is installed.
    ///
    /// # Safety
    /// As for [`Ctx::install_barrier`].
    pub unsafe fn remove_barrier(&self) {
        let slot = self.barrier_slot.swap(0, SeqCst);
        if slot != 0 {
            // SAFETY: the slot is still a live return slot (the barrier
            // would have fired and cleared it otherwise).
            unsafe { *(slot as *mut u64) = self.barrier_orig.load(SeqCst) };
        }
    }

    /// Forget the barrier without touching memory (its frame is gone).
    pub fn drop_barrier(&self) {
        self.barrier_slot.store(0, SeqCst);
    }

    /// Is a barrier installed?
    pub fn has_barrier(&self) -> bool {
        self.barrier_slot.load(SeqCst) != 0
    }
}
