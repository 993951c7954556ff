//! Unit tests of the pup's program state.

use super::graph::dot_quote;
use super::*;
use vm::ExitStatus;

#[test]
fn update_requests_are_checked() {
    let ok = UpdateSpec {
        to: Some(2),
        within_ms: Some(1000),
        ..Default::default()
    };
    assert!(check_spec(&ok).is_ok());
    let zero = UpdateSpec {
        to: Some(0),
        ..Default::default()
    };
    assert!(check_spec(&zero).is_err());
    let long = UpdateSpec {
        within_ms: Some(u64::MAX),
        ..Default::default()
    };
    assert!(
        check_spec(&long)
            .unwrap_err()
            .contains("longer than the limit")
    );
    let empty = UpdateSpec {
        together: vec![vec![]],
        ..Default::default()
    };
    assert!(check_spec(&empty).is_err());
    let big = UpdateSpec {
        changed: Some(vec!["x".repeat(MAX_NAME_LEN + 1)]),
        ..Default::default()
    };
    assert!(check_spec(&big).is_err());
}

#[test]
fn dot_strings_are_escaped() {
    assert_eq!(dot_quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
}

#[test]
fn exit_messages() {
    assert_eq!(exit_message(&ExitStatus::Returned), "returned");
    assert_eq!(exit_message(&ExitStatus::Exit(3)), "exit(3)");
    assert_eq!(exit_message(&ExitStatus::Stopped), "stopped");
}
