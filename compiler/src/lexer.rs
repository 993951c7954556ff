//! The UC lexer: a logos DFA wrapped in the external-lexer iterator that
//! LALRPOP expects (`Spanned<Tok, usize, LexError>`).
//!
//! Lexical errors are not returned as `Err`: they travel to the parser as a
//! [`Tok::Error`] token, which no grammar rule accepts, so the parser's `!`
//! error recovery resynchronizes after them and later errors in the same
//! file are still reported. [`crate::parse`] turns such a token back into the
//! lexer's own message.

use logos::Logos;
use std::fmt;

/// What went wrong while lexing; carried inside [`Tok::Error`].
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    UnexpectedChar,
    /// A specific unexpected character (filled in by the error callback).
    BadChar(char),
    /// An integer literal that does not fit in 64 bits.
    IntTooLarge,
    /// `09`: a leading zero makes an octal literal, which has no 8 or 9.
    Octal,
    /// An integer suffix C does not have (`5lu` is fine, `5x` is not).
    BadSuffix(String),
    /// A preprocessor problem (a bad directive, a missing include, a bad
    /// macro use).
    Preprocessor(crate::pp::PpError),
    /// A problem the parser found in a byte range (bad type words).
    At(String, usize, usize),
    /// A malformed floating-point literal.
    BadDouble,
    /// A string literal without its closing quote on the same line.
    UnterminatedString,
    /// An escape sequence UC does not know (`\q`).
    BadEscape(char),
    /// A character literal that is not exactly one character.
    BadCharLit,
    /// `/*` without `*/`.
    UnterminatedComment,
}

impl LexError {
    fn from_lexer(lex: &mut logos::Lexer<'_, Tok>) -> Self {
        match lex.slice().chars().next() {
            Some(c) => LexError::BadChar(c),
            None => LexError::UnexpectedChar,
        }
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LexError::UnexpectedChar => write!(f, "unexpected character"),
            LexError::BadChar(c) => write!(f, "unexpected character `{}`", c.escape_debug()),
            LexError::IntTooLarge => write!(f, "integer literal does not fit in 64 bits"),
            LexError::Octal => write!(f, "an octal literal (leading zero) has a digit 8 or 9"),
            LexError::BadSuffix(s) => write!(
                f,
                "`{s}` is not an integer suffix (use U, L, LL, UL or ULL)"
            ),
            LexError::Preprocessor(e) => write!(f, "{e}"),
            LexError::At(m, _, _) => write!(f, "{m}"),
            LexError::BadDouble => write!(f, "malformed floating-point literal"),
            LexError::UnterminatedString => {
                write!(f, "unterminated string literal (missing closing `\"`)")
            }
            LexError::BadEscape(c) => write!(f, "unknown escape sequence `\\{}`", c.escape_debug()),
            LexError::BadCharLit => write!(f, "a character literal holds exactly one character"),
            LexError::UnterminatedComment => write!(f, "unterminated comment (missing `*/`)"),
        }
    }
}

