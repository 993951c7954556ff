//! Places and expressions: name resolution, C's usual arithmetic
//! conversions, the unsigned operators, `?:` and the comma operator.

use super::*;

impl FnCx<'_, '_> {
    // ------------------------------------------------------------ places

    /// Resolves a name to a place.
    pub(super) fn name_place(&mut self, name: &str, span: Span) -> Option<Resolved> {
        let var = |place: Place, ty: VarTy| {
            let ty = match ty {
                VarTy::Scalar(s) => PlaceTy::Scalar(s),
                VarTy::Array(s, _) => PlaceTy::Array(s),
                VarTy::Ptr(p) => PlaceTy::Ptr(p),
            };
            Some(Resolved {
                place,
                ty,
                read_only: false,
                what: format!("`{name}`"),
            })
        };
        if let Some(b) = self.lookup_scope(name) {
            return match b {
                Binding::Local(id, lty, _) => {
                    let ty = match lty {
                        LocalTy::Scalar(s) | LocalTy::Addressed(s) => PlaceTy::Scalar(s),
                        LocalTy::Array(s, _) | LocalTy::ArrayRef(s) => PlaceTy::Array(s),
                        LocalTy::Ptr(p) => PlaceTy::Ptr(p),
                    };
                    Some(Resolved {
                        place: Place::Local(id),
                        ty,
                        read_only: false,
                        what: format!("`{name}`"),
                    })
                }
                Binding::Static(id, ty, _) => var(Place::Static(id), ty),
                Binding::Const(..) => {
                    self.err(
                        format!("enumerator `{name}` is a constant, not a variable"),
                        span,
                        "it cannot be assigned or have its address taken",
                    );
                    None
                }
            };
        }
        if let Ctx::MProc {
            target: MTarget::Proc(statics),
        } = &self.ctx
            && let Some(i) = statics.iter().position(|s| s.name == name)
        {
            return var(Place::Static(i as ir::StaticId), statics[i].ty);
        }
        if let Some((ty, _)) = self.ck.env.globals.get(name).copied() {
            if let Ctx::Proc = self.ctx {
                self.globals_used.insert(name.to_string());
            }
            return var(Place::Global(name.to_string()), ty);
        }
        if self.ck.env.enum_consts.contains_key(name) {
            self.err(
                format!("enumerator `{name}` is a constant, not a variable"),
                span,
                "it cannot be assigned or have its address taken",
            );
            return None;
        }
        if self.ck.env.procs.contains_key(name) || BUILTINS.contains(&name) {
            self.err(
                format!("`{name}` is a procedure, not a variable"),
                span,
                format!("call it: `{name}(...)` (UC has no function pointers)"),
            );
        } else {
            let mut d = Diagnostic::error(
                format!("undeclared variable `{name}`"),
                span,
                "not declared in this scope",
            );
            if let Ctx::MProc { .. } = self.ctx {
                d = d.with_note(format!(
                    "in an mproc, plain names are the new statics of `{}`, globals and the mproc's own locals",
                    self.name
                ));
            }
            self.ck.diags.push(d);
        }
        None
    }

