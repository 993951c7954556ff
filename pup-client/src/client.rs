//! The client side of the pup protocol, used by ush (and by tests).
//!
//! A [`PupClient`] is one authenticated connection to a pup. A reader
//! thread sorts the pup's frames into replies and notices as they arrive, so
//! notices (program output, update completion, the debug trace) are never
//! lost while the caller is not asking for them, and a reply is matched to
//! the request that is waiting for it. Writes happen on the caller's thread.
//!
//! Every call is bounded by a timeout. A call that timed out leaves its reply
//! owed; the client remembers how many are owed and discards that many before
//! taking the next one, so a late reply is never mistaken for the answer to a
//! later request (the pup answers requests strictly in order).

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pupmapper_client::client::MapperClient;
use pupmapper_client::proto::PupEntry;

use crate::auth::{self, AuthError, Cookie};
use crate::frame::{self, Connection, FrameError, HandshakeError, Limits, MAX_FRAME};
use crate::proto::{Notice, Request, Response, ServerMsg};

/// How long [`PupClient::connect`] waits for the TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the handshake and authentication may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request waits for its reply by default. Generous because a
/// load compiles the whole version before it answers.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Extra time a [`Request::Wait`] is given beyond its own `timeout_ms`, so
/// the pup's "not yet" reply arrives before the client gives up.
pub const WAIT_SLACK: Duration = Duration::from_secs(5);

/// The mapper's entry for a pup, as [`connect_by_name`] returns it.
pub type PupEntryLike = PupEntry;

