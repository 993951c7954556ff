//! Text to syntax tree. Parsing never fails outright: it returns the tree
//! it could build and every syntax error it recovered from, so that one run
//! reports several mistakes.

use crate::ast::{Item, Program, TypeTable};
use crate::diag::Diagnostic;
use crate::ir::Span;
use crate::lexer::{LexError, Lexer, Tok};
use crate::limits::{MAX_NAMES, MAX_NESTING};
use lalrpop_util::ParseError;
use std::ops::Range;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_qualifications,
        missing_docs,
        unreachable_pub
    )]
    grammar
);

/// Parses a UC source file. The program is complete only if no diagnostic
/// came back; with errors it holds what recovery could salvage.
pub fn parse(src: &str) -> (Program, Vec<Diagnostic>) {
    parse_file("", src)
}

/// [`parse`] of a text whose main file is shown as `file` (`__FILE__`,
/// included files' names); `src` may be a combined text
/// ([`crate::read_program`]).
pub fn parse_file(file: &str, src: &str) -> (Program, Vec<Diagnostic>) {
    // Preprocessor errors are collected in a pass of their own: as tokens
    // they could be swallowed by the parser's recovery after an earlier
    // error, and each bad directive deserves its own diagnostic.
    let mut diags: Vec<Diagnostic> = Lexer::with_file(file, src)
        .filter_map(|t| match t {
            Ok((l, Tok::Error(LexError::Preprocessor(e)), r)) => Some(Diagnostic::error(
                e.to_string(),
                Span {
                    start: l as u32,
                    end: r as u32,
                },
                e.label(),
            )),
            _ => None,
        })
        .collect();
    if let Some(d) = too_deep(file, src).or_else(|| too_many_names(file, src)) {
        diags.push(d);
        return (Program::default(), diags);
    }
    let mut recovered = Vec::new();
    let result = grammar::ProgramParser::new().parse(
        &mut recovered,
        &mut TypeTable::new(),
        Lexer::with_file(file, src).quiet(),
    );
    diags.extend(recovered.into_iter().map(|r| to_diagnostic(r.error, src)));
    let program = match result {
        Ok(p) => p,
        Err(e) => {
            diags.push(to_diagnostic(e, src));
            Program::default()
        }
    };
    (program, diags)
}