    /// `old.NAME` in an mproc.
    pub(super) fn old_place(&mut self, name: &ast::Ident, span: Span) -> Option<Resolved> {
        let Ctx::MProc { target } = &self.ctx else {
            self.err(
                format!("`old.{}` outside of an mproc", name.name),
                span,
                "old statics can only be read in `mproc P { ... }`",
            );
            return None;
        };
        let n = &name.name;
        let p = self.name.clone();
        let ty: Result<VarTy, (String, String)> = match target {
            MTarget::Global(gty) => {
                if n != &p {
                    Err((
                        format!("`old.{n}` in the mproc of global `{p}`"),
                        format!("only `old.{p}` can be read here"),
                    ))
                } else {
                    match self.ck.prev {
                        None => Ok(*gty),
                        Some(prev) => match prev.globals.iter().find(|g| &g.name == n) {
                            Some(g) => Ok(g.ty),
                            None => Err((
                                format!("`old.{n}`: the previous version has no global `{n}`"),
                                "nothing to read".to_string(),
                            )),
                        },
                    }
                }
            }
            MTarget::Proc(new_statics) => match self.ck.prev {
                Some(prev) => match prev.procs.iter().find(|q| q.name == p) {
                    None => Err((
                        format!("`old.{n}`: the previous version has no procedure `{p}`"),
                        "nothing to read".to_string(),
                    )),
                    Some(q) => match q.statics.iter().find(|s| &s.name == n) {
                        Some(s) => Ok(s.ty),
                        None => Err((
                            format!("`old.{n}`: `{p}` has no static `{n}` in the previous version"),
                            "no such old static".to_string(),
                        )),
                    },
                },
                None => match new_statics.iter().find(|s| &s.name == n) {
                    Some(s) => Ok(s.ty),
                    None => Err((
                        format!("old.{n}: unknown type; give the previous version"),
                        format!(
                            "`{p}` has no static `{n}` in this version to take the type from (ucc build --prev OLD.uc)"
                        ),
                    )),
                },
            },
        };
        let ty = match ty {
            Ok(t) => t,
            Err((msg, label)) => {
                self.err(msg, span, label);
                return None;
            }
        };
        let idx = match self.old_statics.iter().position(|o| &o.name == n) {
            Some(i) => i,
            None => {
                self.old_statics.push(OldStatic {
                    name: n.clone(),
                    ty,
                });
                self.old_statics.len() - 1
            }
        };
        Some(Resolved {
            place: Place::OldStatic(idx as ir::StaticId),
            ty: match ty {
                VarTy::Scalar(s) => PlaceTy::Scalar(s),
                VarTy::Array(s, _) => PlaceTy::Array(s),
                VarTy::Ptr(p) => PlaceTy::Ptr(p),
            },
            read_only: true,
            what: format!("`old.{n}`"),
        })
    }

    /// Resolves an expression that names a place: a variable, `old.X`, or
    /// an element. `None` for other expressions (no error reported).
    pub(super) fn try_place(&mut self, e: &ast::Expr) -> Option<Option<Resolved>> {
        use ast::ExprKind as K;
        Some(match &e.kind {
            K::Var(name) => self.name_place(name, e.span),
            K::Old(name) => self.old_place(name, e.span),
            K::Index(base, idx) => self.index_place(base, idx),
            K::Deref(x) => self.star_place(x, e.span),
            _ => return None,
        })
    }

    /// `base[idx]`: the base must be an array place, the index an int.
    pub(super) fn index_place(&mut self, base: &ast::Expr, idx: &ast::Expr) -> Option<Resolved> {
        let span = Span {
            start: base.span.start,
            end: idx.span.end + 1,
        };
        let b = match self.try_place(base) {
            Some(b) => b,
            // `(p + 1)[i]`, `"abc"[i]`, `f()[i]`: a pointer value.
            None => {
                let b = self.texpr(base);
                let i = self.value(idx);
                let ((b, p), i) = (b?, i?);
                if p.is_none() {
                    self.err(
                        "only arrays and pointers can be indexed",
                        base.span,
                        "this is not an array or a pointer",
                    );
                    return None;
                }
                let i = self.index_value(i, idx)?;
                return self.pointer_index((b, p), i, span, "an element".into());
            }
        };
        let i = self.value(idx);
        let b = b?;
        if let PlaceTy::Ptr(p) = b.ty {
            let i = self.index_value(i?, idx)?;
            let what = format!("an element of {}", b.what);
            let load = Expr {
                ty: Some(PtrTy::MACHINE),
                kind: ExprKind::Load(b.place),
                span: base.span,
            };
            return self.pointer_index((load, Some(p)), i, span, what);
        }
        let elem = match b.ty {
            PlaceTy::Array(s) => s,
            PlaceTy::Ptr(_) => unreachable!("handled above"),
            PlaceTy::Scalar(s) => {
                self.err(
                    format!("{} is not an array", b.what),
                    base.span,
                    format!("this is {}; only arrays can be indexed", a_scalar(s)),
                );
                return None;
            }
        };
        let i = self.index_value(i?, idx)?;
        Some(Resolved {
            place: Place::Index {
                base: Box::new(b.place),
                index: Box::new(i),
            },
            ty: PlaceTy::Scalar(elem),
            read_only: b.read_only,
            what: format!("an element of {}", b.what),
        })
    }

