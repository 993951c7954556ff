//! The pupmapper's wire types.
//!
//! These are the only types the mapper puts on the wire; the registry keeps
//! its own representation and converts at the edge.
//!
//! Conversation with a ush or pup (`podus-mapper` protocol): after the
//! handshake, each [`Request`] frame gets exactly one [`Response`] frame, in
//! order, until the client closes.
//!
//! Alert to a pup (`podus-mapper-alert` protocol): the mapper connects to the
//! pup's own port and sends, in one write, a `Hello` for [`ALERT_PROTOCOL`]
//! and one [`MapperAlert`] frame, then closes. The alert is one-way — the pup
//! sends nothing back — so a busy pup never delays a lookup.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::frame::Hello;

/// Protocol name a mapper client announces in its `Hello`.
pub const PROTOCOL: &str = "podus-mapper";
/// Version of [`PROTOCOL`] described by this module.
pub const VERSION: u32 = 1;
/// Protocol name the mapper announces when it alerts a pup on the pup's port.
pub const ALERT_PROTOCOL: &str = "podus-mapper-alert";
/// Version of [`ALERT_PROTOCOL`].
pub const ALERT_VERSION: u32 = 1;
/// The mapper's well-known TCP port.
pub const DEFAULT_PORT: u16 = 7727;
/// Environment variable that overrides [`DEFAULT_PORT`].
pub const PORT_ENV: &str = "PODUS_PUPMAPPER_PORT";
/// Longest pup name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// The mapper port to use: `$PODUS_PUPMAPPER_PORT` if set, else 7727.
pub fn default_port() -> Result<u16, String> {
    match std::env::var(PORT_ENV) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{PORT_ENV}={v:?} is not a TCP port number")),
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_PORT),
        Err(e) => Err(format!("{PORT_ENV}: {e}")),
    }
}

/// The mapper address for `host`: `host` itself if it names a port
/// (`"h:7000"`, `"[::1]:7000"`), else `host` with [`default_port`].
pub fn mapper_addr(host: &str) -> Result<String, String> {
    if host.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(host.to_string());
    }
    let port = default_port()?;
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, port).to_string());
    }
    match host.rsplit_once(':') {
        Some((_, p)) if p.parse::<u16>().is_ok() => Ok(host.to_string()),
        _ => Ok(format!("{host}:{port}")),
    }
}

/// The `Hello` of the mapper protocol.
pub fn hello() -> Hello {
    Hello::new(PROTOCOL, VERSION)
}

/// The `Hello` that opens an alert on a pup's port.
pub fn alert_hello() -> Hello {
    Hello::new(ALERT_PROTOCOL, ALERT_VERSION)
}

/// One registered pup: the `[name, process ID, TCP port]` tuple of SPEC §5.1.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PupEntry {
    /// Program name the pup holds.
    pub name: String,
    /// The pup's process ID on the mapper's host.
    pub pid: u32,
    /// TCP port the pup listens on, on the mapper's host.
    pub port: u16,
}

impl fmt::Display for PupEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {}, port {})", self.name, self.pid, self.port)
    }
}

/// A request to the mapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Map `name` to the pup `pid` listening on `port`. Loopback peers only.
    /// Re-registering the identical tuple is a no-op, which is how a pup
    /// checks that a restarted mapper still knows it.
    Register {
        /// Program name.
        name: String,
        /// The pup's process ID.
        pid: u32,
        /// The pup's TCP port.
        port: u16,
    },
    /// Remove `name` if it is held by `pid`. Loopback peers only.
    Unregister {
        /// Program name.
        name: String,
        /// The pup's process ID; must match the registration.
        pid: u32,
    },
    /// Find the live pup holding `name`, and alert it that a ush is coming.
    Lookup {
        /// Program name.
        name: String,
    },
    /// All live pups, sorted by name.
    List,
}

/// The mapper's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The request succeeded and has nothing to report (Unregister).
    Ok,
    /// The registration is in place.
    Registered,
    /// The live pup holding the looked-up name.
    Found(PupEntry),
    /// No live pup holds `name`.
    NotFound {
        /// The name looked up or unregistered.
        name: String,
    },
    /// Every live pup, sorted by name.
    List(Vec<PupEntry>),
    /// The request was refused or malformed; the text is for the user.
    Error(String),
}

/// The one frame of the alert protocol: a ush looked `name` up and is about
/// to connect to the pup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapperAlert {
    /// The program name that was looked up.
    pub name: String,
}

/// Checks that `name` can be a pup name: 1 to [`MAX_NAME_LEN`] bytes, no
/// whitespace or control characters (names appear in logs and prompts).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty pup name".to_string());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "pup name of {} bytes is longer than {MAX_NAME_LEN}",
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("pup name {name:?} contains {c:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("pizza").is_ok());
        assert!(validate_name("pizza-2.v1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("a\u{7}").is_err());
        assert!(validate_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn addresses() {
        // Only hosts with explicit ports, so the environment does not matter.
        assert_eq!(mapper_addr("127.0.0.1:9").unwrap(), "127.0.0.1:9");
        assert_eq!(mapper_addr("[::1]:9").unwrap(), "[::1]:9");
        assert_eq!(mapper_addr("example.org:9").unwrap(), "example.org:9");
    }

    #[test]
    fn wire_round_trip() {
        let r = Request::Register {
            name: "pizza".into(),
            pid: 42,
            port: 5000,
        };
        let bytes = postcard::to_stdvec(&r).unwrap();
        assert_eq!(postcard::from_bytes::<Request>(&bytes).unwrap(), r);
    }
}
