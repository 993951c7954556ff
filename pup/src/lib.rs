//! pup, the Program Update Processor (SPEC §5.2): a daemon that holds one
//! named program in a [`vm::Vm`], runs it, and applies the updates a ush
//! sends while it runs.
//!
//! The wire types, the frame codec with the pup's `Hello`, the cookie and
//! challenge–response, and the client ush uses live in the `pup-client`
//! crate, so that a ush never links the VM; they are re-exported here as
//! [`proto`], [`frame`], [`auth`] and [`client`] so the server speaks
//! exactly those types.
//!
//! Modules, and the invariant each keeps:
//!
//! - [`mapper_link`] — registration with the pupmapper and classification of
//!   incoming connections. *The keeper stops before the pup unregisters, so a
//!   leaving pup is never re-registered.*
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
//! - [`journal`] — the durable journal (SPEC §4.7). *An entry is on disk
//!   before ush hears the step succeeded, is never written inside a pause,
//!   and a journal that fails turns off with one line: the program runs on.*
//! - [`exec`] — `pup --exec FILE.uc`. *Whatever happens to the program, the
//!   process reports it and exits with 1 or the program's code.*
//! - [`testupdate`] — `pup --test-update`, the private test pup of ush's
//!   `test-update`. *It touches no network: the report goes to standard
//!   output and the verdict is the exit status.*
//! - [`cli`] — the `pup` binary. *The ready line is printed only once the
//!   pup listens and is registered; it unregisters on exit, SIGINT and
//!   SIGTERM included.*
pub mod cli;
pub mod exec;
pub mod journal;
pub mod mapper_link;
pub mod server;
pub mod state;
pub mod testupdate;
pub mod trace;

pub use pup_client::{auth, client, frame, proto};
pub use wire::log;
