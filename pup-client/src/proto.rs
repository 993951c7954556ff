//! The pup's wire types: what a ush may ask and what the pup says back.
//!
//! Invariant: only these types cross the wire; they are converted from and
//! to the VM's and compiler's internal types at the edge (server and ush),
//! never serialized from the IR by accident. A module travels as `ucc build`
//! object bytes, which the pup decodes and validates itself.
//!
//! A connection is: `Hello` both ways (protocol [`PROTOCOL`], version
//! [`VERSION`]), then the challenge–response of [`crate::auth`], then
//! requests. Each [`Request`] gets exactly one [`ServerMsg::Reply`]; between
//! replies the pup may send any number of [`ServerMsg::Notice`]s (program
//! output when streaming is on, update progress, the debug trace).

use serde::{Deserialize, Serialize};

/// Protocol name in the `Hello`.
pub const PROTOCOL: &str = "podus-pup";
/// Protocol version in the `Hello`.
pub const VERSION: u32 = 5;

/// How an update ended (SPEC §4.2.1): exactly one of these. The pup says
/// which; a ush never works it out itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ending {
    /// Every group applied.
    Complete,
    /// Some groups applied, the rest abandoned.
    Partial,
    /// No group applied.
    NothingApplied,
}

/// A group an update did not apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotAppliedGroup {
    /// Its members.
    pub members: Vec<String>,
    /// Why.
    pub why: NotApplied,
}

/// Why a group was not applied; its `Display` is how every report words it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum NotApplied {
    /// A member was still active when the update's `within` (in ms) ran out.
    Within(Option<u64>),
    /// `abort` abandoned it while a member was still active.
    Abort,
    /// Preparing or committing it failed; nothing of it changed.
    Failed(String),
}

impl std::fmt::Display for NotApplied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotApplied::Within(Some(ms)) => {
                write!(f, "still active when within {} ran out", fmt_ms(*ms))
            }
            NotApplied::Within(None) => f.write_str("still active when within ran out"),
            NotApplied::Abort => f.write_str("abandoned by abort while still active"),
            NotApplied::Failed(e) => f.write_str(e),
        }
    }
}

/// A duration as a user writes it: `500ms`, `2s`, `1.5s`.
fn fmt_ms(ms: u64) -> String {
    if ms < 1000 || !ms.is_multiple_of(100) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    }
}

/// An update that ended, as [`Response::Waited`] reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateEnded {
    /// The update's id (as in [`Notice::UpdateComplete`]).
    pub id: u64,
    /// Target version.
    pub to: u64,
    /// Complete, partial or nothing applied.
    pub ending: Ending,
    /// Groups applied.
    pub applied: Vec<Vec<String>>,
    /// Groups abandoned or failed, each with why.
    pub not_applied: Vec<NotAppliedGroup>,
    /// It ended because the program did: what waited committed with
    /// nothing on the stack, no code of `to` ran, the next run starts at it.
    pub at_exit: bool,
}

