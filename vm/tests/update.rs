//! The update engine in-process (SPEC §4): every wait is on program output
//! or on the engine (`wait_updates`), never on a sleep.

mod common;

use common::Capture;
use std::collections::BTreeMap;
use std::time::Duration;
use vm::{ExitStatus, UpdateRequest, VersionNo, Vm};

const T: Duration = Duration::from_secs(30);

/// The pizza samples with the pacing shortened. No step needs a long
/// window for the update to land in: the VM's test pause point holds the
/// program where the test wants the update (see `run_pizza_update`).
fn pizza(v: u32) -> (compiler::ir::Module, String) {
    let path = common::repo(&format!("samples/pizza/pizza{v}.uc"));
    let src = std::fs::read_to_string(path)
        .unwrap()
        .replace("sleep_ms(200)", "sleep_ms(10)")
        .replace("sleep_ms(1200)", "sleep_ms(10)")
        .replace("sleep_ms(600)", "sleep_ms(10)");
    (common::compile(&format!("pizza{v}.uc"), &src), src)
}

fn changes(name: &str) -> UpdateRequest {
    let path = common::repo(&format!("samples/pizza/{name}"));
    let text = std::fs::read_to_string(path).unwrap();
    UpdateRequest::from_changes(&compiler::changes::parse(name, &text).unwrap())
}

/// Per pizza number, whether each of its lines is thick crust.
fn pizza_lines(out: &str) -> BTreeMap<u64, Vec<(String, bool)>> {
    let mut m: BTreeMap<u64, Vec<(String, bool)>> = BTreeMap::new();
    for line in out.lines() {
        let thick = line.starts_with("TC ")
            || line.contains("TC pizza")
            || line.contains("475")
            || line.contains("15 minutes");
        let num = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .find_map(|w| {
                w.parse::<u64>().ok().filter(|_| {
                    line.contains(&format!("pizza {w}")) || line.contains(&format!("number {w}"))
                })
            });
        if let Some(n) = num {
            m.entry(n).or_default().push((line.to_string(), thick));
        }
    }
    m
}

