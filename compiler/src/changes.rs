//! The changes file (SPEC §4.3): the update package descriptor.
//!
//! ```text
//! # pizza2.changes.sd
//! update 1 -> 2
//! changed do_pizza set_oven_temp mix_ingredients bake_pizza
//! together do_pizza set_oven_temp mix_ingredients bake_pizza
//! within 30s
//! atomic
//! strict
//! ```
//!
//! Every line is optional; `#` starts a comment; `changed` and `together`
//! may appear on several lines (`changed` lines accumulate, each `together`
//! line is one group). Errors are [`Diagnostic`]s with spans, so they render
//! with line and column like compile errors.

use crate::diag::{Diagnostic, Diagnostics};
use crate::diff::Diff;
use crate::ir::Span;
use std::collections::HashSet;
use std::time::Duration;

/// A parsed changes file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangesFile {
    /// `update A -> B`: from version A to version B.
    pub update: Option<(u64, u64)>,
    /// `changed P...`: procedures to treat as changed (a superset of the
    /// computed changes); `None` means "use the computed set".
    pub changed: Option<Vec<String>>,
    /// `together P...`: each line one semantic group, as written.
    pub together: Vec<Vec<String>>,
    /// `within D`: the update's deadline.
    pub within: Option<Duration>,
    /// `atomic`: all changed procedures form one group.
    pub atomic: bool,
    /// `strict`: refuse an update that would start a static or global
    /// afresh because its type changed and no mproc carries it.
    pub strict: bool,
}

/// A whitespace-separated word with its byte range.
struct Word<'a> {
    text: &'a str,
    span: Span,
}

