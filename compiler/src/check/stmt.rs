//! Statements and declarations of a body (procedure, iproc, mproc).

use super::*;

impl<'c, 'a> FnCx<'c, 'a> {
    pub(super) fn new(ck: &'c mut Checker<'a>, ctx: Ctx, ret: RetTy, name: &str) -> Self {
        FnCx {
            ck,
            ctx,
            ret,
            name: name.to_string(),
            locals: Vec::new(),
            statics: Vec::new(),
            data_size: 0,
            old_statics: Vec::new(),
            scopes: vec![HashMap::new()],
            loops: 0,
            breakables: 0,
            const_locals: BTreeSet::new(),
            const_statics: BTreeSet::new(),
            callees: BTreeSet::new(),
            globals_used: BTreeSet::new(),
            labels: HashMap::new(),
        }
    }

    pub(super) fn err(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.ck.err(message, span, label);
    }

    pub(super) fn new_local(&mut self, name: &str, ty: LocalTy) -> LocalId {
        self.locals.push(Local {
            name: name.to_string(),
            ty,
        });
        (self.locals.len() - 1) as LocalId
    }

    /// Parameters are locals `0..n`, in the outermost scope (the body's
    /// top-level declarations share it, as in C).
    pub(super) fn bind_params(&mut self, params: &[(ast::Ident, ParamTy)]) {
        for (name, ty) in params {
            let lty = match *ty {
                ParamTy::Scalar(s) => LocalTy::Scalar(s),
                ParamTy::ArrayRef(s) => LocalTy::ArrayRef(s),
                ParamTy::Ptr(p) => LocalTy::Ptr(p),
            };
            let id = self.new_local(&name.name, lty);
            self.scopes[0].insert(name.name.clone(), Binding::Local(id, lty, name.span));
        }
    }

    /// Checks a block's statements; `new_scope` is false for a body whose
    /// scope is the parameters' one.
    pub(super) fn stmts_in_scope(&mut self, stmts: &[ast::Stmt], new_scope: bool) -> Vec<Stmt> {
        if new_scope {
            self.scopes.push(HashMap::new());
        }
        let mut out = Vec::new();
        for s in stmts {
            self.stmt(s, &mut out);
        }
        if new_scope {
            self.scopes.pop();
        }
        // Most bodies hold one or two statements; a push-grown Vec keeps
        // room for four, and a large program has hundreds of thousands.
        out.shrink_to_fit();
        out
    }

    /// A branch or loop body: its own scope even without braces.
    pub(super) fn sub_body(&mut self, s: &ast::Stmt) -> Vec<Stmt> {
        match s {
            ast::Stmt::Block(b) => self.stmts_in_scope(b, true),
            other => self.stmts_in_scope(std::slice::from_ref(other), true),
        }
    }