fn begins(out: &str) -> Vec<u64> {
    out.lines()
        .filter_map(|l| {
            l.split("pizza number ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .filter(|_| true)
        .collect::<Vec<u64>>()
}

fn consecutive_starts(out: &str) {
    let starts: Vec<u64> = out
        .lines()
        .filter(|l| l.contains("preparation begins"))
        .map(|l| {
            l.split("pizza number ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(starts.len() >= 3, "too few pizzas:\n{out}");
    let want: Vec<u64> = (starts[0]..starts[0] + starts.len() as u64).collect();
    assert_eq!(
        starts, want,
        "pizza numbers must run on without gap or repeat:\n{out}"
    );
    let _ = begins(out);
}

fn run_pizza_update(changes_file: &str) -> (Vm, std::sync::Arc<Capture>, vm::UpdateBegun) {
    // The VM's test pause point holds the program right after the oven
    // line of pizza 2 until the update asks it to pause, so the update
    // finds it at the next safepoint, mix_ingredients' entry, however
    // late this thread gets to ask.
    let (vm, cap) =
        common::vm_with(|c| c.hold_after_output = Some(b"Fahrenheit for pizza 2".to_vec()));
    let (m1, s1) = pizza(1);
    vm.load(VersionNo(1), m1, Some(&s1)).unwrap();
    vm.run(None).unwrap();
    let (m2, s2) = pizza(2);
    vm.load(VersionNo(2), m2, Some(&s2)).unwrap(); // loaded while version 1 runs
    // Right after the oven line of pizza 2, the program is held.
    cap.wait_contains("Fahrenheit for pizza 2", 1, T);
    let begun = vm.begin_update(changes(changes_file)).unwrap();
    let stack: Vec<&str> = begun.backtrace.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        stack,
        ["mix_ingredients", "do_pizza", "main"],
        "the update did not land where the pause point holds the program"
    );
    assert!(vm.wait_updates(T), "update did not complete");
    cap.wait_contains("TC pizza number 4 preparation complete", 1, T);
    (vm, cap, begun)
}

#[test]
fn pizza_plain_changes_burn_one_pizza() {
    let (vm, cap, begun) = run_pizza_update("pizza2.changes");
    assert_eq!(
        begun.changed,
        ["bake_pizza", "do_pizza", "mix_ingredients", "set_oven_temp"]
    );
    let stack: Vec<&str> = begun.backtrace.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(stack, ["mix_ingredients", "do_pizza", "main"]);
    assert_eq!(begun.warped_unchanged, ["main"]);
    assert_eq!(
        begun.committed,
        ["bake_pizza", "set_oven_temp"],
        "inactive at once"
    );
    assert!(begun.return_interrupts && !begun.complete);
    let out = cap.text();
    // Pizza 2 was mixed thin-crust and then baked for 15 minutes.
    assert!(out.contains("pizza 2 contains 0.75 lb dough"), "{out}");
    assert!(out.contains("TC pizza 2 baked for 15 minutes"), "{out}");
    assert!(out.contains("pizza number 2 preparation complete"), "{out}");
    assert!(
        out.contains("TC pizza number 3 preparation begins"),
        "{out}"
    );
    consecutive_starts(&out);
    vm.stop();
    assert_eq!(vm.wait_exit(T), Some(ExitStatus::Stopped));
}

#[test]
fn pizza_semantic_dependencies_mix_no_pizza() {
    let (vm, cap, begun) = run_pizza_update("pizza2.changes.sd");
    assert!(
        begun.committed.is_empty(),
        "no changed procedure could be warped at once"
    );
    assert_eq!(
        begun.pending,
        vec![vec![
            "bake_pizza",
            "do_pizza",
            "mix_ingredients",
            "set_oven_temp"
        ]]
    );
    let out = cap.text();
    for (n, lines) in pizza_lines(&out) {
        let kinds: Vec<bool> = lines.iter().map(|l| l.1).collect();
        assert!(
            kinds.iter().all(|k| *k == kinds[0]),
            "pizza {n} mixes versions: {lines:?}"
        );
    }
    assert!(out.contains("pizza 2 baked for 10 minutes"), "{out}");
    assert!(
        out.contains("TC pizza number 3 preparation begins"),
        "{out}"
    );
    consecutive_starts(&out);
    // The status shows version 2 running and every binding of version 1 moved.
    let st = vm.status();
    assert_eq!(st.hrvn, VersionNo(2));
    assert!(st.pending.is_empty() && !st.return_interrupts);
    for p in ["do_pizza", "set_oven_temp", "mix_ingredients", "bake_pizza"] {
        let b = st.bindings.iter().find(|b| b.name == p).unwrap();
        assert_eq!(b.committed, VersionNo(2));
        assert_eq!(
            (b.tables[0].table, b.tables[0].target.clone()),
            (VersionNo(1), format!("v2:proc:{p}")),
            "table_1[{p}] now reaches version 2"
        );
    }
}

const SPIN1: &str = r#"
helper() { return 1; }
spin() {
    while (1) { printf("spin v1 %d\n", helper()); sleep_ms(5); }
}
main() { spin(); }
"#;

#[test]
fn an_always_active_procedure_never_updates_and_within_ends_it() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("s1.uc", SPIN1), None)
        .unwrap();
    vm.run(None).unwrap();
    let s2 = SPIN1
        .replace("spin v1", "spin v2")
        .replace("return 1;", "return 2;");
    vm.load(VersionNo(2), common::compile("s2.uc", &s2), None)
        .unwrap();
    cap.wait_contains("spin v1", 2, T);
    let req = UpdateRequest {
        within: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let ev = vm.subscribe();
    let begun = vm.begin_update(req).unwrap();
    assert_eq!(begun.committed, ["helper"]);
    assert_eq!(begun.pending, vec![vec!["spin".to_string()]]);
    assert!(
        vm.wait_updates(T),
        "the within deadline must end the update"
    );
    // Bounded: a missing event fails here instead of hanging the test.
    let deadline = std::time::Instant::now() + T;
    let (applied, not_applied) = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match ev.recv_timeout(left) {
            Ok(vm::Event::UpdateComplete(e)) => {
                let not_applied: Vec<Vec<String>> =
                    e.not_applied.into_iter().map(|a| a.members).collect();
                break (e.applied, not_applied);
            }
            Ok(_) => {}
            Err(e) => panic!("no UpdateComplete event within {T:?} ({e})"),
        }
    };
    assert_eq!(applied, vec![vec!["helper".to_string()]]);
    assert_eq!(not_applied, vec![vec!["spin".to_string()]]);
    // Old spin keeps running, calling the new helper.
    cap.wait_for("old spin calling new helper", T, |s| {
        s.contains("spin v1 2")
    });
    assert!(!cap.text().contains("spin v2"));
}

#[test]
fn an_atomic_update_changes_nothing_until_all_can_change() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("s1.uc", SPIN1), None)
        .unwrap();
    vm.run(None).unwrap();
    let s2 = SPIN1
        .replace("spin v1", "spin v2")
        .replace("return 1;", "return 2;");
    vm.load(VersionNo(2), common::compile("s2.uc", &s2), None)
        .unwrap();
    cap.wait_contains("spin v1", 1, T);
    let req = UpdateRequest {
        atomic: true,
        within: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let begun = vm.begin_update(req).unwrap();
    assert!(begun.committed.is_empty());
    assert_eq!(
        begun.pending,
        vec![vec!["helper".to_string(), "spin".to_string()]]
    );
    assert!(vm.wait_updates(T));
    let n = cap.text().matches("spin v1 1").count();
    cap.wait_contains("spin v1 1", n + 2, T);
    assert!(
        !cap.text().contains("spin v1 2"),
        "helper must not have changed"
    );
    // helper's committed version is still 1, and version 1's table still
    // reaches version 1's code.
    let st = vm.status();
    let committed = st
        .bindings
        .iter()
        .find(|b| b.name == "helper")
        .expect("helper is in the status")
        .committed;
    assert_eq!(
        committed,
        VersionNo(1),
        "helper was committed to version {committed}"
    );
    assert!(
        vm.decode(vm.binding(VersionNo(1), "helper").unwrap())
            .unwrap()
            .starts_with("v1:")
    );
}

const SORT1: &str = r#"
int data[6];
sort(a, n) int a[]; int n; {
    int i, j, t;
    for (i = 0; i < n; i++)
        for (j = 0; j + 1 < n - i; j++)
            if (a[j] > a[j + 1]) { t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }
}
cycle() {
    int i;
    data[0] = 5; data[1] = 3; data[2] = 6; data[3] = 1; data[4] = 2; data[5] = 4;
    sort(data, 6);
    for (i = 0; i < 6; i++) printf("%d ", data[i]);
    printf("\n");
    sleep_ms(5);
}
main() { while (1) cycle(); }
"#;

const SORT2_TAIL: &str = r#"
void sort(double a[], int n) {
    int i, j;
    double t;
    printf("[double sort] ");
    for (i = 0; i < n; i++)
        for (j = 0; j + 1 < n - i; j++)
            if (a[j] > a[j + 1]) { t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }
}
"#;

fn sort2() -> String {
    let head = SORT1.split("sort(a, n)").next().unwrap();
    let mut s = format!("{head}{SORT2_TAIL}");
    {
        // The new caller sorts a double copy itself.
        s.push_str(
            r#"
cycle() {
    double d[6];
    int i;
    d[0] = 5; d[1] = 3; d[2] = 6; d[3] = 1; d[4] = 2; d[5] = 4;
    sort(d, 6);
    for (i = 0; i < 6; i++) printf("%g ", d[i]);
    printf("\n");
    sleep_ms(5);
}
main() { while (1) cycle(); }
"#,
        );
    }
    s
}

/// main calls sort directly and never returns, so after the update every
/// call old main makes must go through the interprocedure.
const SORTM1: &str = r#"
int data[6];
sort(a, n) int a[]; int n; {
    int i, j, t;
    for (i = 0; i < n; i++)
        for (j = 0; j + 1 < n - i; j++)
            if (a[j] > a[j + 1]) { t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }
}
main() {
    int i;
    while (1) {
        data[0] = 5; data[1] = 3; data[2] = 6; data[3] = 1; data[4] = 2; data[5] = 4;
        sort(data, 6);
        for (i = 0; i < 6; i++) printf("%d ", data[i]);
        printf("\n");
        sleep_ms(5);
    }
}
"#;

const SORTM2: &str = r#"
void sort(double a[], int n) {
    int i, j;
    double t;
    printf("[double sort] ");
    for (i = 0; i < n; i++)
        for (j = 0; j + 1 < n - i; j++)
            if (a[j] > a[j + 1]) { t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }
}
/* interprocedure: the OLD signature of sort; maps an old call into a new one */
iproc sort(int a[], int n) {
    double b[64];
    int i;
    for (i = 0; i < n; i++) b[i] = a[i];
    new.sort(b, n);
    for (i = 0; i < n; i++) a[i] = (int) b[i];
}
main() {
    double d[6];
    int i;
    while (1) {
        d[0] = 5; d[1] = 3; d[2] = 6; d[3] = 1; d[4] = 2; d[5] = 4;
        sort(d, 6);
        for (i = 0; i < 6; i++) printf("%g ", d[i]);
        printf("\n");
        sleep_ms(5);
    }
}
"#;

#[test]
fn an_interprocedure_maps_old_int_calls_onto_the_new_double_sort() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("sort1.uc", SORTM1), None)
        .unwrap();
    vm.run(None).unwrap();
    let rep = vm
        .load(
            VersionNo(2),
            common::compile("sort2.uc", SORTM2),
            Some(SORTM2),
        )
        .unwrap();
    assert_eq!(rep.iprocs.len(), 1);
    cap.wait_contains("1 2 3 4 5 6", 2, T);
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    assert_eq!(begun.changed, ["main", "sort"]);
    assert!(
        begun.notes.is_empty(),
        "no automatic group with an iproc: {:?}",
        begun.notes
    );
    assert_eq!(begun.committed, ["sort"]);
    // Old main (version 1, never returns) calls sort through the iproc:
    // int array in, converted, sorted as doubles, converted back.
    cap.wait_contains("[double sort] 1 2 3 4 5 6", 3, T);
    let b = vm.binding(VersionNo(1), "sort").unwrap();
    assert_eq!(
        vm.decode(b).unwrap(),
        "v2:iproc:sort+0x0",
        "table_1[sort] points at the interprocedure"
    );
    assert_eq!(
        vm.binding(VersionNo(2), "sort")
            .map(|a| vm.decode(a).unwrap())
            .unwrap(),
        "v2:proc:sort+0x0"
    );
    let stack = vm.stack();
    assert!(
        stack
            .iter()
            .any(|f| f.name == "main" && f.version == VersionNo(1))
    );
    assert_eq!(
        vm.abort_updates(),
        1,
        "main's group stays pending until aborted"
    );
}