/// A diagnostic at the first token past [`MAX_NESTING`] levels, found
/// from tokens alone before the parser runs, so that no deep input reaches
/// the parser's (and later passes') recursion. Three depths are counted,
/// each against [`MAX_NESTING`]:
/// - brackets: open `(`, `[` and `{`;
/// - statements: the `if`/`while`/`for`/`do`/`switch` and `else`s around
///   a point (a block goes on counting from the statement it is in; an
///   `else if` chain counts one per `else`);
/// - expression: the operators of one statement, where the arguments of a
///   call are siblings (a `,` starts the next from where the `(` was, the
///   `)` goes on from the deepest) and the condition of an `if`, `while`,
///   `for` or `switch` is a sibling of the body, so `f(a + b, c + d)` and
///   `while (x < 1)` are shallow, and a 500-term sum is not (a left-leaning
///   `1 + 1 + ...` is a tree that deep).
///
/// The count is conservative: it may refuse a chain that is flatter than
/// it looks. What it accepts is at most `4 * MAX_NESTING` deep as a syntax
/// tree, so within [`crate::limits::MAX_IR_DEPTH`] in the IR, the bound the
/// pup's code generator enforces.
fn too_deep(file: &str, src: &str) -> Option<Diagnostic> {
    let (mut brackets, mut stmts, mut elses, mut ops) = (0u32, 0u32, 0u32, 0u32);
    // Per open `(` or `[`: the operator count at the bracket, the deepest
    // of its arguments so far, and whether it is a statement's condition.
    let mut open: Vec<(u32, u32, bool)> = Vec::new();
    // Per open `{`: the statement and `else` counts at the brace (a block
    // nests inside the statements around it, so they go on counting in it).
    let mut blocks: Vec<(u32, u32)> = Vec::new();
    let (mut after_keyword, mut after_type, mut ended) = (false, false, false);
    for t in Lexer::with_file(file, src).quiet() {
        let Ok((l, tok, r)) = t else { continue };
        let mut what = None;
        let keyword = matches!(tok, Tok::KwIf | Tok::KwWhile | Tok::KwFor | Tok::KwSwitch);
        // A statement ended: unless an `else` goes on with its `if`, the
        // next one starts at the depth of its block.
        if std::mem::take(&mut ended) && tok != Tok::KwElse {
            (stmts, elses) = blocks.last().copied().unwrap_or((0, 0));
        }
        match tok {
            Tok::LBrace => {
                brackets += 1;
                blocks.push((stmts, elses));
                ops = 0;
                open.clear();
            }
            Tok::RBrace => {
                brackets = brackets.saturating_sub(1);
                (stmts, elses) = blocks.pop().unwrap_or((0, 0));
                ops = 0;
                open.clear();
                ended = true;
            }
            Tok::LParen | Tok::LBracket => {
                brackets += 1;
                open.push((ops, ops, after_keyword && tok == Tok::LParen));
            }
            Tok::RParen | Tok::RBracket => {
                brackets = brackets.saturating_sub(1);
                if let Some((at, deepest, condition)) = open.pop() {
                    ops = if condition { at } else { deepest.max(ops) };
                }
                // `(double)x`: a cast is one more level.
                ops += u32::from(after_type);
            }
            Tok::Comma | Tok::Semi if !open.is_empty() => {
                let top = open.last_mut().expect("not empty");
                top.1 = top.1.max(ops);
                ops = top.0;
            }
            Tok::Semi => {
                ops = 0;
                ended = true;
            }
            Tok::KwElse => elses += 1,
            Tok::KwIf | Tok::KwWhile | Tok::KwFor | Tok::KwDo | Tok::KwSwitch => stmts += 1,
            // Words and values: an operand, not an operator (the statement
            // keywords were counted above).
            Tok::Ident(_) | Tok::IntLit(_) | Tok::DoubleLit(_) | Tok::Str(_) | Tok::Comma => {}
            _ if tok.is_keyword() => {}
            _ => ops += 1,
        }
        after_keyword = keyword;
        after_type = tok.is_type_word();
        if brackets > MAX_NESTING {
            what = Some("brackets");
        } else if stmts > MAX_NESTING || elses > MAX_NESTING {
            what = Some("statements");
        } else if ops > MAX_NESTING {
            what = Some("expression");
        }
        if let Some(what) = what {
            return Some(Diagnostic::error(
                format!("{what} nested deeper than {MAX_NESTING} levels"),
                Span {
                    start: l as u32,
                    end: r as u32,
                },
                "too deep here",
            ));
        }
    }
    None
}

