//! The frame codec and versioned handshake shared by every podus daemon.
//!
//! A frame on the wire is a `u32` big-endian payload length followed by that
//! many bytes of [postcard]-encoded payload. Nothing else is ever written on a
//! podus socket, so a reader can always tell a clean end of stream (EOF exactly
//! at a frame boundary) from a peer that vanished mid-frame.
//!
//! The first frame each way is the handshake: the connecting side sends a
//! [`Hello`] naming its protocol and version; the accepting side answers with a
//! [`HelloReply`] — `Welcome` with its own `Hello`, or `Refused` with a reason
//! followed by closing the connection.
//!
//! [`read_frame`] and [`write_frame`] work on any `Read`/`Write`;
//! [`Connection`] wraps a `TcpStream` and adds the timeouts a daemon needs so
//! that a slow or silent peer only ever occupies its own thread.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Default upper bound on one frame's payload, in bytes (16 MiB).
///
/// Large enough for a whole compiled program version sent to a pup; each
/// connection may choose a smaller bound (see [`Limits::max_frame`]).
pub const MAX_FRAME: usize = 16 << 20;

/// Bytes in the length prefix.
const PREFIX_LEN: usize = 4;

/// Payload bytes are read in chunks of this size so that a peer announcing a
/// large frame and then sending nothing cannot make us allocate the whole
/// announced length up front.
const READ_CHUNK: usize = 64 << 10;

/// Why a frame could not be read or written.
///
/// The variants are distinct so that a server can decide per cause whether an
/// error reply is worth sending before it closes the connection.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection partway through a frame.
    ///
    /// Both counts include the 4-byte length prefix; `expected` is 4 when the
    /// prefix itself was cut short.
    #[error("connection closed mid-frame ({got} of {expected} bytes received)")]
    Truncated {
        /// Bytes of the frame (prefix included) that arrived.
        got: usize,
        /// Bytes the frame needed (prefix included), as far as known.
        expected: usize,
    },
    /// The length prefix announced more than the connection's limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The announced payload length.
        len: u64,
        /// The limit in force on this connection.
        max: usize,
    },
    /// The payload arrived whole but is not a valid encoding of the expected type.
    #[error("undecodable frame payload: {0}")]
    Decode(#[source] postcard::Error),
    /// The payload decoded but left bytes over, so it was not the expected type.
    #[error("frame payload has {extra} trailing bytes")]
    TrailingBytes {
        /// Bytes left after the value was decoded.
        extra: usize,
    },
    /// The value could not be encoded (or its encoding exceeds the `u32` prefix).
    #[error("cannot encode frame: {0}")]
    Encode(String),
    /// No frame started within the idle timeout.
    #[error("peer idle for too long")]
    Idle,
    /// A frame started but did not complete within the frame timeout.
    #[error("frame not completed in time ({got} bytes received)")]
    Timeout {
        /// Bytes of the frame (prefix included) received before giving up.
        got: usize,
    },
    /// Any other I/O failure (connection reset, broken pipe, ...).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl FrameError {
    /// Whether the peer is still likely to read an error reply: true for
    /// well-delimited bad frames (too large, undecodable), false when the
    /// stream itself is broken or the peer went silent.
    pub fn deserves_reply(&self) -> bool {
        matches!(
            self,
            FrameError::TooLarge { .. } | FrameError::Decode(_) | FrameError::TrailingBytes { .. }
        )
    }
}

/// Whether an I/O error is what a socket read timeout produces.
///
/// Linux reports an expired `SO_RCVTIMEO` as `EAGAIN` (`WouldBlock`); other
/// systems use `TimedOut`.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads into `buf` until it is full, EOF, or an error.
///
/// Returns how many bytes were read; retries on `Interrupted`. The error, if
/// any, comes with the count read before it.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, (usize, io::Error)> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((got, e)),
        }
    }
    Ok(got)
}

/// Maps a read failure `got` bytes into a frame to the right [`FrameError`].
fn read_failure(got: usize, e: io::Error) -> FrameError {
    if is_timeout(&e) {
        if got == 0 {
            FrameError::Idle
        } else {
            FrameError::Timeout { got }
        }
    } else {
        FrameError::Io(e)
    }
}