/// A token. Keywords and punctuation carry no data; literals carry their
/// (already decoded) value.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error(LexError, LexError::from_lexer))]
#[logos(skip r"[ \t\r\n\f]+")]
// A line comment ends at the newline, so the greedy repetition is bounded.
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
#[logos(skip(r"/\*", block_comment))]
pub enum Tok {
    /// `int`
    #[token("int")]
    KwInt,
    /// `double`
    #[token("double")]
    KwDouble,
    /// `void`
    #[token("void")]
    KwVoid,
    /// `static`
    #[token("static")]
    KwStatic,
    /// `if`
    #[token("if")]
    KwIf,
    /// `else`
    #[token("else")]
    KwElse,
    /// `while`
    #[token("while")]
    KwWhile,
    /// `for`
    #[token("for")]
    KwFor,
    /// `break`
    #[token("break")]
    KwBreak,
    /// `continue`
    #[token("continue")]
    KwContinue,
    /// `return`
    #[token("return")]
    KwReturn,
    /// `mproc`
    #[token("mproc")]
    KwMproc,
    /// `iproc`
    #[token("iproc")]
    KwIproc,
    /// `old`
    #[token("old")]
    KwOld,
    /// `new`
    #[token("new")]
    KwNew,
    /// `long`
    #[token("long")]
    KwLong,
    /// `short`
    #[token("short")]
    KwShort,
    /// `char`
    #[token("char")]
    KwChar,
    /// `signed`
    #[token("signed")]
    KwSigned,
    /// `unsigned`
    #[token("unsigned")]
    KwUnsigned,
    /// `float`
    #[token("float")]
    KwFloat,
    /// `_Bool`
    #[token("_Bool")]
    KwBool,
    /// `sizeof`
    #[token("sizeof")]
    KwSizeof,
    /// `goto`
    #[token("goto")]
    KwGoto,
    /// `typedef`
    #[token("typedef")]
    KwTypedef,
    /// `enum`
    #[token("enum")]
    KwEnum,
    /// `extern`, `register`, `volatile`, `inline`, `auto`: accepted where
    /// C accepts them, and meaning nothing more in one translation unit
    /// that a UC program is.
    #[regex("extern|register|volatile|inline|__inline|__inline__|auto|_Noreturn", |lex| lex.slice().to_string())]
    KwIgnored(String),
    /// A name that a `typedef` declared, as the preprocessor's output
    /// marks it (C's grammar needs to know type names from others).
    TypeIdent(String),
    /// `const`
    #[token("const")]
    KwConst,
    /// `do`
    #[token("do")]
    KwDo,
    /// `switch`
    #[token("switch")]
    KwSwitch,
    /// `case`
    #[token("case")]
    KwCase,
    /// `default`
    #[token("default")]
    KwDefault,
    /// A C feature UC leaves out (`struct`, `goto`, `typedef`, ...): the
    /// parser rejects it with a diagnostic that names it.
    #[regex("struct|union", |lex| lex.slice().to_string())]
    Unsupported(String),
    /// A preprocessor line (`#include ...`, `#define ...`), whole; the
    /// [`Lexer`] interprets it and never passes it on.
    #[regex(r"#([^\n\\]|\\[^\n]|\\\n)*", |lex| lex.slice().to_string(), allow_greedy = true)]
    Directive(String),

    /// An identifier.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// An integer literal (decimal, octal or `0x` hex, with an optional
    /// `L`/`LL`/`U` suffix) or a character literal.
    #[regex(r"[0-9]+[uUlL]*", int_literal)]
    #[regex(r"0[xX][0-9a-fA-F]+[uUlL]*", int_literal)]
    #[regex(r"'([^'\\\n]|\\[^\n])*'?", char_literal)]
    IntLit(IntLit),
    /// A floating-point literal; an `f` suffix makes it a `float`
    /// (`l`, `long double`, is read as a double).
    #[regex(r"[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?[fFlL]?", double_literal)]
    #[regex(r"\.[0-9]+([eE][+-]?[0-9]+)?[fFlL]?", double_literal)]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+[fFlL]?", double_literal)]
    DoubleLit(FloatLit),
    /// A string literal, escapes decoded.
    #[regex(r#""([^"\\\n]|\\[^\n])*"?"#, string_literal)]
    Str(String),

    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `;`
    #[token(";")]
    Semi,
    /// `,`
    #[token(",")]
    Comma,
    /// `.`
    #[token(".")]
    Dot,
    /// `=`
    #[token("=")]
    Assign,
    /// `+=`
    #[token("+=")]
    AddAssign,
    /// `-=`
    #[token("-=")]
    SubAssign,
    /// `*=`
    #[token("*=")]
    MulAssign,
    /// `/=`
    #[token("/=")]
    DivAssign,
    /// `%=`
    #[token("%=")]
    RemAssign,
    /// `++`
    #[token("++")]
    PlusPlus,
    /// `--`
    #[token("--")]
    MinusMinus,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `%`
    #[token("%")]
    Percent,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    NotEq,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `&&`
    #[token("&&")]
    AndAnd,
    /// `||`
    #[token("||")]
    OrOr,
    /// `!`
    #[token("!")]
    Bang,
    /// `?`
    #[token("?")]
    Question,
    /// `:`
    #[token(":")]
    Colon,
    /// `&`
    #[token("&")]
    Amp,
    /// `|`
    #[token("|")]
    Pipe,
    /// `^`
    #[token("^")]
    Caret,
    /// `~`
    #[token("~")]
    Tilde,
    /// `<<`
    #[token("<<")]
    Shl,
    /// `>>`
    #[token(">>")]
    Shr,
    /// `&=`
    #[token("&=")]
    AndAssign,
    /// `|=`
    #[token("|=")]
    OrAssign,
    /// `^=`
    #[token("^=")]
    XorAssign,
    /// `<<=`
    #[token("<<=")]
    ShlAssign,
    /// `>>=`
    #[token(">>=")]
    ShrAssign,
    /// `->` (only to say that UC has no pointers or structs)
    #[token("->")]
    Arrow,