    /// An index, which must be an integer.
    fn index_value(&mut self, i: Expr, idx: &ast::Expr) -> Option<Expr> {
        if !i.ty.is_some_and(Scalar::is_integer) {
            self.err(
                "an array index must be an integer",
                idx.span,
                format!(
                    "this is {}; write `(int)` to convert it",
                    a_scalar(i.ty.expect("a value"))
                ),
            );
            return None;
        }
        Some(i)
    }

    /// A scalar or pointer place that is to be written.
    pub(super) fn target_t(&mut self, e: &ast::Expr, op: &str) -> Option<(Place, PlaceTy, String)> {
        let Some(r) = self.try_place(e) else {
            self.err(
                format!("cannot assign to this expression with `{op}`"),
                e.span,
                "expected a variable or an array element",
            );
            return None;
        };
        let r = r?;
        if r.read_only {
            self.err(
                format!("{} is read-only", r.what),
                e.span,
                "old statics can be read, not written; assign to the new static instead",
            );
            return None;
        }
        if self.is_const_place(&r.place) {
            self.err(
                format!("{} is const", r.what),
                e.span,
                format!("a `const` variable cannot be changed with `{op}`"),
            );
            return None;
        }
        match r.ty {
            PlaceTy::Scalar(_) | PlaceTy::Ptr(_) => Some((r.place, r.ty, r.what)),
            PlaceTy::Array(_) => {
                self.err(
                    format!("cannot assign to array {}", r.what),
                    e.span,
                    "assign to its elements one by one",
                );
                None
            }
        }
    }

    /// Whether a place is (an element of) a `const` variable.
    pub(super) fn is_const_place(&self, p: &Place) -> bool {
        match p {
            Place::Local(id) => self.const_locals.contains(id),
            Place::Static(id) => matches!(self.ctx, Ctx::Proc) && self.const_statics.contains(id),
            Place::Global(name) => self.ck.env.const_globals.contains(name),
            Place::OldStatic(_) => false,
            Place::Index { base, .. } => self.is_const_place(base),
            Place::Deref { .. } => false,
        }
    }

    /// The size in bytes of an array place: the whole array where its
    /// length is known, a pointer's 8 bytes for an array parameter (which
    /// C passes as a pointer).
    pub(super) fn array_size(&self, p: &Place) -> u64 {
        let vty = match p {
            Place::Local(id) => match self.locals[*id as usize].ty {
                LocalTy::Array(s, n) => Some(VarTy::Array(s, n)),
                _ => None,
            },
            Place::Static(id) => self.statics.get(*id as usize).map(|s| s.ty),
            Place::Global(name) => self.ck.env.globals.get(name).map(|g| g.0),
            Place::OldStatic(id) => self.old_statics.get(*id as usize).map(|s| s.ty),
            Place::Index { .. } | Place::Deref { .. } => None,
        };
        vty.map_or(8, VarTy::size)
    }

    // ------------------------------------------------------------ expressions

    /// An expression or a whole array.
    pub(super) fn operand(&mut self, e: &ast::Expr) -> Option<Operand> {
        use ast::ExprKind as K;
        if let K::Var(name) = &e.kind
            && let Some(v) = self.enum_const(name)
        {
            return Some(Operand::Value(Expr {
                ty: Some(Scalar::I32),
                kind: ExprKind::Int(v),
                span: e.span,
            }));
        }
        if let K::Var(_) | K::Old(_) | K::Index(..) | K::Deref(_) = e.kind {
            let r = self.try_place(e).expect("a place expression")?;
            return Some(match r.ty {
                PlaceTy::Scalar(_) | PlaceTy::Ptr(_) => Operand::Value(Expr {
                    ty: r.ty.machine(),
                    kind: ExprKind::Load(r.place),
                    span: e.span,
                }),
                PlaceTy::Array(_) => Operand::Array(r, e.span),
            });
        }
        self.expr(e).map(Operand::Value)
    }

