//! The preprocessor (SPEC 2.3): `#include "FILE"`, object-like and
//! function-like `#define` (with `#` and `##`), `#undef`, conditionals with
//! C's integer constant expressions, `#error`, `__LINE__` and `__FILE__`.
//!
//! It works on tokens, between the logos lexer and the parser: [`Lexer`]
//! walks the files of a (possibly combined, [`crate::source`]) text,
//! entering an included file's range at its `#include`, and yields the
//! tokens of the translation unit. Invariants:
//! - it never fails: a preprocessor problem is a [`Tok::Error`] token
//!   holding a [`PpError`], at the place the text was written;
//! - every span is a byte range of the text it was given (a macro's
//!   expansion carries the span of its invocation, so messages point at
//!   the use);
//! - expansion is bounded ([`MAX_EXPANSION`] tokens, [`MAX_MACRO_DEPTH`]
//!   nested invocations, [`MAX_INCLUDE_DEPTH`] nested includes), so no
//!   input makes it run out of memory or stack.
//!
//! Macro expansion follows C's rules by hide sets (Prosser's algorithm):
//! a token produced by expanding macro M never expands M again ("painted
//! blue"), arguments are fully expanded before substitution except next
//! to `#` and `##`, and the result is rescanned with the rest of the text.

use crate::lexer::{IntLit, LexError, Spanned, Tok};
use crate::source::{Table, resolve};
use logos::Logos;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;

/// Files may be nested this deep by `#include` (gcc allows 200; a UC
/// program that nests 64 deep is almost surely an include cycle).
pub const MAX_INCLUDE_DEPTH: usize = 64;
/// Macro invocations may nest this deep inside arguments.
pub const MAX_MACRO_DEPTH: usize = 200;
/// At most this many tokens are produced by macro expansion in one pass
/// (an exponential `#define A B B` / `#define B C C` chain stops here).
pub const MAX_EXPANSION: usize = 1 << 22;
/// One macro use may produce at most this many tokens.
const MAX_ONE_EXPANSION: usize = 1 << 18;
/// `#if` expressions may nest this deep.
const MAX_IF_DEPTH: usize = 200;

/// What went wrong in a preprocessor line or a macro use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PpError {
    /// `#` that does not start a line.
    StrayHash,
    /// `#include "NAME"` of a file that could not be read.
    MissingInclude {
        /// The name as written.
        name: String,
        /// Why (not found, not text, ...).
        reason: String,
    },
    /// A file that includes itself (directly or through others) without
    /// an include guard.
    RecursiveInclude {
        /// The name as written.
        name: String,
    },
    /// Includes nested deeper than [`MAX_INCLUDE_DEPTH`].
    IncludeTooDeep,
    /// `#include` not followed by `"FILE"` or `<FILE>`.
    BadInclude,
    /// `#if`, `#ifdef` or `#ifndef` without its `#endif` in the same file.
    UnterminatedIf {
        /// Which directive opened it.
        directive: String,
    },
    /// `#elif`, `#else` or `#endif` without an open `#if`.
    Unmatched {
        /// The directive.
        directive: String,
    },
    /// `#elif` or `#else` after `#else`.
    AfterElse {
        /// The directive.
        directive: String,
    },
    /// A `#if`/`#elif` expression that is not an integer constant
    /// expression.
    BadExpression {
        /// What is wrong.
        message: String,
    },
    /// `#error MESSAGE`.
    Error {
        /// The message as written.
        message: String,
    },
    /// A directive UC refuses on purpose (`#line`).
    Unsupported {
        /// Its name.
        directive: String,
    },
    /// A directive C does not have.
    Unknown {
        /// Its name.
        directive: String,
    },
    /// A malformed `#define` or `#undef`.
    BadDefine {
        /// What is wrong.
        message: String,
    },
    /// A function-like macro called with the wrong number of arguments.
    ArgCount {
        /// The macro.
        name: String,
        /// Its parameters.
        expected: usize,
        /// The arguments given.
        found: usize,
    },
    /// A function-like macro's argument list without its `)`.
    UnterminatedArgs {
        /// The macro.
        name: String,
    },
    /// `##` of two tokens that do not make one token.
    BadPaste {
        /// The text the two tokens make.
        text: String,
    },
    /// Expansion beyond [`MAX_EXPANSION`] tokens or [`MAX_MACRO_DEPTH`]
    /// nested invocations.
    TooMuchExpansion,
}

impl fmt::Display for PpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PpError::StrayHash => write!(f, "`#` must start a preprocessor line"),
            PpError::MissingInclude { name, reason } => {
                write!(f, "cannot include \"{name}\": {reason}")
            }
            PpError::RecursiveInclude { name } => write!(
                f,
                "recursive #include of \"{name}\": it is already being included (add an include guard: #ifndef X / #define X / ... #endif)"
            ),
            PpError::IncludeTooDeep => {
                write!(f, "#include nested deeper than {MAX_INCLUDE_DEPTH} files")
            }
            PpError::BadInclude => write!(f, "#include expects \"FILE\" or <FILE>"),
            PpError::UnterminatedIf { directive } => {
                write!(
                    f,
                    "unterminated #{directive}: no #endif before the end of the file"
                )
            }
            PpError::Unmatched { directive } => write!(f, "#{directive} without #if"),
            PpError::AfterElse { directive } => write!(f, "#{directive} after #else"),
            PpError::BadExpression { message } => write!(f, "bad #if expression: {message}"),
            PpError::Error { message } => write!(f, "#error {message}"),
            PpError::Unsupported { directive } => {
                write!(f, "`#{directive}` is not supported in UC")
            }
            PpError::Unknown { directive } => {
                write!(f, "`#{directive}` is not a preprocessor directive")
            }
            PpError::BadDefine { message } => write!(f, "{message}"),
            PpError::ArgCount {
                name,
                expected,
                found,
            } => write!(
                f,
                "macro `{name}` takes {expected} argument{}, but {found} {} given",
                if *expected == 1 { "" } else { "s" },
                if *found == 1 { "was" } else { "were" }
            ),
            PpError::UnterminatedArgs { name } => write!(
                f,
                "unterminated argument list of macro `{name}` (missing `)`)"
            ),
            PpError::BadPaste { text } => write!(f, "`##` makes `{text}`, which is not one token"),
            PpError::TooMuchExpansion => write!(
                f,
                "macro expansion too large (more than {MAX_EXPANSION} tokens in all, {MAX_ONE_EXPANSION} from one use, or {MAX_MACRO_DEPTH} nested uses)"
            ),
        }
    }
}

