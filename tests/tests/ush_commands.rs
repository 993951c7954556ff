//! The ush commands no other test runs through the real binary, each
//! against a real pupmapper and pup: `connect HOST`, `source`, `stack`,
//! `addr`, `graph` (printed, `--dot`, and `--svg` rendered by Graphviz and
//! checked), `output off`, `debug off`, `update --within`, `update --atomic`
//! and `abort`.
//!
//! Every wait is on the program's output (`expect`) or on the pup's own
//! notices (`wait`), never on a sleep. The program prints a counter, so
//! what ran before and after each command can be told from the numbers.
//!
//! `graph --svg` needs Graphviz's `dot`. `.ci/run` installs it; with
//! `CI=true` a missing `dot` fails the test, elsewhere it says so and
//! checks the rest.

use std::time::Duration;

use podus_tests::{Env, Run, have_tool, in_ci, run_bounded};

#[path = "../../pupmapper/tests/common/closed_port.rs"]
mod closed_port;

const LIMIT: Duration = Duration::from_secs(60);

/// `main` → `work` → `helper`, printing `tick N` every 20 ms.
const TICKER: &str = "main() { int n; n = 0; while (1) { n = work(n); } }
work(n) int n; { helper(n); sleep_ms(20); return n + 1; }
helper(n) int n; { printf(\"tick %d\\n\", n); }
";

/// `ush -c COMMANDS` without `PODUS_PUPMAPPER_PORT`: only a `connect HOST`
/// that names the mapper's port can reach it.
fn ush_no_port(env: &Env, commands: &str) -> Run {
    let mut c = env.command("ush");
    c.env_remove("PODUS_PUPMAPPER_PORT")
        .args(["--color", "never", "-c", commands]);
    run_bounded(c, LIMIT)
}

/// The text after the first line containing `marker` (panics without it).
fn after<'a>(text: &'a str, marker: &str) -> &'a str {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
    &text[at + marker.len()..]
}

