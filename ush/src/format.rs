//! What ush prints: the paper's lines (Frieder & Segal 1991, §6.1), built
//! from the pup's replies.
//!
//! Invariant: pure functions from data to lines — no I/O, no clock — so the
//! wording is unit-tested here and the end-to-end tests only check that the
//! lines arrive. Where the paper has a line for something, the text is the
//! paper's (typos fixed); everything else is worded in the same plain style.

use pup_client::proto::{
    Ending, FrameRow, LoadInfo, NotApplied, Notice, PendingRow, ProcBindings, PupInfo, ResetRow,
    StatusInfo, UpdateEnded, UpdateInfo, VersionRow,
};
use pupmapper_client::proto::PupEntry;

/// Rows and columns of δ* shown by `load` before abbreviating (`delta`
/// shows everything).
pub(crate) const MATRIX_SHOWN: usize = 16;

/// How a version was obtained, for the second load line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoadHow {
    /// Compiled from this source file.
    Compiled(String),
    /// Read from this delta file (and its object file).
    Delta(String),
}

/// The program-name prefix of lines about program `name` when several
/// pups are connected (empty with one).
pub(crate) fn tag(name: &str, many: bool) -> String {
    if many {
        format!("[{name}] ")
    } else {
        String::new()
    }
}

/// The banner of an interactive ush.
pub(crate) fn banner(version: &str, date: &str, os: &str, host: &str) -> String {
    format!(
        "Updating Shell version {version} (compiled on {date}) running under {os} on host {host}"
    )
}

/// `connect`: the paper's two lines.
pub(crate) fn connect_lines(info: &PupInfo) -> Vec<String> {
    let (x, h) = (&info.name, &info.host);
    let mut out = vec![format!("Connected to pup for program {x} on host {h}")];
    if info.fresh {
        out.push(format!("Pup for program {x} on host {h} is new"));
    } else {
        let mut parts = vec![match info.versions.as_slice() {
            [] => "no versions loaded".to_string(),
            [v] => format!("holds version {v}"),
            vs => format!("holds versions {}", join_nums(vs)),
        }];
        parts.push(format!("program {}", info.program));
        match info.pending {
            0 => {}
            1 => parts.push("1 update pending".into()),
            n => parts.push(format!("{n} updates pending")),
        }
        if let Some(ms) = info.restored_ms {
            parts.push(format!(
                "restored from its journal at {} UTC",
                crate::shell::when(ms)
            ));
        }
        out.push(format!(
            "Pup for program {x} on host {h} {}",
            parts.join("; ")
        ));
    }
    out
}

/// `1 procedure`, `2 procedures`: a count with its noun, singular for one.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn join_nums(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// Abbreviates a δ* matrix (rows of `0 1 1`) to [`MATRIX_SHOWN`] rows and
/// columns, as the paper shrinks its table (`0 0 0 ...` and a `:` line).
pub(crate) fn matrix_rows(matrix: &str, limit: usize) -> Vec<String> {
    let rows: Vec<&str> = matrix.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::new();
    for row in rows.iter().take(limit) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        let mut s = cells
            .iter()
            .take(limit)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if cells.len() > limit {
            s.push_str(" ...");
        }
        out.push(format!("    {s}"));
    }
    if rows.len() > limit {
        out.push("    :".into());
    }
    out
}

