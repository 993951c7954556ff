//! `test-update` machinery (SPEC §4.2.2) in-process: virtual time, counted
//! safepoints, updates begun at a chosen safepoint, and the record oracle,
//! on the paper's pizza update and on a router whose interprocedure is right
//! or drops an argument.

mod common;

use std::sync::Arc;
use vm::UpdateRequest;
use vm::testrun::{self, Config, Program, Which};

fn program(file: &str, src: &str) -> Program {
    Program {
        file: file.into(),
        source: src.into(),
        module: common::compile(file, src),
    }
}

fn pizza(v: u32) -> Program {
    let p = common::repo(&format!("samples/pizza/pizza{v}.uc"));
    let src = std::fs::read_to_string(&p).unwrap();
    program(&format!("pizza{v}.uc"), &src)
}

fn changes(file: &str) -> UpdateRequest {
    let p = common::repo(&format!("samples/pizza/{file}"));
    let src = std::fs::read_to_string(&p).unwrap();
    let c = compiler::changes::parse(file, &src).unwrap();
    UpdateRequest::from_changes(&c)
}

fn config(old: Program, new: Program, request: UpdateRequest, starts: &'static str) -> Config {
    Config {
        old,
        new,
        changes_file: None,
        request,
        run_for_ms: 60_000,
        points: 1000,
        allow_pending: false,
        record_start: Arc::new(move |l: &str| l.contains(starts)),
        records_text: starts.into(),
        threads: 2,
        max_safepoints: testrun::MAX_SAFEPOINTS,
        stack_size: 8 << 20,
    }
}

fn pizza_config(changes_file: &str) -> Config {
    let mut c = config(
        pizza(1),
        pizza(2),
        changes(changes_file),
        "preparation begins",
    );
    c.changes_file = Some(changes_file.into());
    c
}

fn report(cfg: &Config) -> (testrun::Summary, String) {
    let mut out = Vec::new();
    let s = testrun::test_update(cfg, &mut out).unwrap_or_else(|e| panic!("test-update: {e}"));
    (s, String::from_utf8(out).unwrap())
}

#[test]
fn virtual_time_runs_the_pizza_minutes_at_once_and_stops_at_the_horizon() {
    let cfg = pizza_config("pizza2.changes");
    let t0 = std::time::Instant::now();
    let r = testrun::run_one(&cfg, Which::Old).unwrap();
    // 120 s of virtual time, 2 s per pizza: 60 pizzas begun.
    let text = String::from_utf8_lossy(&r.output);
    assert!(r.at_horizon && r.clock_ms == 120_000, "{r:?}");
    assert_eq!(text.matches("preparation begins").count(), 60, "{text}");
    assert!(t0.elapsed().as_secs() < 20, "virtual time is not real time");
    assert!(
        r.before_half > 10 && r.before_half < r.safepoints / 3,
        "{r:?}"
    );
}

#[test]
fn the_plain_pizza_update_fails_with_a_thin_crust_pizza_baked_15_minutes() {
    let (s, out) = report(&pizza_config("pizza2.changes"));
    assert!(s.failed > 0, "{out}");
    assert!(s.tested >= 10 && s.distinct < s.tested, "{out}");
    assert!(out.ends_with(&format!("{}\n", s.line())), "{out}");
    // The first failure shows a record mixed as thin crust and baked the
    // thick-crust time.
    let fail = &out[out.find("FAIL point").expect(&out)..];
    assert!(
        fail.contains("lb dough") && fail.contains("baked for 15 minutes"),
        "{out}"
    );
    // The paper's burnt pizza: mixed as thin crust, baked for 15 minutes.
    let burnt = |r: &str| r.contains("0.75 lb dough") && r.contains("baked for 15 minutes");
    let bad = s
        .points
        .iter()
        .find(|p| p.offending.as_ref().is_some_and(|o| burnt(&o.2)))
        .unwrap_or_else(|| panic!("no thin-crust pizza baked 15 minutes:\n{out}"));
    let at = out
        .find(&format!("FAIL point {} ", bad.point))
        .or_else(|| out.find("v1:mix_ingredients\n"))
        .unwrap_or_else(|| panic!("the report shows no such point:\n{out}"));
    assert!(
        out[at..].contains("0.75 lb dough") && out[at..].contains("baked for 15 minutes"),
        "{out}"
    );
    eprintln!("{out}");
    assert!(fail.contains("stack: v1:main > v1:do_pizza"), "{out}");
    assert!(fail.contains("nearest record of the OLD run"), "{out}");
    assert!(fail.contains("nearest record of the NEW run"), "{out}");
}