    pub(super) fn stmt(&mut self, s: &ast::Stmt, out: &mut Vec<Stmt>) {
        match s {
            ast::Stmt::Decl(d) => self.decl(d, out),
            ast::Stmt::Expr(e) => {
                if let Some(e) = self.expr_stmt(e) {
                    out.push(Stmt::Expr(e));
                }
            }
            ast::Stmt::If { cond, then, els } => {
                let c = self.cond(cond);
                let then = self.sub_body(then);
                let els = els.as_ref().map(|e| self.sub_body(e)).unwrap_or_default();
                if let Some(cond) = c {
                    out.push(Stmt::If { cond, then, els });
                }
            }
            ast::Stmt::While { cond, body } => {
                let c = self.cond(cond);
                let body = self.loop_body(body);
                if let Some(cond) = c {
                    out.push(Stmt::Loop {
                        cond: Some(cond),
                        body,
                        step: Vec::new(),
                    });
                }
            }
            ast::Stmt::For(f) => {
                let ast::ForLoop {
                    init,
                    cond,
                    step,
                    body,
                } = &**f;
                // The init clause's declarations are scoped to the loop.
                self.scopes.push(HashMap::new());
                let mut block = Vec::new();
                if let Some(init) = init {
                    self.stmt(init, &mut block);
                }
                // `None` inside means "absent", `None` outside "failed".
                let c = match cond {
                    None => Some(None),
                    Some(c) => self.cond(c).map(Some),
                };
                let st = match step {
                    None => Some(None),
                    Some(s) => self.expr_stmt(s).map(Some),
                };
                let body = self.loop_body(body);
                self.scopes.pop();
                let (Some(cond), Some(step)) = (c, st) else {
                    return;
                };
                block.push(Stmt::Loop {
                    cond,
                    body,
                    step: step.map(Stmt::Expr).into_iter().collect(),
                });
                if block.len() == 1 {
                    out.append(&mut block);
                } else {
                    out.push(Stmt::Block(block));
                }
            }
            ast::Stmt::DoWhile { body, cond } => {
                let body = self.loop_body(body);
                if let Some(cond) = self.cond(cond) {
                    out.push(Stmt::DoWhile { body, cond });
                }
            }
            ast::Stmt::Switch { value, body, span } => self.switch(value, body, *span, out),
            ast::Stmt::Case(_, span) | ast::Stmt::Default(span) => {
                let word = if matches!(s, ast::Stmt::Case(..)) {
                    "case"
                } else {
                    "default"
                };
                self.err(
                    format!("`{word}` label not directly inside a switch body"),
                    *span,
                    "UC takes `case` and `default` labels only at the top level of a switch's braces",
                );
            }
            ast::Stmt::Break(span) | ast::Stmt::Continue(span) => {
                let is_break = matches!(s, ast::Stmt::Break(_));
                let word = if is_break { "break" } else { "continue" };
                let inside = if is_break {
                    self.breakables
                } else {
                    self.loops
                };
                if inside == 0 {
                    self.err(
                        format!("`{word}` outside of a loop"),
                        *span,
                        if is_break {
                            "only allowed inside `while`, `for`, `do` or `switch`"
                        } else {
                            "only allowed inside `while`, `for` or `do`"
                        },
                    );
                } else {
                    out.push(if is_break {
                        Stmt::Break
                    } else {
                        Stmt::Continue
                    });
                }
            }
            ast::Stmt::Return(value, span) => self.ret_stmt(value.as_ref(), *span, out),
            ast::Stmt::Goto(name) => {
                let id = self.label(name, false);
                out.push(Stmt::Goto(id));
            }
            ast::Stmt::Label(name, inner) => {
                let id = self.label(name, true);
                out.push(Stmt::Label(id));
                self.stmt(inner, out);
            }
            ast::Stmt::Block(b) => {
                let b = self.stmts_in_scope(b, true);
                out.push(Stmt::Block(b));
            }
            ast::Stmt::Empty | ast::Stmt::Error => {}
        }
    }

    /// The number of label `name` (one name space per procedure, C's
    /// function scope), at its definition or at a `goto` that may come
    /// before it; a second definition is an error.
    pub(super) fn label(&mut self, name: &ast::Ident, define: bool) -> ir::LabelId {
        let n = self.labels.len() as ir::LabelId;
        let entry = self
            .labels
            .entry(name.name.clone())
            .or_insert((n, None, name.span));
        let id = entry.0;
        if define {
            if let Some(first) = entry.1 {
                let note = format!("the first one is at {}", self.ck.at_line(first));
                self.ck.diags.push(
                    Diagnostic::error(
                        format!("label `{}` is defined twice", name.name),
                        name.span,
                        "a label may be defined once in a procedure",
                    )
                    .with_note(note),
                );
            } else {
                entry.1 = Some(name.span);
            }
        }
        id
    }

    /// After a body: every label a `goto` names must be defined.
    pub(super) fn finish_labels(&mut self) {
        let mut missing: Vec<(String, Span)> = self
            .labels
            .iter()
            .filter(|(_, (_, def, _))| def.is_none())
            .map(|(n, (_, _, used))| (n.clone(), *used))
            .collect();
        missing.sort_by_key(|m| m.1.start);
        for (n, used) in missing {
            self.err(
                format!("`goto {n}`: no label `{n}` in this procedure"),
                used,
                format!("define it as `{n}: statement` in the same procedure"),
            );
        }
    }

