//! Planning an update (SPEC §4.1): the changed set, the groups, and the
//! binding stores of each group's commit, worked out before the pause.

use super::{Engine, Group, Loaded, Reset, UpdateError, UpdateRequest, Versions};
use crate::binding::{BindingTable, ProcId};
use crate::ids::VersionNo;
use std::collections::{BTreeSet, HashMap};

pub(super) struct Uf {
    parent: HashMap<String, String>,
}

impl Uf {
    fn find(&mut self, x: &str) -> String {
        let p = self
            .parent
            .entry(x.to_string())
            .or_insert_with(|| x.to_string())
            .clone();
        if p == x {
            return p;
        }
        let r = self.find(&p);
        self.parent.insert(x.to_string(), r.clone());
        r
    }
    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent.insert(ra, rb);
        }
    }
}

/// What an update will do, worked out before the program is paused (the
/// diff and the groups cost time that should not be pause time).
pub(crate) struct Plan {
    pub(super) from: VersionNo,
    pub(super) to: VersionNo,
    pub(super) changed: BTreeSet<String>,
    pub(super) reasons: Vec<String>,
    pub(super) groups: Vec<Group>,
    pub(super) warped: Vec<String>,
    pub(super) notes: Vec<String>,
    pub(super) resets: Vec<Reset>,
}