#[test]
fn a_signature_change_without_an_iproc_groups_the_callers() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("sort1.uc", SORT1), None)
        .unwrap();
    vm.run(None).unwrap();
    let src2 = sort2();
    vm.load(VersionNo(2), common::compile("sort2.uc", &src2), None)
        .unwrap();
    cap.wait_contains("1 2 3 4 5 6", 1, T);
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    assert_eq!(begun.changed, ["cycle", "sort"]);
    assert!(
        begun
            .notes
            .iter()
            .any(|n| n.contains("sort") && n.contains("cycle")),
        "{:?}",
        begun.notes
    );
    assert!(vm.wait_updates(T));
    cap.wait_contains("[double sort] 1 2 3 4 5 6", 2, T);
    assert_eq!(
        vm.decode(vm.binding(VersionNo(1), "cycle").unwrap())
            .unwrap(),
        "v2:proc:cycle+0x0"
    );
}

const COUNT1: &str = r#"
int counter = 0;
tick() { counter++; }
main() { while (1) { tick(); printf("counter %d\n", counter); sleep_ms(3); } }
"#;

#[test]
fn a_changed_global_moves_with_its_users_through_its_mproc() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("c1.uc", COUNT1), None)
        .unwrap();
    vm.run(None).unwrap();
    let c2 = COUNT1.replace("counter++;", "counter = counter + 1;")
        + "mproc counter { counter = old.counter * 100; }\n";
    vm.load(VersionNo(2), common::compile("c2.uc", &c2), None)
        .unwrap();
    cap.wait_contains("counter 3\n", 1, T);
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    // main uses the global too: the group waits for main, which never
    // returns, so stop the program: on exit everything commits.
    assert!(
        begun.notes.iter().any(|n| n.contains("global counter")),
        "{:?}",
        begun.notes
    );
    assert!(
        begun
            .pending
            .iter()
            .any(|g| g.contains(&"main".to_string()) && g.contains(&"tick".to_string()))
    );
    vm.stop();
    vm.wait_exit(T).unwrap();
    assert!(vm.wait_updates(T));
    // Run version 2: the global was carried and multiplied by the mproc.
    let before: i64 = cap
        .text()
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("counter ")
        .parse()
        .unwrap();
    vm.run(Some(VersionNo(2))).unwrap();
    cap.wait_for("counter after the mproc", T, |s| {
        s.lines()
            .any(|l| l == format!("counter {}", before * 100 + 1))
    });
}