#[test]
fn the_sd_pizza_update_passes_at_every_point() {
    let (s, out) = report(&pizza_config("pizza2.changes.sd"));
    assert_eq!(s.failed, 0, "{out}");
    assert!(s.tested >= 10, "{out}");
    assert_eq!(
        s.tested as u64, s.candidates,
        "fewer points than --points: all tested"
    );
    assert!(out.contains(&format!("test-update: {} update points tested", s.tested)));
}

#[test]
fn two_runs_of_one_point_print_the_same() {
    let cfg = pizza_config("pizza2.changes");
    let old = testrun::run_one(&cfg, Which::Old).unwrap();
    let k = old.before_half / 2 + 1;
    let a = testrun::run_one(&cfg, Which::Update(k)).unwrap();
    let b = testrun::run_one(&cfg, Which::Update(k)).unwrap();
    assert!(!a.output.is_empty());
    assert_eq!(a.output, b.output);
    assert_eq!(a.begun, b.begun);
    assert_eq!(a.commits, b.commits);
    assert_eq!(a.safepoints, b.safepoints);
    // ... and the run before the point is the OLD run's.
    let cut = a.begun.as_ref().unwrap().clock_ms;
    assert!(cut > 0);
}

const ROUTER1: &str = r#"
void route(int dst, int len) {
    printf("  to port %d: %d bytes\n", dst % 4, len);
}
void handle(int n) {
    printf("packet %d arrives\n", n);
    route(n * 7, 100 + n);
    sleep_ms(10);
    printf("packet %d done\n", n);
}
main() { int n; for (n = 1; ; n++) handle(n); }
"#;

fn router2(iproc_body: &str) -> String {
    format!(
        r#"
void route(int dst, int len, int prio) {{
    printf("  to port %d: %d bytes", dst % 4, len);
    if (prio > 0) printf(", priority %d", prio);
    printf("\n");
}}
iproc route(int dst, int len) {{ {iproc_body} }}
void handle(int n) {{
    printf("packet %d arrives\n", n);
    route(n * 7, 100 + n, 0);
    sleep_ms(10);
    printf("packet %d done\n", n);
}}
main() {{ int n; for (n = 1; ; n++) handle(n); }}
"#
    )
}

fn router(iproc_body: &str) -> Config {
    let mut c = config(
        program("router1.uc", ROUTER1),
        program("router2.uc", &router2(iproc_body)),
        UpdateRequest::default(),
        "arrives",
    );
    c.run_for_ms = 1_000;
    c
}

#[test]
fn a_router_whose_iproc_is_right_passes() {
    let (s, out) = report(&router("new.route(dst, len, 0);"));
    assert_eq!(s.failed, 0, "{out}");
    assert!(s.tested >= 10, "{out}");
}

#[test]
fn a_router_whose_iproc_drops_an_argument_fails() {
    let (s, out) = report(&router("new.route(dst, 0, 0);"));
    assert!(s.failed > 0, "{out}");
    assert!(out.contains("0 bytes"), "{out}");
    assert!(out.contains("v1:handle"), "{out}");
}

