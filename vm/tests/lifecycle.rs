//! The engine's side of an update's life (SPEC §4.2.1), through the `Vm`
//! API: errors matched by variant, retries of abandoned groups to the same
//! target, endings with reasons, HRVN and the committed version per
//! procedure as the one record every report reads.
//!
//! Waits are bounded and on output or on the engine, never on sleeps.

mod common;

use std::time::Duration;
use vm::engine::Ending;
use vm::{Event, ExitStatus, NotApplied, UpdateError, UpdateRequest, VersionNo};

const T: Duration = Duration::from_secs(30);

/// `work` is active for a long while (100 steps of 20 ms); `main` calls it
/// forever.
fn slow(v: u64) -> String {
    format!(
        r#"
void work(int r) {{
    int i;
    for (i = 0; i < 100; i++) {{ printf("v{v} work %d %d\n", r, i); sleep_ms(20); }}
}}
main() {{ int r = 0; while (1) {{ work(r); r++; }} }}
"#
    )
}

fn to(v: u64) -> UpdateRequest {
    UpdateRequest {
        to: Some(VersionNo(v)),
        ..Default::default()
    }
}

fn committed(vm: &vm::Vm, name: &str) -> VersionNo {
    vm.status()
        .bindings
        .iter()
        .find(|b| b.name == name)
        .map(|b| b.committed)
        .unwrap_or_else(|| panic!("no procedure {name}"))
}

/// The reasons of the next `UpdateComplete` event.
fn completion(ev: &std::sync::mpsc::Receiver<Event>) -> (Vec<Vec<String>>, Vec<NotApplied>) {
    loop {
        match ev.recv_timeout(T).expect("an UpdateComplete event") {
            Event::UpdateComplete(e) => {
                let reasons = e.not_applied.into_iter().map(|a| a.why).collect();
                return (e.applied, reasons);
            }
            _ => continue,
        }
    }
}

#[test]
fn bad_requests_are_refused_by_variant_and_change_nothing() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("s1.uc", &slow(1)), None)
        .unwrap();
    assert_eq!(vm.begin_update(to(1)), Err(UpdateError::NotRunning));
    vm.run(None).unwrap();
    cap.wait_contains("v1 work", 1, T);
    assert_eq!(
        vm.begin_update(to(2)),
        Err(UpdateError::NoVersion(VersionNo(2)))
    );
    assert_eq!(
        vm.begin_update(to(1)),
        Err(UpdateError::AlreadyAt(VersionNo(1)))
    );
    vm.load(VersionNo(2), common::compile("s2.uc", &slow(2)), None)
        .unwrap();
    let begun = vm.begin_update(to(2)).unwrap();
    assert_eq!(begun.pending, vec![vec!["work".to_string()]]);
    assert_eq!(
        vm.begin_update(to(2)),
        Err(UpdateError::AlreadyPending(VersionNo(2)))
    );
    // main was warped to 2: an update to 1 would move it backwards.
    assert_eq!(
        vm.begin_update(to(1)),
        Err(UpdateError::Older {
            to: VersionNo(1),
            name: "main".into(),
            committed: VersionNo(2)
        })
    );
    assert_eq!(vm.status().pending.len(), 1, "nothing changed");
    assert_eq!(committed(&vm, "work"), VersionNo(1));
    vm.stop();
    assert_eq!(vm.wait_exit(T), Some(ExitStatus::Stopped));
    assert_eq!(vm.begin_update(to(2)), Err(UpdateError::Ended));
}

#[test]
fn an_abandoned_group_is_retried_to_the_same_target() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("s1.uc", &slow(1)), None)
        .unwrap();
    vm.run(None).unwrap();
    vm.load(VersionNo(2), common::compile("s2.uc", &slow(2)), None)
        .unwrap();
    cap.wait_contains("v1 work", 1, T);
    let ev = vm.subscribe();
    let begun = vm
        .begin_update(UpdateRequest {
            to: Some(VersionNo(2)),
            within: Some(Duration::from_millis(50)),
            ..Default::default()
        })
        .unwrap();
    assert!(!begun.complete);
    let (applied, reasons) = completion(&ev);
    assert!(applied.is_empty());
    assert_eq!(
        reasons,
        [NotApplied::Within(Some(Duration::from_millis(50)))]
    );
    assert_eq!(
        Ending::of(applied.len(), reasons.len()),
        Ending::NothingApplied
    );
    // One record, as before the update (issue 22: warping the unchanged
    // main is not running version 2): work and main at 1, HRVN 1.
    let st = vm.status();
    assert_eq!(
        (committed(&vm, "work"), committed(&vm, "main")),
        (VersionNo(1), VersionNo(1))
    );
    assert_eq!(st.hrvn, VersionNo(1));
    // The retry begins the same update again: work changed, main warped.
    let again = vm.begin_update(to(2)).unwrap();
    assert_eq!((again.from, again.to), (VersionNo(1), VersionNo(2)));
    assert_eq!(again.changed, ["work"]);
    assert_eq!(again.warped_unchanged, ["main"]);
    assert!(vm.wait_updates(T));
    let (applied, reasons) = completion(&ev);
    assert_eq!(applied, vec![vec!["work".to_string()]]);
    assert!(reasons.is_empty());
    assert_eq!(committed(&vm, "work"), VersionNo(2));
    cap.wait_contains("v2 work", 1, T);
}