/// What a ush asks of a pup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Who the pup is and what it holds (answered by [`Response::Info`]).
    Info,
    /// Load a version: `object` is `compiler::object::write_object` output;
    /// `source` (optional) lets runtime errors show line:column.
    Load {
        /// Version number (must be newer than every loaded one).
        version: u64,
        /// The module as object-file bytes.
        object: Vec<u8>,
        /// The source text, if the ush has it.
        source: Option<String>,
    },
    /// Start `main` of a version (default: the earliest version the pup still holds).
    Run {
        /// Version to run.
        version: Option<u64>,
    },
    /// Begin an update.
    Update(UpdateSpec),
    /// Block until no update is pending, at most `timeout_ms`.
    Wait {
        /// Upper bound on the wait.
        timeout_ms: u64,
    },
    /// Abandon pending groups.
    Abort,
    /// Versions, slots, HRVN, bindings, pending groups.
    Status,
    /// The runtime stack, decoded.
    Stack,
    /// δ* of a version (default: the newest).
    Delta {
        /// Version.
        version: Option<u64>,
    },
    /// The call graph with procedure states, as Graphviz DOT.
    Graph {
        /// Version (default: the newest).
        version: Option<u64>,
    },
    /// Decode a large address.
    Addr {
        /// The address.
        addr: u64,
    },
    /// Stream program output to this connection (or stop).
    Output {
        /// On or off.
        on: bool,
    },
    /// Send the debug trace to this connection too (or stop).
    Debug {
        /// On or off.
        on: bool,
    },
    /// End the running program; the pup stays.
    Stop,
    /// Close this connection (the pup keeps its state).
    Bye,
    /// Begin a load too large for one frame: `object_len` bytes of object,
    /// then `source_len` bytes of source text, follow in
    /// [`Request::LoadChunk`]s (each under the frame limit), and
    /// [`Request::LoadEnd`] loads them. Answered with `Ok`, or refused in
    /// words before anything is sent (a version that cannot load, sizes
    /// over [`MAX_LOAD_BYTES`]).
    LoadBegin {
        /// Version number.
        version: u64,
        /// Bytes of object file that follow.
        object_len: u64,
        /// Bytes of source text that follow the object, if any.
        source_len: Option<u64>,
    },
    /// The next bytes of the load begun by [`Request::LoadBegin`]; answered
    /// with `Ok`.
    LoadChunk {
        /// At most [`LOAD_CHUNK`] bytes.
        data: Vec<u8>,
    },
    /// All chunks sent: load them (answered like [`Request::Load`]).
    LoadEnd,
    /// A block of δ* (or one procedure's row), as [`Response::DeltaView`].
    DeltaView(DeltaViewSpec),
    /// What a version loaded now is checked against, as
    /// [`Response::Interface`]: any ush compiles a new version against the
    /// pup's own record of the running version, never its own memory.
    Interface,
    /// Who the ush is (its user and host), so the journal can say who did
    /// each step (SPEC §4.7); sent once after authenticating. Answered `Ok`.
    Client(ClientId),
    /// The pup's journal, newest last, as [`Response::History`].
    History,
    /// Update back to an earlier version (SPEC §4.7), answered like
    /// [`Request::Update`], or [`Response::RevertRefused`].
    Revert(RevertSpec),
}

/// Who a ush is, as the journal records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientId {
    /// The user ush runs as.
    pub user: String,
    /// The host ush runs on.
    pub host: String,
}

/// A revert as ush asks for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RevertSpec {
    /// The version to go back to (default: the version the program ran
    /// before the last update that applied something).
    pub to: Option<u64>,
    /// Go back even though a forward update ran a hand-written mproc whose
    /// values this revert cannot restore.
    pub lossy: bool,
    /// `--changes FILE`: version `to`'s program with the reverse mproc,
    /// compiled by ush against the running version (object bytes and
    /// source text), loaded as the revert's target.
    pub reverse: Option<ReverseModule>,
    /// `within` in milliseconds.
    pub within_ms: Option<u64>,
    /// `atomic`.
    pub atomic: bool,
}

/// The reverse program of `revert --changes FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReverseModule {
    /// `ucc build` object bytes.
    #[serde(with = "bytes")]
    pub object: Vec<u8>,
    /// The source text.
    pub source: Option<String>,
}

/// Why a revert did not begin; nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevertRefusal {
    /// No update has applied anything: there is no earlier version.
    NothingToRevert,
    /// The version asked for was never loaded in this pup's journal.
    NeverLoaded(u64),
    /// The program already runs that version's code.
    AlreadyAt(u64),
    /// An update is still pending (wait for it, or abort it first).
    UpdatePending,
    /// The program is not running.
    NotRunning,
    /// The journal is off, so older versions' code cannot be read back.
    JournalOff(String),
    /// A forward update since `to` ran these hand-written mprocs (each with
    /// its version and the statics it computed): the revert needs
    /// `--changes FILE` with the reverse mprocs, or `--lossy`.
    NeedsReverse {
        /// The version reverted to.
        to: u64,
        /// (version, mproc name, statics it set).
        mprocs: Vec<(u64, String, Vec<String>)>,
    },
    /// The reverse program or the journaled code did not load.
    Load(String),
}