#[test]
fn bad_input_gets_errors_that_say_what_to_change() {
    // A NEW that does not fit OLD: the changes name a procedure NEW lacks.
    let mut cfg = pizza_config("pizza2.changes");
    cfg.request.changed = Some(vec![
        "do_pizza".into(),
        "set_oven_temp".into(),
        "mix_ingredients".into(),
        "bake_pizza".into(),
        "fold_box".into(),
    ]);
    let e = testrun::test_update(&cfg, &mut Vec::new()).unwrap_err();
    assert!(
        e.contains("fold_box") && e.contains("fix pizza2.changes"),
        "{e}"
    );

    // A record regex that matches nothing would check nothing.
    let mut cfg = pizza_config("pizza2.changes.sd");
    cfg.record_start = Arc::new(|l: &str| l.contains("calzone"));
    cfg.records_text = "calzone".into();
    let e = testrun::test_update(&cfg, &mut Vec::new()).unwrap_err();
    assert!(e.contains("--records \"calzone\" matches no line"), "{e}");

    // A reference run that traps.
    let trap = program(
        "trap.uc",
        "main() { int a[2]; int i; for (i = 0; ; i++) { a[i] = 1; sleep_ms(100); } }",
    );
    let cfg = config(trap.clone(), trap, UpdateRequest::default(), "x");
    let e = testrun::test_update(&cfg, &mut Vec::new()).unwrap_err();
    assert!(
        e.contains("OLD reference run traps") && e.contains("out of bounds"),
        "{e}"
    );

    // A program that never sleeps never reaches its horizon.
    let spin = program("spin.uc", "main() { while (1) { } }");
    let mut cfg = config(spin.clone(), spin, UpdateRequest::default(), "x");
    cfg.max_safepoints = 100_000;
    let e = testrun::test_update(&cfg, &mut Vec::new()).unwrap_err();
    assert!(
        e.contains("without reaching its horizon") && e.contains("sleep_ms"),
        "{e}"
    );

    // A program that ends early is fine: its records are checked to its end.
    let short = program(
        "short.uc",
        "main() { int i; for (i = 0; i < 3; i++) { printf(\"x %d\\n\", i); sleep_ms(10); } }",
    );
    let mut cfg = config(short.clone(), short, UpdateRequest::default(), "x ");
    cfg.run_for_ms = 1000;
    let (s, out) = report(&cfg);
    assert!(s.failed == 0 && s.tested > 3, "{out}");
    assert!(out.contains("(it ends at 0.030s)"), "{out}");
}

const LOOP1: &str = r#"
void tick(int n) { printf("tick %d\n", n); }
main() { int n; for (n = 1; ; n++) { tick(n); sleep_ms(100); } }
"#;
const LOOP2: &str = r#"
void tick(int n) { printf("tick %d\n", n); }
main() { int n; for (n = 1; ; n++) { tick(n); printf("  (v2)\n"); sleep_ms(100); } }
"#;

fn looping() -> Config {
    let mut c = config(
        program("loop1.uc", LOOP1),
        program("loop2.uc", LOOP2),
        UpdateRequest::default(),
        "tick",
    );
    c.run_for_ms = 2_000;
    c
}

#[test]
fn an_update_still_pending_at_the_end_fails_unless_allowed() {
    // main never returns, so its group waits to the end of every run.
    let (s, out) = report(&looping());
    assert_eq!(s.failed, s.tested, "{out}");
    assert!(
        out.contains("still pending at the end of the run (2.000s): {main} waiting"),
        "{out}"
    );

    let mut cfg = looping();
    cfg.allow_pending = true;
    let (s, out) = report(&cfg);
    assert_eq!(s.failed, 0, "{out}");
    assert!(out.contains("allowed by --allow-pending"), "{out}");
}

#[test]
fn within_counts_virtual_time_and_an_abandoned_group_fails_the_point() {
    let mut cfg = looping();
    cfg.request.within = Some(std::time::Duration::from_millis(500));
    let (s, out) = report(&cfg);
    assert_eq!(s.failed, s.tested, "{out}");
    assert!(
        out.contains("not applied in full: {main} at safepoint"),
        "{out}"
    );
    // Abandoned 500 ms (virtual) after it began, whatever the point.
    let p = &s.points[s.points.len() / 2];
    let began = p.run.begun.as_ref().unwrap().clock_ms;
    let gave_up = p.run.commits.iter().find(|c| !c.applied).unwrap().clock_ms;
    assert!(
        gave_up >= began + 500 && gave_up <= began + 600,
        "{began} {gave_up}"
    );
}

#[test]
fn an_mproc_that_sleeps_takes_no_virtual_time_and_does_not_hang() {
    let old = program(
        "m1.uc",
        "void step() { static int n = 0; n++; printf(\"step %d\\n\", n); }\nmain() { while (1) { step(); sleep_ms(100); } }",
    );
    let new = program(
        "m2.uc",
        "void step() { static int n = 0; n++; printf(\"step %d\\n\", n); }\nmproc step { sleep_ms(100000); n = old.n; }\nmain() { while (1) { step(); sleep_ms(100); } }",
    );
    let mut cfg = config(old, new, UpdateRequest::default(), "step");
    cfg.run_for_ms = 2_000;
    let (s, out) = report(&cfg);
    assert_eq!(s.failed, 0, "{out}");
    assert!(s.tested > 10, "{out}");
}
