//! The command interpreter: state, commands, notices, scripts.
//!
//! Invariants:
//! - The shell knows nothing of terminals: it reads command text and writes
//!   through a [`Sink`], so the REPL, scripts and unit tests all drive the
//!   same code.
//! - One connection per program name; `program NAME` only switches which
//!   one is current. A connection that breaks is dropped with a message,
//!   and the program's pup keeps its state.
//! - Notices (program output, trace lines, update news) are printed in the
//!   order they arrived, after the lines of the command whose reply they
//!   came with, between commands, and while `wait`, `expect` and `sleep`
//!   block. Program output is printed by whole lines, so it never splits a
//!   line of ush's own.
//! - Every wait is bounded or interruptible (Ctrl-C sets the interrupt flag).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use compiler::callgraph::DeltaStar;
use compiler::diff::Summary;
use compiler::ir::Module;
use pup_client::proto::{Notice, Request, Response, UpdateSpec};

use crate::format::{self, LoadHow};
use crate::link::{Connector, Link};
use crate::parse::{self, Command, GraphOut, LoadSource, SetOption, UpdateTarget};

/// Where the shell's text goes.
pub trait Sink: Send {
    /// Writes `text` (one or more whole lines, each ending in `\n`) to the
    /// shell's standard output.
    fn out(&mut self, text: &str);
    /// Writes `text` (whole lines) to the shell's error output.
    fn err(&mut self, text: &str);
}

/// Standard output and error, flushed after every write so that a person
/// (or a test reading a pipe) sees each line when it happens.
#[derive(Debug, Default)]
pub struct StdSink;

impl Sink for StdSink {
    fn out(&mut self, text: &str) {
        let mut o = std::io::stdout().lock();
        // A closed stdout (ush | head) is not worth dying for.
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
    fn err(&mut self, text: &str) {
        let mut o = std::io::stderr().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
}

/// Shell options.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Stop scripts at the first failing command.
    pub errexit: bool,
    /// Echo script commands after the prompt.
    pub echo: bool,
    /// Ask pups for their debug trace.
    pub debug: bool,
    /// Color diagnostics.
    pub color: bool,
    /// The prompt.
    pub prompt: String,
    /// Show rollout progress as a bar on the terminal (else as plain lines).
    pub progress_bar: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            errexit: true,
            echo: false,
            debug: false,
            color: false,
            prompt: "> ".into(),
            progress_bar: false,
        }
    }
}

/// Longest stretch of program output kept for `expect` (older text is dropped).
const EXPECT_KEEP: usize = 1 << 20;
/// How long a partial line of program output waits for its end before it
/// is shown anyway.
const PARTIAL_LINE_WAIT: Duration = Duration::from_secs(1);
/// How long `wait` keeps listening for a completion notice after the pup
/// said nothing is pending (the notice travels separately from the reply).
const COMPLETION_GRACE: Duration = Duration::from_secs(3);
/// How often `wait` asks the pup directly while it listens for notices.
const SAFETY_CHECK: Duration = Duration::from_secs(5);
/// Default bound of `expect`.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(60);

/// One connection to a pup, and what ush knows about its program.
struct Conn {
    link: Box<dyn Link>,
    host: String,
    output: bool,
    /// Program output after the last newline.
    partial: Vec<u8>,
    partial_since: Option<Instant>,
    /// Program output since the last `expect` matched.
    expect_buf: String,
    /// Modules loaded through this ush, for `compile_update` of later
    /// versions: without procedure bodies (the pup has them), which a large
    /// program cannot afford to keep twice.
    modules: BTreeMap<u64, Arc<Module>>,
    /// What `diff` compares of each module in `modules` (the bodies'
    /// normalized code among it).
    summaries: BTreeMap<u64, Arc<Summary>>,
    /// Versions the pup holds.
    versions: BTreeSet<u64>,
    /// Procedure names by ID (stable across versions).
    order: Vec<String>,
    /// Update targets whose completion has not been announced yet.
    pending: BTreeSet<u64>,
    /// The program ended since it was last started.
    exited: bool,
    /// Summaries of updates that ended partial or with nothing applied and
    /// that no `update` or `wait` has reported as a failure yet, by
    /// update id.
    unsuccessful: Vec<(u64, String)>,
    /// Updates whose ending an `update` or `wait` has already taken into
    /// account (their late notices only print).
    judged: BTreeSet<u64>,
}

impl Conn {
    fn learn_order(&mut self, procs: impl IntoIterator<Item = (u32, String)>) {
        for (id, name) in procs {
            let id = id as usize;
            if id < 1 << 20 {
                if self.order.len() <= id {
                    self.order.resize(id + 1, String::new());
                }
                self.order[id] = name;
            }
        }
    }
}

/// The Updating Shell's interpreter.
pub struct Shell {
    connector: Box<dyn Connector>,
    conns: BTreeMap<String, Conn>,
    current: Option<String>,
    /// Options (`set`, flags).
    pub settings: Settings,
    sink: Box<dyn Sink>,
    base_dir: PathBuf,
    names: Arc<Mutex<Vec<String>>>,
    interrupt: Arc<AtomicBool>,
    quit: bool,
    depth: usize,
    /// The current fleet and the versions compiled for it (SPEC §5.5).
    fleet: crate::fleet::FleetState,
}

/// A failed command: its message, already worded for the user.
pub type CmdResult = Result<(), String>;

/// How a line of input went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its last command succeeded.
    Ok,
    /// A command failed and errexit is off: go on.
    Failed,
    /// A command failed and errexit is on: stop the script.
    Stopped,
}

impl Shell {
    /// A shell that reaches pups through `connector` and writes to `sink`.
    /// Relative paths resolve against `base_dir` (changed while a script runs).
    pub fn new(connector: Box<dyn Connector>, sink: Box<dyn Sink>, base_dir: PathBuf) -> Shell {
        Shell {
            connector,
            conns: BTreeMap::new(),
            current: None,
            settings: Settings::default(),
            sink,
            base_dir,
            names: Arc::new(Mutex::new(Vec::new())),
            interrupt: Arc::new(AtomicBool::new(false)),
            quit: false,
            depth: 0,
            fleet: crate::fleet::FleetState::default(),
        }
    }

