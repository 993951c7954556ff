//! Property test (issue 12): random expressions over the operators of SPEC
//! 2.2 — signed and unsigned 64-bit arithmetic, division and remainder,
//! `& | ^ ~`, shifts, comparisons, `?:`, the comma operator, casts and C's
//! usual arithmetic conversions — print in UC exactly what gcc's build of
//! the same C program prints. Skipped, with a message, when gcc is absent.
//!
//! The generator only writes C whose meaning is defined (or, for signed
//! overflow, defined by `-fwrapv`, which is UC's wrapping): divisors are
//! made nonzero and positive for signed division, shift counts are masked
//! to 0..63, left shifts of signed values go through unsigned.
//!
//! Since SPEC 2.3 the expressions also pass through C's narrower integer
//! types (`char`, `short`, `int`, `unsigned`, `_Bool`, ...): conversions
//! into them, and arithmetic in them, where the integer promotions and the
//! usual arithmetic conversions of 32-bit `int` decide the result.

mod common;

use proptest::prelude::*;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    S,
    U,
}

fn leaf(t: Ty) -> BoxedStrategy<String> {
    match t {
        Ty::S => prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("c".to_string()),
            (-300i64..300).prop_map(|v| format!("({v}L)")),
            Just("((long) 'x')".to_string()),
            Just("0x7fffffffffffffffL".to_string()),
        ]
        .boxed(),
        Ty::U => prop_oneof![
            Just("u".to_string()),
            Just("v".to_string()),
            (0u64..1000).prop_map(|v| format!("{v}UL")),
            Just("0xffffffffffffffffUL".to_string()),
            Just("01777UL".to_string()),
        ]
        .boxed(),
    }
}

fn expr(t: Ty, depth: u32) -> BoxedStrategy<String> {
    if depth == 0 {
        return leaf(t);
    }
    let s = || expr(Ty::S, depth - 1);
    let u = || expr(Ty::U, depth - 1);
    let same = move || expr(t, depth - 1);
    let arith = prop_oneof![
        Just("+"),
        Just("-"),
        Just("*"),
        Just("&"),
        Just("|"),
        Just("^")
    ];
    let cmp = prop_oneof![
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">="),
        Just("=="),
        Just("!=")
    ];
    let narrow = prop_oneof![
        Just("char"),
        Just("signed char"),
        Just("unsigned char"),
        Just("short"),
        Just("unsigned short"),
        Just("int"),
        Just("unsigned"),
        Just("_Bool"),
    ];
    let wide = match t {
        Ty::S => "long",
        Ty::U => "unsigned long",
    };
    let common = vec![
        leaf(t),
        // Conversion into a narrow type and back.
        (same(), narrow.clone())
            .prop_map(move |(x, n)| format!("(({wide}) (({n}) {x}))"))
            .boxed(),
        // Arithmetic and comparisons in narrow types: promotion to int,
        // int vs unsigned, the result converted back to 64 bits.
        (
            prop_oneof![s(), u()],
            prop_oneof![arith.clone(), cmp.clone()],
            prop_oneof![s(), u()],
            narrow.clone(),
            narrow.clone(),
        )
            .prop_map(move |(x, o, y, n1, n2)| {
                format!("(({wide}) ((({n1}) {x}) {o} (({n2}) {y})))")
            })
            .boxed(),
        (same(), arith.clone(), same())
            .prop_map(|(x, o, y)| format!("({x} {o} {y})"))
            .boxed(),
        (same(), same())
            .prop_map(|(x, y)| format!("(~{x} ^ -{y})"))
            .boxed(),
        (same(), s())
            .prop_map(|(x, n)| format!("({x} >> ({n} & 63))"))
            .boxed(),
        (s(), same(), same())
            .prop_map(|(c, x, y)| format!("({c} ? {x} : {y})"))
            .boxed(),
        (s(), same())
            .prop_map(|(x, y)| format!("({x}, {y})"))
            .boxed(),
        // Comparisons, mixed signedness included (usual conversions).
        (prop_oneof![s(), u()], cmp, prop_oneof![s(), u()])
            .prop_map(move |(x, o, y)| match t {
                Ty::S => format!("((long) ({x} {o} {y}))"),
                Ty::U => format!("((unsigned long) ({x} {o} {y}))"),
            })
            .boxed(),
    ];
    let specific = match t {
        Ty::S => vec![
            (s(), prop_oneof![Just("/"), Just("%")], s())
                .prop_map(|(x, o, y)| format!("({x} {o} (({y} & 255L) + 1L))"))
                .boxed(),
            (s(), s())
                .prop_map(|(x, n)| format!("((long) ((unsigned long) {x} << ({n} & 63)))"))
                .boxed(),
            u().prop_map(|x| format!("((long) {x})")).boxed(),
        ],
        Ty::U => vec![
            (u(), prop_oneof![Just("/"), Just("%")], u())
                .prop_map(|(x, o, y)| format!("({x} {o} ({y} | 1UL))"))
                .boxed(),
            (u(), s())
                .prop_map(|(x, n)| format!("({x} << ({n} & 63))"))
                .boxed(),
            s().prop_map(|x| format!("((unsigned long) {x})")).boxed(),
            // Mixed operands: the signed one converts to unsigned.
            (s(), arith, u())
                .prop_map(|(x, o, y)| format!("({x} {o} {y})"))
                .boxed(),
        ],
    };
    proptest::strategy::Union::new(common.into_iter().chain(specific)).boxed()
}

