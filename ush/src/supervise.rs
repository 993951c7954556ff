//! `ush --local` as two processes, so that nothing it started outlives it
//! however the shell ends: a panic, a stack overflow's abort, SIGKILL.
//!
//! Invariant: [`split`] runs before any thread exists. The first process
//! (the supervisor) only waits: it is the child subreaper of everything the
//! shell starts, so when the shell is gone its pups and pupmapper become the
//! supervisor's children, and it stops them and removes the private folder
//! the shell announced through a pipe. A shell that ends normally has
//! already done both ([`crate::local::Local`]); the supervisor then finds
//! nothing to do. If the supervisor itself is killed, the shell gets SIGTERM
//! (its parent-death signal) and cleans up as for any SIGTERM.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};

use crate::local::terminate;

/// The write end of the pipe to the supervisor, in the shell process.
static ANNOUNCE: OnceLock<Mutex<File>> = OnceLock::new();

/// Tells the supervisor (if any) the private folder to remove should the
/// shell die without removing it.
pub(crate) fn announce_dir(dir: &std::path::Path) {
    if let Some(f) = ANNOUNCE.get() {
        let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(f, "{}", dir.display());
    }
}

/// Splits into supervisor and shell. Returns in the shell process; the
/// supervisor never returns (it exits with the shell's status). On any
/// failure to set up, ush goes on unsupervised (as before) and says why.
pub(crate) fn split(interactive: bool) {
    if let Err(e) = try_split(interactive) {
        eprintln!(
            "ush: running without a supervisor ({e}): if this ush dies by a signal it cannot catch, its --local pups may outlive it"
        );
    }
}

fn try_split(interactive: bool) -> Result<(), String> {
    let (read, write) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("subreaper: {e}"))?;
    // SAFETY: no other thread exists yet (`split` runs first in main), so
    // the child may run any code after the fork.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(read);
            // The supervisor's end is the shell's end: SIGTERM is handled
            // like any SIGTERM (children stopped, folder removed).
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
            let _ = nix::sys::prctl::set_child_subreaper(false);
            let _ = ANNOUNCE.set(Mutex::new(File::from(write)));
            Ok(())
        }
        ForkResult::Parent { child } => {
            drop(write);
            std::process::exit(supervise(child, File::from(read), interactive))
        }
    }
}

/// The supervisor: forwards termination signals to the shell, waits for
/// it, then stops what it left and removes its folder.
fn supervise(shell: Pid, mut announced: File, interactive: bool) -> i32 {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGCHLD,
    ] {
        set.add(s);
    }
    let _ = set.thread_block();
    let status = loop {
        match waitpid(shell, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => break Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => break Err(sig),
            Ok(_) => {}
            Err(_) => break Ok(1),
        }
        match set.wait() {
            // A terminal's Ctrl-C reaches the shell itself (same process
            // group); at a prompt it only interrupts a command.
            Ok(Signal::SIGINT) if interactive => {}
            Ok(s @ (Signal::SIGINT | Signal::SIGTERM | Signal::SIGHUP)) => {
                let _ = kill(shell, s);
            }
            _ => {}
        }
    };
    let mut text = String::new();
    let _ = announced.read_to_string(&mut text);
    let dirs: Vec<PathBuf> = text
        .lines()
        .map(PathBuf::from)
        .filter(|d| d.exists())
        .collect();
    let stopped = stop_orphans();
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    let code = match status {
        Ok(code) => code,
        Err(sig) => {
            eprintln!("ush: the shell was killed by {sig}");
            128 + sig as i32
        }
    };
    if stopped > 0 || !dirs.is_empty() {
        let folders: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        eprintln!(
            "ush: stopped {stopped} process(es) the shell left running{}",
            if folders.is_empty() {
                String::new()
            } else {
                format!(" and removed {}", folders.join(", "))
            }
        );
    }
    code
}

/// Stops every process whose parent is this one (the shell's orphans,
/// reparented here), pups before the pupmapper so that they can
/// unregister, as [`crate::local::Children::stop_all`] does.
fn stop_orphans() -> usize {
    let (mappers, pups): (Vec<_>, Vec<_>) = children_of(getpid().as_raw())
        .into_iter()
        .partition(|(_, comm)| comm == "pupmapper");
    let pids = |v: &[(i32, String)]| v.iter().map(|(p, _)| *p).collect::<Vec<_>>();
    terminate(&pids(&pups));
    terminate(&pids(&mappers));
    pups.len() + mappers.len()
}

/// The processes whose parent is `pid`, with their command names, read
/// from `/proc`.
pub(crate) fn children_of(pid: i32) -> Vec<(i32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let p: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        // `pid (comm) state ppid ...`; comm may hold spaces and parens.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_string();
        let ppid: i32 = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
        (ppid == pid).then_some((p, comm))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_of_finds_a_child_by_its_parent() {
        let mut c = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let kids = children_of(std::process::id() as i32);
        let found = kids
            .iter()
            .any(|(p, comm)| *p == c.id() as i32 && comm == "sleep");
        let _ = c.kill();
        let _ = c.wait();
        assert!(found, "{kids:?}");
    }
}