/// Everything `load` prints after the pup accepted version `info.version`.
///
/// `procs` is the number of updatable procedures, `matrix` the δ* rows the
/// ush computed, `prev` the version the interprocedures and mprocedures map
/// from (the newest older one loaded, if known).
pub(crate) fn load_lines(
    program: &str,
    host: &str,
    how: &LoadHow,
    procs: usize,
    matrix: &str,
    info: &LoadInfo,
    prev: Option<u64>,
) -> Vec<String> {
    let (x, h, v) = (program, host, info.version);
    let mut out = vec!["Load sequence begins...".to_string()];
    out.push(match how {
        LoadHow::Compiled(f) => format!("compiled {f}"),
        LoadHow::Delta(f) => format!("extracted updatable procedures from delta file {f}"),
    });
    out.push(format!(
        "program {x} has {}",
        count(procs, "updatable procedure")
    ));
    out.push(format!(
        "program {x}'s procedures registered with pup name service on host {h}"
    ));
    out.push(format!(
        "delta* computed for {} in {x}:",
        count(procs, "procedure")
    ));
    out.extend(matrix_rows(matrix, MATRIX_SHOWN));
    if procs > MATRIX_SHOWN {
        out.push(crate::delta_view::more_line(info.version, procs));
    }
    out.push(format!(
        "program object code image requires {} bytes",
        info.code_bytes
    ));
    out.push(format!(
        "program loading at address {:#x} in pup {x}'s address space on host {h}",
        info.space_base
    ));
    out.push("program linking complete".into());
    out.push(format!(
        "loaded VMC segment descriptor table into {h}'s VMC"
    ));
    out.push("copying code to pup... complete".into());
    for (kind, list, plural) in [
        ("iproc", &info.iprocs, "interprocedures"),
        ("mproc", &info.mprocs, "mprocedures"),
    ] {
        if list.is_empty() {
            out.push(format!("no {plural} loaded for version {v}"));
            continue;
        }
        let bytes: u64 = list.iter().map(|(_, _, n)| u64::from(*n)).sum();
        let at = list.iter().map(|(_, a, _)| *a).min().unwrap_or(0);
        let names: Vec<&str> = list.iter().map(|(n, _, _)| n.as_str()).collect();
        out.push(format!("{kind} object code image requires {bytes} bytes"));
        out.push(format!(
            "{kind} loading at address {at:#x} in pup {x}'s address space on host {h}"
        ));
        out.push(format!("{kind} linking complete"));
        out.push(format!("{plural} for: {}", names.join(", ")));
        out.push("copying code to pup... complete".into());
        // Which version each one's "old" is (SPEC §4.2.1): per procedure,
        // the version it will be running when this one applies.
        for n in &names {
            if let Some((_, ov)) = info.old_versions.iter().find(|(m, _)| m == n) {
                out.push(match kind {
                    "iproc" => format!("iproc {n} accepts calls made to version {ov}'s {n}"),
                    _ => format!("mproc {n}: old.NAME refers to {n} in version {ov}"),
                });
            }
        }
    }
    out.push(format!("Version {v} of program {x} loaded successfully"));
    if let Some(p) = prev {
        // "Version N": the version the iprocs and mprocs map from, which is
        // per procedure the one it will be updated from (the pup says).
        let from = |list: &[(String, u64, u32)]| {
            let mut vs: Vec<u64> = list
                .iter()
                .filter_map(|(n, _, _)| info.old_versions.iter().find(|(m, _)| m == n))
                .map(|(_, v)| *v)
                .collect();
            vs.sort_unstable();
            vs.dedup();
            if vs.is_empty() { vec![p] } else { vs }
        };
        if !info.iprocs.is_empty() {
            for f in from(&info.iprocs) {
                out.push(format!(
                    "Version {v} interprocedures (from version {f}) loaded successfully"
                ));
            }
        }
        if !info.mprocs.is_empty() {
            for f in from(&info.mprocs) {
                out.push(format!(
                    "Version {v} mprocedures (from version {f}) loaded successfully"
                ));
            }
        }
    }
    out
}

/// What an update from `old` (version `from`) to `new` will do with the
/// static data of the procedures that change (SPEC §2.1): statics with the
/// same name and type are carried over, the others start from their
/// initializers; an mproc, if any, runs after the carry-over.
pub(crate) fn statics_lines(
    from: u64,
    old: &compiler::ir::Module,
    old_summary: &compiler::diff::Summary,
    new: &compiler::ir::Module,
    new_summary: &compiler::diff::Summary,
) -> Vec<String> {
    let d = compiler::diff::diff_summaries(old_summary, new_summary);
    let (mut carried, mut reset) = (Vec::new(), Vec::new());
    for c in &d.changed {
        let (Some(o), Some(n)) = (
            old.procs.iter().find(|p| p.name == c.name),
            new.procs.iter().find(|p| p.name == c.name),
        ) else {
            continue;
        };
        let has_mproc = new.mprocs.iter().any(|m| m.name == n.name);
        for st in &n.statics {
            let name = format!("{}.{}", n.name, st.name);
            let was = o.statics.iter().find(|x| x.name == st.name);
            match was {
                Some(x) if x.ty == st.ty => carried.push(name),
                // Its own warning says so, with both types (reset_warnings).
                Some(_) if !has_mproc => {}
                _ => reset.push(name),
            }
        }
    }
    let mut out = Vec::new();
    if !carried.is_empty() {
        out.push(format!(
            "static data carried over from version {from} on update: {}",
            carried.join(", ")
        ));
    }
    if !reset.is_empty() {
        out.push(format!(
            "static data started afresh on update: {}",
            reset.join(", ")
        ));
    }
    out
}

