//! pupmapper: the Pup Port Mapper Daemon of SPEC §5.1.
//!
//! One pupmapper runs per host on a well-known TCP port (7727). It keeps
//! `[name, pid, port]` tuples for the pups on its host: pups register and
//! unregister (from the local host only); ushes look names up and list them
//! (from anywhere). A lookup also alerts the pup that a ush is coming.
//!
//! The wire types and the client live in the `pupmapper-client` crate and
//! the frame codec in `wire`, so that pups and ush never link this server;
//! they are re-exported here as [`proto`], [`client`] and [`frame`].
//!
//! Modules, and the invariant each keeps:
//!
//! - `registry` (private) — the table. *One name, one live pup: a name held
//!   by a pup whose process exists and whose port accepts is never given
//!   away, and an entry is dropped only if it is unchanged since it was
//!   found dead.*
//! - [`server`] — accept loop and connection threads. *No client can stop
//!   the daemon or delay another client: each connection has its own thread,
//!   timeouts and frame limit, threads are bounded, and a bad frame closes
//!   only its own connection.*
//! - [`cli`] — the `pupmapper` binary's arguments and main loop.

pub mod cli;
mod registry;
pub mod server;

pub use pupmapper_client::{client, proto};
pub use wire::{frame, log};
