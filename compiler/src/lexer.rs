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
    /// `012`: C would read it as octal, which UC does not support.
    Octal,
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
            LexError::Octal => write!(
                f,
                "integer literal with a leading zero (octal is not supported; write it in decimal)"
            ),
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

    /// An identifier.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// An integer literal (decimal or `0x` hex) or a character literal.
    #[regex(r"[0-9]+", int_literal)]
    #[regex(r"0[xX][0-9a-fA-F]+", hex_literal)]
    #[regex(r"'([^'\\\n]|\\[^\n])*'?", char_literal)]
    IntLit(i64),
    /// A floating-point literal.
    #[regex(r"[0-9]+\.[0-9]*([eE][+-]?[0-9]+)?", double_literal)]
    #[regex(r"\.[0-9]+([eE][+-]?[0-9]+)?", double_literal)]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+", double_literal)]
    DoubleLit(f64),
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

    /// A lexical error, passed on to the parser so that it can recover.
    Error(LexError),
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
            Tok::Ident(name) => return write!(f, "identifier `{name}`"),
            Tok::IntLit(v) => return write!(f, "integer `{v}`"),
            Tok::DoubleLit(v) => return write!(f, "number `{v:?}`"),
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

fn int_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<i64, LexError> {
    let s = lex.slice();
    if s.len() > 1 && s.starts_with('0') {
        return Err(LexError::Octal);
    }
    s.parse().map_err(|_| LexError::IntTooLarge)
}

fn hex_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<i64, LexError> {
    // Like C, a hex literal may use all 64 bits (0xffffffffffffffff is -1).
    u64::from_str_radix(&lex.slice()[2..], 16)
        .map(|v| v as i64)
        .map_err(|_| LexError::IntTooLarge)
}

fn double_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<f64, LexError> {
    lex.slice().parse().map_err(|_| LexError::BadDouble)
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
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
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

fn char_literal(lex: &mut logos::Lexer<'_, Tok>) -> Result<i64, LexError> {
    let s = unescape(&lex.slice()[1..], '\'')?.ok_or(LexError::BadCharLit)?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c as i64),
        _ => Err(LexError::BadCharLit),
    }
}

/// A token with its byte range, as LALRPOP's external-lexer interface wants.
pub type Spanned<T, L, E> = Result<(L, T, L), E>;

/// The token stream of one source text.
pub struct Lexer<'src> {
    inner: logos::SpannedIter<'src, Tok>,
}

impl<'src> Lexer<'src> {
    /// Lexes `src`.
    pub fn new(src: &'src str) -> Self {
        Lexer {
            inner: Tok::lexer(src).spanned(),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Spanned<Tok, usize, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (tok, span) = self.inner.next()?;
        let (start, mut end) = (span.start, span.end);
        let tok = tok.unwrap_or_else(|e| {
            // An unclosed comment or string runs to the end of the line or
            // file; point at its opening instead of underlining all that.
            match e {
                LexError::UnterminatedComment => end = start + 2,
                LexError::UnterminatedString => end = start + 1,
                _ => {}
            }
            Tok::Error(e)
        });
        Some(Ok((start, tok, end)))
    }
}

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
                Tok::IntLit(12),
                Tok::DoubleLit(1.5),
                Tok::DoubleLit(0.5),
                Tok::DoubleLit(1000.0),
                Tok::IntLit(97),
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