/// Reads one frame and decodes its payload as `T`.
///
/// Returns `Ok(None)` on a clean end of stream, i.e. EOF before the first byte
/// of a frame. A payload longer than `max` is refused after reading only its
/// prefix, so the caller must then close the connection: the stream is no
/// longer at a frame boundary.
pub fn read_frame<T: DeserializeOwned>(
    r: &mut impl Read,
    max: usize,
) -> Result<Option<T>, FrameError> {
    let mut prefix = [0u8; PREFIX_LEN];
    let got = fill(r, &mut prefix).map_err(|(got, e)| read_failure(got, e))?;
    if got == 0 {
        return Ok(None);
    }
    if got < PREFIX_LEN {
        return Err(FrameError::Truncated {
            got,
            expected: PREFIX_LEN,
        });
    }
    let len = u32::from_be_bytes(prefix) as u64;
    if len > max as u64 {
        return Err(FrameError::TooLarge { len, max });
    }
    let len = len as usize;
    let mut payload = Vec::with_capacity(len.min(READ_CHUNK));
    let mut chunk = vec![0u8; len.min(READ_CHUNK)];
    while payload.len() < len {
        let want = (len - payload.len()).min(chunk.len());
        let n = fill(r, &mut chunk[..want])
            .map_err(|(n, e)| read_failure(PREFIX_LEN + payload.len() + n, e))?;
        payload.extend_from_slice(&chunk[..n]);
        if n < want {
            return Err(FrameError::Truncated {
                got: PREFIX_LEN + payload.len(),
                expected: PREFIX_LEN + len,
            });
        }
    }
    let (value, rest) = postcard::take_from_bytes(&payload).map_err(FrameError::Decode)?;
    if !rest.is_empty() {
        return Err(FrameError::TrailingBytes { extra: rest.len() });
    }
    Ok(Some(value))
}

/// Encodes `value` and writes it as one frame.
///
/// Prefix and payload go out in a single `write_all` so that Nagle's algorithm
/// never holds back half a frame waiting for an ACK.
pub fn write_frame<T: Serialize>(w: &mut impl Write, value: &T) -> Result<(), FrameError> {
    // Encode behind a placeholder prefix, then fill the prefix in.
    let mut buf = postcard::to_extend(value, vec![0u8; PREFIX_LEN])
        .map_err(|e| FrameError::Encode(e.to_string()))?;
    let len = u32::try_from(buf.len() - PREFIX_LEN)
        .map_err(|_| FrameError::Encode(format!("payload of {} bytes", buf.len() - PREFIX_LEN)))?;
    buf[..PREFIX_LEN].copy_from_slice(&len.to_be_bytes());
    w.write_all(&buf)?;
    w.flush()?;
    Ok(())
}

/// The first frame a connecting peer sends: which protocol it speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol name, e.g. `"podus-mapper"` or `"podus-pup"`.
    pub protocol: String,
    /// Protocol version; peers must agree exactly.
    pub version: u32,
}

impl Hello {
    /// A `Hello` for `protocol` at `version`.
    pub fn new(protocol: &str, version: u32) -> Hello {
        Hello {
            protocol: protocol.to_string(),
            version,
        }
    }

    /// Whether a peer announcing `self` can talk to a side speaking `other`.
    pub fn compatible(&self, other: &Hello) -> bool {
        self == other
    }
}

impl fmt::Display for Hello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.protocol, self.version)
    }
}

/// The accepting side's answer to a [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloReply {
    /// The protocols match; requests may follow. Carries the server's `Hello`.
    Welcome(Hello),
    /// The server will not talk; it closes the connection after this frame.
    Refused {
        /// What the server speaks.
        server: Hello,
        /// Why it refused, for the user.
        reason: String,
    },
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The frame layer failed (timeout, garbage, reset, ...).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer closed the connection before completing the handshake.
    #[error("peer closed the connection during the handshake")]
    Closed,
    /// The peer speaks a different protocol or version.
    #[error("peer speaks {theirs}, expected {ours}")]
    Mismatch {
        /// What this side speaks.
        ours: Hello,
        /// What the peer announced.
        theirs: Hello,
    },
    /// The server refused this client.
    #[error("refused by server ({server}): {reason}")]
    Refused {
        /// What the server speaks.
        server: Hello,
        /// The server's reason.
        reason: String,
    },
}

impl HandshakeError {
    /// When the failure shows that the peer speaks another protocol
    /// altogether (a web server, ssh, some other service on the port), what
    /// it did instead, for a message that says so rather than quoting a
    /// frame length made of its first bytes. `None` for failures that a
    /// peer of the right protocol can cause too (closed, refused, reset).
    pub fn foreign(&self) -> Option<String> {
        match self {
            HandshakeError::Frame(FrameError::TooLarge { len, .. }) => {
                // Our prefix is a big-endian length: another protocol's
                // first four bytes read as a huge one. Show them when they
                // are text ("SSH-", "HTTP").
                let b = (*len as u32).to_be_bytes();
                Some(if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
                    format!("it began with {:?}", String::from_utf8_lossy(&b))
                } else {
                    format!("its first bytes {b:02x?} are not a podus frame")
                })
            }
            HandshakeError::Frame(FrameError::Decode(_) | FrameError::TrailingBytes { .. }) => {
                Some("its answer is not a podus handshake".into())
            }
            HandshakeError::Frame(FrameError::Idle) => {
                Some("it did not answer the handshake".into())
            }
            HandshakeError::Mismatch { ours, theirs } if theirs.protocol != ours.protocol => {
                Some(format!("it speaks {theirs}"))
            }
            _ => None,
        }
    }
}

