//! What the observer shows, as a plain struct fed by events (no sockets,
//! threads or clocks inside): the shell calls the `on_*` methods with what
//! it already receives from pups, the server asks for [`Observed::view`].
//!
//! Invariants:
//! - Every change bumps [`Observed::seq`], so a reader that saw `seq` knows
//!   whether there is anything new.
//! - Memory is bounded by the program, not by time: the output pane is a
//!   ring of [`OUTPUT_KEEP`] lines with a count of those it dropped, the
//!   timeline keeps [`TIMELINE_KEEP`] rows.
//! - A view's graph is bounded too: at most [`GRAPH_SHOWN`] procedures
//!   (all of a small program; of a large one the changed procedures, what
//!   is on the stack or pending, their callers, and search matches).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use pup_client::proto::{
    EntryKind, EntryOutcome, FrameRow, HistoryRow, JournalState, StatusInfo, UpdateEnded,
    UpdateInfo,
};
use serde::Serialize;

/// Lines of program output kept for the output pane.
pub(crate) const OUTPUT_KEEP: usize = 500;
/// Longest line kept (longer ones are cut, with `…`).
const LINE_KEEP: usize = 400;
/// Timeline rows kept per pup (older ones are dropped, and counted).
pub(crate) const TIMELINE_KEEP: usize = 1000;
/// Most procedures a view's graph holds.
pub(crate) const GRAPH_SHOWN: usize = 300;
/// Most search matches added to a view's graph.
const SEARCH_SHOWN: usize = 50;

/// One row of the timeline (SPEC §5.6): from the journal when the pup has
/// one, else from what this ush saw happen.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind")]
pub(crate) enum Row {
    /// A version was loaded.
    Load {
        /// When (ms since the epoch; 0 when unknown).
        at_ms: u64,
        /// The version.
        version: u64,
    },
    /// An update from one version to another.
    Update {
        /// When it began.
        at_ms: u64,
        /// From.
        from: u64,
        /// To.
        to: u64,
        /// `pending`, `complete`, `partial`, `nothing applied`, ….
        outcome: String,
        /// The longest pause of the program it cost, ns (from the journal).
        pause_ns: Option<u64>,
    },
    /// An update back to an earlier version's code.
    Revert {
        /// When it began.
        at_ms: u64,
        /// From.
        from: u64,
        /// The new version number.
        to: u64,
        /// The version whose code it is again.
        code_of: Option<u64>,
        /// As for updates.
        outcome: String,
        /// As for updates.
        pause_ns: Option<u64>,
    },
    /// A loop frame moved into a new version (reserved for the loop work,
    /// SPEC §2.3: nothing reports it yet).
    #[allow(
        dead_code,
        reason = "reserved for the loop work: no notice reports a frame move yet"
    )]
    FrameMoved {
        /// When.
        at_ms: u64,
        /// The procedure whose frame moved.
        proc: String,
        /// From.
        from: u64,
        /// To.
        to: u64,
    },
}

/// The output pane: the last [`OUTPUT_KEEP`] lines and how many went.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Output {
    /// The lines, oldest first.
    lines: VecDeque<String>,
    /// Lines dropped from view.
    dropped: u64,
    /// Program output after the last newline.
    #[serde(skip)]
    partial: String,
}

impl Output {
    fn push_bytes(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let mut rest: &str = &text;
        while let Some(i) = rest.find('\n') {
            let mut line = std::mem::take(&mut self.partial);
            line.push_str(&rest[..i]);
            self.push_line(line);
            rest = &rest[i + 1..];
        }
        if self.partial.len() < LINE_KEEP * 4 {
            self.partial.push_str(rest);
        }
    }

