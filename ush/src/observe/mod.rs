//! `observe [--port N]` (SPEC §5.6): a live web page of the current program
//! and the other programs this ush is connected to, served by ush itself
//! on loopback for as long as the ush lives.
//!
//! Parts and their invariants:
//! - [`state`]: what the page shows, a plain struct the shell feeds with
//!   what it already receives (notices, `status`, `stack`, `history`).
//!   Bounded in memory whatever the program prints or how long it runs.
//! - [`server`]: the HTTP side (tiny_http): the page's files, embedded in
//!   the binary; `/state` (JSON); `/events` (server-sent events, one
//!   thread per open page). Serving never blocks the shell: the shell only
//!   takes the state's lock to change it, and a page that goes away ends
//!   only its own thread.
//!
//! The pup gains no web server and ush still links no VM: every fact on
//! the page comes through the connection ush already has.

mod server;
pub(crate) mod state;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

pub(crate) use state::Observed;

/// The default port (SPEC §5.6).
pub(crate) const DEFAULT_PORT: u16 = 7780;

/// The state shared between the shell and the server threads.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    state: Mutex<Observed>,
    /// Notified after every change (the `/events` threads wait on it).
    changed: Condvar,
    /// `/events` streams open now: pages watching.
    pages: AtomicUsize,
}

impl Hub {
    /// Changes the state with `f` and wakes every open page.
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut Observed) -> T) -> T {
        let r = f(&mut self.lock());
        self.changed.notify_all();
        r
    }

    /// True while at least one page is open (the shell polls the pup for
    /// the stack only then).
    pub(crate) fn watched(&self) -> bool {
        self.pages.load(Ordering::SeqCst) > 0
    }

    fn lock(&self) -> MutexGuard<'_, Observed> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why `observe` could not start serving.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ObserveError {
    /// Something else listens on the port.
    PortBusy(u16),
    /// This ush serves already.
    AlreadyServing(String),
    /// Any other failure to listen.
    Listen(u16, String),
}

impl std::fmt::Display for ObserveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObserveError::PortBusy(p) => write!(
                f,
                "observe: port {p} on 127.0.0.1 is in use by another program; nothing was started (choose another with --port N)"
            ),
            ObserveError::AlreadyServing(url) => {
                write!(f, "observe: this ush already serves the observer at {url}")
            }
            ObserveError::Listen(p, e) => {
                write!(f, "observe: cannot listen on 127.0.0.1:{p}: {e}")
            }
        }
    }
}

/// A running observer: the hub the shell feeds and the page's address.
#[derive(Debug)]
pub(crate) struct Observer {
    /// The shared state.
    pub(crate) hub: Arc<Hub>,
    /// `http://127.0.0.1:PORT/`.
    pub(crate) url: String,
}

impl Observer {
    /// Starts serving on 127.0.0.1:`port` (0: any free port) in the
    /// background.
    pub(crate) fn start(port: u16) -> Result<Observer, ObserveError> {
        let hub = Arc::new(Hub::default());
        let port = server::start(port, hub.clone())?;
        Ok(Observer {
            hub,
            url: format!("http://127.0.0.1:{port}/"),
        })
    }
}
