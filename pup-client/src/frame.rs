//! The pup's framing: the codec every podus daemon shares (owned by
//! [`wire::frame`], re-exported here) and the `Hello` of the pup protocol.
//!
//! A ush opens a connection to a pup with `Hello { "podus-pup", VERSION }`;
//! the mapper's alerts arrive on the same port under their own protocol name
//! (see `pup::mapper_link::classify`).

pub use wire::frame::{
    Connection, FrameError, HandshakeError, Hello, HelloReply, Limits, MAX_FRAME, read_frame,
    write_frame,
};

pub use crate::proto::{PROTOCOL, VERSION};

/// The `Hello` of the pup protocol at this build's version.
pub fn hello() -> Hello {
    Hello::new(PROTOCOL, VERSION)
}