    fn push_line(&mut self, mut line: String) {
        if line.len() > LINE_KEEP {
            let cut = (0..=LINE_KEEP)
                .rev()
                .find(|&i| line.is_char_boundary(i))
                .unwrap_or(0);
            line.truncate(cut);
            line.push('…');
        }
        if self.lines.len() == OUTPUT_KEEP {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }
}

/// A procedure of the graph.
#[derive(Clone, Debug)]
struct Proc {
    name: String,
    /// Callees, by index into [`Pup::procs`].
    callees: Vec<u32>,
    /// Callers, by index.
    callers: Vec<u32>,
    /// Distance from `main` along calls (unreached ones after the deepest).
    layer: u32,
    /// The version it is committed to (0: not known yet).
    committed: u64,
}

/// A pending group and what it waits for.
#[derive(Clone, Debug, Serialize)]
struct PendingGroup {
    from: u64,
    to: u64,
    members: Vec<String>,
    /// Its members still on the stack: the group commits when they have
    /// all returned.
    waits_for: Vec<String>,
}

/// A version and its slot.
#[derive(Clone, Debug, Serialize)]
struct Version {
    version: u64,
    slot: u32,
    procs: usize,
    code_bytes: u64,
}

/// A stack frame.
#[derive(Clone, Debug, Serialize)]
struct Frame {
    name: String,
    version: u64,
    kind: String,
}

/// One pup's part of the page.
#[derive(Clone, Debug, Default)]
struct Pup {
    host: String,
    program: String,
    hrvn: u64,
    versions: Vec<Version>,
    journal: Option<String>,
    procs: Vec<Proc>,
    index: HashMap<String, u32>,
    stack: Vec<Frame>,
    pending: Vec<PendingGroup>,
    /// Procedures the updates this ush began changed.
    changed: BTreeSet<String>,
    timeline: VecDeque<Row>,
    timeline_dropped: u64,
    /// The timeline came from the journal (not from events).
    from_journal: bool,
    /// How each update this ush saw end ended, by its version: the
    /// journal's row of an update may still say `pending` when ush reads
    /// it (the pup writes the ending after the notice), and the page must
    /// not show a finished update as pending.
    ended: BTreeMap<u64, String>,
    output: Output,
}

/// The observer's state: one entry per pup, by program name.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Bumped by every change.
    pub(crate) seq: u64,
    /// The current program.
    current: Option<String>,
    pups: BTreeMap<String, Pup>,
}

impl Observed {
    fn pup(&mut self, name: &str) -> &mut Pup {
        self.seq += 1;
        self.pups.entry(name.to_string()).or_default()
    }

    /// The shell's current program is `name`.
    pub(crate) fn on_current(&mut self, name: Option<&str>) {
        if self.current.as_deref() != name {
            self.seq += 1;
            self.current = name.map(str::to_string);
        }
    }

    /// The current program's name, if there is one.
    pub(crate) fn view_program(&self) -> Option<String> {
        self.current.clone()
    }

    /// Connected to `name`'s pup on `host`.
    pub(crate) fn on_connect(&mut self, name: &str, host: &str) {
        self.pup(name).host = host.to_string();
    }