#[test]
fn connect_host_source_stack_addr_graph_output_off_and_debug_off() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("g", &[]);
    let mapper = env.mapper_addr();
    env.write("ticker.uc", TICKER);
    // `source`: the load and run come from a file, whose relative paths
    // resolve against its own directory.
    std::fs::create_dir(env.path().join("sub")).unwrap();
    std::fs::write(env.path().join("sub/ticker.uc"), TICKER).unwrap();
    env.write("sub/start.ush", "load 1 ticker.uc\nrun\n");

    // `connect HOST` to a host:port where nothing listens fails, naming it.
    let (_closed, closed) = closed_port::bound_but_closed_port();
    let refused = ush_no_port(&env, &format!("program g; connect 127.0.0.1:{closed}"));
    assert_ne!(refused.code, Some(0), "{}", refused.all());
    refused.assert_has(&format!("127.0.0.1:{closed}"));

    let svg = have_tool("dot", "-V");
    assert!(
        svg || !in_ci(),
        "CI=true but Graphviz's `dot` is missing: .ci/run installs graphviz, \
         and `graph --svg` must be tested in CI"
    );
    if !svg {
        eprintln!("SKIPPED the `graph --svg` part: Graphviz's `dot` is not installed");
    }
    let run = ush_no_port(
        &env,
        &format!(
            "program g; connect {mapper}; source sub/start.ush; output on; \
             expect \"tick 3\\n\"; stack; graph; graph --dot g.dot; {} \
             output off; debug on; stack; debug off; procs; \
             output on; expect \"tick\"; stop",
            if svg { "graph --svg g.svg;" } else { "" }
        ),
    );
    run.assert_ok()
        .assert_has("Program g is now running")
        .assert_has("program g runtime stack backtrace:")
        .assert_has("call graph written to g.dot")
        .assert_has("Output of program g is no longer streamed to this terminal")
        .assert_has("Debug trace of program g is now on")
        .assert_has("Debug trace of program g is now off");
    let out = run.stdout.clone();
    // `connect HOST` reached this mapper's pup (there is no port in the
    // environment, so only HOST could have named it).
    assert!(
        out.contains("Connected to pup") || out.contains("connected to pup"),
        "no connect line:\n{out}"
    );

    // `stack`: main is the outermost frame, and each frame names a
    // procedure of version 1.
    let frames: Vec<&str> = after(&out, "program g runtime stack backtrace:\n")
        .lines()
        .take_while(|l| l.starts_with("  #"))
        .collect();
    assert!(!frames.is_empty(), "no frames:\n{out}");
    let outermost = frames.last().unwrap();
    assert!(
        outermost.contains(" main ") && outermost.contains("v1:proc:main+0x"),
        "main is not the outermost frame: {frames:?}"
    );
    for f in &frames {
        assert!(f.contains("v1:proc:"), "frame not decoded: {f}");
    }
    // Its absolute address, for `addr` below.
    let pc = outermost
        .rsplit('(')
        .next()
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no address in {outermost:?}"))
        .to_string();

    // `graph` printed DOT naming every procedure; `--dot` wrote the same.
    let dot = std::fs::read_to_string(env.path().join("g.dot")).expect("g.dot written");
    assert!(dot.contains("digraph"), "{dot}");
    for p in ["main", "work", "helper"] {
        assert!(dot.contains(p), "{p} missing from the DOT:\n{dot}");
    }
    assert!(
        out.contains(dot.trim_end()),
        "`graph` printed other DOT:\n{out}"
    );
    if svg {
        run.assert_has("call graph rendered to g.svg");
        check_svg(
            &std::fs::read_to_string(env.path().join("g.svg")).expect("g.svg written"),
            &["main", "work", "helper"],
        );
    }

    // `output off`: nothing of the program's output is shown until
    // `output on` again, although it kept printing (the counter jumps).
    let off = after(&out, "is no longer streamed to this terminal\n");
    let (quiet, _) = off
        .split_once("Output of program g is now streamed")
        .unwrap_or_else(|| panic!("output was not turned on again:\n{out}"));
    assert!(
        !quiet.contains("tick"),
        "output was shown while off:\n{quiet}"
    );
    // `debug on` shows the pup's trace (its `stack` request is traced);
    // after `debug off` the only trace line may be the one of the DEBUG
    // command itself, which the pup traced while the trace was still on:
    // the `procs` request after it is not traced.
    let on = after(&out, "Debug trace of program g is now on\n");
    let (traced, after_off) = on
        .split_once("Debug trace of program g is now off\n")
        .unwrap_or_else(|| panic!("no `debug off` line:\n{out}"));
    assert!(
        traced.lines().any(|l| l.starts_with("pup: ")),
        "no trace line while the trace was on:\n{traced}"
    );
    let late: Vec<&str> = after_off
        .lines()
        .filter(|l| l.starts_with("pup: ") && !l.contains("command DEBUG"))
        .collect();
    assert!(late.is_empty(), "trace lines after `debug off`: {late:?}");

    // `addr`: the frame's address decodes to main of version 1; an address
    // outside the pup's space is refused.
    let run = ush_no_port(
        &env,
        &format!("program g; connect {mapper}; addr {pc}; addr 0x10"),
    );
    run.assert_has(&format!("{pc} = v1:proc:main+0x"))
        .assert_has("0x10 is not an address in pup g's address space");
    assert_ne!(run.code, Some(0), "a bad address must fail the script");
}

/// A well-formed SVG document (as far as its outline goes) that shows
/// every procedure name as text.
fn check_svg(svg: &str, names: &[&str]) {
    let body = svg.trim();
    assert!(
        body.starts_with("<?xml") || body.starts_with("<!DOCTYPE") || body.starts_with("<svg"),
        "not an SVG document:\n{svg}"
    );
    assert!(body.ends_with("</svg>"), "SVG not closed:\n{svg}");
    assert_eq!(body.matches("<svg").count(), 1, "{svg}");
    // Every element that opens is closed: count <g> groups and <text>.
    for tag in ["g", "text", "title"] {
        let open =
            body.matches(&format!("<{tag}>")).count() + body.matches(&format!("<{tag} ")).count();
        let close = body.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "unbalanced <{tag}> in the SVG:\n{svg}");
    }
    for n in names {
        assert!(
            body.contains(&format!(">{n}</text>")),
            "procedure {n} is not drawn in the SVG:\n{svg}"
        );
    }
}

