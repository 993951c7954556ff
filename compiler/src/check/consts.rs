//! Constant folding with C's semantics: static and global initializers,
//! array lengths and case labels.

use super::*;

impl Checker<'_> {
    /// The length of `name[dim]`.
    pub(super) fn array_len(&mut self, name: &ast::Ident, dim: &ast::Expr) -> Option<u32> {
        let n = match self.fold(dim) {
            Some(FConst::U(n)) => Some(Const::Int(n.min(i64::MAX as u64) as i64)),
            other => other.map(FConst::to_const),
        };
        match n {
            Some(Const::Int(n)) if n >= 1 && n <= MAX_ARRAY_LEN as i64 => Some(n as u32),
            Some(Const::Int(n)) => {
                self.err(
                    format!("array `{}` has length {n}", name.name),
                    dim.span,
                    format!("the length must be between 1 and {MAX_ARRAY_LEN}"),
                );
                None
            }
            Some(Const::Double(_)) => {
                self.err(
                    format!("array `{}` has a length that is not an int", name.name),
                    dim.span,
                    "expected an int constant",
                );
                None
            }
            None => None,
        }
    }

    /// The type of a declarator of element type `ty`.
    pub(super) fn var_ty(&mut self, ty: TypeName, d: &ast::Declarator) -> Option<VarTy> {
        if d.open_len {
            return match &d.init {
                Some(Init::List(items, span)) if !items.is_empty() => {
                    if items.len() > MAX_ARRAY_LEN as usize {
                        self.err(
                            format!("array `{}` has length {}", d.name.name, items.len()),
                            *span,
                            format!("the length must be between 1 and {MAX_ARRAY_LEN}"),
                        );
                        return None;
                    }
                    Some(VarTy::Array(scalar(ty), items.len() as u32))
                }
                _ => {
                    self.err(
                        format!("array `{}` has no length", d.name.name),
                        d.name.span,
                        "write the length in the brackets, or give a nonempty brace list",
                    );
                    None
                }
            };
        }
        match &d.dim {
            None => Some(VarTy::Scalar(scalar(ty))),
            Some(dim) => Some(VarTy::Array(scalar(ty), self.array_len(&d.name, dim)?)),
        }
    }

    /// The constant initial value (one per element) of a static or global.
    pub(super) fn const_init(&mut self, ty: VarTy, d: &ast::Declarator) -> Option<Vec<Const>> {
        match (ty, &d.init) {
            (VarTy::Scalar(s), None) => Some(vec![zero(s)]),
            (VarTy::Array(s, n), None) => Some(vec![zero(s); n as usize]),
            (VarTy::Scalar(s), Some(Init::Expr(e))) => Some(vec![self.const_of(s, e)?]),
            (VarTy::Scalar(_), Some(Init::List(_, span))) => {
                self.err(
                    format!("`{}` is not an array", d.name.name),
                    *span,
                    "a scalar takes a single value, not a brace list",
                );
                None
            }
            (VarTy::Array(..), Some(Init::Expr(e))) => {
                self.err(
                    format!("array `{}` needs a brace list", d.name.name),
                    e.span,
                    "write `{a, b, ...}`",
                );
                None
            }
            (VarTy::Array(s, n), Some(Init::List(items, span))) => {
                if items.len() > n as usize {
                    self.too_many(&d.name.name, n, items.len(), *span);
                    return None;
                }
                let mut out = Vec::with_capacity(n as usize);
                let mut ok = true;
                for e in items {
                    match self.const_of(s, e) {
                        Some(c) => out.push(c),
                        None => ok = false,
                    }
                }
                out.resize(n as usize, zero(s));
                ok.then_some(out)
            }
        }
    }

    pub(super) fn too_many(&mut self, name: &str, n: u32, given: usize, span: Span) {
        self.err(
            format!("too many initializers for `{name}`"),
            span,
            format!("`{name}` has {n} elements but {given} values are given"),
        );
    }

    /// Folds `e` and converts it to `s` as an assignment would.
    pub(super) fn const_of(&mut self, s: Scalar, e: &ast::Expr) -> Option<Const> {
        Some(self.fold(e)?.to(s).to_const())
    }

    /// Constant folding with UC's run-time semantics (wrapping ints, C's
    /// usual arithmetic conversions, truncating casts), for static and
    /// global initializers, array lengths and case labels.
    pub(super) fn fold(&mut self, e: &ast::Expr) -> Option<FConst> {
        use FConst::{D, I, U};
        use ast::ExprKind as K;
        Some(match &e.kind {
            K::Int(v) => I(*v),
            K::UInt(v) => U(*v as u64),
            K::Double(v) => D(*v),
            K::Unary(op, x) => {
                let x = self.fold(x)?;
                match (op, x) {
                    (ast::UnOp::Plus, x) => x,
                    (ast::UnOp::Neg, I(v)) => I(v.wrapping_neg()),
                    (ast::UnOp::Neg, U(v)) => U(v.wrapping_neg()),
                    (ast::UnOp::Neg, D(v)) => D(-v),
                    (ast::UnOp::Not, x) => I(!x.truth() as i64),
                    (ast::UnOp::BitNot, I(v)) => I(!v),
                    (ast::UnOp::BitNot, U(v)) => U(!v),
                    (ast::UnOp::BitNot, D(_)) => {
                        self.err("`~` needs an integer operand", e.span, "this is a double");
                        return None;
                    }
                }
            }
            K::Cast(t, x) => self.fold(x)?.to(scalar(*t)),
            K::Cond(c, a, b) => {
                let (c, a, b) = (self.fold(c)?, self.fold(a)?, self.fold(b)?);
                let t = common(a.ty(), b.ty());
                if c.truth() { a.to(t) } else { b.to(t) }
            }
            K::Binary(op, a, b) => {
                let (a, b) = (self.fold(a)?, self.fold(b)?);
                use ast::BinOp as B;
                match op {
                    B::And => return Some(I((a.truth() && b.truth()) as i64)),
                    B::Or => return Some(I((a.truth() || b.truth()) as i64)),
                    B::Shl | B::Shr => {
                        let n = match b {
                            I(n) => n,
                            U(n) => n as i64,
                            D(_) => -1,
                        };
                        if !(0..64).contains(&n) || matches!(a, D(_)) {
                            self.err(
                                "bad shift in a constant expression",
                                e.span,
                                "shifts need integer operands and a count in 0..63",
                            );
                            return None;
                        }
                        return Some(match (op, a) {
                            (B::Shl, I(x)) => I(x.wrapping_shl(n as u32)),
                            (B::Shl, U(x)) => U(x.wrapping_shl(n as u32)),
                            (_, I(x)) => I(x >> n),
                            (_, U(x)) => U(x >> n),
                            _ => unreachable!("checked above"),
                        });
                    }
                    _ => {}
                }
                let t = common(a.ty(), b.ty());
                let cmp = |o: std::cmp::Ordering| -> FConst {
                    use std::cmp::Ordering::*;
                    I(match op {
                        B::Eq => o == Equal,
                        B::Ne => o != Equal,
                        B::Lt => o == Less,
                        B::Le => o != Greater,
                        B::Gt => o == Greater,
                        _ => o != Less,
                    } as i64)
                };
                let is_cmp = matches!(op, B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge);
                let (a, b) = (a.to(t), b.to(t));
                // Integer division by zero, signed or not (a double's is inf/NaN).
                if matches!(op, B::Div | B::Rem) && matches!(b, I(0) | U(0)) {
                    self.err(
                        "division by zero in a constant expression",
                        e.span,
                        "the divisor is 0",
                    );
                    return None;
                }
                match (a, b) {
                    (I(x), I(y)) => match op {
                        _ if is_cmp => cmp(x.cmp(&y)),
                        B::Add => I(x.wrapping_add(y)),
                        B::Sub => I(x.wrapping_sub(y)),
                        B::Mul => I(x.wrapping_mul(y)),
                        B::Div => I(x.wrapping_div(y)),
                        B::Rem => I(x.wrapping_rem(y)),
                        B::BitAnd => I(x & y),
                        B::BitOr => I(x | y),
                        _ => I(x ^ y),
                    },
                    (U(x), U(y)) => match op {
                        _ if is_cmp => cmp(x.cmp(&y)),
                        B::Add => U(x.wrapping_add(y)),
                        B::Sub => U(x.wrapping_sub(y)),
                        B::Mul => U(x.wrapping_mul(y)),
                        B::Div => U(x / y),
                        B::Rem => U(x % y),
                        B::BitAnd => U(x & y),
                        B::BitOr => U(x | y),
                        _ => U(x ^ y),
                    },
                    (D(x), D(y)) => match op {
                        _ if is_cmp => match x.partial_cmp(&y) {
                            Some(o) => cmp(o),
                            // NaN: only `!=` holds.
                            None => I((*op == B::Ne) as i64),
                        },
                        B::Add => D(x + y),
                        B::Sub => D(x - y),
                        B::Mul => D(x * y),
                        B::Div => D(x / y),
                        _ => {
                            self.err(
                                format!("`{}` needs integer operands", op.symbol()),
                                e.span,
                                "an operand is a double",
                            );
                            return None;
                        }
                    },
                    _ => unreachable!("both converted to the common type"),
                }
            }
            _ => {
                self.err(
                    "not a constant expression",
                    e.span,
                    "static and global initializers, array lengths and case labels must be constants",
                );
                return None;
            }
        })
    }
}