/// Warnings for the statics and globals that an update to `to` (the
/// version `new` is loaded as) will start from their initializers although
/// the running program holds a value of the same name (`iface`, the pup's
/// record of what runs): the type changed and `new` has no mproc for it.
/// Issue 29: no state is lost without the user being told which.
pub(crate) fn reset_warnings(
    to: u64,
    iface: &compiler::ir::Module,
    new: &compiler::ir::Module,
) -> Vec<String> {
    let has_mproc = |n: &str| new.mprocs.iter().any(|m| m.name == n);
    let mut out = Vec::new();
    let mut warn = |name: String, old: &compiler::ir::VarTy, newt: &compiler::ir::VarTy| {
        out.push(format!(
            "warning: update to version {to} resets {name} to its initializer: it holds {old} now, \
             version {to} declares it {newt}, and no mproc carries it (`update {to} --strict` refuses)"
        ));
    };
    for p in &new.procs {
        let Some(o) = iface.procs.iter().find(|o| o.name == p.name) else {
            continue;
        };
        if has_mproc(&p.name) {
            continue;
        }
        for st in &p.statics {
            if let Some(os) = o
                .statics
                .iter()
                .find(|x| x.name == st.name && x.ty != st.ty)
            {
                warn(format!("{}.{}", p.name, st.name), &os.ty, &st.ty);
            }
        }
    }
    for g in &new.globals {
        if has_mproc(&g.name) {
            continue;
        }
        if let Some(og) = iface
            .globals
            .iter()
            .find(|x| x.name == g.name && x.ty != g.ty)
        {
            warn(g.name.clone(), &og.ty, &g.ty);
        }
    }
    out
}

/// The lines an update prints for the data it resets (see [`reset_warnings`]).
pub(crate) fn reset_lines(rows: &[ResetRow]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "warning: {} starts afresh from its initializer: it was {} in version {}, it is {} now, and no mproc carried it",
                r.name, r.old, r.from, r.new
            )
        })
        .collect()
}

/// Why a strict update was refused (`Response::WouldReset`).
pub(crate) fn would_reset(rows: &[ResetRow]) -> String {
    let list: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} ({} in version {}, {} now)",
                r.name, r.old, r.from, r.new
            )
        })
        .collect();
    format!(
        "update: refused (strict): it would reset {} to the initializer, since the type changed and no mproc carries the value; nothing was updated (add an mproc, or update without --strict)",
        list.join(", ")
    )
}

/// Orders procedure names as the program declares them (`order`, the
/// procedure-ID order); names it does not know go last, sorted.
pub(crate) fn in_order(names: &[String], order: &[String]) -> Vec<String> {
    let mut v: Vec<String> = names.to_vec();
    v.sort_by_key(|n| {
        (
            order.iter().position(|o| o == n).unwrap_or(usize::MAX),
            n.clone(),
        )
    });
    v
}

/// Everything `update` prints once the pup began the update (the paper's
/// screen, §6.1 and §6.2). `order` is the procedure-ID order of the
/// target version, used to list procedures as the program declares them.
pub(crate) fn update_lines(program: &str, info: &UpdateInfo, order: &[String]) -> Vec<String> {
    let (x, a, b) = (program, info.from, info.to);
    let mut out = vec![format!(
        "Update of program {x} from version {a} to version {b} begins..."
    )];
    let changed = in_order(&info.changed, order);
    out.push(format!(
        "{} procedure{} changed between versions:",
        changed.len(),
        if changed.len() == 1 { " has" } else { "s have" }
    ));
    out.extend(changed.iter().cloned());
    out.push(format!("program {x} runtime stack backtrace:"));
    out.extend(info.backtrace.iter().cloned());
    out.push(format!(
        "warped {} into version space {b}",
        count(info.warped_unchanged.len(), "unchanged procedure")
    ));
    out.push("computed inactive procedures:".into());
    let committed = in_order(&info.committed, order);
    if committed.is_empty() {
        out.push(format!(
            "no changed procedures could be warped to version space {b} at this time"
        ));
    } else {
        out.extend(committed.iter().cloned());
        out.push(format!(
            "warped {} into version space {b}",
            count(committed.len(), "changed procedure")
        ));
    }
    out.extend(info.notes.iter().cloned());
    out.extend(reset_lines(&info.resets));
    for f in &info.failed {
        out.push(format!(
            "group {} could not be updated: {}",
            group(&f.members, order),
            f.error
        ));
    }
    if info.return_interrupts {
        out.push("enabled procedure return interrupts".into());
    }
    out.push(format!("Program {x} update initiated successfully"));
    out
}

/// A group as `{a, b, c}`.
pub(crate) fn group(members: &[String], order: &[String]) -> String {
    format!("{{{}}}", in_order(members, order).join(", "))
}

