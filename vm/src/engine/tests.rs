//! The engine's own rules on hand-built stacks: which groups are
//! active (SPEC §4.1), with real versions loaded into a VM that never
//! runs (so nothing but the frames given decides).

use super::active::{is_active, old_frames};
use super::plan::precompute;
use super::*;
use crate::layout::SegType;
use crate::{Vm, VmConfig};

/// a -> b -> c, main -> a; d alone. Version 2 changes nothing of the
/// call graph; version 3 drops d.
const CHAIN: &str = "void c() { printf(\"c\\n\"); }\n\
    void b() { c(); }\n\
    void a() { b(); }\n\
    void d() { printf(\"d\\n\"); }\n\
    main() { while (1) { a(); d(); sleep_ms(10); } }\n";

fn vm() -> Vm {
    let vm = Vm::new(VmConfig::default()).unwrap();
    let m = |src: &str| compiler::compile("t.uc", src).unwrap();
    vm.load(VersionNo(1), m(CHAIN), None).unwrap();
    vm.load(
        VersionNo(2),
        m(&CHAIN.replace("\"c\\n\"", "\"c2\\n\"")),
        None,
    )
    .unwrap();
    let v3 = CHAIN
        .replace("void d() { printf(\"d\\n\"); }\n", "")
        .replace(" d();", "");
    vm.load(VersionNo(3), m(&v3), None).unwrap();
    vm
}

fn frame(name: &str, version: u64, kind: SegType) -> FrameInfo {
    FrameInfo {
        pc: 0,
        fp: 0,
        version: VersionNo(version),
        kind,
        proc_id: 0,
        name: name.to_string(),
        disp: 0,
    }
}

fn group(members: &[&str]) -> Group {
    Group {
        names: members.iter().map(|m| m.to_string()).collect(),
        ..Group::default()
    }
}

/// Whether `members` is active for an update to `to` with `stack`,
/// by name lookup and by the precomputed indices (both must agree).
fn active(vm: &Vm, to: u64, stack: &[FrameInfo], members: &[&str]) -> bool {
    let to = VersionNo(to);
    let st = vm.shared.lock();
    let target = &st.versions[&to];
    let old = old_frames(stack, target, to);
    let by_name = is_active(&group(members), target, &old);
    let mut g = group(members);
    precompute(&st.versions, st.engine.versions_gen, to, &mut g);
    assert_eq!(g.members.len(), g.pre.idx.len());
    assert_eq!(is_active(&g, target, &old), by_name, "{members:?}");
    by_name
}

#[test]
fn an_old_frame_makes_its_procedure_and_every_caller_in_delta_star_active() {
    let vm = vm();
    let stack = [
        frame("c", 1, SegType::Proc),
        frame("b", 1, SegType::Proc),
        frame("a", 1, SegType::Proc),
        frame("main", 1, SegType::Proc),
    ];
    for p in ["a", "b", "c", "main"] {
        assert!(active(&vm, 2, &stack, &[p]), "{p}");
    }
    // d is on no stack and reaches nothing that is.
    assert!(!active(&vm, 2, &stack, &["d"]));
    // Only c is old; b and a reach it through δ*, d does not.
    let only_c = [
        frame("c", 1, SegType::Proc),
        frame("b", 2, SegType::Proc),
        frame("a", 2, SegType::Proc),
        frame("main", 2, SegType::Proc),
    ];
    assert!(active(&vm, 2, &only_c, &["a"]));
    assert!(active(&vm, 2, &only_c, &["c"]));
    assert!(!active(&vm, 2, &only_c, &["d"]));
    // A group is active if any member is.
    assert!(active(&vm, 2, &only_c, &["d", "b"]));
}

#[test]
fn frames_of_the_target_or_newer_and_aux_code_make_nothing_active() {
    let vm = vm();
    let new = [
        frame("c", 2, SegType::Proc),
        frame("main", 2, SegType::Proc),
    ];
    assert!(!active(&vm, 2, &new, &["a"]));
    assert!(!active(&vm, 2, &new, &["c"]));
    let aux = [frame("c", 1, SegType::MProc), frame("b", 1, SegType::IProc)];
    assert!(!active(&vm, 2, &aux, &["a"]), "iproc and mproc frames");
    // For an update to 3, version-2 frames are old too (simultaneous
    // updates: every version older than the target counts).
    assert!(active(&vm, 3, &new, &["a"]));
}

