//! pup-client: everything a ush needs to talk to a pup, and nothing of the
//! pup itself — no server, no VM, no Cranelift (SPEC §1: a client never
//! links a server).
//!
//! Modules, and the invariant each keeps:
//!
//! - [`proto`] — the wire types. *Only these cross the wire; each request
//!   gets exactly one reply, and notices come between replies.*
//! - [`frame`] — the shared frame codec of [`wire::frame`] and the pup's
//!   `Hello`. *A read never buffers more than the frame limit nor waits past
//!   its timeouts.*
//! - [`auth`] — the cookie file and the challenge–response. *The cookie never
//!   crosses the wire, a cookie file others can read is refused, and without
//!   a valid response nothing but the handshake is answered.*
//! - [`client`] — [`client::PupClient`], for ush. *Every call is bounded by a
//!   timeout, and a late reply is never taken for a later request's.*
//!
//! The pup daemon (crate `pup`) re-exports these modules under its own name,
//! so its server speaks exactly the types defined here.

pub mod auth;
pub mod client;
pub mod frame;
pub mod proto;
