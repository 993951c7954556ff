//! Beginning, checking, committing and abandoning updates (SPEC §4.2).

use super::active::{is_active, old_frames};
use super::plan::{Plan, binding_stores};
use super::retire::retire;
use super::{
    Abandoned, Barrier, Ending, Engine, Group, NotApplied, Program, Update, UpdateBegun,
    UpdateEnded,
};
use crate::binding::ProcId;
use crate::events::{Event, Primitive};
use crate::runtime::ExitStatus;
use crate::version::Version;
use crate::{FrameInfo, State};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// SPEC §4.2 step 1, with the program paused with `frames` on its stack
/// (innermost first; none if it is not running).
pub(crate) fn begin<P: Program>(
    sh: &mut P,
    st: &mut State,
    frames: Vec<FrameInfo>,
    plan: Plan,
    within: Option<Duration>,
) -> UpdateBegun {
    let Plan {
        from,
        to,
        changed,
        reasons,
        groups,
        warped,
        notes,
        resets,
    } = plan;
    let mut undo = Vec::new();
    let mut born = Vec::new();
    if let Some(target) = st.versions.get(&to) {
        for w in &warped {
            let id = ProcId(target.procs[w].id);
            if let Some(was) = st.engine.cur.insert(id, to) {
                undo.push((id, was));
            }
        }
        // Procedures new in the target and in no group: only new code
        // reaches them, so they run at the target from now on.
        for p in target.procs.values() {
            let id = ProcId(p.id);
            if !st.engine.cur.contains_key(&id) && !groups.iter().any(|g| g.members.contains(&id)) {
                st.engine.cur.insert(id, to);
                born.push(id);
            }
        }
    }
    sh.emit(Event::UpdateBegan { from, to });
    sh.emit(Event::Primitive(Primitive::GetRts));
    st.engine.next_id += 1;
    let id = st.engine.next_id;
    st.engine.pending.push(Update {
        id,
        from,
        to,
        groups,
        applied: vec![],
        not_applied: vec![],
        within,
        warped: undo,
        born,
        at_exit: false,
    });
    let outcome = check(sh, st, &frames);
    sh.emit(Event::Primitive(Primitive::SetHrvn));
    let still: Vec<Vec<String>> = st
        .engine
        .pending
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.groups.iter().map(|g| g.names.clone()).collect())
        .unwrap_or_default();
    let enabled = arm(sh, st, &frames, true);
    retire(sh, st, &frames);
    sh.emit(Event::Primitive(Primitive::Eof));
    let committed: Vec<String> = outcome
        .committed
        .iter()
        .flatten()
        .filter(|p| changed.contains(*p))
        .cloned()
        .collect();
    let failed = outcome.failed.clone();
    outcome.announce(sh);
    UpdateBegun {
        id,
        from,
        to,
        changed: changed.into_iter().collect(),
        reasons,
        backtrace: frames,
        warped_unchanged: warped,
        committed,
        pending: still.clone(),
        failed,
        notes,
        resets,
        return_interrupts: enabled,
        complete: still.is_empty(),
    }
}

#[derive(Default)]
pub(super) struct CheckOutcome {
    committed: Vec<Vec<String>>,
    failed: Vec<(Vec<String>, String)>,
    /// `UpdateComplete` events to send once the dispatch is over.
    completed: Vec<Event>,
}

impl CheckOutcome {
    fn announce<P: Program>(self, sh: &mut P) {
        for e in self.completed {
            sh.emit(e);
        }
    }
}

/// Commit every group that is inactive now; finish updates with nothing left.
pub(super) fn check<P: Program>(sh: &mut P, st: &mut State, frames: &[FrameInfo]) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    let mut pending = std::mem::take(&mut st.engine.pending);
    let mut blocked: HashSet<ProcId> = HashSet::new();
    for up in pending.iter_mut() {
        let old = match st.versions.get(&up.to) {
            Some(target) => old_frames(frames, target, up.to),
            None => vec![],
        };
        // Groups that stay are moved to `kept` in order (removing committed
        // ones from the front of a Vec would be quadratic in the pause).
        let mut kept = Vec::with_capacity(up.groups.len());
        for g in std::mem::take(&mut up.groups) {
            let stays = match st.versions.get(&up.to) {
                Some(target) => {
                    (!blocked.is_empty() && g.members.iter().any(|m| blocked.contains(m)))
                        || is_active(&g, target, &old)
                }
                None => true,
            };
            if stays {
                kept.push(g);
                continue;
            }
            match commit_group(sh, st, up, &g) {
                Ok(()) => {
                    out.committed.push(g.names.clone());
                    up.applied.push(g.names);
                }
                Err(e) => {
                    out.failed.push((g.names.clone(), e.clone()));
                    sh.emit(Event::GroupFailed {
                        to: up.to,
                        members: g.names.clone(),
                        error: e.clone(),
                    });
                    up.not_applied.push(Abandoned {
                        members: g.names,
                        why: NotApplied::Failed(e),
                    });
                }
            }
        }
        up.groups = kept;
        for g in &up.groups {
            blocked.extend(g.members.iter().copied());
        }
    }
    // Completions are announced by the caller after the dispatcher's DI POP
    // and EOF, in the paper's order.
    for up in pending.iter_mut().filter(|u| u.groups.is_empty()) {
        out.completed.push(completion(&mut st.engine, up));
    }
    pending.retain(|u| !u.groups.is_empty());
    st.engine.pending = pending;
    sh.notify_waiters();
    out
}