    /// A lexical error, passed on to the parser so that it can recover.
    Error(LexError),
}

impl Tok {
    /// A keyword that names a type (starts a declaration's type).
    pub fn is_type_word(&self) -> bool {
        matches!(
            self,
            Tok::KwInt
                | Tok::KwDouble
                | Tok::KwVoid
                | Tok::KwLong
                | Tok::KwShort
                | Tok::KwChar
                | Tok::KwSigned
                | Tok::KwUnsigned
                | Tok::KwFloat
                | Tok::KwBool
                | Tok::KwEnum
                | Tok::TypeIdent(_)
        )
    }

    /// Any keyword of UC.
    pub fn is_keyword(&self) -> bool {
        self.is_type_word()
            || matches!(
                self,
                Tok::KwStatic
                    | Tok::KwConst
                    | Tok::KwIf
                    | Tok::KwElse
                    | Tok::KwWhile
                    | Tok::KwFor
                    | Tok::KwDo
                    | Tok::KwSwitch
                    | Tok::KwCase
                    | Tok::KwDefault
                    | Tok::KwBreak
                    | Tok::KwContinue
                    | Tok::KwReturn
                    | Tok::KwMproc
                    | Tok::KwIproc
                    | Tok::KwOld
                    | Tok::KwNew
                    | Tok::KwSizeof
                    | Tok::KwGoto
                    | Tok::KwTypedef
                    | Tok::KwIgnored(_)
            )
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Tok::KwInt => "int",
            Tok::KwDouble => "double",
            Tok::KwVoid => "void",
            Tok::KwStatic => "static",
            Tok::KwIf => "if",
            Tok::KwElse => "else",
            Tok::KwWhile => "while",
            Tok::KwFor => "for",
            Tok::KwBreak => "break",
            Tok::KwContinue => "continue",
            Tok::KwReturn => "return",
            Tok::KwMproc => "mproc",
            Tok::KwIproc => "iproc",
            Tok::KwOld => "old",
            Tok::KwNew => "new",
            Tok::KwLong => "long",
            Tok::KwShort => "short",
            Tok::KwChar => "char",
            Tok::KwSigned => "signed",
            Tok::KwUnsigned => "unsigned",
            Tok::KwFloat => "float",
            Tok::KwBool => "_Bool",
            Tok::KwSizeof => "sizeof",
            Tok::KwGoto => "goto",
            Tok::KwTypedef => "typedef",
            Tok::KwEnum => "enum",
            Tok::KwIgnored(w) => return write!(f, "`{w}`"),
            Tok::TypeIdent(n) => return write!(f, "type name `{n}`"),
            Tok::KwConst => "const",
            Tok::KwDo => "do",
            Tok::KwSwitch => "switch",
            Tok::KwCase => "case",
            Tok::KwDefault => "default",
            Tok::Ident(name) => return write!(f, "identifier `{name}`"),
            Tok::IntLit(v) => return write!(f, "integer `{}`", v.value),
            Tok::Directive(_) => return write!(f, "a preprocessor line"),
            Tok::Unsupported(w) => return write!(f, "`{w}`"),
            Tok::DoubleLit(v) => return write!(f, "number `{:?}`", v.value),
            Tok::Str(_) => return write!(f, "string literal"),
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Semi => ";",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::Assign => "=",
            Tok::AddAssign => "+=",
            Tok::SubAssign => "-=",
            Tok::MulAssign => "*=",
            Tok::DivAssign => "/=",
            Tok::RemAssign => "%=",
            Tok::PlusPlus => "++",
            Tok::MinusMinus => "--",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Bang => "!",
            Tok::Question => "?",
            Tok::Colon => ":",
            Tok::Amp => "&",
            Tok::Pipe => "|",
            Tok::Caret => "^",
            Tok::Tilde => "~",
            Tok::Shl => "<<",
            Tok::Shr => ">>",
            Tok::AndAssign => "&=",
            Tok::OrAssign => "|=",
            Tok::XorAssign => "^=",
            Tok::ShlAssign => "<<=",
            Tok::ShrAssign => ">>=",
            Tok::Arrow => "->",
            Tok::Error(e) => return write!(f, "{e}"),
        };
        write!(f, "`{s}`")
    }
}