/// A diagnostic at the first top-level name past [`MAX_NAMES`] (the
/// procedures and globals a pup can give IDs to), found from tokens alone
/// so that a program of a million procedures is refused in a lexer's time,
/// not after it was parsed and checked. A name counts once (a prototype and
/// its definition are one name) and only where it is declared: at the top
/// level, after a type, `,`, `;` or `}`, and before `(`, `;`, `,`, `=` or
/// `[`, never in a K&R parameter list. It never counts more names than the
/// checker sees, which counts them again exactly.
fn too_many_names(file: &str, src: &str) -> Option<Diagnostic> {
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut depth = 0u32;
    // The token before the candidate, and the candidate itself.
    let mut prev: Option<Tok> = None;
    let mut cand: Option<(String, usize, usize)> = None;
    // Between a top-level `)` and its `{`: a K&R parameter list.
    let (mut after_paren, mut kr_list) = (false, false);
    for t in Lexer::with_file(file, src).quiet() {
        let Ok((l, tok, r)) = t else { continue };
        if let Some((name, cl, cr)) = cand.take()
            && matches!(
                tok,
                Tok::LParen | Tok::Semi | Tok::Comma | Tok::Assign | Tok::LBracket
            )
            && names.insert(name)
            && names.len() as u64 > MAX_NAMES
        {
            return Some(Diagnostic::error(
                format!(
                    "more than {MAX_NAMES} procedures and globals: a pup gives each name one of {MAX_NAMES} IDs"
                ),
                Span {
                    start: cl as u32,
                    end: cr as u32,
                },
                format!("name number {}", MAX_NAMES + 1),
            ));
        }
        if depth == 0 {
            if after_paren {
                kr_list = !matches!(tok, Tok::Semi | Tok::Comma | Tok::LBrace);
                after_paren = false;
            }
            if let Tok::Ident(name) = &tok {
                let declares = match &prev {
                    None => true,
                    Some(t) => {
                        t.is_type_word()
                            || matches!(
                                t,
                                Tok::Semi | Tok::RBrace | Tok::Comma | Tok::KwStatic | Tok::KwConst
                            )
                    }
                };
                if declares && !kr_list {
                    cand = Some((name.clone(), l, r));
                }
            }
        }
        match tok {
            Tok::LBrace | Tok::LParen | Tok::LBracket => {
                if depth == 0 && tok == Tok::LBrace {
                    kr_list = false;
                }
                depth += 1;
            }
            Tok::RBrace | Tok::RBracket => depth = depth.saturating_sub(1),
            Tok::RParen => {
                depth = depth.saturating_sub(1);
                after_paren = depth == 0;
            }
            _ => {}
        }
        prev = Some(tok);
    }
    None
}

/// The byte ranges of the top-level items of `src`, in order, found from
/// tokens alone, so that a large program can be parsed item by item and
/// never held as one syntax tree. `None` where that is not safe: a
/// preprocessor line (a `#define` reaches across items), a token that is
/// not valid, unbalanced brackets, or a K&R parameter declaration list
/// (whose `;`s would look like the ends of items). The caller then parses
/// the whole text.
///
/// An item ends at a `;` outside all brackets, or at a `}` that closes all
/// brackets unless a `;`, `,` or `=` follows (an initializer list).
///
/// Also `None` where the whole text is refused before parsing (too many
/// names, or nesting too deep: [`parse`] says where), so that no way
/// around [`parse`] skips its limits.
pub fn item_ranges(src: &str) -> Option<Vec<Range<usize>>> {
    use logos::Logos;
    if too_deep("", src).is_some() || too_many_names("", src).is_some() {
        return None;
    }
    let mut toks = Tok::lexer(src).spanned().peekable();
    let mut out = Vec::new();
    let (mut depth, mut start): (u32, Option<usize>) = (0, None);
    while let Some((tok, span)) = toks.next() {
        let tok = tok.ok()?;
        let begin = *start.get_or_insert(span.start);
        match tok {
            // A typedef changes how later items parse (its names are types).
            Tok::Directive(_) | Tok::Error(_) | Tok::KwTypedef => return None,
            // Their values depend on the whole text (`__LINE__` counts
            // from its start, `__FILE__` names it).
            Tok::Ident(n) if n == "__LINE__" || n == "__FILE__" => return None,
            Tok::LBrace | Tok::LParen | Tok::LBracket => depth += 1,
            Tok::RBrace | Tok::RParen | Tok::RBracket => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    let next = toks.peek().map(|(t, _)| t.as_ref().ok());
                    match (tok, next) {
                        (Tok::RBrace, Some(Some(Tok::Semi | Tok::Comma | Tok::Assign))) => {}
                        (Tok::RBrace, _) => {
                            out.push(begin..span.end);
                            start = None;
                        }
                        // A K&R list (`f(a, b) int a; ...`), or anything
                        // else unusual after a parameter list.
                        (Tok::RParen, Some(Some(t)))
                            if !matches!(t, Tok::Semi | Tok::LBrace | Tok::Comma | Tok::Assign) =>
                        {
                            return None;
                        }
                        _ => {}
                    }
                }
            }
            Tok::Semi if depth == 0 => {
                out.push(begin..span.end);
                start = None;
            }
            _ => {}
        }
    }
    (depth == 0 && start.is_none()).then_some(out)
}