/// After a check: keep a barrier on the top frame while anything is
/// pending (EI POP), or take it away when nothing is (DI POP). Returns
/// whether return interrupts are enabled.
pub(super) fn arm<P: Program>(
    sh: &mut P,
    st: &mut State,
    frames: &[FrameInfo],
    at_begin: bool,
) -> bool {
    if st.engine.pending.is_empty() {
        if st.engine.return_interrupts {
            st.engine.return_interrupts = false;
            sh.emit(Event::Primitive(Primitive::DiPop));
        }
        sh.barrier(Barrier::Remove);
        return false;
    }
    if !st.engine.return_interrupts || at_begin {
        if !st.engine.return_interrupts {
            sh.emit(Event::Primitive(Primitive::EiPop));
        }
        st.engine.return_interrupts = true;
    }
    // The barrier goes on the return slot of the top frame: when it returns
    // the stack is shallower than now, and only then can anything have become
    // inactive. The entry frame returns into the runtime, which checks on exit.
    if frames.len() >= 2 {
        sh.barrier(Barrier::Install(frames[0].fp + 8));
    } else {
        sh.barrier(Barrier::Remove);
    }
    true
}

/// A return barrier fired (on the program thread).
pub(crate) fn recheck<P: Program>(sh: &mut P, st: &mut State, frames: &[FrameInfo]) {
    if st.engine.pending.is_empty() {
        return;
    }
    sh.emit(Event::Primitive(Primitive::GetRts));
    let outcome = check(sh, st, frames);
    arm(sh, st, frames, false);
    retire(sh, st, frames);
    sh.emit(Event::Primitive(Primitive::Eof));
    outcome.announce(sh);
}

/// The program ended: nothing is on the stack, so everything can commit.
pub(crate) fn on_exit<P: Program>(sh: &mut P, st: &mut State) {
    sh.barrier(Barrier::Drop);
    if !st.engine.pending.is_empty() {
        for up in &mut st.engine.pending {
            up.at_exit = true;
        }
        let outcome = check(sh, st, &[]);
        st.engine.return_interrupts = false;
        retire(sh, st, &[]);
        outcome.announce(sh);
        return;
    }
    st.engine.return_interrupts = false;
    retire(sh, st, &[]);
}

/// The `UpdateComplete` event of a finished update, which the engine also
/// remembers (for `wait`s that began before it ended). The update is done
/// with: its group lists move into the event (one copy is made, for the
/// record, as the event alone used to take).
pub(super) fn completion(engine: &mut Engine, up: &mut Update) -> Event {
    let applied = std::mem::take(&mut up.applied);
    if applied.is_empty() && !up.not_applied.is_empty() {
        // Nothing applied (an update with no groups is complete, not
        // this): no code reaches a procedure through
        // the target's table until a group commits, so the warp and the
        // new procedures' bindings are undone (unless a later update has
        // moved them since).
        for (id, was) in std::mem::take(&mut up.warped) {
            if engine.cur.get(&id) == Some(&up.to) {
                engine.cur.insert(id, was);
            }
        }
        for id in std::mem::take(&mut up.born) {
            if engine.cur.get(&id) == Some(&up.to) {
                engine.cur.remove(&id);
            }
        }
    }
    let not_applied = std::mem::take(&mut up.not_applied);
    let ended = UpdateEnded {
        id: up.id,
        to: up.to,
        ending: Ending::of(applied.len(), not_applied.len()),
        applied,
        not_applied,
        at_exit: up.at_exit,
    };
    engine.remember(ended.clone());
    Event::UpdateComplete(ended)
}

