//! Rendering δ* a corner at a time: `load` and `delta` show the first
//! [`SHOWN`] rows and columns and say how to see the rest, because the whole
//! matrix of an n-procedure program has n² cells (10^8 at 10,000).

use pup_client::proto::DeltaViewInfo;

/// Rows and columns of δ* shown at once.
pub(crate) const SHOWN: u32 = 16;

/// The line that says how to see more of an `n`-procedure δ* of `version`.
pub(crate) fn more_line(version: u64, n: usize) -> String {
    format!(
        "    ({n} x {n}; `delta {version} at ROW COL` shows the {SHOWN} x {SHOWN} block from there, `delta {version} NAME` the procedures NAME reaches)"
    )
}

/// `delta [V] [at ROW COL | NAME]`.
pub(crate) fn lines(program: &str, v: &DeltaViewInfo, of: Option<&str>) -> Vec<String> {
    let n = v.total as usize;
    let mut out = vec![format!(
        "delta* of version {} of program {program} ({n} procedures):",
        v.version
    )];
    if n > 0 && v.components as usize != n {
        out.push(format!(
            "  ({} strongly connected components: some procedures call each other in cycles)",
            v.components
        ));
    }
    if let Some(name) = of {
        return reach_lines(out, name, v);
    }
    if v.rows == v.cols {
        for (i, name) in &v.rows {
            out.push(format!("  {i:4} {name}"));
        }
    } else {
        out.push("  rows:".into());
        out.extend(v.rows.iter().map(|(i, name)| format!("  {i:4} {name}")));
        out.push("  columns:".into());
        out.extend(v.cols.iter().map(|(i, name)| format!("  {i:4} {name}")));
    }
    let right = v.cols.last().is_some_and(|c| (c.0 as usize) + 1 < n);
    let left = v.cols.first().is_some_and(|c| c.0 > 0);
    if v.rows.first().is_some_and(|r| r.0 > 0) {
        out.push("    :".into());
    }
    for row in &v.cells {
        out.push(format!(
            "    {}{row}{}",
            if left { "... " } else { "" },
            if right { " ..." } else { "" }
        ));
    }
    if v.rows.last().is_some_and(|r| (r.0 as usize) + 1 < n) {
        out.push("    :".into());
    }
    if v.rows.len() < n || v.cols.len() < n {
        let span = |s: &[(u32, String)]| match (s.first(), s.last()) {
            (Some(a), Some(b)) => format!("{}-{}", a.0, b.0),
            _ => "none".into(),
        };
        out.push(format!(
            "    (rows {} and columns {} of {n} x {n} shown)",
            span(&v.rows),
            span(&v.cols)
        ));
        out.push(more_line(v.version, n));
    }
    out
}

/// `delta [V] NAME`: the procedures NAME reaches.
fn reach_lines(mut out: Vec<String>, name: &str, v: &DeltaViewInfo) -> Vec<String> {
    out.push(format!(
        "  {name} reaches {} procedures: {}{}",
        v.reach_count,
        v.reach.join(" "),
        if (v.reach.len() as u32) < v.reach_count {
            " ..."
        } else {
            ""
        }
    ));
    out
}