/// Skips a `/* ... */` comment. A regex could match a closed comment, but
/// only a callback can tell an unclosed one apart and say so.
fn block_comment(lex: &mut logos::Lexer<'_, Tok>) -> Result<logos::Skip, LexError> {
    match lex.remainder().find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            Ok(logos::Skip)
        }
        None => {
            lex.bump(lex.remainder().len());
            Err(LexError::UnterminatedComment)
        }
    }
}

/// An integer literal's value and the suffix and base that, with the
/// value, decide its C type ([`IntLit::ty`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntLit {
    /// The value's 64 bits.
    pub value: i64,
    /// A `U` suffix, or a value above `i64::MAX` (unsigned in `#if`).
    pub unsigned: bool,
    /// An `L` or `LL` suffix.
    pub long: bool,
    /// Written in decimal (C gives octal and hex literals unsigned types
    /// sooner).
    pub decimal: bool,
}

impl IntLit {
    /// A signed decimal literal (of type `int` when it fits).
    pub fn int(value: i64) -> IntLit {
        IntLit {
            value,
            unsigned: false,
            long: false,
            decimal: true,
        }
    }

    /// Its type by C's rules (C11 6.4.4.1 on LP64): the first of `int`,
    /// `unsigned int` (octal and hex, or a `U` suffix), `long`, `unsigned
    /// long` that holds the value, starting at `long` with an `L` suffix.
    pub fn ty(&self) -> crate::ir::Scalar {
        use crate::ir::Scalar;
        let v = self.value as u64;
        let u_suffix = self.unsigned && v <= i64::MAX as u64;
        let candidates: &[Scalar] = match (u_suffix, self.long, self.decimal) {
            (true, false, _) => &[Scalar::U32, Scalar::U64],
            (true, true, _) => &[Scalar::U64],
            (false, false, true) => &[Scalar::I32, Scalar::I64, Scalar::U64],
            (false, false, false) => &[Scalar::I32, Scalar::U32, Scalar::I64, Scalar::U64],
            (false, true, true) => &[Scalar::I64, Scalar::U64],
            (false, true, false) => &[Scalar::I64, Scalar::U64],
        };
        let fits = |s: Scalar| match s {
            Scalar::I32 => v <= i32::MAX as u64,
            Scalar::U32 => v <= u32::MAX as u64,
            Scalar::I64 => v <= i64::MAX as u64,
            _ => true,
        };
        candidates
            .iter()
            .copied()
            .find(|s| fits(*s))
            .unwrap_or(Scalar::U64)
    }
}

fn int_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<IntLit, LexError> {
    let s = lex.slice();
    let digits = s.trim_end_matches(['u', 'U', 'l', 'L']);
    let suffix = &s[digits.len()..];
    let lower = suffix.to_ascii_lowercase();
    // C's suffixes: u, l, ll and their combinations (`ul`, `llu`, ...);
    // the case of the two l's must agree (`lL` is not a suffix).
    let ok_suffix = matches!(
        lower.as_str(),
        "" | "u" | "l" | "ll" | "ul" | "lu" | "ull" | "llu"
    ) && !suffix.contains("lL")
        && !suffix.contains("Ll");
    if !ok_suffix {
        return Err(LexError::BadSuffix(suffix.to_string()));
    }
    let (body, radix) = if let Some(h) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        (h, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (&digits[1..], 8)
    } else {
        (digits, 10)
    };
    if radix == 8 && body.contains(['8', '9']) {
        return Err(LexError::Octal);
    }
    let v = u64::from_str_radix(body, radix).map_err(|_| LexError::IntTooLarge)?;
    Ok(IntLit {
        value: v as i64,
        unsigned: lower.contains('u') || v > i64::MAX as u64,
        long: lower.contains('l'),
        decimal: radix == 10,
    })
}

/// A floating-point literal's value and whether it is a `float` (`1.5f`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatLit {
    /// The value (a `float`'s already rounded to binary32).
    pub value: f64,
    /// An `f`/`F` suffix.
    pub single: bool,
}

