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
                    conn.offer_hello(&proto::hello())?;
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
