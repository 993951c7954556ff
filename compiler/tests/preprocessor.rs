//! The preprocessor of SPEC 2.3: every directive, every error with its
//! file, line and column (typed fields: [`compiler::source::locate`] of the
//! diagnostic's span), programs of several files read from a directory,
//! and random macro/conditional nests that never panic.

use compiler::source::{Location, locate};
use proptest::prelude::*;
use std::path::Path;

/// The value `main` returns (its `return` constant folded by running the
/// module is out of scope here: we check the global `r`'s initializer).
fn global(src: &str, name: &str) -> i64 {
    let m = compiler::compile("t.uc", src)
        .unwrap_or_else(|d| panic!("{}", d.render("t.uc", src, false)));
    let g = m
        .globals
        .iter()
        .find(|g| g.name == name)
        .expect("the global exists");
    match g.init[0] {
        compiler::ir::Const::Int(v) => v,
        other => panic!("{other:?}"),
    }
}

/// The (file, line, column, message) of each error of a text.
fn errors(file: &str, src: &str) -> Vec<(Location, String)> {
    let d = compiler::compile(file, src).expect_err("must not compile");
    d.0.iter()
        .map(|d| (locate(src, file, d.span.start as usize), d.message.clone()))
        .collect()
}

fn at(file: &str, line: usize, column: usize) -> Location {
    Location {
        file: file.into(),
        line,
        column,
    }
}

#[test]
fn function_like_macros_collect_arguments_as_c_does() {
    let src = "#define ADD(a, b) ((a) + (b))\n#define ID(x) x\n#define SECOND(a, b) b\nint r = ADD(ID(SECOND((1, 2), 2)), ADD(3, 4)) * 10;\nmain() {}\n";
    assert_eq!(global(src, "r"), (2 + 7) * 10);
    // No `(` after the name: not a use.
    assert_eq!(global("#define F(x) x\nint F = 3;\nmain() {}\n", "F"), 3);
    // Zero parameters, an empty argument, variadic.
    let src = "#define Z() 5\n#define E(a) a 1\n#define V(f, ...) f(__VA_ARGS__)\n#define S(a,b,c) a+b+c\nint r = Z() + E() + V(S, 1, 2, 3);\nmain() {}\n";
    assert_eq!(global(src, "r"), 5 + 1 + 6);
}

