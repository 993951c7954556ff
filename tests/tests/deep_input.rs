//! Deep and wide input through the real binaries (issue 29): `ucc check`,
//! `pup --exec` and `ush --local` take every construct nested 499 deep and
//! refuse 501 with file:line:col, exit 1, never an abort; a ush that was
//! given a refused program keeps answering and leaves no private folder;
//! a program of more names than a pup can hold is refused by ucc in well
//! under a second; `pup --test-update` takes the 499-deep too.

use podus_tests::{Env, run_bounded};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// `main` with `n` levels of `kind` around one assignment of x (printed).
fn nested(kind: &str, n: usize) -> String {
    let body = match kind {
        "paren" => format!("x = {}1{};", "(".repeat(n), ")".repeat(n)),
        "minus" => format!("x = {}1;", "- ".repeat(n)),
        "sum" => format!("x = 1{};", " + 1".repeat(n - 1)),
        "call" => format!("x = {}1{};", "f(".repeat(n - 1), ")".repeat(n - 1)),
        "index" => format!("x = {}0{};", "a[".repeat(n - 1), "]".repeat(n - 1)),
        "if" => format!("{}x = 1;", "if (x < 9) ".repeat(n)),
        "while" => format!("{}x = x + 1;", "while (x < 1) ".repeat(n)),
        "block" => format!("{}x = 1;{}", "{".repeat(n - 1), "}".repeat(n - 1)),
        "elseif" => {
            let rungs: Vec<String> = (0..n).map(|i| format!("if (x == {i}) x = 1;")).collect();
            format!("x = 3; {}", rungs.join(" else "))
        }
        _ => unreachable!("{kind}"),
    };
    format!(
        "int a[4];\nint f(int v) {{ return v; }}\nmain() {{ int x; x = 0; a[0] = 0;\n{body}\nprintf(\"x=%d\\n\", x); }}\n"
    )
}

const KINDS: &[&str] = &[
    "paren", "minus", "sum", "call", "index", "if", "while", "block", "elseif",
];

#[test]
fn every_construct_499_deep_runs_and_501_is_refused_with_a_position() {
    let env = Env::new();
    for kind in KINDS {
        let ok = env.write(&format!("{kind}.uc"), &nested(kind, 499));
        let bad = env.write(&format!("{kind}_deep.uc"), &nested(kind, 501));
        let mut c = env.command("ucc");
        c.arg("check").arg(&ok);
        run_bounded(c, LIMIT).assert_ok();
        let mut c = env.command("pup");
        c.arg("--exec").arg(&ok);
        let r = run_bounded(c, LIMIT);
        r.assert_ok().assert_has("x=");
        for tool in [["ucc", "check"], ["pup", "--exec"]] {
            let mut c = env.command(tool[0]);
            c.arg(tool[1]).arg(&bad);
            let r = run_bounded(c, LIMIT);
            assert_eq!(r.code, Some(1), "{} {kind} x 501:\n{}", tool[0], r.all());
            r.assert_has("nested deeper than 500 levels")
                .assert_has(&format!("{kind}_deep.uc:4:"));
        }
    }
}

#[test]
fn ush_local_loads_the_deep_runs_them_and_survives_the_too_deep() {
    let env = Env::new();
    let tmp = env.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut script = String::from("set errexit off\nprogram d\nconnect\noutput on\n");
    for (i, kind) in KINDS.iter().enumerate() {
        env.write(&format!("{kind}.uc"), &nested(kind, 499));
        env.write(&format!("{kind}_deep.uc"), &nested(kind, 501));
        // A refused load changes nothing; the next version loads.
        script.push_str(&format!("load {} {kind}_deep.uc\n", i + 1));
        script.push_str(&format!("load {} {kind}.uc\n", i + 1));
    }
    script.push_str("run 1\nexpect \"x=\" --timeout 30s\nstatus\nquit\n");
    env.write("d.ush", &script);
    let mut c = env.command("ush");
    c.args(["--local", "-f", "d.ush"]).env("TMPDIR", &tmp);
    let r = run_bounded(c, Duration::from_secs(120));
    let all = r.all();
    assert!(r.code.is_some(), "ush was killed by a signal:\n{all}");
    assert_eq!(
        all.matches("nested deeper than 500 levels").count(),
        KINDS.len(),
        "every too-deep load refused:\n{all}"
    );
    assert!(
        all.contains("_deep.uc:4:"),
        "refusals carry file:line:col:\n{all}"
    );
    assert!(all.contains("x="), "version 1 ran:\n{all}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "ush left {left:?} in its TMPDIR");
}

/// `test-update` compiles OLD and NEW in the test pup (on its main thread,
/// as ucc does): at the nesting limit both compile, every update point
/// runs, and none fails.
#[test]
fn test_update_compiles_every_construct_499_deep() {
    let env = Env::new();
    for kind in KINDS {
        let old = env.write(&format!("{kind}.uc"), &nested(kind, 499));
        let new_src = nested(kind, 499).replace("x=%d", "new x=%d");
        let new = env.write(&format!("{kind}2.uc"), &new_src);
        let mut c = env.command("pup");
        c.args([
            "--test-update",
            "--records",
            "^",
            "--for",
            "1s",
            "--points",
            "3",
        ])
        .arg(&old)
        .arg(&new);
        let r = run_bounded(c, LIMIT);
        r.assert_ok().assert_has(": 0 failed");
    }
}

#[test]
fn more_names_than_a_pup_holds_are_refused_by_ucc_fast() {
    let env = Env::new();
    let mut src = String::new();
    for i in 0..200_000 {
        src.push_str(&format!("int p{i}() {{ return {i}; }}\n"));
    }
    src.push_str("main() { p1(); }\n");
    let f = env.write("many.uc", &src);
    let mut c = env.command("ucc");
    c.arg("check").arg(&f);
    let t0 = std::time::Instant::now();
    let r = run_bounded(c, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("more than 65536 procedures and globals")
        .assert_has("many.uc:65537:5");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "refused only after {:?}",
        t0.elapsed()
    );
}
