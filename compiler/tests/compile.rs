//! Valid programs compile, and the IR they produce has the shape the VM
//! relies on (explicit conversions, resolved places, statics laid out,
//! mproc and iproc bodies wired to the right procedures).

use compiler::ir::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn compile_path(p: &Path) -> Module {
    let src = std::fs::read_to_string(p).unwrap();
    let name = p.display().to_string();
    compiler::compile(&name, &src).unwrap_or_else(|d| panic!("{}", d.render(&name, &src, false)))
}

fn valid(name: &str) -> Module {
    compile_path(&root().join("tests/valid").join(name))
}

fn pizza(n: u32) -> Module {
    compile_path(&root().join(format!("../samples/pizza/pizza{n}.uc")))
}

fn src_ok(src: &str) -> Module {
    compiler::compile("t.uc", src).unwrap_or_else(|d| panic!("{}", d.render("t.uc", src, false)))
}

fn src_err(src: &str) -> String {
    match compiler::compile("t.uc", src) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(d) => d.render("t.uc", src, false),
    }
}

fn proc<'a>(m: &'a Module, name: &str) -> &'a Proc {
    m.procs
        .iter()
        .find(|p| p.name == name)
        .expect("procedure exists")
}

#[test]
fn every_valid_program_compiles() {
    let dir = root().join("tests/valid");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "uc") {
            compile_path(&p);
            n += 1;
        }
    }
    assert!(n >= 5);
}

#[test]
fn pizza1_is_the_papers_listing() {
    let m = pizza(1);
    let names: Vec<_> = m.procs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "main",
            "do_pizza",
            "set_oven_temp",
            "mix_ingredients",
            "bake_pizza"
        ]
    );
    let dp = proc(&m, "do_pizza");
    // K&R: omitted return type is int; no parameters.
    assert_eq!(
        dp.sig,
        Signature {
            params: vec![],
            ret: RetTy::Scalar(Scalar::I32)
        }
    );
    assert_eq!(
        dp.callees,
        ["bake_pizza", "mix_ingredients", "set_oven_temp"]
    );
    assert_eq!(dp.statics.len(), 1);
    assert_eq!(dp.statics[0].name, "pd");
    assert_eq!(dp.statics[0].init, vec![Const::Int(1)]);
    assert_eq!(dp.data_size, 4, "one int");
    // `set_oven_temp(pd) int pd;` takes an int.
    assert_eq!(
        proc(&m, "set_oven_temp").sig.params,
        vec![ParamTy::Scalar(Scalar::I32)]
    );
    assert!(m.mprocs.is_empty() && m.iprocs.is_empty());
}

#[test]
fn pizza2_mproc_reads_old_pd_into_new_pd() {
    let m = pizza(2);
    assert_eq!(m.mprocs.len(), 1);
    let mp = &m.mprocs[0];
    assert_eq!(mp.name, "do_pizza");
    assert_eq!(
        mp.old_statics,
        vec![OldStatic {
            name: "pd".into(),
            ty: VarTy::Scalar(Scalar::I32)
        }]
    );
    let [Stmt::Expr(e)] = mp.body.as_slice() else {
        panic!("{:?}", mp.body)
    };
    let ExprKind::Assign { place, op, value } = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(place, &Place::Static(0));
    assert_eq!(op, &None);
    assert_eq!(value.kind, ExprKind::Load(Place::OldStatic(0)));
}

#[test]
fn old_static_type_comes_from_the_previous_version() {
    let prev = src_ok("f() { static double pd = 1.5; } main() { f(); }");
    let new_src = "f() { static int pd = 1; } mproc f { pd = (int) old.pd; } main() { f(); }";
    let m = compiler::compile_update("t.uc", new_src, Some(&prev)).unwrap();
    assert_eq!(m.mprocs[0].old_statics[0].ty, VarTy::Scalar(Scalar::F64));
    // Without the previous version the new type is assumed.
    let m = compiler::compile("t.uc", new_src).unwrap();
    assert_eq!(m.mprocs[0].old_statics[0].ty, VarTy::Scalar(Scalar::I32));
    // With it, reading the old double into the new int converts, as C's
    // assignment does, through an explicit cast in the IR.
    let conv = "f() { static int pd = 1; } mproc f { pd = old.pd; } main() { f(); }";
    let m = compiler::compile_update("t.uc", conv, Some(&prev)).unwrap();
    let Stmt::Expr(e) = &m.mprocs[0].body[0] else {
        panic!()
    };
    let ExprKind::Assign { value, .. } = &e.kind else {
        panic!("{e:?}")
    };
    assert!(
        matches!(
            value.kind,
            ExprKind::Cast {
                to: Scalar::I32,
                ..
            }
        ),
        "{value:?}"
    );
    // A static the previous version did not have is named.
    let gone = "f() { static int pd = 1; } mproc f { pd = old.pizzas; } main() { f(); }";
    let d = compiler::compile_update("t.uc", gone, Some(&prev)).unwrap_err();
    assert!(
        d.0[0]
            .message
            .contains("`f` has no static `pizzas` in the previous version"),
        "{d}"
    );
}