    /// A number: not a pointer (C converts a pointer to an integer only
    /// by a cast; gcc 14 refuses it by assignment), not a void call.
    pub(super) fn value(&mut self, e: &ast::Expr) -> Option<Expr> {
        let (v, p) = self.texpr(e)?;
        if let Some(p) = p {
            let what = match &e.kind {
                // An array decays to its first element's address.
                ast::ExprKind::Var(n) if matches!(v.kind, ExprKind::AddrOf(_)) => {
                    format!("`{n}` is an array (here a {p}), where a number is expected")
                }
                _ => format!("this is a pointer ({p}), where a number is expected"),
            };
            self.err(
                what,
                e.span,
                "dereference it, compare it, or cast it to an integer type",
            );
            return None;
        }
        self.some_value(v, e.span)
    }

    /// A scalar or a pointer (its address as an `unsigned long`): what a
    /// condition, a comparison, a cast and printf take.
    pub(super) fn value_or_pointer(&mut self, e: &ast::Expr) -> Option<Expr> {
        let (v, _) = self.texpr(e)?;
        self.some_value(v, e.span)
    }

    fn some_value(&mut self, v: Expr, span: Span) -> Option<Expr> {
        if v.ty.is_none() {
            self.err(
                "this call returns no value",
                span,
                "a void procedure or builtin cannot be used in an expression",
            );
            return None;
        }
        Some(v)
    }

    /// An expression statement: any scalar or a void call.
    pub(super) fn expr_stmt(&mut self, e: &ast::Expr) -> Option<Expr> {
        match self.operand(e)? {
            Operand::Value(v) => Some(v),
            Operand::Array(r, span) => {
                self.err(
                    format!("{} is an array; this statement does nothing", r.what),
                    span,
                    "expected an assignment or a call",
                );
                None
            }
        }
    }

    /// A condition: an int, or a double compared with 0.0 (C truth).
    pub(super) fn cond(&mut self, e: &ast::Expr) -> Option<Expr> {
        let v = self.value_or_pointer(e)?;
        Some(truthy(v))
    }

    /// Converts `e` to `to` as C's assignment does: any scalar to any
    /// other, each conversion an explicit cast (double → integer
    /// truncates toward zero).
    pub(super) fn coerce(&mut self, e: Expr, to: Scalar, what: &str) -> Option<Expr> {
        match e.ty {
            Some(from) if from == to => Some(e),
            Some(_) => Some(cast(e, to)),
            None => {
                self.err(
                    format!("{what} needs a value, but this call returns none"),
                    e.span,
                    "a void procedure or builtin cannot be used in an expression",
                );
                None
            }
        }
    }