#[test]
fn a_procedure_the_target_lacks_cannot_be_reached_by_its_code() {
    let vm = vm();
    let stack = [
        frame("d", 1, SegType::Proc),
        frame("main", 2, SegType::Proc),
    ];
    // Version 3 has no d: nothing of version 3 can call into d's frame.
    assert!(!active(&vm, 3, &stack, &["a"]));
    assert!(active(&vm, 2, &stack, &["d"]));
    assert!(
        old_frames(
            &stack[..1],
            &vm.shared.lock().versions[&VersionNo(3)],
            VersionNo(3)
        )
        .is_empty()
    );
}

#[test]
fn an_empty_stack_leaves_nothing_active() {
    let vm = vm();
    for p in ["a", "b", "c", "d", "main"] {
        assert!(!active(&vm, 2, &[], &[p]));
    }
}

#[test]
fn endings() {
    assert_eq!(Ending::of(3, 0), Ending::Complete);
    assert_eq!(Ending::of(0, 0), Ending::Complete);
    assert_eq!(Ending::of(1, 2), Ending::Partial);
    assert_eq!(Ending::of(0, 1), Ending::NothingApplied);
}

#[test]
fn plan_refuses_bad_requests_without_touching_the_engine() {
    let vm = vm();
    let st = vm.shared.lock();
    // The program never ran: nothing to update.
    let err = plan(&st, &UpdateRequest::default()).err();
    assert_eq!(err, Some(UpdateError::NotRunning));
    assert!(st.engine.cur.is_empty() && st.engine.pending.is_empty());
}

/// The engine driven end to end through its [`Program`] trait by a fake
/// that records what a commit would do to the program: real versions
/// (loaded into a VM that never runs), hand-built stacks, no program
/// thread, no clock.
mod with_fake {
    use super::super::commit::{self, AbandonReason};
    use super::super::plan::{self, Plan};
    use super::*;
    use crate::binding::{BindingTable, ProcId};
    use crate::events::Event;
    use crate::layout::LargeAddr;
    use crate::runtime::ExitStatus;
    use crate::version::Version;
    use crate::{ProgramState, State};
    use std::collections::{BTreeSet, HashMap, VecDeque};
    use std::sync::MutexGuard;

    /// An `UpdateComplete`: (to, applied, not applied, reasons).
    type Completion = (
        VersionNo,
        Vec<Vec<String>>,
        Vec<Vec<String>>,
        Vec<NotApplied>,
    );

    /// What the engine did to the "program".
    #[derive(Default)]
    struct Fake {
        base: u64,
        events: Vec<Event>,
        /// Binding stores: (table base, procedure, value).
        stores: Vec<(u64, ProcId, u64)>,
        /// Data memory: what was written, byte by byte (unwritten reads 0).
        mem: HashMap<u64, u8>,
        /// Mprocs run, by label.
        mprocs: Vec<String>,
        /// How the next mprocs end (then `Returned`).
        mproc_ends: VecDeque<ExitStatus>,
        barrier: Option<Barrier>,
        released: Vec<VersionNo>,
        woken: usize,
    }

    impl Program for Fake {
        fn emit(&mut self, e: Event) {
            self.events.push(e);
        }
        unsafe fn store_binding(&mut self, table: BindingTable, id: ProcId, addr: u64) {
            self.stores.push((table.base(), id, addr));
        }
        unsafe fn read(&self, addr: u64, len: usize) -> Vec<u8> {
            (0..len as u64)
                .map(|i| self.mem.get(&(addr + i)).copied().unwrap_or(0))
                .collect()
        }
        unsafe fn write(&mut self, addr: u64, bytes: &[u8]) {
            for (i, b) in bytes.iter().enumerate() {
                self.mem.insert(addr + i as u64, *b);
            }
        }
        fn run_mproc(&mut self, label: &str, _entry: u64, _old: u64) -> ExitStatus {
            self.mprocs.push(label.to_string());
            self.mproc_ends.pop_front().unwrap_or(ExitStatus::Returned)
        }
        fn barrier(&mut self, b: Barrier) {
            self.barrier = Some(b);
        }
        fn decode(&self, addr: u64) -> Option<LargeAddr> {
            LargeAddr::decode(self.base, addr)
        }
        unsafe fn release(&mut self, v: &Version) {
            // The fake leaves the memory alone: the test's VM frees it.
            self.released.push(v.number);
        }
        fn notify_waiters(&mut self) {
            self.woken += 1;
        }
    }