    /// A loop body: `break` and `continue` are allowed in it.
    pub(super) fn loop_body(&mut self, body: &ast::Stmt) -> Vec<Stmt> {
        self.loops += 1;
        self.breakables += 1;
        let body = self.sub_body(body);
        self.loops -= 1;
        self.breakables -= 1;
        body
    }

    /// `switch (value) { case ...: ... }`: the labels at the top level of
    /// the body split it into arms (one scope for the whole body, as in C).
    pub(super) fn switch(
        &mut self,
        value: &ast::Expr,
        body: &ast::Stmt,
        span: Span,
        out: &mut Vec<Stmt>,
    ) {
        let v = self.value(value);
        let v = match v {
            Some(v) if v.ty.is_some_and(Scalar::is_float) => {
                self.err(
                    "a switch value must be an integer",
                    value.span,
                    format!("this is {}", a_scalar(v.ty.expect("a value"))),
                );
                None
            }
            other => other,
        };
        // The controlling value is promoted and each label converted to
        // its type (C11 6.8.4.2); the IR compares both as 64-bit.
        let switch_ty = v
            .as_ref()
            .and_then(|v| v.ty)
            .unwrap_or(Scalar::I32)
            .promote();
        let items: &[ast::Stmt] = match body {
            ast::Stmt::Block(b) => b,
            other => std::slice::from_ref(other),
        };
        self.scopes.push(HashMap::new());
        self.breakables += 1;
        let mut arms: Vec<ir::SwitchArm> = Vec::new();
        let mut seen: HashMap<i64, Span> = HashMap::new();
        let mut default_at: Option<Span> = None;
        let mut ok = true;
        for item in items {
            match item {
                ast::Stmt::Case(e, lspan) => {
                    let c = self.ck.fold(e);
                    let label = match c {
                        Some(FConst::D(..)) => {
                            self.err(
                                "a case label must be an integer constant",
                                e.span,
                                "this is a double",
                            );
                            ok = false;
                            continue;
                        }
                        Some(c) => match c.to(switch_ty).to_const() {
                            Const::Int(v) => v,
                            Const::Double(_) => unreachable!("converted to an integer"),
                        },
                        None => {
                            ok = false;
                            continue;
                        }
                    };
                    if let Some(first) = seen.get(&label).copied() {
                        let note = format!("the first one is at {}", self.ck.at_line(first));
                        self.ck.diags.push(
                            Diagnostic::error(
                                format!("duplicate case label {label}"),
                                *lspan,
                                "each case value may appear once",
                            )
                            .with_note(note),
                        );
                        ok = false;
                        continue;
                    }
                    seen.insert(label, *lspan);
                    arms.push(ir::SwitchArm {
                        labels: vec![label],
                        default: false,
                        body: Vec::new(),
                    });
                }
                ast::Stmt::Default(lspan) => {
                    if let Some(first) = default_at {
                        let note = format!("the first one is at {}", self.ck.at_line(first));
                        self.ck.diags.push(
                            Diagnostic::error(
                                "a second `default` label",
                                *lspan,
                                "a switch has at most one default",
                            )
                            .with_note(note),
                        );
                        ok = false;
                        continue;
                    }
                    default_at = Some(*lspan);
                    arms.push(ir::SwitchArm {
                        labels: Vec::new(),
                        default: true,
                        body: Vec::new(),
                    });
                }
                other => match arms.last_mut() {
                    Some(arm) => {
                        let mut body = std::mem::take(&mut arm.body);
                        self.stmt(other, &mut body);
                        arms.last_mut().expect("an arm").body = body;
                    }
                    None => {
                        // C never runs these; a declaration here would be
                        // legal but is almost always a mistake.
                        let mut dropped = Vec::new();
                        self.stmt(other, &mut dropped);
                        if !matches!(other, ast::Stmt::Empty) {
                            self.err(
                                "a statement before the first `case` label of a switch never runs",
                                span,
                                "move it before the switch, or after a label",
                            );
                            ok = false;
                        }
                    }
                },
            }
        }
        self.breakables -= 1;
        self.scopes.pop();
        let Some(v) = v else { return };
        if !ok {
            return;
        }
        let value = if v.ty == Some(Scalar::I64) {
            v
        } else {
            cast(cast_if(v, switch_ty), Scalar::I64)
        };
        out.push(Stmt::Switch { value, arms });
    }