    pub(super) fn expr(&mut self, e: &ast::Expr) -> Option<Expr> {
        use ast::ExprKind as K;
        let span = e.span;
        match &e.kind {
            K::Int(v, t) => Some(Expr {
                ty: Some(*t),
                kind: ExprKind::Int(*v),
                span,
            }),
            K::Double(v, t) => Some(Expr {
                ty: Some(*t),
                kind: ExprKind::Double(*v),
                span,
            }),
            K::SizeofType(t) => Some(size_lit(t.size() as u64, span)),
            K::SizeofExpr(x) => {
                // The operand is checked for its type and not evaluated:
                // its IR is dropped.
                let size = match self.operand(x)? {
                    Operand::Value(v) => match v.ty {
                        Some(t) => t.size() as u64,
                        None => {
                            self.err(
                                "`sizeof` of a call that returns no value",
                                x.span,
                                "a void expression has no size",
                            );
                            return None;
                        }
                    },
                    Operand::Array(r, _) => self.array_size(&r.place),
                };
                Some(size_lit(size, span))
            }
            K::Str(_)
            | K::AddrOf(_)
            | K::CastPtr(..)
            | K::Deref(_)
            | K::Call(_)
            | K::Assign { .. }
            | K::IncDec { .. }
            | K::Cond(..)
            | K::Binary(ast::BinOp::Add | ast::BinOp::Sub, ..) => self.texpr(e).map(|t| t.0),
            K::Var(_) | K::Old(_) | K::Index(..) => self.texpr(e).map(|t| t.0),
            K::NewCall(c) => self.new_call(&c.name, &c.args, span),
            K::Binary(op, a, b) => self.binary(*op, a, b, span),
            K::Unary(op, x) => {
                let v = if *op == ast::UnOp::Not {
                    self.value_or_pointer(x)?
                } else {
                    self.value(x)?
                };
                let t = v.ty.expect("a value");
                // C's integer promotion applies to `+ - ~`.
                let v = if *op == ast::UnOp::Not {
                    v
                } else {
                    cast_if(v, t.promote())
                };
                Some(match op {
                    ast::UnOp::Plus => Expr { span, ..v },
                    ast::UnOp::BitNot => {
                        if t.is_float() {
                            self.err(
                                "`~` needs an integer operand",
                                x.span,
                                format!("this is {}", a_scalar(t)),
                            );
                            return None;
                        }
                        Expr {
                            ty: v.ty,
                            kind: ExprKind::Unary {
                                op: UnOp::BitNot,
                                operand: Box::new(v),
                            },
                            span,
                        }
                    }
                    ast::UnOp::Neg => Expr {
                        ty: v.ty,
                        kind: ExprKind::Unary {
                            op: UnOp::Neg,
                            operand: Box::new(v),
                        },
                        span,
                    },
                    ast::UnOp::Not => {
                        // The IR's Not is on integers; a float is first
                        // turned into its C truth value (x != 0.0).
                        let v = truthy(v);
                        Expr {
                            ty: Some(Scalar::I32),
                            kind: ExprKind::Unary {
                                op: UnOp::Not,
                                operand: Box::new(v),
                            },
                            span,
                        }
                    }
                })
            }
            K::Cast(t, x) => {
                let v = self.value_or_pointer(x)?;
                let to = *t;
                Some(if v.ty == Some(to) {
                    Expr { span, ..v }
                } else {
                    Expr {
                        span,
                        ..cast(v, to)
                    }
                })
            }
            K::Comma(a, b) => {
                let (a, b) = (self.expr_stmt(a), self.expr_stmt(b));
                let (a, b) = (a?, b?);
                Some(Expr {
                    ty: b.ty,
                    kind: ExprKind::Comma {
                        first: Box::new(a),
                        then: Box::new(b),
                    },
                    span,
                })
            }
        }
    }

    /// `c ? a : b` of checked non-pointer operands.
    pub(super) fn cond_values(&mut self, c: Expr, a: Expr, b: Expr, span: Span) -> Option<Expr> {
        let (a, b, ty) = match (a.ty, b.ty) {
            (None, None) => (a, b, None),
            (Some(x), Some(y)) => {
                let t = Scalar::common(x, y);
                let a = self.coerce(a, t, "the `?:` operand")?;
                let b = self.coerce(b, t, "the `?:` operand")?;
                (a, b, Some(t))
            }
            _ => {
                self.err(
                    "one operand of `?:` has a value and the other does not",
                    span,
                    "both must be values, or both void calls",
                );
                return None;
            }
        };
        Some(Expr {
            ty,
            kind: ExprKind::Cond {
                cond: Box::new(c),
                then: Box::new(a),
                els: Box::new(b),
            },
            span,
        })
    }

    /// `++x` / `x--` on a scalar or pointer place (a pointer moves by
    /// whole elements).
    pub(super) fn incdec(
        &mut self,
        target: &ast::Expr,
        delta: i8,
        prefix: bool,
        span: Span,
    ) -> Option<(Expr, Option<PtrTy>)> {
        let op = if delta > 0 { "++" } else { "--" };
        let (place, pty, _) = self.target_t(target, op)?;
        let (ty, delta, p) = match pty {
            PlaceTy::Ptr(p) => (PtrTy::MACHINE, delta * p.stride() as i8, Some(p)),
            t => (t.machine().expect("no arrays"), delta, None),
        };
        Some((
            Expr {
                ty: Some(ty),
                kind: ExprKind::IncDec {
                    place,
                    delta,
                    prefix,
                },
                span,
            },
            p,
        ))
    }

