//! wire: what every podus daemon and every client of one share, and nothing
//! else — no protocol of its own, no server, no VM.
//!
//! Modules, and the invariant each keeps:
//!
//! - [`frame`] — u32 big-endian length + postcard payload, and the `Hello`
//!   handshake. *A read never buffers more than the connection's frame limit,
//!   never waits longer than its timeouts, and reports EOF between frames
//!   (`Ok(None)`) distinctly from every kind of broken frame.*
//! - [`shutdown`] — [`Shutdown`], the signal that stops a daemon. *A trigger
//!   wakes every waiter and the blocked accept loop.*
//! - [`log_line`] and [`log!`] — a daemon's log lines. *Writing a log line
//!   never panics, whatever became of standard error.*
//! - [`host_name`] — the one host-name lookup of the daemons and ush.
//!
//! The pup's protocol lives in the `pup-client` crate and the pupmapper's in
//! `pupmapper-client`; both speak through [`frame`].

pub mod frame;
pub mod shutdown;

pub use shutdown::{Shutdown, wake_addr};

/// This host's name, if the OS gives a non-empty one: what a pup reports
/// about itself and what a ush prints in its banner.
pub fn host_name() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}

/// Writes one line to the daemon's standard error, ignoring failures.
///
/// Every log line goes through here rather than `eprintln!`, which panics
/// when stderr is gone (a closed terminal, a dead supervisor reading the
/// pipe): a lost log line must never take down a connection thread, the
/// sweeper, or the registration it was logging. The line goes out in one
/// write, so lines from concurrent threads never interleave.
pub fn log_line(text: &str) {
    use std::io::Write;
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}

/// [`log_line`] with `format!` arguments.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log_line(&format!($($arg)*))
    };
}
