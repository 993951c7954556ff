//! `.o` and `.delta` files: round trips, and clear refusals of wrong files.

use compiler::object::{
    FORMAT, MAGIC, ObjectError, ObjectFile, read_delta, read_object, write_delta, write_object,
};

fn module(src: &str) -> compiler::ir::Module {
    compiler::compile("m.uc", src).unwrap()
}

const SRC: &str = "int g[3] = {1, 2}; double avg(double a[], int n) { return a[0] / n; } \
                   f(n) { if (n) f(n - 1); } main() { double d[2]; avg(d, 2); f(g[0]); }";

#[test]
fn object_round_trips() {
    let m = module(SRC);
    let bytes = write_object(&m);
    assert_eq!(&bytes[..4], b"UCO1");
    assert_eq!(read_object(&bytes).unwrap(), m);
}

#[test]
fn object_refusals_say_why() {
    let m = module(SRC);
    let bytes = write_object(&m);
    assert_eq!(read_object(b"UC"), Err(ObjectError::TooShort(2)));
    let e = read_object(b"\x7fELF rest").unwrap_err();
    assert!(matches!(e, ObjectError::BadMagic(_)));
    assert!(e.to_string().contains("not a UC object file"), "{e}");

    let future = postcard::to_stdvec(&ObjectFile {
        magic: MAGIC,
        format: FORMAT + 1,
        module: m.clone(),
    })
    .unwrap();
    let e = read_object(&future).unwrap_err();
    assert_eq!(
        e,
        ObjectError::UnsupportedFormat {
            found: FORMAT + 1,
            expected: FORMAT
        }
    );
    assert!(e.to_string().contains("rebuild it"), "{e}");

    assert!(matches!(
        read_object(&bytes[..bytes.len() / 2]),
        Err(ObjectError::Corrupt(_))
    ));
    let mut long = bytes.clone();
    long.extend_from_slice(b"xyz");
    assert_eq!(read_object(&long), Err(ObjectError::TrailingBytes(3)));
}

#[test]
fn delta_round_trips_and_matches_its_module() {
    let m = module(SRC);
    let text = write_delta(&m);
    let d = read_delta(&text).unwrap();
    assert_eq!(d.file, "m.uc");
    assert_eq!(d.procs.len(), 3);
    assert_eq!(d.procs[0].name, "avg");
    assert_eq!(d.procs[0].sig, m.procs[0].sig);
    assert_eq!(d.procs[2].callees, ["avg", "f"]);
    assert_eq!(d.delta.matrix_string(), "0 0 0\n0 1 0\n1 1 0\n");
    d.check_module(&m).unwrap();
}

#[test]
fn delta_cross_check_catches_a_mismatched_pair() {
    let m = module(SRC);
    let other = module("main() { }");
    let d = read_delta(&write_delta(&m)).unwrap();
    let e = d.check_module(&other).unwrap_err();
    assert!(
        e.contains("lists 3 procedures but the object file has 1"),
        "{e}"
    );

    let changed_sig = module(
        "int g[3] = {1, 2}; double avg(double a[], double n) { return a[0] / n; } \
         f(n) { if (n) f(n - 1); } main() { double d[2]; avg(d, 2); f(g[0]); }",
    );
    let e = d.check_module(&changed_sig).unwrap_err();
    assert!(
        e.contains("`avg`: the delta file says (double[], int) -> double"),
        "{e}"
    );

    // Tampered components are caught even when the table agrees: f (1)
    // loses its self-loop.
    let good = write_delta(&m);
    let tampered = good.replace("c1*: 1 ->", "c1: 1 ->");
    assert_ne!(tampered, good, "{good}");
    let e = read_delta(&tampered).unwrap().check_module(&m).unwrap_err();
    assert!(e.contains("delta* components disagree"), "{e}");
}

#[test]
fn malformed_delta_files_name_the_line() {
    let m = module(SRC);
    let good = write_delta(&m);
    let e = read_delta("hello\n").unwrap_err();
    assert_eq!(e.line, 1);
    let e = read_delta(&good.replace("format 3", "format 9")).unwrap_err();
    assert!(
        e.to_string().contains("line 2: format 9 is not supported"),
        "{e}"
    );
    let e = read_delta(&good.replace("(double[], int)", "(string)")).unwrap_err();
    assert!(e.message.contains("bad signature"), "{e}");
    let e = read_delta(&good.replace("c1*: 1 ->", "c1*: x ->")).unwrap_err();
    assert!(e.message.contains("bad procedure ID"), "{e}");
    let e = read_delta(&good.replace("c1*: 1 ->", "c1*: 0 ->")).unwrap_err();
    assert!(e.message.contains("listed twice"), "{e}");
    let cut: String = good.lines().take(6).map(|l| format!("{l}\n")).collect();
    assert!(read_delta(&cut).unwrap_err().message.contains("ends early"));
}

/// Regression: a forged object nesting an expression 200,000 levels deep
/// (1.2 MB, well under a frame) aborted the decoding process with a stack
/// overflow. Decoding is now bounded by `ir::MAX_DECODE_DEPTH` and fails
/// cleanly on a thread with a connection thread's 2 MiB stack.
#[test]
fn deeply_nested_objects_are_refused_not_a_stack_overflow() {
    use compiler::ir::*;
    let deep = |n: usize| {
        let mut e = Expr {
            ty: Some(Scalar::I32),
            kind: ExprKind::Int(1),
            span: Span::default(),
        };
        for _ in 0..n {
            e = Expr {
                ty: Some(Scalar::I32),
                kind: ExprKind::Unary {
                    op: UnOp::Neg,
                    operand: Box::new(e),
                },
                span: Span::default(),
            };
        }
        Module {
            file: "deep.uc".into(),
            procs: vec![Proc {
                name: "main".into(),
                sig: Signature {
                    params: vec![],
                    ret: RetTy::Void,
                },
                locals: vec![],
                statics: vec![],
                data_size: 0,
                body: vec![Stmt::Expr(e)],
                callees: vec![],
                globals_used: vec![],
                labels: vec![],
                span: Span::default(),
            }],
            globals: vec![],
            iprocs: vec![],
            mprocs: vec![],
        }
    };
    for (n, ok) in [(500usize, true), (200_000, false)] {
        // Building, encoding and dropping the deep module needs a big stack;
        // decoding must not.
        let bytes = std::thread::Builder::new()
            .stack_size(512 << 20)
            .spawn(move || compiler::object::write_object(&deep(n)))
            .unwrap()
            .join()
            .unwrap();
        let decoded = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || compiler::object::read_object(&bytes).map(std::mem::forget))
            .unwrap()
            .join()
            .expect("decoding must not overflow the stack");
        assert_eq!(decoded.is_ok(), ok, "depth {n}");
    }
}
