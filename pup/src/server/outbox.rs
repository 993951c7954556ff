//! The queue between a session and its writer thread: replies and notices
//! never dropped, output coalesced and skipped when a ush falls behind.

use std::collections::VecDeque;
use std::net::{Shutdown as NetShutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::frame::{self};
use crate::proto::{Notice, ServerMsg};

use super::{OUTPUT_BEHIND, OUTPUT_FRAME, QUEUE, lock};

/// One entry of a session's outbox.
pub(super) enum Item {
    /// A reply or a notice (boxed: output items are the many small ones).
    Msg(Box<ServerMsg>),
    /// Program output, coalesced up to [`OUTPUT_FRAME`] bytes.
    Output(Vec<u8>),
    /// Output skipped here because the ush was too far behind.
    Skipped(u64),
}

#[derive(Default)]
pub(super) struct OutboxState {
    pub(super) items: VecDeque<Item>,
    /// Program output bytes queued.
    pub(super) output_bytes: usize,
    /// Messages (not output) queued.
    pub(super) msgs: usize,
    /// No more items will come; the writer drains and ends.
    pub(super) closed: bool,
}

/// What is waiting to be written to one ush, in order: replies, notices
/// and program output. Output is bounded in bytes (the excess is counted,
/// not queued), everything else in number.
#[derive(Default)]
pub(super) struct Outbox {
    pub(super) state: Mutex<OutboxState>,
    pub(super) cv: Condvar,
    /// When the writer last finished writing a frame.
    pub(super) last_sent: Mutex<Option<Instant>>,
}

impl Outbox {
    /// Queues a reply or notice; false if [`QUEUE`] of them are unread.
    pub(super) fn push_msg(&self, m: ServerMsg) -> bool {
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
    pub(super) fn push_output(&self, streaming: &AtomicBool, bytes: &[u8]) {
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
    pub(super) fn close(&self) {
        lock(&self.state).closed = true;
        self.cv.notify_all();
    }

    /// The next frame to write, blocking until there is one; `None` once
    /// closed and drained.
    pub(super) fn next(&self) -> Option<ServerMsg> {
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
    pub(super) fn sent_within(&self, d: Duration) -> bool {
        lock(&self.last_sent).is_some_and(|t| t.elapsed() < d)
    }
}

/// Writes queued messages until the outbox closes or the peer fails.
pub(super) fn writer(mut stream: TcpStream, outbox: &Outbox) {
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
