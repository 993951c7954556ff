//! The shutdown signal a daemon's accept loop, its helper threads and
//! whoever stops it share.
//!
//! Invariant: once [`Shutdown::trigger`] returns, every wait on the signal
//! has been woken, and an accept loop whose wake address was set gets a
//! connection that makes it look at the flag.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A shutdown signal shared between the server and whoever stops it.
///
/// Cloning shares the signal. [`Shutdown::trigger`] wakes the accept loop
/// (by connecting to the listener), the sweeper, and every connection thread.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

#[derive(Debug, Default)]
struct ShutdownInner {
    fired: Mutex<bool>,
    cv: Condvar,
    /// Where to connect to wake a blocked `accept`; set by the server
    /// through [`Shutdown::set_wake_addr`].
    wake_addr: Mutex<Option<SocketAddr>>,
}

impl Shutdown {
    /// A signal that has not fired.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Fires the signal; idempotent and callable from any thread.
    pub fn trigger(&self) {
        *self.inner.fired.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.inner.cv.notify_all();
        let wake = *self
            .inner
            .wake_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(addr) = wake {
            // The accept loop sees the flag on this connection and stops.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.inner.fired.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `timeout` for the signal; returns whether it fired.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let fired = self.inner.fired.lock().unwrap_or_else(|e| e.into_inner());
        let (fired, _) = self
            .inner
            .cv
            .wait_timeout_while(fired, timeout, |fired| !*fired)
            .unwrap_or_else(|e| e.into_inner());
        *fired
    }

    /// Makes [`Shutdown::trigger`] connect to `addr` (see [`wake_addr`]), so
    /// that an accept loop blocked on the listener there sees the signal.
    pub fn set_wake_addr(&self, addr: SocketAddr) {
        *self
            .inner
            .wake_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(addr);
    }
}

/// The address to connect to in order to reach `local` (a wildcard bind is
/// reachable on loopback).
pub fn wake_addr(local: SocketAddr) -> SocketAddr {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local.port())
}
