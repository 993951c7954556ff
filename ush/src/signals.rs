//! SIGINT, SIGTERM and SIGHUP, handled on a thread of their own.
//!
//! Invariant: [`install`] runs before any other thread starts, so every
//! thread inherits the blocked mask and only the waiter ever sees these
//! signals. A terminating signal stops the children of `--local` before
//! ush exits; Ctrl-C at an interactive prompt only interrupts the command
//! that is running (the line editor reads it as a key otherwise).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::{SigSet, Signal};

use crate::local::Children;

/// Blocks the signals and starts the waiter. With `interactive`, SIGINT
/// sets `interrupt` instead of ending ush.
pub(crate) fn install(
    children: Children,
    interactive: bool,
    interrupt: Arc<AtomicBool>,
) -> Result<(), String> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set.thread_block()
        .map_err(|e| format!("cannot block signals: {e}"))?;
    std::thread::Builder::new()
        .name("ush-signals".into())
        .spawn(move || {
            loop {
                let Ok(sig) = set.wait() else { return };
                if sig == Signal::SIGINT && interactive {
                    interrupt.store(true, Ordering::SeqCst);
                    continue;
                }
                if children.any() {
                    eprintln!("ush: {sig}: stopping the pups and the pupmapper this ush started");
                }
                children.stop_all();
                // The shell's own output is flushed line by line; nothing
                // else needs saving.
                std::process::exit(128 + sig as i32);
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}
