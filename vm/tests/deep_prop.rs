//! Deep and wide programs, generated (issue 29): every one either compiles
//! (on an 8 MiB stack, the main thread's, where ucc, ush and `pup --exec`
//! compile) and loads into a VM on a thread with a 2 MiB stack (the
//! default of std's threads, which the pup's connection threads have,
//! where a pup loads what a ush sends), or is refused by
//! the compiler with a positioned diagnostic; never a panic, an abort or
//! a load the compiler said would work that the VM then refuses.

mod common;

use compiler::limits::{MAX_NAMES, MAX_NESTING};
use proptest::prelude::*;
use vm::VersionNo;

/// One level of nesting, wrapped around `inner` (an int expression) or
/// around a statement.
#[derive(Debug, Clone, Copy)]
enum Level {
    Paren,
    Neg,
    AddLeft,
    Call,
    Index,
    Cast,
    If,
    While,
    Block,
    ElseIf,
}

/// A program whose main nests `levels` around one assignment: expression
/// levels go inside the assigned value, statement levels around the
/// assignment, in the order given.
fn program(levels: &[Level]) -> String {
    let (mut pre, mut post) = (String::new(), String::new());
    let (mut epre, mut epost) = (String::new(), String::new());
    for l in levels {
        match l {
            Level::Paren => (epre.push('('), epost.insert(0, ')')),
            Level::Neg => (epre.push_str("- "), ()),
            Level::AddLeft => (epre.push('('), epost.insert_str(0, " + 1)")),
            Level::Call => (epre.push_str("f("), epost.insert(0, ')')),
            Level::Index => (epre.push_str("a["), epost.insert_str(0, " % 4]")),
            Level::Cast => (epre.push_str("(int)"), ()),
            Level::If => (pre.push_str("if (x < 9) "), ()),
            Level::While => (pre.push_str("while (x < 1) "), ()),
            Level::Block => (pre.push('{'), post.insert(0, '}')),
            Level::ElseIf => (pre.push_str("if (x == 7) x = 7; else "), ()),
        };
    }
    format!(
        "int a[4];\nint f(int v) {{ return v; }}\nmain() {{ int x; x = 0; {pre}x = {epre}1{epost} + 1;{post} printf(\"%d\\n\", x); }}\n"
    )
}

fn level() -> impl Strategy<Value = Level> {
    prop_oneof![
        Just(Level::Paren),
        Just(Level::Neg),
        Just(Level::AddLeft),
        Just(Level::Call),
        Just(Level::Index),
        Just(Level::Cast),
        Just(Level::If),
        Just(Level::While),
        Just(Level::Block),
        Just(Level::ElseIf),
    ]
}

/// Compiles `src`; if it compiles, loads it on a 2 MiB thread and asserts
/// the VM takes it. If not, asserts a positioned diagnostic.
fn accepted_or_positioned(src: &str) -> bool {
    // The compiler runs on an 8 MiB main thread in ucc, ush and `pup
    // --exec`: so here too.
    let owned = src.to_string();
    let compiled = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || compiler::compile("gen.uc", &owned))
        .expect("thread")
        .join()
        .expect("compile on an 8 MiB stack");
    match compiled {
        Err(d) => {
            let first = &d.0[0];
            assert!(
                first.span.start > 0 && (first.span.start as usize) < src.len(),
                "diagnostic without a position: {first:?}"
            );
            assert!(
                d.render("gen.uc", src, false).contains("gen.uc:"),
                "rendered without file:line:col"
            );
            false
        }
        Ok(m) => {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    let (vm, _cap) = common::vm();
                    vm.load(VersionNo(1), m, None).unwrap_or_else(|e| {
                        panic!("the compiler accepted what the VM refuses: {e}")
                    });
                })
                .expect("thread")
                .join()
                .expect("compile and load on a 2 MiB stack");
            true
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random mixes of every nesting construct, around the limit.
    #[test]
    fn deep_mixes_are_accepted_or_refused_with_a_position(
        levels in prop::collection::vec(level(), 400..1400)
    ) {
        accepted_or_positioned(&program(&levels));
    }

    /// Each construct alone just under the limit is accepted, just over it
    /// refused (the innermost assignment is one more level).
    #[test]
    fn one_construct_at_the_limit(l in level()) {
        let under = (MAX_NESTING - 3) as usize;
        prop_assert!(accepted_or_positioned(&program(&vec![l; under])), "{l:?} x {under} refused");
        prop_assert!(!accepted_or_positioned(&program(&vec![l; MAX_NESTING as usize + 1])), "{l:?} x 501 accepted");
    }
}

/// Wide programs: many procedures, many statics, a long flat expression
/// list and a long line are accepted; one name more than a pup can hold is
/// refused at that name.
#[test]
fn wide_programs() {
    let mut src = String::new();
    for i in 0..2000 {
        src.push_str(&format!(
            "int p{i}(int v) {{ static int s{i}[8]; s{i}[0] = v; return v + {i}; }}\n"
        ));
    }
    // 300 calls: main's code stays inside its 64 KiB segment (2,000 need
    // 117 KiB; the pup refuses that naming main, see below).
    src.push_str("main() { static int big[8000]; int x; x = 0;");
    for i in 0..300 {
        src.push_str(&format!(" x = x + p{i}({i}) * 2;"));
    }
    let args: Vec<String> = (0..300).map(|i| format!("{i} + {i}")).collect();
    src.push_str(&format!(
        " x = x + f2({}); printf(\"%d\\n\", x); }}\n",
        args.join(", ")
    ));
    let params: Vec<String> = (0..300).map(|i| format!("int a{i}")).collect();
    src.push_str(&format!("int f2({}) {{ return a0; }}\n", params.join(", ")));
    assert!(accepted_or_positioned(&src), "a wide program is accepted");

    let mut names = String::from("main() { }\n");
    for i in 0..MAX_NAMES {
        names.push_str(&format!("int g{i};\n"));
    }
    let d = compiler::compile("n.uc", &names).expect_err("65,537 names");
    let msg = d.render("n.uc", &names, false);
    assert!(msg.contains(&format!("n.uc:{}:5", MAX_NAMES + 1)), "{msg}");
}

/// Code size is known only after Cranelift, so only the pup checks it: its
/// refusal names the procedure and the sizes.
#[test]
fn code_past_its_segment_is_refused_naming_the_procedure() {
    let mut src = String::from("int p(int v) { return v; }\nmain() { int x; x = 0;");
    for i in 0..4000 {
        src.push_str(&format!(" x = x + p({i}) * 2;"));
    }
    src.push_str(" }\n");
    let m = common::compile("big.uc", &src);
    let (vm, _cap) = common::vm();
    match vm.load(VersionNo(1), m, Some(&src)) {
        Err(e @ vm::LoadError::TooLarge { .. }) => {
            let vm::LoadError::TooLarge { name, max, at, .. } = &e else {
                unreachable!()
            };
            assert_eq!(
                (name.as_str(), *max),
                ("main", compiler::limits::CODE_SEGMENT_BYTES)
            );
            // Where it is, so the user knows what to split (issue 29).
            assert_eq!(at, " at big.uc:2:1");
            assert!(
                e.to_string()
                    .starts_with("procedure main at big.uc:2:1 needs "),
                "{e}"
            );
        }
        other => panic!("want TooLarge of main, got {other:?}"),
    }
}
