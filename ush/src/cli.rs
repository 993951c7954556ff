//! The `ush` command line: flags, and which way of reading commands to use.
//!
//! Invariant: whatever the mode, the session ends through
//! [`Shell::finish`], so pups are said goodbye to and `--local` daemons are
//! stopped; the exit code is 0 on success, 1 when a command failed, 2 for a
//! usage error.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Parser, ValueEnum};

use crate::link::NetConnector;
use crate::local::{Children, Local};
use crate::shell::{Outcome, Shell, StdSink};
use crate::sysinfo;

/// When to color diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    /// When standard error is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Updating Shell: load, run and update programs in pups on any host.
///
/// Interactive with no arguments (line editing, history in
/// ~/.podus/ush_history, tab completion, `help`); runs a script with -f
/// or from a non-terminal standard input, or one line with -c.
#[derive(Debug, Parser)]
#[command(name = "ush", version)]
pub(crate) struct Cli {
    /// Run the commands in SCRIPT (relative paths in it resolve against its directory)
    #[arg(
        short = 'f',
        long = "file",
        value_name = "SCRIPT",
        conflicts_with = "command"
    )]
    pub file: Option<PathBuf>,
    /// Run these commands (`;` separates them) and exit
    #[arg(short = 'c', long = "command", value_name = "COMMANDS")]
    pub command: Option<String>,
    /// Start a private pupmapper, and pups on `connect`, on loopback; stop them on exit
    #[arg(long)]
    pub local: bool,
    /// The prompt
    #[arg(long, default_value = "> ")]
    pub prompt: String,
    /// Do not print the banner
    #[arg(long)]
    pub no_banner: bool,
    /// Do not echo script commands (ush -f echoes them after the prompt)
    #[arg(long)]
    pub no_echo: bool,
    /// Color compile diagnostics
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Cookie file [default: $PODUS_COOKIE or ~/.podus/cookie]
    #[arg(long, value_name = "PATH")]
    pub cookie: Option<PathBuf>,
}

/// Runs ush; returns the process exit code.
pub(crate) fn main() -> i32 {
    let cli = Cli::parse();
    let interactive = cli.file.is_none() && cli.command.is_none() && std::io::stdin().is_terminal();
    // Before any thread exists (see `supervise` and `signals`).
    if cli.local {
        crate::supervise::split(interactive);
    }
    let children = Children::default();
    let interrupt = Arc::new(AtomicBool::new(false));
    if let Err(e) = crate::signals::install(children.clone(), interactive, interrupt.clone()) {
        eprintln!("ush: {e}");
        return 1;
    }
    let local = if cli.local {
        match Local::start(children) {
            Ok(l) => {
                eprintln!(
                    "ush --local: private pupmapper on {}; cookie and logs in {}",
                    l.mapper_addr(),
                    l.dir().display()
                );
                Some(l)
            }
            Err(e) => {
                eprintln!("ush: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let connector = NetConnector::new(cli.cookie.clone(), local);
    let mut shell = Shell::new(Box::new(connector), Box::new(StdSink), cwd.clone());
    shell.set_interrupt_flag(interrupt);
    shell.settings.prompt = cli.prompt.clone();
    shell.settings.progress_bar = std::io::stderr().is_terminal();
    shell.settings.color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal(),
    };

    let ok = if let Some(cmds) = &cli.command {
        shell.execute_at(cmds, "") == Outcome::Ok
    } else if let Some(file) = &cli.file {
        match std::fs::read_to_string(file) {
            Ok(text) => {
                shell.settings.echo = !cli.no_echo;
                let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
                let base = if base.as_os_str().is_empty() {
                    cwd
                } else {
                    base
                };
                let name = file.display().to_string();
                shell.run_script(&name, text.lines().map(str::to_string), &base)
            }
            Err(e) => {
                eprintln!("ush: cannot read {}: {e}", file.display());
                shell.finish();
                return 2;
            }
        }
    } else if !interactive {
        let lines = std::io::stdin().lock().lines().map_while(Result::ok);
        shell.run_script("<stdin>", lines, &cwd)
    } else {
        if !cli.no_banner {
            let b = crate::format::banner(
                sysinfo::VERSION,
                sysinfo::BUILD_DATE,
                &sysinfo::os(),
                &sysinfo::hostname(),
            );
            shell.print(&format!("{b}\n"));
        }
        return crate::repl::run(shell);
    };
    shell.finish();
    if ok { 0 } else { 1 }
}