impl std::fmt::Display for RevertRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RevertRefusal::NothingToRevert => {
                f.write_str("nothing to revert: no update has applied anything yet")
            }
            RevertRefusal::NeverLoaded(v) => write!(f, "version {v} was never loaded"),
            RevertRefusal::AlreadyAt(v) => {
                write!(f, "the program already runs version {v}'s code")
            }
            RevertRefusal::UpdatePending => f.write_str(
                "an update is still pending (wait for it, or abort it first); nothing changed",
            ),
            RevertRefusal::NotRunning => f.write_str("the program is not running (run it first)"),
            RevertRefusal::JournalOff(why) => write!(
                f,
                "the journal is off ({why}), so the code of earlier versions cannot be read back"
            ),
            RevertRefusal::NeedsReverse { to, mprocs } => {
                let list: Vec<String> = mprocs
                    .iter()
                    .map(|(v, m, set)| {
                        if set.is_empty() {
                            format!("mproc {m} (version {v})")
                        } else {
                            format!("mproc {m} (version {v}) computed {}", set.join(", "))
                        }
                    })
                    .collect();
                write!(
                    f,
                    "going back to version {to} undoes hand-written code: {}; give the reverse with `revert --changes FILE`, or `revert --lossy` to start those values afresh",
                    list.join("; ")
                )
            }
            RevertRefusal::Load(e) => f.write_str(e),
        }
    }
}

/// What a journal entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// A version was loaded.
    Load,
    /// An update (forward).
    Update,
    /// A revert (an update back to an earlier version's code).
    Revert,
    /// `main` was started.
    Run,
    /// The program ended (returned, exit, stop, runtime error).
    Stop,
    /// The pup restarted and restored the program from the journal.
    Restore,
}

/// How a journal entry turned out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EntryOutcome {
    /// Done (a load, a run, a restore).
    Done,
    /// An update still pending.
    Pending,
    /// An update that ended, with the groups it did not apply.
    Ended {
        /// Complete, partial or nothing applied.
        ending: Ending,
        /// Groups applied.
        applied: usize,
        /// Groups not applied, with why.
        not_applied: Vec<NotAppliedGroup>,
    },
    /// An update the pup did not see end: it stopped (or was killed) first.
    Interrupted,
    /// The program ended with this exit code.
    Exited(i64),
    /// The program was stopped by `stop` (or the pup's shutdown).
    Stopped,
    /// The program ended by a runtime error (the message).
    Trapped(String),
}

/// One row of `history`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// Its sequence number in the journal (order, newest last).
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What.
    pub kind: EntryKind,
    /// The ush user and host that asked (empty for the pup's own steps).
    pub who: ClientId,
    /// From version (updates, reverts).
    pub from: Option<u64>,
    /// The version loaded, run, or updated to.
    pub version: Option<u64>,
    /// A version whose code this one is again (a revert's target, a
    /// restaged version): its number as the user loaded it.
    pub code_of: Option<u64>,
    /// How it turned out.
    pub outcome: EntryOutcome,
    /// The longest pause of the program it cost, ns (updates).
    pub pause_ns: Option<u64>,
}

/// Whether the pup's journal records (SPEC §4.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JournalState {
    /// Recording in this file.
    On(String),
    /// Off, and why (a one-line reason).
    Off(String),
}

/// The program was restored from the journal when the pup started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoredInfo {
    /// When the pup restored it (ms since the epoch).
    pub at_ms: u64,
    /// The time of the last journal entry it restored to (ms since the epoch).
    pub journal_ms: u64,
    /// The version `main` started at.
    pub version: u64,
    /// The versions reloaded from the journal.
    pub versions: Vec<u64>,
}

/// Bytes of a load sent per [`Request::LoadChunk`].
pub const LOAD_CHUNK: usize = 4 << 20;
/// The most object plus source bytes a pup accepts for one load.
pub const MAX_LOAD_BYTES: u64 = 2 << 30;

/// Which part of δ* to show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeltaViewSpec {
    /// Version (default: the newest).
    pub version: Option<u64>,
    /// First row shown (procedure ID order, 0-based position).
    pub row: u32,
    /// First column shown.
    pub col: u32,
    /// Rows and columns shown (the pup caps it).
    pub size: u32,
    /// Instead of a block: δ*(this procedure) as names.
    pub of: Option<String>,
}

