//! Diagnostics: what every stage reports, rendered in one place.
//!
//! Stages build [`Diagnostic`]s with byte spans and never format positions
//! themselves; [`Diagnostics::render`] turns them into `file:line:col`
//! messages with the source line and a caret (codespan-reporting), so every
//! error in the product looks the same.

use crate::ir::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::term::{self, termcolor};
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Compilation fails.
    Error,
    /// Worth saying, not fatal.
    Warning,
}

/// One message about one place in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The headline: what is wrong.
    pub message: String,
    /// The byte range it is about.
    pub span: Span,
    /// Short text under the caret: what was expected there.
    pub label: String,
    /// Extra lines (`= note: ...`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: label.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// The diagnostics of one compilation, in source order of discovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// True if any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Renders every diagnostic the way `ucc` prints them: `file:line:col`,
    /// the source line, a caret under the span, the label and the notes.
    /// `color` adds ANSI colors (for a terminal).
    ///
    /// `src` may be the combined text of a program of several files
    /// ([`crate::read_program`]): each diagnostic then names the file and
    /// shows the line where its text was written (`lib.h:3:5`), with
    /// included files named relative to `file_name`'s directory.
    pub fn render(&self, file_name: &str, src: &str, color: bool) -> String {
        // One file is a table of one: the same rendering either way.
        self.render_files(file_name, src, &crate::source::Table::of(src), color)
    }
}

impl Diagnostics {
    fn render_files(
        &self,
        file_name: &str,
        src: &str,
        table: &crate::source::Table,
        color: bool,
    ) -> String {
        let mut files = codespan_reporting::files::SimpleFiles::new();
        let ids: Vec<usize> = (0..table.files.len())
            .map(|i| {
                files.add(
                    table.display(file_name, i),
                    &src[table.files[i].content.clone()],
                )
            })
            .collect();
        let mut buf = if color {
            termcolor::Buffer::ansi()
        } else {
            termcolor::Buffer::no_color()
        };
        let config = term::Config::default();
        for d in &self.0 {
            let at = (d.span.start as usize).min(src.len());
            let i = table.at(at);
            let r = &table.files[i].content;
            let start = at.clamp(r.start, r.end) - r.start;
            let end = (d.span.end as usize).clamp(r.start + start, r.end) - r.start;
            let severity = match d.severity {
                Severity::Error => CsSeverity::Error,
                Severity::Warning => CsSeverity::Warning,
            };
            let cs = CsDiagnostic::new(severity)
                .with_message(&d.message)
                .with_labels(vec![
                    Label::primary(ids[i], start..end).with_message(&d.label),
                ])
                .with_notes(d.notes.clone());
            if term::emit(&mut buf, &config, &files, &cs).is_err() {
                let l = crate::source::locate(src, file_name, at);
                let fallback = format!(
                    "error: {}\n  --> {}:{}:{}\n",
                    d.message, l.file, l.line, l.column
                );
                let _ = std::io::Write::write_all(&mut buf, fallback.as_bytes());
            }
        }
        String::from_utf8_lossy(buf.as_slice()).into_owned()
    }
}

impl fmt::Display for Diagnostics {
    /// Without the source at hand: one `error: message (bytes a..b)` line
    /// each. Use [`Diagnostics::render`] for the real thing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let sev = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            write!(
                f,
                "{sev}: {} (bytes {}..{})",
                d.message, d.span.start, d.span.end
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `src`.
/// Offsets past the end are clamped to the end.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_chars() {
        let src = "ab\ncdé\nf";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 2), (1, 3));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 7), (2, 4)); // after the two-byte é
        assert_eq!(line_col(src, 8), (3, 1));
        assert_eq!(line_col(src, 999), (3, 2));
    }

    #[test]
    fn render_shows_position_line_and_caret() {
        let src = "main() {\n  x = 1 +;\n}\n";
        let d = Diagnostics(vec![Diagnostic::error(
            "unexpected `;`",
            Span { start: 18, end: 19 },
            "expected an expression",
        )]);
        let out = d.render("t.uc", src, false);
        assert!(out.contains("t.uc:2:10"), "{out}");
        assert!(out.contains("x = 1 +;"), "{out}");
        assert!(out.contains('^'), "{out}");
        assert!(out.contains("expected an expression"), "{out}");
    }
}