/// Why pending groups are abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbandonReason {
    /// The update's `within` ran out.
    Within,
    /// `abort`.
    Abort,
}

/// Abandon the pending groups of update `id` (or of all). Program paused.
pub(crate) fn abandon<P: Program>(
    sh: &mut P,
    st: &mut State,
    id: Option<u64>,
    why: AbandonReason,
) -> usize {
    let mut n = 0;
    let mut outcome = CheckOutcome::default();
    let mut pending = std::mem::take(&mut st.engine.pending);
    for up in pending.iter_mut().filter(|u| id.is_none_or(|i| i == u.id)) {
        n += up.groups.len();
        let reason = match why {
            AbandonReason::Within => NotApplied::Within(up.within),
            AbandonReason::Abort => NotApplied::Abort,
        };
        for g in up.groups.drain(..) {
            up.not_applied.push(Abandoned {
                members: g.names,
                why: reason.clone(),
            });
        }
        outcome.completed.push(completion(&mut st.engine, up));
    }
    pending.retain(|u| !u.groups.is_empty());
    st.engine.pending = pending;
    if st.engine.pending.is_empty() {
        arm(sh, st, &[], false);
    }
    sh.notify_waiters();
    outcome.announce(sh);
    n
}

pub(super) fn data_restore<P: Program>(sh: &mut P, v: &Version, addr: u64) {
    if let Some(bytes) = v.init_data.get(&addr) {
        // SAFETY: an owned, committed data segment of a live version.
        unsafe { sh.write(addr, bytes) };
    }
}

/// A data segment's slots: (name, offset, type).
type Slots<'a> = Vec<(&'a str, u32, compiler::ir::VarTy)>;

/// One data segment a commit prepares: the target's segment and its slots
/// (name, offset, type), and the old segment with its slots, if any.
pub(super) struct DataMove<'a> {
    name: &'a String,
    new_base: u64,
    new: Slots<'a>,
    old: Option<(u64, Slots<'a>)>,
}