fn groups(gs: &[Vec<String>], order: &[String]) -> String {
    gs.iter()
        .map(|g| group(g, order))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an ending makes `update`/`wait` fail: partial or nothing
/// applied, unless `abort` alone abandoned what did not apply (what the
/// user asked for).
pub(crate) fn ending_fails(e: &UpdateEnded) -> bool {
    e.ending != Ending::Complete && !e.not_applied.iter().all(|g| g.why == NotApplied::Abort)
}

/// Said after a partial ending: how to have all or nothing (SPEC §4.2).
pub(crate) const PARTIAL_HINT: &str =
    "the program now mixes versions; `update V --atomic` applies every group or none";

/// The one-line summary of a finished update, which `update` and `wait`
/// both print: complete, partial or nothing applied, with each abandoned
/// group and its reason. The pup says which ending it was, and whether the
/// program's end is what let it apply.
pub(crate) fn ended_line(program: &str, e: &UpdateEnded, order: &[String]) -> String {
    format!("*** {} ***", ended_summary(program, e, order))
}

/// What [`ended_line`] says, without its frame: the error `update` and
/// `wait` fail with (the partial hint follows a partial ending).
pub(crate) fn ended_summary(program: &str, e: &UpdateEnded, order: &[String]) -> String {
    let (to, applied) = (e.to, &e.applied);
    let abandoned = || {
        e.not_applied
            .iter()
            .map(|g| format!("{} ({})", group(&g.members, order), g.why))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let when = if e.at_exit {
        // The stack emptied because the program ended: what waited
        // committed then, but none of it ran.
        format!(
            " when the program ended (no version-{to} code ran; the next run starts at version {to})"
        )
    } else {
        String::new()
    };
    match e.ending {
        Ending::Complete => {
            format!("Program {program} updated to version {to} successfully{when}")
        }
        Ending::Partial => format!(
            "Program {program} update to version {to} partial{when}: applied {}; not applied {}",
            groups(applied, order),
            abandoned()
        ),
        Ending::NothingApplied => format!(
            "Program {program} update to version {to} applied nothing{when}: not applied {}",
            abandoned()
        ),
    }
}

/// The line for a group that could not be committed (its error names the
/// mprocedure that trapped or ran out of time).
pub(crate) fn group_failed_line(
    program: &str,
    to: u64,
    members: &[String],
    error: &str,
    order: &[String],
) -> String {
    format!(
        "*** Program {program} update to version {to}: group {} not applied: {error} ***",
        group(members, order)
    )
}

/// What a commit did with a procedure's (or global's) statics: SPEC §2.1's
/// report of what was carried and what was reset, as they are after its
/// mproc ran (statics the mproc set are listed as such).
pub(crate) fn carried_line(
    name: &str,
    carried: &[String],
    set: &[String],
    reset: &[String],
) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(" ")
        }
    };
    if set.is_empty() {
        format!(
            "statics of {name}: carried {}; reset {}",
            list(carried),
            list(reset)
        )
    } else {
        format!(
            "statics of {name}: carried {}; set by mproc {name}: {}; reset {}",
            list(carried),
            list(set),
            list(reset)
        )
    }
}

/// The line for the end of the program.
pub(crate) fn exited_line(program: &str, code: i64, message: &str) -> String {
    let message = message.trim_end();
    if message.contains('\n') {
        format!("Program {program} ended (exit code {code}):\n{message}")
    } else if message.is_empty() {
        format!("Program {program} ended (exit code {code})")
    } else {
        format!("Program {program} ended (exit code {code}): {message}")
    }
}

/// One notice other than program output, as lines (`None` for output,
/// which is streamed separately).
pub(crate) fn notice_lines(
    program: &str,
    notice: &Notice,
    order: &[String],
) -> Option<Vec<String>> {
    Some(match notice {
        Notice::Output(_) => return None,
        Notice::UpdateComplete(e) => {
            let mut v = vec![ended_line(program, e, order)];
            if e.ending == Ending::Partial {
                v.push(format!("    ({PARTIAL_HINT})"));
            }
            v
        }
        Notice::GroupFailed { to, members, error } => {
            vec![group_failed_line(program, *to, members, error, order)]
        }
        Notice::Exited { code, message } => vec![exited_line(program, *code, message)],
        Notice::Trace(t) => vec![t.trim_end().to_string()],
        Notice::Carried {
            name,
            carried,
            set,
            reset,
        } => vec![carried_line(name, carried, set, reset)],
        Notice::OutputSkipped { bytes } => vec![skipped_line(*bytes)],
    })
}

