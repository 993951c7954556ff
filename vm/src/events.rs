//! What the VM tells its observers (the pup's debug trace, ush, tests).
//!
//! Events are sent in the order things happen, from whichever thread made
//! them happen; an observer that went away is dropped silently.

use crate::runtime::ExitStatus;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

/// A primitive of the paper's update dispatcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Primitive {
    /// Snapshot the runtime stack.
    GetRts,
    /// Change one binding-table entry.
    SetSdte,
    /// Set the highest running version number.
    SetHrvn,
    /// Enable procedure-return interrupts.
    EiPop,
    /// Disable procedure-return interrupts.
    DiPop,
    /// End of one dispatch.
    Eof,
}

impl Primitive {
    /// The paper's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Primitive::GetRts => "GET RTS",
            Primitive::SetSdte => "SET SDTE",
            Primitive::SetHrvn => "SET HRVN",
            Primitive::EiPop => "EI POP",
            Primitive::DiPop => "DI POP",
            Primitive::Eof => "EOF",
        }
    }
}

/// Something that happened in the VM.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A version was loaded.
    Loaded {
        /// Its number.
        version: crate::ids::VersionNo,
    },
    /// The program started running `main` of a version.
    Started {
        /// The version.
        version: crate::ids::VersionNo,
    },
    /// An update began (the program is paused at a safepoint).
    UpdateBegan {
        /// From.
        from: crate::ids::VersionNo,
        /// To.
        to: crate::ids::VersionNo,
    },
    /// A dispatcher primitive ran.
    Primitive(Primitive),
    /// A return barrier fired: a frame the update was waiting on returned.
    ProcedureReturned,
    /// A group's bindings were stored.
    GroupCommitted {
        /// The update's target version.
        to: crate::ids::VersionNo,
        /// Its members.
        members: Vec<String>,
        /// How long the program was paused for the commit (prepare + store).
        pause_ns: u64,
    },
    /// A group could not be committed (its mprocedure trapped or ran out of
    /// time); nothing of it is visible to the program.
    GroupFailed {
        /// The update's target version.
        to: crate::ids::VersionNo,
        /// Its members.
        members: Vec<String>,
        /// What went wrong.
        error: String,
    },
    /// Statics carried over from the old version (and those reset).
    Carried {
        /// The procedure or global.
        name: String,
        /// Statics copied by name and type (and left so by the mproc).
        carried: Vec<String>,
        /// Statics the mproc set (their value after it ran differs from
        /// the carried or initial one).
        set: Vec<String>,
        /// Statics left at their new initial values.
        reset: Vec<String>,
    },
    /// An update has nothing left pending: how it ended, computed once
    /// by the engine (the same value `wait` reads back).
    UpdateComplete(crate::engine::UpdateEnded),
    /// A version space was retired and its memory given back.
    Retired {
        /// The version.
        version: crate::ids::VersionNo,
        /// Its slot, now free.
        slot: crate::ids::Slot,
    },
    /// The program stopped.
    Exited(ExitStatus),
    /// Program output (also given to the output sink).
    Output(Vec<u8>),
}

/// The subscriber list.
///
/// While the program is paused for an update, events are queued instead of
/// sent ([`Bus::defer`]): sending them (a clone and a channel send per
/// observer) is not work the program should wait for. The controller sends
/// the queue after letting the program go, holding the list's lock, so an
/// event the resumed program makes (its output, a return barrier) waits
/// for the queue and observers still see everything in the order it
/// happened.
#[derive(Default)]
pub struct Bus {
    subs: Mutex<Subs>,
}

#[derive(Default)]
struct Subs {
    list: Vec<Sender<Event>>,
    deferred: Option<Vec<Event>>,
}

impl Subs {
    /// Send to each observer (the last one gets `e` itself, not a clone);
    /// drop those that went away.
    fn send(&mut self, e: Event) {
        let n = self.list.len();
        let mut e = Some(e);
        let mut i = 0;
        self.list.retain(|s| {
            i += 1;
            let ev = if i == n { e.take() } else { e.clone() };
            ev.is_some_and(|ev| s.send(ev).is_ok())
        });
    }
}

impl Bus {
    /// A new receiver of every later event.
    pub fn subscribe(&self) -> Receiver<Event> {
        let (tx, rx) = channel();
        self.subs.lock().unwrap().list.push(tx);
        rx
    }

    /// Send to everyone still listening (or queue it, while deferring).
    pub fn emit(&self, e: Event) {
        let mut subs = self.subs.lock().unwrap();
        if subs.list.is_empty() {
            return;
        }
        match &mut subs.deferred {
            Some(q) => q.push(e),
            None => subs.send(e),
        }
    }

    /// Queue events from now on until [`Bus::flush`].
    pub(crate) fn defer(&self) {
        let mut subs = self.subs.lock().unwrap();
        if !subs.list.is_empty() && subs.deferred.is_none() {
            subs.deferred = Some(Vec::new());
        }
    }

    /// Stop queueing: `release` runs with the list locked (it lets the
    /// program go), then the queue is sent, still under the lock.
    pub(crate) fn flush(&self, release: impl FnOnce()) {
        let mut subs = self.subs.lock().unwrap();
        let queued = subs.deferred.take();
        release();
        for e in queued.into_iter().flatten() {
            subs.send(e);
        }
    }

    /// Anyone listening?
    pub fn has_subscribers(&self) -> bool {
        !self.subs.lock().unwrap().list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn loaded(v: u64) -> Event {
        Event::Loaded {
            version: crate::ids::VersionNo(v),
        }
    }

    #[test]
    fn deferred_events_reach_observers_before_anything_emitted_after_release() {
        let bus = Arc::new(Bus::default());
        let (a, b) = (bus.subscribe(), bus.subscribe());
        bus.defer();
        bus.emit(loaded(1));
        bus.emit(loaded(2));
        assert!(a.try_recv().is_err(), "queued, not sent, while deferring");
        let mut late = None;
        bus.flush(|| {
            // What the released program emits at once must queue behind.
            let bus = bus.clone();
            late = Some(std::thread::spawn(move || bus.emit(loaded(3))));
        });
        late.unwrap().join().unwrap();
        for rx in [a, b] {
            let got: Vec<Event> = rx.try_iter().collect();
            assert_eq!(got, [loaded(1), loaded(2), loaded(3)]);
        }
    }

    #[test]
    fn an_observer_that_went_away_is_dropped_and_others_still_hear() {
        let bus = Bus::default();
        let gone = bus.subscribe();
        let kept = bus.subscribe();
        drop(gone);
        bus.emit(loaded(7));
        assert_eq!(kept.try_iter().collect::<Vec<_>>(), [loaded(7)]);
        assert_eq!(bus.subs.lock().unwrap().list.len(), 1);
    }

    #[test]
    fn without_observers_nothing_is_queued() {
        let bus = Bus::default();
        bus.defer();
        bus.emit(loaded(1));
        assert!(bus.subs.lock().unwrap().deferred.is_none());
        bus.flush(|| {});
    }
}