/// Why talking to a pup failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection could not be made.
    #[error("cannot connect to the pup at {addr}: {source}")]
    Connect {
        /// Where we tried.
        addr: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// The `Hello` exchange failed (not a pup, or another protocol version).
    #[error("pup handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// Authentication failed: the pup refused our cookie, or it does not
    /// hold the same cookie.
    #[error("{}", auth_message(.0))]
    Auth(#[from] AuthError),
    /// Sending a frame failed.
    #[error("pup connection failed: {0}")]
    Frame(#[from] FrameError),
    /// The pup closed the connection (or it broke).
    #[error("the pup closed the connection")]
    Closed,
    /// No reply within the time limit.
    #[error("the pup did not answer in time")]
    Timeout,
    /// The pup answered something that does not fit.
    #[error("unexpected answer from the pup: {0}")]
    Unexpected(String),
    /// The pupmapper could not be asked.
    #[error("{0}")]
    Mapper(#[from] pupmapper_client::client::ClientError),
    /// The pupmapper has no pup for the name.
    #[error("no pup for program {name} on host {host}")]
    NoSuchPup {
        /// The program name looked up.
        name: String,
        /// The mapper's host as given.
        host: String,
    },
}

/// The user-facing text of an authentication failure.
fn auth_message(e: &AuthError) -> String {
    match e {
        AuthError::Rejected(m) => format!("pup refused the cookie: {m}"),
        AuthError::BadServerProof => {
            "the pup does not hold our cookie (it could not prove it): is it the right pup?"
                .to_string()
        }
        AuthError::Closed => "the pup closed the connection during authentication".to_string(),
        other => format!("pup authentication failed: {other}"),
    }
}

/// This process's user and host, as a pup's journal records them.
pub fn this_client() -> crate::proto::ClientId {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            // SAFETY: getuid has no preconditions; getpwuid returns null or
            // a pointer to a static record whose pw_name is a C string, read
            // at once (no other thread of ush calls getpwuid).
            unsafe {
                let uid = libc::getuid();
                let pw = libc::getpwuid(uid);
                if pw.is_null() || (*pw).pw_name.is_null() {
                    format!("uid {uid}")
                } else {
                    std::ffi::CStr::from_ptr((*pw).pw_name)
                        .to_string_lossy()
                        .into_owned()
                }
            }
        });
    crate::proto::ClientId {
        user,
        host: wire::host_name().unwrap_or_else(|| "localhost".to_string()),
    }
}

/// One authenticated connection to a pup.
#[derive(Debug)]
pub struct PupClient {
    /// Writes go here (the reader thread has its own clone of the socket).
    stream: TcpStream,
    peer: SocketAddr,
    replies: Receiver<Response>,
    notices: Receiver<Notice>,
    closed: Arc<AtomicBool>,
    /// Replies owed to requests that timed out; discarded before the next.
    owed: usize,
    timeout: Duration,
    reader: Option<JoinHandle<()>>,
}

impl PupClient {
    /// Connect to a pup at `addr`, do Hello + challenge–response with `cookie`.
    pub fn connect(addr: SocketAddr, cookie: &Cookie) -> Result<PupClient, ClientError> {
        let handshake = Limits {
            max_frame: MAX_FRAME,
            idle_timeout: Some(HANDSHAKE_TIMEOUT),
            frame_timeout: Some(HANDSHAKE_TIMEOUT),
            write_timeout: Some(HANDSHAKE_TIMEOUT),
        };
        let mut conn = Connection::connect(&addr, CONNECT_TIMEOUT, handshake).map_err(|e| {
            ClientError::Connect {
                addr: addr.to_string(),
                source: e,
            }
        })?;
        conn.offer_hello(&frame::hello())?;
        auth::client_authenticate(&mut conn, cookie)?;

        // From here on the reader blocks without a timeout (a pup may be
        // quiet for hours); the caller's waits carry the timeouts instead.
        let stream = conn.stream().try_clone().map_err(FrameError::Io)?;
        let mut read_half = conn.stream().try_clone().map_err(FrameError::Io)?;
        read_half.set_read_timeout(None).map_err(FrameError::Io)?;
        stream
            .set_write_timeout(Some(REQUEST_TIMEOUT))
            .map_err(FrameError::Io)?;
        let (reply_tx, replies) = mpsc::channel();
        let (notice_tx, notices) = mpsc::channel();
        let closed = Arc::new(AtomicBool::new(false));
        let reader = {
            let closed = closed.clone();
            thread::Builder::new()
                .name("pup-client-reader".into())
                .spawn(move || {
                    loop {
                        match frame::read_frame::<ServerMsg>(&mut read_half, MAX_FRAME) {
                            Ok(Some(ServerMsg::Reply(r))) => {
                                if reply_tx.send(r).is_err() {
                                    break;
                                }
                            }
                            Ok(Some(ServerMsg::Notice(n))) => {
                                if notice_tx.send(n).is_err() {
                                    break;
                                }
                            }
                            // EOF or a broken stream: either way nothing
                            // more will come.
                            Ok(None) | Err(_) => break,
                        }
                    }
                    // Set before the senders drop, so a caller woken by the
                    // disconnect already sees the connection as closed.
                    closed.store(true, Ordering::SeqCst);
                })
                .map_err(FrameError::Io)?
        };
        let mut client = PupClient {
            stream,
            peer: addr,
            replies,
            notices,
            closed,
            owed: 0,
            timeout: REQUEST_TIMEOUT,
            reader: Some(reader),
        };
        // The pup's journal says who did each step.
        match client.call(Request::Client(this_client()))? {
            Response::Ok => {}
            r => return Err(ClientError::Unexpected(format!("{r:?}"))),
        }
        Ok(client)
    }

    /// The pup's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Changes the reply timeout of ordinary requests (default
    /// [`REQUEST_TIMEOUT`]); `Wait` always gets its own `timeout_ms` plus
    /// [`WAIT_SLACK`].
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Send a request and wait for its Reply (notices that arrive meanwhile
    /// are queued); bounded by a timeout (longer for Wait: timeout_ms + 5 s).
    pub fn call(&mut self, req: Request) -> Result<Response, ClientError> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        let timeout = match &req {
            Request::Wait { timeout_ms } => {
                Duration::from_millis(*timeout_ms).saturating_add(WAIT_SLACK)
            }
            _ => self.timeout,
        };
        if let Err(e) = frame::write_frame(&mut self.stream, &req) {
            return Err(match e {
                FrameError::Io(_) => {
                    self.shutdown();
                    ClientError::Closed
                }
                other => ClientError::Frame(other),
            });
        }
        // A deadline far in the future means "no deadline".
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let reply = match deadline {
                Some(d) => self
                    .replies
                    .recv_timeout(d.saturating_duration_since(Instant::now())),
                None => self
                    .replies
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match reply {
                Ok(_) if self.owed > 0 => self.owed -= 1,
                Ok(r) => return Ok(r),
                Err(RecvTimeoutError::Timeout) => {
                    self.owed += 1;
                    return Err(ClientError::Timeout);
                }
                Err(RecvTimeoutError::Disconnected) => return Err(ClientError::Closed),
            }
        }
    }

    /// Notices received so far (non-blocking).
    pub fn try_notices(&mut self) -> Vec<Notice> {
        self.notices.try_iter().collect()
    }

    /// The next notice, waiting at most `timeout`; `None` on timeout or once
    /// the connection is closed and every notice has been taken.
    pub fn recv_notice(&mut self, timeout: Duration) -> Option<Notice> {
        match Instant::now().checked_add(timeout) {
            Some(_) => self.notices.recv_timeout(timeout).ok(),
            None => self.notices.recv().ok(),
        }
    }

    /// True once the connection is closed by the pup or broken.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Says `Bye` (best effort, briefly) and closes the connection. The pup
    /// keeps its state. Dropping the client closes it without the `Bye`.
    pub fn close(mut self) {
        if !self.is_closed() {
            self.timeout = Duration::from_secs(2);
            let _ = self.call(Request::Bye);
        }
    }

    fn shutdown(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for PupClient {
    /// Closes the socket, which ends the reader thread.
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Find NAME's pup through the pupmapper at `mapper` (host or host:port) and
/// connect. Returns the mapper's entry (name, pid, port) too. The pup is
/// reached at the address the mapper answered from, since a mapper only
/// lists pups on its own host.
pub fn connect_by_name(
    mapper: &str,
    name: &str,
    cookie: &Cookie,
) -> Result<(PupClient, PupEntryLike), ClientError> {
    let addr = pupmapper_client::proto::mapper_addr(mapper).map_err(|e| ClientError::Connect {
        addr: mapper.to_string(),
        source: io::Error::new(io::ErrorKind::InvalidInput, e),
    })?;
    let mut mc = MapperClient::connect(addr.as_str())?;
    let host = host_part(mapper);
    let entry = mc.lookup(name)?.ok_or_else(|| ClientError::NoSuchPup {
        name: name.to_string(),
        host,
    })?;
    let pup_addr = SocketAddr::new(mc.addr().ip(), entry.port);
    let client = PupClient::connect(pup_addr, cookie)?;
    Ok((client, entry))
}

/// The host named by a mapper address: `h` of `h:port`, `::1` of
/// `[::1]:port`, or the whole text when it names no port.
fn host_part(mapper: &str) -> String {
    if mapper.parse::<std::net::IpAddr>().is_ok() {
        return mapper.to_string();
    }
    if let Ok(sa) = mapper.parse::<SocketAddr>() {
        return sa.ip().to_string();
    }
    match mapper.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => h.to_string(),
        _ => mapper.to_string(),
    }
}

impl fmt::Display for PupClient {
    /// `pup at 127.0.0.1:40123`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pup at {}", self.peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_mapper_addresses() {
        assert_eq!(host_part("127.0.0.1:7727"), "127.0.0.1");
        assert_eq!(host_part("[::1]:7727"), "::1");
        assert_eq!(host_part("::1"), "::1");
        assert_eq!(host_part("gto"), "gto");
        assert_eq!(host_part("gto:7000"), "gto");
    }

    #[test]
    fn messages_are_clear() {
        let e = ClientError::NoSuchPup {
            name: "x".into(),
            host: "h".into(),
        };
        assert_eq!(e.to_string(), "no pup for program x on host h");
        let e = ClientError::Auth(AuthError::Rejected("no".into()));
        assert_eq!(e.to_string(), "pup refused the cookie: no");
    }
}
