//! One connection: handshake limits, the reader loop and the dispatch of
//! each request.

use std::io::{self};
use std::net::{IpAddr, Shutdown as NetShutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::auth::{self};
use crate::frame::{self, Connection, FrameError, HandshakeError, Limits, MAX_FRAME};
use crate::mapper_link::{Peer, accept_peer};
use crate::proto::{Request, Response};
use crate::trace;

use super::outbox::{Outbox, writer};
use super::session::{Session, load_begin, load_chunk, load_end};
use super::{
    Ctx, DRAIN_TIMEOUT, HANDSHAKE_MAX_FRAME, HANDSHAKE_TIMEOUT, MAX_HANDSHAKES_PER_PEER, lock,
};

/// Starts a thread for a new connection, or refuses it when full, or when
/// its address already has [`MAX_HANDSHAKES_PER_PEER`] connections in
/// their handshake, or when handshakes hold three quarters of the slots.
pub(super) fn spawn_connection(ctx: &Arc<Ctx>, stream: TcpStream, peer: SocketAddr) {
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
pub(super) struct HandshakeClaim {
    pub(super) ctx: Arc<Ctx>,
    pub(super) ip: IpAddr,
    pub(super) held: bool,
}

impl HandshakeClaim {
    pub(super) fn take(ctx: &Arc<Ctx>, ip: IpAddr) -> Result<HandshakeClaim, &'static str> {
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

    pub(super) fn release(&mut self) {
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
pub(super) struct Slot {
    pub(super) ctx: Arc<Ctx>,
    pub(super) id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.ctx.hub.sessions).remove(&self.id);
        lock(&self.ctx.streams).remove(&self.id);
        self.ctx.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Sets the handshake's read limits to what is left of its deadline.
pub(super) fn handshake_limits(conn: &mut Connection, deadline: Instant) -> bool {
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
pub(super) fn peer_gone(stream: &TcpStream) -> bool {
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
pub(super) fn connection(
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
        who: Mutex::new(Default::default()),
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

/// Answers one request. Returns false if the connection should end without
/// a reply (its ush left during a `Wait`).
pub(super) fn handle(ctx: &Ctx, session: &Session, conn: &Connection, req: Request) -> bool {
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
        Request::Client(id) => {
            // Bounded: the journal stores it with every step.
            let cut = |s: &str| s.chars().take(256).collect::<String>();
            *lock(&session.who) = crate::proto::ClientId {
                user: cut(&id.user),
                host: cut(&id.host),
            };
            Response::Ok
        }
        req => {
            let who = lock(&session.who).clone();
            let _serial = program.serialize();
            match req {
                Request::Info => Response::Info(program.info()),
                Request::Load {
                    version,
                    object,
                    source,
                } => program.load(&who, version, &object, source.as_deref()),
                Request::Run { version } => program.run(&who, version, |addr| {
                    ctx.hub.trace(&trace::execution_begins(addr));
                }),
                Request::Update(spec) => program.update(&who, &spec),
                Request::Revert(spec) => program.revert(&who, &spec),
                Request::History => program.history(),
                Request::Abort => program.abort(),
                Request::Status => Response::Status(program.status()),
                Request::Stack => Response::Stack(program.stack()),
                Request::Delta { version } => program.delta(version),
                Request::Graph { version } => program.graph(version),
                Request::Addr { addr } => program.addr(addr),
                Request::Stop => program.stop(),
                Request::LoadEnd => load_end(session, program),
                Request::DeltaView(spec) => program.delta_view(&spec),
                Request::Interface => program.interface(),
                Request::LoadBegin { .. }
                | Request::LoadChunk { .. }
                | Request::Wait { .. }
                | Request::Output { .. }
                | Request::Debug { .. }
                | Request::Client(_)
                | Request::Bye => unreachable!("answered above"),
            }
        }
    };
    session.reply(response);
    true
}
