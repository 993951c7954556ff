//! The error corpus: every program in `tests/errors/` must fail to compile,
//! and its rendered diagnostics (color off) are snapshot-tested, so a change
//! in wording, position or recovery shows up in review.
//!
//! Regenerate after an intended change with
//! `INSTA_UPDATE=always cargo test -p compiler --test diagnostics`, then read
//! the `.snap` files.

use std::path::Path;

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/errors exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "uc"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).expect("readable .uc"))
        })
        .collect()
}

#[test]
fn corpus_is_large_enough() {
    assert!(
        corpus().len() >= 25,
        "the error corpus needs at least 25 programs"
    );
}

#[test]
fn every_error_program_fails_with_positions_and_carets() {
    for (stem, src) in corpus() {
        let name = format!("errors/{stem}.uc");
        let diags = match compiler::compile(&name, &src) {
            Ok(_) => panic!("{name} compiled, but it is in the error corpus"),
            Err(d) => d,
        };
        assert!(!diags.0.is_empty(), "{name}: no diagnostics");
        let out = diags.render(&name, &src, false);
        // One `file:line:col` header and one caret line per diagnostic.
        let headers = out.matches(&format!("{name}:")).count();
        assert_eq!(
            headers,
            diags.0.len(),
            "{name}: every diagnostic names file:line:col\n{out}"
        );
        let carets = out.lines().filter(|l| l.contains('^')).count();
        assert!(
            carets >= diags.0.len(),
            "{name}: every diagnostic has a caret\n{out}"
        );
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => src.as_str(),
        }, {
            insta::assert_snapshot!(stem, out);
        });
    }
}

#[test]
fn several_independent_errors_are_all_reported() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors/const_assigned.uc"),
    )
    .unwrap();
    let d = compiler::compile("x.uc", &src).unwrap_err();
    assert_eq!(d.0.len(), 5, "{d}");
    assert!(d.0.iter().all(|d| d.message.contains("is const")), "{d}");
    // In source order.
    assert!(
        d.0.windows(2).all(|w| w[0].span.start < w[1].span.start),
        "{d}"
    );

    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors/syntax_several_errors.uc"),
    )
    .unwrap();
    let d = compiler::compile("x.uc", &src).unwrap_err();
    assert_eq!(d.0.len(), 3, "{d}");
}

/// Issue 12: several syntax errors, including the parser's final one and
/// the preprocessor's, come out in source order.
#[test]
fn diagnostics_are_in_source_order() {
    for src in [
        "#if 1 +\n#endif\nmain() { int x = ; }\n#line 3\nf() { y = ; }\nint g(",
        "main() { x = 1 +; }\n#bogus\nf() { int; }\n}",
    ] {
        let d = compiler::compile("x.uc", src).unwrap_err();
        assert!(d.0.len() >= 3, "{d}");
        assert!(
            d.0.windows(2).all(|w| w[0].span.start <= w[1].span.start),
            "{d}"
        );
    }
}