    pub(super) fn binary(
        &mut self,
        op: ast::BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        use ast::BinOp as B;
        if let B::And | B::Or = op {
            let (l, r) = (self.cond(a), self.cond(b));
            return Some(Expr {
                ty: Some(Scalar::I32),
                kind: ExprKind::Logic {
                    and: op == B::And,
                    lhs: Box::new(l?),
                    rhs: Box::new(r?),
                },
                span,
            });
        }
        // Pointers compare as addresses; any other operator needs numbers.
        let (l, r) = if op.is_comparison() {
            (self.value_or_pointer(a), self.value_or_pointer(b))
        } else {
            (self.value(a), self.value(b))
        };
        self.arith(op, l?, r?, span, a.span, b.span)
    }

    /// `l op r` on checked operands, with C's usual arithmetic conversions
    /// and the unsigned operators where signedness matters.
    pub(super) fn arith(
        &mut self,
        op: ast::BinOp,
        l: Expr,
        r: Expr,
        span: Span,
        lspan: Span,
        rspan: Span,
    ) -> Option<Expr> {
        use ast::BinOp as B;
        let (lt, rt) = (l.ty.expect("a value"), r.ty.expect("a value"));
        let integer_only = matches!(
            op,
            B::Rem | B::BitAnd | B::BitOr | B::BitXor | B::Shl | B::Shr
        );
        if integer_only && (lt.is_float() || rt.is_float()) {
            let (bad, bt) = if lt.is_float() {
                (lspan, lt)
            } else {
                (rspan, rt)
            };
            self.err(
                format!("`{}` needs integer operands", op.symbol()),
                bad,
                format!("this is {}", a_scalar(bt)),
            );
            return None;
        }
        if let B::Shl | B::Shr = op {
            // The result has the promoted left operand's type; the count's
            // type does not matter (the IR's operands have equal types).
            let t = lt.promote();
            let l = cast_if(l, t);
            let r = cast_if(cast_if(r, rt.promote()), t);
            let irop = match op {
                B::Shl => BinOp::Shl,
                _ if t.is_unsigned() => BinOp::UShr,
                _ => BinOp::Shr,
            };
            return Some(Expr {
                ty: Some(t),
                kind: ExprKind::Binary {
                    op: irop,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                span,
            });
        }
        let t = Scalar::common(lt, rt);
        let l = if lt == t { l } else { cast(l, t) };
        let r = if rt == t { r } else { cast(r, t) };
        let u = t.is_unsigned();
        let irop = match op {
            B::Add => BinOp::Add,
            B::Sub => BinOp::Sub,
            B::Mul => BinOp::Mul,
            B::Div if u => BinOp::UDiv,
            B::Div => BinOp::Div,
            B::Rem if u => BinOp::URem,
            B::Rem => BinOp::Rem,
            B::Eq => BinOp::Eq,
            B::Ne => BinOp::Ne,
            B::Lt if u => BinOp::ULt,
            B::Lt => BinOp::Lt,
            B::Le if u => BinOp::ULe,
            B::Le => BinOp::Le,
            B::Gt if u => BinOp::UGt,
            B::Gt => BinOp::Gt,
            B::Ge if u => BinOp::UGe,
            B::Ge => BinOp::Ge,
            B::BitAnd => BinOp::BitAnd,
            B::BitOr => BinOp::BitOr,
            B::BitXor => BinOp::BitXor,
            B::And | B::Or | B::Shl | B::Shr => unreachable!("handled by the callers"),
        };
        let ty = if irop.is_comparison() { Scalar::I32 } else { t };
        Some(Expr {
            ty: Some(ty),
            kind: ExprKind::Binary {
                op: irop,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            span,
        })
    }
}
