//! The real `pup` binary against hostile and broken clients (SPEC §5.4,
//! issue 7): truncated frames, oversized length prefixes, garbage, clients
//! that vanish mid-frame, slow clients, many connections at once — each
//! before authentication (before the `Hello`, and between the `Hello` and
//! the challenge–response) and after it. Each bad client gets an error or a
//! closed connection; the pup keeps serving the others and its program.
//! Also end to end: nothing but the handshake is answered without the
//! cookie, a replayed challenge response fails, and the cookie file is
//! created 0600 and refused when others can read or write it.
//!
//! The helpers are kept in this file, apart from `common/`, so that these
//! tests depend on nothing but the pup's public API and binary. Every wait
//! is bounded and waits on something observable; the only sleeps pace the
//! slow clients, which is the behaviour under test.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pup::auth::{self, Challenge, Cookie, Verdict};
use pup::client::PupClient;
use pup::frame::{self, HelloReply, MAX_FRAME};
use pup::proto::{Request, Response, ServerMsg};
use pupmapper::server::{self as mapper_server, Config, Shutdown};

/// Upper bound of every wait on the pup.
const PATIENCE: Duration = Duration::from_secs(20);
/// The pup's deadline for a connection's whole handshake, `Hello` and
/// authentication (`HANDSHAKE_TIMEOUT` in pup/src/server.rs).
const PUP_HANDSHAKE: Duration = Duration::from_secs(5);
/// Connections the pup serves at once (`ServerOptions::new`).
const PUP_MAX_CONNECTIONS: usize = 64;

