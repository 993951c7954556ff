//! A program of several files (`#include "FILE"`, SPEC 2.3) as ONE text.
//!
//! [`read_program`](crate::read_program) appends every file reachable by
//! `#include "..."` lines after the main file, each behind a marker line
//! that names it (relative to the main file's directory), so that:
//! - every span in the compiler stays a byte offset into one `&str`, and
//!   `&text[span]` keeps working;
//! - every entry point that takes `(file, src)` ([`crate::compile`],
//!   [`crate::diag::Diagnostics::render`], the VM's backtraces) works on the
//!   combined text unchanged: the text describes its own files, and
//!   [`locate`] maps an offset back to (file, line, column).
//!
//! Markers start with a NUL byte, which no UC source file may hold
//! ([`read_program`](crate::read_program) refuses one), so a text without a
//! NUL is exactly one file: the old single-text case costs one `memchr`.
//!
//! Layout: `MAIN` then, per further file, either `\0F` REL `\0\n` CONTENT
//! (a file that was read) or `\0M` REL `\0` REASON `\n` (a file that could
//! not be read: an error only if the preprocessor really includes it).

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

/// One file of a combined text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    /// Its path relative to the main file's directory, lexically
    /// normalized (`""` for the main file itself).
    pub(crate) rel: String,
    /// Its text's byte range in the combined text (empty when missing).
    pub(crate) content: Range<usize>,
    /// Why it could not be read, if it could not.
    pub(crate) missing: Option<String>,
}

/// The files of a combined text, main file first.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) files: Vec<Region>,
}

impl Table {
    /// Reads the markers of `text` (a text without markers is one file).
    pub(crate) fn of(text: &str) -> Table {
        let bytes = text.as_bytes();
        let mut files = vec![Region {
            rel: String::new(),
            content: 0..text.len(),
            missing: None,
        }];
        let mut at = 0;
        while let Some(i) = memchr(bytes, at) {
            at = i + 1;
            let Some((region, next)) = marker(text, i) else {
                continue;
            };
            // The previous file ends where this marker starts.
            if let Some(last) = files.iter_mut().rev().find(|f| f.missing.is_none()) {
                last.content.end = last.content.end.min(i);
            }
            files.push(region);
            at = next;
        }
        Table { files }
    }

    /// The file whose relative path is `rel`.
    pub(crate) fn find(&self, rel: &str) -> Option<usize> {
        self.files
            .iter()
            .skip(1)
            .position(|f| f.rel == rel)
            .map(|i| i + 1)
    }

    /// The file that holds byte `offset` (the main file for an offset in
    /// no file, such as a marker).
    pub(crate) fn at(&self, offset: usize) -> usize {
        self.files
            .iter()
            .rposition(|f| {
                f.missing.is_none() && f.content.start <= offset && offset <= f.content.end
            })
            .unwrap_or(0)
    }

    /// The name file `i` is shown by, when the main file is shown as `main`.
    pub(crate) fn display(&self, main: &str, i: usize) -> String {
        if i == 0 {
            main.to_string()
        } else {
            display_name(main, &self.files[i].rel)
        }
    }
}

fn memchr(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == 0)
        .map(|i| i + from)
}

/// The marker at byte `i` (a NUL), and where the text after it starts.
fn marker(text: &str, i: usize) -> Option<(Region, usize)> {
    let rest = &text[i + 1..];
    let kind = rest.as_bytes().first().copied()?;
    if kind != b'F' && kind != b'M' {
        return None;
    }
    let name_end = rest[1..].find(['\0', '\n'])? + 1;
    if rest.as_bytes()[name_end] != 0 {
        return None;
    }
    let rel = rest[1..name_end].to_string();
    let after = i + 1 + name_end + 1;
    if kind == b'F' {
        if text.as_bytes().get(after) != Some(&b'\n') {
            return None;
        }
        let start = after + 1;
        Some((
            Region {
                rel,
                content: start..text.len(),
                missing: None,
            },
            start,
        ))
    } else {
        let line_end = text[after..].find('\n').map_or(text.len(), |n| after + n);
        let reason = text[after..line_end].to_string();
        if reason.contains('\0') {
            return None;
        }
        Some((
            Region {
                rel,
                content: after..after,
                missing: Some(reason),
            },
            (line_end + 1).min(text.len()),
        ))
    }
}

/// Where a byte of a (possibly combined) source text was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, named as the user sees it (relative to where the main
    /// file was named from).
    pub file: String,
    /// 1-based line in that file.
    pub line: usize,
    /// 1-based column (in characters) in that line.
    pub column: usize,
}

