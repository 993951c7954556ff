//! pupmapper: the Pup Port Mapper Daemon of SPEC §5.1, and the frame codec
//! every podus daemon speaks.
//!
//! One pupmapper runs per host on a well-known TCP port (7727). It keeps
//! `[name, pid, port]` tuples for the pups on its host: pups register and
//! unregister (from the local host only); ushes look names up and list them
//! (from anywhere). A lookup also alerts the pup that a ush is coming.
//!
//! Modules, and the invariant each keeps:
//!
//! - [`frame`] — u32 big-endian length + postcard payload, and the `Hello`
//!   handshake. *A read never buffers more than the connection's frame limit,
//!   never waits longer than its timeouts, and reports EOF between frames
//!   (`Ok(None)`) distinctly from every kind of broken frame.*
//! - [`proto`] — the mapper's wire types. *Only these types go on the wire;
//!   each request gets exactly one response.*
//! - `registry` (private) — the table. *One name, one live pup: a name held
//!   by a pup whose process exists and whose port accepts is never given
//!   away, and an entry is dropped only if it is unchanged since it was
//!   found dead.*
//! - [`server`] — accept loop and connection threads. *No client can stop
//!   the daemon or delay another client: each connection has its own thread,
//!   timeouts and frame limit, threads are bounded, and a bad frame closes
//!   only its own connection.*
//! - [`client`] — [`client::MapperClient`], used by pups and ush. *Every call
//!   is bounded by a timeout.*
//! - [`cli`] — the `pupmapper` binary's arguments and main loop.

/// Writes one line to the daemon's standard error, ignoring failures.
///
/// Every log line goes through here rather than `eprintln!`, which panics
/// when stderr is gone (a closed terminal, a dead supervisor reading the
/// pipe): a lost log line must never take down a connection thread, the
/// sweeper, or the registration it was logging.
pub fn log_line(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// [`log_line`] with `format!` arguments.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log_line(&format!($($arg)*))
    };
}

pub mod cli;
pub mod client;
pub mod frame;
pub mod proto;
mod registry;
pub mod server;
