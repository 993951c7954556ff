//! The changes file parser and its check against a computed diff.

use compiler::changes::{ChangesFile, check_against, parse, parse_duration};
use std::time::Duration;

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../samples/pizza/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn err(src: &str) -> String {
    match parse("c.changes", src) {
        Ok(cf) => panic!("parsed {cf:?}"),
        Err(d) => d.render("c.changes", src, false),
    }
}

#[test]
fn parses_the_pizza_descriptors() {
    let cf = parse("pizza2.changes.sd", &sample("pizza2.changes.sd")).unwrap();
    let four: Vec<String> = ["do_pizza", "set_oven_temp", "mix_ingredients", "bake_pizza"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        cf,
        ChangesFile {
            update: Some((1, 2)),
            changed: Some(four.clone()),
            together: vec![four.clone()],
            within: Some(Duration::from_secs(30)),
            atomic: false,
            strict: false,
        }
    );
    let cf = parse("pizza2.changes", &sample("pizza2.changes")).unwrap();
    assert!(cf.together.is_empty() && cf.within.is_none());
    assert_eq!(cf.changed, Some(four));
}

#[test]
fn every_line_is_optional_and_comments_anywhere() {
    assert_eq!(parse("c", "").unwrap(), ChangesFile::default());
    let cf = parse(
        "c",
        "# only a comment\n\n   atomic   # trailing\ntogether a b\ntogether c\nupdate 3->4\nchanged x\nchanged y\n",
    )
    .unwrap();
    assert!(cf.atomic && !cf.strict);
    assert_eq!(cf.together, vec![vec!["a", "b"], vec!["c"]]);
    assert_eq!(cf.update, Some((3, 4)));
    assert_eq!(cf.changed, Some(vec!["x".to_string(), "y".to_string()]));
    assert_eq!(cf.within, None);
}

#[test]
fn unknown_keyword_is_an_error_with_line_and_column() {
    let out = err("update 1 -> 2\n  chnaged do_pizza\n");
    assert!(out.contains("unknown keyword `chnaged`"), "{out}");
    assert!(out.contains("c.changes:2:3"), "{out}");
    assert!(out.contains('^'), "{out}");
}

#[test]
fn bad_numbers_and_durations_are_errors_with_positions() {
    let out = err("update one -> 2\n");
    assert!(out.contains("bad version number `one`"), "{out}");
    assert!(out.contains("c.changes:1:8"), "{out}");

    let out = err("update 2 -> 1\n");
    assert!(out.contains("goes backwards"), "{out}");

    let out = err("update 1 2\n");
    assert!(out.contains("expected `update A -> B`"), "{out}");

    let out = err("\nwithin 30\n");
    assert!(out.contains("bad duration `30`"), "{out}");
    assert!(out.contains("c.changes:2:8"), "{out}");

    let out = err("within 30 s\n");
    assert!(out.contains("`within` takes one duration"), "{out}");

    let out = err("within 5parsecs\n");
    assert!(out.contains("unknown unit `parsecs`"), "{out}");
}

#[test]
fn several_errors_are_reported_together() {
    let d = parse(
        "c",
        "within 1s\nwithin 2s\natomic now\nchanged\ntogether a-b\nfrobnicate\nstrict\nstrict yes\n",
    )
    .unwrap_err();
    let msgs: Vec<&str> = d.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "`within` appears twice",
            "`atomic` takes no arguments",
            "`changed` needs procedure names",
            "`a-b` is not a procedure name",
            "unknown keyword `frobnicate`",
            "`strict` appears twice",
        ]
    );
}

#[test]
fn strict_refuses_resets() {
    let cf = parse("c", "update 1 -> 2\nstrict\n").unwrap();
    assert!(cf.strict && !cf.atomic);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert!(parse_duration("30").unwrap_err().contains("no unit"));
    assert!(parse_duration("ms").is_err());
    assert!(parse_duration("1x").unwrap_err().contains("unknown unit"));
    assert!(parse_duration("1..2s").is_err());
}

fn pizza_diff() -> compiler::diff::Diff {
    let m = |n: u32| {
        let src = sample(&format!("pizza{n}.uc"));
        compiler::compile("p.uc", &src).unwrap()
    };
    compiler::diff::diff(&m(1), &m(2))
}

#[test]
fn check_against_allows_additions_and_refuses_omissions() {
    let d = pizza_diff();
    let ok = parse("c", &sample("pizza2.changes.sd")).unwrap();
    assert_eq!(check_against(&ok, &d), Ok(()));

    // Adding an unchanged procedure is allowed.
    let more = parse(
        "c",
        "changed main do_pizza set_oven_temp mix_ingredients bake_pizza",
    )
    .unwrap();
    assert_eq!(check_against(&more, &d), Ok(()));

    // Omitting computed changes is an error that names them.
    let fewer = parse("c", "changed do_pizza set_oven_temp").unwrap();
    let e = check_against(&fewer, &d).unwrap_err();
    assert!(e.contains("mix_ingredients, bake_pizza"), "{e}");

    // Names must exist in the new version (in `changed` and `together`).
    let unknown = parse("c", "together do_pizza make_coffee").unwrap();
    let e = check_against(&unknown, &d).unwrap_err();
    assert!(e.contains("make_coffee") && !e.contains("do_pizza"), "{e}");

    // No `changed` line: the computed set is used, nothing to check.
    assert_eq!(check_against(&ChangesFile::default(), &d), Ok(()));
}