    pub(super) fn ret_stmt(&mut self, value: Option<&ast::Expr>, span: Span, out: &mut Vec<Stmt>) {
        if let Ctx::MProc { .. } = self.ctx
            && value.is_some()
        {
            self.err("an mproc returns no value", span, "write `return;`");
            return;
        }
        match (self.ret, value) {
            (RetTy::Void, None) => out.push(Stmt::Return(None)),
            (RetTy::Void, Some(v)) => {
                let name = self.name.clone();
                self.err(
                    format!("`{name}` returns void, so `return` cannot have a value"),
                    v.span,
                    "remove this value, or declare a return type",
                );
            }
            // C allows a bare `return;` in an int procedure (K&R code does
            // it); the caller then sees 0.
            (RetTy::Scalar(s), None) => out.push(Stmt::Return(Some(zero_expr(s, span)))),
            (RetTy::Scalar(s), Some(v)) => {
                let Some(e) = self.value(v) else { return };
                let what = format!("the return value of `{}`", self.name);
                if let Some(e) = self.coerce(e, s, &what) {
                    out.push(Stmt::Return(Some(e)));
                }
            }
            (RetTy::Ptr(_), None) => out.push(Stmt::Return(Some(zero_expr(PtrTy::MACHINE, span)))),
            (RetTy::Ptr(want), Some(v)) => {
                let Some(t) = self.texpr(v) else { return };
                let what = format!("the return value of `{}`", self.name);
                if let Some(e) = self.as_pointer(t, Some(want), &what) {
                    out.push(Stmt::Return(Some(e)));
                }
            }
        }
    }

    /// The value of enumerator `name` where it is visible and not shadowed
    /// by a variable.
    pub(super) fn enum_const(&self, name: &str) -> Option<i64> {
        match self.lookup_scope(name) {
            Some(Binding::Const(v, _)) => Some(v),
            Some(_) => None,
            None if self.ck.env.globals.contains_key(name) => None,
            None => self.ck.env.enum_consts.get(name).map(|c| c.0),
        }
    }

    pub(super) fn lookup_scope(&self, name: &str) -> Option<Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    pub(super) fn decl(&mut self, d: &ast::Decl, out: &mut Vec<Stmt>) {
        for (name, v, span) in self.ck.enum_values(&d.enums) {
            self.scopes
                .last_mut()
                .expect("a scope is always open")
                .insert(name, Binding::Const(v, span));
        }
        if d.is_typedef {
            // The parser has recorded the type names.
            return;
        }
        self.ck.declares_something(d);
        for dc in &d.declarators {
            if let Some(first) = self.scopes.last().and_then(|s| s.get(&dc.name.name)) {
                let first = match first {
                    Binding::Local(_, _, sp)
                    | Binding::Static(_, _, sp)
                    | Binding::Const(_, sp) => *sp,
                };
                let note = format!("the first declaration is at {}", self.ck.at_line(first));
                self.ck.diags.push(
                    Diagnostic::error(
                        format!("`{}` is declared twice in the same block", dc.name.name),
                        dc.name.span,
                        "choose another name",
                    )
                    .with_note(note),
                );
                continue;
            }
            if let Ctx::MProc { target } = &self.ctx {
                let clash = match target {
                    MTarget::Proc(statics) => statics.iter().any(|s| s.name == dc.name.name),
                    MTarget::Global(_) => false,
                } || self.ck.env.globals.contains_key(&dc.name.name);
                if clash {
                    let name = self.name.clone();
                    self.err(
                        format!(
                            "`{}` already names a static of `{name}` or a global",
                            dc.name.name
                        ),
                        dc.name.span,
                        "in an mproc, plain names are the new statics and globals; choose another name",
                    );
                    continue;
                }
            }
            if d.is_static {
                self.static_decl(d.ty, dc);
            } else {
                self.local_decl(d.ty, dc, out);
            }
            if d.is_const {
                match self.scopes.last().and_then(|s| s.get(&dc.name.name)) {
                    Some(Binding::Local(id, ..)) => {
                        self.const_locals.insert(*id);
                    }
                    Some(Binding::Static(id, ..)) => {
                        self.const_statics.insert(*id);
                    }
                    Some(Binding::Const(..)) | None => {}
                }
            }
        }
    }