fn words(line: &str, base: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Word {
                    text: &line[s..i],
                    span: Span {
                        start: (base + s) as u32,
                        end: (base + i) as u32,
                    },
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a changes file. The file name is not part of the result: render
/// the returned diagnostics with it (`Diagnostics::render(file, src, ..)`).
pub fn parse(_file: &str, src: &str) -> Result<ChangesFile, Diagnostics> {
    let mut cf = ChangesFile::default();
    let mut diags = Vec::new();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    let mut offset = 0;
    for raw in src.split_inclusive('\n') {
        let base = offset;
        offset += raw.len();
        let line = raw.split('#').next().unwrap_or("");
        let ws = words(line, base);
        let Some((kw, args)) = ws.split_first() else {
            continue;
        };
        let whole = Span {
            start: kw.span.start,
            end: args.last().map_or(kw.span.end, |w| w.span.end),
        };
        let single = matches!(kw.text, "update" | "within" | "atomic" | "strict");
        if single {
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kw.text) {
                let (l, _) = crate::diag::line_col(src, first.start as usize);
                diags.push(
                    Diagnostic::error(
                        format!("`{}` appears twice", kw.text),
                        kw.span,
                        "only one such line is allowed",
                    )
                    .with_note(format!("the first one is on line {l}")),
                );
                continue;
            }
            seen.push((kw.text, kw.span));
        }
        match kw.text {
            "update" => match parse_update(args, whole) {
                Ok(u) => cf.update = Some(u),
                Err(d) => diags.push(d),
            },
            "changed" | "together" => {
                if args.is_empty() {
                    diags.push(Diagnostic::error(
                        format!("`{}` needs procedure names", kw.text),
                        kw.span,
                        format!("expected `{} P Q ...`", kw.text),
                    ));
                    continue;
                }
                let mut names = Vec::new();
                for w in args {
                    if is_ident(w.text) {
                        names.push(w.text.to_string());
                    } else {
                        diags.push(Diagnostic::error(
                            format!("`{}` is not a procedure name", w.text),
                            w.span,
                            "expected an identifier",
                        ));
                    }
                }
                if kw.text == "changed" {
                    cf.changed.get_or_insert_with(Vec::new).extend(names);
                } else {
                    cf.together.push(names);
                }
            }
            "within" => match args {
                [d] => match parse_duration(d.text) {
                    Ok(dur) => cf.within = Some(dur),
                    Err(e) => diags.push(Diagnostic::error(
                        format!("bad duration `{}`: {e}", d.text),
                        d.span,
                        "expected a duration like 250ms, 30s or 2m",
                    )),
                },
                _ => diags.push(Diagnostic::error(
                    "`within` takes one duration",
                    whole,
                    "expected `within 30s`",
                )),
            },
            "atomic" | "strict" => {
                if let Some(extra) = args.first() {
                    diags.push(Diagnostic::error(
                        format!("`{}` takes no arguments", kw.text),
                        extra.span,
                        "expected the end of the line",
                    ));
                } else if kw.text == "atomic" {
                    cf.atomic = true;
                } else {
                    cf.strict = true;
                }
            }
            other => diags.push(Diagnostic::error(
                format!("unknown keyword `{other}`"),
                kw.span,
                "expected update, changed, together, within, atomic or strict",
            )),
        }
    }
    if diags.is_empty() {
        Ok(cf)
    } else {
        Err(Diagnostics(diags))
    }
}

fn parse_update(args: &[Word<'_>], whole: Span) -> Result<(u64, u64), Diagnostic> {
    // Accept `1 -> 2`, `1->2` and `1 ->2`: join the words and split on the
    // arrow, tracking where each number was for the message.
    let joined: String = args.iter().map(|w| w.text).collect::<Vec<_>>().join(" ");
    let usage = || {
        Diagnostic::error(
            "malformed `update` line",
            whole,
            "expected `update A -> B` with version numbers A and B",
        )
    };
    let Some((a, b)) = joined.split_once("->") else {
        return Err(usage());
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Result<u64, Diagnostic> {
        s.parse::<u64>().map_err(|_| {
            // Point at the word holding the bad number if it is one.
            let span = args
                .iter()
                .find(|w| w.text.contains(s) && !s.is_empty())
                .map_or(whole, |w| w.span);
            Diagnostic::error(
                format!("bad version number `{s}`"),
                span,
                "expected a non-negative integer",
            )
        })
    };
    if a.is_empty() || b.is_empty() {
        return Err(usage());
    }
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(Diagnostic::error(
            format!("`update {a} -> {b}` goes backwards"),
            whole,
            "an update goes from an older version to a newer one (A < B)",
        ));
    }
    Ok((a, b))
}

/// Parses a duration: a number followed by `ms`, `s`, `m` or `h`
/// (`250ms`, `2s`, `1.5s`, `1m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{s}` has no unit (ms, s, m or h)"))?;
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return Err(format!("`{s}` does not start with a number"));
    }
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{num}` is not a number"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        other => return Err(format!("unknown unit `{other}` (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}` is out of range: {e}"))
}

/// Checks a changes file against the computed difference of the versions:
/// every named procedure must exist in the new version, and a `changed`
/// line may add procedures but may not omit a computed change.
pub fn check_against(cf: &ChangesFile, diff: &Diff) -> Result<(), String> {
    let known: HashSet<&str> = diff
        .changed
        .iter()
        .map(|c| c.name.as_str())
        .chain(diff.unchanged.iter().map(String::as_str))
        .chain(diff.added.iter().map(String::as_str))
        .collect();
    let mut unknown: Vec<&str> = cf
        .changed
        .iter()
        .flatten()
        .chain(cf.together.iter().flatten())
        .map(String::as_str)
        .filter(|n| !known.contains(n))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    if !unknown.is_empty() {
        return Err(format!(
            "the changes file names procedures that the new version does not have: {}",
            unknown.join(", ")
        ));
    }
    if let Some(listed) = &cf.changed {
        let listed: HashSet<&str> = listed.iter().map(String::as_str).collect();
        let omitted: Vec<&str> = diff
            .changed
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| !listed.contains(n))
            .collect();
        if !omitted.is_empty() {
            return Err(format!(
                "the `changed` line omits procedures that did change: {} (it may add procedures, not drop them)",
                omitted.join(", ")
            ));
        }
    }
    Ok(())
}
