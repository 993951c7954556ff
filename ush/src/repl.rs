//! The interactive shell: rustyline with history and completion, and
//! notices printed while the user is typing.
//!
//! Invariants:
//! - The shell is locked by the main thread while a command runs; a poller
//!   thread prints notices only when it can take the lock, i.e. while the
//!   editor waits for input, and then through rustyline's external printer
//!   so that the line being typed is redrawn below them.
//! - History lives in `~/.podus/ush_history` and is appended after every
//!   line, so a killed ush loses nothing already entered.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, ExternalPrinter, Helper};

use crate::shell::{Shell, Sink};

/// Commands whose arguments are file names.
const FILE_COMMANDS: &[&str] = &["load", "source", "update", "graph", "fleet", "rollout"];

/// The fixed words that can stand at argument `index` of `cmd` whose
/// earlier arguments are `before`; `None` when the argument is free (a
/// file, a procedure name, a number).
pub(crate) fn fixed_words(
    cmd: &str,
    index: usize,
    before: &[&str],
) -> Option<&'static [&'static str]> {
    const ON_OFF: &[&str] = &["on", "off"];
    Some(match (cmd, index) {
        ("rollout", 0) => &["load", "run", "stop", "status", "update"],
        ("set", 0) => &["errexit", "echo"],
        ("set", 1) => ON_OFF,
        ("output" | "debug", 0) => ON_OFF,
        ("rollout", _) if before.first() == Some(&"update") => &[
            "--strategy",
            "--soak",
            "--health",
            "--health-within",
            "--max-failures",
            "--within",
        ],
        _ => return None,
    })
}

/// Completes command names, file names (for commands that take files) and
/// the current program's procedure names.
pub(crate) struct UshHelper {
    names: Arc<Mutex<Vec<String>>>,
    files: FilenameCompleter,
}

impl UshHelper {
    /// A helper completing procedure names from `names`.
    pub(crate) fn new(names: Arc<Mutex<Vec<String>>>) -> UshHelper {
        UshHelper {
            names,
            files: FilenameCompleter::new(),
        }
    }
}

/// What the word at the cursor is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Slot<'a> {
    /// A command name (the first word of a command).
    Command,
    /// An argument of the named command.
    Arg(&'a str),
}

/// Finds the word being completed: its start and what kind of word it is.
pub(crate) fn slot(line: &str, pos: usize) -> (usize, Slot<'_>) {
    let before = &line[..pos];
    let cmd_start = before.rfind(';').map(|i| i + 1).unwrap_or(0);
    let word_start = before[cmd_start..]
        .rfind(char::is_whitespace)
        .map(|i| cmd_start + i + 1)
        .unwrap_or(cmd_start);
    let cmd = &line[cmd_start..word_start];
    match cmd.split_whitespace().next() {
        None => (word_start, Slot::Command),
        Some(c) => (word_start, Slot::Arg(c)),
    }
}

impl Completer for UshHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, slot) = slot(line, pos);
        let word = &line[start..pos];
        let pairs = |v: Vec<String>| {
            v.into_iter()
                .filter(|n| n.starts_with(word))
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: format!("{n} "),
                })
                .collect::<Vec<_>>()
        };
        if let Slot::Arg(c) = slot {
            // The words of this command before the one being completed.
            let cmd_start = line[..start].rfind(';').map_or(0, |i| i + 1);
            let before: Vec<&str> = line[cmd_start..start].split_whitespace().skip(1).collect();
            // `rollout update V`'s options complete only as options (a
            // value such as `rolling 4` is free text).
            let is_option_slot = c == "rollout" && before.len() > 1;
            if let Some(words) = fixed_words(c, before.len(), &before)
                && (!is_option_slot || word.starts_with('-'))
            {
                return Ok((start, pairs(words.iter().map(|w| w.to_string()).collect())));
            }
        }
        match slot {
            Slot::Command => Ok((
                start,
                pairs(
                    crate::commands::names()
                        .into_iter()
                        .map(String::from)
                        .collect(),
                ),
            )),
            Slot::Arg("help") => Ok((
                start,
                pairs(
                    crate::commands::names()
                        .into_iter()
                        .map(String::from)
                        .collect(),
                ),
            )),
            Slot::Arg(c) if FILE_COMMANDS.contains(&c) => self.files.complete(line, pos, ctx),
            Slot::Arg(_) => {
                let names = self.names.lock().unwrap_or_else(|e| e.into_inner()).clone();
                Ok((start, pairs(names)))
            }
        }
    }
}

impl Hinter for UshHelper {
    type Hint = String;
}

impl Highlighter for UshHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for UshHelper {}

impl Helper for UshHelper {}

