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
        version: u64,
    },
    /// The program started running `main` of a version.
    Started {
        /// The version.
        version: u64,
    },
    /// An update began (the program is paused at a safepoint).
    UpdateBegan {
        /// From.
        from: u64,
        /// To.
        to: u64,
    },
    /// A dispatcher primitive ran.
    Primitive(Primitive),
    /// A return barrier fired: a frame the update was waiting on returned.
    ProcedureReturned,
    /// A group's bindings were stored.
    GroupCommitted {
        /// The update's target version.
        to: u64,
        /// Its members.
        members: Vec<String>,
        /// How long the program was paused for the commit (prepare + store).
        pause_ns: u64,
    },
    /// A group could not be committed (its mprocedure trapped or ran out of
    /// time); nothing of it is visible to the program.
    GroupFailed {
        /// The update's target version.
        to: u64,
        /// Its members.
        members: Vec<String>,
        /// What went wrong.
        error: String,
    },
    /// Statics carried over from the old version (and those reset).
    Carried {
        /// The procedure or global.
        name: String,
        /// Statics copied by name and type.
        carried: Vec<String>,
        /// Statics left at their new initial values.
        reset: Vec<String>,
    },
    /// An update has nothing left pending.
    UpdateComplete {
        /// The target version.
        to: u64,
        /// Groups applied (member lists).
        applied: Vec<Vec<String>>,
        /// Groups not applied (abandoned, failed or timed out).
        not_applied: Vec<Vec<String>>,
    },
    /// A version space was retired and its memory given back.
    Retired {
        /// The version.
        version: u64,
        /// Its slot, now free.
        slot: u32,
    },
    /// The program stopped.
    Exited(ExitStatus),
    /// Program output (also given to the output sink).
    Output(Vec<u8>),
}

/// The subscriber list.
#[derive(Default)]
pub struct Bus {
    subs: Mutex<Vec<Sender<Event>>>,
}

impl Bus {
    /// A new receiver of every later event.
    pub fn subscribe(&self) -> Receiver<Event> {
        let (tx, rx) = channel();
        self.subs.lock().unwrap().push(tx);
        rx
    }

    /// Send to everyone still listening.
    pub fn emit(&self, e: Event) {
        let mut subs = self.subs.lock().unwrap();
        if subs.is_empty() {
            return;
        }
        subs.retain(|s| s.send(e.clone()).is_ok());
    }

    /// Anyone listening?
    pub fn has_subscribers(&self) -> bool {
        !self.subs.lock().unwrap().is_empty()
    }
}