/// A block of δ*, or one procedure's row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeltaViewInfo {
    /// The version.
    pub version: u64,
    /// Procedures in the version.
    pub total: u32,
    /// Components of its call graph.
    pub components: u32,
    /// The rows shown: (position, name).
    pub rows: Vec<(u32, String)>,
    /// The columns shown: (position, name).
    pub cols: Vec<(u32, String)>,
    /// One line of `0 1 1` per row shown.
    pub cells: Vec<String>,
    /// For `of`: how many procedures δ*(of) holds.
    pub reach_count: u32,
    /// For `of`: the first of them by ID.
    pub reach: Vec<String>,
}

/// An update as ush asks for it (a changes file, or flags).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateSpec {
    /// Starting version (default: the highest running).
    pub from: Option<u64>,
    /// Target (default: the newest loaded).
    pub to: Option<u64>,
    /// `changed` list, if given.
    pub changed: Option<Vec<String>>,
    /// `together` lists.
    pub together: Vec<Vec<String>>,
    /// `within` in milliseconds.
    pub within_ms: Option<u64>,
    /// `atomic`.
    pub atomic: bool,
    /// `strict`: refuse an update that would reset data ([`Response::WouldReset`]).
    pub strict: bool,
}

/// A frame from the pup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerMsg {
    /// The answer to the last request.
    Reply(Response),
    /// Something that happened, unasked.
    Notice(Notice),
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Done.
    Ok,
    /// Refused or failed; nothing changed. The text is for the user.
    Error(String),
    /// Answer to [`Request::Info`].
    Info(PupInfo),
    /// Answer to [`Request::Load`].
    Loaded(LoadInfo),
    /// Answer to [`Request::Run`].
    Running {
        /// The version started.
        version: u64,
    },
    /// Answer to [`Request::Update`].
    UpdateBegun(UpdateInfo),
    /// Answer to a strict [`Request::Update`] that would start these
    /// statics or globals afresh: nothing began.
    WouldReset(Vec<ResetRow>),
    /// Answer to [`Request::Wait`].
    Waited {
        /// True if nothing is pending any more.
        done: bool,
        /// How the updates that ended while this `Wait` waited ended
        /// (whoever began them), oldest first.
        ended: Vec<UpdateEnded>,
    },
    /// Answer to [`Request::Abort`].
    Aborted {
        /// Groups abandoned.
        groups: usize,
    },
    /// Answer to [`Request::Status`].
    Status(StatusInfo),
    /// Answer to [`Request::Stack`]: frames innermost first.
    Stack(Vec<FrameRow>),
    /// Answer to [`Request::Delta`].
    Delta {
        /// The version.
        version: u64,
        /// Procedure names in ID order.
        names: Vec<String>,
        /// Rows of `0 1 1`, in ID order.
        matrix: String,
    },
    /// Answer to [`Request::Graph`].
    Graph {
        /// Graphviz DOT text.
        dot: String,
    },
    /// Answer to [`Request::Addr`]: `v2:proc:do_pizza+0x40`, or none.
    Addr {
        /// The decoded form.
        decoded: Option<String>,
    },
    /// Answer to [`Request::DeltaView`].
    DeltaView(DeltaViewInfo),
    /// Answer to [`Request::Interface`]: per procedure, the signature and
    /// statics of the version it will be running when a version loaded now
    /// applies, and the newest version's globals, as `ucc build` object
    /// bytes of a module without code (`None` before the first load).
    Interface {
        /// The newest loaded version (what a new version updates from).
        version: u64,
        /// The module as object bytes.
        #[serde(with = "bytes")]
        object: Vec<u8>,
    },
    /// Answer to [`Request::Interface`] before anything is loaded.
    NoInterface,
    /// Answer to [`Request::History`]: the journal, newest last.
    History {
        /// Whether the journal records.
        journal: JournalState,
        /// Its entries.
        rows: Vec<HistoryRow>,
    },
    /// Answer to a [`Request::Revert`] that began: an update to the next
    /// version, which holds version `to`'s code again.
    Reverted {
        /// The version whose code the program goes back to.
        to: u64,
        /// The update, as [`Response::UpdateBegun`] tells it.
        info: UpdateInfo,
        /// With `--lossy`: the statics forward mprocs computed that start
        /// afresh.
        lost: Vec<String>,
    },
    /// Answer to a [`Request::Revert`] that did not begin.
    RevertRefused(RevertRefusal),
}

