//! The mapper daemon: accept loop, one thread per connection, periodic sweep.
//!
//! Every connection runs on its own thread with its own timeouts, so a slow,
//! silent or hostile client only ever holds its own thread; the number of
//! such threads is bounded by [`Config::max_connections`], and a client over
//! the bound is refused in the handshake rather than left waiting.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::frame::{Connection, HandshakeError, Limits};
use crate::proto::{self, PupEntry, Request, Response};
use crate::registry::Registry;
use wire::wake_addr;

/// The daemon's stop signal, shared with every podus daemon (see [`wire::shutdown`]).
pub use wire::Shutdown;

/// Largest request frame the mapper accepts. Requests are a name and two
/// integers, so a small bound costs nothing and limits what a hostile client
/// can make the daemon buffer.
pub const MAX_REQUEST_FRAME: usize = 64 << 10;

/// Daemon settings; [`Config::default`] is what the `pupmapper` binary uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// Frame size limit and timeouts applied to each client connection.
    pub limits: Limits,
    /// How long a client has to complete its `Hello` after connecting.
    pub handshake_timeout: Duration,
    /// Most connections served at once; more are refused.
    pub max_connections: usize,
    /// Most connections from one address at once (the mapper has no
    /// authentication: this is what keeps one flooding host from holding
    /// every slot); more from it are refused.
    pub max_per_peer: usize,
    /// How often every registration is checked for a dead pup.
    pub sweep_interval: Duration,
    /// How long a liveness probe waits for a pup's port to accept.
    pub probe_timeout: Duration,
    /// How long shutdown waits for connection threads to finish.
    pub drain_timeout: Duration,
}

impl Default for Config {
    /// 64 KiB requests, 60 s idle, 30 s per frame, 10 s handshake, 256
    /// connections, a sweep every 3 s, 500 ms probes.
    fn default() -> Config {
        Config {
            limits: Limits {
                max_frame: MAX_REQUEST_FRAME,
                ..Limits::default()
            },
            handshake_timeout: Duration::from_secs(10),
            max_connections: 256,
            max_per_peer: 64,
            sweep_interval: Duration::from_secs(3),
            probe_timeout: Duration::from_millis(500),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// Whether `peer` is on this host, i.e. may register and unregister: it
/// comes from loopback, or from the very address it reached us on (a local
/// process talking to a mapper listening on the host's own address).
fn is_local(peer: &SocketAddr, ours: Option<SocketAddr>) -> bool {
    // An IPv4 client of a dual-stack socket shows up as ::ffff:127.0.0.1.
    let ip = peer.ip().to_canonical();
    ip.is_loopback() || ours.is_some_and(|ours| ours.ip().to_canonical() == ip)
}

/// Live connections, so that shutdown can close them and wait for their threads.
#[derive(Default)]
struct Connections {
    open: Mutex<HashMap<u64, TcpStream>>,
    /// Open connections per peer address.
    peers: Mutex<HashMap<IpAddr, usize>>,
    closed: Condvar,
    next_id: AtomicU64,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves a slot for `stream` from `ip` unless `max` are open, or
    /// `per_peer` from `ip`.
    fn admit(&self, stream: &TcpStream, ip: IpAddr, max: usize, per_peer: usize) -> Option<u64> {
        let mut open = self.lock();
        if open.len() >= max {
            return None;
        }
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let mine = peers.entry(ip).or_insert(0);
        if *mine >= per_peer {
            return None;
        }
        let clone = stream.try_clone().ok()?;
        *mine += 1;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        open.insert(id, clone);
        Some(id)
    }

    fn release(&self, id: u64, ip: IpAddr) {
        {
            let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = peers.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    peers.remove(&ip);
                }
            }
        }
        self.lock().remove(&id);
        self.closed.notify_all();
    }

    /// Shuts every open connection down, then waits (bounded) for their
    /// threads to release them.
    fn drain(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut open = self.lock();
        for stream in open.values() {
            let _ = stream.shutdown(NetShutdown::Both);
        }
        while !open.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            open = self
                .closed
                .wait_timeout(open, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Serves the mapper protocol on `listener` with [`Config::default`] until
/// `shutdown` fires.
pub fn run(listener: TcpListener, shutdown: Shutdown) -> io::Result<()> {
    run_with(listener, shutdown, Config::default())
}

/// Serves the mapper protocol on `listener` with `config` until `shutdown`
/// fires; then closes every connection and returns.
///
/// Errors only if the listener's address cannot be read; failures of single
/// connections never end the daemon.
pub fn run_with(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    let local = wake_addr(listener.local_addr()?);
    shutdown.set_wake_addr(local);
    // Pups of this host listen where the mapper does (`--listen 127.0.0.2`
    // makes a second "host" on loopback), so that is where they are probed.
    let registry = Arc::new(Registry::on_host(config.probe_timeout, local.ip()));
    let connections = Arc::new(Connections::default());
    let config = Arc::new(config);

    let sweeper = {
        let (registry, shutdown, interval) =
            (registry.clone(), shutdown.clone(), config.sweep_interval);
        thread::Builder::new()
            .name("pupmapper-sweep".into())
            .spawn(move || {
                while !shutdown.wait_timeout(interval) {
                    registry.sweep();
                }
            })?
    };

    // Checked after setting the wake address: a trigger that came earlier
    // found no address to wake, so the flag is the only notice of it.
    while !shutdown.is_triggered() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning, and keep
                // serving the connections already open.
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) {
                    crate::log!("pupmapper: accept failed: {e}");
                    shutdown.wait_timeout(Duration::from_millis(100));
                }
                continue;
            }
        };
        if shutdown.is_triggered() {
            break;
        }
        spawn_connection(stream, peer, &registry, &connections, &config);
    }