impl PpError {
    /// The short text under the caret.
    pub fn label(&self) -> &'static str {
        match self {
            PpError::Error { .. } => "#error here",
            PpError::MissingInclude { .. }
            | PpError::RecursiveInclude { .. }
            | PpError::IncludeTooDeep => "included here",
            PpError::UnterminatedIf { .. } => "opened here",
            PpError::BadExpression { .. } => "in this #if",
            PpError::ArgCount { .. } | PpError::UnterminatedArgs { .. } => "in this macro use",
            _ => "not valid UC here",
        }
    }
}

/// How a token is spelled (for `#` and `##`).
#[derive(Clone, Debug)]
enum Spell {
    /// A byte range of the text.
    Src(usize, usize),
    /// Made by the preprocessor.
    Own(Rc<str>),
}

/// A preprocessing token.
#[derive(Clone, Debug)]
struct PTok {
    tok: Tok,
    /// Where it is reported (its own place, or its macro use's).
    span: (usize, usize),
    spell: Spell,
    /// White space came before it (for `#`).
    space: bool,
    /// The macros it was produced by (never expanded in it again).
    hide: Vec<u32>,
}

/// One element of a macro's replacement list.
#[derive(Clone, Debug)]
enum Body {
    Tok(PTok),
    Param(usize),
    /// `#param`
    Str(usize),
    /// `##`
    Paste,
}

#[derive(Clone, Debug)]
struct Macro {
    id: u32,
    /// `None`: object-like.
    params: Option<Vec<String>>,
    variadic: bool,
    body: Vec<Body>,
}

#[derive(Clone, Debug)]
struct Cond {
    directive: &'static str,
    at: (usize, usize),
    /// This group's tokens are being kept.
    taking: bool,
    /// Some group of this `#if` was (or, when nested in a skipped group,
    /// counts as) taken, so later `#elif`/`#else` groups are skipped.
    done: bool,
    seen_else: bool,
}

struct Frame<'src> {
    file: usize,
    base: usize,
    lex: logos::SpannedIter<'src, Tok>,
    peeked: Option<(Result<Tok, LexError>, usize, usize)>,
    /// End of the previous token (absolute), `None` at the start.
    prev_end: Option<usize>,
    conds: Vec<Cond>,
}

/// The token stream of a source text, preprocessed. Works on one file, or
/// on the combined text of a program of several ([`crate::source`]).
pub struct Lexer<'src> {
    text: &'src str,
    main: String,
    table: Table,
    frames: Vec<Frame<'src>>,
    pending: VecDeque<PTok>,
    errors: VecDeque<(usize, Tok, usize)>,
    macros: HashMap<String, Macro>,
    ids: HashMap<String, u32>,
    once: HashSet<usize>,
    expanded: usize,
    /// Drop preprocessor errors instead of yielding error tokens (the
    /// parser's run, when a separate pass reports them).
    quiet: bool,
    line_cache: (usize, usize, usize),
    /// Marks the names `typedef` declares in the output.
    typedefs: crate::typedefs::Tracker,
}

enum Input<'q> {
    /// The program text (pending tokens first), not leaving files below
    /// this many open ones.
    Main(usize),
    /// A token list being expanded on its own (a macro argument, a `#if`).
    List(&'q mut VecDeque<PTok>),
}

impl<'src> Lexer<'src> {
    /// Preprocesses `src`, whose main file is shown as `file` (for
    /// `__FILE__`).
    pub fn with_file(file: &str, src: &'src str) -> Self {
        let table = Table::of(src);
        let main = table.files[0].content.clone();
        let mut lx = Lexer {
            text: src,
            main: file.to_string(),
            table,
            frames: Vec::new(),
            pending: VecDeque::new(),
            errors: VecDeque::new(),
            macros: HashMap::new(),
            ids: HashMap::new(),
            once: HashSet::new(),
            expanded: 0,
            quiet: false,
            line_cache: (usize::MAX, 0, 1),
            typedefs: Default::default(),
        };
        lx.push_frame(0, main);
        lx
    }

    /// Preprocesses `src` (a file without a name).
    pub fn new(src: &'src str) -> Self {
        Self::with_file("", src)
    }

