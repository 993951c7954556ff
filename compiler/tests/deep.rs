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