    /// Version `version` was loaded: its procedures and their callees
    /// (names), in procedure-ID order. The newest load's call graph is
    /// the one drawn.
    pub(crate) fn on_load(
        &mut self,
        name: &str,
        version: u64,
        at_ms: u64,
        procs: &[(String, Vec<String>)],
    ) {
        let p = self.pup(name);
        let old: HashMap<String, u64> = p
            .procs
            .iter()
            .map(|q| (q.name.clone(), q.committed))
            .collect();
        p.index = procs
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i as u32))
            .collect();
        p.procs = procs
            .iter()
            .map(|(n, callees)| {
                let mut cs: Vec<u32> = callees
                    .iter()
                    .filter_map(|c| p.index.get(c).copied())
                    .collect();
                cs.sort_unstable();
                cs.dedup();
                Proc {
                    name: n.clone(),
                    callees: cs,
                    callers: Vec::new(),
                    layer: 0,
                    committed: old.get(n).copied().unwrap_or(0),
                }
            })
            .collect();
        for i in 0..p.procs.len() {
            for k in 0..p.procs[i].callees.len() {
                let c = p.procs[i].callees[k] as usize;
                p.procs[c].callers.push(i as u32);
            }
        }
        layer(&mut p.procs, p.index.get("main").copied());
        if !p.from_journal {
            push_row(p, Row::Load { at_ms, version });
        }
    }

    /// What `status` answered.
    pub(crate) fn on_status(&mut self, name: &str, s: &StatusInfo) {
        let p = self.pup(name);
        p.program = s.program.clone();
        p.hrvn = s.hrvn;
        p.versions = s
            .versions
            .iter()
            .map(|v| Version {
                version: v.version,
                slot: v.slot,
                procs: v.procs,
                code_bytes: v.code_bytes,
            })
            .collect();
        p.journal = match &s.journal {
            JournalState::On(path) => Some(path.clone()),
            JournalState::Off(_) => None,
        };
        for b in &s.bindings {
            match p.index.get(&b.name) {
                Some(&i) => p.procs[i as usize].committed = b.committed,
                None => {
                    // A procedure no load of this ush showed (the pup held
                    // it already): drawn without edges.
                    let i = p.procs.len() as u32;
                    p.index.insert(b.name.clone(), i);
                    p.procs.push(Proc {
                        name: b.name.clone(),
                        callees: Vec::new(),
                        callers: Vec::new(),
                        layer: 0,
                        committed: b.committed,
                    });
                }
            }
        }
        p.pending = s
            .pending
            .iter()
            .flat_map(|u| {
                u.groups.iter().map(|g| PendingGroup {
                    from: u.from,
                    to: u.to,
                    members: g.clone(),
                    waits_for: Vec::new(),
                })
            })
            .collect();
        waits(p);
    }

    /// What `stack` answered (innermost first).
    pub(crate) fn on_stack(&mut self, name: &str, frames: &[FrameRow]) {
        let p = self.pup(name);
        p.stack = frames
            .iter()
            .map(|f| Frame {
                name: f.name.clone(),
                version: f.version,
                kind: f.kind.clone(),
            })
            .collect();
        waits(p);
    }

    /// An update (or a revert, `revert` set) began.
    pub(crate) fn on_update_begun(
        &mut self,
        name: &str,
        at_ms: u64,
        info: &UpdateInfo,
        revert: bool,
    ) {
        let p = self.pup(name);
        p.changed.extend(info.changed.iter().cloned());
        if p.from_journal {
            return;
        }
        let outcome = "pending".to_string();
        let row = if revert {
            Row::Revert {
                at_ms,
                from: info.from,
                to: info.to,
                code_of: None,
                outcome,
                pause_ns: None,
            }
        } else {
            Row::Update {
                at_ms,
                from: info.from,
                to: info.to,
                outcome,
                pause_ns: None,
            }
        };
        push_row(p, row);
    }

    /// An update ended.
    pub(crate) fn on_update_ended(&mut self, name: &str, e: &UpdateEnded) {
        let p = self.pup(name);
        p.pending.retain(|g| g.to != e.to);
        let word = ending_word(&e.ending).to_string();
        p.ended.insert(e.to, word.clone());
        for r in p.timeline.iter_mut().rev() {
            match r {
                Row::Update { to, outcome, .. } | Row::Revert { to, outcome, .. }
                    if *to == e.to =>
                {
                    *outcome = word;
                    break;
                }
                _ => {}
            }
        }
    }

    /// The pup's journal (`history`): replaces the timeline when the
    /// journal records.
    pub(crate) fn on_history(&mut self, name: &str, rows: &[HistoryRow]) {
        let p = self.pup(name);
        p.from_journal = true;
        p.timeline.clear();
        p.timeline_dropped = 0;
        for r in rows {
            let mut outcome = outcome_word(&r.outcome);
            if matches!(r.outcome, EntryOutcome::Pending)
                && let Some(w) = r.version.and_then(|v| p.ended.get(&v))
            {
                outcome = w.clone();
            }
            let row = match r.kind {
                EntryKind::Load => Row::Load {
                    at_ms: r.at_ms,
                    version: r.version.unwrap_or(0),
                },
                EntryKind::Update => Row::Update {
                    at_ms: r.at_ms,
                    from: r.from.unwrap_or(0),
                    to: r.version.unwrap_or(0),
                    outcome,
                    pause_ns: r.pause_ns,
                },
                EntryKind::Revert => Row::Revert {
                    at_ms: r.at_ms,
                    from: r.from.unwrap_or(0),
                    to: r.version.unwrap_or(0),
                    code_of: r.code_of,
                    outcome,
                    pause_ns: r.pause_ns,
                },
                // Runs, stops and restores are not drawn on the timeline.
                EntryKind::Run | EntryKind::Stop | EntryKind::Restore => continue,
            };
            push_row(p, row);
        }
    }

    /// Program output (bytes as the pup sent them).
    pub(crate) fn on_output(&mut self, name: &str, bytes: &[u8]) {
        self.pup(name).output.push_bytes(bytes);
    }

    /// A line the program's output pane shows that the program did not
    /// print (its ending, a skip).
    pub(crate) fn on_output_note(&mut self, name: &str, line: &str) {
        let o = &mut self.pup(name).output;
        if !o.partial.is_empty() {
            let l = std::mem::take(&mut o.partial);
            o.push_line(l);
        }
        o.push_line(line.to_string());
    }

    /// The page's JSON: every pup, the current one first; each graph
    /// limited as the module header says, search matches for `query`
    /// (a substring of procedure names; empty for none) added.
    pub(crate) fn view(&self, query: &str) -> serde_json::Value {
        let mut names: Vec<&String> = self.pups.keys().collect();
        if let Some(c) = &self.current {
            names.sort_by_key(|n| *n != c);
        }
        let pups: Vec<serde_json::Value> = names
            .into_iter()
            .map(|n| pup_view(n, &self.pups[n], query))
            .collect();
        serde_json::json!({
            "seq": self.seq,
            "program": self.current,
            "pups": pups,
        })
    }
}