#[test]
fn stringizing_and_pasting() {
    let src = "#define CAT(a, b) a ## b\n#define STR(x) #x\nint xy = 7;\nint r = CAT(1, 2);\nmain() { printf(STR(a  +  \"q\")); CAT(x, y) = 1; }\n";
    assert_eq!(global(src, "r"), 12);
    let m = compiler::compile("t.uc", src).unwrap();
    let dbg = format!("{:?}", m.procs[0].body);
    assert!(dbg.contains(r#"Lit("a + \\\"q\\\"")"#), "{dbg}");
    let e = errors("t.uc", "#define CAT(a, b) a ## b\nint r = CAT(+, 1);\n");
    assert_eq!(e[0].0, at("t.uc", 2, 9));
    assert!(e[0].1.contains("`+1`"), "{}", e[0].1);
}

#[test]
fn a_macro_is_not_expanded_inside_itself() {
    // C's "painted blue": `x` expands once; `f(f)(1)`-style rescans work.
    let src = "int x = 2;\n#define x (x + 1)\n#define g f\n#define f(a) a * 2\nint r = g(3);\nmain() { int y = x; }\n";
    assert_eq!(global(src, "r"), 6);
    let src = "#define A B\n#define B A\nint A = 1;\nint r = 4;\nmain() {}\n";
    assert_eq!(global(src, "r"), 4);
}

#[test]
fn undef_and_conditionals() {
    let src = "#define X 1\n#undef X\n#ifdef X\nint r = 1;\n#elif defined(Y) || !defined X && 3 > 2\nint r = 2;\n#else\nint r = 3;\n#endif\nmain() {}\n";
    assert_eq!(global(src, "r"), 2);
    let src = "#define V 3\n#if V * 2 == 6 && (V % 2 ? 1 : 0) && UNKNOWN == 0 && -1 < 0 && 1U > -1 == 0\nint r = 1;\n#else\nint r = 0;\n#endif\nmain() {}\n";
    assert_eq!(global(src, "r"), 1);
    // Nested groups inside a false group are skipped whole, bad lines too.
    let src = "#if 0\n#if 1/0\n#error no\n#else\n#bogus\n#endif\nit's skipped\n#endif\nint r = 5;\nmain() {}\n";
    assert_eq!(global(src, "r"), 5);
    // `0 && 1/0` does not divide.
    assert_eq!(
        global(
            "#if 0 && 1/0\nint r = 1;\n#else\nint r = 2;\n#endif\nmain() {}\n",
            "r"
        ),
        2
    );
}

#[test]
fn line_and_file() {
    let src = "\n\nint r = __LINE__;\nmain() { printf(\"%s\", __FILE__); }\n";
    assert_eq!(global(src, "r"), 3);
    let m = compiler::compile("dir/t.uc", src).unwrap();
    assert!(format!("{:?}", m.procs[0].body).contains("dir/t.uc"));
}

#[test]
fn every_directive_error_has_its_position() {
    let src = "#if 1 +\n#endif\n#endif\n#if 1\n#else\n#else\n#endif\n#error the message\n#line 4\n#frob\n#define\n#define F(a a\nint x; # here\n#include nothing\n#if 2/0\n#endif\n#ifdef X\n";
    let e = errors("t.uc", src);
    let got: Vec<(usize, usize)> = e.iter().map(|(l, _)| (l.line, l.column)).collect();
    assert_eq!(
        got,
        vec![
            (1, 1),
            (3, 1),
            (6, 1),
            (8, 1),
            (9, 1),
            (10, 1),
            (11, 8),
            (12, 9),
            (13, 8),
            (14, 1),
            (15, 6),
            (17, 1)
        ],
        "{e:#?}"
    );
    assert!(e[0].1.contains("bad #if expression"));
    assert!(e[1].1.contains("#endif without #if"));
    assert!(e[2].1.contains("#else after #else"));
    assert_eq!(e[3].1, "#error the message");
    assert!(e[4].1.contains("`#line` is not supported"));
    assert!(e[10].1.contains("division by zero"));
    assert!(e[11].1.contains("unterminated #ifdef"));
}

#[test]
fn macro_use_errors() {
    let e = errors(
        "t.uc",
        "#define F(a, b) a\nint r = F(1);\nint s = F(1, (2\n",
    );
    assert_eq!(e[0].0, at("t.uc", 2, 9));
    assert!(
        e[0].1.contains("takes 2 arguments, but 1 was given"),
        "{}",
        e[0].1
    );
    assert!(
        e.iter()
            .any(|(l, m)| *l == at("t.uc", 3, 9) && m.contains("unterminated argument list")),
        "{e:#?}"
    );
    // Exponential growth stops with a diagnostic, not out of memory.
    let mut src = String::from("#define M0 x\n");
    for i in 1..40 {
        src.push_str(&format!("#define M{i} M{} M{}\n", i - 1, i - 1));
    }
    src.push_str("int r = M39;\n");
    let e = errors("t.uc", &src);
    assert!(
        e.iter()
            .any(|(_, m)| m.contains("macro expansion too large")),
        "{e:#?}"
    );
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

#[test]
fn a_program_of_several_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "main.uc",
                "#include <stdio.h>\n#include \"lib.h\"\n#include \"lib.h\"\n#include \"sub/more.h\"\nint r = TWICE(LEVEL);\nmain() { printf(\"%d\\n\", r + more()); }\n",
            ),
            (
                "lib.h",
                "#ifndef LIB_H\n#define LIB_H\n#define LEVEL 2\n#define TWICE(x) ((x) * 2)\nint twice(int x) { return TWICE(x); }\n#endif\n",
            ),
            (
                "sub/more.h",
                "#pragma once\n#include \"../lib.h\"\nint more() { return LEVEL; }\n#if 0\n#include \"absent.h\"\n#endif\n",
            ),
        ],
    );
    let main = dir.path().join("main.uc");
    let text = compiler::read_program(&main).unwrap();
    let m = compiler::compile("main.uc", &text)
        .unwrap_or_else(|d| panic!("{}", d.render("main.uc", &text, false)));
    let names: Vec<&str> = m.procs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["twice", "more", "main"]);
    // The load path (item by item or not) agrees.
    for itemwise in [false, true] {
        let c = compiler::compile_for_load_with("main.uc", &text, None, itemwise).unwrap();
        assert_eq!(c.object, compiler::object::write_object(&m));
    }
}