const PD1: &str = r#"
step() { static int pd = 1; printf("step %d\n", pd); pd++; sleep_ms(3); }
main() { while (1) step(); }
"#;

#[test]
fn a_trapping_mproc_leaves_the_program_as_it_was() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("p1.uc", PD1), None)
        .unwrap();
    vm.run(None).unwrap();
    let p2 =
        PD1.replace("step %d", "new step %d") + "mproc step { int z; z = 0; pd = old.pd / z; }\n";
    vm.load(VersionNo(2), common::compile("p2.uc", &p2), None)
        .unwrap();
    cap.wait_contains("step 3\n", 1, T);
    let ev = vm.subscribe();
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    let failed = match begun.failed.first() {
        Some(f) => f.1.clone(),
        None => {
            assert!(vm.wait_updates(T));
            ev.try_iter()
                .find_map(|e| match e {
                    vm::Event::GroupFailed { error, .. } => Some(error),
                    _ => None,
                })
                .expect("a GroupFailed event")
        }
    };
    assert!(
        failed.contains("mproc step") && failed.contains("division by zero"),
        "{failed}"
    );
    assert!(vm.wait_updates(T));
    let n = cap.text().lines().count();
    cap.wait_for("more old steps", T, |s| s.lines().count() >= n + 3);
    let out = cap.text();
    assert!(
        !out.contains("new step"),
        "nothing the program sees changed:\n{out}"
    );
    let nums: Vec<i64> = out
        .lines()
        .map(|l| l.trim_start_matches("step ").parse().unwrap())
        .collect();
    assert_eq!(nums, (1..=nums.len() as i64).collect::<Vec<_>>());
}

