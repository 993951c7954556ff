//! The wire form of what the VM reports (vm types to proto types).

use vm::{ExitStatus, ProgramState, UpdateBegun, VersionNo};

use crate::proto::{
    Ending, GroupFailure, NotApplied, NotAppliedGroup, ResetRow, UpdateEnded, UpdateInfo,
};

/// How the program ended, for `Notice::Exited`: `returned`, `exit(3)`,
/// `stopped`, or the runtime error with its backtrace.
pub fn exit_message(status: &ExitStatus) -> String {
    match status {
        ExitStatus::Returned => "returned".to_string(),
        ExitStatus::Exit(code) => format!("exit({code})"),
        ExitStatus::Stopped => "stopped".to_string(),
        ExitStatus::Error(e) => e.to_string(),
        ExitStatus::TimedOut => "timed out".to_string(),
    }
}

/// The program's state in words (`not started`, `running version 1`,
/// `exited (0)`), from the engine's committed versions: `behind` are the
/// procedures not yet at the highest running version, with their versions.
pub fn program_words(
    program: &ProgramState,
    hrvn: VersionNo,
    behind: &[(String, VersionNo)],
) -> String {
    match program {
        ProgramState::Idle => "not started".to_string(),
        ProgramState::Running { .. } if !behind.is_empty() => {
            let list: Vec<String> = behind
                .iter()
                .take(8)
                .map(|(n, v)| format!("{n} at {v}"))
                .collect();
            let more = if behind.len() > 8 { ", ..." } else { "" };
            format!(
                "running version {hrvn} in part: {} procedure{} not yet at version {hrvn} ({}{more})",
                behind.len(),
                if behind.len() == 1 { "" } else { "s" },
                list.join(", ")
            )
        }
        ProgramState::Running { version } if hrvn > *version => {
            format!("running version {hrvn} (started as version {version})")
        }
        ProgramState::Running { version } => format!("running version {version}"),
        ProgramState::Exited(ExitStatus::Returned) => "exited (0)".to_string(),
        ProgramState::Exited(ExitStatus::Exit(code)) => format!("exited ({code})"),
        ProgramState::Exited(ExitStatus::Stopped) => "stopped".to_string(),
        ProgramState::Exited(ExitStatus::Error(e)) => {
            format!("ended by a runtime error: {}", e.message)
        }
        ProgramState::Exited(ExitStatus::TimedOut) => "timed out".to_string(),
    }
}

/// The procedures of the highest running version that are committed to an
/// older one (read from the engine's one record of committed versions).
pub(super) fn behind(st: &vm::engine::Status) -> Vec<(String, VersionNo)> {
    st.bindings
        .iter()
        .filter(|b| {
            (VersionNo(1)..st.hrvn).contains(&b.committed)
                && b.tables.iter().any(|t| t.table == st.hrvn)
        })
        .map(|b| (b.name.clone(), b.committed))
        .collect()
}

/// The wire form of what beginning an update found.
pub fn update_info(b: &UpdateBegun) -> UpdateInfo {
    UpdateInfo {
        from: b.from.0,
        to: b.to.0,
        changed: b.changed.clone(),
        reasons: b.reasons.clone(),
        backtrace: b.backtrace.iter().map(|f| f.name.clone()).collect(),
        frames: b.backtrace.iter().map(|f| f.to_string()).collect(),
        warped_unchanged: b.warped_unchanged.clone(),
        committed: b.committed.clone(),
        pending: b.pending.clone(),
        failed: b
            .failed
            .iter()
            .map(|(members, error)| GroupFailure {
                members: members.clone(),
                error: error.clone(),
            })
            .collect(),
        notes: b.notes.clone(),
        resets: reset_rows(&b.resets),
        return_interrupts: b.return_interrupts,
        complete: b.complete,
    }
}

/// The wire form of data an update resets.
pub(super) fn reset_rows(r: &[vm::Reset]) -> Vec<ResetRow> {
    r.iter()
        .map(|r| ResetRow {
            name: r.name.clone(),
            from: r.from.0,
            old: r.old.to_string(),
            new: r.new.to_string(),
        })
        .collect()
}

/// The wire form of how an update ended.
pub fn ending(e: vm::Ending) -> Ending {
    match e {
        vm::Ending::Complete => Ending::Complete,
        vm::Ending::Partial => Ending::Partial,
        vm::Ending::NothingApplied => Ending::NothingApplied,
    }
}

/// The wire form of an update that ended.
pub fn update_ended(e: &vm::UpdateEnded) -> UpdateEnded {
    UpdateEnded {
        id: e.id,
        to: e.to.0,
        ending: ending(e.ending),
        applied: e.applied.clone(),
        not_applied: e
            .not_applied
            .iter()
            .map(|a| NotAppliedGroup {
                members: a.members.clone(),
                why: match &a.why {
                    vm::NotApplied::Within(w) => {
                        NotApplied::Within(w.map(|d| d.as_millis() as u64))
                    }
                    vm::NotApplied::Abort => NotApplied::Abort,
                    vm::NotApplied::Failed(e) => NotApplied::Failed(e.clone()),
                },
            })
            .collect(),
        at_exit: e.at_exit,
    }
}