    impl Fake {
        fn new(vm: &Vm) -> Fake {
            Fake {
                base: vm.shared.space.base(),
                ..Fake::default()
            }
        }
        /// The members of each group committed, in order.
        fn committed(&self) -> Vec<Vec<String>> {
            self.events
                .iter()
                .filter_map(|e| match e {
                    Event::GroupCommitted { members, .. } => Some(members.clone()),
                    _ => None,
                })
                .collect()
        }
        /// The `UpdateComplete` events: (to, applied, not applied, reasons).
        fn completions(&self) -> Vec<Completion> {
            self.events
                .iter()
                .filter_map(|e| match e {
                    Event::UpdateComplete(e) => Some((
                        e.to,
                        e.applied.clone(),
                        e.not_applied.iter().map(|a| a.members.clone()).collect(),
                        e.not_applied.iter().map(|a| a.why.clone()).collect(),
                    )),
                    _ => None,
                })
                .collect()
        }
        /// The procedures whose bindings were stored.
        fn rebound(&self, st: &State) -> BTreeSet<String> {
            self.stores
                .iter()
                .map(|(_, id, _)| st.names.name(id.0).unwrap().to_string())
                .collect()
        }
    }

    /// A VM with `sources` loaded as versions 1, 2, ...
    fn vm_with(sources: &[&str]) -> Vm {
        let vm = Vm::new(VmConfig::default()).unwrap();
        for (i, src) in sources.iter().enumerate() {
            let m = compiler::compile("t.uc", src).unwrap();
            vm.load(VersionNo(i as u64 + 1), m, None).unwrap();
        }
        vm
    }