    pub(super) fn static_decl(&mut self, ty: TypeName, dc: &ast::Declarator) {
        let string = self.ck.string_init(ty, dc);
        let dc = string.as_ref().unwrap_or(dc);
        if !matches!(self.ctx, Ctx::Proc) {
            let what = self.ctx.what();
            self.err(
                format!("{what} cannot have static variables"),
                dc.name.span,
                "declare it without `static`",
            );
            return;
        }
        let Some(vty) = self.ck.var_ty(ty, dc) else {
            return;
        };
        let Some(init) = self.ck.const_init(vty, dc) else {
            return;
        };
        // Statics are carried across versions by name, so each needs a
        // distinct one even when the source shadows: `x`, `x#2`, ...
        let mut name = dc.name.name.clone();
        let mut k = 1;
        while self.statics.iter().any(|s| s.name == name) {
            k += 1;
            name = format!("{}#{k}", dc.name.name);
        }
        // The statics of a procedure share its one data segment, each at
        // its C alignment.
        let align = vty.align();
        let start = self.data_size.div_ceil(align) * align;
        let end = start as u64 + vty.size();
        if end > DATA_SEGMENT_BYTES {
            self.err(
                format!(
                    "the statics of this procedure need {end} bytes, more than its {DATA_SEGMENT_BYTES}-byte data segment"
                ),
                dc.name.span,
                format!(
                    "{} bytes of statics before this one",
                    self.data_size
                ),
            );
            // Bound all the same (the module is refused anyway), so that
            // its uses do not each say it is undeclared; the statics after
            // it are measured without it.
            let id = self.statics.len() as ir::StaticId;
            self.statics.push(Static {
                name,
                ty: vty,
                offset: 0,
                init,
            });
            self.scopes
                .last_mut()
                .expect("a scope is always open")
                .insert(dc.name.name.clone(), Binding::Static(id, vty, dc.name.span));
            return;
        }
        let end = end as u32;
        let id = self.statics.len() as ir::StaticId;
        self.statics.push(Static {
            name,
            ty: vty,
            offset: start,
            init,
        });
        self.data_size = end;
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .insert(dc.name.name.clone(), Binding::Static(id, vty, dc.name.span));
    }