fn double_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<FloatLit, LexError> {
    let s = lex.slice();
    let body = s.trim_end_matches(['f', 'F', 'l', 'L']);
    let single = s.ends_with(['f', 'F']);
    let value: f64 = if single {
        body.parse::<f32>().map_err(|_| LexError::BadDouble)? as f64
    } else {
        body.parse().map_err(|_| LexError::BadDouble)?
    };
    Ok(FloatLit { value, single })
}

/// Decodes the body of a quoted literal; `None` if the closing quote is
/// missing.
fn unescape(body: &str, quote: char) -> Result<Option<String>, LexError> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let e = chars.next().ok_or(LexError::UnterminatedString)?;
                if e.is_digit(8) || e == 'x' {
                    // `\0`, `\012`, `\x41`: a byte given by its code.
                    let (radix, max, mut v) = if e == 'x' {
                        (16, 2, 0)
                    } else {
                        (8, 2, e.to_digit(8).unwrap_or(0))
                    };
                    let mut n = 0;
                    while n < max {
                        let mut look = chars.clone();
                        match look.next().and_then(|d| d.to_digit(radix)) {
                            Some(d) => {
                                v = v * radix + d;
                                chars = look;
                                n += 1;
                            }
                            None => break,
                        }
                    }
                    if e == 'x' && n == 0 {
                        return Err(LexError::BadEscape('x'));
                    }
                    out.push(char::from_u32(v & 0xff).unwrap_or('\0'));
                    continue;
                }
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'a' => '\x07',
                    'b' => '\x08',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    '\\' | '\'' | '"' | '?' => e,
                    other => return Err(LexError::BadEscape(other)),
                });
            }
            c if c == quote => {
                // The regex only lets an unescaped quote appear at the end.
                return Ok(if chars.next().is_none() {
                    Some(out)
                } else {
                    None
                });
            }
            c => out.push(c),
        }
    }
    Ok(None)
}

fn string_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<String, LexError> {
    unescape(&lex.slice()[1..], '"')?.ok_or(LexError::UnterminatedString)
}

fn char_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<IntLit, LexError> {
    let s = unescape(&lex.slice()[1..], '\'')?.ok_or(LexError::BadCharLit)?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        // A character constant has type int, and its value is the char's:
        // `'\xff'` is -1 where char is signed, as on x86-64.
        (Some(c), None) if (c as u32) < 256 => Ok(IntLit::int(c as u32 as u8 as i8 as i64)),
        (Some(c), None) => Ok(IntLit::int(c as i64)),
        _ => Err(LexError::BadCharLit),
    }
}

/// A token with its byte range, as LALRPOP's external-lexer interface wants.
pub type Spanned<T, L, E> = Result<(L, T, L), E>;

pub use crate::pp::Lexer;

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        Lexer::new(src).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn keywords_idents_and_literals() {
        assert_eq!(
            toks("int intx 12 1.5 .5 1e3 'a' \"a\\n\" old.pd"),
            vec![
                Tok::KwInt,
                Tok::Ident("intx".into()),
                Tok::IntLit(IntLit::int(12)),
                Tok::DoubleLit(FloatLit {
                    value: 1.5,
                    single: false
                }),
                Tok::DoubleLit(FloatLit {
                    value: 0.5,
                    single: false
                }),
                Tok::DoubleLit(FloatLit {
                    value: 1000.0,
                    single: false
                }),
                Tok::IntLit(IntLit::int(97)),
                Tok::Str("a\n".into()),
                Tok::KwOld,
                Tok::Dot,
                Tok::Ident("pd".into()),
            ]
        );
    }

    #[test]
    fn comments_are_skipped_and_unclosed_ones_reported() {
        assert_eq!(toks("a /* x * / */ b // c\n d"), toks("a b d"));
        assert_eq!(
            toks("a /* never closed"),
            vec![
                Tok::Ident("a".into()),
                Tok::Error(LexError::UnterminatedComment)
            ]
        );
    }

    #[test]
    fn errors_become_tokens() {
        assert_eq!(
            toks("\"abc"),
            vec![Tok::Error(LexError::UnterminatedString)]
        );
        assert_eq!(toks("@"), vec![Tok::Error(LexError::BadChar('@'))]);
        assert_eq!(
            toks("99999999999999999999"),
            vec![Tok::Error(LexError::IntTooLarge)]
        );
        assert_eq!(toks("\"\\q\""), vec![Tok::Error(LexError::BadEscape('q'))]);
    }
}
