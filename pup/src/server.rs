//! The pup daemon: accept loop, one thread per connection, and the event
//! thread that fans the VM's news out to the pup's terminal and its ushes.
//!
//! A connection goes through [`accept_peer`] (ush, mapper alert or probe),
//! then the challenge–response of [`crate::auth`]; only then is it
//! registered with the hub and its requests read. Each authenticated
//! connection has a reader (its own thread: requests in, replies out through
//! the writer) and a writer thread fed by the session's [`Outbox`], so
//! neither a slow ush nor the VM's event stream can block anyone else.
//!
//! Program output (SPEC §5.2): the program thread may run at most
//! [`PROGRAM_AHEAD`] bytes ahead of the event thread, which writes
//! everything to the pup's stdout (so the program waits on a full stdout as
//! on a full pipe, and on nothing else). Each streaming ush gets the output
//! through its outbox, coalesced into frames of up to [`OUTPUT_FRAME`]
//! bytes; a ush more than [`OUTPUT_BEHIND`] bytes behind has the excess
//! skipped and is told exactly how many bytes it missed
//! ([`Notice::OutputSkipped`]), in place in its stream; it is never cut off
//! for being slow. Trace lines to a ush that is far behind are dropped;
//! replies and completion notices are never dropped (a ush with
//! [`QUEUE`] of them unread is disconnected and can reconnect).
//!
//! Fairness (SPEC §5.4): connections still in their handshake are limited
//! per peer address ([`MAX_HANDSHAKES_PER_PEER`]) and in total (a quarter
//! of the slots stay for authenticated ushes), and the whole handshake has
//! one deadline ([`HANDSHAKE_TIMEOUT`]); an authenticated ush that neither
//! asks anything nor receives anything for the configured idle timeout is
//! disconnected.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Write};
use std::net::{IpAddr, Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use vm::{Event, ExitStatus, VmConfig};
use wire::{Shutdown, wake_addr};

use crate::auth::{self, Cookie};
use crate::frame::{self, Connection, FrameError, HandshakeError, Limits, MAX_FRAME};
use crate::mapper_link::{Peer, accept_peer};
use crate::proto::{Notice, Request, Response, ServerMsg};
use crate::state::{Program, exit_message};
use crate::trace;

/// Messages other than program output (replies, notices, trace lines)
/// queued for one ush before it counts as not reading.
const QUEUE: usize = 4096;
/// Bytes of program output buffered for one ush; output beyond that while
/// the ush is behind is skipped for it (and counted, and reported).
pub const OUTPUT_BEHIND: usize = 4 << 20;
/// Largest program-output frame sent to a ush: output is coalesced up to
/// this, so a fast program costs a frame per this many bytes, not per line.
const OUTPUT_FRAME: usize = 256 << 10;
/// Bytes of output the program may be ahead of the event thread (which
/// writes it to stdout) before it waits.
pub const PROGRAM_AHEAD: usize = 1 << 20;
/// The pup's own stdout is written in batches up to this size.
const STDOUT_BATCH: usize = 64 << 10;
/// How long a new connection has for its whole handshake: `Hello` and
/// authentication together.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections from one address that may be in their handshake at once.
pub const MAX_HANDSHAKES_PER_PEER: usize = 8;
/// How long a finished connection's writer may take to send what is left
/// (the reply to `Bye`) before the socket is shut.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest frame accepted before authentication. A `Hello` and a challenge
/// response are a few dozen bytes; a stranger must not make the pup buffer
/// (or wait for) the 16 MiB an authenticated ush may send as a module.
const HANDSHAKE_MAX_FRAME: usize = 4 << 10;

/// How a pup serves.
pub struct ServerOptions {
    /// Program name.
    pub name: String,
    /// Host name shown to ushes.
    pub host: String,
    /// The shared secret ushes must prove they know.
    pub cookie: Cookie,
    /// Print the debug trace on stderr.
    pub debug: bool,
    /// Keep program output off the pup's stdout (ushes can still stream it).
    pub quiet_output: bool,
    /// Stack size of the program thread, bytes (default: the VM's).
    pub stack_size: Option<usize>,
    /// Most connections at once (authenticated or not); more are refused.
    pub max_connections: usize,
    /// An authenticated ush that sends no request and is sent nothing for
    /// this long is disconnected (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Stops the server when triggered.
    pub shutdown: Shutdown,
}

impl ServerOptions {
    /// Options for program `name` with `cookie`: no debug trace, output on
    /// stdout, the VM's default stack, 64 connections, this host's name.
    pub fn new(name: &str, cookie: Cookie) -> ServerOptions {
        ServerOptions {
            name: name.to_string(),
            host: host_name(),
            cookie,
            debug: false,
            quiet_output: false,
            stack_size: None,
            max_connections: 64,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            shutdown: Shutdown::new(),
        }
    }
}

/// Default idle timeout of an authenticated connection (`pup --idle-timeout`).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// This host's name, or `localhost` if it cannot be read.
pub fn host_name() -> String {
    wire::host_name().unwrap_or_else(|| "localhost".to_string())
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The VM could not be set up.
    #[error("cannot set up the VM: {0}")]
    Vm(#[from] vm::VmError),
    /// The listener or a thread failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One entry of a session's outbox.
enum Item {
    /// A reply or a notice (boxed: output items are the many small ones).
    Msg(Box<ServerMsg>),
    /// Program output, coalesced up to [`OUTPUT_FRAME`] bytes.
    Output(Vec<u8>),
    /// Output skipped here because the ush was too far behind.
    Skipped(u64),
}

#[derive(Default)]
struct OutboxState {
    items: VecDeque<Item>,
    /// Program output bytes queued.
    output_bytes: usize,
    /// Messages (not output) queued.
    msgs: usize,
    /// No more items will come; the writer drains and ends.
    closed: bool,
}

/// What is waiting to be written to one ush, in order: replies, notices
/// and program output. Output is bounded in bytes (the excess is counted,
/// not queued), everything else in number.
#[derive(Default)]
struct Outbox {
    state: Mutex<OutboxState>,
    cv: Condvar,
    /// When the writer last finished writing a frame.
    last_sent: Mutex<Option<Instant>>,
}

impl Outbox {
    /// Queues a reply or notice; false if [`QUEUE`] of them are unread.
    fn push_msg(&self, m: ServerMsg) -> bool {
        let mut st = lock(&self.state);
        if st.msgs >= QUEUE {
            return false;
        }
        st.msgs += 1;
        st.items.push_back(Item::Msg(Box::new(m)));
        drop(st);
        self.cv.notify_one();
        true
    }

    /// Queues program output, or counts it as skipped when the ush already
    /// has [`OUTPUT_BEHIND`] bytes unread.
    /// `streaming` is read under the outbox's lock, which `output off`
    /// also takes to clear it: no output is queued after that reply.
    fn push_output(&self, streaming: &AtomicBool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut guard = lock(&self.state);
        if !streaming.load(Ordering::SeqCst) {
            return;
        }
        let st = &mut *guard;
        if st.output_bytes + bytes.len() > OUTPUT_BEHIND {
            match st.items.back_mut() {
                Some(Item::Skipped(n)) => *n += bytes.len() as u64,
                _ => st.items.push_back(Item::Skipped(bytes.len() as u64)),
            }
            return;
        }
        st.output_bytes += bytes.len();
        if let Some(Item::Output(v)) = st.items.back_mut()
            && v.len() + bytes.len() <= OUTPUT_FRAME
        {
            // The writer has not taken this item yet: it will see it.
            v.extend_from_slice(bytes);
            return;
        }
        let mut v = Vec::with_capacity(OUTPUT_FRAME.min(bytes.len().max(4096)));
        v.extend_from_slice(bytes);
        st.items.push_back(Item::Output(v));
        drop(guard);
        self.cv.notify_one();
    }

    /// No more items: the writer sends what is queued and ends.
    fn close(&self) {
        lock(&self.state).closed = true;
        self.cv.notify_all();
    }

    /// The next frame to write, blocking until there is one; `None` once
    /// closed and drained.
    fn next(&self) -> Option<ServerMsg> {
        let mut st = lock(&self.state);
        loop {
            if let Some(item) = st.items.pop_front() {
                return Some(match item {
                    Item::Msg(m) => {
                        st.msgs -= 1;
                        *m
                    }
                    Item::Output(v) => {
                        st.output_bytes -= v.len();
                        ServerMsg::Notice(Notice::Output(v))
                    }
                    Item::Skipped(bytes) => ServerMsg::Notice(Notice::OutputSkipped { bytes }),
                });
            }
            if st.closed {
                return None;
            }
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Something was written to the ush within `d`.
    fn sent_within(&self, d: Duration) -> bool {
        lock(&self.last_sent).is_some_and(|t| t.elapsed() < d)
    }
}

/// One authenticated ush as the hub sees it.
struct Session {
    id: u64,
    outbox: Arc<Outbox>,
    /// Program output is streamed to it.
    output: AtomicBool,
    /// The debug trace is sent to it.
    debug: AtomicBool,
    /// While a request of this session is being answered, completion
    /// notices wait here so they arrive after its reply (an update that
    /// completes at once must not be reported before it is begun).
    held: Mutex<Option<Vec<Notice>>>,
    /// To cut the connection off when it stops reading.
    stream: TcpStream,
    /// A load arriving in chunks (`LoadBegin` .. `LoadEnd`).
    upload: Mutex<Option<Upload>>,
}

/// A load arriving in chunks: the object, then the source, in one buffer
/// that never grows past what `LoadBegin` declared.
struct Upload {
    version: u64,
    object_len: usize,
    source_len: Option<usize>,
    buf: Vec<u8>,
}

impl Upload {
    fn total(&self) -> usize {
        self.object_len + self.source_len.unwrap_or(0)
    }
}

/// `LoadBegin`: refuse in words what cannot be accepted, before any byte
/// of it is sent.
fn load_begin(
    session: &Session,
    version: u64,
    object_len: u64,
    source_len: Option<u64>,
) -> Response {
    let total = object_len.saturating_add(source_len.unwrap_or(0));
    if total > crate::proto::MAX_LOAD_BYTES {
        return Response::Error(format!(
            "version {version}: the object and source are {total} bytes, more than the {} bytes a pup accepts for one load; nothing was sent",
            crate::proto::MAX_LOAD_BYTES
        ));
    }
    *lock(&session.upload) = Some(Upload {
        version,
        object_len: object_len as usize,
        source_len: source_len.map(|n| n as usize),
        buf: Vec::new(),
    });
    Response::Ok
}

/// `LoadChunk`: append, never past the declared size.
fn load_chunk(session: &Session, data: &[u8]) -> Response {
    let mut up = lock(&session.upload);
    let Some(u) = up.as_mut() else {
        return Response::Error("a load chunk arrived with no load begun".into());
    };
    if u.buf.len() + data.len() > u.total() {
        let v = u.version;
        *up = None;
        return Response::Error(format!(
            "version {v}: more bytes arrived than the load declared; the load is abandoned"
        ));
    }
    if u.buf.is_empty() {
        // Most of the declared size at once, and only once bytes arrive.
        u.buf.reserve(u.total().min(64 << 20));
    }
    u.buf.extend_from_slice(data);
    Response::Ok
}

/// `LoadEnd`: load what arrived.
fn load_end(session: &Session, program: &Program) -> Response {
    let Some(u) = lock(&session.upload).take() else {
        return Response::Error("a load ended with no load begun".into());
    };
    if u.buf.len() != u.total() {
        return Response::Error(format!(
            "version {}: the load declared {} bytes but {} arrived; nothing was loaded",
            u.version,
            u.total(),
            u.buf.len()
        ));
    }
    let (object, source) = u.buf.split_at(u.object_len);
    let source = match u.source_len {
        Some(_) => match std::str::from_utf8(source) {
            Ok(s) => Some(s),
            Err(_) => {
                return Response::Error(format!(
                    "version {}: the source text is not UTF-8; nothing was loaded",
                    u.version
                ));
            }
        },
        None => None,
    };
    program.load(u.version, object, source)
}

impl Session {
    /// Queues a notice that may be dropped when the ush is not keeping up.
    fn send_lossy(&self, n: Notice) {
        let _ = self.outbox.push_msg(ServerMsg::Notice(n));
    }

    /// Queues a notice that must not be lost: a ush too far behind to take
    /// it is disconnected (it can reconnect and ask for the status).
    fn send_or_cut(&self, n: Notice) {
        if !self.outbox.push_msg(ServerMsg::Notice(n)) {
            self.cut();
        }
    }

    /// A completion notice: held while a request is being answered.
    fn notify(&self, n: Notice) {
        let mut held = lock(&self.held);
        match held.as_mut() {
            Some(q) => q.push(n),
            None => self.send_or_cut(n),
        }
    }

    /// Starts holding completion notices back.
    fn hold(&self) {
        *lock(&self.held) = Some(Vec::new());
    }

    /// Sends the reply, then whatever was held back meanwhile.
    fn reply(&self, r: Response) {
        let mut held = lock(&self.held);
        // Never blocks: the event thread may be waiting for `held`, and a
        // ush with a full queue is not reading its replies either.
        if !self.outbox.push_msg(ServerMsg::Reply(r)) {
            self.cut();
        }
        for n in held.take().unwrap_or_default() {
            self.send_or_cut(n);
        }
    }

    /// Ends a connection whose ush stopped reading its replies.
    fn cut(&self) {
        crate::log!(
            "pup: a ush left {QUEUE} replies and notices unread (connection {}); closing it",
            self.id
        );
        let _ = self.stream.shutdown(NetShutdown::Both);
    }
}

/// The connected ushes, and where trace lines and program output go.
struct Hub {
    sessions: Mutex<BTreeMap<u64, Arc<Session>>>,
    debug_stderr: bool,
    quiet_output: bool,
}

impl Hub {
    fn snapshot(&self) -> Vec<Arc<Session>> {
        lock(&self.sessions).values().cloned().collect()
    }

    /// A trace line: to stderr with `--debug`, and to every ush that asked.
    fn trace(&self, line: &str) {
        if self.debug_stderr {
            trace::to_stderr(&format!("{line}\n"));
        }
        for s in self.snapshot() {
            if s.debug.load(Ordering::SeqCst) {
                s.send_lossy(Notice::Trace(line.to_string()));
            }
        }
    }

    /// Program output: into the stdout batch unless quiet, and to every
    /// ush streaming it (never blocks on a ush).
    fn output(&self, bytes: &[u8], stdout: &mut Vec<u8>) {
        if !self.quiet_output {
            stdout.extend_from_slice(bytes);
            if stdout.len() >= STDOUT_BATCH {
                flush_stdout(stdout);
            }
        }
        for s in lock(&self.sessions).values() {
            s.outbox.push_output(&s.output, bytes);
        }
    }

    /// A completion notice to every ush.
    fn broadcast(&self, n: Notice) {
        for s in self.snapshot() {
            s.notify(n.clone());
        }
    }
}

/// Writes the stdout batch (blocking, as a full pipe blocks).
fn flush_stdout(batch: &mut Vec<u8>) {
    if batch.is_empty() {
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out.write_all(batch);
    let _ = out.flush();
    batch.clear();
}

/// How far the program's output is ahead of the event thread: the program
/// waits while more than [`PROGRAM_AHEAD`] bytes are in flight, so its
/// output is never buffered without bound, and it is paced by the pup's
/// stdout alone (ushes never slow it: their outboxes never block).
#[derive(Default)]
struct Ahead {
    bytes: AtomicUsize,
    lock: Mutex<()>,
    cv: Condvar,
    /// The event thread has ended: nobody will drain, do not wait.
    gone: AtomicBool,
}

impl Ahead {
    /// Called on the program's thread before its output is sent as an event.
    fn produce(&self, n: usize) {
        let before = self.bytes.fetch_add(n, Ordering::SeqCst);
        if before + n <= PROGRAM_AHEAD
            // An mprocedure runs while the program is paused and its events
            // are deferred: it must not wait for them to drain.
            || thread::current().name() == Some("uc-mproc")
        {
            return;
        }
        let mut g = lock(&self.lock);
        while self.bytes.load(Ordering::SeqCst) > PROGRAM_AHEAD && !self.gone.load(Ordering::SeqCst)
        {
            g = self
                .cv
                .wait_timeout(g, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Called by the event thread once output of `n` bytes is written.
    fn consumed(&self, n: usize) {
        let before = self.bytes.fetch_sub(n, Ordering::SeqCst);
        if before > PROGRAM_AHEAD {
            let _g = lock(&self.lock);
            self.cv.notify_all();
        }
    }

    fn end(&self) {
        self.gone.store(true, Ordering::SeqCst);
        let _g = lock(&self.lock);
        self.cv.notify_all();
    }
}

/// Handshakes in progress, per peer address and in total.
#[derive(Default)]
struct Handshakes {
    per_peer: HashMap<IpAddr, usize>,
    total: usize,
}

/// Everything the connection threads share.
struct Ctx {
    program: Program,
    hub: Hub,
    cookie: Cookie,
    open: AtomicUsize,
    next_id: AtomicU64,
    max_connections: usize,
    idle_timeout: Option<Duration>,
    handshakes: Mutex<Handshakes>,
    ahead: Arc<Ahead>,
    shutdown: Shutdown,
    /// Streams of all open connections, so shutdown can close them.
    streams: Mutex<BTreeMap<u64, TcpStream>>,
}

/// A pup ready to serve: its VM is set up and its event thread runs.
pub struct Server {
    ctx: Arc<Ctx>,
}

impl Server {
    /// Sets up the VM and the event thread. Separate from [`Server::run`] so
    /// that a pup can fail before it announces itself.
    pub fn new(opts: ServerOptions) -> Result<Server, ServeError> {
        let ahead = Arc::new(Ahead::default());
        let producer = ahead.clone();
        let mut config = VmConfig {
            // Output reaches the terminal through the event thread, in order
            // with the trace lines (see `events`); here the program only
            // waits while that thread is too far behind.
            output: Arc::new(move |b: &[u8]| producer.produce(b.len())),
            ..VmConfig::default()
        };
        if let Some(s) = opts.stack_size {
            config.stack_size = s;
        }
        let program = Program::new(&opts.name, &opts.host, config)?;
        let events = program.vm().subscribe();
        let ctx = Arc::new(Ctx {
            program,
            hub: Hub {
                sessions: Mutex::new(BTreeMap::new()),
                debug_stderr: opts.debug,
                quiet_output: opts.quiet_output,
            },
            cookie: opts.cookie,
            open: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            max_connections: opts.max_connections,
            idle_timeout: opts.idle_timeout,
            handshakes: Mutex::new(Handshakes::default()),
            ahead,
            shutdown: opts.shutdown,
            streams: Mutex::new(BTreeMap::new()),
        });
        let weak = Arc::downgrade(&ctx);
        let ahead = ctx.ahead.clone();
        thread::Builder::new()
            .name("pup-events".into())
            .spawn(move || {
                run_events(events, weak, &ahead);
                ahead.end();
            })?;
        Ok(Server { ctx })
    }

    /// Serves `listener` until the shutdown signal fires; then closes every
    /// connection and stops the program.
    pub fn run(self, listener: TcpListener) -> Result<(), ServeError> {
        let local = listener.local_addr()?;
        let wake = wake_addr(local);
        // A blocked accept only returns for a connection: make one when the
        // signal fires.
        {
            let shutdown = self.ctx.shutdown.clone();
            thread::Builder::new()
                .name("pup-waker".into())
                .spawn(move || {
                    while !shutdown.wait_timeout(Duration::from_secs(3600)) {}
                    let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
                })?;
        }
        while !self.ctx.shutdown.is_triggered() {
            let (stream, peer) = match listener.accept() {
                Ok(a) => a,
                Err(e) => {
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                    ) {
                        // EMFILE and the like: back off, keep serving.
                        crate::log!("pup: accept failed: {e}");
                        self.ctx.shutdown.wait_timeout(Duration::from_millis(100));
                    }
                    continue;
                }
            };
            if self.ctx.shutdown.is_triggered() {
                break;
            }
            spawn_connection(&self.ctx, stream, peer);
        }
        for s in lock(&self.ctx.streams).values() {
            let _ = s.shutdown(NetShutdown::Both);
        }
        self.ctx.program.vm().stop();
        Ok(())
    }
}

/// `serve(listener, opts)`: [`Server::new`] then [`Server::run`].
pub fn serve(listener: TcpListener, opts: ServerOptions) -> Result<(), ServeError> {
    Server::new(opts)?.run(listener)
}

/// The VM's events, in order: program output and trace lines to the
/// terminal and the ushes that asked, completion notices to every ush.
fn run_events(events: Receiver<Event>, ctx: std::sync::Weak<Ctx>, ahead: &Ahead) {
    let mut stdout = Vec::with_capacity(STDOUT_BATCH);
    loop {
        // Batch stdout while events keep coming; write it out as soon as
        // the queue is empty, so a person sees each line when it is printed.
        let e = match events.try_recv() {
            Ok(e) => e,
            Err(TryRecvError::Empty) => {
                flush_stdout(&mut stdout);
                match events.recv() {
                    Ok(e) => e,
                    Err(_) => return,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        let Some(ctx) = ctx.upgrade() else { break };
        let hub = &ctx.hub;
        if !matches!(e, Event::Output(_)) {
            // Keep stdout in order with the trace on stderr.
            flush_stdout(&mut stdout);
        }
        match e {
            Event::Output(bytes) => {
                hub.output(&bytes, &mut stdout);
                ahead.consumed(bytes.len());
            }
            Event::Primitive(p) => hub.trace(&trace::primitive(p)),
            Event::ProcedureReturned => hub.trace(trace::PROCEDURE_TERMINATED),
            // Committed versions live in the engine; status and graph read them there.
            Event::GroupCommitted { .. } => {}
            Event::GroupFailed { to, members, error } => {
                crate::log!(
                    "pup: the update to version {to} could not apply {}: {error}",
                    members.join(" ")
                );
                hub.broadcast(Notice::GroupFailed {
                    to: to.0,
                    members,
                    error,
                });
            }
            Event::UpdateComplete {
                id,
                to,
                applied,
                not_applied,
                reasons,
            } => hub.broadcast(Notice::UpdateComplete {
                id,
                to: to.0,
                ending: crate::state::ending(vm::Ending::of(applied.len(), not_applied.len())),
                applied,
                not_applied,
                reasons,
            }),
            Event::Exited(status) => {
                let message = exit_message(&status);
                if matches!(status, ExitStatus::Error(_)) {
                    trace::to_stderr(&format!(
                        "pup: program {} stopped: {message}",
                        ctx.program.name()
                    ));
                } else if hub.debug_stderr {
                    crate::log!("pup: program {} ended: {message}", ctx.program.name());
                }
                hub.broadcast(Notice::Exited {
                    code: status.code(),
                    message,
                });
            }
            Event::Carried {
                name,
                carried,
                set,
                reset,
            } => hub.broadcast(Notice::Carried {
                name,
                carried,
                set,
                reset,
            }),
            Event::Retired { version, .. } => ctx.program.forget_version(version),
            Event::Loaded { .. } | Event::Started { .. } | Event::UpdateBegan { .. } => {}
        }
    }
    flush_stdout(&mut stdout);
}

/// Starts a thread for a new connection, or refuses it when full, or when
/// its address already has [`MAX_HANDSHAKES_PER_PEER`] connections in
/// their handshake, or when handshakes hold three quarters of the slots.
fn spawn_connection(ctx: &Arc<Ctx>, stream: TcpStream, peer: SocketAddr) {
    let limits = Limits {
        max_frame: HANDSHAKE_MAX_FRAME,
        idle_timeout: Some(HANDSHAKE_TIMEOUT),
        frame_timeout: Some(HANDSHAKE_TIMEOUT),
        write_timeout: Some(HANDSHAKE_TIMEOUT),
    };
    let Ok(mut conn) = Connection::new(stream, limits) else {
        return;
    };
    if ctx.open.fetch_add(1, Ordering::SeqCst) >= ctx.max_connections {
        ctx.open.fetch_sub(1, Ordering::SeqCst);
        conn.refuse(&frame::hello(), "too many connections; try again later");
        return;
    }
    let claim = match HandshakeClaim::take(ctx, peer.ip()) {
        Ok(c) => c,
        Err(why) => {
            ctx.open.fetch_sub(1, Ordering::SeqCst);
            conn.refuse(&frame::hello(), why);
            return;
        }
    };
    let id = ctx.next_id.fetch_add(1, Ordering::SeqCst);
    if let Ok(s) = conn.stream().try_clone() {
        lock(&ctx.streams).insert(id, s);
    }
    let slot = Slot {
        ctx: ctx.clone(),
        id,
    };
    // If the thread cannot start, the closure (and the slot and claim in
    // it) is dropped, which gives them back.
    let _ = thread::Builder::new()
        .name(format!("pup-conn-{id}"))
        .spawn(move || {
            let slot = slot;
            connection(&slot.ctx, conn, peer, id, claim);
        });
}

/// A connection's place among the handshakes in progress; given back when
/// it authenticates or ends.
struct HandshakeClaim {
    ctx: Arc<Ctx>,
    ip: IpAddr,
    held: bool,
}

impl HandshakeClaim {
    fn take(ctx: &Arc<Ctx>, ip: IpAddr) -> Result<HandshakeClaim, &'static str> {
        let mut h = lock(&ctx.handshakes);
        let mine = h.per_peer.get(&ip).copied().unwrap_or(0);
        if mine >= MAX_HANDSHAKES_PER_PEER {
            return Err(
                "too many connections from your address are still in their handshake; try again later",
            );
        }
        // A quarter of the slots (at least one) is kept for connections that
        // have authenticated, so strangers cannot hold every slot.
        let reserved = (ctx.max_connections / 4).max(1);
        if h.total >= ctx.max_connections.saturating_sub(reserved).max(1) {
            return Err("too many connections in their handshake; try again later");
        }
        *h.per_peer.entry(ip).or_insert(0) += 1;
        h.total += 1;
        Ok(HandshakeClaim {
            ctx: ctx.clone(),
            ip,
            held: true,
        })
    }

    fn release(&mut self) {
        if !std::mem::take(&mut self.held) {
            return;
        }
        let mut h = lock(&self.ctx.handshakes);
        h.total -= 1;
        if let Some(n) = h.per_peer.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                h.per_peer.remove(&self.ip);
            }
        }
    }
}

impl Drop for HandshakeClaim {
    fn drop(&mut self) {
        self.release();
    }
}

/// A connection's claim on the daemon: its place in the connection count,
/// its stream in the shutdown list and its session in the hub. Given back
/// on drop, so that even a connection thread that panics cannot leak it.
struct Slot {
    ctx: Arc<Ctx>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.ctx.hub.sessions).remove(&self.id);
        lock(&self.ctx.streams).remove(&self.id);
        self.ctx.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Sets the handshake's read limits to what is left of its deadline.
fn handshake_limits(conn: &mut Connection, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return false;
    }
    conn.set_limits(Limits {
        max_frame: HANDSHAKE_MAX_FRAME,
        idle_timeout: Some(left),
        frame_timeout: Some(left),
        write_timeout: Some(HANDSHAKE_TIMEOUT),
    })
    .is_ok()
}

/// Whether the peer of `stream` has closed its side (or the connection
/// broke), without consuming anything and without touching the socket's
/// blocking mode, which the writer thread relies on.
fn peer_gone(stream: &TcpStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: recv into a valid one-byte buffer on an open socket fd;
    // MSG_PEEK leaves the data queued and MSG_DONTWAIT makes it non-blocking.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n == 0 {
        return true;
    }
    n < 0 && {
        let e = io::Error::last_os_error();
        !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        )
    }
}

/// One connection, from the handshake to its end.
fn connection(
    ctx: &Arc<Ctx>,
    mut conn: Connection,
    peer: SocketAddr,
    id: u64,
    mut claim: HandshakeClaim,
) {
    // One deadline for the whole handshake, not one per frame: a peer
    // trickling its frames cannot stretch it.
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    match accept_peer(&mut conn) {
        Ok(Peer::Ush(_)) => {}
        Ok(Peer::Alert(alert)) => {
            if ctx.hub.debug_stderr {
                crate::log!(
                    "pup: the pupmapper says a ush looked up program {}",
                    alert.name
                );
            }
            return;
        }
        Ok(Peer::Probe) => return,
        Err(HandshakeError::Frame(e)) if e.deserves_reply() => {
            conn.refuse(&frame::hello(), &format!("bad hello: {e}"));
            return;
        }
        Err(_) => return,
    }
    if !handshake_limits(&mut conn, deadline) {
        return;
    }
    if let Err(e) = auth::server_authenticate(&mut conn, &ctx.cookie) {
        crate::log!("pup: refused a ush from {peer}: {e}");
        return;
    }
    claim.release();
    // An authenticated ush may stay quiet up to the idle timeout (checked
    // below); frames still have to arrive whole in bounded time. Writes
    // have no time limit: a ush that stops reading only misses output.
    let limits = Limits {
        max_frame: MAX_FRAME,
        idle_timeout: ctx.idle_timeout.map(|t| t.min(Duration::from_secs(60))),
        frame_timeout: Some(Duration::from_secs(60)),
        write_timeout: None,
    };
    if conn.set_limits(limits).is_err() {
        return;
    }
    let (Ok(write_half), Ok(cut)) = (conn.stream().try_clone(), conn.stream().try_clone()) else {
        return;
    };
    let outbox = Arc::new(Outbox::default());
    let session = Arc::new(Session {
        id,
        outbox: outbox.clone(),
        output: AtomicBool::new(false),
        debug: AtomicBool::new(false),
        held: Mutex::new(None),
        stream: cut,
        upload: Mutex::new(None),
    });
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let writer = match thread::Builder::new()
        .name(format!("pup-write-{id}"))
        .spawn(move || {
            writer(write_half, &outbox);
            let _ = done_tx.send(());
        }) {
        Ok(w) => w,
        Err(_) => return,
    };
    lock(&ctx.hub.sessions).insert(id, session.clone());

    let mut last_request = Instant::now();
    loop {
        let req = match conn.read_frame::<Request>() {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(FrameError::Idle) => {
                let Some(idle) = ctx.idle_timeout else {
                    continue;
                };
                if last_request.elapsed() < idle || session.outbox.sent_within(idle) {
                    continue;
                }
                crate::log!(
                    "pup: connection {id} from {peer} idle for {}s; closing it",
                    idle.as_secs_f64()
                );
                break;
            }
            Err(e) => {
                if e.deserves_reply() {
                    session.reply(Response::Error(format!("bad request: {e}")));
                }
                // The stream is no longer at a frame boundary, or the peer
                // is gone: close rather than guess.
                break;
            }
        };
        last_request = Instant::now();
        let bye = matches!(req, Request::Bye);
        if !handle(ctx, &session, &conn, req) {
            break;
        }
        if bye {
            break;
        }
    }

    // Let the writer send what is queued (the reply to a `Bye`), but not
    // for ever: the ush is leaving.
    lock(&ctx.hub.sessions).remove(&id);
    session.outbox.close();
    if done_rx.recv_timeout(DRAIN_TIMEOUT).is_err() {
        let _ = conn.stream().shutdown(NetShutdown::Both);
    }
    drop(session);
    let _ = writer.join();
    conn.close();
}

/// Writes queued messages until the outbox closes or the peer fails.
fn writer(mut stream: TcpStream, outbox: &Outbox) {
    while let Some(msg) = outbox.next() {
        if frame::write_frame(&mut stream, &msg).is_err() {
            // Wake the reader too: this connection is over.
            let _ = stream.shutdown(NetShutdown::Both);
            // Nothing more will be sent: let the output bound hold.
            outbox.close();
            return;
        }
        *lock(&outbox.last_sent) = Some(Instant::now());
    }
}

/// Answers one request. Returns false if the connection should end without
/// a reply (its ush left during a `Wait`).
fn handle(ctx: &Ctx, session: &Session, conn: &Connection, req: Request) -> bool {
    let program = &ctx.program;
    ctx.hub.trace(&trace::interrupt(program.pup_state(), &req));
    // A Wait only watches; it must neither block other ushes nor hold this
    // ush's notices (the completion it waits for is one of them).
    if let Request::Wait { timeout_ms } = req {
        return match program.wait(timeout_ms, || peer_gone(conn.stream())) {
            Some(r) => {
                session.reply(r);
                true
            }
            None => false,
        };
    }
    session.hold();
    let response = match req {
        Request::Output { on } => {
            // Under the outbox's lock, so that output is queued either
            // before this reply or not at all (see `Outbox::push_output`).
            let _queue = lock(&session.outbox.state);
            session.output.store(on, Ordering::SeqCst);
            Response::Ok
        }
        Request::Debug { on } => {
            session.debug.store(on, Ordering::SeqCst);
            Response::Ok
        }
        Request::Bye => Response::Ok,
        Request::LoadBegin {
            version,
            object_len,
            source_len,
        } => load_begin(session, version, object_len, source_len),
        Request::LoadChunk { data } => load_chunk(session, &data),
        req => {
            let _serial = program.serialize();
            match req {
                Request::Info => Response::Info(program.info()),
                Request::Load {
                    version,
                    object,
                    source,
                } => program.load(version, &object, source.as_deref()),
                Request::Run { version } => program.run(version, |addr| {
                    ctx.hub.trace(&trace::execution_begins(addr));
                }),
                Request::Update(spec) => program.update(&spec),
                Request::Abort => program.abort(),
                Request::Status => Response::Status(program.status()),
                Request::Stack => Response::Stack(program.stack()),
                Request::Delta { version } => program.delta(version),
                Request::Graph { version } => program.graph(version),
                Request::Addr { addr } => program.addr(addr),
                Request::Stop => program.stop(),
                Request::LoadEnd => load_end(session, program),
                Request::DeltaView(spec) => program.delta_view(&spec),
                Request::LoadBegin { .. }
                | Request::LoadChunk { .. }
                | Request::Wait { .. }
                | Request::Output { .. }
                | Request::Debug { .. }
                | Request::Bye => unreachable!("answered above"),
            }
        }
    };
    session.reply(response);
    true
}
