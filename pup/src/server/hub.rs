//! The sessions a pup serves, and the program-output budget shared with
//! the event thread.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use crate::proto::Notice;
use crate::trace;

use super::session::Session;
use super::{PROGRAM_AHEAD, STDOUT_BATCH, lock};

/// The connected ushes, and where trace lines and program output go.
pub(super) struct Hub {
    pub(super) sessions: Mutex<BTreeMap<u64, Arc<Session>>>,
    pub(super) debug_stderr: bool,
    pub(super) quiet_output: bool,
}

impl Hub {
    pub(super) fn snapshot(&self) -> Vec<Arc<Session>> {
        lock(&self.sessions).values().cloned().collect()
    }

    /// A trace line: to stderr with `--debug`, and to every ush that asked.
    pub(super) fn trace(&self, line: &str) {
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
    pub(super) fn output(&self, bytes: &[u8], stdout: &mut Vec<u8>) {
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
    pub(super) fn broadcast(&self, n: Notice) {
        for s in self.snapshot() {
            s.notify(n.clone());
        }
    }
}

/// Writes the stdout batch (blocking, as a full pipe blocks).
pub(super) fn flush_stdout(batch: &mut Vec<u8>) {
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
pub(super) struct Ahead {
    pub(super) bytes: AtomicUsize,
    pub(super) lock: Mutex<()>,
    pub(super) cv: Condvar,
    /// The event thread has ended: nobody will drain, do not wait.
    pub(super) gone: AtomicBool,
}

impl Ahead {
    /// Called on the program's thread before its output is sent as an event.
    pub(super) fn produce(&self, n: usize) {
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
    pub(super) fn consumed(&self, n: usize) {
        let before = self.bytes.fetch_sub(n, Ordering::SeqCst);
        if before > PROGRAM_AHEAD {
            let _g = lock(&self.lock);
            self.cv.notify_all();
        }
    }

    pub(super) fn end(&self) {
        self.gone.store(true, Ordering::SeqCst);
        let _g = lock(&self.lock);
        self.cv.notify_all();
    }
}