#[test]
fn abort_gives_its_reason_and_hrvn_follows_the_committed_versions() {
    // Both procedures change and main never returns: nothing is warped, so
    // after the abort no procedure is at 2 and HRVN stays 1.
    let src = |v: u64| {
        format!(
            "void helper(int i) {{ printf(\"h{v} %d\\n\", i); }}\n\
             main() {{ int i = 0; while (1) {{ helper(i); i++; sleep_ms({}); }} }}\n",
            10 + v
        )
    };
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("a1.uc", &src(1)), None)
        .unwrap();
    vm.run(None).unwrap();
    vm.load(VersionNo(2), common::compile("a2.uc", &src(2)), None)
        .unwrap();
    cap.wait_contains("h1 ", 1, T);
    let ev = vm.subscribe();
    let begun = vm
        .begin_update(UpdateRequest {
            to: Some(VersionNo(2)),
            atomic: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(begun.pending.len(), 1);
    assert_eq!(vm.abort_updates(), 1);
    let (applied, reasons) = completion(&ev);
    assert!(applied.is_empty());
    assert_eq!(reasons, [NotApplied::Abort]);
    assert_eq!(
        vm.status().hrvn,
        VersionNo(1),
        "no procedure runs version 2"
    );
    // A partial update: without `atomic`, helper applies and main waits.
    let begun = vm
        .begin_update(UpdateRequest {
            to: Some(VersionNo(2)),
            within: Some(Duration::from_millis(100)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(begun.committed, ["helper"]);
    let (applied, reasons) = completion(&ev);
    assert_eq!(
        Ending::of(applied.len(), reasons.len()),
        Ending::Partial,
        "{applied:?} {reasons:?}"
    );
    assert_eq!(vm.status().hrvn, VersionNo(2));
    cap.wait_contains("h2 ", 1, T);
}

#[test]
fn an_mproc_checked_against_a_version_its_procedure_never_reached_fails_clearly() {
    // 2 renames a's static and carries it; 3 renames it again and reads
    // version 2's name. While 1 -> 2 is pending, 3 is checked against 2
    // (where a will be); if 1 -> 2 is then abandoned, committing 3's mproc
    // would read version 1's data with version 2's layout: it must refuse.
    let v = |n: u64, st: &str, mproc: &str| {
        format!(
            "void a(int r) {{ static int {st} = 5; int i; for (i = 0; i < 100; i++) {{ printf(\"v{n} %d %d\\n\", r, {st}); sleep_ms(20); }} }}\n\
             {mproc}\n\
             main() {{ int r = 0; while (1) {{ a(r); r++; }} }}\n"
        )
    };
    let (vm, cap) = common::vm();
    let m1 = common::compile("m1.uc", &v(1, "x", ""));
    vm.load(VersionNo(1), m1.clone(), None).unwrap();
    vm.run(None).unwrap();
    let m2 = compiler::compile_update(
        "m2.uc",
        &v(2, "y", "mproc a { y = old.x + 10; }"),
        Some(&m1),
    )
    .unwrap();
    vm.load(VersionNo(2), m2.clone(), None).unwrap();
    cap.wait_contains("v1 ", 1, T);
    vm.begin_update(to(2)).unwrap();
    let m3 = compiler::compile_update(
        "m3.uc",
        &v(3, "z", "mproc a { z = old.y + 100; }"),
        Some(&m2),
    )
    .unwrap();
    let report = vm.load(VersionNo(3), m3, None).unwrap();
    assert_eq!(report.old_versions, [("a".to_string(), VersionNo(2))]);
    assert_eq!(vm.abort_updates(), 1);
    let ev = vm.subscribe();
    vm.begin_update(to(3)).unwrap();
    assert!(vm.wait_updates(T));
    let (applied, reasons) = completion(&ev);
    assert!(applied.iter().all(|g| !g.contains(&"a".to_string())));
    assert!(
        matches!(&reasons[0], NotApplied::Failed(e)
            if e.contains("mproc a reads old data of version 2, but a is at version 1")),
        "{reasons:?}"
    );
    assert_eq!(committed(&vm, "a"), VersionNo(1), "nothing of a changed");
}
