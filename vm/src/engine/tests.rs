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
    vm.load(1, m(CHAIN), None).unwrap();
    vm.load(2, m(&CHAIN.replace("\"c\\n\"", "\"c2\\n\"")), None)
        .unwrap();
    let v3 = CHAIN
        .replace("void d() { printf(\"d\\n\"); }\n", "")
        .replace(" d();", "");
    vm.load(3, m(&v3), None).unwrap();
    vm
}

fn frame(name: &str, version: u64, kind: SegType) -> FrameInfo {
    FrameInfo {
        pc: 0,
        fp: 0,
        version,
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
    assert!(old_frames(&stack[..1], &vm.shared.lock().versions[&3], 3).is_empty());
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