fn push_row(p: &mut Pup, row: Row) {
    if p.timeline.len() == TIMELINE_KEEP {
        p.timeline.pop_front();
        p.timeline_dropped += 1;
    }
    p.timeline.push_back(row);
}

/// Fills in what each pending group waits for: its members on the stack.
fn waits(p: &mut Pup) {
    let on: BTreeSet<&str> = p.stack.iter().map(|f| f.name.as_str()).collect();
    for g in &mut p.pending {
        g.waits_for = g
            .members
            .iter()
            .filter(|m| on.contains(m.as_str()))
            .cloned()
            .collect();
    }
}

/// Layers by breadth-first distance from `main` along calls; what `main`
/// does not reach goes one layer past the deepest.
fn layer(procs: &mut [Proc], main: Option<u32>) {
    let mut seen = vec![false; procs.len()];
    let mut q = VecDeque::new();
    if let Some(m) = main {
        seen[m as usize] = true;
        procs[m as usize].layer = 0;
        q.push_back(m);
    }
    let mut deepest = 0;
    while let Some(i) = q.pop_front() {
        let l = procs[i as usize].layer;
        deepest = deepest.max(l);
        for k in 0..procs[i as usize].callees.len() {
            let c = procs[i as usize].callees[k];
            if !seen[c as usize] {
                seen[c as usize] = true;
                procs[c as usize].layer = l + 1;
                q.push_back(c);
            }
        }
    }
    for (i, p) in procs.iter_mut().enumerate() {
        if !seen[i] {
            p.layer = deepest + 1;
        }
    }
}

fn ending_word(e: &pup_client::proto::Ending) -> &'static str {
    match e {
        pup_client::proto::Ending::Complete => "complete",
        pup_client::proto::Ending::Partial => "partial",
        pup_client::proto::Ending::NothingApplied => "nothing applied",
    }
}

fn outcome_word(o: &EntryOutcome) -> String {
    match o {
        EntryOutcome::Done => "done".into(),
        EntryOutcome::Pending => "pending".into(),
        EntryOutcome::Ended { ending, .. } => ending_word(ending).into(),
        EntryOutcome::Interrupted => "interrupted".into(),
        EntryOutcome::Exited(c) => format!("exited ({c})"),
        EntryOutcome::Stopped => "stopped".into(),
        EntryOutcome::Trapped(_) => "runtime error".into(),
    }
}