#[test]
fn an_mproc_that_loops_forever_times_out() {
    let (vm, cap) = common::vm_with(|c| c.mproc_timeout = Duration::from_millis(200));
    vm.load(VersionNo(1), common::compile("p1.uc", PD1), None)
        .unwrap();
    vm.run(None).unwrap();
    let p2 = PD1.replace("step %d", "new step %d") + "mproc step { while (1) { pd = pd + 1; } }\n";
    vm.load(VersionNo(2), common::compile("p2.uc", &p2), None)
        .unwrap();
    cap.wait_contains("step 2\n", 1, T);
    let ev = vm.subscribe();
    vm.begin_update(UpdateRequest::default()).unwrap();
    assert!(vm.wait_updates(T));
    let err = ev
        .try_iter()
        .find_map(|e| match e {
            vm::Event::GroupFailed { error, .. } => Some(error),
            _ => None,
        })
        .expect("GroupFailed");
    assert!(err.contains("ran out of time"), "{err}");
    let n = cap.text().lines().count();
    cap.wait_for("the program goes on", T, |s| s.lines().count() >= n + 2);
    assert!(!cap.text().contains("new step"));
}

#[test]
fn chained_updates_carry_statics_through_two_versions() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("p1.uc", PD1), None)
        .unwrap();
    vm.run(None).unwrap();
    for v in 2..=3u64 {
        let src = PD1.replace("step %d", &format!("v{v} step %d"));
        vm.load(VersionNo(v), common::compile("p.uc", &src), None)
            .unwrap();
        cap.wait_contains("step", 3 * v as usize, T);
        vm.begin_update(UpdateRequest::default()).unwrap();
        assert!(vm.wait_updates(T));
    }
    cap.wait_contains("v3 step", 2, T);
    let out = cap.text();
    let nums: Vec<i64> = out
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        nums,
        (1..=nums.len() as i64).collect::<Vec<_>>(),
        "pd runs on across 1→2→3:\n{out}"
    );
    assert!(out.contains("v2 step"));
    // Version 2 is no longer needed: its space was retired.
    let st = vm.status();
    assert!(
        st.retired.contains(&VersionNo(2)),
        "retired: {:?}",
        st.retired
    );
}

