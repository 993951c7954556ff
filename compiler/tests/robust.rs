//! The front end never panics: valid programs mangled at random either
//! compile or produce diagnostics that render, each with a position.

use proptest::prelude::*;

fn sources() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    [
        "../samples/pizza/pizza1.uc",
        "../samples/pizza/pizza2.uc",
        "tests/valid/knr_and_more.uc",
        "tests/valid/sort_v2.uc",
        "tests/valid/counter_v2.uc",
        "tests/valid/prototypes.uc",
    ]
    .iter()
    .map(|p| std::fs::read_to_string(format!("{root}/{p}")).unwrap())
    .collect()
}

/// Fragments worth splicing in: tokens that stress the grammar and the
/// checker's corner cases.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    "=",
    "+=",
    "%",
    "++",
    "!",
    "&&",
    "else",
    "if (",
    "while (1)",
    "for (;;)",
    "break;",
    "return",
    "static",
    "int",
    "double",
    "void",
    "old.",
    "new.",
    "mproc",
    "iproc",
    "len(",
    "printf(\"%d %f %s\", ",
    "\"",
    "/*",
    "*/",
    "'",
    "0x",
    "1e",
    ".5",
    "99999999999999999999",
    "é",
    "@",
    "x",
    "a[0]",
    "(int)",
    "(double)",
    "main",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(a, f)| Edit::Insert(a, f)),
        (any::<usize>(), 1usize..60).prop_map(|(a, n)| Edit::Duplicate(a, n)),
    ]
}

fn boundary(s: &str, mut i: usize) -> usize {
    i %= s.len() + 1;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    for e in edits {
        match *e {
            Edit::Delete(a, n) => {
                let a = boundary(&s, a);
                let b = boundary(&s, a + n);
                s.replace_range(a..b.max(a), "");
            }
            Edit::Insert(a, f) => {
                let a = boundary(&s, a);
                s.insert_str(a, FRAGMENTS[f]);
            }
            Edit::Duplicate(a, n) => {
                let a = boundary(&s, a);
                let b = boundary(&s, a + n).max(a);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn mangled_programs_never_panic(which in 0usize..6, edits in prop::collection::vec(edit(), 1..6)) {
        let srcs = sources();
        let src = apply(srcs[which].clone(), &edits);
        let prev = compiler::compile("prev.uc", &srcs[which]).ok();
        for p in [None, prev.as_ref()] {
            match compiler::compile_update("m.uc", &src, p) {
                Ok(m) => {
                    // A module that compiles also round-trips and has a δ*.
                    let bytes = compiler::object::write_object(&m);
                    prop_assert_eq!(compiler::object::read_object(&bytes).unwrap(), m.clone());
                    compiler::object::read_delta(&compiler::object::write_delta(&m))
                        .unwrap()
                        .check_module(&m)
                        .unwrap();
                }
                Err(d) => {
                    prop_assert!(!d.0.is_empty());
                    let out = d.render("m.uc", &src, false);
                    prop_assert_eq!(out.matches("m.uc:").count(), d.0.len(), "{}", out);
                }
            }
        }
    }
}