/// Unasked news from the pup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Notice {
    /// Program output (when streaming is on): whole writes of the
    /// program, coalesced, in order.
    Output(#[serde(with = "bytes")] Vec<u8>),
    /// An update finished: all its groups applied, or some not (the same
    /// value a `wait` gets back).
    UpdateComplete(UpdateEnded),
    /// A group could not be committed.
    GroupFailed {
        /// Target version.
        to: u64,
        /// Its members.
        members: Vec<String>,
        /// Why.
        error: String,
    },
    /// The program ended.
    Exited {
        /// Exit code.
        code: i64,
        /// How (returned, exit(n), stopped, or the runtime error with its
        /// backtrace).
        message: String,
    },
    /// Statics moved into a new version when a procedure (or global) was
    /// committed: carried over by name and type, or left at their new
    /// initial values, as they are after the procedure's mprocedure ran.
    Carried {
        /// The procedure or global.
        name: String,
        /// Statics carried over.
        carried: Vec<String>,
        /// Statics the mprocedure set.
        set: Vec<String>,
        /// Statics reset to their new initializers.
        reset: Vec<String>,
    },
    /// A pup debug-trace line (`pup: UPDATE dispatcher received command GET RTS`).
    Trace(String),
    /// This ush fell behind the program's output by more than the pup
    /// buffers for it, and `bytes` of output were skipped here (the ush
    /// prints `[pup: N bytes of program output skipped: this ush fell
    /// behind]`). The output after it follows on, in order.
    OutputSkipped {
        /// Bytes of program output this ush did not get.
        bytes: u64,
    },
}

/// One procedure in [`StatusInfo::bindings`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcBindings {
    /// Its procedure ID.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// The version it is committed to (0: only a staged version has it).
    pub committed: u64,
    /// What a call to it reaches from each version's binding table.
    pub tables: Vec<TableBinding>,
}

/// One binding-table entry of a procedure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableBinding {
    /// The version whose table it is.
    pub table: u64,
    /// Where the entry leads, decoded (`v2:proc:work+0x0`).
    pub target: String,
}

/// A live version in [`StatusInfo::versions`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    /// Its number.
    pub version: u64,
    /// Its version-space slot.
    pub slot: u32,
    /// How many procedures it has.
    pub procs: usize,
    /// Bytes of machine code.
    pub code_bytes: u64,
}

/// A pending update in [`StatusInfo::pending`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingRow {
    /// From.
    pub from: u64,
    /// To.
    pub to: u64,
    /// Its groups still waiting.
    pub groups: Vec<Vec<String>>,
}

/// A group that failed to commit, with the error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupFailure {
    /// Its members.
    pub members: Vec<String>,
    /// Why (for the user).
    pub error: String,
}

/// Who a pup is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PupInfo {
    /// Program name.
    pub name: String,
    /// Host name.
    pub host: String,
    /// Process ID.
    pub pid: u32,
    /// True if no version was ever loaded ("Pup for program x is new").
    pub fresh: bool,
    /// Loaded version numbers.
    pub versions: Vec<u64>,
    /// Program state in words (`not started`, `running version 1`, `exited (0)`).
    pub program: String,
    /// Updates pending.
    pub pending: usize,
    /// Base of the pup's address space (the `other` field).
    pub region_base: u64,
    /// When the program was restored from the journal at start (ms since
    /// the epoch), if it was.
    pub restored_ms: Option<u64>,
}