fn program() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(any::<i64>(), 3),
        proptest::collection::vec(any::<u64>(), 2),
        proptest::collection::vec((prop_oneof![Just(Ty::S), Just(Ty::U)], 1u32..4), 12),
    )
        .prop_flat_map(|(si, ui, shapes)| {
            let es: Vec<BoxedStrategy<(Ty, String)>> = shapes
                .into_iter()
                .map(|(t, d)| expr(t, d).prop_map(move |e| (t, e)).boxed())
                .collect();
            es.prop_map(move |es| {
                let lit = |v: i64| {
                    if v == i64::MIN {
                        "(-9223372036854775807L - 1)".to_string()
                    } else {
                        format!("({v}L)")
                    }
                };
                let mut p = String::from("#include <stdio.h>\nint main(void)\n{\n");
                p += &format!(
                    "    long a = {}, b = {}, c = {};\n    unsigned long u = {}UL, v = {}UL;\n",
                    lit(si[0]),
                    lit(si[1] % 1000),
                    lit(si[2]),
                    ui[0],
                    ui[1] % 4096
                );
                for (t, e) in es {
                    let conv = if t == Ty::S { "%ld" } else { "%lu" };
                    p += &format!("    printf(\"{conv}\\n\", {e});\n");
                }
                p += "    return 0;\n}\n";
                p
            })
        })
}

fn gcc_present() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

static N: AtomicUsize = AtomicUsize::new(0);

fn gcc_output(src: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "podus-realc-prop-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let c = dir.join("p.c");
    let exe = dir.join("p");
    std::fs::write(&c, src).unwrap();
    let cc = Command::new("gcc")
        .args(["-O0", "-fwrapv", "-w", "-o"])
        .arg(&exe)
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "gcc failed:\n{}\n{src}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "the C program failed:\n{src}");
    String::from_utf8(out.stdout).unwrap()
}

fn uc_output(src: &str) -> String {
    let (vm, cap) = common::vm();
    vm.load(vm::VersionNo(1), common::compile("p.uc", src), None)
        .unwrap_or_else(|e| panic!("load failed: {e}\n{src}"));
    vm.run(None).unwrap();
    let st = vm.wait_exit(Duration::from_secs(30)).expect("finishes");
    assert_eq!(st, vm::ExitStatus::Returned, "{src}");
    cap.text()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn random_expressions_print_what_gccs_build_prints(src in program()) {
        if !gcc_present() {
            eprintln!("gcc is not installed: skipping the comparison with gcc");
            return Ok(());
        }
        let want = gcc_output(&src);
        let got = uc_output(&src);
        prop_assert_eq!(got, want, "program:\n{}", src);
    }
}