#[test]
fn a_thousand_updates_do_not_grow_memory() {
    let (vm, cap) = common::vm();
    let src = |v: u64| {
        PD1.replace("step %d", &format!("v{v} %d"))
            .replace("sleep_ms(3);", "sleep_ms(1);")
    };
    vm.load(VersionNo(1), common::compile("p.uc", &src(1)), None)
        .unwrap();
    vm.run(None).unwrap();
    cap.wait_contains("v1 ", 1, T);
    let mut resident = Vec::new();
    for v in 2..=1001u64 {
        let s = src(v);
        vm.load(VersionNo(v), common::compile("p.uc", &s), None)
            .unwrap();
        vm.begin_update(UpdateRequest::default()).unwrap();
        assert!(vm.wait_updates(T), "update {v}");
        if v % 250 == 1 {
            resident.push(vm.resident_bytes());
        }
    }
    cap.wait_for("version 1001 runs", T, |s| s.contains("v1001 "));
    let st = vm.status();
    assert!(st.versions.len() <= 3, "live versions: {:?}", st.versions);
    assert!(st.retired_count >= 998, "retired {}", st.retired_count);
    assert!(st.retired.len() <= vm::engine::RECENT_RETIRED);
    let (first, last) = (resident[0], *resident.last().unwrap());
    assert!(
        last <= first + (256 << 10),
        "resident bytes grew: {resident:?}"
    );
    let out = cap.text();
    let nums: Vec<i64> = out
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(nums, (1..=nums.len() as i64).collect::<Vec<_>>());
}

const AB: &str = r#"
b() { static int nb = 0; nb++; return nb; }
a() {
    static int na = 0;
    int i;
    na++;
    printf("V enters a\n");
    for (i = 0; i < 20; i++) { b(); sleep_ms(2); }
    printf("V a %d b %d\n", na, b());
}
main() { while (1) a(); }
"#;

/// Load version `v` of [`AB`], whose `a` prints `v<v> enters a` and
/// `v<v> a ...`.
fn load_ab(vm: &vm::Vm, v: u64) {
    let src = AB
        .replace("V a", &format!("v{v} a"))
        .replace("V enters", &format!("v{v} enters"));
    vm.load(
        VersionNo(v),
        common::compile(&format!("ab{v}.uc"), &src),
        None,
    )
    .unwrap();
}