/// The procedures of a view's graph (all of a small program), and how
/// many match `query`.
fn shown_set(p: &Pup, query: &str) -> (Vec<u32>, usize) {
    let n = p.procs.len();
    if n <= GRAPH_SHOWN {
        return ((0..n as u32).collect(), 0);
    }
    // Not "committed past the oldest version": an update commits the
    // unchanged procedures to the new version too (warped), all of them.
    let mut core: BTreeSet<u32> = BTreeSet::new();
    let add = |set: &mut BTreeSet<u32>, name: &str| {
        if let Some(&i) = p.index.get(name) {
            set.insert(i);
        }
    };
    add(&mut core, "main");
    for f in &p.stack {
        add(&mut core, &f.name);
    }
    for g in &p.pending {
        for m in &g.members {
            add(&mut core, m);
        }
    }
    for c in &p.changed {
        add(&mut core, c);
    }
    let mut matches = 0;
    let mut found: Vec<u32> = Vec::new();
    if !query.is_empty() {
        for (i, q) in p.procs.iter().enumerate() {
            if q.name.contains(query) {
                matches += 1;
                if found.len() < SEARCH_SHOWN {
                    found.push(i as u32);
                }
            }
        }
    }
    // The core and the matches first, then their callers while room is left.
    let mut firsts: Vec<u32> = core.into_iter().chain(found).collect();
    firsts.truncate(GRAPH_SHOWN);
    let mut shown: BTreeSet<u32> = firsts.iter().copied().collect();
    'callers: for i in &firsts {
        for &c in &p.procs[*i as usize].callers {
            if shown.len() >= GRAPH_SHOWN {
                break 'callers;
            }
            shown.insert(c);
        }
    }
    (shown.into_iter().collect(), matches)
}

