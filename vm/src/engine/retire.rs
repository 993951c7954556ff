//! Retiring versions nothing needs any more (SPEC §3.1).

use super::{Program, RECENT_RETIRED};
use crate::binding::ProcId;
use crate::events::Event;
use crate::ids::{Slot, VersionNo};
use crate::{FrameInfo, State};
use std::collections::{HashMap, HashSet};

/// Retire every version space nothing needs any more (SPEC §3.1).
pub(super) fn retire<P: Program>(sh: &mut P, st: &mut State, frames: &[FrameInfo]) {
    let newest = st
        .versions
        .keys()
        .next_back()
        .copied()
        .unwrap_or(VersionNo(0));
    let mut busy: HashSet<VersionNo> = frames.iter().map(|f| f.version).collect();
    busy.insert(newest);
    let hrvn = st.engine.hrvn();
    busy.insert(hrvn);
    for up in &st.engine.pending {
        busy.insert(up.from);
        busy.insert(up.to);
    }
    let slot_of: HashMap<Slot, VersionNo> =
        st.versions.values().map(|v| (v.slot, v.number)).collect();
    for v in st.versions.values() {
        for p in v.procs.values() {
            if p.data != 0 && p.data_owner != v.number {
                busy.insert(p.data_owner);
            }
            if let Some(target) = v.bindings().get(ProcId(p.id))
                && let Some(a) = sh.decode(target)
                && let Some(&tv) = slot_of.get(&a.slot)
                && tv != v.number
            {
                busy.insert(tv);
            }
        }
        for g in v.globals.values() {
            if g.owner != v.number {
                busy.insert(g.owner);
            }
        }
    }
    let running = st.ctl.running;
    let dead: Vec<VersionNo> = st
        .versions
        .keys()
        .copied()
        .filter(|v| *v < hrvn && !busy.contains(v) && (running || st.engine.pending.is_empty()))
        .collect();
    for v in dead {
        if let Some(ver) = st.versions.remove(&v) {
            st.engine.versions_gen += 1;
            // SAFETY: `ver` is dead: no frame runs it, no table points into it.
            unsafe { sh.release(&ver) };
            st.slots[ver.slot.index()] = false;
            st.engine.retired.push_back(v);
            if st.engine.retired.len() > RECENT_RETIRED {
                st.engine.retired.pop_front();
            }
            st.engine.retired_count += 1;
            sh.emit(Event::Retired {
                version: v,
                slot: ver.slot,
            });
        }
    }
}
