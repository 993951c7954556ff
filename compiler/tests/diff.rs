//! Version comparison: what counts as a change, and what does not.

use compiler::diff::{Reason, diff};
use compiler::ir::Module;

fn m(src: &str) -> Module {
    compiler::compile("t.uc", src).unwrap_or_else(|d| panic!("{}", d.render("t.uc", src, false)))
}

fn pizza(n: u32) -> String {
    let p = format!(
        "{}/../samples/pizza/pizza{n}.uc",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn pizza1_to_pizza2_changes_exactly_the_four_procedures() {
    let d = diff(&m(&pizza(1)), &m(&pizza(2)));
    assert_eq!(
        d.changed_names(),
        ["do_pizza", "set_oven_temp", "mix_ingredients", "bake_pizza"]
    );
    assert_eq!(d.unchanged, ["main"]);
    assert!(d.added.is_empty() && d.removed.is_empty());
    assert_eq!(d.changed[0].reasons, [Reason::Code, Reason::MProc]);
    assert_eq!(d.changed[1].reasons, [Reason::Code]);
    assert!(d.changed_globals.is_empty());
}

#[test]
fn reformatting_comments_and_local_renames_are_not_changes() {
    let old = pizza(1);
    // Strip every comment, squeeze the layout, and rename two locals.
    let mut new = String::new();
    let mut rest = old.as_str();
    while let Some(i) = rest.find("/*") {
        new.push_str(&rest[..i]);
        let j = rest[i..].find("*/").unwrap() + i + 2;
        rest = &rest[j..];
    }
    new.push_str(rest);
    let new = new
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n// a comment\n")
        .replace("int temp = 400;", "int t = 400;")
        .replace("degrees \", temp);", "degrees \", t);")
        .replace("double dough = 0.75;", "double d0 = 0.75;")
        .replace("pd, dough);", "pd, d0);");
    assert!(!new.contains(" temp") && !new.contains(", dough)"));
    assert_ne!(old, new);
    let d = diff(&m(&old), &m(&new));
    assert!(d.changed.is_empty(), "{d}");
    assert_eq!(d.unchanged.len(), 5);
    assert!(d.is_empty());
}

#[test]
fn changed_static_initializer_is_statics() {
    let d = diff(
        &m("f() { static int pd = 1; pd++; } main() { f(); }"),
        &m("f() { static int pd = 100; pd++; } main() { f(); }"),
    );
    assert_eq!(d.changed_names(), ["f"]);
    assert_eq!(d.changed[0].reasons, [Reason::Statics]);
}

#[test]
fn renamed_static_is_statics_because_statics_carry_by_name() {
    let d = diff(
        &m("f() { static int pd = 1; pd++; } main() { f(); }"),
        &m("f() { static int pizza = 1; pizza++; } main() { f(); }"),
    );
    assert_eq!(d.changed[0].reasons, [Reason::Statics]);
}

#[test]
fn changed_signature_is_signature() {
    let d = diff(
        &m("f(a) int a; { return 1; } main() { f(1); }"),
        &m("f(a) double a; { return 1; } main() { f(1); }"),
    );
    let f = d.changed.iter().find(|c| c.name == "f").unwrap();
    assert!(f.reasons.contains(&Reason::Signature), "{f}");
    // main now converts its argument, so its code changed too.
    let main = d.changed.iter().find(|c| c.name == "main").unwrap();
    assert_eq!(main.reasons, [Reason::Code]);

    let d = diff(
        &m("int f() { return 1; } main() { f(); }"),
        &m("void f() { } main() { f(); }"),
    );
    assert!(d.changed[0].reasons.contains(&Reason::Signature));
}

#[test]
fn changed_callees_are_code() {
    let d = diff(
        &m("g() { } h() { } f() { g(); } main() { f(); }"),
        &m("g() { } h() { } f() { h(); } main() { f(); }"),
    );
    assert_eq!(d.changed_names(), ["f"]);
    assert_eq!(d.changed[0].reasons, [Reason::Code]);
    assert_eq!(d.unchanged, ["g", "h", "main"]);
}

#[test]
fn constants_compare_exactly() {
    // 0.0 and -0.0 are == as floats but print differently.
    let d = diff(
        &m(r#"main() { printf("%f\n", 0.0); }"#),
        &m(r#"main() { printf("%f\n", -0.0); }"#),
    );
    assert_eq!(d.changed_names(), ["main"]);
}

#[test]
fn globals_used_iproc_added_removed() {
    let old = m(
        "int g = 1; int h = 2; int gone = 0; f(int a) { return a; } old_only() { } main() { f(g); }",
    );
    let new = m(
        "int g = 5; int h = 2; int fresh = 0; f(double a) { return 1; } \
         iproc f(int a) { return new.f(a); } added() { } main() { f(h); }",
    );
    let d = diff(&old, &new);
    let f = d.changed.iter().find(|c| c.name == "f").unwrap();
    assert!(f.reasons.contains(&Reason::IProc), "{f}");
    let main = d.changed.iter().find(|c| c.name == "main").unwrap();
    assert!(main.reasons.contains(&Reason::GlobalsUsed), "{main}");
    assert_eq!(d.added, ["added"]);
    assert_eq!(d.removed, ["old_only"]);
    assert_eq!(d.changed_globals, ["g"]);
    assert_eq!(d.added_globals, ["fresh"]);
    assert_eq!(d.removed_globals, ["gone"]);
}

#[test]
fn a_global_with_an_mproc_counts_as_changed() {
    let d = diff(
        &m("int c = 0; main() { c++; }"),
        &m("int c = 0; mproc c { c = old.c * 100; } main() { c++; }"),
    );
    assert_eq!(d.changed_globals, ["c"]);
    assert!(d.changed.is_empty());
}

#[test]
fn display_lists_each_section() {
    let d = diff(&m(&pizza(1)), &m(&pizza(2)));
    let s = d.to_string();
    assert!(s.contains("  do_pizza (code, mproc)\n"), "{s}");
    assert!(s.contains("unchanged procedures: main\n"), "{s}");
    assert!(s.contains("added procedures: (none)\n"), "{s}");
}
