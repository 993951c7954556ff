//! Why a load fails, by variant: modules a compiler would not write (the
//! pup refuses them) and updates that do not fit the version they build on.
//! Each refused load leaves nothing loaded, and the messages users see name
//! what is wrong.

mod common;

use compiler::ir::{Expr, ExprKind, Module, Scalar, Span, Stmt, UnOp};
use vm::codegen::{CodegenError, Nesting};
use vm::load::UnitKind;
use vm::{LoadError, VersionNo, Vm, VmError};

const MAIN: &str = "f(x) int x; { return x + 1; }\nmain() { printf(\"%d\\n\", f(1)); }\n";

fn module() -> Module {
    common::compile("t.uc", MAIN)
}

/// Load `m` as version 1 into a fresh VM and give the error, checking that
/// nothing of it stayed loaded.
fn refused(vm: &Vm, number: u64, m: Module) -> LoadError {
    let before = vm.status().versions.len();
    let e = vm
        .load(VersionNo(number), m, None)
        .expect_err("the load must fail");
    assert_eq!(
        vm.status().versions.len(),
        before,
        "a failed load leaves nothing loaded ({e})"
    );
    e
}

fn main_body(m: &mut Module) -> &mut Vec<Stmt> {
    &mut m.procs.iter_mut().find(|p| p.name == "main").unwrap().body
}

#[test]
fn a_module_without_main_is_refused_by_name() {
    let (vm, _cap) = common::vm();
    let mut m = module();
    m.procs.iter_mut().find(|p| p.name == "main").unwrap().name = "start".into();
    let e = refused(&vm, 1, m);
    assert!(matches!(e, LoadError::NoMain), "{e:?}");
    assert_eq!(e.to_string(), "the program has no main procedure");
}

#[test]
fn a_procedure_defined_twice_is_refused() {
    let (vm, _cap) = common::vm();
    let mut m = module();
    let f = m.procs.iter().find(|p| p.name == "f").unwrap().clone();
    m.procs.push(f);
    match refused(&vm, 1, m) {
        LoadError::ProcDefinedTwice(name) => assert_eq!(name, "f"),
        other => panic!("want ProcDefinedTwice, got {other:?}"),
    }
}

#[test]
fn too_deep_an_expression_is_a_compile_error_of_its_procedure() {
    let (vm, _cap) = common::vm();
    let mut m = module();
    let span = Span { start: 0, end: 0 };
    let mut e = Expr {
        ty: Some(Scalar::I32),
        kind: ExprKind::Int(1),
        span,
    };
    for _ in 0..vm::codegen::MAX_IR_DEPTH + 10 {
        e = Expr {
            ty: Some(Scalar::I32),
            kind: ExprKind::Unary {
                op: UnOp::Neg,
                operand: Box::new(e),
            },
            span,
        };
    }
    main_body(&mut m).insert(0, Stmt::Expr(e));
    let err = refused(&vm, 1, m);
    match &err {
        LoadError::Compile {
            kind: UnitKind::Procedure,
            name,
            err: CodegenError::TooDeep(Nesting::Expression),
        } => assert_eq!(name, "main"),
        other => panic!("want a TooDeep compile error of main, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "procedure main: expression nested deeper than {} levels",
            vm::codegen::MAX_IR_DEPTH
        )
    );
}

#[test]
fn a_call_of_an_unknown_procedure_is_refused() {
    let (vm, _cap) = common::vm();
    let mut m = module();
    // main calls f inside printf's argument: rename the callee.
    fn rename(e: &mut Expr) -> bool {
        match &mut e.kind {
            ExprKind::Call { callee, .. } if callee == "f" => {
                *callee = "nowhere".into();
                true
            }
            ExprKind::Cast { operand, .. } => rename(operand),
            ExprKind::Printf { args, .. } => args.iter_mut().any(|a| match a {
                compiler::ir::PrintArg::Value(e) => rename(e),
                _ => false,
            }),
            _ => false,
        }
    }
    let renamed = main_body(&mut m).iter_mut().any(|s| match s {
        Stmt::Expr(e) => rename(e),
        _ => false,
    });
    assert!(renamed, "the test finds main's call of f");
    match refused(&vm, 1, m) {
        LoadError::Compile {
            kind: UnitKind::Procedure,
            err: CodegenError::UnknownCallee(callee),
            ..
        } => assert_eq!(callee, "nowhere"),
        other => panic!("want UnknownCallee, got {other:?}"),
    }
}

#[test]
fn an_iproc_whose_old_signature_is_not_the_old_procedures_is_refused() {
    let (vm, _cap) = common::vm();
    vm.load(VersionNo(1), module(), None).unwrap();
    // Compiled on its own, the checker cannot know f's old signature.
    let v2 = "f(x, y) int x; int y; { return x + y; }\n\
              iproc f(double x) { return new.f((int) x, 1); }\n\
              main() { printf(\"%d\\n\", f(1, 2)); }\n";
    let e = refused(&vm, 2, common::compile("t2.uc", v2));
    match &e {
        LoadError::IProcOldSignature { name, version, .. } => {
            assert_eq!((name.as_str(), *version), ("f", VersionNo(1)));
        }
        other => panic!("want IProcOldSignature, got {other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("iproc f declares the old signature")
    );
}

#[test]
fn an_mproc_reading_an_old_static_that_never_was_is_refused() {
    let (vm, _cap) = common::vm();
    vm.load(VersionNo(1), module(), None).unwrap();
    let v2 = "f(x) int x; { static int n; n = n + x; return n; }\n\
              mproc f { n = old.missing; }\n\
              main() { printf(\"%d\\n\", f(1)); }\n";
    // Checked against a version 1 that had it, loaded over one that has not.
    let other_v1 = "f(x) int x; { static int missing; return x; }\nmain() { f(1); }\n";
    let other_v1 = common::compile("o.uc", other_v1);
    let m = compiler::compile_update("t2.uc", v2, Some(&other_v1)).expect("v2 compiles");
    match refused(&vm, 2, m) {
        LoadError::MProcNoOld { name, old, version } => {
            assert_eq!(
                (name.as_str(), old.as_str(), version),
                ("f", "missing", VersionNo(1))
            );
        }
        other => panic!("want MProcNoOld, got {other:?}"),
    }
}

#[test]
fn run_errors_are_variants() {
    let (vm, _cap) = common::vm();
    assert!(matches!(vm.run(None), Err(VmError::NoVersion)));
    vm.load(VersionNo(1), module(), None).unwrap();
    assert!(matches!(
        vm.run(Some(VersionNo(7))),
        Err(VmError::NotLoaded(VersionNo(7)))
    ));
}
