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

mod connection;
mod hub;
mod outbox;
mod session;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{IpAddr, Shutdown as NetShutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use vm::{Event, ExitStatus, VmConfig};
use wire::{Shutdown, wake_addr};

use crate::auth::Cookie;
use crate::proto::Notice;
use crate::state::{Program, exit_message};
use crate::trace;

use connection::spawn_connection;
use hub::{Ahead, Hub, flush_stdout};

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
    /// The program's journal (`None`: off, there is no state directory).
    pub journal: Option<crate::journal::Journal>,
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
            journal: None,
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
    pub fn new(mut opts: ServerOptions) -> Result<Server, ServeError> {
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
        let journal = opts
            .journal
            .take()
            .unwrap_or_else(|| crate::journal::Journal::off("no state directory"));
        let program = Program::new(&opts.name, &opts.host, config, journal)?;
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

    /// Restores the program from its journal (`pup --restore`); see
    /// [`Program::restore`].
    pub fn restore(&self) -> Result<Option<crate::proto::RestoredInfo>, String> {
        let program = &self.ctx.program;
        let _serial = program.serialize();
        program.restore()
    }

    /// Whether the journal records.
    pub fn journal_state(&self) -> crate::proto::JournalState {
        self.ctx.program.journal().state()
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
            Event::UpdateComplete(ended) => {
                let ended = crate::state::update_ended(&ended);
                // Durable before any ush hears of it.
                ctx.program.journal_ended(&ended);
                hub.broadcast(Notice::UpdateComplete(ended))
            }
            Event::Exited(status) => {
                let message = exit_message(&status);
                ctx.program.journal().stop(&status, &message);
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
