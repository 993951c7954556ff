//! One authenticated ush: its outbox, its uploads in progress.

use std::net::{Shutdown as NetShutdown, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::proto::{Notice, Response, ServerMsg};
use crate::state::Program;

use super::outbox::Outbox;
use super::{QUEUE, lock};

/// One authenticated ush as the hub sees it.
pub(super) struct Session {
    pub(super) id: u64,
    pub(super) outbox: Arc<Outbox>,
    /// Program output is streamed to it.
    pub(super) output: AtomicBool,
    /// The debug trace is sent to it.
    pub(super) debug: AtomicBool,
    /// While a request of this session is being answered, completion
    /// notices wait here so they arrive after its reply (an update that
    /// completes at once must not be reported before it is begun).
    pub(super) held: Mutex<Option<Vec<Notice>>>,
    /// To cut the connection off when it stops reading.
    pub(super) stream: TcpStream,
    /// A load arriving in chunks (`LoadBegin` .. `LoadEnd`).
    pub(super) upload: Mutex<Option<Upload>>,
    /// Who the ush said it is (`Request::Client`), for the journal.
    pub(super) who: Mutex<crate::proto::ClientId>,
}

/// A load arriving in chunks: the object, then the source, in one buffer
/// that never grows past what `LoadBegin` declared.
pub(super) struct Upload {
    pub(super) version: u64,
    pub(super) object_len: usize,
    pub(super) source_len: Option<usize>,
    pub(super) buf: Vec<u8>,
}

impl Upload {
    pub(super) fn total(&self) -> usize {
        self.object_len + self.source_len.unwrap_or(0)
    }
}

/// `LoadBegin`: refuse in words what cannot be accepted, before any byte
/// of it is sent.
pub(super) fn load_begin(
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
pub(super) fn load_chunk(session: &Session, data: &[u8]) -> Response {
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
pub(super) fn load_end(session: &Session, program: &Program) -> Response {
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
    let who = lock(&session.who).clone();
    program.load(&who, u.version, object, source)
}

impl Session {
    /// Queues a notice that may be dropped when the ush is not keeping up.
    pub(super) fn send_lossy(&self, n: Notice) {
        let _ = self.outbox.push_msg(ServerMsg::Notice(n));
    }

    /// Queues a notice that must not be lost: a ush too far behind to take
    /// it is disconnected (it can reconnect and ask for the status).
    pub(super) fn send_or_cut(&self, n: Notice) {
        if !self.outbox.push_msg(ServerMsg::Notice(n)) {
            self.cut();
        }
    }

    /// A completion notice: held while a request is being answered.
    pub(super) fn notify(&self, n: Notice) {
        let mut held = lock(&self.held);
        match held.as_mut() {
            Some(q) => q.push(n),
            None => self.send_or_cut(n),
        }
    }

    /// Starts holding completion notices back.
    pub(super) fn hold(&self) {
        *lock(&self.held) = Some(Vec::new());
    }

    /// Sends the reply, then whatever was held back meanwhile.
    pub(super) fn reply(&self, r: Response) {
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
    pub(super) fn cut(&self) {
        crate::log!(
            "pup: a ush left {QUEUE} replies and notices unread (connection {}); closing it",
            self.id
        );
        let _ = self.stream.shutdown(NetShutdown::Both);
    }
}
