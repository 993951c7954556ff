//! `test-update OLD NEW [CHANGES] --records RE [--for D] [--points N]
//! [--allow-pending]` (SPEC §4.2.2): ush links no VM, so it starts a private
//! test pup (`pup --test-update …`, found next to ush), streams its report
//! line by line and passes its verdict on. No connection is needed.
//!
//! Invariant: the child is waited for on every path; Ctrl-C kills it.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::shell::Sink;

/// The parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TestUpdate {
    /// OLD.uc
    pub old: String,
    /// NEW.uc
    pub new: String,
    /// The changes file.
    pub changes: Option<String>,
    /// `--records`.
    pub records: String,
    /// `--for`, as written (checked by the parser).
    pub run_for: Option<String>,
    /// `--points`.
    pub points: Option<usize>,
    /// `--allow-pending`.
    pub allow_pending: bool,
}

impl TestUpdate {
    /// The test pup's arguments (file names as the user wrote them: the
    /// test pup runs in the directory they are relative to).
    pub(crate) fn pup_args(&self) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = vec!["--test-update".into()];
        a.push(self.old.clone().into());
        a.push(self.new.clone().into());
        if let Some(c) = &self.changes {
            a.push(c.into());
        }
        a.push("--records".into());
        a.push(self.records.clone().into());
        if let Some(f) = &self.run_for {
            a.push("--for".into());
            a.push(f.into());
        }
        if let Some(n) = self.points {
            a.push("--points".into());
            a.push(n.to_string().into());
        }
        if self.allow_pending {
            a.push("--allow-pending".into());
        }
        a
    }
}

enum Line {
    Out(String),
    Err(String),
}

fn pipe(r: impl Read + Send + 'static, tx: mpsc::Sender<Line>, out: bool) {
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx
                .send(if out { Line::Out(l) } else { Line::Err(l) })
                .is_err()
            {
                break;
            }
        }
    });
}

/// Runs the test pup in `dir`, streaming its report to `sink`. Ok when every point
/// passed; otherwise the error to show.
pub(crate) fn run(
    args: Vec<std::ffi::OsString>,
    dir: &Path,
    sink: &mut dyn Sink,
    interrupt: &AtomicBool,
) -> Result<(), String> {
    let pup = crate::local::find_bin("pup");
    let mut child = Command::new(&pup)
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "test-update: cannot start the test pup {}: {e}",
                pup.display()
            )
        })?;
    let (tx, rx) = mpsc::channel();
    if let Some(o) = child.stdout.take() {
        pipe(o, tx.clone(), true);
    }
    if let Some(e) = child.stderr.take() {
        pipe(e, tx, false);
    }
    let mut summary = String::new();
    let mut errors = Vec::new();
    let mut interrupted = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Line::Out(l)) => {
                if l.starts_with("test-update: ") && l.contains(" update points tested") {
                    summary = l.clone();
                }
                sink.out(&format!("{l}\n"));
            }
            Ok(Line::Err(l)) => errors.push(l),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !interrupted && interrupt.swap(false, Ordering::SeqCst) {
                    interrupted = true;
                    let _ = child.kill();
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("test-update: waiting for the test pup: {e}"))?;
    if interrupted {
        return Err("test-update: interrupted".into());
    }
    match status.code() {
        Some(0) => Ok(()),
        Some(1) if !summary.is_empty() => {
            let failed = summary.rsplit(": ").next().unwrap_or("").to_string();
            Err(format!(
                "test-update: the update fails at some points ({failed})"
            ))
        }
        _ => {
            let text = errors.join("\n");
            let text = text.strip_prefix("test-update: ").unwrap_or(&text);
            Err(if text.is_empty() {
                format!("test-update: the test pup failed ({status})")
            } else {
                format!("test-update: {text}")
            })
        }
    }
}