    /// What the fleet commands use of the shell (see [`crate::fleet`]).
    fn fleet_ctx(&mut self) -> crate::fleet::Ctx<'_> {
        crate::fleet::Ctx {
            connector: &mut *self.connector,
            sink: &mut *self.sink,
            base_dir: &self.base_dir,
            settings: &self.settings,
            interrupt: &self.interrupt,
            state: &mut self.fleet,
        }
    }

    /// The procedure names of the current program (for completion); kept
    /// up to date after every command.
    pub fn completion_names(&self) -> Arc<Mutex<Vec<String>>> {
        self.names.clone()
    }

    /// Makes `flag` the one that interrupts blocking commands (the signal
    /// thread sets it on Ctrl-C).
    pub fn set_interrupt_flag(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = flag;
    }

    /// Forgets a Ctrl-C that no command was waiting for.
    pub fn clear_interrupt(&self) {
        self.interrupt.store(false, Ordering::SeqCst);
    }

    /// Replaces the sink, returning the old one (the REPL prints notices
    /// through the line editor while it waits for input).
    pub fn swap_sink(&mut self, sink: Box<dyn Sink>) -> Box<dyn Sink> {
        std::mem::replace(&mut self.sink, sink)
    }

    /// True once `quit` ran.
    pub fn quitting(&self) -> bool {
        self.quit
    }

    fn line(&mut self, s: &str) {
        let mut t = String::with_capacity(s.len() + 1);
        t.push_str(s);
        t.push('\n');
        self.sink.out(&t);
    }

    fn lines(&mut self, v: Vec<String>) {
        let mut t = String::new();
        for l in v {
            t.push_str(&l);
            t.push('\n');
        }
        if !t.is_empty() {
            self.sink.out(&t);
        }
    }

    /// Prints an error message.
    pub fn error(&mut self, msg: &str) {
        let mut t = String::new();
        for (i, l) in msg.lines().enumerate() {
            if i == 0 {
                t.push_str("error: ");
            }
            t.push_str(l);
            t.push('\n');
        }
        self.sink.err(&t);
    }

    /// Prints `text` as is on the shell's output (help, banners).
    pub fn print(&mut self, text: &str) {
        self.sink.out(text);
    }

    /// Runs one line of input (`;`-separated commands). A failing command
    /// is reported (prefixed with `loc`, e.g. `demo.ush:7`, when not empty);
    /// with `errexit` on, the rest of the line is skipped.
    pub fn execute_at(&mut self, line: &str, loc: &str) -> Outcome {
        let cmds = match parse::split_commands(line) {
            Ok(c) => c,
            Err(e) => return self.failed(loc, &e),
        };
        let mut last = Outcome::Ok;
        for cmd in cmds {
            let r = match parse::parse(&cmd) {
                Ok(Some(c)) => self.run(c),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            self.pump();
            self.refresh_names();
            match r {
                Ok(()) => last = Outcome::Ok,
                Err(e) => {
                    last = self.failed(loc, &e);
                    if last == Outcome::Stopped {
                        return last;
                    }
                }
            }
            if self.quit {
                break;
            }
        }
        last
    }

    fn failed(&mut self, loc: &str, e: &str) -> Outcome {
        let msg = if loc.is_empty() {
            e.to_string()
        } else {
            format!("{loc}: {e}")
        };
        self.error(&msg);
        if self.settings.errexit {
            Outcome::Stopped
        } else {
            Outcome::Failed
        }
    }

    /// Runs a script's lines. Echoes commands (and the comments that explain
    /// them) when `echo` is set; reports failures as `NAME:LINE: …`; stops at
    /// the first one while `errexit` is on. True if the script ran to its
    /// end (or `quit`) and its last command succeeded.
    pub fn run_script(
        &mut self,
        name: &str,
        lines: impl IntoIterator<Item = String>,
        base: &Path,
    ) -> bool {
        let saved = std::mem::replace(&mut self.base_dir, base.to_path_buf());
        self.depth += 1;
        let mut last = Outcome::Ok;
        for (i, raw) in lines.into_iter().enumerate() {
            if self.quit {
                break;
            }
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            if self.settings.echo {
                if trimmed.starts_with('#') {
                    self.line(trimmed);
                } else {
                    let p = format!("{}{}", self.settings.prompt, trimmed);
                    self.line(&p);
                }
            }
            if trimmed.starts_with('#') {
                continue;
            }
            last = self.execute_at(&raw, &format!("{name}:{}", i + 1));
            if last == Outcome::Stopped {
                break;
            }
        }
        self.depth -= 1;
        self.base_dir = saved;
        last == Outcome::Ok
    }

    /// Ends the session: shows any unfinished program output, says goodbye
    /// to every pup, and stops what `--local` started.
    pub fn finish(&mut self) {
        self.pump();
        let names: Vec<String> = self.conns.keys().cloned().collect();
        for n in names {
            self.flush_partial(&n);
            if let Some(c) = self.conns.remove(&n) {
                c.link.close();
            }
        }
        self.connector.shutdown();
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    fn program(&self) -> Result<String, String> {
        self.current
            .clone()
            .ok_or_else(|| "no current program (choose one with `program NAME`)".to_string())
    }

    /// The current program's name, if it is connected.
    fn connected(&self) -> Result<String, String> {
        let p = self.program()?;
        if self.conns.contains_key(&p) {
            Ok(p)
        } else {
            Err(format!(
                "not connected to a pup for program {p} (use `connect [HOST]`)"
            ))
        }
    }

    fn conn(&mut self, name: &str) -> &mut Conn {
        self.conns.get_mut(name).expect("checked by connected()")
    }

    /// Sends `req` to the current program's pup; a refusal becomes an error.
    fn call(&mut self, req: Request) -> Result<Response, String> {
        let name = self.connected()?;
        let c = self.conn(&name);
        let r = c.link.call(req);
        let closed = c.link.is_closed();
        match r {
            Ok(Response::Error(e)) => Err(e),
            Ok(r) => Ok(r),
            Err(e) if closed => {
                self.drop_conn(&name, &e);
                Err(format!(
                    "lost the connection to the pup for program {name}: {e}"
                ))
            }
            Err(e) => Err(e),
        }
    }

    fn drop_conn(&mut self, name: &str, why: &str) {
        // Whatever the pup said before it went away is still worth showing.
        if let Some(c) = self.conns.get_mut(name) {
            let ns = c.link.try_notices();
            for n in ns {
                self.handle_notice(name, n);
            }
        }
        self.flush_partial(name);
        if let Some(c) = self.conns.remove(name) {
            let msg = format!(
                "Connection to pup for program {name} on host {} lost ({why}); its pup keeps its state if it still runs",
                c.host
            );
            self.sink.err(&format!("{msg}\n"));
        }
    }

    fn unexpected(r: Response) -> String {
        format!("unexpected answer from the pup: {r:?}")
    }

    fn many(&self) -> bool {
        self.conns.len() > 1
    }

    /// Prints every notice that has arrived, from every connection, and
    /// notices connections that closed.
    pub fn pump(&mut self) {
        let names: Vec<String> = self.conns.keys().cloned().collect();
        for n in names {
            let Some(c) = self.conns.get_mut(&n) else {
                continue;
            };
            let notices = c.link.try_notices();
            let closed = c.link.is_closed();
            for x in notices {
                self.handle_notice(&n, x);
            }
            if closed {
                self.drop_conn(&n, "the pup closed the connection");
                continue;
            }
            if let Some(c) = self.conns.get(&n)
                && c.partial_since
                    .is_some_and(|t| t.elapsed() >= PARTIAL_LINE_WAIT)
            {
                self.flush_partial(&n);
            }
        }
    }

    /// Waits up to `max` for notices, printing them.
    fn pump_wait(&mut self, max: Duration) {
        self.pump();
        let slice = if self.conns.len() > 1 {
            max.min(Duration::from_millis(20))
        } else {
            max.min(Duration::from_millis(100))
        };
        let key = self
            .current
            .clone()
            .filter(|c| self.conns.contains_key(c))
            .or_else(|| self.conns.keys().next().cloned());
        match key {
            Some(k) => {
                let n = self.conn(&k).link.recv_notice(slice);
                if let Some(n) = n {
                    self.handle_notice(&k, n);
                }
            }
            None => std::thread::sleep(slice),
        }
        self.pump();
    }

    fn interrupted(&self) -> bool {
        self.interrupt.swap(false, Ordering::SeqCst)
    }

    /// Waits for `d`, printing notices meanwhile.
    fn sleep(&mut self, d: Duration) -> CmdResult {
        let end = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            if self.interrupted() {
                return Err("sleep: interrupted".into());
            }
            self.pump_wait(end - now);
        }
    }

    fn handle_notice(&mut self, name: &str, n: Notice) {
        let many = self.many();
        let tag = format::tag(name, many);
        let Some(c) = self.conns.get_mut(name) else {
            return;
        };
        match n {
            Notice::Output(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                c.expect_buf.push_str(&text);
                if c.expect_buf.len() > EXPECT_KEEP {
                    let cut = c.expect_buf.len() - EXPECT_KEEP / 2;
                    let cut = (cut..c.expect_buf.len())
                        .find(|&i| c.expect_buf.is_char_boundary(i))
                        .unwrap_or(c.expect_buf.len());
                    c.expect_buf.drain(..cut);
                }
                // Whole lines go out at once (a notice may hold thousands);
                // the tail after the last newline waits for its end.
                let Some(last_nl) = bytes.iter().rposition(|&b| b == b'\n') else {
                    c.partial.extend_from_slice(&bytes);
                    c.partial_since = c.partial_since.or(Some(Instant::now()));
                    return;
                };
                let mut whole = std::mem::take(&mut c.partial);
                whole.extend_from_slice(&bytes[..=last_nl]);
                c.partial.extend_from_slice(&bytes[last_nl + 1..]);
                c.partial_since = if c.partial.is_empty() {
                    None
                } else {
                    Some(Instant::now())
                };
                let text = String::from_utf8_lossy(&whole);
                if tag.is_empty() {
                    self.sink.out(&text);
                } else {
                    let mut out = String::with_capacity(text.len() + 64);
                    for line in text.split_inclusive('\n') {
                        out.push_str(&tag);
                        out.push_str(line);
                    }
                    self.sink.out(&out);
                }
            }
            Notice::OutputSkipped { .. } => {
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                // The notice stands on its own line, after what came before.
                self.flush_partial(name);
                let lines = lines.into_iter().map(|l| format!("{tag}{l}")).collect();
                self.lines(lines);
            }
            Notice::UpdateComplete {
                id,
                to,
                ending,
                ref reasons,
                ..
            } => {
                c.pending.remove(&to);
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                // What `abort` abandoned is what the user asked for: only
                // the other ways an update falls short make `wait` fail.
                if format::ending_fails(ending, reasons) && !c.judged.contains(&id) {
                    c.unsuccessful.extend(lines.iter().map(|l| (id, l.clone())));
                }
                self.lines(lines);
            }
            Notice::Exited { .. } => {
                c.exited = true;
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                self.flush_partial(name);
                self.lines(lines);
            }
            Notice::Trace(_) | Notice::GroupFailed { .. } | Notice::Carried { .. } => {
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                let lines = lines.into_iter().map(|l| format!("{tag}{l}")).collect();
                self.lines(lines);
            }
        }
    }

    fn flush_partial(&mut self, name: &str) {
        let tag = format::tag(name, self.many());
        if let Some(c) = self.conns.get_mut(name)
            && !c.partial.is_empty()
        {
            let text = format!("{tag}{}\n", String::from_utf8_lossy(&c.partial));
            c.partial.clear();
            c.partial_since = None;
            self.sink.out(&text);
        }
    }

    fn refresh_names(&mut self) {
        let mut names: Vec<String> = match self.current.as_ref().and_then(|c| self.conns.get(c)) {
            Some(c) => {
                let mut v: Vec<String> =
                    c.order.iter().filter(|n| !n.is_empty()).cloned().collect();
                for m in c.modules.values() {
                    v.extend(m.procs.iter().map(|p| p.name.clone()));
                }
                v
            }
            None => Vec::new(),
        };
        names.sort();
        names.dedup();
        *self.names.lock().unwrap_or_else(|e| e.into_inner()) = names;
    }

    /// Runs one parsed command.
    pub fn run(&mut self, cmd: Command) -> CmdResult {
        match cmd {
            Command::Program(n) => {
                self.current = Some(n.clone());
                self.line(&format!("The current program is now {n}"));
                Ok(())
            }
            Command::Connect(host) => self.connect(host.as_deref()),
            Command::Disconnect => {
                let name = self.connected()?;
                self.pump();
                self.flush_partial(&name);
                let c = self.conns.remove(&name).expect("connected");
                let host = c.host.clone();
                c.link.close();
                self.line(&format!(
                    "Disconnected from pup for program {name} on host {host}; it keeps its state"
                ));
                Ok(())
            }
            Command::Pups(host) => {
                let (h, list) = self.connector.pups(host.as_deref())?;
                self.lines(format::pups_lines(&h, &list));
                Ok(())
            }
            Command::Load { version, source } => self.load(version, source),
            Command::Run(v) => {
                let name = self.connected()?;
                match self.call(Request::Run { version: v })? {
                    Response::Running { .. } => {
                        let c = self.conn(&name);
                        c.exited = false;
                        self.line(&format!("Program {name} is now running"));
                        Ok(())
                    }
                    r => Err(Self::unexpected(r)),
                }
            }
            Command::Update {
                target,
                within,
                atomic,
            } => self.update(target, within, atomic),
            Command::Wait { timeout } => self.wait(timeout),
            Command::Abort => {
                let name = self.connected()?;
                match self.call(Request::Abort)? {
                    Response::Aborted { groups } => {
                        self.line(&format!(
                            "Abandoned {groups} pending group{} of program {name}",
                            if groups == 1 { "" } else { "s" }
                        ));
                        Ok(())
                    }
                    r => Err(Self::unexpected(r)),
                }
            }
            Command::Status | Command::Versions | Command::Procs(_) => {
                let name = self.connected()?;
                let host = self.conn(&name).host.clone();
                match self.call(Request::Status)? {
                    Response::Status(s) => {
                        let c = self.conn(&name);
                        c.learn_order(s.bindings.iter().map(|b| (b.0, b.1.clone())));
                        c.versions.extend(s.versions.iter().map(|v| v.0));
                        let lines = match &cmd {
                            Command::Status => format::status_lines(&name, &host, &s),
                            Command::Versions => format::versions_lines(&s),
                            Command::Procs(only) => {
                                if let Some(n) =
                                    only.iter().find(|n| !s.bindings.iter().any(|b| &b.1 == *n))
                                {
                                    return Err(format!(
                                        "procs: program {name} has no procedure {n}"
                                    ));
                                }
                                let mut s = s.clone();
                                if !only.is_empty() {
                                    s.bindings.retain(|b| only.contains(&b.1));
                                }
                                format::procs_lines(&s)
                            }
                            _ => unreachable!("matched above"),
                        };
                        self.lines(lines);
                        Ok(())
                    }
                    r => Err(Self::unexpected(r)),
                }
            }
            Command::Stack => {
                let name = self.connected()?;
                match self.call(Request::Stack)? {
                    Response::Stack(frames) => {
                        self.lines(format::stack_lines(&name, &frames));
                        Ok(())
                    }
                    r => Err(Self::unexpected(r)),
                }
            }
            Command::Delta(v) => self.delta_view(v, (0, 0), None),
            Command::DeltaView { version, at, of } => self.delta_view(version, at, of),
            Command::Graph { version, out } => self.graph(version, out),
            Command::Addr(a) => {
                let name = self.connected()?;
                match self.call(Request::Addr { addr: a })? {
                    Response::Addr { decoded: Some(d) } => {
                        self.line(&format!("{a:#x} = {d}"));
                        Ok(())
                    }
                    Response::Addr { decoded: None } => Err(format!(
                        "{a:#x} is not an address in pup {name}'s address space"
                    )),
                    r => Err(Self::unexpected(r)),
                }
            }
            Command::Output(on) => {
                let name = self.connected()?;
                self.call(Request::Output { on })?;
                self.conn(&name).output = on;
                if !on {
                    self.flush_partial(&name);
                }
                self.line(&format!(
                    "Output of program {name} is {} streamed to this terminal",
                    if on { "now" } else { "no longer" }
                ));
                Ok(())
            }
            Command::Debug(on) => {
                self.settings.debug = on;
                match self.connected() {
                    Ok(name) => {
                        self.call(Request::Debug { on })?;
                        self.line(&format!(
                            "Debug trace of program {name} is now {}",
                            if on { "on" } else { "off" }
                        ));
                    }
                    Err(_) => self.line(&format!(
                        "Debug trace is now {} for pups connected from now on",
                        if on { "on" } else { "off" }
                    )),
                }
                Ok(())
            }
            Command::Stop => {
                let name = self.connected()?;
                self.call(Request::Stop)?;
                // The pup announces the end itself; show it before going on.
                let end = Instant::now() + Duration::from_secs(3);
                while Instant::now() < end && self.conns.get(&name).is_some_and(|c| !c.exited) {
                    self.pump_wait(end - Instant::now());
                }
                if self.conns.get(&name).is_some_and(|c| !c.exited) {
                    self.line(&format!("Program {name} stopped"));
                }
                Ok(())
            }
            Command::Source(f) => {
                let path = self.resolve(&f);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("source: cannot read {}: {e}", path.display()))?;
                if self.depth > 16 {
                    return Err("source: nested too deeply (a file sources itself?)".into());
                }
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                if self.run_script(&f, text.lines().map(str::to_string), &base) {
                    Ok(())
                } else {
                    Err(format!("source: {f} failed"))
                }
            }
            Command::Sleep(d) => self.sleep(d),
            Command::Quit => {
                self.quit = true;
                Ok(())
            }
            Command::Set(opt, on) => {
                match opt {
                    SetOption::Errexit => self.settings.errexit = on,
                    SetOption::Echo => self.settings.echo = on,
                }
                Ok(())
            }
            Command::Expect { pattern, timeout } => self.expect(&pattern, timeout),
            Command::Fleet(c) => crate::fleet::run(&mut self.fleet_ctx(), c),
            Command::Rollout(c) => crate::rollout::run(&mut self.fleet_ctx(), c),
            Command::Help(topic) => {
                let text = crate::commands::help(topic.as_deref())?;
                self.print(&text);
                Ok(())
            }
            Command::TestUpdate(t) => {
                let args = t.pup_args();
                crate::testupdate::run(args, &self.base_dir, &mut *self.sink, &self.interrupt)
            }
        }
    }

    fn connect(&mut self, host: Option<&str>) -> CmdResult {
        let name = self.program()?;
        if let Some(c) = self.conns.get(&name) {
            if !c.link.is_closed() {
                let h = c.host.clone();
                self.line(&format!(
                    "Already connected to pup for program {name} on host {h}"
                ));
                return Ok(());
            }
            self.drop_conn(&name, "the pup closed the connection");
        }
        let debug = self.settings.debug;
        let connected = self.connector.connect(&name, host, debug)?;
        let mut link = connected.link;
        let info = match link.call(Request::Info)? {
            Response::Info(i) => i,
            Response::Error(e) => return Err(e),
            r => return Err(Self::unexpected(r)),
        };
        let mut conn = Conn {
            link,
            host: info.host.clone(),
            output: false,
            partial: Vec::new(),
            partial_since: None,
            expect_buf: String::new(),
            modules: BTreeMap::new(),
            summaries: BTreeMap::new(),
            versions: info.versions.iter().copied().collect(),
            order: Vec::new(),
            pending: BTreeSet::new(),
            exited: false,
            unsuccessful: Vec::new(),
            judged: BTreeSet::new(),
        };
        if connected.started {
            self.line(&format!(
                "Started a pup for program {name} on this host (ush --local)"
            ));
        }
        self.lines(format::connect_lines(&info));
        if !info.fresh {
            // What the pup holds: procedure IDs (so lists come out in the
            // program's order) and pending updates (so `wait` knows to
            // expect their completion).
            if let Ok(Response::Status(s)) = conn.link.call(Request::Status) {
                conn.learn_order(s.bindings.iter().map(|b| (b.0, b.1.clone())));
                conn.pending.extend(s.pending.iter().map(|p| p.1));
            }
        }
        if connected.local {
            conn.link.call(Request::Output { on: true })?;
            conn.output = true;
        }
        if debug {
            conn.link.call(Request::Debug { on: true })?;
        }
        self.conns.insert(name, conn);
        Ok(())
    }

    fn load(&mut self, version: u64, source: LoadSource) -> CmdResult {
        let name = self.connected()?;
        let old = self.old_module(&name, version);
        let prev_module = old.as_ref().map(|o| o.0.clone());
        let (module, object, summary, src, how) = match source {
            LoadSource::Source(f) => {
                let path = self.resolve(&f);
                let src = std::fs::read_to_string(&path)
                    .map_err(|e| format!("load: cannot read {}: {e}", path.display()))?;
                let c = match compiler::compile_for_load(&f, &src, prev_module.as_deref()) {
                    Ok(c) => c,
                    Err(d) => {
                        let text = d.render(&f, &src, self.settings.color);
                        self.sink.err(&text);
                        return Err(format!("load: {f} does not compile; nothing was loaded"));
                    }
                };
                (
                    c.module,
                    c.object,
                    c.summary,
                    Some(src),
                    LoadHow::Compiled(f),
                )
            }
            LoadSource::Built { delta, object } => {
                let dpath = self.resolve(&delta);
                let opath = self.resolve(&object);
                let dtext = std::fs::read_to_string(&dpath)
                    .map_err(|e| format!("load: cannot read {}: {e}", dpath.display()))?;
                let dfile = compiler::object::read_delta(&dtext)
                    .map_err(|e| format!("load: {delta}: {e}"))?;
                let bytes = std::fs::read(&opath)
                    .map_err(|e| format!("load: cannot read {}: {e}", opath.display()))?;
                let mut module = compiler::object::read_object(&bytes)
                    .map_err(|e| format!("load: {object}: {e}"))?;
                dfile.check_module(&module).map_err(|e| {
                    format!("load: {delta} and {object} do not describe the same program: {e}")
                })?;
                let src = source_beside(&opath, &module);
                let summary = Summary::of_digested(&module);
                module.procs.iter_mut().for_each(|p| p.body = Vec::new());
                (module, bytes, summary, src, LoadHow::Delta(delta))
            }
        };
        // The corner the report shows, one row and column past it so the
        // rows say they go on: δ* has n² cells.
        let procs = module.procs.len();
        let shown: Vec<usize> = (0..procs.min(format::MATRIX_SHOWN + 1)).collect();
        let matrix = DeltaStar::of_module(&module).corner_string(&shown, &shown);
        let info = match self.send_load(version, object, src)? {
            Response::Loaded(info) => info,
            r => return Err(Self::unexpected(r)),
        };
        let c = self.conn(&name);
        let prev = c.versions.range(..version).next_back().copied();
        // What an update from the previous version will carry, when this
        // ush loaded that version too.
        let statics = match (prev, &old) {
            (Some(p), Some((m, s))) if c.modules.contains_key(&p) => {
                format::statics_lines(p, m, s, &module, &summary)
            }
            _ => Vec::new(),
        };
        c.versions.insert(version);
        c.modules.insert(version, Arc::new(module));
        c.summaries.insert(version, Arc::new(summary));
        c.learn_order(info.procs.iter().map(|p| (p.id, p.name.clone())));
        let host = c.host.clone();
        let mut lines = format::load_lines(&name, &host, &how, procs, &matrix, &info, prev);
        // Before the closing "... loaded successfully" lines.
        let tail = lines
            .iter()
            .rev()
            .take_while(|l| l.starts_with("Version "))
            .count();
        let at = lines.len() - tail;
        lines.splice(at..at, statics);
        self.lines(lines);
        Ok(())
    }

    /// Sends a load: in one frame when it is small, else in chunks
    /// (`LoadBegin`, `LoadChunk`s, `LoadEnd`), each well under the frame
    /// limit; a pup that cannot take it says so before the bytes are sent.
    fn send_load(
        &mut self,
        version: u64,
        object: Vec<u8>,
        source: Option<String>,
    ) -> Result<Response, String> {
        use pup_client::proto::LOAD_CHUNK;
        let total = object.len() + source.as_ref().map_or(0, String::len);
        if total <= LOAD_CHUNK {
            return self.call(Request::Load {
                version,
                object,
                source,
            });
        }
        self.call(Request::LoadBegin {
            version,
            object_len: object.len() as u64,
            source_len: source.as_ref().map(|s| s.len() as u64),
        })
        .map_err(|e| format!("load: {e}"))?;
        let src = source.map(String::into_bytes).unwrap_or_default();
        for part in [object, src] {
            for chunk in part.chunks(LOAD_CHUNK) {
                self.call(Request::LoadChunk {
                    data: chunk.to_vec(),
                })?;
            }
        }
        self.call(Request::LoadEnd)
    }

    /// `delta`: a block of δ* from the pup, or one procedure's row.
    fn delta_view(
        &mut self,
        version: Option<u64>,
        at: (u32, u32),
        of: Option<String>,
    ) -> CmdResult {
        let name = self.connected()?;
        let spec = pup_client::proto::DeltaViewSpec {
            version,
            row: at.0,
            col: at.1,
            size: crate::delta_view::SHOWN,
            of: of.clone(),
        };
        match self.call(Request::DeltaView(spec))? {
            Response::DeltaView(v) => {
                self.lines(crate::delta_view::lines(&name, &v, of.as_deref()));
                Ok(())
            }
            r => Err(Self::unexpected(r)),
        }
    }

    /// The module a new version `version` is checked against (its iprocs'
    /// old signatures, its mprocs' `old.NAME`): per procedure, the version it
    /// will be running when `version` applies (its committed version, or
    /// the target of a pending update that moves it; SPEC §4.2.1), taken
    /// from the modules this ush loaded; the newest older module otherwise.
    fn old_module(&mut self, name: &str, version: u64) -> Option<(Arc<Module>, Arc<Summary>)> {
        let c = self.conn(name);
        let (&newest, newest_m) = c.modules.range(..version).next_back()?;
        let newest_m = newest_m.clone();
        let newest_s = c.summaries.get(&newest)?.clone();
        if c.modules.range(..version).count() < 2 {
            return Some((newest_m, newest_s));
        }
        let Ok(Response::Status(s)) = self.call(Request::Status) else {
            return Some((newest_m, newest_s));
        };
        let c = self.conn(name);
        let mut composite = (*newest_m).clone();
        let mut composite_s = (*newest_s).clone();
        let mut changed = false;
        for p in composite.procs.iter_mut() {
            let Some(&(_, _, committed, _)) = s.bindings.iter().find(|b| b.1 == p.name) else {
                continue;
            };
            let pending = s
                .pending
                .iter()
                .filter(|(_, _, gs)| gs.iter().any(|g| g.contains(&p.name)))
                .map(|(_, to, _)| *to);
            let ov = pending.fold(committed, u64::max);
            if ov == 0 || ov == newest {
                continue;
            }
            if let Some(q) = c
                .modules
                .get(&ov)
                .and_then(|m| m.procs.iter().find(|q| q.name == p.name))
            {
                *p = q.clone();
                if let Some(os) = c.summaries.get(&ov) {
                    composite_s.replace_proc_from(&p.name, os);
                }
                changed = true;
            }
        }
        Some(if changed {
            (Arc::new(composite), Arc::new(composite_s))
        } else {
            (newest_m, newest_s)
        })
    }

    fn update(
        &mut self,
        target: Option<UpdateTarget>,
        within: Option<Duration>,
        atomic: bool,
    ) -> CmdResult {
        let name = self.connected()?;
        let mut spec = UpdateSpec::default();
        match target {
            Some(UpdateTarget::Version(v)) => spec.to = Some(v),
            Some(UpdateTarget::Changes(f)) if f.ends_with(".uc") => {
                return Err(format!(
                    "update: {f} is a UC source file, not a changes file; nothing was updated \
                     (load it first: `load V {f}`, then `update V`)"
                ));
            }
            Some(UpdateTarget::Changes(f)) => {
                let path = self.resolve(&f);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("update: cannot read {}: {e}", path.display()))?;
                let cf = match compiler::changes::parse(&f, &text) {
                    Ok(cf) => cf,
                    Err(d) => {
                        let rendered = d.render(&f, &text, self.settings.color);
                        self.sink.err(&rendered);
                        return Err(format!(
                            "update: {f} is not a valid changes file; nothing was updated"
                        ));
                    }
                };
                apply_changes(&mut spec, cf);
            }
            None => {}
        }
        if let Some(w) = within {
            spec.within_ms = Some(w.as_millis() as u64);
        }
        spec.atomic |= atomic;
        let info = match self.call(Request::Update(spec))? {
            Response::UpdateBegun(info) => info,
            r => return Err(Self::unexpected(r)),
        };
        let c = self.conn(&name);
        // The pup announces completion (even an immediate one) with a
        // notice; `wait` listens for it.
        c.pending.insert(info.to);
        let lines = format::update_lines(&name, &info, &c.order);
        self.lines(lines);
        if info.complete {
            // Nothing is left pending: the completion notice is on its way.
            // Print its summary here, as `wait` would, and fail as `wait`
            // would when the update applied only part or nothing.
            let deadline = Instant::now() + COMPLETION_GRACE;
            let to = info.to;
            while self
                .conns
                .get(&name)
                .is_some_and(|c| c.pending.contains(&to))
                && Instant::now() < deadline
            {
                self.pump_wait(deadline - Instant::now());
            }
            return self.take_unsuccessful(&name, "update");
        }
        Ok(())
    }

    /// Fails (once) for every update that ended partial or with nothing
    /// applied since the last `update` or `wait` said so.
    fn take_unsuccessful(&mut self, name: &str, cmd: &str) -> CmdResult {
        let Some(c) = self.conns.get_mut(name) else {
            return Ok(());
        };
        if c.unsuccessful.is_empty() {
            return Ok(());
        }
        let lines = std::mem::take(&mut c.unsuccessful);
        c.judged.extend(lines.iter().map(|(id, _)| *id));
        let what: Vec<String> = lines
            .iter()
            .map(|(_, l)| {
                l.trim_matches(|ch: char| ch == '*' || ch == ' ')
                    .to_string()
            })
            .collect();
        Err(format!("{cmd}: {}", what.join("; ")))
    }

    /// `wait`: until no update is pending.
    ///
    /// Updates this ush knows of (begun here, or pending when it connected)
    /// end with a completion notice, so those are awaited by listening —
    /// which keeps program output flowing and sends the pup nothing (each
    /// request would add an `INTERRUPT!` line to its trace). A rare
    /// `Wait { 0 }` guards against a notice that never comes. With none
    /// known, the pup is asked directly, one second at a time so that
    /// Ctrl-C can end the wait.
    fn wait(&mut self, timeout: Option<Duration>) -> CmdResult {
        let name = self.connected()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let timed_out = |what: &str| {
            format!(
                "wait: {what} of program {name} is still pending after {:?}",
                timeout.unwrap_or_default()
            )
        };
        let known = |sh: &Shell| sh.conns.get(&name).is_some_and(|c| !c.pending.is_empty());
        if known(self) {
            let mut last_check = Instant::now();
            while known(self) {
                if self.interrupted() {
                    return Err("wait: interrupted".into());
                }
                let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                if left == Some(Duration::ZERO) {
                    return Err(timed_out("an update"));
                }
                self.pump_wait(
                    left.unwrap_or(Duration::MAX)
                        .min(Duration::from_millis(100)),
                );
                if known(self) && last_check.elapsed() >= SAFETY_CHECK {
                    last_check = Instant::now();
                    if let Response::Waited { done: true, .. } =
                        self.call(Request::Wait { timeout_ms: 0 })?
                    {
                        // Done, but its notice is late: give it a moment.
                        let grace = Instant::now() + COMPLETION_GRACE;
                        while known(self) && Instant::now() < grace {
                            self.pump_wait(grace - Instant::now());
                        }
                        if let Some(c) = self.conns.get_mut(&name) {
                            c.pending.clear();
                        }
                    }
                }
            }
            return self.take_unsuccessful(&name, "wait");
        }
        // The pup says how each update that ended meanwhile ended, whoever
        // began it; its completion notice may come later or not at all.
        let mut ended = Vec::new();
        loop {
            if self.interrupted() {
                return Err("wait: interrupted".into());
            }
            let slice = deadline
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::MAX)
                .min(Duration::from_secs(1));
            let done = match self.call(Request::Wait {
                timeout_ms: slice.as_millis() as u64,
            })? {
                Response::Waited { done, ended: e } => {
                    ended.extend(e);
                    done
                }
                r => return Err(Self::unexpected(r)),
            };
            if done {
                break;
            }
            self.pump();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(timed_out("an update begun elsewhere"));
            }
        }
        // Show the completion notice before the script goes on.
        self.pump_wait(Duration::from_millis(200));
        if let Some(c) = self.conns.get_mut(&name) {
            for e in &ended {
                if format::ending_fails(e.ending, &e.reasons)
                    && !c.judged.contains(&e.id)
                    && !c.unsuccessful.iter().any(|(id, _)| *id == e.id)
                {
                    c.unsuccessful
                        .push((e.id, format::ended_line(&name, e, &c.order)));
                }
                c.judged.insert(e.id);
            }
        }
        self.take_unsuccessful(&name, "wait")
    }

    fn expect(&mut self, pattern: &str, timeout: Option<Duration>) -> CmdResult {
        let name = self.connected()?;
        if !self.conn(&name).output {
            return Err(format!(
                "expect: output of program {name} is not streamed here (use `output on` first)"
            ));
        }
        let limit = timeout.unwrap_or(EXPECT_TIMEOUT);
        let end = Instant::now() + limit;
        loop {
            if let Some(c) = self.conns.get_mut(&name) {
                if let Some(pos) = c.expect_buf.find(pattern) {
                    c.expect_buf.drain(..pos + pattern.len());
                    return Ok(());
                }
                if c.exited {
                    return Err(format!(
                        "expect: program {name} ended without printing {pattern:?}"
                    ));
                }
            } else {
                return Err(format!("expect: the connection to program {name} was lost"));
            }
            let now = Instant::now();
            if now >= end {
                return Err(format!(
                    "expect: program {name} did not print {pattern:?} within {limit:?}"
                ));
            }
            if self.interrupted() {
                return Err("expect: interrupted".into());
            }
            self.pump_wait(end - now);
        }
    }

    fn graph(&mut self, version: Option<u64>, out: GraphOut) -> CmdResult {
        let dot = match self.call(Request::Graph { version })? {
            Response::Graph { dot } => dot,
            r => return Err(Self::unexpected(r)),
        };
        match out {
            GraphOut::Print => {
                self.print(&dot);
                if !dot.ends_with('\n') {
                    self.print("\n");
                }
            }
            GraphOut::Dot(f) => {
                let path = self.resolve(&f);
                std::fs::write(&path, dot)
                    .map_err(|e| format!("graph: cannot write {}: {e}", path.display()))?;
                self.line(&format!("call graph written to {f}"));
            }
            GraphOut::Svg(f) => {
                let path = self.resolve(&f);
                render_svg(&dot, &path)?;
                self.line(&format!("call graph rendered to {f}"));
            }
        }
        Ok(())
    }
}