    connections.drain(config.drain_timeout);
    let _ = sweeper.join();
    Ok(())
}

/// A connection's reserved slot, given back when dropped.
struct Slot<'a> {
    connections: &'a Connections,
    id: u64,
    ip: IpAddr,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.connections.release(self.id, self.ip);
    }
}

/// Admits and starts one connection, or refuses it when the daemon is full.
fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    registry: &Arc<Registry>,
    connections: &Arc<Connections>,
    config: &Arc<Config>,
) {
    let handshake_limits = Limits {
        idle_timeout: Some(config.handshake_timeout),
        frame_timeout: Some(config.handshake_timeout),
        write_timeout: Some(config.handshake_timeout),
        ..config.limits
    };
    let Ok(mut conn) = Connection::new(stream, handshake_limits) else {
        return;
    };
    let ip = peer.ip().to_canonical();
    let Some(id) = connections.admit(
        conn.stream(),
        ip,
        config.max_connections,
        config.max_per_peer,
    ) else {
        // Written from the accept thread: a few bytes into a fresh socket's
        // buffer never block.
        conn.refuse(&proto::hello(), "too many connections; try again later");
        return;
    };
    let (registry, connections, config) = (registry.clone(), connections.clone(), config.clone());
    let spawned = thread::Builder::new()
        .name(format!("pupmapper-conn-{id}"))
        .spawn({
            let connections = connections.clone();
            move || {
                // Released on drop, so that even a panicking connection
                // thread gives its slot back.
                let _slot = Slot {
                    connections: &connections,
                    id,
                    ip,
                };
                serve(conn, peer, &registry, &config);
            }
        });
    if spawned.is_err() {
        // Out of threads: the connection was moved into the failed closure
        // and is closed with it; free its slot.
        connections.release(id, ip);
    }
}

/// Handles one client: handshake, then one response per request until EOF,
/// a bad frame or a timeout.
fn serve(mut conn: Connection, peer: SocketAddr, registry: &Registry, config: &Config) {
    match conn.accept_hello(&proto::hello()) {
        Ok(Some(_)) => {}
        // A well-delimited but bad Hello (garbage, oversized) is told why.
        Err(HandshakeError::Frame(e)) if e.deserves_reply() => {
            conn.refuse(&proto::hello(), &format!("bad hello: {e}"));
            return;
        }
        // Mismatches were already refused by `accept_hello`; the rest are
        // dead or silent peers.
        Ok(None) | Err(_) => return,
    }
    if conn.set_limits(config.limits).is_err() {
        return;
    }
    let local = is_local(&peer, conn.stream().local_addr().ok());
    loop {
        let request = match conn.read_frame::<Request>() {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(e) => {
                if e.deserves_reply() {
                    let _ = conn.write_frame(&Response::Error(format!("bad request: {e}")));
                }
                // The stream is no longer at a frame boundary (or the peer is
                // gone or stalled): close rather than guess.
                conn.close();
                return;
            }
        };
        let response = handle(request, &peer, local, registry);
        if conn.write_frame(&response).is_err() {
            return;
        }
    }
}

/// Answers one request from `peer`; `local` says whether it is on this host.
fn handle(request: Request, peer: &SocketAddr, local: bool, registry: &Registry) -> Response {
    match request {
        Request::Register { name, pid, port } => {
            if !local {
                return Response::Error(format!("register refused: {peer} is not on this host"));
            }
            registry.register(PupEntry { name, pid, port })
        }
        Request::Unregister { name, pid } => {
            if !local {
                return Response::Error(format!("unregister refused: {peer} is not on this host"));
            }
            registry.unregister(&name, pid)
        }
        Request::Lookup { name } => registry.lookup(&name),
        Request::List => Response::List(registry.list()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locality() {
        let local = |p: &str| is_local(&p.parse().unwrap(), None);
        assert!(local("127.0.0.1:1"));
        assert!(local("127.1.2.3:1"));
        assert!(local("[::1]:1"));
        assert!(local("[::ffff:127.0.0.1]:1"));
        assert!(!local("192.0.2.1:1"));
        assert!(!local("[::ffff:192.0.2.1]:1"));
        // A peer that reached us on the host's own address is on this host.
        let ours = Some("192.0.2.1:7727".parse().unwrap());
        assert!(is_local(&"192.0.2.1:5000".parse().unwrap(), ours));
        assert!(!is_local(&"192.0.2.9:5000".parse().unwrap(), ours));
    }

    #[test]
    fn non_local_register_is_refused() {
        let registry = Registry::new(Duration::from_millis(100));
        let peer: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let r = handle(
            Request::Register {
                name: "pizza".into(),
                pid: std::process::id(),
                port: 1,
            },
            &peer,
            false,
            &registry,
        );
        assert!(matches!(r, Response::Error(m) if m.contains("not on this host")));
        let r = handle(
            Request::Unregister {
                name: "pizza".into(),
                pid: 1,
            },
            &peer,
            false,
            &registry,
        );
        assert!(matches!(r, Response::Error(_)));
        // Lookup is open to everyone.
        let r = handle(
            Request::Lookup {
                name: "pizza".into(),
            },
            &peer,
            false,
            &registry,
        );
        assert!(matches!(r, Response::NotFound { .. }));
    }

    #[test]
    fn wildcard_binds_are_woken_on_loopback() {
        assert_eq!(
            wake_addr("0.0.0.0:7727".parse().unwrap()),
            "127.0.0.1:7727".parse().unwrap()
        );
        assert_eq!(
            wake_addr("[::]:7727".parse().unwrap()),
            "[::1]:7727".parse().unwrap()
        );
    }
}