#[test]
fn global_mproc_reads_old_global() {
    let m = valid("counter_v2.uc");
    let mp = m.mprocs.iter().find(|m| m.name == "counter").unwrap();
    assert_eq!(mp.old_statics[0].name, "counter");
    let Stmt::Expr(e) = &mp.body[0] else { panic!() };
    let ExprKind::Assign { place, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(place, &Place::Global("counter".into()));
    let tick = m.mprocs.iter().find(|m| m.name == "tick").unwrap();
    assert_eq!(tick.locals.len(), 1, "the mproc's own local `bonus`");
}

#[test]
fn iproc_maps_int_array_to_double_array() {
    let v1 = valid("sort_v1.uc");
    let src = std::fs::read_to_string(root().join("tests/valid/sort_v2.uc")).unwrap();
    let m = compiler::compile_update("sort_v2.uc", &src, Some(&v1)).unwrap();
    let ip = &m.iprocs[0];
    assert_eq!(ip.name, "sort");
    assert_eq!(
        ip.old_sig,
        Signature {
            params: vec![ParamTy::ArrayRef(Scalar::I32), ParamTy::Scalar(Scalar::I32)],
            ret: RetTy::Void
        }
    );
    assert_eq!(
        proc(&m, "sort").sig.params,
        vec![ParamTy::ArrayRef(Scalar::F64), ParamTy::Scalar(Scalar::I32)]
    );
    // new.sort(b, n) is a call of `sort` with b passed by reference.
    let json = serde_json::to_string(&ip.body).unwrap();
    assert!(
        json.contains(r#""Call":{"callee":"sort","args":[{"Array":{"Local":2}}"#),
        "{json}"
    );
    // Same result with the K&R form and an explicit return type.
    let src = std::fs::read_to_string(root().join("tests/valid/sort_v2_knr_iproc.uc")).unwrap();
    let k = compiler::compile_update("k.uc", &src, Some(&v1)).unwrap();
    assert_eq!(k.iprocs[0].old_sig, ip.old_sig);
}

#[test]
fn iproc_signature_is_checked_against_the_previous_version() {
    let v2_src = std::fs::read_to_string(root().join("tests/valid/sort_v2.uc")).unwrap();
    // Pretend the previous version already took doubles: the iproc's
    // declared (int[], int) no longer matches.
    let prev = compiler::compile("v2.uc", &v2_src).unwrap();
    let d = compiler::compile_update("v3.uc", &v2_src, Some(&prev)).unwrap_err();
    let msg = &d.0[0].message;
    assert!(
        msg.contains("declares the old signature (int[], int) -> void")
            && msg.contains("is (double[], int) -> void"),
        "{msg}"
    );
    let prev = src_ok("main() { }");
    let d = compiler::compile_update("v3.uc", &v2_src, Some(&prev)).unwrap_err();
    assert!(
        d.0[0]
            .message
            .contains("the previous version has no procedure `sort`"),
        "{d}"
    );
}

#[test]
fn conversions_are_explicit_casts() {
    let m = src_ok("main() { double d = 1; int i = (int) d; d = d + i; }");
    let json = serde_json::to_string(&proc(&m, "main").body).unwrap();
    // `double d = 1` casts the literal; `d + i` casts i.
    assert_eq!(json.matches(r#""Cast":{"to":"F64""#).count(), 2, "{json}");
    assert_eq!(json.matches(r#""Cast":{"to":"I32""#).count(), 1, "{json}");
}

#[test]
fn uninitialized_scalars_get_an_explicit_zero() {
    let m = src_ok("main() { int i; double d; }");
    let body = &proc(&m, "main").body;
    assert_eq!(body.len(), 2);
    let Stmt::Expr(Expr {
        kind: ExprKind::Assign { value, .. },
        ..
    }) = &body[1]
    else {
        panic!("{body:?}")
    };
    assert_eq!(value.kind, ExprKind::Double(0.0));
}

#[test]
fn partly_initialized_local_array_is_zero_filled() {
    let m = src_ok("main() { int a[100] = {1, 2}; }");
    let p = proc(&m, "main");
    // Two element stores, then one loop over the rest.
    assert_eq!(p.body.len(), 3);
    assert!(matches!(&p.body[2], Stmt::Block(b) if matches!(b[1], Stmt::Loop { .. })));
    assert_eq!(p.locals[1].ty, LocalTy::Scalar(Scalar::I32));
}

#[test]
fn statics_are_laid_out_and_shadowed_ones_renamed() {
    let m = valid("knr_and_more.uc");
    let s = &proc(&m, "shadowing").statics;
    assert_eq!(s[0].name, "x");
    assert_eq!(s[1].name, "x#2");
    assert_eq!((s[0].offset, s[1].offset), (0, 4), "ints are 4 bytes");
    let g = m.globals.iter().find(|g| g.name == "weights").unwrap();
    assert_eq!(g.init.len(), 4, "arrays are fully listed");
    assert_eq!(g.init[3], Const::Double(0.0));
    let big = m.globals.iter().find(|g| g.name == "big").unwrap();
    assert_eq!(big.init, vec![Const::Int(-1 + 10 * 2 % 7)]);
    let ratio = m.globals.iter().find(|g| g.name == "ratio").unwrap();
    assert_eq!(ratio.init, vec![Const::Double(3.5)]);
}

#[test]
fn knr_parameters_default_to_int_and_arrays_are_references() {
    let m = valid("knr_and_more.uc");
    assert_eq!(
        proc(&m, "scale").sig,
        Signature {
            params: vec![
                ParamTy::Scalar(Scalar::I32),
                ParamTy::Scalar(Scalar::F64),
                ParamTy::ArrayRef(Scalar::I32)
            ],
            ret: RetTy::Scalar(Scalar::I32)
        }
    );
    assert_eq!(proc(&m, "main").globals_used.len(), 5);
    assert_eq!(proc(&m, "is_even").callees, ["is_odd"]);
}

#[test]
fn bare_return_in_int_procedure_returns_zero() {
    let m = src_ok("f() { return; } main() { f(); }");
    assert_eq!(
        proc(&m, "f").body,
        vec![Stmt::Return(Some(Expr {
            ty: Some(Scalar::I32),
            kind: ExprKind::Int(0),
            span: Span { start: 6, end: 13 }
        }))]
    );
}

#[test]
fn for_desugars_to_loop_with_step() {
    let m = src_ok("main() { int i; for (i = 0; i < 3; i++) { continue; } for (;;) break; }");
    let body = &proc(&m, "main").body;
    let Stmt::Block(b) = &body[1] else {
        panic!("{body:?}")
    };
    let Stmt::Loop {
        cond,
        step,
        body: lb,
    } = &b[1]
    else {
        panic!()
    };
    assert!(cond.is_some());
    assert_eq!(step.len(), 1);
    assert_eq!(lb, &vec![Stmt::Continue]);
    assert!(matches!(&body[2], Stmt::Loop { cond: None, step, .. } if step.is_empty()));
}

#[test]
fn printf_is_split_into_pieces() {
    let m = src_ok(r#"main() { printf("a %5d%% %-8.3lf %s\n", 1, 2.0, "x"); }"#);
    let Stmt::Expr(Expr {
        kind: ExprKind::Printf { pieces, args },
        ty,
        ..
    }) = &proc(&m, "main").body[0]
    else {
        panic!()
    };
    assert_eq!(ty, &None);
    assert_eq!(pieces.len(), 7);
    assert_eq!(
        pieces[3],
        FmtPiece::Conv {
            spec: "%-8.3lf".into(),
            conv: 'f'
        }
    );
    assert_eq!(args[2], PrintArg::Str("x".into()));
}

#[test]
fn double_conditions_compare_with_zero() {
    let m = src_ok("main() { double d = 0.5; if (d) d = 0; while (!d) break; }");
    let json = serde_json::to_string(&proc(&m, "main").body).unwrap();
    assert!(json.contains(r#""op":"Ne""#), "{json}");
    assert!(json.contains(r#""op":"Not""#), "{json}");
}

#[test]
fn semantic_errors_name_what_was_expected() {
    assert!(src_err(r#"main() { printf("%f", 1); }"#).contains("expects a double"));
    assert!(src_err(r#"main() { printf("%d", 1.0); }"#).contains("expects an integer"));
    assert!(src_err("main() { int a[65537]; }").contains("between 1 and 65536"));
    assert!(src_err("main(x) { }").contains("`main` must take no parameters"));
    assert!(src_err("f() { }").contains("no `main` procedure"));
    assert!(src_err("main() { break; }").contains("outside of a loop"));
    assert!(src_err("void f() { return 1; } main() { f(); }").contains("cannot have a value"));
}

#[test]
fn recursion_and_forward_calls_are_allowed() {
    let m = src_ok("main() { a(3); } a(n) { if (n) b(n - 1); } b(n) { a(n); }");
    assert_eq!(proc(&m, "a").callees, ["b"]);
}

/// Regression: indexing something that is not a variable (found by the
/// mangling proptest) used to panic in the checker.
#[test]
fn indexing_a_call_is_an_error_not_a_panic() {
    let out = src_err("f() { return 1; } main() { int x = f()[0]; f()[1] = 2; }");
    assert!(
        out.contains("only arrays and pointers can be indexed"),
        "{out}"
    );
}

#[test]
fn arrays_declared_in_loops_are_zeroed_each_time() {
    // Once per call: the VM's frame zeroing is enough, no code.
    let m = src_ok("main() { int a[8]; }");
    assert!(proc(&m, "main").body.is_empty());
    // In a loop the declaration runs again and must start at 0 again.
    let m = src_ok("main() { while (1) { int a[8]; a[0]++; } }");
    let Stmt::Loop { body, .. } = &proc(&m, "main").body[0] else {
        panic!()
    };
    assert!(matches!(&body[0], Stmt::Block(b) if matches!(b[1], Stmt::Loop { .. })));
}