/// Renders DOT to SVG with Graphviz's `dot`.
fn render_svg(dot: &str, path: &Path) -> CmdResult {
    use std::process::{Command as Proc, Stdio};
    let mut child = Proc::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "graph --svg needs Graphviz's `dot`, which is not installed (install graphviz, or write DOT with --dot FILE)".to_string()
            } else {
                format!("graph: cannot run dot: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("graph: writing to dot: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("graph: dot: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "graph: dot failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The source of an object file, when it sits beside it and is not newer
/// (so that runtime errors can show source lines).
fn source_beside(object: &Path, module: &Module) -> Option<String> {
    let dir = object.parent()?;
    let name = Path::new(&module.file).file_name()?;
    let src = dir.join(name);
    let (s, o) = (src.metadata().ok()?, object.metadata().ok()?);
    if s.modified().ok()? <= o.modified().ok()? {
        std::fs::read_to_string(src).ok()
    } else {
        None
    }
}

/// What a changes file asks of an update, as the pup's `UpdateSpec` says it
/// (`update CHANGES` and `rollout update CHANGES` alike).
pub(crate) fn apply_changes(spec: &mut UpdateSpec, cf: compiler::changes::ChangesFile) {
    if let Some((a, b)) = cf.update {
        spec.from = Some(a);
        spec.to = Some(b);
    }
    spec.changed = cf.changed;
    spec.together = cf.together;
    spec.within_ms = cf.within.map(|d| d.as_millis() as u64);
    spec.atomic = cf.atomic;
}

#[cfg(test)]
mod tests {
    //! The interpreter against a fake pup: what it prints and when, without
    //! sockets. The real pup is exercised by the end-to-end tests.

    use super::*;
    use crate::link::Connected;
    use pup_client::proto::{
        Ending, LoadInfo, ProcRow, PupInfo, StatusInfo, UpdateEnded, UpdateInfo,
    };
    use pupmapper_client::proto::PupEntry;
    use std::collections::VecDeque;

    /// What a fake pup holds; shared with the test.
    #[derive(Default)]
    struct FakePup {
        notices: VecDeque<Notice>,
        /// Notices released when the program is updated (on the next receive).
        on_update: Vec<Notice>,
        pending: bool,
        closed: bool,
        requests: Vec<String>,
        /// What a `Wait` reply says ended meanwhile.
        ended: Vec<UpdateEnded>,
    }

    type Shared = Arc<Mutex<BTreeMap<String, FakePup>>>;

    struct FakeLink {
        name: String,
        pups: Shared,
    }

    impl FakeLink {
        fn with<T>(&self, f: impl FnOnce(&mut FakePup) -> T) -> T {
            f(self.pups.lock().unwrap().get_mut(&self.name).unwrap())
        }
    }

    impl Link for FakeLink {
        fn call(&mut self, req: Request) -> Result<Response, String> {
            let name = self.name.clone();
            self.with(|p| {
                if p.closed {
                    return Err("the pup closed the connection".into());
                }
                p.requests.push(
                    format!("{req:?}")
                        .split([' ', '{', '('])
                        .next()
                        .unwrap()
                        .to_string(),
                );
                Ok(match req {
                    Request::Info => Response::Info(PupInfo {
                        name,
                        host: "h".into(),
                        pid: 1,
                        fresh: true,
                        versions: vec![],
                        program: "not started".into(),
                        pending: 0,
                        region_base: 0,
                    }),
                    Request::Load {
                        version, object, ..
                    } => {
                        let m = compiler::object::read_object(&object).unwrap();
                        Response::Loaded(LoadInfo {
                            version,
                            slot: version as u32 - 1,
                            procs: m
                                .procs
                                .iter()
                                .enumerate()
                                .map(|(i, p)| ProcRow {
                                    id: i as u32,
                                    name: p.name.clone(),
                                    addr: 0,
                                    size: 16,
                                })
                                .collect(),
                            delta_matrix: String::new(),
                            code_bytes: 100,
                            space_base: 0x1000,
                            iprocs: vec![],
                            old_versions: vec![],
                            mprocs: vec![],
                            table: 0,
                            load_ns: 0,
                        })
                    }
                    Request::Run { .. } => Response::Running { version: 1 },
                    Request::Update(spec) => {
                        p.pending = true;
                        Response::UpdateBegun(UpdateInfo {
                            from: 1,
                            to: spec.to.unwrap_or(2),
                            changed: vec!["work".into()],
                            reasons: vec![],
                            backtrace: vec!["work".into(), "main".into()],
                            frames: vec![],
                            warped_unchanged: vec!["main".into()],
                            committed: vec![],
                            pending: vec![vec!["work".into()]],
                            failed: vec![],
                            notes: vec![],
                            return_interrupts: true,
                            complete: false,
                        })
                    }
                    Request::Wait { .. } => Response::Waited {
                        done: !p.pending,
                        ended: p.ended.clone(),
                    },
                    Request::Status => Response::Status(StatusInfo {
                        versions: vec![],
                        retired: vec![],
                        hrvn: 1,
                        program: "running version 1".into(),
                        pending: vec![],
                        bindings: vec![],
                        return_interrupts: false,
                    }),
                    Request::Stop => {
                        p.notices.push_back(Notice::Exited {
                            code: 0,
                            message: "stopped".into(),
                        });
                        Response::Ok
                    }
                    _ => Response::Ok,
                })
            })
        }
        fn try_notices(&mut self) -> Vec<Notice> {
            self.with(|p| p.notices.drain(..).collect())
        }
        fn recv_notice(&mut self, timeout: Duration) -> Option<Notice> {
            let n = self.with(|p| {
                if p.pending && !p.on_update.is_empty() {
                    p.pending = false;
                    let released: Vec<Notice> = p.on_update.drain(..).collect();
                    p.notices.extend(released);
                }
                p.notices.pop_front()
            });
            if n.is_none() {
                std::thread::sleep(timeout.min(Duration::from_millis(5)));
            }
            n
        }
        fn is_closed(&self) -> bool {
            self.with(|p| p.closed)
        }
        fn close(self: Box<Self>) {}
    }

    struct FakeConnector(Shared);

    impl Connector for FakeConnector {
        fn connect(
            &mut self,
            program: &str,
            _: Option<&str>,
            _: bool,
        ) -> Result<Connected, String> {
            let mut pups = self.0.lock().unwrap();
            if !pups.contains_key(program) {
                return Err(format!("no pup for program {program} on host h"));
            }
            pups.get_mut(program).unwrap().closed = false;
            Ok(Connected {
                link: Box::new(FakeLink {
                    name: program.into(),
                    pups: self.0.clone(),
                }),
                started: false,
                local: false,
            })
        }
        fn pups(&mut self, _: Option<&str>) -> Result<(String, Vec<PupEntry>), String> {
            Ok(("h".into(), vec![]))
        }
    }

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<String>>, Arc<Mutex<String>>);

    impl Sink for Capture {
        fn out(&mut self, text: &str) {
            self.0.lock().unwrap().push_str(text);
        }
        fn err(&mut self, text: &str) {
            self.1.lock().unwrap().push_str(text);
        }
    }

    impl Capture {
        fn out(&self) -> String {
            self.0.lock().unwrap().clone()
        }
        fn err(&self) -> String {
            self.1.lock().unwrap().clone()
        }
    }

    fn shell(pups: &[&str]) -> (Shell, Shared, Capture) {
        let shared: Shared = Arc::new(Mutex::new(
            pups.iter()
                .map(|p| (p.to_string(), FakePup::default()))
                .collect(),
        ));
        let cap = Capture::default();
        let sh = Shell::new(
            Box::new(FakeConnector(shared.clone())),
            Box::new(cap.clone()),
            std::env::temp_dir(),
        );
        (sh, shared, cap)
    }

    fn push(shared: &Shared, pup: &str, n: Notice) {
        shared
            .lock()
            .unwrap()
            .get_mut(pup)
            .unwrap()
            .notices
            .push_back(n);
    }

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn scripts_stop_at_the_first_failure_unless_errexit_is_off() {
        let (mut sh, _, cap) = shell(&[]);
        let script = "program a\nstatus\nprogram b\n";
        assert!(!sh.run_script("t.ush", lines(script), Path::new(".")));
        assert!(!cap.out().contains("now b"), "{}", cap.out());
        assert_eq!(
            cap.err(),
            "error: t.ush:2: not connected to a pup for program a (use `connect [HOST]`)\n"
        );
        let (mut sh, _, cap) = shell(&[]);
        sh.settings.echo = true;
        let script = format!("set errexit off\n# note\n{script}");
        // The last command succeeded, so the script did.
        assert!(sh.run_script("t.ush", lines(&script), Path::new(".")));
        assert!(
            cap.out()
                .contains("> program b\nThe current program is now b\n")
        );
        assert!(cap.out().contains("# note\n"));
        assert!(cap.err().contains("t.ush:4: not connected"));
    }

    #[test]
    fn one_line_stops_at_its_first_failure_with_errexit() {
        let (mut sh, _, cap) = shell(&[]);
        assert_eq!(
            sh.execute_at("program a; connect; program b", ""),
            Outcome::Stopped
        );
        assert!(
            cap.err().contains("no pup for program a on host h"),
            "{}",
            cap.err()
        );
        assert!(!cap.out().contains("now b"));
    }

    #[test]
    fn program_output_comes_by_whole_lines_and_expect_sees_it() {
        let (mut sh, shared, cap) = shell(&["x"]);
        assert_eq!(
            sh.execute_at("program x; connect; output on", ""),
            Outcome::Ok
        );
        push(
            &shared,
            "x",
            Notice::Output(b"oven pre-heated to 400 degrees ".to_vec()),
        );
        push(
            &shared,
            "x",
            Notice::Output(b"Fahrenheit for pizza 2\npizza 2 con".to_vec()),
        );
        assert_eq!(
            sh.execute_at("expect \"Fahrenheit for pizza 2\"", ""),
            Outcome::Ok
        );
        let out = cap.out();
        assert!(
            out.ends_with("oven pre-heated to 400 degrees Fahrenheit for pizza 2\n"),
            "{out}"
        );
        // The half line waits for its end, and a later expect finds text
        // only after the last match.
        push(
            &shared,
            "x",
            Notice::Output(b"tains 0.75 lb dough\n".to_vec()),
        );
        assert_eq!(
            sh.execute_at("expect \"pizza 2 contains\"", ""),
            Outcome::Ok
        );
        assert!(
            cap.out()
                .ends_with("for pizza 2\npizza 2 contains 0.75 lb dough\n")
        );
        assert_eq!(
            sh.execute_at("expect \"pizza 2\" --timeout 50ms", ""),
            Outcome::Stopped
        );
        assert!(
            cap.err().contains("did not print \"pizza 2\" within 50ms"),
            "{}",
            cap.err()
        );
    }

    #[test]
    fn expect_needs_streaming_and_fails_when_the_program_ends() {
        let (mut sh, shared, cap) = shell(&["x"]);
        sh.execute_at("program x; connect", "");
        assert_eq!(sh.execute_at("expect done", ""), Outcome::Stopped);
        assert!(cap.err().contains("use `output on` first"));
        sh.execute_at("output on", "");
        push(
            &shared,
            "x",
            Notice::Exited {
                code: 3,
                message: "exit(3)".into(),
            },
        );
        assert_eq!(sh.execute_at("expect done", ""), Outcome::Stopped);
        assert!(
            cap.out()
                .contains("Program x ended (exit code 3): exit(3)\n")
        );
        assert!(
            cap.err()
                .contains("program x ended without printing \"done\"")
        );
    }

    #[test]
    fn update_then_wait_prints_the_completion_once_after_the_papers_lines() {
        let (mut sh, shared, cap) = shell(&["x"]);
        sh.execute_at("program x; connect; output on", "");
        shared.lock().unwrap().get_mut("x").unwrap().on_update = vec![
            Notice::Output(b"v1 done\n".to_vec()),
            Notice::UpdateComplete {
                id: 1,
                to: 2,
                ending: Ending::Complete,
                applied: vec![vec!["work".into()]],
                not_applied: vec![],
                reasons: vec![],
            },
        ];
        assert_eq!(
            sh.execute_at("update 2; wait --timeout 5s", ""),
            Outcome::Ok
        );
        let out = cap.out();
        let begun = out
            .find("Program x update initiated successfully")
            .expect(&out);
        let done = out
            .find("*** Program x updated to version 2 successfully ***")
            .expect(&out);
        assert!(begun < out.find("v1 done").unwrap() && out.find("v1 done").unwrap() < done);
        assert_eq!(out.matches("updated to version 2").count(), 1);
        // The update was awaited by listening: no Wait request was sent.
        assert!(
            !shared.lock().unwrap()["x"]
                .requests
                .iter()
                .any(|r| r == "Wait")
        );
    }

    /// An update another ush began ends while this one waits; the pup's
    /// reply says how it ended (no completion notice reaches this ush in
    /// time): `wait` fails for partial or nothing applied, once.
    #[test]
    fn wait_learns_from_the_pup_how_an_update_begun_elsewhere_ended() {
        let (mut sh, shared, cap) = shell(&["x"]);
        sh.execute_at("program x; connect", "");
        let ended = |id, ending, reason: &str| UpdateEnded {
            id,
            to: 2,
            ending,
            applied: vec![],
            not_applied: vec![vec!["work".into()]],
            reasons: vec![reason.into()],
        };
        shared.lock().unwrap().get_mut("x").unwrap().ended = vec![ended(
            7,
            Ending::NothingApplied,
            "still active when within 1s ran out",
        )];
        assert_eq!(sh.execute_at("wait --timeout 5s", ""), Outcome::Stopped);
        assert!(
            cap.err().contains(
                "wait: Program x update to version 2 applied nothing: not applied {work} (still active when within 1s ran out)"
            ),
            "{}",
            cap.err()
        );
        // Its notice, arriving late, is shown but fails nothing again.
        let late = Notice::UpdateComplete {
            id: 7,
            to: 2,
            ending: Ending::NothingApplied,
            applied: vec![],
            not_applied: vec![vec!["work".into()]],
            reasons: vec!["still active when within 1s ran out".into()],
        };
        push(&shared, "x", late);
        shared.lock().unwrap().get_mut("x").unwrap().ended = vec![];
        assert_eq!(sh.execute_at("wait --timeout 5s", ""), Outcome::Ok);
        // What `abort` abandoned was asked for: it fails nothing.
        shared.lock().unwrap().get_mut("x").unwrap().ended = vec![ended(
            8,
            Ending::NothingApplied,
            "abandoned by abort while still active",
        )];
        assert_eq!(sh.execute_at("wait --timeout 5s", ""), Outcome::Ok);
    }

    #[test]
    fn two_pups_are_told_apart() {
        let (mut sh, shared, cap) = shell(&["a", "b"]);
        sh.execute_at(
            "program a; connect; output on; program b; connect; output on",
            "",
        );
        push(&shared, "a", Notice::Output(b"from a\n".to_vec()));
        push(
            &shared,
            "b",
            Notice::Trace("pup: INTERRUPT! (pup state: 2) received command UPDATE".into()),
        );
        sh.execute_at("sleep 20ms", "");
        let out = cap.out();
        assert!(out.contains("[a] from a\n"), "{out}");
        assert!(
            out.contains("[b] pup: INTERRUPT! (pup state: 2) received command UPDATE\n"),
            "{out}"
        );
        // Stopping b leaves a connected and current after switching.
        assert_eq!(sh.execute_at("stop; program a; status", ""), Outcome::Ok);
        assert!(cap.out().contains("Program b ended (exit code 0): stopped"));
        assert!(cap.out().contains("program a on host h: running version 1"));
    }

    #[test]
    fn a_lost_connection_is_reported_and_dropped() {
        let (mut sh, shared, cap) = shell(&["x"]);
        sh.execute_at("program x; connect", "");
        shared.lock().unwrap().get_mut("x").unwrap().closed = true;
        assert_eq!(sh.execute_at("status", ""), Outcome::Stopped);
        assert!(
            cap.err()
                .contains("lost the connection to the pup for program x"),
            "{}",
            cap.err()
        );
        assert!(
            cap.err()
                .contains("Connection to pup for program x on host h lost")
        );
        // Reconnecting works, and says what it found.
        assert_eq!(sh.execute_at("connect", ""), Outcome::Ok);
        assert!(cap.out().ends_with("Pup for program x on host h is new\n"));
    }

    #[test]
    fn load_compiles_here_and_reports_diagnostics() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.uc"), "main() { work(); }\nwork() { }\n").unwrap();
        std::fs::write(dir.path().join("bad.uc"), "main() {\n  int x = ;\n}\n").unwrap();
        let (mut sh, _, cap) = shell(&["x"]);
        sh.base_dir = dir.path().to_path_buf();
        assert_eq!(
            sh.execute_at("program x; connect; load 1 ok.uc", ""),
            Outcome::Ok
        );
        let out = cap.out();
        assert!(
            out.contains("compiled ok.uc\nprogram x has 2 updatable procedures\n"),
            "{out}"
        );
        assert!(
            out.contains("delta* computed for 2 procedures in x:\n    0 1\n    0 0\n"),
            "{out}"
        );
        assert!(
            out.ends_with("Version 1 of program x loaded successfully\n"),
            "{out}"
        );
        assert_eq!(sh.execute_at("load 2 bad.uc", ""), Outcome::Stopped);
        let err = cap.err();
        assert!(err.contains("bad.uc:2:11"), "{err}");
        assert!(err.contains("error: load: bad.uc does not compile; nothing was loaded"));
        // Completion knows the loaded procedures.
        assert_eq!(*sh.completion_names().lock().unwrap(), ["main", "work"]);
    }
}