#[test]
fn simultaneous_updates_commit_per_procedure_in_version_order() {
    // Held at the first safepoint after a's first line, so the update
    // finds a on the stack (not in the instant between two calls of a).
    let (vm, cap) = common::vm_with(|c| c.hold_after_output = Some(b"v1 enters a".to_vec()));
    load_ab(&vm, 1);
    vm.run(None).unwrap();
    load_ab(&vm, 2);
    load_ab(&vm, 3);
    cap.wait_contains("v1 enters a", 1, T);
    let ev = vm.subscribe();
    // 1 -> 2 while a() runs: b commits at once, a waits for its return.
    let first = vm
        .begin_update(UpdateRequest {
            to: Some(VersionNo(2)),
            ..Default::default()
        })
        .unwrap();
    assert!(first.pending.contains(&vec!["a".to_string()]), "{first:?}");
    // 2 -> 3 begins while 1 -> 2 is still pending on a.
    let second = vm
        .begin_update(UpdateRequest {
            to: Some(VersionNo(3)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((second.from, second.to), (VersionNo(2), VersionNo(3)));
    assert!(
        second.pending.contains(&vec!["a".to_string()]),
        "a waits behind 1 -> 2: {second:?}"
    );
    assert!(vm.wait_updates(T));
    cap.wait_contains("v3 a", 2, T);
    let commits: Vec<(VersionNo, Vec<String>)> = ev
        .try_iter()
        .filter_map(|e| match e {
            vm::Event::GroupCommitted { to, members, .. } if members == ["a"] => {
                Some((to, members))
            }
            _ => None,
        })
        .collect();
    let order: Vec<VersionNo> = commits.iter().map(|c| c.0).collect();
    assert_eq!(
        order,
        [VersionNo(2), VersionNo(3)],
        "a goes 1 -> 2 -> 3 in version order"
    );
    // a's static ran on through both carries.
    let out = cap.text();
    let nas: Vec<i64> = out
        .lines()
        .filter(|l| l.split(' ').nth(1) == Some("a"))
        .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(nas, (1..=nas.len() as i64).collect::<Vec<_>>(), "{out}");
}

/// Three signatures of `scale`, each new one with an iproc from the one
/// before; main (version 1) never returns and keeps calling the oldest.
const SCALE1: &str = r#"
int scale(int x) { return x * 2; }
main() { int i; for (i = 1; ; i++) { printf("r %d\n", scale(i)); sleep_ms(2); } }
"#;
const SCALE2: &str = r#"
int scale(int x, int k) { return x * k; }
iproc scale(int x) { return new.scale(x, 3); }
main() { int i; for (i = 1; ; i++) { printf("r %d\n", scale(i, 3)); sleep_ms(2); } }
"#;
const SCALE3: &str = r#"
double scale(double x, int k) { return x * k + 0.5; }
iproc scale(int x, int k) { return (int) new.scale(x, k * 10); }
main() { int i; for (i = 1; ; i++) { printf("r %f\n", scale(i, 3)); sleep_ms(2); } }
"#;

#[test]
fn interprocedure_chains_span_several_versions() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("s1.uc", SCALE1), None)
        .unwrap();
    vm.run(None).unwrap();
    cap.wait_contains("r ", 2, T);
    vm.load(VersionNo(2), common::compile("s2.uc", SCALE2), None)
        .unwrap();
    vm.begin_update(UpdateRequest {
        to: Some(VersionNo(2)),
        ..Default::default()
    })
    .unwrap();
    let n = cap.text().lines().count();
    cap.wait_for("calls through iproc 2", T, |s| s.lines().count() > n + 2);
    vm.load(VersionNo(3), common::compile("s3.uc", SCALE3), None)
        .unwrap();
    vm.begin_update(UpdateRequest {
        to: Some(VersionNo(3)),
        ..Default::default()
    })
    .unwrap();
    // Old main calls table_1[scale] -> iproc(1->2) -> table_2[scale] ->
    // iproc(2->3) -> scale v3: x * (3 * 10) + 0.5, truncated.
    let n = cap.text().lines().count();
    let out = cap.wait_for("calls through both iprocs", T, |s| {
        s.lines().count() > n + 3
    });
    let last: Vec<i64> = out
        .lines()
        .rev()
        .take(3)
        .map(|l| l[2..].parse().unwrap())
        .collect();
    let i = last[0] / 30;
    assert_eq!(last, [30 * i, 30 * (i - 1), 30 * (i - 2)], "{out}");
    assert_eq!(
        vm.decode(vm.binding(VersionNo(1), "scale").unwrap())
            .unwrap(),
        "v2:iproc:scale+0x0"
    );
    assert_eq!(
        vm.decode(vm.binding(VersionNo(2), "scale").unwrap())
            .unwrap(),
        "v3:iproc:scale+0x0"
    );
    assert_eq!(vm.abort_updates(), 2, "main stays old in both updates");
}

/// A group's binding stores are worked out when the update is planned; a
/// version loaded while the group waits makes the engine work them out
/// again at the commit. Either way `table_1[a]` must end up at a's
/// version-2 code, and unchanged b's binding must stay where it was.
#[test]
fn a_group_waiting_across_a_load_commits_the_right_bindings() {
    // Held at the first safepoint after a's first line, so the update
    // finds a on the stack (not in the instant between two calls of a).
    let (vm, cap) = common::vm_with(|c| c.hold_after_output = Some(b"v1 enters a".to_vec()));
    load_ab(&vm, 1);
    vm.run(None).unwrap();
    load_ab(&vm, 2);
    cap.wait_contains("v1 enters a", 1, T);
    let begun = vm
        .begin_update(UpdateRequest {
            to: Some(VersionNo(2)),
            ..Default::default()
        })
        .unwrap();
    assert!(begun.pending.contains(&vec!["a".to_string()]), "{begun:?}");
    // A version comes while a is still running its version-1 activation.
    load_ab(&vm, 3);
    assert!(vm.wait_updates(T), "a's group never committed");
    // a changed and moved; b did not change, so its binding stays (warped).
    for (p, v) in [("a", 2), ("b", 1)] {
        let target = vm.decode(vm.binding(VersionNo(1), p).unwrap()).unwrap();
        assert_eq!(target, format!("v{v}:proc:{p}+0x0"), "table_1[{p}]");
    }
    cap.wait_contains("v2 a", 1, T);
}