/// `[pup: 1,234,567 bytes of program output skipped: this ush fell behind]`
/// (SPEC §5.2).
pub(crate) fn skipped_line(bytes: u64) -> String {
    let digits = bytes.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("[pup: {grouped} bytes of program output skipped: this ush fell behind]")
}

/// `status`.
pub(crate) fn status_lines(program: &str, host: &str, s: &StatusInfo) -> Vec<String> {
    // Version 0 is no version: before `run` nothing runs yet.
    let running = if s.hrvn == 0 {
        "no version running yet".to_string()
    } else {
        format!("highest running version {}", s.hrvn)
    };
    let mut out = vec![format!(
        "program {program} on host {host}: {}; {running}",
        s.program
    )];
    out.extend(versions_lines(s));
    if s.pending.is_empty() {
        out.push("no update pending".into());
    } else {
        for PendingRow {
            from,
            to,
            groups: gs,
        } in &s.pending
        {
            out.push(format!(
                "update {from} -> {to} pending: {} group{} waiting: {}",
                gs.len(),
                if gs.len() == 1 { "" } else { "s" },
                groups(gs, &[])
            ));
        }
    }
    out.push(format!(
        "procedure return interrupts {}",
        if s.return_interrupts {
            "enabled"
        } else {
            "disabled"
        }
    ));
    if let Some(r) = &s.restored {
        let from = if r.journal_ms > 0 {
            format!(
                " (the journal's state of {} UTC)",
                crate::shell::when(r.journal_ms)
            )
        } else {
            String::new()
        };
        out.push(format!(
            "restored from the journal at {} UTC: versions {} reloaded, main started at version {}{from}",
            crate::shell::when(r.at_ms),
            r.versions
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            r.version
        ));
    }
    match &s.journal {
        pup_client::proto::JournalState::On(path) => out.push(format!("journal {path}")),
        pup_client::proto::JournalState::Off(why) => out.push(format!("journal off: {why}")),
    }
    out
}

/// `versions`.
pub(crate) fn versions_lines(s: &StatusInfo) -> Vec<String> {
    let mut out = Vec::new();
    if s.versions.is_empty() {
        out.push("no versions loaded".into());
    }
    for VersionRow {
        version: v,
        slot,
        procs,
        code_bytes: bytes,
    } in &s.versions
    {
        out.push(format!(
            "version {v}: slot {slot}, {}, {bytes} bytes of code{}",
            count(*procs, "procedure"),
            if *v == s.hrvn {
                " (highest running)"
            } else {
                ""
            }
        ));
    }
    if !s.retired.is_empty() {
        out.push(format!("retired: {}", join_nums(&s.retired)));
    }
    out
}

