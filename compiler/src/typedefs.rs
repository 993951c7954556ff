//! Which identifiers are type names: C's grammar cannot tell `T * x;` (a
//! declaration) from `a * b;` (an expression) without knowing that `T` was
//! declared by a `typedef`, so the token stream marks such names
//! ([`Tok::TypeIdent`]) before the parser sees them — the classic "lexer
//! hack", done on the preprocessor's output.
//!
//! A `typedef` declaration declares, in each of its comma-separated
//! declarators, the first identifier that is not a struct/union/enum tag,
//! not already a type name and not inside the braces of a struct or enum
//! body (`typedef int (*cmp)(const void *a, const void *b);` declares
//! `cmp`). The name is a type name from the `;` that ends the declaration
//! on. Names are tracked for the whole translation unit, not per block: a
//! variable named like a typedef elsewhere is read as the type name (C
//! would shadow it).

use crate::lexer::Tok;
use std::collections::HashSet;

/// The typedef names seen so far and the `typedef` being read.
#[derive(Default)]
pub(crate) struct Tracker {
    names: HashSet<String>,
    current: Option<Current>,
    /// The previous token was `struct`, `union`, `enum`, `.` or `->`: an
    /// identifier after it is a tag or a member, never a type name.
    after_tag: bool,
}

/// A `typedef` declaration in progress.
#[derive(Default)]
struct Current {
    braces: u32,
    parens: u32,
    /// The declarator being read has its name already.
    named: bool,
    declared: Vec<String>,
}

impl Tracker {
    /// `tok` as the parser should see it: an identifier that names a
    /// type becomes [`Tok::TypeIdent`].
    pub(crate) fn mark(&mut self, tok: Tok) -> Tok {
        let after_tag = std::mem::replace(
            &mut self.after_tag,
            matches!(&tok, Tok::KwEnum | Tok::Dot | Tok::Arrow)
                || matches!(&tok, Tok::Unsupported(w) if w == "struct" || w == "union"),
        );
        if let Some(cur) = &mut self.current {
            match &tok {
                Tok::LBrace => cur.braces += 1,
                Tok::RBrace => cur.braces = cur.braces.saturating_sub(1),
                Tok::LParen => cur.parens += 1,
                Tok::RParen => cur.parens = cur.parens.saturating_sub(1),
                Tok::Comma if cur.braces == 0 && cur.parens == 0 => cur.named = false,
                Tok::Semi if cur.braces == 0 => {
                    let done = self.current.take().expect("reading a typedef");
                    self.names.extend(done.declared);
                    return tok;
                }
                Tok::Ident(n)
                    if cur.braces == 0 && !cur.named && !after_tag && !self.names.contains(n) =>
                {
                    cur.named = true;
                    cur.declared.push(n.clone());
                    return tok;
                }
                _ => {}
            }
        } else if tok == Tok::KwTypedef {
            self.current = Some(Current::default());
            return tok;
        }
        match tok {
            Tok::Ident(n) if !after_tag && self.names.contains(&n) => Tok::TypeIdent(n),
            t => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::Lexer;

    fn marked(src: &str) -> Vec<String> {
        Lexer::new(src)
            .filter_map(|t| match t.unwrap().1 {
                Tok::TypeIdent(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn declared_names_are_types_after_their_typedef() {
        assert_eq!(
            marked("T x; typedef int T; T y; int f(T a) { return (T) a; }"),
            ["T", "T", "T"]
        );
        // The declared name, not the tag, not a member, not a parameter.
        assert_eq!(
            marked(
                "typedef enum color { RED } color; color c; typedef int (*cmp)(int a, int b); cmp f; s.color;"
            ),
            ["color", "cmp"]
        );
        // Several declarators, one of them built on the type just made.
        assert_eq!(marked("typedef long L, M; L a; M b;"), ["L", "M"]);
    }
}
