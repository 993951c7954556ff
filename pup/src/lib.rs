//! pup, the Program Update Processor (SPEC §5.2): a daemon that holds one
//! named program in a [`vm::Vm`], runs it, and applies the updates a ush
//! sends while it runs; plus the client ush uses to talk to it.
//!
//! Modules, and the invariant each keeps:
//!
//! - [`proto`] — the wire types. *Only these cross the wire; each request
//!   gets exactly one reply, and notices come between replies.*
//! - [`frame`] — the shared frame codec and the pup's `Hello`. *A read never
//!   buffers more than the frame limit nor waits past its timeouts.*
//! - [`auth`] — the cookie file and the challenge–response. *The cookie never
//!   crosses the wire, a cookie file others can read is refused, and without
//!   a valid response nothing but the handshake is answered.*
//! - [`mapper_link`] — registration with the pupmapper and classification of
//!   incoming connections. *The keeper stops before the pup unregisters, so a
//!   leaving pup is never re-registered.*
//! - [`client`] — [`client::PupClient`], for ush. *Every call is bounded by a
//!   timeout, and a late reply is never taken for a later request's.*
//! - [`state`] — the program and what the pup remembers about it. *All of
//!   it lives in the pup, not in a connection, so a ush can leave and come
//!   back at any time, even mid-update; VM-acting requests run one at a time
//!   and every wire value is checked before the VM sees it.*
//! - [`trace`] — the paper's `pup:` debug lines and the pup states. *Every
//!   trace line is worded here and nowhere else.*
//! - [`server`] — accept loop, connection threads, event fan-out. *No ush can
//!   stop the daemon or hold up another: a bad frame closes only its own
//!   connection, and a ush that stops reading loses lossy notices or its
//!   connection, never blocks the VM's events.*
//! - [`exec`] — `pup --exec FILE.uc`. *Whatever happens to the program, the
//!   process reports it and exits with 1 or the program's code.*
//! - [`cli`] — the `pup` binary. *The ready line is printed only once the
//!   pup listens and is registered; it unregisters on exit, SIGINT and
//!   SIGTERM included.*
pub mod auth;
pub mod cli;
pub mod client;
pub mod exec;
pub mod frame;
pub mod mapper_link;
pub mod proto;
pub mod server;
pub mod state;
pub mod trace;