    /// The state lock, with the program "running" version 1.
    fn running(vm: &Vm) -> MutexGuard<'_, State> {
        let mut st = vm.shared.lock();
        let v1 = st.versions[&VersionNo(1)].clone();
        st.engine.on_run(VersionNo(1), &v1);
        st.ctl.running = true;
        st.ctl.program = ProgramState::Running {
            version: VersionNo(1),
        };
        st
    }

    fn plan_of(st: &State, req: &UpdateRequest) -> Result<Plan, UpdateError> {
        let loaded = Loaded {
            versions: &st.versions,
            names: &st.names,
        };
        plan::plan(loaded, &st.engine, req)
    }

    fn to(v: u64) -> UpdateRequest {
        UpdateRequest {
            to: Some(VersionNo(v)),
            ..UpdateRequest::default()
        }
    }

    /// Begin an update with `stack` on the program's stack.
    fn begin(f: &mut Fake, st: &mut State, req: UpdateRequest, stack: &[FrameInfo]) -> UpdateBegun {
        let p = plan_of(st, &req).unwrap();
        commit::begin(f, st, stack.to_vec(), p, req.within)
    }

    /// The version `name` is committed to.
    fn cur(st: &State, name: &str) -> VersionNo {
        st.engine.cur[&ProcId(st.names.id(name).unwrap())]
    }

    fn old(names: &[&str]) -> Vec<FrameInfo> {
        names.iter().map(|n| frame(n, 1, SegType::Proc)).collect()
    }

    /// Version 2 of CHAIN changes a and c (c prints differently, a calls b twice).
    fn chain2() -> String {
        CHAIN
            .replace("\"c\\n\"", "\"c2\\n\"")
            .replace("void a() { b(); }", "void a() { b(); b(); }")
    }

    #[test]
    fn groups_commit_when_their_frames_return_innermost_first() {
        let vm = vm_with(&[CHAIN, &chain2()]);
        let mut st = running(&vm);
        let mut f = Fake::new(&vm);
        let b = begin(&mut f, &mut st, to(2), &old(&["c", "b", "a", "main"]));
        assert_eq!(b.changed, ["a", "c"]);
        assert_eq!(b.pending, [vec!["a".to_string()], vec!["c".to_string()]]);
        assert!(b.committed.is_empty() && !b.complete && b.return_interrupts);
        assert_eq!(f.barrier, Some(Barrier::Install(8)), "on the top frame");
        // Unchanged b, d and main run version 2 at once (warped).
        assert_eq!(
            (cur(&st, "b"), cur(&st, "d"), cur(&st, "main")),
            (VersionNo(2), VersionNo(2), VersionNo(2))
        );
        assert_eq!((cur(&st, "a"), cur(&st, "c")), (VersionNo(1), VersionNo(1)));
        assert!(f.stores.is_empty(), "nothing rebound while both are active");

        // c returned: c reaches nothing on the stack, a is on it.
        commit::recheck(&mut f, &mut st, &old(&["b", "a", "main"]));
        assert_eq!(f.committed(), [vec!["c".to_string()]]);
        assert_eq!(f.rebound(&st), BTreeSet::from(["c".to_string()]));
        assert_eq!((cur(&st, "a"), cur(&st, "c")), (VersionNo(1), VersionNo(2)));
        assert!(f.completions().is_empty());

        // b returned: a is still on the stack.
        commit::recheck(&mut f, &mut st, &old(&["a", "main"]));
        assert_eq!(f.committed().len(), 1);
        // a returned: only main (which a cannot reach) is left.
        commit::recheck(&mut f, &mut st, &old(&["main"]));
        assert_eq!(f.committed().len(), 2);
        assert_eq!(cur(&st, "a"), VersionNo(2));
        assert_eq!(
            f.completions(),
            [(
                VersionNo(2),
                vec![vec!["c".into()], vec!["a".into()]],
                vec![],
                vec![]
            )]
        );
        assert!(st.engine.pending.is_empty());
        assert_eq!(f.barrier, Some(Barrier::Remove));
        assert_eq!(st.engine.hrvn(), VersionNo(2));
    }

    #[test]
    fn a_together_group_commits_atomically_when_no_member_is_active() {
        let vm = vm_with(&[CHAIN, &chain2()]);
        let mut st = running(&vm);
        let mut f = Fake::new(&vm);
        let req = UpdateRequest {
            to: Some(VersionNo(2)),
            together: vec![vec!["a".into(), "c".into(), "d".into()]],
            ..UpdateRequest::default()
        };
        let b = begin(&mut f, &mut st, req, &old(&["c", "b", "a", "main"]));
        assert_eq!(
            b.pending,
            [vec!["a".to_string(), "c".to_string(), "d".to_string()]]
        );
        // c is gone from the stack but a is not: the whole group waits.
        commit::recheck(&mut f, &mut st, &old(&["a", "main"]));
        assert!(f.stores.is_empty() && f.committed().is_empty());
        assert_eq!(cur(&st, "d"), VersionNo(1), "d waits with its group");
        commit::recheck(&mut f, &mut st, &old(&["main"]));
        assert_eq!(
            f.committed(),
            [vec!["a".to_string(), "c".to_string(), "d".to_string()]]
        );
        let sdte = f
            .events
            .iter()
            .filter(|e| matches!(e, Event::Primitive(crate::events::Primitive::SetSdte)))
            .count();
        assert_eq!(sdte, 3, "one SET SDTE per member, in one commit");
        assert!(["a", "c", "d"].iter().all(|p| cur(&st, p) == VersionNo(2)));
    }

    #[test]
    fn a_chain_of_callers_holds_a_group_back_through_delta_star() {
        // Only a changes; c is on the stack in an old frame and a's new
        // code reaches it (a -> b -> c), so a waits even when a itself has
        // returned.
        let v2 = CHAIN.replace("void a() { b(); }", "void a() { b(); b(); }");
        let vm = vm_with(&[CHAIN, &v2]);
        let mut st = running(&vm);
        let mut f = Fake::new(&vm);
        let stack = [
            frame("c", 1, SegType::Proc),
            frame("d", 1, SegType::Proc),
            frame("main", 1, SegType::Proc),
        ];
        let b = begin(&mut f, &mut st, to(2), &stack);
        assert_eq!(b.changed, ["a"]);
        assert_eq!(b.pending.len(), 1, "a reaches c's old frame");
        // c returned: a commits although d and main are still old.
        commit::recheck(&mut f, &mut st, &stack[1..]);
        assert_eq!(f.committed(), [vec!["a".to_string()]]);
    }

    #[test]
    fn an_update_abandoned_by_within_or_abort_is_retried_to_the_same_target() {
        for why in [AbandonReason::Within, AbandonReason::Abort] {
            let vm = vm_with(&[CHAIN, &chain2()]);
            let mut st = running(&vm);
            let mut f = Fake::new(&vm);
            let stack = old(&["c", "b", "a", "main"]);
            let req = UpdateRequest {
                to: Some(VersionNo(2)),
                within: Some(std::time::Duration::from_millis(500)),
                ..UpdateRequest::default()
            };
            let mark = st.engine.ended_mark();
            let begun = begin(&mut f, &mut st, req, &stack);
            assert!(st.engine.ended_since(mark).is_empty());
            assert_eq!(commit::abandon(&mut f, &mut st, None, why), 2);
            // A `wait` that began before learns how it ended.
            let ended = st.engine.ended_since(mark);
            assert_eq!(ended.len(), 1);
            assert_eq!(ended[0].id, begun.id);
            assert_eq!(ended[0].ending, Ending::NothingApplied);
            assert_eq!(ended[0].not_applied.len(), 2);
            let done = f.completions();
            assert_eq!(done.len(), 1);
            assert!(done[0].1.is_empty(), "nothing applied");
            assert_eq!(done[0].2.len(), 2);
            let reason = match why {
                AbandonReason::Within => {
                    NotApplied::Within(Some(std::time::Duration::from_millis(500)))
                }
                AbandonReason::Abort => NotApplied::Abort,
            };
            assert_eq!(done[0].3, [reason.clone(), reason]);
            assert!(st.engine.pending.is_empty() && f.woken > 0);
            // The one record says which version runs: a and c are still at
            // 1, and so is every warped procedure (issue 22: nothing applied
            // leaves the program as it was, HRVN included).
            assert_eq!(
                (
                    cur(&st, "a"),
                    cur(&st, "c"),
                    cur(&st, "main"),
                    st.engine.hrvn()
                ),
                (VersionNo(1), VersionNo(1), VersionNo(1), VersionNo(1))
            );

            // The same target again: only what is not yet at 2 is updated.
            let b = begin(&mut f, &mut st, to(2), &[]);
            assert_eq!(b.changed, ["a", "c"]);
            assert!(b.complete, "{why:?}");
            assert_eq!((cur(&st, "a"), cur(&st, "c")), (VersionNo(2), VersionNo(2)));
            assert_eq!(
                plan_of(&st, &to(2)).err(),
                Some(UpdateError::AlreadyAt(VersionNo(2))),
                "and then there is nothing left to do"
            );
        }
    }

    #[test]
    fn old_is_per_procedure_while_an_update_is_pending() {
        let vm = vm_with(&[CHAIN, &chain2()]);
        let mut st = running(&vm);
        let mut f = Fake::new(&vm);
        begin(&mut f, &mut st, to(2), &old(&["c", "b", "a", "main"]));
        let id = |n: &str| ProcId(st.names.id(n).unwrap());
        // a and c still run version 1 but will be at 2 when a version
        // loaded now applies; warped b is at 2 already.
        assert_eq!(cur(&st, "a"), VersionNo(1));
        assert_eq!(st.engine.old_version(id("a")), Some(VersionNo(2)));
        assert_eq!(st.engine.old_version(id("b")), Some(VersionNo(2)));
        assert_eq!(st.engine.old_version(ProcId(9999)), None);
    }

    #[test]
    fn no_update_of_a_program_that_ended() {
        let vm = vm_with(&[CHAIN, &chain2()]);
        let mut st = running(&vm);
        st.ctl.running = false;
        st.ctl.program = ProgramState::Exited(ExitStatus::Returned);
        assert_eq!(
            crate::engine::plan(&st, &to(2)).err(),
            Some(UpdateError::Ended)
        );
    }

    const COUNTER1: &str = "void tick(int n) { static int count = 0; count++; printf(\"%d\\n\", count); }\n\
        main() { int i; for (i = 0; i < 10; i++) tick(i); }\n";
    const COUNTER2: &str = "void tick(int n) { static int count = 0; count++; printf(\"[v2] %d\\n\", count); }\n\
        mproc tick { count = old.count + 1000; }\n\
        main() { int i; for (i = 0; i < 10; i++) tick(i); }\n";

    /// The address of `name`'s static `s` in version `v`.
    fn static_addr(st: &State, v: u64, name: &str, s: &str) -> u64 {
        let p = &st.versions[&VersionNo(v)].procs[name];
        p.data + p.statics.iter().find(|x| x.name == s).unwrap().offset as u64
    }

    #[test]
    fn a_failed_mproc_abandons_its_group_restores_its_data_and_can_be_retried() {
        let vm = vm_with(&[COUNTER1, COUNTER2]);
        let mut st = running(&vm);
        let mut f = Fake::new(&vm);
        let (old_count, new_count) = (
            static_addr(&st, 1, "tick", "count"),
            static_addr(&st, 2, "tick", "count"),
        );
        // SAFETY: the fake's memory only.
        unsafe { f.write(old_count, &41i32.to_le_bytes()) };
        f.mproc_ends.push_back(ExitStatus::TimedOut);
        // main loops in version 1 code: it keeps version 1 alive.
        let in_main = old(&["main"]);
        let b = begin(&mut f, &mut st, to(2), &in_main);
        assert_eq!(f.mprocs, ["v2:mproc:tick"]);
        assert_eq!(
            b.failed,
            [(
                vec!["tick".to_string()],
                "mproc tick ran out of time".to_string()
            )]
        );
        assert!(
            !f.rebound(&st).contains("tick"),
            "no binding of tick stored"
        );
        assert_eq!(cur(&st, "tick"), VersionNo(1));
        // The new segment holds its initial value again (restored).
        // SAFETY: the fake's memory only.
        assert_eq!(unsafe { f.read(new_count, 4) }, 0i32.to_le_bytes());
        let done = f.completions();
        assert_eq!(done.len(), 1);
        assert_eq!(
            done[0].3,
            [NotApplied::Failed("mproc tick ran out of time".into())]
        );
        assert!(
            done[0].1.is_empty(),
            "tick was the only group: nothing applied"
        );

        // Retried (the mproc now returns): count is carried, then the mproc
        // runs on it; the group commits.
        let b = begin(&mut f, &mut st, to(2), &in_main);
        assert!(b.complete && b.failed.is_empty());
        assert_eq!(f.mprocs.len(), 2);
        assert_eq!(cur(&st, "tick"), VersionNo(2));
        // SAFETY: the fake's memory only.
        assert_eq!(unsafe { f.read(new_count, 4) }, 41i32.to_le_bytes());
        assert!(f.events.iter().any(|e| matches!(e,
            Event::Carried { name, carried, .. } if name == "tick" && carried == &["count".to_string()])));
    }

    #[test]
    fn simultaneous_updates_commit_in_version_order_and_bad_targets_are_refused() {
        let v3 = chain2().replace("\"d\\n\"", "\"d3\\n\"");
        let vm = vm_with(&[CHAIN, &chain2(), &v3]);
        let mut st = running(&vm);
        let mut f = Fake::new(&vm);
        let stack = old(&["c", "b", "a", "main"]);
        begin(&mut f, &mut st, to(2), &stack);
        assert_eq!(
            plan_of(&st, &to(2)).err(),
            Some(UpdateError::AlreadyPending(VersionNo(2)))
        );
        assert_eq!(
            plan_of(&st, &to(9)).err(),
            Some(UpdateError::NoVersion(VersionNo(9)))
        );
        // An update to 3 while the one to 2 waits: it starts from what will
        // be running when it applies (a and c at 2 once the first update
        // has committed them; the rest was warped to 2).
        let b = begin(&mut f, &mut st, to(3), &stack);
        assert_eq!(b.from, VersionNo(2));
        assert_eq!(st.engine.pending.len(), 2);
        // With the stack gone, the update to 2 commits first, then 3's
        // groups (which waited on the same members).
        commit::recheck(&mut f, &mut st, &old(&["main"]));
        let commits: Vec<(VersionNo, Vec<String>)> = f
            .events
            .iter()
            .filter_map(|e| match e {
                Event::GroupCommitted { to, members, .. } => Some((*to, members.clone())),
                _ => None,
            })
            .collect();
        // Per procedure in version order: a procedure's group of the update
        // to 3 never commits before its group of the update to 2.
        for (i, (t, ms)) in commits.iter().enumerate() {
            for (t2, ms2) in &commits[i + 1..] {
                assert!(
                    !(*t == VersionNo(3)
                        && *t2 == VersionNo(2)
                        && ms.iter().any(|m| ms2.contains(m))),
                    "{commits:?}"
                );
            }
        }
        assert!(
            commits.contains(&(VersionNo(3), vec!["d".to_string()])),
            "{commits:?}"
        );
        assert!(
            ["a", "b", "c", "d", "main"]
                .iter()
                .all(|p| cur(&st, p) == VersionNo(3))
        );
        assert_eq!(f.completions().len(), 2);
        // Nothing is left for 3; version 2 is retired (nothing runs or
        // reaches it), so an update back to it names it as not loaded.
        assert_eq!(
            plan_of(&st, &to(2)).err(),
            Some(UpdateError::NoVersion(VersionNo(2)))
        );
        assert_eq!(
            plan_of(&st, &to(3)).err(),
            Some(UpdateError::AlreadyAt(VersionNo(3)))
        );
        // Version 2 is retired; version 1 still runs main's frame.
        assert_eq!(f.released, [VersionNo(2)]);
        assert!(st.versions.contains_key(&VersionNo(1)));
    }
}