#[test]
fn errors_in_included_files_name_that_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "main.uc",
                "#include \"lib.h\"\nmain() { return f(); }\n#include \"gone.h\"\n",
            ),
            ("lib.h", "int f() {\n  return 1 +;\n}\n"),
        ],
    );
    let text = compiler::read_program(&dir.path().join("main.uc")).unwrap();
    let e = errors("p/main.uc", &text);
    assert_eq!(e[0].0, at("p/main.uc", 3, 10), "{e:#?}");
    assert!(
        e[0].1.contains("cannot include \"gone.h\"") && e[0].1.contains("cannot read"),
        "{}",
        e[0].1
    );
    assert_eq!(e[1].0, at("p/lib.h", 2, 13), "{e:#?}");
    let d = compiler::compile("p/main.uc", &text).unwrap_err();
    let out = d.render("p/main.uc", &text, false);
    assert!(
        out.contains("p/lib.h:2:13") && out.contains("return 1 +;"),
        "{out}"
    );
}

#[test]
fn include_cycles_and_depth() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.uc", "#include \"a.h\"\nmain() {}\n"),
            ("a.h", "#include \"b.h\"\n"),
            ("b.h", "int b;\n#include \"a.h\"\n"),
        ],
    );
    let text = compiler::read_program(&dir.path().join("main.uc")).unwrap();
    let e = errors("main.uc", &text);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].0, at("b.h", 2, 10));
    assert!(
        e[0].1.contains("recursive #include of \"a.h\""),
        "{}",
        e[0].1
    );
    // A guarded cycle is fine.
    write(
        dir.path(),
        &[("a.h", "#ifndef A\n#define A\n#include \"b.h\"\n#endif\n")],
    );
    let text = compiler::read_program(&dir.path().join("main.uc")).unwrap();
    compiler::compile("main.uc", &text).unwrap();
    // A chain deeper than the limit.
    let n = compiler::pp::MAX_INCLUDE_DEPTH + 2;
    for i in 0..n {
        write(
            dir.path(),
            &[(&format!("d{i}.h"), &format!("#include \"d{}.h\"\n", i + 1))],
        );
    }
    write(
        dir.path(),
        &[
            ("deep.uc", "#include \"d0.h\"\nmain() {}\n"),
            (&format!("d{n}.h"), "\n"),
        ],
    );
    let text = compiler::read_program(&dir.path().join("deep.uc")).unwrap();
    let e = errors("deep.uc", &text);
    assert!(e[0].1.contains("nested deeper than"), "{e:#?}");
    assert_eq!(e[0].0.line, 1);
}

#[test]
fn a_nul_byte_is_not_source() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("main.uc", "main() {}\n\0\n")]);
    let e = compiler::read_program(&dir.path().join("main.uc")).unwrap_err();
    assert!(
        matches!(
            e,
            compiler::SourceError::NotText {
                line: 2,
                column: 1,
                ..
            }
        ),
        "{e}"
    );
}

fn nest() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("#define A 1".to_string()),
        Just("#define F(x, y) (x) + y ## 1".to_string()),
        Just("#define S(x) #x".to_string()),
        Just("#define R R F(R, 2)".to_string()),
        Just("#undef A".to_string()),
        Just("#if A + 1 > 1".to_string()),
        Just("#ifdef F".to_string()),
        Just("#ifndef A".to_string()),
        Just("#elif defined(A) && F(1, 2)".to_string()),
        Just("#else".to_string()),
        Just("#endif".to_string()),
        Just("#error e".to_string()),
        Just("int v = F(A, 2);".to_string()),
        Just("int w = F((1, 2), );".to_string()),
        Just("int u = R;".to_string()),
        Just("int z = __LINE__;".to_string()),
        Just("main() { printf(S(a \"b\")); }".to_string()),
        Just("F(".to_string()),
        Just(")".to_string()),
    ];
    prop::collection::vec(line, 0..24).prop_map(|v| v.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Random macro and conditional nests: no panic, and either a module
    /// or diagnostics that each have a position in the text.
    #[test]
    fn random_nests_compile_or_point_at_a_line(src in nest()) {
        match compiler::compile("n.uc", &src) {
            Ok(_) => {}
            Err(d) => {
                prop_assert!(!d.0.is_empty());
                for x in &d.0 {
                    prop_assert!((x.span.start as usize) <= src.len());
                    let l = locate(&src, "n.uc", x.span.start as usize);
                    prop_assert!(l.line >= 1 && l.line <= src.lines().count().max(1) + 1);
                }
                let out = d.render("n.uc", &src, false);
                prop_assert_eq!(out.matches("n.uc:").count(), d.0.len());
            }
        }
    }
}
