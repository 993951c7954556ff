//! Issue 12 (SPEC 2.2) in the front end: the IR stays explicit (every
//! conversion a Cast, unsigned operations their own operators), and δ*,
//! the diff, `.delta` files and changes files handle the new constructs.

use compiler::callgraph::DeltaStar;
use compiler::diff::{Reason, diff};
use compiler::ir::*;

fn m(src: &str) -> Module {
    compiler::compile("t.uc", src).unwrap_or_else(|d| panic!("{}", d.render("t.uc", src, false)))
}

fn body<'a>(m: &'a Module, name: &str) -> &'a [Stmt] {
    &m.procs.iter().find(|p| p.name == name).unwrap().body
}

/// Every expression of a body, depth first.
fn exprs(ss: &[Stmt], out: &mut Vec<Expr>) {
    fn e(x: &Expr, out: &mut Vec<Expr>) {
        out.push(x.clone());
        match &x.kind {
            ExprKind::Binary { lhs, rhs, .. }
            | ExprKind::Logic { lhs, rhs, .. }
            | ExprKind::Comma {
                first: lhs,
                then: rhs,
            } => {
                e(lhs, out);
                e(rhs, out);
            }
            ExprKind::Cond { cond, then, els } => {
                e(cond, out);
                e(then, out);
                e(els, out);
            }
            ExprKind::Unary { operand, .. } | ExprKind::Cast { operand, .. } => e(operand, out),
            ExprKind::Assign { value, .. } => e(value, out),
            ExprKind::Call { args, .. } => {
                for a in args {
                    if let Arg::Value(v) = a {
                        e(v, out)
                    }
                }
            }
            ExprKind::Builtin { args, .. } => args.iter().for_each(|a| e(a, out)),
            ExprKind::Printf { args, .. } => {
                for a in args {
                    if let PrintArg::Value(v) = a {
                        e(v, out)
                    }
                }
            }
            _ => {}
        }
    }
    for s in ss {
        match s {
            Stmt::Expr(x) | Stmt::Return(Some(x)) => e(x, out),
            Stmt::If { cond, then, els } => {
                e(cond, out);
                exprs(then, out);
                exprs(els, out);
            }
            Stmt::Loop { cond, body, step } => {
                if let Some(c) = cond {
                    e(c, out);
                }
                exprs(body, out);
                exprs(step, out);
            }
            Stmt::DoWhile { body, cond } => {
                exprs(body, out);
                e(cond, out);
            }
            Stmt::Switch { value, arms } => {
                e(value, out);
                for a in arms {
                    exprs(&a.body, out);
                }
            }
            Stmt::Block(b) => exprs(b, out),
            _ => {}
        }
    }
}

/// Checks the IR's typing rule: a binary operator's operands have one type
/// and a cast changes the type; nothing converts silently.
fn assert_explicit(ss: &[Stmt]) {
    let mut all = Vec::new();
    exprs(ss, &mut all);
    for x in &all {
        match &x.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                assert_eq!(lhs.ty, rhs.ty, "{op:?} on mixed operands: {x:?}");
                if !op.is_comparison() {
                    assert_eq!(x.ty, lhs.ty, "{x:?}");
                }
            }
            ExprKind::Cast { to, operand } => assert_ne!(Some(*to), operand.ty, "{x:?}"),
            // A compound assignment computes in its value's type, C's
            // common type of the promoted place and the operand.
            ExprKind::Assign {
                op: Some(_), value, ..
            } => assert!(value.ty.is_some_and(|t| t.size() >= 4), "{x:?}"),
            _ => {}
        }
    }
}

fn ops(ss: &[Stmt]) -> Vec<BinOp> {
    let mut all = Vec::new();
    exprs(ss, &mut all);
    all.iter()
        .filter_map(|x| match x.kind {
            ExprKind::Binary { op, .. } => Some(op),
            _ => None,
        })
        .collect()
}

#[test]
fn unsigned_operations_have_their_own_operators() {
    let src = "unsigned long f(unsigned long a, long b) { return a / b + a % b + (a >> 3) + (a < b) + (b >> 2) + b / 2; }\nint main() { return 0; }";
    let mm = m(src);
    let got = ops(body(&mm, "f"));
    for op in [
        BinOp::UDiv,
        BinOp::URem,
        BinOp::UShr,
        BinOp::ULt,
        BinOp::Shr,
        BinOp::Div,
    ] {
        assert!(got.contains(&op), "{op:?} missing from {got:?}");
    }
    assert_explicit(body(&mm, "f"));
}

#[test]
fn every_conversion_is_a_cast() {
    let src = r#"
int g(int x) { return x; }
double h(double d) { return d; }
int main() {
    int i = 2.9;
    unsigned long u = i;
    double d = u;
    long l;
    i += 0.5;
    u += i;
    l = i < u ? d : u;
    g(d);
    h(u);
    i = u << i;
    return d;
}"#;
    let mm = m(src);
    assert_explicit(body(&mm, "main"));
    let mut all = Vec::new();
    exprs(body(&mm, "main"), &mut all);
    let casts = all
        .iter()
        .filter(|x| matches!(x.kind, ExprKind::Cast { .. }))
        .count();
    assert!(casts >= 10, "{casts} casts");
}