fn pup_view(name: &str, p: &Pup, query: &str) -> serde_json::Value {
    let (shown, matches) = shown_set(p, query);
    let at: HashMap<u32, usize> = shown.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let on_stack: BTreeSet<&str> = p.stack.iter().map(|f| f.name.as_str()).collect();
    let pending: BTreeSet<&str> = p
        .pending
        .iter()
        .flat_map(|g| g.members.iter().map(String::as_str))
        .collect();
    let nodes: Vec<serde_json::Value> = shown
        .iter()
        .map(|&i| {
            let q = &p.procs[i as usize];
            serde_json::json!({
                "name": q.name,
                "layer": q.layer,
                "committed": q.committed,
                "on_stack": on_stack.contains(q.name.as_str()),
                "pending": pending.contains(q.name.as_str()),
                "changed": p.changed.contains(&q.name),
                "match": !query.is_empty() && q.name.contains(query),
            })
        })
        .collect();
    let mut edges: Vec<[usize; 2]> = Vec::new();
    for &i in &shown {
        for c in &p.procs[i as usize].callees {
            if let Some(&k) = at.get(c) {
                edges.push([at[&i], k]);
            }
        }
    }
    serde_json::json!({
        "name": name,
        "host": p.host,
        "program": p.program,
        "hrvn": p.hrvn,
        "versions": p.versions,
        "journal": p.journal,
        "stack": p.stack,
        "pending": p.pending,
        "timeline": p.timeline,
        "timeline_dropped": p.timeline_dropped,
        "timeline_from": if p.from_journal { "journal" } else { "events" },
        "graph": {
            "total": p.procs.len(),
            "nodes": nodes,
            "edges": edges,
            "limited": p.procs.len() > GRAPH_SHOWN,
            "query": query,
            "matches": matches,
        },
        "output": p.output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pup_client::proto::{Ending, PendingRow, ProcBindings, VersionRow};

    fn procs(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|(n, cs)| (n.to_string(), cs.iter().map(|c| c.to_string()).collect()))
            .collect()
    }

    fn status(committed: &[(&str, u64)], pending: &[&[&str]], versions: &[u64]) -> StatusInfo {
        StatusInfo {
            versions: versions
                .iter()
                .enumerate()
                .map(|(i, &v)| VersionRow {
                    version: v,
                    slot: i as u32,
                    procs: committed.len(),
                    code_bytes: 100,
                })
                .collect(),
            retired: Vec::new(),
            hrvn: *versions.last().unwrap_or(&0),
            program: "running version 1".into(),
            pending: if pending.is_empty() {
                Vec::new()
            } else {
                vec![PendingRow {
                    from: 1,
                    to: 2,
                    groups: pending
                        .iter()
                        .map(|g| g.iter().map(|m| m.to_string()).collect())
                        .collect(),
                }]
            },
            bindings: committed
                .iter()
                .enumerate()
                .map(|(i, (n, c))| ProcBindings {
                    id: i as u32,
                    name: n.to_string(),
                    committed: *c,
                    tables: Vec::new(),
                })
                .collect(),
            return_interrupts: false,
            journal: JournalState::Off("test".into()),
            restored: None,
        }
    }

    fn frame(name: &str) -> FrameRow {
        FrameRow {
            name: name.into(),
            version: 1,
            kind: "proc".into(),
            decoded: String::new(),
            pc: 0,
        }
    }

    fn info(from: u64, to: u64, changed: &[&str]) -> UpdateInfo {
        UpdateInfo {
            from,
            to,
            changed: changed.iter().map(|c| c.to_string()).collect(),
            reasons: Vec::new(),
            backtrace: Vec::new(),
            frames: Vec::new(),
            warped_unchanged: Vec::new(),
            committed: Vec::new(),
            pending: Vec::new(),
            failed: Vec::new(),
            notes: Vec::new(),
            resets: Vec::new(),
            return_interrupts: false,
            complete: false,
        }
    }

    fn ended(to: u64, ending: Ending) -> UpdateEnded {
        UpdateEnded {
            id: 1,
            to,
            ending,
            applied: Vec::new(),
            not_applied: Vec::new(),
            at_exit: false,
        }
    }

    #[test]
    fn layers_follow_calls_from_main_and_callers_are_known() {
        let mut o = Observed::default();
        o.on_load(
            "p",
            1,
            0,
            &procs(&[
                ("main", &["a", "b"]),
                ("a", &["c"]),
                ("b", &["c"]),
                ("c", &[]),
                ("lone", &[]),
            ]),
        );
        let v = o.view("");
        let g = &v["pups"][0]["graph"];
        let layer = |n: &str| {
            g["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == n)
                .unwrap()["layer"]
                .as_u64()
                .unwrap()
        };
        assert_eq!(
            [layer("main"), layer("a"), layer("c"), layer("lone")],
            [0, 1, 2, 3]
        );
        assert_eq!(g["edges"].as_array().unwrap().len(), 4);
        let p = &o.pups["p"];
        assert_eq!(p.procs[3].callers, vec![1, 2]);
    }

    #[test]
    fn an_update_is_pending_on_the_stack_then_reaches_version_2() {
        let mut o = Observed::default();
        o.on_load("p", 1, 10, &procs(&[("main", &["work"]), ("work", &[])]));
        o.on_status("p", &status(&[("main", 1), ("work", 1)], &[], &[1]));
        o.on_load("p", 2, 20, &procs(&[("main", &["work"]), ("work", &[])]));
        o.on_update_begun("p", 30, &info(1, 2, &["work"]), false);
        o.on_status(
            "p",
            &status(&[("main", 1), ("work", 1)], &[&["work"]], &[1, 2]),
        );
        o.on_stack("p", &[frame("work"), frame("main")]);
        let v = o.view("");
        let p = &v["pups"][0];
        assert_eq!(p["pending"][0]["waits_for"][0], "work");
        assert_eq!(p["timeline"][2]["kind"], "Update");
        assert_eq!(p["timeline"][2]["outcome"], "pending");
        let before = o.seq;
        o.on_update_ended("p", &ended(2, Ending::Complete));
        o.on_status("p", &status(&[("main", 1), ("work", 2)], &[], &[1, 2]));
        assert!(o.seq > before, "a change bumps seq");
        let v = o.view("");
        let p = &v["pups"][0];
        assert_eq!(p["timeline"][2]["outcome"], "complete");
        assert!(p["pending"].as_array().unwrap().is_empty());
        let work = &p["graph"]["nodes"][1];
        assert_eq!(
            (work["name"].as_str(), work["committed"].as_u64()),
            (Some("work"), Some(2))
        );
        assert_eq!(work["changed"], true);
    }

    /// A journal row of `kind` at 5 ms.
    fn history_row(
        seq: u64,
        kind: EntryKind,
        from: Option<u64>,
        version: Option<u64>,
        outcome: EntryOutcome,
        pause_ns: Option<u64>,
    ) -> HistoryRow {
        HistoryRow {
            seq,
            at_ms: 5,
            kind,
            who: pup_client::proto::ClientId::default(),
            from,
            version,
            code_of: None,
            outcome,
            pause_ns,
        }
    }

    /// The pup journals an update's ending after its notice: a history
    /// read in between still says `pending`, and the page must show what
    /// ush saw end instead.
    #[test]
    fn an_ended_update_is_not_shown_pending_by_a_journal_read_too_early() {
        let mut o = Observed::default();
        o.on_load("p", 1, 10, &procs(&[("main", &[])]));
        let row = |seq, kind, from, version, outcome| {
            history_row(seq, kind, from, version, outcome, Some(200_000))
        };
        let rows = [
            row(1, EntryKind::Load, None, Some(1), EntryOutcome::Done),
            row(
                2,
                EntryKind::Update,
                Some(1),
                Some(2),
                EntryOutcome::Pending,
            ),
        ];
        o.on_history("p", &rows);
        let outcome = |o: &Observed| o.view("")["pups"][0]["timeline"][1]["outcome"].clone();
        assert_eq!(outcome(&o), "pending");
        o.on_update_ended("p", &ended(2, Ending::Complete));
        assert_eq!(
            outcome(&o),
            "complete",
            "the notice marks the journal's row"
        );
        o.on_history("p", &rows);
        assert_eq!(
            outcome(&o),
            "complete",
            "a stale journal read does not undo it"
        );
    }

    #[test]
    fn the_journal_replaces_the_timeline_and_carries_pauses() {
        let mut o = Observed::default();
        o.on_load("p", 1, 10, &procs(&[("main", &[])]));
        let complete = || EntryOutcome::Ended {
            ending: Ending::Complete,
            applied: 1,
            not_applied: Vec::new(),
        };
        let row = |seq, kind, from, version, pause_ns| {
            history_row(seq, kind, from, version, complete(), pause_ns)
        };
        o.on_history(
            "p",
            &[
                row(1, EntryKind::Load, None, Some(1), None),
                row(2, EntryKind::Run, None, Some(1), None),
                row(3, EntryKind::Update, Some(1), Some(2), Some(12_345)),
            ],
        );
        // Events seen later do not add rows: the journal has them.
        o.on_update_begun("p", 40, &info(2, 3, &[]), false);
        let v = o.view("");
        let t = v["pups"][0]["timeline"].as_array().unwrap().clone();
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!(t[1]["kind"], "Update");
        assert_eq!(t[1]["pause_ns"], 12_345);
        assert_eq!(v["pups"][0]["timeline_from"], "journal");
    }

    #[test]
    fn the_output_pane_keeps_the_last_lines_and_counts_the_dropped() {
        let mut o = Observed::default();
        let mut chunk = String::new();
        for i in 0..(OUTPUT_KEEP + 250) {
            chunk.push_str(&format!("line {i}\n"));
        }
        // Split inside a line: the halves join.
        let (a, b) = chunk.split_at(chunk.len() - 3);
        o.on_output("p", a.as_bytes());
        o.on_output("p", b.as_bytes());
        o.on_output("p", "x".repeat(5000).as_bytes());
        o.on_output_note("p", "exited (0)");
        let v = o.view("");
        let out = &v["pups"][0]["output"];
        let lines = out["lines"].as_array().unwrap();
        assert_eq!(lines.len(), OUTPUT_KEEP);
        assert_eq!(out["dropped"], 252);
        assert_eq!(
            lines[OUTPUT_KEEP - 3],
            format!("line {}", OUTPUT_KEEP + 249)
        );
        assert!(lines[OUTPUT_KEEP - 2].as_str().unwrap().ends_with('…'));
        assert_eq!(lines[OUTPUT_KEEP - 1], "exited (0)");
    }

    #[test]
    fn a_large_graph_shows_the_changed_their_callers_and_search_matches() {
        let mut o = Observed::default();
        let n = 10_000;
        let mut list: Vec<(String, Vec<String>)> =
            vec![("main".into(), (0..100).map(|i| format!("f{i}")).collect())];
        for i in 0..n {
            // f_i calls f_{i+100}: a wide, deep graph.
            let callees = if i + 100 < n {
                vec![format!("f{}", i + 100)]
            } else {
                Vec::new()
            };
            list.push((format!("f{i}"), callees));
        }
        o.on_load("p", 1, 0, &list);
        o.on_update_begun("p", 0, &info(1, 2, &["f5000"]), false);
        // The update committed every procedure to version 2, the unchanged
        // ones warped: still only the changed one and its callers show.
        let names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
        let all_two: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 2)).collect();
        o.on_status("p", &status(&all_two, &[], &[1, 2]));
        let v = o.view("");
        let g = &v["pups"][0]["graph"];
        let names: Vec<&str> = g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(g["total"], n + 1);
        assert_eq!(g["limited"], true);
        assert!(
            names.contains(&"f5000") && names.contains(&"f4900"),
            "{names:?}"
        );
        assert!(names.len() < 10, "{names:?}");
        let v = o.view("f999");
        let g = &v["pups"][0]["graph"];
        assert_eq!(g["matches"], 11); // f999, f9990..f9999
        assert!(g["nodes"].as_array().unwrap().len() <= GRAPH_SHOWN);
        assert!(
            g["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == "f9995" && x["match"] == true)
        );
    }

    /// 100,000 procedures (more than a pup holds, 65,536 names): what one
    /// page fetch costs stays bounded by the view, not by the program.
    #[test]
    fn a_view_of_100k_procedures_stays_small() {
        let n = 100_000;
        let list: Vec<(String, Vec<String>)> =
            std::iter::once(("main".to_string(), vec!["p0".to_string()]))
                .chain((0..n).map(|i| {
                    let cs = (1..=5)
                        .map(|k| format!("p{}", (i * 7 + k * 13) % n))
                        .filter(|c| *c != format!("p{i}"))
                        .collect();
                    (format!("p{i}"), cs)
                }))
                .collect();
        let mut o = Observed::default();
        let t = std::time::Instant::now();
        o.on_load("p", 1, 0, &list);
        let loaded = t.elapsed();
        o.on_update_begun("p", 0, &info(1, 2, &["p500", "p90000"]), false);
        let t = std::time::Instant::now();
        let plain = o.view("").to_string();
        let viewed = t.elapsed();
        let t = std::time::Instant::now();
        let searched = o.view("p99").to_string();
        let search_took = t.elapsed();
        eprintln!(
            "observe at {n} procedures: on_load {loaded:?}; view {} bytes in {viewed:?}; \
             view with a search {} bytes in {search_took:?}",
            plain.len(),
            searched.len()
        );
        assert!(plain.len() < 16 << 10, "{}", plain.len());
        assert!(searched.len() < 64 << 10, "{}", searched.len());
    }

    #[test]
    fn the_current_program_comes_first() {
        let mut o = Observed::default();
        o.on_connect("a", "h");
        o.on_connect("b", "h");
        o.on_current(Some("b"));
        let v = o.view("");
        assert_eq!(v["program"], "b");
        assert_eq!(v["pups"][0]["name"], "b");
        assert_eq!(v["pups"][1]["name"], "a");
    }
}
