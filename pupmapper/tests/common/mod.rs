//! Helpers shared by the pupmapper integration tests: an in-process mapper
//! on an OS-assigned loopback port, raw sockets, and bounded polling.
#![allow(dead_code)] // each test file uses a different subset

mod closed_port;
#[allow(unused_imports)] // not every test file needs it
pub(crate) use closed_port::{bound_but_closed_port, reserved_port};

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pupmapper::client::MapperClient;
use pupmapper::frame::{self, Hello, HelloReply, MAX_FRAME};
use pupmapper::proto::{self, MapperAlert, Response};
use pupmapper::server::{self, Config, Shutdown};

/// How long any single wait in these tests may take before it is a failure.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A mapper served from a thread of the test process.
pub(crate) struct TestMapper {
    pub addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl TestMapper {
    pub(crate) fn start() -> TestMapper {
        TestMapper::with(Config::default())
    }

    pub(crate) fn with(config: Config) -> TestMapper {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let thread = {
            let shutdown = shutdown.clone();
            thread::spawn(move || server::run_with(listener, shutdown, config))
        };
        TestMapper {
            addr,
            shutdown,
            thread: Some(thread),
        }
    }

    pub(crate) fn client(&self) -> MapperClient {
        MapperClient::connect(self.addr).expect("connect to the test mapper")
    }

    /// Stops the server and checks that it returned cleanly.
    pub(crate) fn stop(mut self) {
        self.shutdown.trigger();
        let result = self.thread.take().unwrap().join().expect("server panicked");
        result.expect("server returned an error");
    }
}

impl Drop for TestMapper {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Polls `f` every 10 ms until it returns `Some`, failing after [`PATIENCE`].
pub(crate) fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// A raw socket to `addr` whose reads give up after [`PATIENCE`].
pub(crate) fn raw(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Sends the mapper `Hello` on `s` and expects a welcome.
pub(crate) fn handshake(s: &mut TcpStream) {
    frame::write_frame(s, &proto::hello()).unwrap();
    match frame::read_frame::<HelloReply>(s, MAX_FRAME) {
        Ok(Some(HelloReply::Welcome(h))) => assert_eq!(h, proto::hello()),
        other => panic!("expected a welcome, got {other:?}"),
    }
}

/// What the daemon did with a bad connection.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// It sent an error (a `Response::Error` or a handshake refusal), then closed.
    ErrorReply(String),
    /// It closed without a word.
    Closed,
}

/// Reads what the daemon sends until it closes. Panics if it neither answers
/// nor closes within [`PATIENCE`]: that would be a hang.
pub(crate) fn outcome(s: &mut TcpStream, handshaken: bool) -> Outcome {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                panic!("daemon neither answered nor closed within {PATIENCE:?}")
            }
            // Reset: the daemon closed with our bytes unread. Still a close.
            Err(_) => break,
        }
    }
    if bytes.is_empty() {
        return Outcome::Closed;
    }
    let mut r = &bytes[..];
    let message = if handshaken {
        match frame::read_frame::<Response>(&mut r, MAX_FRAME) {
            Ok(Some(Response::Error(m))) => m,
            other => panic!("expected an error response, got {other:?}"),
        }
    } else {
        match frame::read_frame::<HelloReply>(&mut r, MAX_FRAME) {
            Ok(Some(HelloReply::Refused { reason, .. })) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    Outcome::ErrorReply(message)
}

/// Checks that a well-formed client is still served.
pub(crate) fn still_answers(mapper: &TestMapper) {
    let mut c = mapper.client();
    assert!(c.list().is_ok(), "mapper stopped answering");
    assert_eq!(c.lookup("nobody").unwrap(), None);
}

/// Accepts connections on a fake pup's listener until one carries a mapper
/// alert, skipping the mapper's bare liveness probes.
pub(crate) fn accept_alert(listener: &TcpListener) -> MapperAlert {
    listener.set_nonblocking(true).unwrap();
    eventually("a mapper alert on the pup's port", || {
        let (mut s, _) = listener.accept().ok()?;
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let hello: Hello = frame::read_frame(&mut s, MAX_FRAME).ok()??;
        assert_eq!(hello, proto::alert_hello());
        let alert: MapperAlert = frame::read_frame(&mut s, MAX_FRAME)
            .expect("alert frame")
            .expect("alert after hello");
        Some(alert)
    })
}