/// Prepare (carry-over, mprocs) and commit one group.
pub(super) fn commit_group<P: Program>(
    sh: &mut P,
    st: &mut State,
    up: &Update,
    g: &Group,
) -> Result<(), String> {
    let t0 = Instant::now();
    let to = up.to;
    let target = &st.versions[&to];
    let mut touched: Vec<u64> = Vec::new();
    let mut carried_events = Vec::new();
    let mut result: Result<(), String> = Ok(());

    // What moves: each member's statics and each changed global's value (a
    // global is one "static" at offset 0 of its own segment). Only segments
    // the target version owns are written.
    let mut moves: Vec<DataMove> = Vec::new();
    let has_data = g.pre.has_data || g.pre.stores_gen.is_none();
    for p in g.names.iter().filter(|_| has_data) {
        let Some(np) = target.procs.get(p) else {
            continue;
        };
        if np.data_owner != to || np.data == 0 {
            continue;
        }
        let src = st
            .engine
            .cur
            .get(&ProcId(np.id))
            .copied()
            .unwrap_or(up.from);
        let old = st
            .versions
            .get(&src)
            .and_then(|v| v.procs.get(p))
            .filter(|op| op.data != 0 && op.data != np.data)
            .map(|op| {
                (
                    op.data,
                    op.statics
                        .iter()
                        .map(|o| (o.name.as_str(), o.offset, o.ty))
                        .collect(),
                )
            });
        let new = np
            .statics
            .iter()
            .map(|s| (s.name.as_str(), s.offset, s.ty))
            .collect();
        moves.push(DataMove {
            name: p,
            new_base: np.data,
            new,
            old,
        });
    }
    for gname in &g.globals {
        let Some(ng) = target.globals.get(gname) else {
            continue;
        };
        if ng.owner != to {
            continue;
        }
        let old = st
            .versions
            .get(&up.from)
            .and_then(|v| v.globals.get(gname))
            .filter(|og| og.addr != ng.addr)
            .map(|og| (og.addr, vec![(gname.as_str(), 0, og.ty)]));
        moves.push(DataMove {
            name: gname,
            new_base: ng.addr,
            new: vec![(gname.as_str(), 0, ng.ty)],
            old,
        });
    }

    // Prepare: restore the new segment, carry same-name same-type values
    // over, then run the mprocedure (which sees old data read-only).
    for m in &moves {
        data_restore(sh, target, m.new_base);
        touched.push(m.new_base);
        let (mut carried, mut reset) = (vec![], vec![]);
        for &(name, off, ty) in &m.new {
            // A string literal's bytes (a hidden static named `"N`) are
            // the new version's own text, never the old one's.
            if name.starts_with('"') {
                continue;
            }
            let from = m.old.as_ref().and_then(|(base, slots)| {
                slots
                    .iter()
                    .find(|o| o.0 == name && o.2 == ty)
                    .map(|o| base + o.1 as u64)
            });
            match from {
                Some(src) => {
                    let dst = m.new_base + off as u64;
                    // SAFETY: both are committed data segments of live versions.
                    unsafe {
                        let v = sh.read(src, ty.size() as usize);
                        sh.write(dst, &v)
                    };
                    carried.push(name.to_string());
                }
                None => reset.push(name.to_string()),
            }
        }
        let mut set = Vec::new();
        if let Some(mp) = target.mprocs.get(m.name) {
            let src = target
                .procs
                .get(m.name)
                .and_then(|p| st.engine.cur.get(&ProcId(p.id)))
                .copied();
            if let (Some(compiled), Some(src)) = (mp.old_version, src)
                && compiled != src
                && m.old.is_some()
            {
                result = Err(format!(
                    "mproc {} reads old data of version {compiled}, but {} is at version {src}: load the new version again so that its mproc is checked against version {src}",
                    m.name, m.name
                ));
                break;
            }
            // What the statics hold before the mproc, to tell afterwards
            // which ones it set (the report says how they finally are).
            let before: Vec<Vec<u8>> = m
                .new
                .iter()
                .map(|&(_, off, ty)| read_bytes(sh, m.new_base + off as u64, ty.size() as usize))
                .collect();
            let status = sh.run_mproc(
                &format!("v{to}:mproc:{}", m.name),
                mp.addr,
                m.old.as_ref().map_or(0, |o| o.0),
            );
            match status {
                ExitStatus::Returned => {}
                other => {
                    result = Err(mproc_failure(&format!("mproc {}", m.name), other));
                    break;
                }
            }
            for (i, &(name, off, ty)) in m.new.iter().enumerate() {
                if read_bytes(sh, m.new_base + off as u64, ty.size() as usize) != before[i] {
                    set.push(name.to_string());
                }
            }
            carried.retain(|c| !set.contains(c));
            reset.retain(|c| !set.contains(c));
        }
        carried_events.push(Event::Carried {
            name: m.name.clone(),
            carried,
            set,
            reset,
        });
    }
    if let Err(e) = result {
        for a in touched {
            data_restore(sh, target, a);
        }
        return Err(e);
    }
    for e in carried_events {
        sh.emit(e);
    }

    // Commit: store the bindings of every member in every older live table
    // (worked out before the pause unless a version came or went since).
    let fresh;
    let stores = if g.pre.stores_gen == Some(st.engine.versions_gen) {
        &g.pre.stores
    } else {
        fresh = binding_stores(&st.versions, to, &g.names);
        &fresh
    };
    for &(table, id, addr) in stores {
        // SET SDTE. SAFETY: `table` belongs to a live version (the stores
        // were worked out with the same versions loaded); the program is
        // paused or is this thread; `resolve` chose code callers through
        // this table may reach.
        unsafe { sh.store_binding(table, id, addr) };
    }
    for gname in &g.globals {
        if let Some(gi) = target.globals.get(gname) {
            st.engine.global_cur.insert(ProcId(gi.id), to);
        }
    }
    for &id in &g.members {
        sh.emit(Event::Primitive(Primitive::SetSdte));
        st.engine.cur.insert(id, to);
    }
    let pause_ns = t0.elapsed().as_nanos() as u64;
    st.engine.pauses.push_back(pause_ns);
    if st.engine.pauses.len() > 1024 {
        st.engine.pauses.pop_front();
    }
    sh.emit(Event::GroupCommitted {
        to,
        members: g.names.clone(),
        pause_ns,
    });
    Ok(())
}

pub(super) fn mproc_failure(name: &str, st: ExitStatus) -> String {
    match st {
        ExitStatus::TimedOut | ExitStatus::Stopped => format!("{name} ran out of time"),
        ExitStatus::Error(e) => format!("{name} trapped: {}", e.message),
        ExitStatus::Exit(c) => format!("{name} called exit({c})"),
        ExitStatus::Returned => String::new(),
    }
}

/// A copy of `len` bytes of a committed data segment.
pub(super) fn read_bytes<P: Program>(sh: &P, addr: u64, len: usize) -> Vec<u8> {
    // SAFETY: callers pass a slot inside a committed data segment of a live
    // version (the target's own segment being prepared).
    unsafe { sh.read(addr, len) }
}
