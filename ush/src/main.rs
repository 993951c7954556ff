//! ush, the Updating Shell (SPEC §5.3): compiles, loads, runs and updates
//! programs held by pups on any host, following the sample session of
//! Frieder & Segal (1991) §6.1 line for line where the paper has a line.
//!
//! Modules and their invariants:
//! - [`cli`]: flags and modes (interactive, `-f`, `-c`, stdin). Every mode
//!   ends through `Shell::finish`, so `--local` daemons never outlive ush.
//! - [`parse`]: line → commands → words → [`parse::Command`]. Pure; every
//!   usage error is found before anything is sent.
//! - [`commands`]: the command table behind `help`, completion and "did you
//!   mean". Every parsed command has an entry.
//! - [`shell`]: the interpreter, independent of the terminal. One
//!   connection per program; notices printed in arrival order, by whole
//!   lines; every wait bounded or interruptible.
//! - [`format`]: the lines ush prints. Pure functions, unit-tested against
//!   the paper's wording.
//! - [`link`]: the pup and pupmapper clients behind traits, so the shell is
//!   testable with a fake pup. Errors come out worded for the user.
//! - [`local`]: `ush --local`'s private pupmapper, pups, cookie and logs.
//!   Every child is tracked from spawn to reaping.
//! - [`fleet`]: `fleet` and the parallel `rollout load|run|stop|status`:
//!   many pups on many hosts, each reached on its own connection, at most
//!   [`fleet::CONCURRENCY`] at once.
//! - [`rollout`]: `rollout update`: strategies, health gates, halting,
//!   progress and the final table (SPEC §5.5).
//! - [`observe`]: `observe`'s web page (SPEC §5.6): state fed by the
//!   shell, served by tiny_http on loopback; bounded whatever the program
//!   prints, and a page that goes away ends only its own thread.
//! - [`repl`]: rustyline, history, completion; notices printed while the
//!   user types.
//! - [`signals`]: SIGINT/SIGTERM/SIGHUP on their own thread; children are
//!   stopped before ush exits.
//! - [`supervise`]: under `--local`, a first process that outlives the
//!   shell and stops whatever it left, however the shell died.
//! - [`sysinfo`]: host name, OS and build date for the banner.
//! - [`testupdate`]: `test-update` through a private test pup (ush links no
//!   VM). The child is always waited for.

mod cli;
mod commands;
mod delta_view;
mod fleet;
mod format;
mod link;
mod local;
mod observe;
mod parse;
mod repl;
mod rollout;
mod shell;
mod signals;
mod supervise;
mod sysinfo;
mod testupdate;

fn main() {
    std::process::exit(cli::main());
}