    pub(super) fn local_decl(&mut self, ty: TypeName, dc: &ast::Declarator, out: &mut Vec<Stmt>) {
        let string = self.ck.string_init(ty, dc);
        let dc = string.as_ref().unwrap_or(dc);
        let s = ty;
        let Some(vty) = self.ck.var_ty(ty, dc) else {
            return;
        };
        let span = dc.span;
        // The initializer is checked before the name is bound, so
        // `int x = x;` reads an outer `x` rather than itself.
        let init: Option<Vec<Expr>> = match (vty, &dc.init) {
            (VarTy::Scalar(_) | VarTy::Ptr(_), None) => Some(Vec::new()),
            (VarTy::Ptr(want), Some(Init::Expr(e))) => {
                let what = format!("`{}`", dc.name.name);
                self.texpr(e)
                    .and_then(|t| self.as_pointer(t, Some(want), &what))
                    .map(|v| vec![v])
            }
            (VarTy::Ptr(_), Some(Init::List(_, lspan))) => {
                self.err(
                    format!("`{}` is a pointer", dc.name.name),
                    *lspan,
                    "a pointer takes a single value, not a brace list",
                );
                None
            }
            (VarTy::Scalar(_), Some(Init::Expr(e))) => {
                let what = format!("`{}`", dc.name.name);
                self.value(e)
                    .and_then(|v| self.coerce(v, s, &what))
                    .map(|v| vec![v])
            }
            (VarTy::Scalar(_), Some(Init::List(_, lspan))) => {
                self.err(
                    format!("`{}` is not an array", dc.name.name),
                    *lspan,
                    "a scalar takes a single value, not a brace list",
                );
                None
            }
            (VarTy::Array(..), None) => Some(Vec::new()),
            (VarTy::Array(..), Some(Init::Expr(e))) => {
                self.err(
                    format!("array `{}` needs a brace list", dc.name.name),
                    e.span,
                    "write `{a, b, ...}`",
                );
                None
            }
            (VarTy::Array(_, n), Some(Init::List(items, lspan))) => {
                if items.len() > n as usize {
                    self.ck.too_many(&dc.name.name, n, items.len(), *lspan);
                    None
                } else {
                    let what = format!("an element of `{}`", dc.name.name);
                    let vals: Vec<Option<Expr>> = items
                        .iter()
                        .map(|e| self.value(e).and_then(|v| self.coerce(v, s, &what)))
                        .collect();
                    vals.into_iter().collect::<Option<Vec<_>>>()
                }
            }
        };
        let lty = match vty {
            VarTy::Scalar(s) => LocalTy::Scalar(s),
            VarTy::Array(s, n) => LocalTy::Array(s, n),
            VarTy::Ptr(p) => LocalTy::Ptr(p),
        };
        let id = self.new_local(&dc.name.name, lty);
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .insert(dc.name.name.clone(), Binding::Local(id, lty, dc.name.span));
        let Some(init) = init else { return };
        match vty {
            VarTy::Ptr(_) => {
                let value = init
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| zero_expr(PtrTy::MACHINE, span));
                out.push(Stmt::Expr(assign(Place::Local(id), value, span)));
            }
            VarTy::Scalar(_) => {
                // An explicit store even without an initializer: every
                // execution of the declaration starts the variable at
                // 0, so the VM never has to reason about definedness.
                let value = init
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| zero_expr(s, span));
                out.push(Stmt::Expr(assign(Place::Local(id), value, span)));
            }
            VarTy::Array(_, n) => {
                if dc.init.is_none() {
                    // The VM zeroes arrays when the frame is created, which
                    // covers a declaration that runs once per call. Inside
                    // a loop it runs again, and should again start at 0.
                    if self.loops > 0 {
                        out.push(self.zero_fill(id, s, 0, n as i64, span));
                    }
                    return;
                }
                let k = init.len();
                for (i, v) in init.into_iter().enumerate() {
                    let place = index(Place::Local(id), i as i64, span);
                    out.push(Stmt::Expr(assign(place, v, span)));
                }
                if (k as u32) < n {
                    out.push(self.zero_fill(id, s, k as i64, n as i64, span));
                }
            }
        }
    }

    /// `for (#fill = from; #fill < to; #fill++) a[#fill] = 0;`: C zeroes
    /// the rest of a partly initialized array, and a loop keeps that
    /// compact for long arrays.
    pub(super) fn zero_fill(
        &mut self,
        arr: LocalId,
        s: Scalar,
        from: i64,
        to: i64,
        span: Span,
    ) -> Stmt {
        let i = self.new_local("#fill", LocalTy::Scalar(Scalar::I32));
        let load_i = || Expr {
            ty: Some(Scalar::I32),
            kind: ExprKind::Load(Place::Local(i)),
            span,
        };
        let elem = Place::Index {
            base: Box::new(Place::Local(arr)),
            index: Box::new(load_i()),
        };
        Stmt::Block(vec![
            Stmt::Expr(assign(Place::Local(i), lit(Const::Int(from), span), span)),
            Stmt::Loop {
                cond: Some(Expr {
                    ty: Some(Scalar::I32),
                    kind: ExprKind::Binary {
                        op: BinOp::Lt,
                        lhs: Box::new(load_i()),
                        rhs: Box::new(lit(Const::Int(to), span)),
                    },
                    span,
                }),
                body: vec![Stmt::Expr(assign(elem, zero_expr(s, span), span))],
                step: vec![Stmt::Expr(Expr {
                    ty: Some(Scalar::I32),
                    kind: ExprKind::IncDec {
                        place: Place::Local(i),
                        delta: 1,
                        prefix: true,
                    },
                    span,
                })],
            },
        ])
    }
}