/// Per-connection limits and timeouts.
///
/// `None` timeouts mean "wait forever"; daemons should not use that for peers
/// they do not trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest payload accepted in one frame.
    pub max_frame: usize,
    /// How long to wait for the first byte of a frame.
    pub idle_timeout: Option<Duration>,
    /// How long a frame may take from its first byte to its last.
    pub frame_timeout: Option<Duration>,
    /// How long one write may block (a peer that stops reading).
    pub write_timeout: Option<Duration>,
}

impl Default for Limits {
    /// 16 MiB frames, 60 s idle, 30 s per frame, 30 s per write.
    fn default() -> Limits {
        Limits {
            max_frame: MAX_FRAME,
            idle_timeout: Some(Duration::from_secs(60)),
            frame_timeout: Some(Duration::from_secs(30)),
            write_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// A TCP connection speaking frames, with [`Limits`] enforced on every read.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    limits: Limits,
}

/// A reader over a `TcpStream` that enforces the idle timeout until the first
/// byte of a frame, and from then on a deadline for the whole frame.
///
/// A socket read timeout alone would let a peer sending one byte just under
/// the timeout hold a frame open forever; the deadline bounds the total.
struct DeadlineReader<'a> {
    stream: &'a TcpStream,
    limits: Limits,
    deadline: Option<Instant>,
    started: bool,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let timeout = if !self.started {
            self.limits.idle_timeout
        } else if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            Some(left)
        } else {
            None
        };
        self.stream.set_read_timeout(timeout)?;
        let mut stream = self.stream;
        let n = stream.read(buf)?;
        if n > 0 && !self.started {
            self.started = true;
            self.deadline = self.limits.frame_timeout.map(|t| Instant::now() + t);
        }
        Ok(n)
    }
}

impl Connection {
    /// Wraps `stream`, disabling Nagle (frames are small request/response
    /// pairs) and applying the write timeout.
    pub fn new(stream: TcpStream, limits: Limits) -> io::Result<Connection> {
        stream.set_nodelay(true)?;
        stream.set_write_timeout(limits.write_timeout)?;
        Ok(Connection { stream, limits })
    }

    /// Connects to `addr` within `timeout`, then wraps the stream.
    pub fn connect(addr: &SocketAddr, timeout: Duration, limits: Limits) -> io::Result<Connection> {
        let stream = TcpStream::connect_timeout(addr, timeout)?;
        Connection::new(stream, limits)
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Replaces the limits (e.g. a longer idle timeout after authentication).
    pub fn set_limits(&mut self, limits: Limits) -> io::Result<()> {
        self.stream.set_write_timeout(limits.write_timeout)?;
        self.limits = limits;
        Ok(())
    }

    /// The underlying stream, e.g. for `peer_addr` or `try_clone`.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// Reads one frame under the connection's limits; `Ok(None)` on clean EOF.
    pub fn read_frame<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        let mut reader = DeadlineReader {
            stream: &self.stream,
            limits: self.limits,
            deadline: None,
            started: false,
        };
        read_frame(&mut reader, self.limits.max_frame)
    }

    /// Writes one frame.
    pub fn write_frame<T: Serialize>(&mut self, value: &T) -> Result<(), FrameError> {
        write_frame(&mut self.stream, value)
    }

    /// Client side of the handshake: sends `ours`, returns the server's `Hello`.
    pub fn offer_hello(&mut self, ours: &Hello) -> Result<Hello, HandshakeError> {
        self.write_frame(ours)?;
        match self.read_frame::<HelloReply>()? {
            None => Err(HandshakeError::Closed),
            Some(HelloReply::Welcome(theirs)) if theirs.compatible(ours) => Ok(theirs),
            Some(HelloReply::Welcome(theirs)) => Err(HandshakeError::Mismatch {
                ours: ours.clone(),
                theirs,
            }),
            Some(HelloReply::Refused { server, reason }) => {
                Err(HandshakeError::Refused { server, reason })
            }
        }
    }

    /// Reads the peer's `Hello` without answering it, for a server that
    /// accepts several protocols on one port and must look before it answers.
    /// `Ok(None)` if the peer closed before sending anything (a port probe).
    pub fn read_hello(&mut self) -> Result<Option<Hello>, HandshakeError> {
        Ok(self.read_frame::<Hello>()?)
    }