/// The file, line and column of byte `offset` of `text`, whose main file is
/// shown as `main` (what [`crate::compile`] was given as `file`).
pub fn locate(text: &str, main: &str, offset: usize) -> Location {
    let table = Table::of(text);
    let i = table.at(offset);
    let r = &table.files[i];
    let content = &text[r.content.clone()];
    let (line, column) = crate::diag::line_col(content, offset.saturating_sub(r.content.start));
    Location {
        file: table.display(main, i),
        line,
        column,
    }
}

/// `rel` (relative to the main file's directory) as shown to the user.
pub(crate) fn display_name(main: &str, rel: &str) -> String {
    let dir = Path::new(main).parent().unwrap_or(Path::new(""));
    normalize(&dir.join(rel))
}

/// `name` (from `#include "name"` in the file `including`, relative to the
/// main file's directory) relative to the main file's directory.
pub(crate) fn resolve(including: &str, name: &str) -> String {
    let dir = Path::new(including).parent().unwrap_or(Path::new(""));
    normalize(&dir.join(name))
}

/// A path with `.` dropped and `dir/..` folded, without asking the file
/// system (a file that does not exist still gets one name).
fn normalize(p: &Path) -> String {
    let mut out = PathBuf::new();
    let mut depth = 0usize; // normal components in `out`
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            Component::Normal(_) => {
                out.push(c);
                depth += 1;
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

/// The names in the `#include "NAME"` lines of `text`, found line by line
/// without preprocessing (a line inside a false `#if` counts too: loading
/// is lenient, and only the preprocessor decides what is included).
pub(crate) fn include_names(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("include") else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = rest.find('"')
            && end > 0
        {
            out.push(&rest[..end]);
        }
    }
    out
}

/// At most this many files are loaded for one program; the rest count as
/// missing (a directory of symlinks cannot make a load run forever).
pub const MAX_FILES: usize = 1000;

/// Appends the files `main` includes (transitively) to `main`'s text,
/// reading each with `read` (`Err(reason)` for one that cannot be read);
/// `read` gets the path relative to the main file's directory. What
/// [`crate::read_program`] does with the file system, for tests and fuzzing
/// with files in memory.
pub fn combine(main_text: String, read: &mut dyn FnMut(&str) -> Result<String, String>) -> String {
    let mut files: Vec<(String, Result<String, String>)> = Vec::new();
    let mut queue: Vec<(String, Vec<String>)> = vec![(
        String::new(),
        include_names(&main_text)
            .into_iter()
            .map(String::from)
            .collect(),
    )];
    let mut q = 0;
    while q < queue.len() {
        let (from, names) = queue[q].clone();
        q += 1;
        for name in names {
            let rel = resolve(&from, &name);
            if rel.contains(['\0', '\n']) || files.iter().any(|(r, _)| *r == rel) {
                continue;
            }
            let got = if files.len() >= MAX_FILES {
                Err(format!("more than {MAX_FILES} files are included"))
            } else {
                read(&rel)
            };
            if let Ok(text) = &got {
                let names = include_names(text).into_iter().map(String::from).collect();
                queue.push((rel.clone(), names));
            }
            files.push((rel, got));
        }
    }
    let mut out = main_text;
    for (rel, got) in files {
        match got {
            Ok(text) => {
                out.push_str(&format!("\0F{rel}\0\n"));
                out.push_str(&text);
            }
            Err(reason) => {
                let reason = reason.replace(['\0', '\n'], " ");
                out.push_str(&format!("\0M{rel}\0{reason}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_text_maps_offsets_back_to_files() {
        let mut read = |rel: &str| match rel {
            "lib.h" => Ok("int x;\n#include \"sub/y.h\"\n".to_string()),
            "sub/y.h" => Ok("int y;\n".to_string()),
            _ => Err(format!("cannot read {rel}")),
        };
        let text = combine(
            "#include \"lib.h\"\n#include \"nope.h\"\nmain() {}\n".into(),
            &mut read,
        );
        let t = Table::of(&text);
        assert_eq!(t.files.len(), 4, "{t:?}");
        assert_eq!(t.files[1].rel, "lib.h");
        assert_eq!(t.files[2].rel, "nope.h");
        assert_eq!(t.files[2].missing.as_deref(), Some("cannot read nope.h"));
        assert_eq!(t.files[3].rel, "sub/y.h");
        let y = text.find("int y").unwrap();
        assert_eq!(
            locate(&text, "dir/main.uc", y + 4),
            Location {
                file: "dir/sub/y.h".into(),
                line: 1,
                column: 5
            }
        );
        let m = text.find("main()").unwrap();
        assert_eq!(locate(&text, "dir/main.uc", m).line, 3);
        assert_eq!(t.find("sub/y.h"), Some(3));
        assert_eq!(resolve("sub/y.h", "../lib.h"), "lib.h");
    }

    #[test]
    fn a_text_without_markers_is_one_file() {
        let t = Table::of("a\0b\0Fx\n");
        assert_eq!(t.files.len(), 1);
        assert_eq!(t.files[0].content, 0..7);
    }
}