/// `procs`: one line per procedure with its bindings.
pub(crate) fn procs_lines(s: &StatusInfo) -> Vec<String> {
    let width = s
        .bindings
        .iter()
        .map(|b| b.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = vec![format!("  ID  {:width$}  version  bindings", "name")];
    for ProcBindings {
        id,
        name,
        committed,
        tables,
    } in &s.bindings
    {
        let b = tables
            .iter()
            .map(|t| format!("table {} -> {}", t.table, t.target))
            .collect::<Vec<_>>()
            .join(", ");
        // Committed version 0: new in a staged version that no update has
        // reached yet; it runs nowhere, so it shows no version.
        let v = if *committed == 0 {
            "-".to_string()
        } else {
            committed.to_string()
        };
        let staged = if *committed == 0 {
            " (staged, not yet committed)"
        } else {
            ""
        };
        out.push(format!("{id:4}  {name:width$}  {v:>7}  {b}{staged}"));
    }
    out
}

/// `stack`: frames innermost first.
pub(crate) fn stack_lines(program: &str, frames: &[FrameRow]) -> Vec<String> {
    if frames.is_empty() {
        return vec![format!(
            "program {program} has no stack (it is not running)"
        )];
    }
    let mut out = vec![format!("program {program} runtime stack backtrace:")];
    for (i, f) in frames.iter().enumerate() {
        out.push(format!(
            "  #{i:<2} {:<24} {} ({:#x})",
            f.name, f.decoded, f.pc
        ));
    }
    out
}

/// `pups`.
pub(crate) fn pups_lines(host: &str, entries: &[PupEntry]) -> Vec<String> {
    if entries.is_empty() {
        return vec![format!(
            "no pups registered with the pupmapper on host {host}"
        )];
    }
    let mut out = vec![format!(
        "pups registered with the pupmapper on host {host}:"
    )];
    for e in entries {
        out.push(format!("  {:<16} pid {:<8} port {}", e.name, e.pid, e.port));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn carried_statics_are_reported_by_name() {
        assert_eq!(
            carried_line("do_pizza", &["pd".into()], &[], &[]),
            "statics of do_pizza: carried pd; reset none"
        );
        assert_eq!(
            carried_line("g", &[], &[], &["a".into(), "b".into()]),
            "statics of g: carried none; reset a b"
        );
    }

    use super::*;

    fn binding(id: u32, name: &str, committed: u64, table: u64, target: &str) -> ProcBindings {
        ProcBindings {
            id,
            name: name.into(),
            committed,
            tables: vec![pup_client::proto::TableBinding {
                table,
                target: target.into(),
            }],
        }
    }

    fn status(hrvn: u64, program: &str) -> StatusInfo {
        StatusInfo {
            versions: vec![],
            retired: vec![],
            hrvn,
            program: program.into(),
            pending: vec![],
            bindings: vec![],
            return_interrupts: false,
            journal: pup_client::proto::JournalState::Off("test".into()),
            restored: None,
        }
    }

    /// Regression (issue 29): with v2 staged, its new procedure showed at
    /// version 0 in `procs`, and the fleet table read `0..1`.
    #[test]
    fn a_staged_procedure_shows_no_version() {
        let mut s = status(1, "running version 1");
        s.bindings = vec![
            binding(0, "main", 1, 1, "v1:proc:main"),
            binding(1, "extra", 0, 2, "v2:proc:extra"),
        ];
        let lines = procs_lines(&s);
        assert_eq!(lines[1], "   0  main         1  table 1 -> v1:proc:main");
        assert_eq!(
            lines[2],
            "   1  extra        -  table 2 -> v2:proc:extra (staged, not yet committed)"
        );
        assert_eq!(crate::fleet::version_words(&s), "1");
    }

    #[test]
    fn status_before_run_says_no_version_runs_not_version_0() {
        let before = status_lines("x", "h", &status(0, "not started"));
        assert_eq!(
            before[0],
            "program x on host h: not started; no version running yet"
        );
        let after = status_lines("x", "h", &status(2, "running version 2"));
        assert_eq!(
            after[0],
            "program x on host h: running version 2; highest running version 2"
        );
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn pizza_order() -> Vec<String> {
        s(&[
            "main",
            "do_pizza",
            "set_oven_temp",
            "mix_ingredients",
            "bake_pizza",
        ])
    }

    #[test]
    fn connect_says_new_or_what_it_holds() {
        let mut info = PupInfo {
            name: "x".into(),
            host: "goto".into(),
            pid: 1,
            fresh: true,
            versions: vec![],
            program: "not started".into(),
            pending: 0,
            region_base: 0,
            restored_ms: None,
        };
        assert_eq!(
            connect_lines(&info),
            [
                "Connected to pup for program x on host goto",
                "Pup for program x on host goto is new"
            ]
        );
        info.fresh = false;
        info.versions = vec![1, 2];
        info.program = "running version 1".into();
        info.pending = 1;
        assert_eq!(
            connect_lines(&info)[1],
            "Pup for program x on host goto holds versions 1, 2; program running version 1; 1 update pending"
        );
    }

    fn load_info(version: u64, mprocs: bool) -> LoadInfo {
        LoadInfo {
            version,
            slot: 0,
            procs: vec![],
            delta_matrix: String::new(),
            code_bytes: 1192,
            space_base: 0x26738,
            iprocs: vec![],
            mprocs: if mprocs {
                vec![("do_pizza".into(), 0x2860c, 264)]
            } else {
                vec![]
            },
            old_versions: vec![],
            table: 0,
            load_ns: 0,
        }
    }

    #[test]
    fn load_prints_the_papers_lines() {
        let m = "0 1 1 1 1\n0 0 1 1 1\n0 0 0 0 0\n0 0 0 0 0\n0 0 0 0 0\n";
        let lines = load_lines(
            "x",
            "goto",
            &LoadHow::Delta("pizza1.delta".into()),
            5,
            m,
            &load_info(1, false),
            None,
        );
        assert_eq!(
            lines,
            [
                "Load sequence begins...",
                "extracted updatable procedures from delta file pizza1.delta",
                "program x has 5 updatable procedures",
                "program x's procedures registered with pup name service on host goto",
                "delta* computed for 5 procedures in x:",
                "    0 1 1 1 1",
                "    0 0 1 1 1",
                "    0 0 0 0 0",
                "    0 0 0 0 0",
                "    0 0 0 0 0",
                "program object code image requires 1192 bytes",
                "program loading at address 0x26738 in pup x's address space on host goto",
                "program linking complete",
                "loaded VMC segment descriptor table into goto's VMC",
                "copying code to pup... complete",
                "no interprocedures loaded for version 1",
                "no mprocedures loaded for version 1",
                "Version 1 of program x loaded successfully",
            ]
        );
        let lines = load_lines(
            "x",
            "goto",
            &LoadHow::Compiled("pizza2.uc".into()),
            5,
            m,
            &load_info(2, true),
            Some(1),
        );
        assert_eq!(lines[1], "compiled pizza2.uc");
        let tail: Vec<&str> = lines[15..].iter().map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "no interprocedures loaded for version 2",
                "mproc object code image requires 264 bytes",
                "mproc loading at address 0x2860c in pup x's address space on host goto",
                "mproc linking complete",
                "mprocedures for: do_pizza",
                "copying code to pup... complete",
                "Version 2 of program x loaded successfully",
                "Version 2 mprocedures (from version 1) loaded successfully",
            ]
        );
    }

    #[test]
    fn statics_carried_or_started_afresh() {
        let old = compiler::compile(
            "a.uc",
            "main() { f(); g(); }\nf() { static int n = 1; static double d; n++; }\ng() { static int k; k++; }\n",
        )
        .unwrap();
        let new = compiler::compile(
            "b.uc",
            "main() { f(); g(); }\nf() { static int n = 1; static int d; static int e; n += 2; }\ng() { static int k; k++; }\n",
        )
        .unwrap();
        let (so, sn) = (
            compiler::diff::Summary::of_digested(&old),
            compiler::diff::Summary::of_digested(&new),
        );
        assert_eq!(
            statics_lines(1, &old, &so, &new, &sn),
            [
                "static data carried over from version 1 on update: f.n",
                "static data started afresh on update: f.e",
            ]
        );
        assert!(statics_lines(1, &old, &so, &old, &so).is_empty());
        // f.d held a double: its reset is a warning of its own, with both types.
        assert_eq!(
            reset_warnings(2, &old, &new),
            [
                "warning: update to version 2 resets f.d to its initializer: it holds double now, \
              version 2 declares it int, and no mproc carries it (`update 2 --strict` refuses)"
            ]
        );
        assert!(reset_warnings(2, &old, &old).is_empty());
    }

    #[test]
    fn big_matrices_are_shrunk_like_the_papers() {
        let row = vec!["0"; 20].join(" ");
        let m = vec![row; 20].join("\n");
        let rows = matrix_rows(&m, 16);
        assert_eq!(rows.len(), 17);
        assert!(rows[0].ends_with("0 0 ..."), "{}", rows[0]);
        assert_eq!(rows[16], "    :");
    }

    fn update_info(committed: &[&str], pending: bool) -> UpdateInfo {
        UpdateInfo {
            from: 1,
            to: 2,
            changed: s(&["bake_pizza", "do_pizza", "mix_ingredients", "set_oven_temp"]),
            reasons: vec![],
            backtrace: s(&["mix_ingredients", "do_pizza", "main"]),
            frames: vec![],
            warped_unchanged: s(&["main"]),
            committed: s(committed),
            pending: if pending {
                vec![s(&["do_pizza"])]
            } else {
                vec![]
            },
            failed: vec![],
            notes: vec![],
            resets: vec![],
            return_interrupts: pending,
            complete: !pending,
        }
    }

    #[test]
    fn update_prints_the_papers_screen() {
        let lines = update_lines(
            "x",
            &update_info(&["bake_pizza", "set_oven_temp"], true),
            &pizza_order(),
        );
        assert_eq!(
            lines,
            [
                "Update of program x from version 1 to version 2 begins...",
                "4 procedures have changed between versions:",
                "do_pizza",
                "set_oven_temp",
                "mix_ingredients",
                "bake_pizza",
                "program x runtime stack backtrace:",
                "mix_ingredients",
                "do_pizza",
                "main",
                "warped 1 unchanged procedure into version space 2",
                "computed inactive procedures:",
                "set_oven_temp",
                "bake_pizza",
                "warped 2 changed procedures into version space 2",
                "enabled procedure return interrupts",
                "Program x update initiated successfully",
            ]
        );
    }

    #[test]
    fn update_with_nothing_inactive_says_so() {
        let lines = update_lines("x", &update_info(&[], true), &pizza_order());
        assert!(lines.contains(
            &"no changed procedures could be warped to version space 2 at this time".to_string()
        ));
        assert!(!lines.iter().any(|l| l.starts_with("warped 0 changed")));
    }

    #[test]
    fn completion_lines() {
        let o = pizza_order();
        let e = |ending, applied: &[&[&str]], not: &[&[&str]], why: &[NotApplied]| UpdateEnded {
            id: 1,
            to: 2,
            ending,
            applied: applied.iter().map(|g| s(g)).collect(),
            not_applied: not
                .iter()
                .zip(why)
                .map(|(g, w)| pup_client::proto::NotAppliedGroup {
                    members: s(g),
                    why: w.clone(),
                })
                .collect(),
            at_exit: false,
        };
        assert_eq!(
            ended_line("x", &e(Ending::Complete, &[&["do_pizza"]], &[], &[]), &o),
            "*** Program x updated to version 2 successfully ***"
        );
        assert_eq!(
            ended_line(
                "x",
                &e(
                    Ending::Partial,
                    &[&["bake_pizza"]],
                    &[&["mix_ingredients", "do_pizza"]],
                    &[NotApplied::Within(Some(500))]
                ),
                &o
            ),
            "*** Program x update to version 2 partial: applied {bake_pizza}; not applied {do_pizza, mix_ingredients} (still active when within 500ms ran out) ***"
        );
        assert_eq!(
            ended_line(
                "x",
                &e(
                    Ending::NothingApplied,
                    &[],
                    &[&["do_pizza"], &["bake_pizza"]],
                    &[
                        NotApplied::Failed("mproc do_pizza trapped: division by zero".into()),
                        NotApplied::Abort
                    ]
                ),
                &o
            ),
            "*** Program x update to version 2 applied nothing: not applied {do_pizza} (mproc do_pizza trapped: division by zero), {bake_pizza} (abandoned by abort while still active) ***"
        );
        // Regression (issue 29): a partial outcome did not say how to get
        // all or nothing.
        let partial = Notice::UpdateComplete(e(
            Ending::Partial,
            &[&["bake_pizza"]],
            &[&["do_pizza"]],
            &[NotApplied::Failed(
                "mproc do_pizza trapped: division by zero".into(),
            )],
        ));
        let lines = notice_lines("x", &partial, &o).unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].contains("`update V --atomic` applies every group or none"));
        // Failing is decided on the variant: only what `abort` abandoned
        // was asked for (issue 22: no text prefix is matched).
        let Notice::UpdateComplete(p) = &partial else {
            unreachable!()
        };
        assert!(ending_fails(p));
        let aborted = e(
            Ending::NothingApplied,
            &[],
            &[&["do_pizza"]],
            &[NotApplied::Abort],
        );
        assert!(!ending_fails(&aborted));
        let within = e(
            Ending::NothingApplied,
            &[],
            &[&["do_pizza"]],
            &[NotApplied::Within(None)],
        );
        assert!(ending_fails(&within));
        let complete = Notice::UpdateComplete(e(Ending::Complete, &[&["do_pizza"]], &[], &[]));
        assert_eq!(notice_lines("x", &complete, &o).unwrap().len(), 1);
        // Regression (issue 29): an update pending on `main` that applied
        // only because `stop` ended the program said plain "successfully".
        let mut at_exit = e(Ending::Complete, &[&["main"]], &[], &[]);
        at_exit.at_exit = true;
        assert_eq!(
            ended_line("x", &at_exit, &o),
            "*** Program x updated to version 2 successfully when the program ended (no version-2 code ran; the next run starts at version 2) ***"
        );
        assert_eq!(count(1, "procedure"), "1 procedure");
        assert_eq!(count(0, "procedure"), "0 procedures");
        assert_eq!(
            group_failed_line(
                "x",
                2,
                &s(&["do_pizza"]),
                "mproc do_pizza trapped: division by zero",
                &o
            ),
            "*** Program x update to version 2: group {do_pizza} not applied: mproc do_pizza trapped: division by zero ***"
        );
        assert_eq!(
            exited_line("x", 0, "stopped"),
            "Program x ended (exit code 0): stopped"
        );
    }

    #[test]
    fn skipped_output_is_counted_in_words() {
        assert_eq!(
            skipped_line(1_234_567),
            "[pup: 1,234,567 bytes of program output skipped: this ush fell behind]"
        );
        assert_eq!(
            skipped_line(999),
            "[pup: 999 bytes of program output skipped: this ush fell behind]"
        );
        assert_eq!(
            skipped_line(1000),
            "[pup: 1,000 bytes of program output skipped: this ush fell behind]"
        );
    }
}