/// What a load did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadInfo {
    /// Version.
    pub version: u64,
    /// Its slot.
    pub slot: u32,
    /// Procedures in ID order.
    pub procs: Vec<ProcRow>,
    /// δ* rows in ID order.
    pub delta_matrix: String,
    /// Bytes of procedure code.
    pub code_bytes: u64,
    /// Start of the version space.
    pub space_base: u64,
    /// Interprocedures: (name, address, bytes).
    pub iprocs: Vec<(String, u64, u32)>,
    /// Mprocedures: (name, address, bytes).
    pub mprocs: Vec<(String, u64, u32)>,
    /// Per iproc and mproc (by procedure): the version its old signature
    /// or `old.NAME` reads were checked against.
    pub old_versions: Vec<(String, u64)>,
    /// Binding table address.
    pub table: u64,
    /// Time to compile and place, ns.
    pub load_ns: u64,
}

/// One procedure of a version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcRow {
    /// Procedure ID.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Code address.
    pub addr: u64,
    /// Code bytes.
    pub size: u32,
}

/// What beginning an update found (the paper's ush lines).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateInfo {
    /// From.
    pub from: u64,
    /// To.
    pub to: u64,
    /// Changed procedures.
    pub changed: Vec<String>,
    /// Why each changed.
    pub reasons: Vec<String>,
    /// Runtime stack: procedure names innermost first.
    pub backtrace: Vec<String>,
    /// Decoded frames (`v1:proc:do_pizza+0x40`).
    pub frames: Vec<String>,
    /// Unchanged procedures flagged new.
    pub warped_unchanged: Vec<String>,
    /// Changed procedures updated at once.
    pub committed: Vec<String>,
    /// Groups left waiting.
    pub pending: Vec<Vec<String>>,
    /// Groups that failed to commit.
    pub failed: Vec<GroupFailure>,
    /// Automatic grouping notes.
    pub notes: Vec<String>,
    /// Statics and globals the update starts afresh although their old
    /// version holds a value of another type (no mproc carries it).
    pub resets: Vec<ResetRow>,
    /// Return interrupts enabled.
    pub return_interrupts: bool,
    /// Nothing left pending.
    pub complete: bool,
}

/// A static or global an update starts from its initializer because its
/// type changed and no mproc carries the old value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResetRow {
    /// `proc.static`, or a global's name.
    pub name: String,
    /// The version whose value is dropped.
    pub from: u64,
    /// Its type there, as C spells it.
    pub old: String,
    /// Its type in the target.
    pub new: String,
}

/// A stack frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameRow {
    /// Procedure name.
    pub name: String,
    /// Version of its code.
    pub version: u64,
    /// `proc`, `iproc` or `mproc`.
    pub kind: String,
    /// Decoded address (`v1:proc:main+0x2c`).
    pub decoded: String,
    /// Raw address.
    pub pc: u64,
}

/// What the pup holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// Live versions.
    pub versions: Vec<VersionRow>,
    /// Retired versions.
    pub retired: Vec<u64>,
    /// Highest running version number.
    pub hrvn: u64,
    /// Program state in words.
    pub program: String,
    /// Pending updates.
    pub pending: Vec<PendingRow>,
    /// Per procedure, its committed version and bindings.
    pub bindings: Vec<ProcBindings>,
    /// Return interrupts enabled.
    pub return_interrupts: bool,
    /// Whether the journal records.
    pub journal: JournalState,
    /// Set when the program was restored from the journal at start.
    pub restored: Option<RestoredInfo>,
}

/// A byte vector on the wire as one byte string rather than a sequence of
/// bytes: the encoding is the same (a length, then the bytes), but it is
/// copied in one piece instead of byte by byte, which is what lets program
/// output stream at hundreds of MB/s.
mod bytes {
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use serde::ser::Serializer;
    use std::fmt;

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(b) = seq.next_element()? {
                v.push(b);
            }
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Notice` looked like before output travelled as a byte string.
    #[derive(Serialize, Deserialize)]
    enum Plain {
        Output(Vec<u8>),
    }

    #[test]
    fn output_bytes_keep_their_wire_encoding_and_round_trip() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let (mut new, mut old) = (Vec::new(), Vec::new());
        wire::frame::write_frame(&mut new, &Notice::Output(bytes.clone())).unwrap();
        wire::frame::write_frame(&mut old, &Plain::Output(bytes.clone())).unwrap();
        assert_eq!(new, old, "the same bytes on the wire");
        let back: Notice = wire::frame::read_frame(&mut &new[..], 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!(back, Notice::Output(bytes));
    }
}
