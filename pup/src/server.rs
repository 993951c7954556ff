//! The pup daemon: accept loop, one thread per connection, and the event
//! thread that fans the VM's news out to the pup's terminal and its ushes.
//!
//! A connection goes through [`accept_peer`] (ush, mapper alert or probe),
//! then the challenge–response of [`crate::auth`]; only then is it
//! registered with the hub and its requests read. Each authenticated
//! connection has a reader (its own thread: requests in, replies out through
//! the writer) and a writer thread fed by a bounded channel, so neither a
//! slow ush nor the VM's event stream can block anyone else: notices to a
//! ush that stopped reading are dropped (output, trace) or end that
//! connection (completion notices), never the daemon.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use vm::{Event, ExitStatus, VmConfig};
use wire::{Shutdown, wake_addr};

use crate::auth::{self, Cookie};
use crate::frame::{self, Connection, HandshakeError, Limits, MAX_FRAME};
use crate::mapper_link::{Peer, accept_peer};
use crate::proto::{Notice, Request, Response, ServerMsg};
use crate::state::{Program, exit_message};
use crate::trace;

/// Messages queued for one ush before it counts as not reading.
const QUEUE: usize = 4096;
/// How long a new connection has for its `Hello` and authentication.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
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
            shutdown: Shutdown::new(),
        }
    }
}

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

/// One authenticated ush as the hub sees it.
struct Session {
    id: u64,
    tx: SyncSender<ServerMsg>,
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
}

impl Session {
    /// Queues a notice that may be dropped when the ush is not keeping up.
    fn send_lossy(&self, n: Notice) {
        let _ = self.tx.try_send(ServerMsg::Notice(n));
    }

    /// Queues a notice that must not be lost: a ush too far behind to take
    /// it is disconnected (it can reconnect and ask for the status).
    fn send_or_cut(&self, n: Notice) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(ServerMsg::Notice(n)) {
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
        // Not a blocking send: the event thread may be waiting for `held`,
        // and a ush with a full queue is not reading its replies either.
        if let Err(TrySendError::Full(_)) = self.tx.try_send(ServerMsg::Reply(r)) {
            self.cut();
        }
        for n in held.take().unwrap_or_default() {
            self.send_or_cut(n);
        }
    }