/// Work out an update (SPEC §4.1) without touching the program.
pub(crate) fn plan(
    loaded: Loaded<'_>,
    engine: &Engine,
    req: &UpdateRequest,
) -> Result<Plan, UpdateError> {
    let to = match req.to {
        Some(t) => t,
        None => *loaded
            .versions
            .keys()
            .next_back()
            .ok_or(UpdateError::NoVersion(VersionNo(0)))?,
    };
    let target = loaded.versions.get(&to).ok_or(UpdateError::NoVersion(to))?;
    // Versions are a number line (SPEC §4.2.1): the target may be any loaded
    // version that no procedure has passed; the update moves those not yet
    // at it, starting from the oldest committed version among them.
    if let Some((id, &committed)) = engine
        .cur
        .iter()
        .filter(|(_, c)| **c > to)
        .min_by_key(|(id, _)| **id)
    {
        return Err(UpdateError::Older {
            to,
            name: loaded.names.name(id.0).unwrap_or("?").to_string(),
            committed,
        });
    }
    if engine.pending.iter().any(|u| u.to == to) {
        return Err(UpdateError::AlreadyPending(to));
    }
    // Where each procedure will be when this update applies: its committed
    // version, or the target of an earlier pending update that moves it.
    let behind = target
        .procs
        .values()
        .map(|p| ProcId(p.id))
        .filter(|id| engine.cur.get(id).is_some_and(|&c| c < to))
        .filter_map(|id| engine.old_version(id))
        .min();
    let from = match (req.from, behind) {
        (Some(f), _) => f,
        (None, Some(b)) => b,
        (None, None) => return Err(UpdateError::AlreadyAt(to)),
    };
    if !loaded.versions.contains_key(&from) && !engine.retired.contains(&from) {
        // (A version retired long ago is simply "not loaded".)
        return Err(UpdateError::NoVersion(from));
    }
    if to <= from {
        return Err(UpdateError::Order { from, to });
    }

    // Changed procedures: compared per procedure against the version it is
    // committed to now (after an abandoned group that may be older than `from`).
    let mut diffs: HashMap<VersionNo, compiler::diff::Diff> = HashMap::new();
    let mut changed = BTreeSet::new();
    let mut reasons = Vec::new();
    let mut changed_globals = BTreeSet::new();
    for (name, np) in &target.procs {
        let src = engine.cur.get(&ProcId(np.id)).copied().unwrap_or(from);
        if src >= to {
            continue;
        }
        let Some(sv) = loaded.versions.get(&src) else {
            continue;
        };
        if !sv.procs.contains_key(name) {
            continue; // new in the target: only new code reaches it
        }
        let d = diffs
            .entry(src)
            .or_insert_with(|| compiler::diff::diff_summaries(&sv.summary, &target.summary));
        if let Some(c) = d.changed.iter().find(|c| &c.name == name) {
            changed.insert(name.clone());
            let rs: Vec<String> = c.reasons.iter().map(|r| r.to_string()).collect();
            reasons.push(format!("{name}: {}", rs.join(", ")));
        }
    }
    if let Some(sv) = loaded.versions.get(&from) {
        let d = diffs
            .entry(from)
            .or_insert_with(|| compiler::diff::diff_summaries(&sv.summary, &target.summary));
        changed_globals.extend(d.changed_globals.iter().cloned());
        for g in &target.module.mprocs {
            if target.globals.contains_key(&g.name) {
                changed_globals.insert(g.name.clone());
            }
        }
        changed_globals.retain(|g| sv.globals.contains_key(g) && target.globals.contains_key(g));
        // A global already moved to the target (by an earlier try of this
        // update) keeps the value the program has given it since.
        changed_globals.retain(|g| {
            target
                .globals
                .get(g)
                .and_then(|gi| engine.global_cur.get(&ProcId(gi.id)))
                .is_none_or(|&v| v < to)
        });
    }
    if let Some(list) = &req.changed {
        let missing: Vec<&String> = changed.iter().filter(|c| !list.contains(c)).collect();
        if !missing.is_empty() {
            let m: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return Err(UpdateError::Changes(format!(
                "the changes file omits procedures that changed: {}",
                m.join(" ")
            )));
        }
        for p in list {
            if !target.procs.contains_key(p) {
                return Err(UpdateError::Changes(format!(
                    "changed: version {to} has no procedure {p}"
                )));
            }
            changed.insert(p.clone());
        }
    }
    for t in &req.together {
        for p in t {
            if !target.procs.contains_key(p) {
                return Err(UpdateError::Changes(format!(
                    "together: version {to} has no procedure {p}"
                )));
            }
        }
    }

    // Groups: changed procedures, together lists, automatic groups.
    let mut uf = Uf {
        parent: HashMap::new(),
    };
    let mut in_group: BTreeSet<String> = changed.clone();
    let mut notes = Vec::new();
    for t in &req.together {
        for p in t {
            in_group.insert(p.clone());
            uf.union(&t[0], p);
        }
    }
    let src_module = loaded.versions.get(&from).map(|v| v.module.clone());
    // A procedure's code in the version it will be running when this update
    // applies (SPEC §4.2.1: "old" is per procedure).
    let old_proc = |name: &str| -> Option<&compiler::ir::Proc> {
        let v = loaded
            .names
            .id(name)
            .and_then(|id| engine.old_version(ProcId(id)))
            .unwrap_or(from);
        let ver = loaded
            .versions
            .get(&v)
            .or_else(|| loaded.versions.get(&from))?;
        ver.index.get(name).map(|&i| &ver.module.procs[i])
    };
    let resets = resets(
        loaded,
        engine,
        &changed,
        &changed_globals,
        from,
        to,
        &old_proc,
    );
    if req.strict && !resets.is_empty() {
        return Err(UpdateError::WouldReset(resets));
    }
    if let Some(sm) = &src_module {
        for p in &changed {
            let (Some(old), Some(new)) = (old_proc(p), target.procs.get(p)) else {
                continue;
            };
            let iproc_fits = target
                .iprocs
                .get(p)
                .is_some_and(|i| i.old_sig.as_ref() == Some(&old.sig));
            if old.sig != new.sig && !iproc_fits {
                let callers: Vec<String> = target
                    .module
                    .procs
                    .iter()
                    .filter_map(|q| old_proc(&q.name))
                    .filter(|q| q.callees.contains(p))
                    .map(|q| q.name.clone())
                    .collect();
                for c in &callers {
                    in_group.insert(c.clone());
                    uf.union(p, c);
                }
                if !callers.is_empty() {
                    notes.push(format!(
                        "{p} changed its signature and has no interprocedure: its callers {} join its group",
                        callers.join(" ")
                    ));
                }
            }
        }
        for g in &changed_globals {
            let users: BTreeSet<String> = sm
                .procs
                .iter()
                .chain(target.module.procs.iter())
                .filter(|q| q.globals_used.contains(g) && target.procs.contains_key(&q.name))
                .map(|q| q.name.clone())
                .collect();
            let users: Vec<String> = users.into_iter().collect();
            for u in &users {
                in_group.insert(u.clone());
                uf.union(&users[0], u);
            }
            notes.push(format!(
                "global {g} changed: its users {} form a group",
                users.join(" ")
            ));
        }
    }
    if req.atomic {
        let all: Vec<String> = in_group.iter().cloned().collect();
        for p in &all {
            uf.union(&all[0], p);
        }
    }
    let mut groups: HashMap<String, Group> = HashMap::new();
    for p in &in_group {
        let r = uf.find(p);
        groups.entry(r).or_default().names.push(p.clone());
    }
    if let Some(sm) = &src_module {
        for g in &changed_globals {
            let user = sm
                .procs
                .iter()
                .chain(target.module.procs.iter())
                .find(|q| q.globals_used.contains(g) && target.procs.contains_key(&q.name));
            match user {
                Some(u) => {
                    let r = uf.find(&u.name);
                    groups.get_mut(&r).unwrap().globals.push(g.clone());
                }
                None => {
                    // Nobody uses it: its data moves at once.
                    groups.insert(
                        format!("global {g}"),
                        Group {
                            globals: vec![g.clone()],
                            ..Group::default()
                        },
                    );
                }
            }
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    for g in &mut groups {
        g.names.sort();
    }
    groups.sort_by(|a, b| a.names.cmp(&b.names));
    for g in &mut groups {
        precompute(loaded.versions, engine.versions_gen, to, g);
    }

    // Warp: unchanged procedures in no group are flagged new.
    let mut warped = Vec::new();
    for name in target.names_by_id() {
        let id = ProcId(target.procs[name].id);
        if !in_group.contains(name) && engine.cur.get(&id).is_some_and(|&c| c < to) {
            warped.push(name.to_string());
        }
    }
    Ok(Plan {
        from,
        to,
        changed,
        reasons,
        groups,
        warped,
        notes,
        resets,
    })
}

/// The statics of changed procedures and the changed globals that the
/// update will start from their initializers although the version they
/// leave has a value of the same name: the type changed and no mproc of the
/// target carries it (the carry-over of commit's prepare copies only
/// same-name, same-type data).
fn resets<'a>(
    loaded: Loaded<'a>,
    engine: &Engine,
    changed: &BTreeSet<String>,
    changed_globals: &BTreeSet<String>,
    from: VersionNo,
    to: VersionNo,
    old_proc: &dyn Fn(&str) -> Option<&'a compiler::ir::Proc>,
) -> Vec<Reset> {
    let Some(target) = loaded.versions.get(&to) else {
        return vec![];
    };
    let mut out = Vec::new();
    for p in changed {
        let (Some(old), Some(new)) = (old_proc(p), target.procs.get(p)) else {
            continue;
        };
        if target.mprocs.contains_key(p) {
            continue;
        }
        let was = loaded
            .names
            .id(p)
            .and_then(|id| engine.old_version(ProcId(id)))
            .unwrap_or(from);
        for s in &new.statics {
            if let Some(o) = old
                .statics
                .iter()
                .find(|o| o.name == s.name && o.ty != s.ty)
            {
                out.push(Reset {
                    name: format!("{p}.{}", s.name),
                    from: was,
                    old: o.ty,
                    new: s.ty,
                });
            }
        }
    }
    if let Some(sv) = loaded.versions.get(&from) {
        for g in changed_globals {
            if target.mprocs.contains_key(g) {
                continue;
            }
            if let (Some(o), Some(n)) = (sv.globals.get(g), target.globals.get(g))
                && o.ty != n.ty
            {
                out.push(Reset {
                    name: g.clone(),
                    from,
                    old: o.ty,
                    new: n.ty,
                });
            }
        }
    }
    out
}

/// Fill in a group's members (by ID) and `g.pre` from its names, against
/// the current versions.
pub(super) fn precompute(versions: &Versions, versions_gen: u64, to: VersionNo, g: &mut Group) {
    let Some(target) = versions.get(&to) else {
        return;
    };
    g.members = g
        .names
        .iter()
        .filter_map(|m| target.procs.get(m).map(|p| ProcId(p.id)))
        .collect();
    g.pre.idx = g
        .names
        .iter()
        .filter_map(|m| target.index.get(m).copied())
        .collect();
    g.pre.has_data = !g.globals.is_empty()
        || g.names.iter().any(|m| {
            target.mprocs.contains_key(m)
                || target
                    .procs
                    .get(m)
                    .is_some_and(|np| np.data_owner == to && np.data != 0)
        });
    g.pre.stores = binding_stores(versions, to, &g.names);
    g.pre.stores_gen = Some(versions_gen);
}

/// The stores that rebind `members` to version `to` in every older live
/// table (SET SDTE): each `table_u[P]` gets what [`resolve`] says.
pub(super) fn binding_stores(
    versions: &Versions,
    to: VersionNo,
    members: &[String],
) -> Vec<(BindingTable, ProcId, u64)> {
    let mut out = Vec::with_capacity(members.len() * 2);
    for p in members {
        for (&u, uv) in versions.range(..to).rev() {
            let Some(addr) = resolve(versions, u, p, to) else {
                continue;
            };
            let table = uv.bindings();
            let id = ProcId(uv.procs[p].id);
            if table.entry(id).is_some() {
                out.push((table, id, addr));
            }
        }
    }
    out
}

/// What `table_u[P]` should hold once P is committed to `to`: the new code
/// when the signature is the same (identity links collapse), else the first
/// interprocedure that accepts version u's signature. `None` leaves the old
/// binding: then only old callers (all in P's group) reach it.
pub(super) fn resolve(versions: &Versions, u: VersionNo, p: &str, to: VersionNo) -> Option<u64> {
    let sig_u = &versions.get(&u)?.procs.get(p)?.sig;
    let tv = versions.get(&to)?;
    let np = tv.procs.get(p)?;
    if let Some(ip) = tv.iprocs.get(p)
        && ip.old_sig.as_ref() == Some(sig_u)
    {
        return Some(ip.addr);
    }
    if *sig_u == np.sig {
        return Some(np.code);
    }
    versions.range(VersionNo(u.0 + 1)..to).find_map(|(_, w)| {
        w.iprocs
            .get(p)
            .filter(|ip| ip.old_sig.as_ref() == Some(sig_u))
            .map(|ip| ip.addr)
    })
}