/// Parses the items in `src[range]` (one of [`item_ranges`]), with spans
/// into the whole of `src`. `None` if the text does not parse cleanly on its
/// own; the caller then parses the whole text, for the same messages as
/// always.
pub fn parse_range(src: &str, range: Range<usize>) -> Option<Vec<Item>> {
    let at = range.start;
    let toks = Lexer::new(&src[range]).map(|t| t.map(|(l, tok, r)| (l + at, tok, r + at)));
    let mut recovered = Vec::new();
    let program = grammar::ProgramParser::new()
        .parse(&mut recovered, &mut TypeTable::new(), toks)
        .ok()?;
    recovered.is_empty().then_some(program.items)
}

fn to_diagnostic(e: ParseError<usize, Tok, LexError>, src: &str) -> Diagnostic {
    let sp = |l: usize, r: usize| Span {
        start: l as u32,
        end: r as u32,
    };
    match e {
        ParseError::UnrecognizedToken {
            token: (l, Tok::Error(err), r),
            ..
        } => Diagnostic::error(err.to_string(), sp(l, r), "not valid UC here"),
        ParseError::User {
            error: LexError::At(msg, l, r),
        } => Diagnostic::error(msg, sp(l, r), "not valid C here"),
        ParseError::User { error } => {
            Diagnostic::error(error.to_string(), sp(src.len(), src.len()), "here")
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } if left_out(&tok, &expected).is_some() => {
            let (msg, label) = left_out(&tok, &expected).expect("checked");
            Diagnostic::error(msg, sp(l, r), label)
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => Diagnostic::error(
            format!("unexpected {tok}"),
            sp(l, r),
            format!("expected {}", summarize_expected(&expected)),
        ),
        ParseError::UnrecognizedEof { location, expected } => Diagnostic::error(
            "unexpected end of file",
            sp(location, location),
            format!("expected {}", summarize_expected(&expected)),
        ),
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::error(
            format!("unexpected {tok}"),
            sp(l, r),
            "expected the end of the file",
        ),
        ParseError::InvalidToken { location } => Diagnostic::error(
            "invalid token",
            sp(location, location + 1),
            "not valid UC here",
        ),
    }
}

/// A C feature UC leaves out (SPEC 2.2), recognized by the token the
/// parser stopped at: the message names the feature instead of listing
/// the tokens that were expected.
fn left_out(tok: &Tok, expected: &[String]) -> Option<(String, String)> {
    let has = |t: &str| expected.iter().any(|e| e == t);
    let out = |m: &str, l: &str| Some((m.to_string(), l.to_string()));
    match tok {
        Tok::Unsupported(w) => match w.as_str() {
            "struct" | "union" | "enum" => out(
                &format!("`{w}` is not supported yet: UC has no structs or unions"),
                "use arrays and separate variables",
            ),
            "typedef" => out("`typedef` is not supported in UC", "write the type itself"),
            _ => out(
                &format!("`{w}` is not supported in UC"),
                "remove it (one translation unit, no storage classes besides `static`)",
            ),
        },
        Tok::Arrow => out(
            "`->` is not supported yet: UC has no structs yet",
            "not valid UC here",
        ),
        Tok::Star if has("Ident") && !has("IntLit") => out(
            "this pointer declaration is not supported yet",
            "declare one pointer (`T *p`, `T **p`) per name",
        ),
        Tok::LParen if has("Ident") && !has("IntLit") => out(
            "function pointers are not supported yet",
            "call procedures by name",
        ),
        Tok::Colon if !has("\":\"") => out(
            "unexpected `:` (a `:` follows a label's name, a `case` value or the `?` of `?:`)",
            format!("expected {}", summarize_expected(expected)).as_str(),
        ),
        _ => None,
    }
}

const EXPR_START: &[&str] = &[
    "Ident",
    "IntLit",
    "DoubleLit",
    "StrLit",
    "\"(\"",
    "\"-\"",
    "\"+\"",
    "\"!\"",
    "\"~\"",
    "\"*\"",
    "\"&\"",
    "\"++\"",
    "\"--\"",
    "\"old\"",
    "\"new\"",
    "\"sizeof\"",
];
const STMT_START: &[&str] = &[
    "\"if\"",
    "\"while\"",
    "\"for\"",
    "\"break\"",
    "\"continue\"",
    "\"return\"",
    "\"static\"",
    "\"int\"",
    "\"double\"",
    "\"void\"",
    "\"long\"",
    "\"short\"",
    "\"char\"",
    "\"signed\"",
    "\"unsigned\"",
    "\"float\"",
    "\"_Bool\"",
    "\"goto\"",
    "\"typedef\"",
    "\"enum\"",
    "Ignored",
    "TypeIdent",
    "\"const\"",
    "\"do\"",
    "\"switch\"",
    "\"case\"",
    "\"default\"",
    "\"{\"",
    "\";\"",
];
const OPERATORS: &[&str] = &[
    "\"+\"", "\"-\"", "\"*\"", "\"/\"", "\"%\"", "\"==\"", "\"!=\"", "\"<\"", "\"<=\"", "\">\"",
    "\">=\"", "\"&&\"", "\"||\"", "\"=\"", "\"+=\"", "\"-=\"", "\"*=\"", "\"/=\"", "\"%=\"",
    "\"++\"", "\"--\"", "\"[\"", "\"?\"", "\"&\"", "\"|\"", "\"^\"", "\"<<\"", "\">>\"", "\"&=\"",
    "\"|=\"", "\"^=\"", "\"<<=\"", "\">>=\"",
];

/// Turns LALRPOP's list of acceptable terminals into words a person reads:
/// the dozen tokens that can start an expression become "an expression",
/// and so on, so the label says what was expected rather than listing
/// every terminal of the grammar.
fn summarize_expected(expected: &[String]) -> String {
    let has = |t: &str| expected.iter().any(|e| e == t);
    let mut rest: Vec<&str> = expected.iter().map(String::as_str).collect();
    let mut words: Vec<String> = Vec::new();
    let remove = |set: &[&str], rest: &mut Vec<&str>| rest.retain(|t| !set.contains(t));
    if has("\"while\"") {
        remove(STMT_START, &mut rest);
        remove(EXPR_START, &mut rest);
        words.push("a statement".into());
    } else if has("IntLit") {
        remove(EXPR_START, &mut rest);
        words.push("an expression".into());
    }
    if rest.iter().filter(|t| OPERATORS.contains(t)).count() >= 3 {
        remove(OPERATORS, &mut rest);
        words.push("an operator".into());
    }
    for t in rest {
        words.push(match t {
            "Ident" => "an identifier".to_string(),
            "IntLit" => "an integer".to_string(),
            "DoubleLit" => "a number".to_string(),
            "StrLit" => "a string literal".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        });
    }
    // Put the concrete tokens first: "`;` or an operator" reads better.
    words.sort_by_key(|w| !w.starts_with('`'));
    match words.len() {
        0 => "something else".to_string(),
        1 => words.remove(0),
        2 => format!("{} or {}", words[0], words[1]),
        n => format!("{}, or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pizza_style_knr() {
        let (p, d) = parse("f(a, b) int a; double b; { return a; }\nmain() { f(1, 2); }");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.items.len(), 2);
    }

    #[test]
    fn dangling_else_binds_to_nearest_if() {
        use crate::ast::{Item, Stmt};
        let (p, d) = parse("main() { if (1) if (2) x(); else y(); }");
        assert!(d.is_empty(), "{d:?}");
        let Item::Proc(f) = &p.items[0] else { panic!() };
        let Stmt::If { els, then, .. } = &f.body[0] else {
            panic!()
        };
        assert!(els.is_none(), "outer if must have no else");
        assert!(matches!(**then, Stmt::If { els: Some(_), .. }));
    }

    #[test]
    fn recovers_and_reports_several_errors() {
        let (_, d) = parse("main() { x = 1 +; y = ; z(); }\nf() { int x = ; }");
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].label.contains("expression"), "{:?}", d[0]);
    }
}