/// A pupmapper in this process, on a free loopback port.
struct Mapper {
    addr: SocketAddr,
    stop: Shutdown,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Mapper {
    fn start() -> Mapper {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mapper");
        let addr = listener.local_addr().unwrap();
        let stop = Shutdown::new();
        let thread = {
            let stop = stop.clone();
            thread::spawn(move || mapper_server::run_with(listener, stop, Config::default()))
        };
        Mapper {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Mapper {
    fn drop(&mut self) {
        self.stop.trigger();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Lines of one output stream of a child, as they arrive.
struct Lines {
    rx: Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn collect(stream: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle`, failing with what arrived.
    fn wait_for(&mut self, needle: &str) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(e) => panic!(
                    "no line containing {needle:?} ({e}); got:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything until the stream ends (bounded).
    fn rest(&mut self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the stream did not end"),
            }
        }
        self.seen.join("\n")
    }
}

/// A real `pup` process with a private cookie and mapper.
struct Pup {
    child: Child,
    addr: SocketAddr,
    cookie: Cookie,
    /// The pup's standard error, line by line.
    log: Arc<Mutex<Vec<String>>>,
    _mapper: Mapper,
    _dir: tempfile::TempDir,
}

/// Starts `pup NAME` with a fresh cookie in a private directory.
fn start_pup() -> Pup {
    let dir = tempfile::tempdir().unwrap();
    let cookie_path = dir.path().join("cookie");
    let mapper = Mapper::start();
    let (mut child, mut out, err) = spawn_pup(&cookie_path, &mapper);
    let line = out.wait_for("pup hostile listening on ");
    let addr = line
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .expect("address in the ready line");
    // Keep draining both streams: the pup must never block on a full
    // pipe, nor find one closed (see `a_pup_whose_stderr_is_gone_keeps_serving`).
    thread::spawn(move || while out.rx.recv().is_ok() {});
    let log = Arc::new(Mutex::new(Vec::new()));
    {
        let log = log.clone();
        thread::spawn(move || {
            while let Ok(l) = err.rx.recv() {
                log.lock().unwrap().push(l);
            }
        });
    }
    assert!(child.try_wait().unwrap().is_none());
    Pup {
        child,
        addr,
        cookie: Cookie::load(&cookie_path).expect("the pup made the cookie"),
        log,
        _mapper: mapper,
        _dir: dir,
    }
}

fn spawn_pup(cookie: &Path, mapper: &Mapper) -> (Child, Lines, Lines) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pup"))
        .args(["hostile", "--quiet-output", "--mapper"])
        .arg(mapper.addr.to_string())
        .arg("--cookie")
        .arg(cookie)
        .env_remove("PODUS_COOKIE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pup");
    let out = Lines::collect(child.stdout.take().unwrap());
    let err = Lines::collect(child.stderr.take().unwrap());
    (child, out, err)
}

impl Pup {
    /// Waits (bounded) for a line of the pup's standard error containing
    /// every one of `words`.
    fn wait_log(&self, words: &[&str]) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(l) = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|l| words.iter().all(|w| l.contains(w)))
            {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the pup logged no line with {words:?} within {PATIENCE:?}; it logged:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts that the pup process is alive and answers a well-formed,
    /// authenticated client.
    fn still_serves(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the pup process died"
        );
        let mut c = PupClient::connect(self.addr, &self.cookie).expect("a good client connects");
        match c.call(Request::Info) {
            Ok(Response::Info(i)) => assert_eq!(i.name, "hostile"),
            other => panic!("the pup did not answer Info: {other:?}"),
        }
    }
}

impl Drop for Pup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How far into the protocol a raw connection has got.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Connected; the pup waits for a `Hello`.
    Fresh,
    /// `Hello` welcomed and the challenge read; the pup waits for the
    /// challenge response.
    Challenged,
    /// Authenticated; the pup waits for requests.
    Authenticated,
}

const PHASES: [Phase; 3] = [Phase::Fresh, Phase::Challenged, Phase::Authenticated];

/// A raw socket to the pup whose reads give up after [`PATIENCE`].
fn raw(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to the pup");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Sends the pup `Hello` and reads the welcome and the challenge.
fn hello(s: &mut TcpStream) -> Challenge {
    frame::write_frame(s, &frame::hello()).unwrap();
    match frame::read_frame::<HelloReply>(s, MAX_FRAME) {
        Ok(Some(HelloReply::Welcome(h))) => assert_eq!(h, frame::hello()),
        other => panic!("expected a welcome, got {other:?}"),
    }
    frame::read_frame::<Challenge>(s, MAX_FRAME)
        .expect("a challenge")
        .expect("a challenge, not a close")
}

/// Answers `challenge` with `cookie` and expects to be let in.
fn authenticate(s: &mut TcpStream, cookie: &Cookie, challenge: &Challenge) {
    frame::write_frame(s, &auth::client_response(cookie, &challenge.nonce)).unwrap();
    match frame::read_frame::<Verdict>(s, MAX_FRAME) {
        Ok(Some(Verdict::Accepted { .. })) => {}
        other => panic!("expected to be accepted, got {other:?}"),
    }
}

/// A raw connection brought to `phase`.
fn open(pup: &Pup, phase: Phase) -> TcpStream {
    let mut s = raw(pup.addr);
    if phase != Phase::Fresh {
        let challenge = hello(&mut s);
        if phase == Phase::Authenticated {
            authenticate(&mut s, &pup.cookie, &challenge);
        }
    }
    s
}

/// What the pup did with a bad connection.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// It said why (a refused `Hello`, a rejected response, or an error
    /// reply), then closed.
    Error(String),
    /// It closed without a word.
    Closed,
}

/// Reads what the pup sends until it closes, and checks that it is an
/// error of the kind `phase` allows. Panics if the pup neither answers nor
/// closes within [`PATIENCE`]: that would be a hang.
fn outcome(s: &mut TcpStream, phase: Phase) -> Outcome {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the pup neither answered nor closed within {PATIENCE:?} ({phase:?})")
            }
            // Reset: the pup closed with our bytes unread. Still a close.
            Err(_) => break,
        }
    }
    if bytes.is_empty() {
        return Outcome::Closed;
    }
    let mut r = &bytes[..];
    let message = match phase {
        Phase::Fresh => match frame::read_frame::<HelloReply>(&mut r, MAX_FRAME) {
            Ok(Some(HelloReply::Refused { reason, .. })) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        },
        Phase::Challenged => match frame::read_frame::<Verdict>(&mut r, MAX_FRAME) {
            Ok(Some(Verdict::Rejected(m))) => m,
            other => panic!("expected a rejection, got {other:?}"),
        },
        Phase::Authenticated => {
            // Garbage may happen to hold valid requests, which are
            // answered; whatever the pup sent must be well-formed, and
            // only an error reply may end it.
            let mut last = None;
            while !r.is_empty() {
                match frame::read_frame::<ServerMsg>(&mut r, MAX_FRAME) {
                    Ok(Some(m)) => last = Some(m),
                    other => panic!("the pup sent something malformed: {other:?}"),
                }
            }
            match last {
                Some(ServerMsg::Reply(Response::Error(m))) => m,
                _ => return Outcome::Closed,
            }
        }
    };
    assert!(r.is_empty(), "more after the error ({phase:?}): {r:?}");
    Outcome::Error(message)
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn truncated_frames_are_closed_in_every_phase() {
    let mut pup = start_pup();
    for phase in PHASES {
        let mut s = open(&pup, phase);
        // Announce 100 bytes, send 10, and stop sending.
        s.write_all(&100u32.to_be_bytes()).unwrap();
        s.write_all(&[1; 10]).unwrap();
        s.shutdown(NetShutdown::Write).unwrap();
        assert_eq!(outcome(&mut s, phase), Outcome::Closed, "{phase:?}");
        // A prefix cut short, too.
        let mut s = open(&pup, phase);
        s.write_all(&[0, 0]).unwrap();
        s.shutdown(NetShutdown::Write).unwrap();
        assert_eq!(outcome(&mut s, phase), Outcome::Closed, "{phase:?}");
    }
    pup.still_serves();
}

#[test]
fn oversized_length_prefixes_get_an_error_or_a_close() {
    let mut pup = start_pup();
    for phase in PHASES {
        let mut s = open(&pup, phase);
        s.write_all(&[0xFF; 4]).unwrap();
        let got = outcome(&mut s, phase);
        match phase {
            // Before and after authentication the pup says why.
            Phase::Fresh | Phase::Authenticated => match &got {
                Outcome::Error(m) => assert!(m.contains("exceeds the limit"), "{phase:?}: {m}"),
                Outcome::Closed => panic!("{phase:?}: expected an error"),
            },
            // A bad challenge response is only ever answered by a close.
            Phase::Challenged => assert_eq!(got, Outcome::Closed),
        }
    }
    pup.still_serves();
}

#[test]
fn undecodable_frames_get_an_error_or_a_close() {
    let mut pup = start_pup();
    for phase in PHASES {
        let mut s = open(&pup, phase);
        // A whole frame whose first byte is enum variant 200: no Hello,
        // no challenge response and no request starts like that.
        s.write_all(&[0, 0, 0, 3, 200, 1, 2]).unwrap();
        match (phase, outcome(&mut s, phase)) {
            (Phase::Fresh, Outcome::Error(m)) => assert!(m.contains("bad hello"), "{m}"),
            (Phase::Challenged, Outcome::Closed) => {}
            (Phase::Authenticated, Outcome::Error(m)) => {
                assert!(m.starts_with("bad request"), "{m}")
            }
            (phase, other) => panic!("{phase:?}: unexpected {other:?}"),
        }
    }
    pup.still_serves();
}

#[test]
fn random_garbage_in_every_phase_is_refused_or_closed() {
    let mut pup = start_pup();
    for phase in PHASES {
        for seed in 1..=12 {
            let mut s = open(&pup, phase);
            // The pup may close before all of it is written; that is fine.
            let _ = s.write_all(&garbage(seed, 3000));
            let _ = s.shutdown(NetShutdown::Write);
            // Either outcome is acceptable; a hang or a wrong kind of
            // answer panics inside `outcome`.
            let _ = outcome(&mut s, phase);
        }
    }
    pup.still_serves();
}

#[test]
fn clients_vanishing_mid_frame_free_their_connection() {
    let mut pup = start_pup();
    // More vanishing clients than the pup has connection slots: if a
    // vanished client kept its slot, the good client at the end would be
    // refused ("too many connections").
    for i in 0..(PUP_MAX_CONNECTIONS + 16) {
        let phase = PHASES[i % 3];
        let mut s = open(&pup, phase);
        s.write_all(&50u32.to_be_bytes()).unwrap();
        s.write_all(&[7; 20]).unwrap();
        drop(s);
    }
    // Slots are released as the pup notices the closes; wait for that
    // (bounded) rather than for a fixed time.
    let deadline = Instant::now() + PATIENCE;
    loop {
        match PupClient::connect(pup.addr, &pup.cookie) {
            Ok(_) => break,
            Err(e) => assert!(
                Instant::now() < deadline,
                "vanished clients kept their slots: {e}"
            ),
        }
        thread::sleep(Duration::from_millis(20));
    }
    pup.still_serves();
}

/// Writes `bytes` one a `pace`, stopping at the first failed write.
/// Says `started` after the first byte; with a `gate` `(i, go)`, says
/// `started` again once `i` bytes are out and then writes nothing more
/// until `go` arrives (so the test decides how long the frame stays
/// unfinished). Returns whether every byte was written.
fn dribble(
    s: &mut TcpStream,
    bytes: &[u8],
    pace: Duration,
    started: &mpsc::Sender<()>,
    gate: Option<(usize, Receiver<()>)>,
) -> bool {
    for (i, b) in bytes.iter().enumerate() {
        if let Some((at, go)) = &gate
            && i == *at
        {
            let _ = started.send(());
            go.recv_timeout(PATIENCE)
                .expect("the test let the slow client go on");
        }
        if s.write_all(&[*b]).is_err() {
            return false;
        }
        if i == 0 {
            let _ = started.send(());
        }
        thread::sleep(pace);
    }
    true
}

/// True while the pup keeps `s` open: nothing to read, no close, no reset.
fn still_open(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    let open = matches!(s.peek(&mut b), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    s.set_nonblocking(false).unwrap();
    open
}

#[test]
fn a_byte_a_second_before_authentication_is_cut_off_and_others_are_served() {
    let mut pup = start_pup();
    let addr = pup.addr;
    // A Hello of 40 bytes at a byte a second would take 40 s; the pup
    // gives a handshake frame 10 s.
    let mut bytes = Vec::new();
    frame::write_frame(
        &mut bytes,
        &pupmapper::frame::Hello::new("podus-pup-but-slowly-spelled-out", 1),
    )
    .unwrap();
    assert!(bytes.len() > 30);
    let (started_tx, started) = mpsc::channel();
    // Timed from before the connection exists, so the pup's timer cannot
    // have started earlier than ours.
    let t0 = Instant::now();
    let slow_socket = raw(addr);
    let watch = slow_socket.try_clone().unwrap();
    let slow = thread::spawn(move || {
        let mut s = slow_socket;
        let finished = dribble(&mut s, &bytes, Duration::from_secs(1), &started_tx, None);
        // The pup closes; then our writes fail or our read sees the close.
        let got = outcome(&mut s, Phase::Fresh);
        (t0.elapsed(), finished, got)
    });
    started
        .recv_timeout(PATIENCE)
        .expect("the slow client started");
    // While the slow client is mid-frame, a good one is served: when the
    // good one has its answer, the slow one's connection is still open (a
    // pup serving one connection at a time would have served the good one
    // only after cutting the slow one off).
    pup.still_serves();
    assert!(
        still_open(&watch),
        "the slow client was cut off before the good one was served"
    );
    let (cut_after, finished, got) = slow.join().expect("slow client thread");
    assert_eq!(got, Outcome::Closed);
    assert!(
        !finished,
        "the pup let a byte-a-second Hello run its whole 40 s"
    );
    // Not before the pup's own limit (minus timer rounding).
    assert!(
        cut_after >= PUP_HANDSHAKE - Duration::from_millis(500),
        "cut off after {cut_after:?}, before the {PUP_HANDSHAKE:?} handshake limit"
    );
    pup.still_serves();
}

#[test]
fn a_byte_a_second_after_authentication_is_answered_in_turn() {
    let mut pup = start_pup();
    let mut s = open(&pup, Phase::Authenticated);
    let mut bytes = Vec::new();
    frame::write_frame(&mut bytes, &Request::Status).unwrap();
    assert!(bytes.len() >= 4);
    let (started_tx, started) = mpsc::channel();
    let (go_tx, go) = mpsc::channel();
    let half = bytes.len() / 2;
    let writer = {
        let mut s = s.try_clone().unwrap();
        // A byte a second up to the middle of the frame, then held there
        // until the test says go (an authenticated frame may take 60 s).
        thread::spawn(move || {
            dribble(
                &mut s,
                &bytes,
                Duration::from_secs(1),
                &started_tx,
                Some((half, go)),
            )
        })
    };
    for what in ["the first byte", "the middle of the frame"] {
        started
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("the slow client did not write {what}"));
    }
    // The slow frame is half written and cannot go on until we say so;
    // a good client is served meanwhile.
    pup.still_serves();
    assert!(!writer.is_finished(), "the gate let the slow frame finish");
    go_tx.send(()).unwrap();
    assert!(
        writer.join().unwrap(),
        "the pup cut off a slow authenticated client"
    );
    match frame::read_frame::<ServerMsg>(&mut s, MAX_FRAME) {
        Ok(Some(ServerMsg::Reply(Response::Status(_)))) => {}
        other => panic!("the slow request was not answered: {other:?}"),
    }
    pup.still_serves();
}

#[test]
fn many_concurrent_connections_are_served_or_refused_never_hung() {
    let mut pup = start_pup();
    let addr = pup.addr;
    let cookie = pup.cookie.clone();
    let refused = Arc::new(Mutex::new(0usize));
    // 120 at once, over the pup's 64 slots: bad ones in every phase, and
    // good ones that must be served or told "too many connections". One
    // in five is good; the bad ones take the phases in turn (i % 3) and
    // the kinds of bad bytes in turn (i / 3 % 4), so every phase meets
    // every kind.
    let is_good = |i: u64| i.is_multiple_of(5);
    let phase_of = |i: u64| PHASES[(i % 3) as usize];
    let kind_of = |i: u64| (i / 3) % 4;
    for phase in PHASES {
        for kind in 0..4 {
            assert!(
                (0..120u64).any(|i| !is_good(i) && phase_of(i) == phase && kind_of(i) == kind),
                "no bad client in phase {phase:?} sends bad bytes of kind {kind}"
            );
        }
    }
    let clients: Vec<_> = (0..120u64)
        .map(|i| {
            let cookie = cookie.clone();
            let refused = refused.clone();
            thread::spawn(move || {
                if is_good(i) {
                    match PupClient::connect(addr, &cookie) {
                        Ok(mut c) => {
                            assert!(matches!(c.call(Request::Status), Ok(Response::Status(_))))
                        }
                        Err(e) => {
                            assert!(e.to_string().contains("too many connections"), "{e}");
                            *refused.lock().unwrap() += 1;
                        }
                    }
                    return;
                }
                let phase = phase_of(i);
                let Ok(mut s) = TcpStream::connect(addr) else {
                    return;
                };
                s.set_read_timeout(Some(PATIENCE)).unwrap();
                if phase != Phase::Fresh {
                    // Over the limit the Hello is refused; that is fine.
                    let _ = frame::write_frame(&mut s, &frame::hello());
                    match frame::read_frame::<HelloReply>(&mut s, MAX_FRAME) {
                        Ok(Some(HelloReply::Welcome(_))) => {}
                        _ => return,
                    }
                    let challenge: Challenge = frame::read_frame(&mut s, MAX_FRAME)
                        .expect("a challenge")
                        .expect("a challenge, not a close");
                    if phase == Phase::Authenticated {
                        authenticate(&mut s, &cookie, &challenge);
                    }
                }
                let bad: Vec<u8> = match kind_of(i) {
                    0 => [0xFF; 4].to_vec(),
                    1 => vec![0, 0, 0, 9, 1, 2],
                    2 => garbage(i, 300),
                    _ => vec![0, 0, 0, 2, 0xC8, 0x01],
                };
                let _ = s.write_all(&bad);
                let _ = s.shutdown(NetShutdown::Write);
                // Panics on a hang; any close or error is fine.
                let _ = outcome(&mut s, phase);
            })
        })
        .collect();
    for c in clients {
        c.join().expect("a client hung or saw something unexpected");
    }
    eprintln!(
        "{} good clients were refused at the limit",
        refused.lock().unwrap()
    );
    pup.still_serves();
}

#[test]
fn idle_unauthenticated_connections_cannot_hold_the_pup_forever() {
    let mut pup = start_pup();
    // Timed from before the first of them connects: no slot can free up
    // earlier than the pup's handshake limit after this.
    let t0 = Instant::now();
    // Fill every slot with connections that never say anything.
    let held: Vec<TcpStream> = (0..PUP_MAX_CONNECTIONS).map(|_| raw(pup.addr)).collect();
    // The next one is refused while they hold their slots (once the pup
    // has accepted them all, which the first refusal shows).
    let deadline = Instant::now() + PATIENCE;
    loop {
        match PupClient::connect(pup.addr, &pup.cookie) {
            Err(e) if e.to_string().contains("too many connections") => break,
            Ok(_) | Err(_) => assert!(Instant::now() < deadline, "never refused at the limit"),
        }
        thread::sleep(Duration::from_millis(20));
    }
    // They are cut off after the handshake timeout, and the pup serves
    // again without any of them closing.
    let deadline = Instant::now() + PUP_HANDSHAKE + PATIENCE;
    loop {
        if PupClient::connect(pup.addr, &pup.cookie).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "silent clients held the pup");
        thread::sleep(Duration::from_millis(100));
    }
    assert!(
        t0.elapsed() >= PUP_HANDSHAKE - Duration::from_millis(500),
        "admitted again after {:?}, before any timeout could fire",
        t0.elapsed()
    );
    drop(held);
    pup.still_serves();
}

#[test]
fn nothing_but_the_handshake_is_answered_without_the_cookie() {
    let mut pup = start_pup();
    // A program is loaded and running, so a Stop or Load that got through
    // would show.
    let src = "main() { while (1) { sleep_ms(5); } }\n";
    let object = compiler::object::write_object(&compiler::compile("idle.uc", src).unwrap());
    {
        let mut c = PupClient::connect(pup.addr, &pup.cookie).unwrap();
        let r = c
            .call(Request::Load {
                version: 1,
                object: object.clone(),
                source: None,
            })
            .unwrap();
        assert!(matches!(r, Response::Loaded(_)), "{r:?}");
        assert!(matches!(
            c.call(Request::Run { version: None }).unwrap(),
            Response::Running { version: 1 }
        ));
    }
    let requests = [
        Request::Info,
        Request::Status,
        Request::Stack,
        Request::Stop,
        Request::Abort,
        Request::Output { on: true },
        Request::Load {
            version: 2,
            object,
            source: None,
        },
        Request::Update(Default::default()),
        Request::Bye,
    ];
    for req in &requests {
        // Instead of the Hello: refused or closed, never answered.
        let mut s = raw(pup.addr);
        frame::write_frame(&mut s, req).unwrap();
        let _ = s.shutdown(NetShutdown::Write);
        let _ = outcome(&mut s, Phase::Fresh);
        // Instead of the challenge response: closed (or rejected).
        let mut s = raw(pup.addr);
        hello(&mut s);
        frame::write_frame(&mut s, req).unwrap();
        let _ = outcome(&mut s, Phase::Challenged);
        // A wrong cookie's response: rejected, with the reason.
        let mut s = raw(pup.addr);
        let challenge = hello(&mut s);
        let wrong = Cookie::from_secret(b"not-the-cookie-0123456789abcdef");
        frame::write_frame(&mut s, &auth::client_response(&wrong, &challenge.nonce)).unwrap();
        // (The request is not sent after it: the pup closes on the
        // rejection, and unread bytes would make its close a reset that
        // can destroy the rejection before it is read.)
        match outcome(&mut s, Phase::Challenged) {
            Outcome::Error(m) => assert!(m.contains("cookie does not match"), "{m}"),
            Outcome::Closed => panic!("a wrong cookie was not told why"),
        }
    }
    // None of it took effect: still one version, still running.
    let mut c = PupClient::connect(pup.addr, &pup.cookie).unwrap();
    match c.call(Request::Status).unwrap() {
        Response::Status(st) => {
            assert_eq!(st.versions.len(), 1, "{st:?}");
            assert!(st.program.contains("running"), "{}", st.program);
        }
        other => panic!("{other:?}"),
    }
    pup.still_serves();
}

#[test]
fn a_replayed_challenge_response_fails() {
    let mut pup = start_pup();
    // Someone watching a good exchange records the challenge and response.
    let mut s = raw(pup.addr);
    let seen_challenge = hello(&mut s);
    let recorded = auth::client_response(&pup.cookie, &seen_challenge.nonce);
    frame::write_frame(&mut s, &recorded).unwrap();
    assert!(matches!(
        frame::read_frame::<Verdict>(&mut s, MAX_FRAME),
        Ok(Some(Verdict::Accepted { .. }))
    ));
    drop(s);
    // Replaying the response on new connections gets nowhere: each has a
    // fresh challenge.
    for _ in 0..3 {
        let mut s = raw(pup.addr);
        let challenge = hello(&mut s);
        assert_ne!(
            challenge.nonce, seen_challenge.nonce,
            "a challenge repeated"
        );
        frame::write_frame(&mut s, &recorded).unwrap();
        match outcome(&mut s, Phase::Challenged) {
            Outcome::Error(m) => assert!(m.contains("cookie does not match"), "{m}"),
            Outcome::Closed => panic!("a replayed response was not rejected"),
        }
    }
    // Nor can the recorded MAC be reflected back as the server's proof.
    let mut s = raw(pup.addr);
    hello(&mut s);
    frame::write_frame(
        &mut s,
        &auth::Response {
            client_nonce: seen_challenge.nonce,
            mac: recorded.mac,
        },
    )
    .unwrap();
    assert!(matches!(
        outcome(&mut s, Phase::Challenged),
        Outcome::Error(_)
    ));
    pup.still_serves();
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_pup_creates_its_cookie_0600_in_a_0700_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("home/.podus/cookie");
    let mapper = Mapper::start();
    let (mut child, mut out, _err) = spawn_pup(&path, &mapper);
    let ready = out.wait_for("pup hostile listening on ");
    assert_eq!(mode(&path), 0o600, "cookie file mode");
    assert_eq!(mode(path.parent().unwrap()), 0o700, "cookie directory mode");
    let cookie = Cookie::load(&path).expect("a usable cookie");
    let addr: SocketAddr = ready.rsplit(' ').next().unwrap().parse().unwrap();
    let mut c = PupClient::connect(addr, &cookie).expect("the cookie lets a ush in");
    assert!(matches!(c.call(Request::Info), Ok(Response::Info(_))));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_cookie_others_can_read_or_write_is_refused_with_a_clear_message() {
    for (mode_bits, says) in [
        (0o640, "is readable by others (mode 0640); chmod 600 it"),
        (0o604, "is readable by others (mode 0604); chmod 600 it"),
        (0o620, "is writable by others (mode 0620); chmod 600 it"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cookie");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode_bits)).unwrap();
        let mapper = Mapper::start();
        let (mut child, mut out, mut err) = spawn_pup(&path, &mapper);
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < deadline, "the pup did not exit");
            thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(1), "{mode_bits:o}");
        let text = err.rest();
        assert!(text.contains(says), "{mode_bits:o}: {text}");
        assert!(
            !out.rest().contains("listening on"),
            "{mode_bits:o}: it announced itself"
        );
        // The file was left alone.
        assert_eq!(mode(&path), mode_bits);
    }
}

/// Before it has authenticated anyone the pup accepts only small frames
/// (a `Hello` and a challenge response are well under 1 KiB), so an
/// unauthenticated client cannot make it buffer 16 MiB per connection, 1 GiB
/// over its 64 slots: such a frame is refused at its prefix.
#[test]
fn a_large_frame_before_authentication_is_refused_at_its_prefix() {
    let mut pup = start_pup();
    for phase in [Phase::Fresh, Phase::Challenged] {
        let mut s = open(&pup, phase);
        // Announce 1 MiB and send none of it: a pup that checks the
        // prefix refuses it for its size; one that waited for the payload
        // would close for a timeout, saying nothing of the size.
        s.write_all(&(1u32 << 20).to_be_bytes()).unwrap();
        match (phase, outcome(&mut s, phase)) {
            (Phase::Fresh, Outcome::Error(m)) => {
                assert!(m.contains("exceeds the limit"), "{phase:?}: {m}")
            }
            // A bad challenge response is answered by a close only; the
            // pup's log says why.
            (Phase::Challenged, Outcome::Closed) => {
                pup.wait_log(&["refused a ush", "exceeds the limit"]);
            }
            (phase, other) => panic!("{phase:?}: the pup did not refuse the size: {other:?}"),
        }
    }
    pup.still_serves();
}

/// A pup whose standard error has gone away (the terminal it was started
/// from closed, or the process reading its pipe died) must go on serving:
/// its log lines are worth less than its program. (`eprintln!` would panic
/// on the broken pipe inside the connection thread that logs a refused ush;
/// had that thread kept its connection slot, after 64 refusals the pup
/// would refuse everyone. The event thread and the mapper keeper log too.)
#[test]
fn a_pup_whose_stderr_is_gone_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let cookie_path = dir.path().join("cookie");
    let mapper = Mapper::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pup"))
        .args(["hostile", "--quiet-output", "--mapper"])
        .arg(mapper.addr.to_string())
        .arg("--cookie")
        .arg(&cookie_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pup");
    // Close our end of its stderr before it has anything to say.
    drop(child.stderr.take());
    let mut out = Lines::collect(child.stdout.take().unwrap());
    let addr: SocketAddr = out
        .wait_for("pup hostile listening on ")
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    thread::spawn(move || while out.rx.recv().is_ok() {});
    let mut pup = Pup {
        child,
        addr,
        cookie: Cookie::load(&cookie_path).unwrap(),
        log: Arc::new(Mutex::new(Vec::new())),
        _mapper: mapper,
        _dir: dir,
    };
    // More refused ushes than the pup has slots; each one is logged.
    let wrong = Cookie::from_secret(b"not-the-cookie-0123456789abcdef");
    for _ in 0..(PUP_MAX_CONNECTIONS + 8) {
        let mut s = raw(pup.addr);
        let challenge = hello(&mut s);
        frame::write_frame(&mut s, &auth::client_response(&wrong, &challenge.nonce)).unwrap();
        assert!(matches!(
            outcome(&mut s, Phase::Challenged),
            Outcome::Error(_)
        ));
    }
    pup.still_serves();
}