    /// Ends a connection whose ush stopped reading.
    fn cut(&self) {
        crate::log!(
            "pup: a ush stopped reading (connection {}); closing it",
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

    /// Program output: to stdout (flushed per write) unless quiet, and to
    /// every ush streaming it.
    fn output(&self, bytes: &[u8]) {
        if !self.quiet_output {
            let mut out = io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        for s in self.snapshot() {
            if s.output.load(Ordering::SeqCst) {
                s.send_lossy(Notice::Output(bytes.to_vec()));
            }
        }
    }

    /// A completion notice to every ush.
    fn broadcast(&self, n: Notice) {
        for s in self.snapshot() {
            s.notify(n.clone());
        }
    }
}

/// Everything the connection threads share.
struct Ctx {
    program: Program,
    hub: Hub,
    cookie: Cookie,
    open: AtomicUsize,
    next_id: AtomicU64,
    max_connections: usize,
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
        let mut config = VmConfig {
            // Output reaches the terminal through the event thread, in order
            // with the trace lines (see `events`).
            output: Arc::new(|_: &[u8]| {}),
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
            shutdown: opts.shutdown,
            streams: Mutex::new(BTreeMap::new()),
        });
        let weak = Arc::downgrade(&ctx);
        thread::Builder::new()
            .name("pup-events".into())
            .spawn(move || run_events(events, weak))?;
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
fn run_events(events: Receiver<Event>, ctx: std::sync::Weak<Ctx>) {
    while let Ok(e) = events.recv() {
        let Some(ctx) = ctx.upgrade() else { return };
        let hub = &ctx.hub;
        match e {
            Event::Output(bytes) => hub.output(&bytes),
            Event::Primitive(p) => hub.trace(&trace::primitive(p)),
            Event::ProcedureReturned => hub.trace(trace::PROCEDURE_TERMINATED),
            // Committed versions live in the engine; status and graph read them there.
            Event::GroupCommitted { .. } => {}
            Event::GroupFailed { to, members, error } => {
                crate::log!(
                    "pup: the update to version {to} could not apply {}: {error}",
                    members.join(" ")
                );
                hub.broadcast(Notice::GroupFailed { to, members, error });
            }
            Event::UpdateComplete {
                to,
                applied,
                not_applied,
                reasons,
            } => hub.broadcast(Notice::UpdateComplete {
                to,
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
}

/// Starts a thread for a new connection, or refuses it when full.
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
    let id = ctx.next_id.fetch_add(1, Ordering::SeqCst);
    if let Ok(s) = conn.stream().try_clone() {
        lock(&ctx.streams).insert(id, s);
    }
    let slot = Slot {
        ctx: ctx.clone(),
        id,
    };
    // If the thread cannot start, the closure (and the slot in it) is
    // dropped, which gives the slot back.
    let _ = thread::Builder::new()
        .name(format!("pup-conn-{id}"))
        .spawn(move || {
            let slot = slot;
            connection(&slot.ctx, conn, peer, id);
        });
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
fn connection(ctx: &Arc<Ctx>, mut conn: Connection, peer: SocketAddr, id: u64) {
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
    if let Err(e) = auth::server_authenticate(&mut conn, &ctx.cookie) {
        crate::log!("pup: refused a ush from {peer}: {e}");
        return;
    }
    // An authenticated ush may stay quiet for as long as it likes; frames
    // still have to arrive whole in bounded time.
    let limits = Limits {
        max_frame: MAX_FRAME,
        idle_timeout: None,
        frame_timeout: Some(Duration::from_secs(60)),
        write_timeout: Some(Duration::from_secs(30)),
    };
    if conn.set_limits(limits).is_err() {
        return;
    }
    let (Ok(write_half), Ok(cut)) = (conn.stream().try_clone(), conn.stream().try_clone()) else {
        return;
    };
    let (tx, rx) = mpsc::sync_channel::<ServerMsg>(QUEUE);
    let session = Arc::new(Session {
        id,
        tx,
        output: AtomicBool::new(false),
        debug: AtomicBool::new(false),
        held: Mutex::new(None),
        stream: cut,
    });
    let writer = match thread::Builder::new()
        .name(format!("pup-write-{id}"))
        .spawn(move || writer(write_half, rx))
    {
        Ok(w) => w,
        Err(_) => return,
    };
    lock(&ctx.hub.sessions).insert(id, session.clone());

    loop {
        let req = match conn.read_frame::<Request>() {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(e) => {
                if e.deserves_reply() {
                    session.reply(Response::Error(format!("bad request: {e}")));
                }
                // The stream is no longer at a frame boundary, or the peer
                // is gone: close rather than guess.
                break;
            }
        };
        let bye = matches!(req, Request::Bye);
        if !handle(ctx, &session, &conn, req) {
            break;
        }
        if bye {
            break;
        }
    }

    // The writer ends once every sender is gone: ours, and any the event
    // thread holds for a moment.
    lock(&ctx.hub.sessions).remove(&id);
    drop(session);
    let _ = writer.join();
    conn.close();
}

/// Writes queued messages until the queue closes or the peer fails.
fn writer(mut stream: TcpStream, rx: Receiver<ServerMsg>) {
    while let Ok(msg) = rx.recv() {
        if frame::write_frame(&mut stream, &msg).is_err() {
            // Wake the reader too: this connection is over.
            let _ = stream.shutdown(NetShutdown::Both);
            return;
        }
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
            session.output.store(on, Ordering::SeqCst);
            Response::Ok
        }
        Request::Debug { on } => {
            session.debug.store(on, Ordering::SeqCst);
            Response::Ok
        }
        Request::Bye => Response::Ok,
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
                Request::Wait { .. }
                | Request::Output { .. }
                | Request::Debug { .. }
                | Request::Bye => unreachable!("answered above"),
            }
        }
    };
    session.reply(response);
    true
}
