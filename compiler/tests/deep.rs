//! Deep input gets a positioned "nested deeper than" diagnostic, never a
//! stack overflow (issue 29). Each case overflowed ucc's stack before.

fn refused(src: &str) {
    let (_, diags) = compiler::parse::parse(src);
    let d = diags
        .iter()
        .find(|d| d.message.contains("nested deeper than"))
        .unwrap_or_else(|| panic!("no depth diagnostic for {} bytes", src.len()));
    assert!(d.span.start > 0, "diagnostic has a position");
}

#[test]
fn long_sum_is_refused() {
    refused(&format!(
        "main() {{ int x; x = 1{}; }}",
        " + 1".repeat(5000)
    ));
}

#[test]
fn deep_braces_are_refused() {
    refused(&format!(
        "main() {{ {}{} }}",
        "{".repeat(10000),
        "}".repeat(10000)
    ));
}

#[test]
fn deep_parens_ifs_whiles_and_minus_are_refused() {
    refused(&format!(
        "main() {{ int x; x = {}1{}; }}",
        "(".repeat(10000),
        ")".repeat(10000)
    ));
    refused(&format!("main() {{ {} ; }}", "if (1) ".repeat(10000)));
    refused(&format!("main() {{ {} ; }}", "while (1) ".repeat(10000)));
    refused(&format!("main() {{ int x; x = {}1; }}", "- ".repeat(10000)));
}

#[test]
fn shallow_input_is_accepted() {
    let (_, diags) =
        compiler::parse::parse(&format!("main() {{ int x; x = 1{}; }}", " + 1".repeat(100)));
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn conditions_and_arguments_are_siblings_not_levels() {
    // 499 whiles with a condition each, and a call of 300 sums: shallow.
    let src = format!(
        "int f({}) {{ return 0; }}\nmain() {{ int x; x = 0; {}x = x + 1; x = f({}); }}",
        (0..300)
            .map(|i| format!("int a{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        "while (x < 1) ".repeat(499),
        (0..300)
            .map(|i| format!("{i} + {i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    compiler::compile("w.uc", &src).expect("accepted");
}

#[test]
fn blocks_go_on_counting_the_statements_around_them() {
    // 300 ifs, a block, 300 more ifs: 600 statements deep.
    let src = format!(
        "main() {{ int x; x = 0; {}{{ {}x = 1; }} }}",
        "if (1) ".repeat(300),
        "if (1) ".repeat(300)
    );
    refused(&src);
    // Casts are levels too.
    refused(&format!(
        "main() {{ int x; x = {}1; }}",
        "(int)".repeat(600)
    ));
}

#[test]
fn statics_and_globals_past_their_data_segment_are_refused_at_their_declaration() {
    let src = "f() { static long a[8192]; static long b; b = 1; }\nlong g[8193];\nlong h[8192];\nmain() { f(); g[0] = 1; }\n";
    let d = compiler::compile("s.uc", src).expect_err("refused");
    let text = d.render("s.uc", src, false);
    assert!(text.contains("s.uc:1:40"), "{text}");
    assert!(text.contains("s.uc:2:6"), "{text}");
    assert!(!text.contains("s.uc:3:"), "h fits: {text}");
    // The refused ones are still declared: no follow-on errors at their uses.
    assert_eq!(d.0.len(), 2, "{text}");
}