/// Prints through rustyline's external printer (above the line being edited).
struct PrinterSink<P: ExternalPrinter + Send>(Arc<Mutex<P>>);

impl<P: ExternalPrinter + Send> Sink for PrinterSink<P> {
    fn out(&mut self, text: &str) {
        let t = text.strip_suffix('\n').unwrap_or(text).to_string();
        let _ = self.0.lock().unwrap_or_else(|e| e.into_inner()).print(t);
    }
    fn err(&mut self, text: &str) {
        self.out(text);
    }
}

/// `~/.podus/ush_history`, creating `~/.podus` (mode 0700) if needed.
fn history_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let dir = PathBuf::from(home).join(".podus");
    if !dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .ok()?;
    }
    Some(dir.join("ush_history"))
}

/// Runs the REPL until `quit` or end of input; returns the exit code.
pub(crate) fn run(shell: Shell) -> i32 {
    let prompt = shell.settings.prompt.clone();
    let names = shell.completion_names();
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .max_history_size(1000)
        .map(|b| b.auto_add_history(false).build())
        .unwrap_or_default();
    let mut rl: Editor<UshHelper, FileHistory> = match Editor::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("ush: cannot start the line editor: {e}");
            return 1;
        }
    };
    rl.set_helper(Some(UshHelper::new(names)));
    let history = history_path();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    let shell = Arc::new(Mutex::new(shell));
    let stop = Arc::new(AtomicBool::new(false));
    let poller = match rl.create_external_printer() {
        Ok(printer) => {
            let printer = Arc::new(Mutex::new(printer));
            let (shell, stop) = (shell.clone(), stop.clone());
            std::thread::Builder::new()
                .name("ush-notices".into())
                .spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(100));
                        if let Ok(mut sh) = shell.try_lock() {
                            let old = sh.swap_sink(Box::new(PrinterSink(printer.clone())));
                            sh.pump();
                            sh.swap_sink(old);
                        }
                    }
                })
                .ok()
        }
        Err(_) => None,
    };
    loop {
        match rl.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                    if let Some(h) = &history {
                        let _ = rl.append_history(h);
                    }
                }
                let mut sh = shell.lock().unwrap_or_else(|e| e.into_inner());
                sh.clear_interrupt();
                sh.execute_at(&line, "");
                if sh.quitting() {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("ush: {e}");
                break;
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    if let Some(p) = poller {
        let _ = p.join();
    }
    let mut sh = shell.lock().unwrap_or_else(|e| e.into_inner());
    sh.finish();
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_word_being_completed() {
        assert_eq!(slot("", 0), (0, Slot::Command));
        assert_eq!(slot("sta", 3), (0, Slot::Command));
        assert_eq!(slot("program x; con", 14), (11, Slot::Command));
        assert_eq!(slot("load 1 piz", 10), (7, Slot::Arg("load")));
        assert_eq!(slot("expect do_", 10), (7, Slot::Arg("expect")));
        assert_eq!(slot("  help up", 9), (7, Slot::Arg("help")));
    }

    /// Regression (issue 29): `rollout <TAB>` completed files, `set` and
    /// `output` nothing.
    #[test]
    fn subcommands_and_options_complete_as_words() {
        assert_eq!(
            fixed_words("rollout", 0, &[]),
            Some(&["load", "run", "stop", "status", "update"][..])
        );
        assert_eq!(fixed_words("set", 0, &[]), Some(&["errexit", "echo"][..]));
        assert_eq!(
            fixed_words("set", 1, &["errexit"]),
            Some(&["on", "off"][..])
        );
        assert_eq!(fixed_words("output", 0, &[]), Some(&["on", "off"][..]));
        assert!(
            fixed_words("rollout", 2, &["update", "2"])
                .unwrap()
                .contains(&"--strategy")
        );
        // Files after `rollout load V`, procedure names after `procs`.
        assert_eq!(fixed_words("rollout", 2, &["load", "2"]), None);
        assert_eq!(fixed_words("procs", 0, &[]), None);
        let h = UshHelper::new(Arc::new(Mutex::new(vec!["do_pizza".into()])));
        let hist = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&hist);
        let got = |line: &str| -> Vec<String> {
            let (_, v) = h.complete(line, line.len(), &ctx).unwrap();
            v.into_iter().map(|p| p.display).collect()
        };
        assert_eq!(got("rollout st"), ["stop", "status"]);
        assert_eq!(got("set e"), ["errexit", "echo"]);
        assert_eq!(got("set echo o"), ["on", "off"]);
        assert_eq!(got("output o"), ["on", "off"]);
        assert_eq!(got("rollout update 2 --st"), ["--strategy"]);
        assert_eq!(got("procs do"), ["do_pizza"]);
    }
}