#[test]
fn constants_fold_with_c_semantics() {
    let src = "#define BIG 18446744073709551615UL\n\
               static unsigned long a = BIG / 10;\n\
               static long b = -7 / 2 + (-7 % 3) + (1L << 40) + ('a' | 0x100);\n\
               static long c = sizeof_is_not_needed;\n";
    // `sizeof_is_not_needed` is not a constant: one error.
    let d = compiler::compile("t.uc", &format!("{src}int main() {{ return 0; }}")).unwrap_err();
    assert_eq!(d.0.len(), 1, "{d}");
    let src = src.replace("static long c = sizeof_is_not_needed;\n", "");
    let mm = m(&format!("{src}int main() {{ return 0; }}"));
    assert_eq!(mm.globals[0].ty, VarTy::Scalar(Scalar::U64));
    assert_eq!(mm.globals[0].init, [Const::Int(1844674407370955161)]);
    assert_eq!(
        mm.globals[1].init,
        [Const::Int(-3 - 1 + (1 << 40) + (97 | 0x100))]
    );
}

/// A `#define` change that alters a procedure's code changes that
/// procedure, and only the procedures that use the macro.
#[test]
fn a_define_change_changes_the_procedures_that_use_it() {
    let v1 = "#define LIMIT 10\n#define STEP 1\nint f() { return LIMIT; }\nint g() { return STEP; }\nint main() { return f() + g(); }";
    let v2 = v1.replace("#define LIMIT 10", "#define LIMIT 11");
    let d = diff(&m(v1), &m(&v2));
    assert_eq!(d.changed_names(), ["f"]);
    assert_eq!(d.changed[0].reasons, [Reason::Code]);
    // A macro whose expansion stays the same changes nothing.
    let v3 = v1.replace("#define LIMIT 10", "#define TEN 10\n#define LIMIT TEN");
    assert!(diff(&m(v1), &m(&v3)).is_empty());
}

#[test]
fn new_constructs_count_as_code_and_statics_changes() {
    let v1 = "long f(long c) { switch (c) { case 1: return 2; default: return 0; } }\n\
              void s() { static unsigned long h = 1; h *= 3; }\n\
              int main() { s(); return f(1); }";
    // A changed case label, an unsigned static becoming signed.
    let v2 = v1.replace("case 1:", "case 2:");
    let v3 = v1.replace("static unsigned long h", "static long h");
    assert_eq!(diff(&m(v1), &m(&v2)).changed_names(), ["f"]);
    let d = diff(&m(v1), &m(&v3));
    assert_eq!(d.changed_names(), ["s"]);
    assert!(d.changed[0].reasons.contains(&Reason::Statics), "{d}");
    // A do-while turned into a while is a change; reformatting is not.
    let w1 = "int main() { long i = 0; do i++; while (i < 3); return i; }";
    let w2 = "int main() { long i = 0; while (i < 3) i++; return i; }";
    let w3 = "int main()\n{\n    long i = 0;\n    do {\n        i++;\n    } while (i < 3);\n    return i;\n}";
    assert_eq!(diff(&m(w1), &m(w2)).changed_names(), ["main"]);
    assert!(diff(&m(w1), &m(w3)).is_empty());
}

/// δ* sees calls inside switch arms, ?: operands, comma expressions and
/// do-while bodies; the `.delta` file round-trips unsigned signatures.
#[test]
fn delta_star_and_delta_files_see_the_new_constructs() {
    let src = "unsigned long a(unsigned long x) { return x ? b(x - 1) : 0; }\n\
               unsigned long b(unsigned long x) { switch (x) { case 0: return 1; default: return c(x), a(x - 1); } }\n\
               unsigned long c(unsigned long x) { do x--; while (d(x)); return x; }\n\
               int d(unsigned long x) { return x > 5; }\n\
               int main() { return a(3); }";
    let mm = m(src);
    let ds = DeltaStar::of_module(&mm);
    let idx = |n: &str| mm.procs.iter().position(|p| p.name == n).unwrap();
    assert!(ds.reaches(idx("a"), idx("a")), "a → b → a is a cycle");
    assert!(ds.reaches(idx("b"), idx("d")), "b → c → d");
    assert!(!ds.reaches(idx("d"), idx("a")));
    let text = compiler::object::write_delta(&mm);
    assert!(text.contains("(unsigned long) -> unsigned long"), "{text}");
    let back = compiler::object::read_delta(&text).unwrap();
    back.check_module(&mm).unwrap();
}

/// A changes file naming the procedures a `#define` edit changed passes
/// the check against the computed diff.
#[test]
fn a_changes_file_for_a_define_edit() {
    let v1 =
        "#define RATE 3\nlong price(long n) { return n * RATE; }\nint main() { return price(2); }";
    let v2 = v1.replace("RATE 3", "RATE 4");
    let d = diff(&m(v1), &m(&v2));
    let cf = compiler::changes::parse("c.sd", "update 1 -> 2\nchanged price\n").unwrap();
    compiler::changes::check_against(&cf, &d).unwrap();
    // Omitting the procedure the macro edit changed is an error.
    let none = compiler::changes::parse("c.sd", "changed main\n").unwrap();
    let err = compiler::changes::check_against(&none, &d).unwrap_err();
    assert!(err.contains("price"), "{err}");
}