    /// Answers a `Hello` already read: `Welcome` when `theirs` matches `ours`,
    /// otherwise `Refused` followed by shutting the connection down.
    pub fn answer_hello(&mut self, theirs: &Hello, ours: &Hello) -> Result<(), HandshakeError> {
        if theirs.compatible(ours) {
            self.write_frame(&HelloReply::Welcome(ours.clone()))?;
            Ok(())
        } else {
            let reason = format!("this server speaks {ours}, not {theirs}");
            self.refuse(ours, &reason);
            Err(HandshakeError::Mismatch {
                ours: ours.clone(),
                theirs: theirs.clone(),
            })
        }
    }

    /// Server side of the handshake: reads the peer's `Hello` and answers it.
    /// Returns the peer's `Hello`, or `Ok(None)` if it closed before sending one.
    pub fn accept_hello(&mut self, ours: &Hello) -> Result<Option<Hello>, HandshakeError> {
        let Some(theirs) = self.read_hello()? else {
            return Ok(None);
        };
        self.answer_hello(&theirs, ours)?;
        Ok(Some(theirs))
    }

    /// Sends `Refused` (best effort) and closes: for a mismatched `Hello` or a
    /// server at its connection limit.
    pub fn refuse(&mut self, ours: &Hello, reason: &str) {
        let _ = self.write_frame(&HelloReply::Refused {
            server: ours.clone(),
            reason: reason.to_string(),
        });
        self.close();
    }

    /// Closes the connection gracefully.
    ///
    /// Sends FIN first and discards whatever the peer already sent: closing a
    /// socket with unread input makes the kernel send RST, which can destroy
    /// our last reply before the peer reads it.
    pub fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        if self.stream.set_nonblocking(true).is_ok() {
            let mut sink = [0u8; 4096];
            let mut stream = &self.stream;
            // Bounded: at most 64 KiB of already-queued bytes are discarded.
            for _ in 0..16 {
                match stream.read(&mut sink) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_bytes<T: Serialize>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, v).unwrap();
        out
    }

    #[test]
    fn round_trip() {
        let hello = Hello::new("podus-mapper", 1);
        let bytes = frame_bytes(&hello);
        assert_eq!(
            u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize,
            bytes.len() - 4
        );
        let mut r = &bytes[..];
        let back: Hello = read_frame(&mut r, MAX_FRAME).unwrap().unwrap();
        assert_eq!(back, hello);
        // Clean EOF right after the frame.
        assert!(read_frame::<Hello>(&mut r, MAX_FRAME).unwrap().is_none());
    }

    #[test]
    fn truncated_prefix_and_payload() {
        let bytes = frame_bytes(&Hello::new("podus-mapper", 1));
        let mut r = &bytes[..2];
        assert!(matches!(
            read_frame::<Hello>(&mut r, MAX_FRAME),
            Err(FrameError::Truncated {
                got: 2,
                expected: 4
            })
        ));
        let cut = bytes.len() - 3;
        let mut r = &bytes[..cut];
        match read_frame::<Hello>(&mut r, MAX_FRAME) {
            Err(FrameError::Truncated { got, expected }) => {
                assert_eq!((got, expected), (cut, bytes.len()));
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
    }

    #[test]
    fn oversized_prefix_is_refused_before_reading_payload() {
        let bytes = [0xFF, 0xFF, 0xFF, 0xFF];
        let mut r = &bytes[..];
        match read_frame::<Hello>(&mut r, 1024) {
            Err(FrameError::TooLarge { len, max }) => {
                assert_eq!((len, max), (u32::MAX as u64, 1024));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn garbage_payload_and_trailing_bytes() {
        // A 3-byte payload that cannot be a Hello (string length 200, too short).
        let bytes = [0, 0, 0, 3, 200, 1, 2];
        let mut r = &bytes[..];
        assert!(matches!(
            read_frame::<Hello>(&mut r, MAX_FRAME),
            Err(FrameError::Decode(_))
        ));
        // A valid u32 followed by junk.
        let bytes = [0, 0, 0, 3, 7, 9, 9];
        let mut r = &bytes[..];
        assert!(matches!(
            read_frame::<u32>(&mut r, MAX_FRAME),
            Err(FrameError::TrailingBytes { extra: 2 })
        ));
    }

    #[test]
    fn deserves_reply_only_for_delimited_errors() {
        assert!(FrameError::TooLarge { len: 1, max: 0 }.deserves_reply());
        assert!(!FrameError::Idle.deserves_reply());
        assert!(
            !FrameError::Truncated {
                got: 1,
                expected: 4
            }
            .deserves_reply()
        );
    }
}
