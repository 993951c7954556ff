//! The pup's framing: the codec every podus daemon shares (owned by
//! `pupmapper::frame`, re-exported here) and the `Hello` of the pup protocol.
//!
//! A ush opens a connection to a pup with `Hello { "podus-pup", VERSION }`;
//! the mapper's alerts arrive on the same port under their own protocol name
//! (see [`crate::mapper_link::classify`]).

pub use pupmapper::frame::{
    Connection, FrameError, HandshakeError, Hello, HelloReply, Limits, MAX_FRAME, read_frame,
    write_frame,
};

/// Protocol name a ush announces to a pup.
pub const PROTOCOL: &str = "podus-pup";
/// Version of the pup protocol; bumped on any incompatible wire change.
pub const VERSION: u32 = 1;

/// The `Hello` of the pup protocol at this build's version.
pub fn hello() -> Hello {
    Hello::new(PROTOCOL, VERSION)
}
