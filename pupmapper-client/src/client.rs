//! A blocking client for the mapper protocol, used by pups and ush.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::frame::{Connection, FrameError, HandshakeError, Limits, MAX_FRAME};
use crate::proto::{self, PupEntry, Request, Response};

/// How long [`MapperClient::connect`] waits for the TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for its response by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the handshake waits for the mapper's hello: a pupmapper
/// answers at once, so silence this long means something else listens.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a mapper request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address did not resolve, or no resolved address accepted.
    #[error("cannot connect to pupmapper at {addr}: {source}")]
    Connect {
        /// The address as given.
        addr: String,
        /// The last connection error.
        #[source]
        source: io::Error,
    },
    /// The handshake failed (wrong protocol, refused, ...).
    #[error("pupmapper handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// Something other than a pupmapper listens at the address.
    #[error(
        "{addr} is not a pupmapper: {why} (a pupmapper listens on port {} unless told otherwise)",
        crate::proto::DEFAULT_PORT
    )]
    NotAMapper {
        /// The address connected to.
        addr: SocketAddr,
        /// What it did instead of a pupmapper's handshake.
        why: String,
    },
    /// Sending or receiving a frame failed.
    #[error("pupmapper connection failed: {0}")]
    Frame(#[from] FrameError),
    /// The mapper closed the connection instead of answering.
    #[error("pupmapper closed the connection")]
    Closed,
    /// The mapper refused the request; the text is the mapper's.
    #[error("pupmapper: {0}")]
    Server(String),
    /// The mapper answered with a response that does not fit the request.
    #[error("unexpected pupmapper response: {0:?}")]
    Unexpected(Response),
}

/// An open, handshaken connection to a pupmapper.
#[derive(Debug)]
pub struct MapperClient {
    conn: Connection,
    addr: SocketAddr,
}

impl MapperClient {
    /// Connects to the mapper at `addr` (e.g. `"127.0.0.1:7727"`) with the
    /// default timeouts and performs the handshake.
    pub fn connect(
        addr: impl ToSocketAddrs + std::fmt::Display,
    ) -> Result<MapperClient, ClientError> {
        MapperClient::connect_timeout(addr, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// Like [`MapperClient::connect`] with explicit timeouts: `connect` for
    /// the TCP connection to each resolved address, `request` for each
    /// response (and the handshake).
    pub fn connect_timeout(
        addr: impl ToSocketAddrs + std::fmt::Display,
        connect: Duration,
        request: Duration,
    ) -> Result<MapperClient, ClientError> {
        let connect_error = |source| ClientError::Connect {
            addr: addr.to_string(),
            source,
        };
        let limits = Limits {
            // List responses grow with the number of pups; the mapper itself
            // caps what it accepts, not what it sends.
            max_frame: MAX_FRAME,
            idle_timeout: Some(request),
            frame_timeout: Some(request),
            write_timeout: Some(request),
        };
        let mut last = io::Error::new(io::ErrorKind::NotFound, "address resolved to nothing");
        for candidate in addr.to_socket_addrs().map_err(connect_error)? {
            match Connection::connect(&candidate, connect, limits) {
                Ok(mut conn) => {
                    conn.set_limits(Limits {
                        idle_timeout: Some(request.min(HANDSHAKE_TIMEOUT)),
                        ..limits
                    })
                    .map_err(FrameError::Io)?;
                    if let Err(e) = conn.offer_hello(&proto::hello()) {
                        return Err(match e.foreign() {
                            Some(why) => ClientError::NotAMapper {
                                addr: candidate,
                                why,
                            },
                            None => e.into(),
                        });
                    }
                    conn.set_limits(limits).map_err(FrameError::Io)?;
                    return Ok(MapperClient {
                        conn,
                        addr: candidate,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(connect_error(last))
    }

    /// The mapper's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends one request and returns the mapper's response as is.
    pub fn request(&mut self, request: &Request) -> Result<Response, ClientError> {
        self.conn.write_frame(request)?;
        self.conn.read_frame()?.ok_or(ClientError::Closed)
    }

    /// Registers `name` as held by process `pid` listening on `port`.
    /// Must be called from the mapper's host.
    pub fn register(&mut self, name: &str, pid: u32, port: u16) -> Result<(), ClientError> {
        match self.request(&Request::Register {
            name: name.to_string(),
            pid,
            port,
        })? {
            Response::Registered => Ok(()),
            other => Err(refusal(other)),
        }
    }

    /// Unregisters `name` held by `pid`; `Ok(false)` if it was not registered.
    pub fn unregister(&mut self, name: &str, pid: u32) -> Result<bool, ClientError> {
        match self.request(&Request::Unregister {
            name: name.to_string(),
            pid,
        })? {
            Response::Ok => Ok(true),
            Response::NotFound { .. } => Ok(false),
            other => Err(refusal(other)),
        }
    }

    /// Finds the live pup holding `name` (and alerts it); `None` if there is none.
    pub fn lookup(&mut self, name: &str) -> Result<Option<PupEntry>, ClientError> {
        match self.request(&Request::Lookup {
            name: name.to_string(),
        })? {
            Response::Found(entry) => Ok(Some(entry)),
            Response::NotFound { .. } => Ok(None),
            other => Err(refusal(other)),
        }
    }

    /// All live pups, sorted by name.
    pub fn list(&mut self) -> Result<Vec<PupEntry>, ClientError> {
        match self.request(&Request::List)? {
            Response::List(entries) => Ok(entries),
            other => Err(refusal(other)),
        }
    }
}

/// Turns a response that does not answer the request into an error.
fn refusal(response: Response) -> ClientError {
    match response {
        Response::Error(message) => ClientError::Server(message),
        other => ClientError::Unexpected(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    /// A listener that answers every connection with `banner` (or with
    /// silence, when empty) and keeps it open.
    fn foreign(banner: &'static [u8]) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for mut c in l.incoming().map_while(Result::ok) {
                let _ = c.write_all(banner);
                held.push(c);
            }
        });
        addr
    }

    fn why(addr: SocketAddr) -> String {
        match MapperClient::connect_timeout(addr, CONNECT_TIMEOUT, Duration::from_secs(1)) {
            Err(ClientError::NotAMapper { addr: a, why }) => {
                assert_eq!(a, addr);
                why
            }
            r => panic!("expected NotAMapper, got {r:?}"),
        }
    }

    /// Regression (issue 29): a port where something else listens said
    /// "frame of 1213486160 bytes"; it says it is not a pupmapper and what
    /// answered instead.
    #[test]
    fn another_service_is_not_a_pupmapper() {
        assert_eq!(
            why(foreign(b"SSH-2.0-OpenSSH_9.2\r\n")),
            "it began with \"SSH-\""
        );
        assert_eq!(
            why(foreign(b"HTTP/1.0 400 Bad\r\n\r\n")),
            "it began with \"HTTP\""
        );
        assert_eq!(why(foreign(b"")), "it did not answer the handshake");
        let e = MapperClient::connect_timeout(
            foreign(b"SSH-2.0"),
            CONNECT_TIMEOUT,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("is not a pupmapper: it began with \"SSH-\""),
            "{e}"
        );
    }
}