    /// The same stream with preprocessor errors dropped silently.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    fn push_frame(&mut self, file: usize, range: std::ops::Range<usize>) {
        self.frames.push(Frame {
            file,
            base: range.start,
            lex: Tok::lexer(&self.text[range]).spanned(),
            peeked: None,
            prev_end: None,
            conds: Vec::new(),
        });
    }

    fn error(&mut self, e: PpError, at: (usize, usize)) {
        self.errors
            .push_back((at.0, Tok::Error(LexError::Preprocessor(e)), at.1));
    }

    /// The next token of the text, directives carried out and skipped
    /// groups skipped; `None` at the end of the file open at depth
    /// `floor` (or of the text, with `floor` 0).
    fn next_source(&mut self, floor: usize) -> Option<PTok> {
        loop {
            let frame = self.frames.last_mut()?;
            let raw = match frame.peeked.take() {
                Some(r) => Some(r),
                None => frame.lex.next().map(|(r, sp)| {
                    let (start, mut end) = (frame.base + sp.start, frame.base + sp.end);
                    match &r {
                        Err(LexError::UnterminatedComment) => end = start + 2,
                        Err(LexError::UnterminatedString) => end = start + 1,
                        _ => {}
                    }
                    (r, start, end)
                }),
            };
            let Some((r, start, end)) = raw else {
                if let Some(c) = frame.conds.first().cloned() {
                    frame.conds.clear();
                    self.error(
                        PpError::UnterminatedIf {
                            directive: c.directive.into(),
                        },
                        c.at,
                    );
                }
                if self.frames.len() <= floor.max(1) {
                    if floor == 0 {
                        self.frames.pop();
                    }
                    return None;
                }
                self.frames.pop();
                continue;
            };
            let line_start = match frame.prev_end {
                None => true,
                Some(p) => self.text[p.min(start)..start].contains('\n'),
            };
            let space = frame.prev_end.is_none_or(|p| p < start);
            frame.prev_end = Some(end);
            let skipping = frame.conds.last().is_some_and(|c| !c.taking);
            let tok = match r {
                Ok(Tok::Directive(_)) if line_start => {
                    self.directive(start, end, skipping);
                    continue;
                }
                _ if skipping => continue,
                Ok(Tok::Directive(_)) => {
                    self.error(PpError::StrayHash, (start, start + 1));
                    continue;
                }
                Ok(t) => t,
                Err(e) => Tok::Error(e),
            };
            return Some(PTok {
                tok,
                span: (start, end),
                spell: Spell::Src(start, end),
                space,
                hide: Vec::new(),
            });
        }
    }

    fn read(&mut self, input: &mut Input<'_>) -> Option<PTok> {
        match input {
            Input::Main(floor) => match self.pending.pop_front() {
                Some(t) => Some(t),
                None => self.next_source(*floor),
            },
            Input::List(q) => q.pop_front(),
        }
    }

    fn unread(&mut self, input: &mut Input<'_>, t: PTok) {
        match input {
            Input::Main(_) => self.pending.push_front(t),
            Input::List(q) => q.push_front(t),
        }
    }

    fn push_front(&mut self, input: &mut Input<'_>, toks: Vec<PTok>) {
        let q = match input {
            Input::Main(_) => &mut self.pending,
            Input::List(q) => q,
        };
        for t in toks.into_iter().rev() {
            q.push_front(t);
        }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        let file = self.table.at(offset);
        let start = self.table.files[file].content.start;
        let (cf, co, cl) = self.line_cache;
        let (from, line) = if cf == file && co <= offset {
            (co, cl)
        } else {
            (start, 1)
        };
        let end = offset.min(self.text.len()).max(from);
        let line = line
            + self.text.as_bytes()[from..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
        self.line_cache = (file, end, line);
        line
    }

    /// Expands `t` if it is a macro use: `Ok(None)` when its expansion was
    /// pushed back onto `input`, else the token to pass on.
    fn try_expand(&mut self, t: PTok, input: &mut Input<'_>, depth: usize) -> Option<PTok> {
        let Tok::Ident(name) = &t.tok else {
            return Some(t);
        };
        let Some(m) = self.macros.get(name) else {
            return match name.as_str() {
                "__LINE__" => {
                    let line = self.line_of(t.span.0);
                    Some(made(
                        Tok::IntLit(IntLit::int(line as i64)),
                        &line.to_string(),
                        &t,
                    ))
                }
                "__FILE__" => {
                    let f = self.table.display(&self.main, self.table.at(t.span.0));
                    let spelled = format!("\"{}\"", escape(&f));
                    Some(made(Tok::Str(f), &spelled, &t))
                }
                _ => Some(t),
            };
        };
        if t.hide.contains(&m.id) {
            return Some(t);
        }
        if depth > MAX_MACRO_DEPTH || self.expanded > MAX_EXPANSION {
            if self.expanded <= MAX_EXPANSION {
                self.expanded = MAX_EXPANSION + 1;
            }
            self.error(PpError::TooMuchExpansion, t.span);
            return Some(t);
        }
        let m = m.clone();
        let name = name.clone();
        let Some(params) = &m.params else {
            let mut hide = t.hide.clone();
            hide.push(m.id);
            let out = self.substitute(&m, &[], &hide, t.span, depth);
            self.push_front(input, out);
            return None;
        };
        // A function-like macro is used only when `(` follows.
        let Some(next) = self.read(input) else {
            return Some(t);
        };
        if next.tok != Tok::LParen {
            self.unread(input, next);
            return Some(t);
        }
        let mut args: Vec<Vec<PTok>> = vec![Vec::new()];
        let mut level = 0usize;
        let close = loop {
            let Some(a) = self.read(input) else {
                self.error(PpError::UnterminatedArgs { name }, t.span);
                return None;
            };
            match a.tok {
                Tok::LParen => level += 1,
                Tok::RParen if level == 0 => break a,
                Tok::RParen => level -= 1,
                Tok::Comma if level == 0 && !(m.variadic && args.len() == params.len()) => {
                    args.push(Vec::new());
                    continue;
                }
                _ => {}
            }
            args.last_mut().expect("one list at least").push(a);
        };
        let span = (t.span.0, close.span.1.max(t.span.0));
        if params.is_empty() && args.len() == 1 && args[0].is_empty() {
            args.clear();
        }
        if m.variadic && args.len() + 1 == params.len() {
            args.push(Vec::new());
        }
        if args.len() != params.len() {
            self.error(
                PpError::ArgCount {
                    name,
                    expected: params.len(),
                    found: args.len(),
                },
                span,
            );
            return None;
        }
        let mut hide: Vec<u32> = t
            .hide
            .iter()
            .copied()
            .filter(|h| close.hide.contains(h))
            .collect();
        hide.push(m.id);
        let out = self.substitute(&m, &args, &hide, span, depth);
        self.push_front(input, out);
        None
    }

    /// `toks` fully macro-expanded on their own.
    fn expand_list(&mut self, toks: Vec<PTok>, depth: usize) -> Vec<PTok> {
        let mut q: VecDeque<PTok> = toks.into();
        let mut out = Vec::new();
        while let Some(t) = q.pop_front() {
            if let Some(t) = self.try_expand(t, &mut Input::List(&mut q), depth + 1) {
                out.push(t);
            }
        }
        out
    }

    /// A macro's replacement with its arguments in place, `#` and `##`
    /// done, every token hidden from `hide` and reported at `span`.
    fn substitute(
        &mut self,
        m: &Macro,
        args: &[Vec<PTok>],
        hide: &[u32],
        span: (usize, usize),
        depth: usize,
    ) -> Vec<PTok> {
        let mut expanded: HashMap<usize, Vec<PTok>> = HashMap::new();
        // `None` is a placemarker: an empty argument next to `##`.
        let mut out: Vec<Option<PTok>> = Vec::new();
        let mut paste = false;
        for (k, item) in m.body.iter().enumerate() {
            let before_paste = matches!(m.body.get(k + 1), Some(Body::Paste));
            let toks: Vec<Option<PTok>> = match item {
                Body::Paste => {
                    paste = true;
                    continue;
                }
                Body::Tok(t) => vec![Some(t.clone())],
                Body::Param(p) if before_paste || paste => {
                    if args[*p].is_empty() {
                        vec![None]
                    } else {
                        args[*p].iter().cloned().map(Some).collect()
                    }
                }
                Body::Param(p) => {
                    if !expanded.contains_key(p) {
                        let e = self.expand_list(args[*p].clone(), depth);
                        expanded.insert(*p, e);
                    }
                    expanded[p].iter().cloned().map(Some).collect()
                }
                Body::Str(p) => vec![Some(self.stringize(&args[*p], span))],
            };
            let mut toks = toks.into_iter();
            if std::mem::take(&mut paste) {
                let left = out.pop().flatten();
                let right = toks.next().flatten();
                let joined = match (left, right) {
                    (None, r) => r,
                    (l, None) => l,
                    (Some(l), Some(r)) => self.paste(&l, &r, span),
                };
                out.push(joined);
            }
            out.extend(toks);
            if out.len() > MAX_ONE_EXPANSION {
                self.error(PpError::TooMuchExpansion, span);
                self.expanded = MAX_EXPANSION + 1;
                return Vec::new();
            }
        }
        self.expanded += out.len();
        out.into_iter()
            .flatten()
            .map(|mut t| {
                t.span = span;
                for h in hide {
                    if !t.hide.contains(h) {
                        t.hide.push(*h);
                    }
                }
                t
            })
            .collect()
    }

    fn spelling(&self, t: &PTok) -> String {
        match &t.spell {
            Spell::Src(a, b) => self.text[*a..*b].to_string(),
            Spell::Own(s) => s.to_string(),
        }
    }

    fn stringize(&self, arg: &[PTok], span: (usize, usize)) -> PTok {
        let mut s = String::new();
        for (i, t) in arg.iter().enumerate() {
            if i > 0 && t.space {
                s.push(' ');
            }
            let sp = self.spelling(t);
            if sp.starts_with(['"', '\'']) {
                s.push_str(&escape(&sp));
            } else {
                s.push_str(&sp);
            }
        }
        let spelled = format!("\"{}\"", escape(&s));
        PTok {
            tok: Tok::Str(s),
            span,
            spell: Spell::Own(spelled.into()),
            space: true,
            hide: Vec::new(),
        }
    }

    fn paste(&mut self, l: &PTok, r: &PTok, span: (usize, usize)) -> Option<PTok> {
        let text = format!("{}{}", self.spelling(l), self.spelling(r));
        let mut lex = Tok::lexer(&text).spanned();
        match (lex.next(), lex.next()) {
            (Some((Ok(tok), sp)), None)
                if sp == (0..text.len()) && !matches!(tok, Tok::Directive(_)) =>
            {
                Some(PTok {
                    tok,
                    span: l.span,
                    spell: Spell::Own(text.into()),
                    space: l.space,
                    hide: l.hide.clone(),
                })
            }
            _ => {
                self.error(PpError::BadPaste { text }, span);
                None
            }
        }
    }

    // ---- directives ----

    /// Carries out the directive whose token is `start..end`.
    fn directive(&mut self, start: usize, end: usize, skipping: bool) {
        // Line splices become spaces of the same length, so offsets into
        // the cleaned line are offsets into the text.
        let line = self.text[start..end]
            .replace("\\\r\n", "   ")
            .replace("\\\n", "  ");
        let after_hash = 1 + (line.len() - 1 - line[1..].trim_start().len());
        let word_len = line[after_hash..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(line.len() - after_hash);
        let word = &line[after_hash..after_hash + word_len];
        let word_at = (start, start + after_hash + word_len);
        let rest_off = after_hash + word_len;
        let rest = &line[rest_off..];
        let rest_at = start + rest_off;
        let frame = self.frames.len() - 1;
        match word {
            "if" | "ifdef" | "ifndef" => {
                let directive = match word {
                    "if" => "if",
                    "ifdef" => "ifdef",
                    _ => "ifndef",
                };
                let taking = !skipping && self.condition(word, rest, rest_at, word_at);
                self.frames[frame].conds.push(Cond {
                    directive,
                    at: word_at,
                    taking,
                    done: taking || skipping,
                    seen_else: false,
                });
            }
            "elif" | "else" => {
                let directive = if word == "elif" { "elif" } else { "else" };
                let Some(c) = self.frames[frame].conds.last().cloned() else {
                    self.error(
                        PpError::Unmatched {
                            directive: directive.into(),
                        },
                        word_at,
                    );
                    return;
                };
                if c.seen_else {
                    self.error(
                        PpError::AfterElse {
                            directive: directive.into(),
                        },
                        word_at,
                    );
                }
                let taking =
                    !c.done && (word == "else" || self.condition("if", rest, rest_at, word_at));
                let c2 = self.frames[frame].conds.last_mut().expect("checked");
                c2.taking = taking;
                c2.done |= taking;
                c2.seen_else |= word == "else";
            }
            "endif" => {
                if self.frames[frame].conds.pop().is_none() {
                    self.error(
                        PpError::Unmatched {
                            directive: "endif".into(),
                        },
                        word_at,
                    );
                }
            }
            _ if skipping => {}
            "" if rest.trim().is_empty() => {}
            "" => self.error(
                PpError::Unknown {
                    directive: rest.trim().chars().take(12).collect(),
                },
                (start, end),
            ),
            "include" => self.include(rest, rest_at, word_at),
            "define" => self.define(rest, rest_at),
            "undef" => match first_ident(rest) {
                Some((name, _)) => {
                    self.macros.remove(name);
                }
                None => self.error(
                    PpError::BadDefine {
                        message: "`#undef` needs a macro name".into(),
                    },
                    word_at,
                ),
            },
            "error" => self.error(
                PpError::Error {
                    message: rest.trim().to_string(),
                },
                (start, end),
            ),
            "pragma" => {
                if rest.trim() == "once" {
                    let f = self.frames[frame].file;
                    self.once.insert(f);
                }
            }
            "warning" | "ident" | "sccs" => {}
            "line" => self.error(
                PpError::Unsupported {
                    directive: "line".into(),
                },
                word_at,
            ),
            other => self.error(
                PpError::Unknown {
                    directive: other.to_string(),
                },
                word_at,
            ),
        }
    }

    fn include(&mut self, rest: &str, rest_at: usize, word_at: (usize, usize)) {
        let trimmed = rest.trim_start();
        let at = rest_at + (rest.len() - trimmed.len());
        if let Some(inner) = trimmed.strip_prefix('<') {
            match inner.find('>') {
                None => self.error(PpError::BadInclude, word_at),
                Some(e) => self.standard_header(&inner[..e], at),
            }
            return;
        }
        let name = trimmed
            .strip_prefix('"')
            .and_then(|s| s.find('"').map(|e| &s[..e]))
            .filter(|n| !n.is_empty());
        let Some(name) = name else {
            self.error(PpError::BadInclude, (word_at.0, at + trimmed.len().max(1)));
            return;
        };
        let span = (at, at + name.len() + 2);
        let from = &self.table.files[self.frames.last().expect("in a file").file].rel;
        let rel = resolve(from, name);
        let i = match self.table.find(&rel) {
            Some(i) if self.table.files[i].missing.is_none() => i,
            found => {
                let reason = match found {
                    Some(i) => self.table.files[i].missing.clone().unwrap_or_default(),
                    None => format!(
                        "{} is not among the program's files (it was not found when the program was read)",
                        crate::source::display_name(&self.main, &rel)
                    ),
                };
                self.error(
                    PpError::MissingInclude {
                        name: name.into(),
                        reason,
                    },
                    span,
                );
                return;
            }
        };
        if self.once.contains(&i) {
            return;
        }
        if self.frames.len() >= MAX_INCLUDE_DEPTH {
            self.error(PpError::IncludeTooDeep, span);
            return;
        }
        // A guarded header may be entered again while it is open (its
        // guard then skips it); a third time means a cycle that nothing
        // stops.
        if self.frames.iter().filter(|f| f.file == i).count() >= 2 {
            self.error(PpError::RecursiveInclude { name: name.into() }, span);
            return;
        }
        let range = self.table.files[i].content.clone();
        self.push_frame(i, range);
    }

    /// `#include <H>`: the header's text is UC's own (its functions are
    /// builtins), but its object-like macros are defined here, as glibc's
    /// headers define them, unless the program defined them first.
    fn standard_header(&mut self, header: &str, at: usize) {
        const NULL: (&str, &str) = ("NULL", "((void *)0)");
        let macros: &[(&str, &str)] = match header.trim() {
            "stddef.h" | "string.h" | "time.h" | "locale.h" | "wchar.h" => &[NULL],
            "stdio.h" => &[NULL, ("EOF", "(-1)")],
            "stdlib.h" => &[
                NULL,
                ("EXIT_SUCCESS", "0"),
                ("EXIT_FAILURE", "1"),
                ("RAND_MAX", "2147483647"),
            ],
            "stdbool.h" => &[("bool", "_Bool"), ("true", "1"), ("false", "0")],
            "limits.h" => &[
                ("CHAR_BIT", "8"),
                ("SCHAR_MIN", "(-128)"),
                ("SCHAR_MAX", "127"),
                ("UCHAR_MAX", "255"),
                ("CHAR_MIN", "(-128)"),
                ("CHAR_MAX", "127"),
                ("SHRT_MIN", "(-32768)"),
                ("SHRT_MAX", "32767"),
                ("USHRT_MAX", "65535"),
                ("INT_MIN", "(-2147483647 - 1)"),
                ("INT_MAX", "2147483647"),
                ("UINT_MAX", "4294967295U"),
                ("LONG_MIN", "(-9223372036854775807L - 1L)"),
                ("LONG_MAX", "9223372036854775807L"),
                ("ULONG_MAX", "18446744073709551615UL"),
                ("LLONG_MIN", "(-9223372036854775807LL - 1LL)"),
                ("LLONG_MAX", "9223372036854775807LL"),
                ("ULLONG_MAX", "18446744073709551615ULL"),
            ],
            _ => &[],
        };
        for (name, body) in macros {
            if !self.macros.contains_key(*name) {
                // The body's spans point at the `#include`, which is where a
                // (never expected) problem in it would be shown.
                self.define(&format!("{name} {body}"), at);
            }
        }
    }

    fn define(&mut self, rest: &str, rest_at: usize) {
        let bad = |m: &str| PpError::BadDefine { message: m.into() };
        let lead = rest.len() - rest.trim_start().len();
        let r = &rest[lead..];
        let name_len = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        let name = &r[..name_len];
        let name_at = (rest_at + lead, rest_at + lead + name_len.max(1));
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            self.error(bad("`#define` needs a macro name"), name_at);
            return;
        }
        if name == "defined" {
            self.error(bad("`defined` cannot be a macro name"), name_at);
            return;
        }
        let mut pos = lead + name_len;
        let mut params = None;
        let mut variadic = false;
        if rest[pos..].starts_with('(') {
            let Some(close) = rest[pos..].find(')') else {
                self.error(bad("missing `)` in the macro's parameter list"), name_at);
                return;
            };
            let mut list = Vec::new();
            let inner = &rest[pos + 1..pos + close];
            if !inner.trim().is_empty() {
                for p in inner.split(',') {
                    let p = p.trim();
                    if variadic {
                        self.error(bad("`...` must be the last parameter"), name_at);
                        return;
                    }
                    if p == "..." {
                        variadic = true;
                        list.push("__VA_ARGS__".to_string());
                    } else if is_ident(p) && !list.iter().any(|q| q == p) {
                        list.push(p.to_string());
                    } else {
                        self.error(
                            bad(&format!(
                                "`{p}` is not a parameter name (or is given twice)"
                            )),
                            name_at,
                        );
                        return;
                    }
                }
            }
            params = Some(list);
            pos += close + 1;
        }
        let body_text = &rest[pos..];
        let body_at = rest_at + pos;
        let Some(body) = self.body(body_text, body_at, params.as_deref(), name_at) else {
            return;
        };
        let next = self.ids.len() as u32;
        let id = *self.ids.entry(name.to_string()).or_insert(next);
        self.macros.insert(
            name.to_string(),
            Macro {
                id,
                params,
                variadic,
                body,
            },
        );
    }

    /// A replacement list, `#` and `##` marked; `None` after an error.
    fn body(
        &mut self,
        text: &str,
        at: usize,
        params: Option<&[String]>,
        name_at: (usize, usize),
    ) -> Option<Vec<Body>> {
        let bad = |m: &str| PpError::BadDefine { message: m.into() };
        let mut items = Vec::new();
        let mut hash_at: Vec<usize> = Vec::new(); // indices of `#` items
        let mut pos = 0;
        let mut prev_end = 0;
        'chunks: while pos < text.len() {
            for (r, sp) in Tok::lexer(&text[pos..]).spanned() {
                let (s, e) = (pos + sp.start, pos + sp.end);
                let space = s > prev_end;
                prev_end = e;
                match r {
                    Ok(Tok::Directive(_)) => {
                        if text[s..].starts_with("##") {
                            items.push(Body::Paste);
                            pos = s + 2;
                        } else {
                            hash_at.push(items.len());
                            items.push(Body::Paste); // replaced below
                            pos = s + 1;
                        }
                        prev_end = pos;
                        continue 'chunks;
                    }
                    Ok(tok) => {
                        let param = match (&tok, params) {
                            (Tok::Ident(n), Some(ps)) => ps.iter().position(|p| p == n),
                            _ => None,
                        };
                        items.push(match param {
                            Some(p) => Body::Param(p),
                            None => Body::Tok(PTok {
                                tok,
                                span: (at + s, at + e),
                                spell: Spell::Src(at + s, at + e),
                                space,
                                hide: Vec::new(),
                            }),
                        });
                    }
                    Err(err) => {
                        self.errors.push_back((
                            at + s,
                            Tok::Error(LexError::Preprocessor(bad(&format!(
                                "in the replacement of the macro: {err}"
                            )))),
                            at + e,
                        ));
                        return None;
                    }
                }
            }
            break;
        }
        // `#` then a parameter: stringizing (function-like macros only).
        for &h in hash_at.iter().rev() {
            match (params, items.get(h + 1)) {
                (Some(_), Some(Body::Param(p))) => {
                    let p = *p;
                    items.splice(h..h + 2, [Body::Str(p)]);
                }
                _ => {
                    self.error(
                        bad("`#` in a macro's replacement must be followed by a parameter of a function-like macro"),
                        name_at,
                    );
                    return None;
                }
            }
        }
        if matches!(items.first(), Some(Body::Paste)) || matches!(items.last(), Some(Body::Paste)) {
            self.error(
                bad("`##` cannot start or end a macro's replacement"),
                name_at,
            );
            return None;
        }
        Some(items)
    }

    /// Evaluates the condition of `#if`/`#elif` (`word` "if"), `#ifdef` or
    /// `#ifndef`; a bad one is reported and counts as false.
    fn condition(
        &mut self,
        word: &str,
        rest: &str,
        rest_at: usize,
        word_at: (usize, usize),
    ) -> bool {
        if word != "if" {
            return match first_ident(rest) {
                Some((n, _)) => self.macros.contains_key(n) == (word == "ifdef"),
                None => {
                    self.error(
                        PpError::BadExpression {
                            message: format!("#{word} needs a macro name"),
                        },
                        word_at,
                    );
                    false
                }
            };
        }
        // Tokens, with `defined X` / `defined(X)` decided before expansion.
        let mut toks = Vec::new();
        for (r, sp) in Tok::lexer(rest).spanned() {
            let span = (rest_at + sp.start, rest_at + sp.end);
            match r {
                Ok(tok) => toks.push(PTok {
                    tok,
                    span,
                    spell: Spell::Src(span.0, span.1),
                    space: true,
                    hide: Vec::new(),
                }),
                Err(e) => {
                    self.error(
                        PpError::BadExpression {
                            message: e.to_string(),
                        },
                        span,
                    );
                    return false;
                }
            }
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if matches!(&toks[i].tok, Tok::Ident(n) if n == "defined") {
                let (name, next) = match toks.get(i + 1).map(|t| &t.tok) {
                    Some(Tok::Ident(n)) => (Some(n.clone()), i + 2),
                    Some(Tok::LParen) => match (
                        toks.get(i + 2).map(|t| &t.tok),
                        toks.get(i + 3).map(|t| &t.tok),
                    ) {
                        (Some(Tok::Ident(n)), Some(Tok::RParen)) => (Some(n.clone()), i + 4),
                        _ => (None, i),
                    },
                    _ => (None, i),
                };
                let Some(name) = name else {
                    self.error(
                        PpError::BadExpression {
                            message: "`defined` needs a macro name".into(),
                        },
                        toks[i].span,
                    );
                    return false;
                };
                let v = self.macros.contains_key(&name) as i64;
                let mut t = toks[i].clone();
                t.tok = Tok::IntLit(IntLit::int(v));
                out.push(t);
                i = next;
            } else {
                out.push(toks[i].clone());
                i += 1;
            }
        }
        let toks = self.expand_list(out, 0);
        let whole = (word_at.0, rest_at + rest.trim_end().len());
        let mut ev = Eval {
            toks: &toks,
            at: 0,
            depth: 0,
            end: whole,
        };
        match ev.ternary(true).and_then(|v| {
            if ev.at < toks.len() {
                Err((
                    format!("unexpected {} after the expression", toks[ev.at].tok),
                    toks[ev.at].span,
                ))
            } else {
                Ok(v)
            }
        }) {
            Ok(v) => v.0 != 0,
            Err((message, span)) => {
                self.error(PpError::BadExpression { message }, span);
                false
            }
        }
    }
}

