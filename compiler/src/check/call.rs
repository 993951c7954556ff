//! Calls: procedures, `new.P`, the UC builtins, the C library functions
//! of SPEC 2.2, and printf with its format checked against its arguments.

use super::*;

impl FnCx<'_, '_> {
    // ------------------------------------------------------------ calls

    pub(super) fn call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let n = name.name.as_str();
        if BUILTINS.contains(&n) {
            return self.builtin(name, args, span);
        }
        if LIBC.contains(&n) && !self.ck.env.procs.contains_key(n) {
            return self.libc(name, args, span);
        }
        let Some((sig, def_span)) = self.ck.env.procs.get(n).cloned() else {
            if let Some((_, why)) = LEFT_OUT_CALLS.iter().find(|(f, _)| *f == n) {
                self.err(format!("`{n}` is not available in UC"), name.span, *why);
                return None;
            }
            if self.ck.env.globals.contains_key(n) || self.lookup_scope(n).is_some() {
                self.err(
                    format!("`{n}` is a variable, not a procedure"),
                    name.span,
                    "only procedures can be called",
                );
            } else {
                self.err(
                    format!("call to undeclared procedure `{n}`"),
                    name.span,
                    "no procedure of this name in this file",
                );
            }
            return None;
        };
        match &self.ctx {
            Ctx::Proc => {}
            Ctx::IProc { .. } => {
                let msg = if n == self.name {
                    format!("an iproc calls the new version as `new.{n}(...)`")
                } else {
                    format!("an iproc may call only `new.{}` and builtins", self.name)
                };
                self.err(msg, name.span, "UC procedures are not reachable from here");
                return None;
            }
            Ctx::MProc { .. } => {
                self.err(
                    "an mproc may call only builtins",
                    name.span,
                    "it runs before the new version is bound, on a helper thread",
                );
                return None;
            }
        }
        let args = self.args(n, &sig, def_span, args, span)?;
        self.callees.insert(n.to_string());
        Some(call_expr(n, &sig, args, span))
    }

    pub(super) fn new_call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let n = name.name.as_str();
        let Ctx::IProc { new_sig } = &self.ctx else {
            self.err(
                format!("`new.{n}(...)` outside of an iproc"),
                span,
                "only an iproc calls the new version of its procedure",
            );
            return None;
        };
        if n != self.name {
            let own = self.name.clone();
            self.err(
                format!("the iproc of `{own}` may call only `new.{own}`"),
                name.span,
                format!("expected `new.{own}`"),
            );
            return None;
        }
        let sig = new_sig.clone();
        let def_span = self.ck.env.procs.get(n).map(|p| p.1).unwrap_or_default();
        let args = self.args(&format!("new.{n}"), &sig, def_span, args, span)?;
        Some(call_expr(n, &sig, args, span))
    }

    /// Checks call arguments against a signature.
    pub(super) fn args(
        &mut self,
        callee: &str,
        sig: &Signature,
        def_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Vec<Arg>> {
        if args.len() != sig.params.len() {
            let note = format!(
                "`{callee}` is {} (defined at {})",
                sig_string(sig),
                self.ck.at_line(def_span)
            );
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            self.ck.diags.push(
                Diagnostic::error(
                    format!(
                        "`{callee}` takes {} argument{} but {} {} given",
                        sig.params.len(),
                        plural(sig.params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                    span,
                    format!(
                        "expected {} argument{}",
                        sig.params.len(),
                        plural(sig.params.len())
                    ),
                )
                .with_note(note),
            );
            return None;
        }
        let mut out = Vec::with_capacity(args.len());
        let mut ok = true;
        for (i, (a, p)) in args.iter().zip(&sig.params).enumerate() {
            let arg = match *p {
                ParamTy::Ptr(want) => {
                    let what = format!("parameter {} of `{callee}`", i + 1);
                    self.texpr(a)
                        .and_then(|t| self.as_pointer(t, Some(want), &what))
                        .map(Arg::Value)
                }
                ParamTy::Scalar(s) => {
                    let what = format!("parameter {} of `{callee}`", i + 1);
                    self.value(a)
                        .and_then(|v| self.coerce(v, s, &what))
                        .map(Arg::Value)
                }
                ParamTy::ArrayRef(s) => match self.operand(a) {
                    None => None,
                    Some(Operand::Array(r, _)) => match r.ty {
                        PlaceTy::Array(have) if have == s => Some(Arg::Array(r.place)),
                        _ => {
                            self.err(
                                format!(
                                    "argument {} of `{callee}` must be {} array, but {} is {} array",
                                    i + 1,
                                    a_scalar(s),
                                    r.what,
                                    match r.ty {
                                        PlaceTy::Array(x) | PlaceTy::Scalar(x) => a_scalar(x),
                                        PlaceTy::Ptr(p) => format!("a `{p}`"),
                                    }
                                ),
                                a.span,
                                format!("expected a {}[] array", s.name()),
                            );
                            None
                        }
                    },
                    Some(Operand::Value(_)) => {
                        self.err(
                            format!(
                                "argument {} of `{callee}` must be {} array",
                                i + 1,
                                a_scalar(s)
                            ),
                            a.span,
                            "expected the name of an array",
                        );
                        None
                    }
                },
            };
            match arg {
                Some(a) => out.push(a),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn builtin(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let n = name.name.as_str();
        if n == "printf" {
            return self.printf(args, span);
        }
        let want = match n {
            "now_ms" => 0,
            _ => 1,
        };
        if args.len() != want {
            self.err(
                format!(
                    "`{n}` takes {want} argument{} but {} {} given",
                    if want == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
                match n {
                    "sleep_ms" => "expected `sleep_ms(milliseconds)`",
                    "exit" => "expected `exit(code)`",
                    "len" => "expected `len(array)`",
                    _ => "expected `now_ms()`",
                },
            );
            return None;
        }
        match n {
            "len" => match self.operand(&args[0])? {
                Operand::Array(r, _) => Some(Expr {
                    ty: Some(Scalar::I32),
                    kind: ExprKind::Len(r.place),
                    span,
                }),
                Operand::Value(_) => {
                    self.err(
                        "`len` takes an array",
                        args[0].span,
                        "expected the name of an array",
                    );
                    None
                }
            },
            "now_ms" => Some(Expr {
                ty: Some(Scalar::I64),
                kind: ExprKind::Builtin {
                    which: Builtin::NowMs,
                    args: Vec::new(),
                },
                span,
            }),
            _ => {
                let which = if n == "exit" {
                    Builtin::Exit
                } else {
                    Builtin::SleepMs
                };
                let what = format!("the argument of `{n}`");
                let v = self.value(&args[0])?;
                // exit(int); sleep_ms takes a long, so that a computed
                // duration is never cut to 32 bits.
                let to = if n == "exit" {
                    Scalar::I32
                } else {
                    Scalar::I64
                };
                let v = self.coerce(v, to, &what)?;
                Some(Expr {
                    ty: None,
                    kind: ExprKind::Builtin {
                        which,
                        args: vec![v],
                    },
                    span,
                })
            }
        }
    }

    /// A call of one of the C library functions of SPEC 2.2.
    pub(super) fn libc(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let n = name.name.as_str();
        let math1 = Builtin::MATH1.iter().find(|(f, _)| *f == n).map(|x| x.1);
        let math2 = Builtin::MATH2.iter().find(|(f, _)| *f == n).map(|x| x.1);
        let (params, ret, usage): (&[Scalar], Option<Scalar>, String) = if math1.is_some() {
            (&[Scalar::F64], Some(Scalar::F64), format!("{n}(x)"))
        } else if math2.is_some() {
            (
                &[Scalar::F64, Scalar::F64],
                Some(Scalar::F64),
                format!("{n}(x, y)"),
            )
        } else {
            match n {
                "abs" => (&[Scalar::I32], Some(Scalar::I32), format!("{n}(n)")),
                "labs" => (&[Scalar::I64], Some(Scalar::I64), format!("{n}(n)")),
                "rand" => (&[], Some(Scalar::I32), "rand()".into()),
                "srand" => (&[Scalar::U32], None, "srand(seed)".into()),
                "putchar" => (&[Scalar::I32], None, "putchar(c)".into()),
                _ => (&[], None, "puts(\"text\")".into()),
            }
        };
        if n == "puts" {
            // puts(s) of a char array: printf("%s\n", s).
            if let [a] = args
                && !matches!(a.kind, ast::ExprKind::Str(_))
                && let Some(found) = self.char_array(a)
            {
                return Some(puts_of(PrintArg::CharArray(found?), span));
            }
            // puts("text") prints the text and a newline: a printf.
            return match args {
                [
                    ast::Expr {
                        kind: ast::ExprKind::Str(text),
                        ..
                    },
                ] => Some(Expr {
                    ty: None,
                    kind: ExprKind::Printf {
                        pieces: vec![FmtPiece::Lit(format!("{text}\n"))],
                        args: Vec::new(),
                    },
                    span,
                }),
                [a] => {
                    let arg = self.c_string(a, "`puts` takes a string")?;
                    Some(puts_of(arg, span))
                }
                _ => {
                    self.err("`puts` takes one argument", span, "expected `puts(s)`");
                    None
                }
            };
        }
        if args.len() != params.len() {
            self.err(
                format!(
                    "`{n}` takes {} argument{} but {} {} given",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
                format!("expected `{usage}`"),
            );
            return None;
        }
        let mut vals = Vec::new();
        for (i, (a, p)) in args.iter().zip(params).enumerate() {
            let what = format!("argument {} of `{n}`", i + 1);
            let v = self.value(a).and_then(|v| self.coerce(v, *p, &what));
            vals.push(v);
        }
        let vals: Vec<Expr> = vals.into_iter().collect::<Option<_>>()?;
        if n == "putchar" {
            // putchar(c) prints one byte: a printf of `%c`.
            return Some(Expr {
                ty: None,
                kind: ExprKind::Printf {
                    pieces: vec![FmtPiece::Conv {
                        spec: "%c".into(),
                        conv: 'c',
                    }],
                    args: vals
                        .into_iter()
                        .map(|v| PrintArg::Value(cast_if(v, Scalar::I64)))
                        .collect(),
                },
                span,
            });
        }
        let which = math1.or(math2).unwrap_or(match n {
            "abs" | "labs" => Builtin::Abs,
            "rand" => Builtin::Rand,
            _ => Builtin::Srand,
        });
        Some(Expr {
            ty: ret,
            kind: ExprKind::Builtin { which, args: vals },
            span,
        })
    }

    /// A `%s` argument that is a pointer value (`char *`, any pointer).
    fn c_string(&mut self, a: &ast::Expr, msg: &str) -> Option<PrintArg> {
        let (v, p) = self.texpr(a)?;
        if p.is_none() {
            self.err(msg, a.span, "expected \"...\", a char array or a `char *`");
            return None;
        }
        Some(PrintArg::CStr(v))
    }

    /// `e` as a `char` array place: `None` if it does not name an array of
    /// `char`/`unsigned char`, `Some(None)` if naming it failed (reported).
    pub(super) fn char_array(&mut self, e: &ast::Expr) -> Option<Option<Place>> {
        use ast::ExprKind as K;
        if !matches!(e.kind, K::Var(_) | K::Old(_)) {
            return None;
        }
        let is_char = |s: Scalar| matches!(s, Scalar::I8 | Scalar::U8);
        match self.try_place(e)? {
            Some(Resolved {
                place,
                ty: PlaceTy::Array(s),
                ..
            }) if is_char(s) => Some(Some(place)),
            Some(_) => None,
            None => Some(None),
        }
    }

    pub(super) fn printf(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let Some(fmt) = args.first() else {
            self.err(
                "`printf` needs a format",
                span,
                "expected `printf(\"...\", ...)`",
            );
            return None;
        };
        let ast::ExprKind::Str(text) = &fmt.kind else {
            self.err(
                "the format of `printf` must be a string literal",
                fmt.span,
                "expected \"...\"",
            );
            return None;
        };
        let pieces = match parse_format(text) {
            Ok(p) => p,
            Err(msg) => {
                self.err(
                    format!("bad printf format: {msg}"),
                    fmt.span,
                    "supported: %d %i %u %x %X %o %c %s %f %F %e %E %g %G %a %A %% with flags, width, precision and h hh l ll z j t",
                );
                return None;
            }
        };
        let convs: Vec<(&str, char)> = pieces
            .iter()
            .filter_map(|p| match p {
                FmtPiece::Conv { spec, conv } => Some((spec.as_str(), *conv)),
                FmtPiece::Lit(_) => None,
            })
            .collect();
        let rest = &args[1..];
        let wanted: usize = convs
            .iter()
            .map(|(spec, _)| 1 + spec.matches('*').count())
            .sum();
        if wanted != rest.len() {
            self.err(
                format!(
                    "the format takes {} argument{} but {} {} given",
                    wanted,
                    if wanted == 1 { "" } else { "s" },
                    rest.len(),
                    if rest.len() == 1 { "is" } else { "are" }
                ),
                span,
                format!(
                    "expected {} argument{} after the format",
                    wanted,
                    if wanted == 1 { "" } else { "s" }
                ),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        let mut next = rest.iter().enumerate();
        for (spec, conv) in &convs {
            for _ in 0..spec.matches('*').count() {
                let (i, a) = next.next().expect("counted above");
                let argno = i + 2;
                let arg = match self.value(a) {
                    Some(v) if v.ty.is_some_and(Scalar::is_float) => {
                        self.err(
                            format!(
                                "the `*` of `{spec}` takes an int, but argument {argno} is a double"
                            ),
                            a.span,
                            "a width or precision is an int",
                        );
                        None
                    }
                    Some(v) => Some(PrintArg::Value(cast_if(
                        cast_if(v, Scalar::I32),
                        Scalar::I64,
                    ))),
                    None => None,
                };
                match arg {
                    Some(a) => out.push(a),
                    None => ok = false,
                }
            }
            let (i, a) = next.next().expect("counted above");
            let argno = i + 2;
            let arg = if *conv == 's' {
                match &a.kind {
                    ast::ExprKind::Str(s) => Some(PrintArg::Str(s.clone())),
                    _ => match self.char_array(a) {
                        Some(Some(place)) => Some(PrintArg::CharArray(place)),
                        Some(None) => None,
                        None => self.c_string(a, &format!(
                            "`{spec}` expects a string: a literal, a `char` array or a `char *`, but argument {argno} is none of them"
                        )),
                    },
                }
            } else {
                let double = "fFeEgGaA".contains(*conv);
                let want = if double { "a double" } else { "an integer" };
                if let ast::ExprKind::Str(_) = a.kind {
                    self.err(
                        format!(
                            "`{spec}` expects {want}, but argument {argno} is a string literal"
                        ),
                        a.span,
                        "use `%s` for strings",
                    );
                    None
                } else {
                    match self.value_or_pointer(a) {
                        None => None,
                        Some(v) if double == v.ty.is_some_and(Scalar::is_float) => {
                            // C's default argument promotions, then 64 bits
                            // whose low part the conversion reads as its
                            // length says (`%d` of a long prints its low
                            // 32 bits, as gcc's build does).
                            Some(PrintArg::Value(if double {
                                cast_if(v, Scalar::F64)
                            } else {
                                let t = v.ty.expect("a value").promote();
                                cast_if(cast_if(v, t), Scalar::I64)
                            }))
                        }
                        Some(v) => {
                            let have = v.ty.expect("a value").name();
                            let fix = if double {
                                "write `(double)` to convert, or use `%d`"
                            } else {
                                "write `(int)` to convert, or use `%f`"
                            };
                            self.err(
                                format!(
                                    "`{spec}` expects {want}, but argument {argno} has type {have}"
                                ),
                                a.span,
                                fix,
                            );
                            None
                        }
                    }
                }
            };
            match arg {
                Some(a) => out.push(a),
                None => ok = false,
            }
        }
        ok.then_some(Expr {
            ty: None,
            kind: ExprKind::Printf { pieces, args: out },
            span,
        })
    }
}

/// Splits a printf format into literal text and conversions, checking each
/// conversion is one UC supports:
/// `%[flags][width|*][.prec|.*][hh|h|l|ll|z|j|t]conv`.
pub fn parse_format(text: &str) -> Result<Vec<FmtPiece>, String> {
    let mut pieces = Vec::new();
    let mut lit_text = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit_text.push(c);
            continue;
        }
        if let Some('%') = chars.peek() {
            chars.next();
            lit_text.push('%');
            continue;
        }
        let mut spec = String::from("%");
        let take = |spec: &mut String,
                    chars: &mut std::iter::Peekable<std::str::Chars>,
                    f: &dyn Fn(char) -> bool| {
            while let Some(&d) = chars.peek() {
                if f(d) {
                    spec.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
        };
        take(&mut spec, &mut chars, &|f| "-+ #0".contains(f));
        if let Some('*') = chars.peek() {
            spec.push('*');
            chars.next();
        } else {
            take(&mut spec, &mut chars, &|d| d.is_ascii_digit());
        }
        if let Some('.') = chars.peek() {
            spec.push('.');
            chars.next();
            if let Some('*') = chars.peek() {
                spec.push('*');
                chars.next();
            } else {
                take(&mut spec, &mut chars, &|d| d.is_ascii_digit());
            }
        }
        let len_start = spec.len();
        take(&mut spec, &mut chars, &|d| "hlzjtL".contains(d));
        let length = spec[len_start..].to_string();
        let Some(conv) = chars.next() else {
            return Err(format!(
                "`{spec}` at the end of the format has no conversion letter"
            ));
        };
        spec.push(conv);
        let ok_len = match conv {
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                matches!(
                    length.as_str(),
                    "" | "h" | "hh" | "l" | "ll" | "z" | "j" | "t"
                )
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A' => matches!(length.as_str(), "" | "l"),
            'c' | 's' => length.is_empty(),
            'p' => return Err(format!("`{spec}`: UC has no pointers")),
            'n' => return Err(format!("`{spec}` is not supported")),
            _ => return Err(format!("`{spec}` is not a supported conversion")),
        };
        if !ok_len {
            return Err(format!(
                "`{spec}` has a length modifier UC does not support"
            ));
        }
        if !lit_text.is_empty() {
            pieces.push(FmtPiece::Lit(std::mem::take(&mut lit_text)));
        }
        pieces.push(FmtPiece::Conv { spec, conv });
    }
    if !lit_text.is_empty() {
        pieces.push(FmtPiece::Lit(lit_text));
    }
    Ok(pieces)
}

/// `puts(s)`: `printf("%s\n", s)`.
fn puts_of(arg: PrintArg, span: Span) -> Expr {
    Expr {
        ty: None,
        kind: ExprKind::Printf {
            pieces: vec![
                FmtPiece::Conv {
                    spec: "%s".into(),
                    conv: 's',
                },
                FmtPiece::Lit("\n".into()),
            ],
            args: vec![arg],
        },
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_pieces() {
        let p = parse_format("a %5d%% %-8.3lf %s\n").unwrap();
        assert_eq!(
            p,
            vec![
                FmtPiece::Lit("a ".into()),
                FmtPiece::Conv {
                    spec: "%5d".into(),
                    conv: 'd'
                },
                FmtPiece::Lit("% ".into()),
                FmtPiece::Conv {
                    spec: "%-8.3lf".into(),
                    conv: 'f'
                },
                FmtPiece::Lit(" ".into()),
                FmtPiece::Conv {
                    spec: "%s".into(),
                    conv: 's'
                },
                FmtPiece::Lit("\n".into()),
            ]
        );
        assert!(parse_format("%lld %lli %1000d %*d %.*f %hhx %zu %#o %+e %G").is_ok());
        assert!(parse_format("%y").is_err());
        assert!(parse_format("%p").is_err());
        assert!(parse_format("%Lf").is_err());
        assert!(parse_format("%").is_err());
        assert!(parse_format("%ls").is_err());
    }
}
