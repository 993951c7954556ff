//! pupmapper-client: the Pup Port Mapper's wire protocol and its client,
//! apart from the mapper daemon, for pups and ush (SPEC §5.1).
//!
//! Modules, and the invariant each keeps:
//!
//! - [`proto`] — the mapper's wire types. *Only these types go on the wire;
//!   each request gets exactly one response.*
//! - [`client`] — [`client::MapperClient`], used by pups and ush. *Every call
//!   is bounded by a timeout.*
//! - [`frame`] — [`wire::frame`], re-exported: the codec both speak through.

pub mod client;
pub mod proto;

pub use wire::frame;
