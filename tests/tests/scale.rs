//! SPEC §7, "measured as users meet it": a 50,000-procedure program loads
//! through `ush --local` and runs, and its `.delta` grows with procedures
//! plus edges (under 50 MB), not with the n × n matrix (5 GB before); the
//! load says what it is doing while it works.
//! Release builds only: the debug compiler takes minutes on it.

use std::time::Duration;

use podus_tests::{Env, run_bounded};

#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn fifty_thousand_procedures_load_through_ush_and_run() {
    let env = Env::new();
    env.write("big.uc", &compiler::synth::program(50_000));
    let r = env.ush(
        &[
            "--local",
            "--color",
            "never",
            "-c",
            "program big; connect; load 1 big.uc; delta 1 p49990; run; expect \"tick 3\" --timeout 60s; stop; quit",
        ],
        Duration::from_secs(300),
    );
    r.assert_ok()
        .assert_has("program big has 50002 updatable procedures")
        .assert_has("delta* computed for 50002 procedures in big:")
        .assert_has("`delta 1 at ROW COL` shows")
        .assert_has("Version 1 of program big loaded successfully")
        .assert_has("p49990 reaches ")
        .assert_has("tick 3");
    // The 10-15 s of a big load are not silent: each phase says what runs,
    // before the report (issue 29).
    let out = r.all();
    let at = |what: &str| {
        out.find(what)
            .unwrap_or_else(|| panic!("no {what:?} in:\n{out}"))
    };
    let (reading, placing, report) = (
        at("load: reading and compiling big.uc ("),
        at(
            "load: compiled 50002 procedures; pup big is generating and placing their machine code (after ",
        ),
        at("Load sequence begins..."),
    );
    assert!(reading < placing && placing < report, "{out}");

    let mut c = env.command("ucc");
    c.args(["build", "big.uc", "-o", "."]);
    run_bounded(c, Duration::from_secs(300)).assert_ok();
    let delta = env.path().join("big.delta");
    let size = std::fs::metadata(&delta).expect("big.delta").len();
    assert!(size < 50_000_000, ".delta is {size} bytes (want < 50 MB)");
    // And it reads back and matches its object.
    let text = std::fs::read_to_string(&delta).unwrap();
    let d = compiler::object::read_delta(&text).expect("the .delta reads back");
    let m = compiler::object::read_object(&std::fs::read(env.path().join("big.o")).unwrap())
        .expect("the .o reads back");
    d.check_module(&m).expect("they describe the same program");
}