/// `spin` never returns; `helper` is called by it on every round.
const SPIN: &str = "main() { spin(); }
spin() { int i; i = 0; while (1) { printf(\"spin v1 %d\\n\", helper(i)); i++; sleep_ms(10); } }
helper(n) int n; { return n; }
";

#[test]
fn update_within_update_atomic_and_abort() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("s", &[]);
    env.write("s1.uc", SPIN);
    // Version 2: helper adds a million; spin says v2 (but can never be
    // replaced: it is always active).
    env.write(
        "s2.uc",
        &SPIN
            .replace("return n;", "return n + 1000000;")
            .replace("spin v1", "spin v2"),
    );
    env.write(
        "s3.uc",
        &SPIN
            .replace("return n;", "return n + 2000000;")
            .replace("spin v1", "spin v3"),
    );
    env.write(
        "s4.uc",
        &SPIN
            .replace("return n;", "return n + 4000000;")
            .replace("spin v1", "spin v4"),
    );
    let run = env.ush_c(
        "set errexit off; program s; connect; load 1 s1.uc; load 2 s2.uc; load 3 s3.uc; load 4 s4.uc; \
         output on; run; expect \"spin v1 2\\n\"; \
         update 2 --within 300ms; wait --timeout 30s; expect \"spin v1 100\"; \
         update 3 --atomic --within 300ms; wait --timeout 30s; procs helper; \
         expect \"spin v1 100\"; \
         update 4; abort; status; stop",
    );
    let out = run.stdout.clone();
    // `wait` fails for an update that ended partial or applied nothing
    // (SPEC 4.2.1); errexit is off so the script goes on to `abort`.
    assert!(
        out.contains("error: wait: Program s update to version 2 partial")
            || run
                .stderr
                .contains("error: wait: Program s update to version 2 partial"),
        "wait did not fail for the partial update:\n{out}"
    );

    // --within: helper (inactive) changed at once; spin (always active)
    // was given up when the deadline passed, and old spin now calls the
    // new helper.
    let first = after(
        &out,
        "Update of program s from version 1 to version 2 begins...",
    );
    let (first, rest) = first
        .split_once("*** Program s update to version 2 partial: ")
        .unwrap_or_else(|| panic!("the --within update did not finish:\n{out}"));
    assert!(first.contains("helper"), "{first}");
    assert!(
        rest.starts_with(
            "applied {helper}; not applied {spin} (still active when within 300ms ran out) ***"
        ),
        "{rest}"
    );
    assert!(!out.contains("spin v2"), "spin was replaced:\n{out}");

    // --atomic: nothing changes until everything can, and spin never
    // can, so helper stays at version 2 when the deadline ends it.
    let atomic = after(
        &out,
        "Update of program s from version 1 to version 3 begins...",
    );
    assert!(
        atomic.contains("*** Program s update to version 3 applied nothing: not applied {spin, helper} (still active when within 300ms ran out) ***"),
        "the atomic update applied something:\n{atomic}"
    );
    let helper_row = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("helper"))
        .unwrap_or_else(|| panic!("no `procs helper` row:\n{out}"));
    assert_eq!(
        helper_row.split_whitespace().nth(2),
        Some("2"),
        "helper's committed version after the atomic update: {helper_row}"
    );
    assert!(
        !out.contains("spin v1 200") && !out.contains("spin v3"),
        "version 3 ran although the atomic update could not complete:\n{out}"
    );

    // abort: the plain update to 4 changes helper at once and leaves spin
    // pending; `abort` gives that group up.
    let aborted = after(
        &out,
        "Update of program s from version 1 to version 4 begins...",
    );
    assert!(
        aborted.contains("Abandoned 1 pending group of program s"),
        "{aborted}"
    );
    assert!(aborted.contains("no update pending"), "{aborted}");
}
