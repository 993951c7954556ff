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
//!
//! The shell's parts: `conn` (connections and their state), `notices`
//! (what pups send between replies), and one module per group of commands:
//! `control` (run, stop, output, debug), `load`, `update` (update, wait,
//! expect, abort), `inspect` (status, stack, delta, graph, addr) and
//! `observe` (the observer's feed).

mod conn;
mod control;
mod history;
pub(crate) use history::when;
mod inspect;
pub(crate) mod load;
mod notices;
mod observe;
#[cfg(test)]
mod tests;
mod update;

pub(crate) use update::apply_changes;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::format;
use crate::link::Connector;
use crate::parse::{self, Command, SetOption};
use conn::Conn;

/// Where the shell's text goes.
pub(crate) trait Sink: Send {
    /// Writes `text` (one or more whole lines, each ending in `\n`) to the
    /// shell's standard output.
    fn out(&mut self, text: &str);
    /// Writes `text` (whole lines) to the shell's error output.
    fn err(&mut self, text: &str);
}

/// Standard output and error, flushed after every write so that a person
/// (or a test reading a pipe) sees each line when it happens.
#[derive(Debug, Default)]
pub(crate) struct StdSink;

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
pub(crate) struct Settings {
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

/// The Updating Shell's interpreter.
pub(crate) struct Shell {
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
    /// `output on|off` as last given per program: a later `connect` keeps
    /// it (under `--local` output starts on only until the user says).
    output_choice: std::collections::HashMap<String, bool>,
    /// The observer, once `observe` started it (SPEC §5.6).
    watch: Option<observe::Watch>,
}

/// A failed command: its message, already worded for the user.
pub(crate) type CmdResult = Result<(), String>;

/// How a line of input went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
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
    pub(crate) fn new(
        connector: Box<dyn Connector>,
        sink: Box<dyn Sink>,
        base_dir: PathBuf,
    ) -> Shell {
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
            output_choice: std::collections::HashMap::new(),
            watch: None,
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
            observer: self.watch.as_ref().map(|w| w.hub()),
        }
    }

    /// The procedure names of the current program (for completion); kept
    /// up to date after every command.
    pub(crate) fn completion_names(&self) -> Arc<Mutex<Vec<String>>> {
        self.names.clone()
    }

    /// Makes `flag` the one that interrupts blocking commands (the signal
    /// thread sets it on Ctrl-C).
    pub(crate) fn set_interrupt_flag(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = flag;
    }

    /// Forgets a Ctrl-C that no command was waiting for.
    pub(crate) fn clear_interrupt(&self) {
        self.interrupt.store(false, Ordering::SeqCst);
    }

    /// Replaces the sink, returning the old one (the REPL prints notices
    /// through the line editor while it waits for input).
    pub(crate) fn swap_sink(&mut self, sink: Box<dyn Sink>) -> Box<dyn Sink> {
        std::mem::replace(&mut self.sink, sink)
    }

    /// True once `quit` ran.
    pub(crate) fn quitting(&self) -> bool {
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
    pub(crate) fn error(&mut self, msg: &str) {
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
    pub(crate) fn print(&mut self, text: &str) {
        self.sink.out(text);
    }

    /// Runs one line of input (`;`-separated commands). A failing command
    /// is reported (prefixed with `loc`, e.g. `demo.ush:7`, when not empty);
    /// with `errexit` on, the rest of the line is skipped.
    pub(crate) fn execute_at(&mut self, line: &str, loc: &str) -> Outcome {
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
            self.observe_command_done();
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
    pub(crate) fn run_script(
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
            // `quit` ends the script now, not when the next line is read
            // (a script on a pipe that stays open would hold ush).
            if last == Outcome::Stopped || self.quit {
                break;
            }
        }
        self.depth -= 1;
        self.base_dir = saved;
        last == Outcome::Ok
    }

    /// Ends the session: shows any unfinished program output, says goodbye
    /// to every pup, and stops what `--local` started.
    pub(crate) fn finish(&mut self) {
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

    /// Runs one parsed command: each group's commands are in its module.
    pub(crate) fn run(&mut self, cmd: Command) -> CmdResult {
        match cmd {
            Command::Program(n) => {
                self.current = Some(n.clone());
                self.line(&format!("The current program is now {n}"));
                Ok(())
            }
            Command::Connect(host, fresh) => self.connect(host.as_deref(), fresh),
            Command::Disconnect => self.disconnect(),
            Command::Pups(host) => {
                let (h, list) = self.connector.pups(host.as_deref())?;
                self.lines(format::pups_lines(&h, &list));
                Ok(())
            }
            Command::Load { version, source } => self.load(version, source),
            Command::Run(v) => self.run_program(v),
            Command::Update {
                target,
                within,
                atomic,
                strict,
            } => self.update(target, within, atomic, strict),
            Command::Wait { timeout } => self.wait(timeout),
            Command::Abort => self.abort(),
            Command::History { json } => self.history(json),
            Command::Revert {
                to,
                changes,
                lossy,
                within,
                atomic,
            } => self.revert(to, changes, lossy, within, atomic),
            Command::Status | Command::Versions | Command::Procs(_) => self.status(&cmd),
            Command::Stack => self.stack(),
            Command::Delta(v) => self.delta_view(v, (0, 0), None),
            Command::DeltaView { version, at, of } => self.delta_view(version, at, of),
            Command::Graph { version, out } => self.graph(version, out),
            Command::Addr(a) => self.addr(a),
            Command::Output(on) => self.output(on),
            Command::Debug(on) => self.debug(on),
            Command::Stop => self.stop(),
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
            Command::Fleet(c) => {
                let r = crate::fleet::run(&mut self.fleet_ctx(), c);
                self.observe_fleet();
                r
            }
            Command::Rollout(c) => {
                let r = crate::rollout::run(&mut self.fleet_ctx(), c);
                self.observe_fleet();
                r
            }
            Command::Help(topic) => {
                let text = crate::commands::help(topic.as_deref())?;
                self.print(&text);
                Ok(())
            }
            Command::TestUpdate(t) => {
                let args = t.pup_args();
                crate::testupdate::run(args, &self.base_dir, &mut *self.sink, &self.interrupt)
            }
            Command::Observe { port } => self.observe(port),
        }
    }
}