fn made(tok: Tok, spelled: &str, like: &PTok) -> PTok {
    PTok {
        tok,
        span: like.span,
        spell: Spell::Own(spelled.into()),
        space: like.space,
        hide: like.hide.clone(),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The first identifier of `s`, and its offset.
fn first_ident(s: &str) -> Option<(&str, usize)> {
    let t = s.trim_start();
    let off = s.len() - t.len();
    let len = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(t.len());
    is_ident(&t[..len]).then(|| (&t[..len], off))
}

/// A `#if` value: C's `intmax_t` or, when unsigned, `uintmax_t`.
type Val = (i64, bool);
type EvalResult = Result<Val, (String, (usize, usize))>;

/// C's integer constant expressions over a `#if`'s expanded tokens.
/// `live` is false in an operand that is not evaluated (`0 && 1/0`).
struct Eval<'t> {
    toks: &'t [PTok],
    at: usize,
    depth: usize,
    end: (usize, usize),
}

impl Eval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }

    fn here(&self) -> (usize, usize) {
        self.toks.get(self.at).map_or(self.end, |t| t.span)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, (String, (usize, usize))> {
        Err((message.into(), self.here()))
    }

    fn ternary(&mut self, live: bool) -> EvalResult {
        self.depth += 1;
        if self.depth > MAX_IF_DEPTH {
            return self.fail("nested too deeply");
        }
        let c = self.binary(0, live)?;
        let v = if self.peek() == Some(&Tok::Question) {
            self.at += 1;
            let a = self.ternary(live && c.0 != 0)?;
            if self.peek() != Some(&Tok::Colon) {
                return self.fail("expected `:` of `?:`");
            }
            self.at += 1;
            let b = self.ternary(live && c.0 == 0)?;
            let u = a.1 || b.1;
            (if c.0 != 0 { a.0 } else { b.0 }, u)
        } else {
            c
        };
        self.depth -= 1;
        Ok(v)
    }

    fn prec(t: &Tok) -> Option<u8> {
        Some(match t {
            Tok::OrOr => 1,
            Tok::AndAnd => 2,
            Tok::Pipe => 3,
            Tok::Caret => 4,
            Tok::Amp => 5,
            Tok::EqEq | Tok::NotEq => 6,
            Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => 7,
            Tok::Shl | Tok::Shr => 8,
            Tok::Plus | Tok::Minus => 9,
            Tok::Star | Tok::Slash | Tok::Percent => 10,
            _ => return None,
        })
    }

    fn binary(&mut self, min: u8, live: bool) -> EvalResult {
        let mut l = self.unary(live)?;
        while let Some(op) = self.peek().cloned() {
            let Some(p) = Self::prec(&op) else { break };
            if p <= min {
                break;
            }
            let op_at = self.here();
            self.at += 1;
            let r_live = match op {
                Tok::AndAnd => live && l.0 != 0,
                Tok::OrOr => live && l.0 == 0,
                _ => live,
            };
            let r = self.binary(p, r_live)?;
            let u = l.1 || r.1;
            let (a, b) = (l.0, r.0);
            let bool_ = |x: bool| (x as i64, false);
            l = match op {
                Tok::OrOr => bool_(a != 0 || b != 0),
                Tok::AndAnd => bool_(a != 0 && b != 0),
                Tok::Pipe => (a | b, u),
                Tok::Caret => (a ^ b, u),
                Tok::Amp => (a & b, u),
                Tok::EqEq => bool_(a == b),
                Tok::NotEq => bool_(a != b),
                Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => {
                    let ord = if u {
                        (a as u64).cmp(&(b as u64))
                    } else {
                        a.cmp(&b)
                    };
                    bool_(match op {
                        Tok::Lt => ord.is_lt(),
                        Tok::Le => ord.is_le(),
                        Tok::Gt => ord.is_gt(),
                        _ => ord.is_ge(),
                    })
                }
                Tok::Shl => (a.wrapping_shl(b as u32 & 63), l.1),
                Tok::Shr if l.1 => (((a as u64) >> (b as u32 & 63)) as i64, true),
                Tok::Shr => (a.wrapping_shr(b as u32 & 63), false),
                Tok::Plus => (a.wrapping_add(b), u),
                Tok::Minus => (a.wrapping_sub(b), u),
                Tok::Star => (a.wrapping_mul(b), u),
                Tok::Slash | Tok::Percent => {
                    if b == 0 {
                        if live {
                            return Err(("division by zero".into(), op_at));
                        }
                        (0, u)
                    } else if u {
                        let (x, y) = (a as u64, b as u64);
                        ((if op == Tok::Slash { x / y } else { x % y }) as i64, true)
                    } else if op == Tok::Slash {
                        (a.wrapping_div(b), false)
                    } else {
                        (a.wrapping_rem(b), false)
                    }
                }
                _ => unreachable!("prec() knows only these"),
            };
        }
        Ok(l)
    }

    fn unary(&mut self, live: bool) -> EvalResult {
        // Prefix operators are gathered in a loop (no recursion per `-`).
        let mut ops = Vec::new();
        while let Some(op @ (Tok::Plus | Tok::Minus | Tok::Tilde | Tok::Bang)) = self.peek() {
            ops.push(op.clone());
            self.at += 1;
        }
        let mut v = self.primary(live)?;
        for op in ops.iter().rev() {
            v = match op {
                Tok::Minus => (v.0.wrapping_neg(), v.1),
                Tok::Tilde => (!v.0, v.1),
                Tok::Bang => ((v.0 == 0) as i64, false),
                _ => v,
            };
        }
        Ok(v)
    }

    fn primary(&mut self, live: bool) -> EvalResult {
        let Some(t) = self.peek().cloned() else {
            return self.fail("expected a value");
        };
        self.at += 1;
        match t {
            Tok::LParen => {
                let v = self.ternary(live)?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.fail("expected `)`");
                }
                self.at += 1;
                Ok(v)
            }
            Tok::IntLit(v) => Ok((v.value, v.unsigned)),
            // An identifier left after expansion (a keyword too) is 0.
            Tok::Ident(_) | Tok::Unsupported(_) => Ok((0, false)),
            t if t.is_keyword() => Ok((0, false)),
            Tok::DoubleLit(_) => {
                self.at -= 1;
                self.fail("a floating-point number is not an integer constant")
            }
            Tok::Str(_) => {
                self.at -= 1;
                self.fail("a string is not an integer constant")
            }
            other => {
                self.at -= 1;
                self.fail(format!("unexpected {other}"))
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Spanned<Tok, usize, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.errors.pop_front() {
                if self.quiet {
                    continue;
                }
                return Some(Ok(e));
            }
            let t = match self.pending.pop_front() {
                Some(t) => t,
                None => match self.next_source(0) {
                    Some(t) => t,
                    None if self.errors.is_empty() => return None,
                    None => continue,
                },
            };
            if let Some(t) = self.try_expand(t, &mut Input::Main(self.frames.len()), 0) {
                let tok = self.typedefs.mark(t.tok);
                return Some(Ok((t.span.0, tok, t.span.1)));
            }
        }
    }
}
