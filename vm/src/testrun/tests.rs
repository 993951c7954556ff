//! Unit tests of the test-update sweep.

use super::sweep::nearest;
use super::{choose_points, records};
use std::collections::HashSet;

#[test]
fn records_cut_at_matching_lines() {
    let out = b"pre\nA 1\nx\nA 2\ny\nA 3";
    let r = records(out, &|l: &str| l.starts_with("A "));
    let texts: Vec<&[u8]> = r.iter().map(|x| x.1).collect();
    assert_eq!(
        texts,
        vec![
            &b"pre\n"[..],
            &b"A 1\nx\n"[..],
            &b"A 2\ny\n"[..],
            &b"A 3"[..]
        ]
    );
    assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 4, 6]);
    assert!(records(b"", &|_: &str| true).is_empty());
}

#[test]
fn points_are_spread_evenly() {
    assert_eq!(choose_points(3, 10), vec![1, 2, 3]);
    let c = choose_points(10, 5);
    assert_eq!(c.len(), 5);
    for (i, k) in c.iter().enumerate() {
        assert!((2 * i as u64 + 1..=2 * i as u64 + 2).contains(k), "{c:?}");
    }
    // A stride that is a multiple of a program's period still reaches
    // every phase of it.
    let phases: HashSet<u64> = choose_points(12_000, 100).iter().map(|k| k % 8).collect();
    assert_eq!(phases.len(), 8);
    let c = choose_points(12345, 1000);
    assert_eq!(c.len(), 1000);
    assert!(c.windows(2).all(|w| w[0] < w[1]));
    assert!(*c.last().unwrap() <= 12345);
}

#[test]
fn nearest_prefers_shared_lines() {
    let recs: Vec<(usize, &[u8])> = vec![(1, b"a\nb\nc\n"), (4, b"a\nx\ny\n")];
    assert_eq!(nearest(b"a\nb\nz\n", 1, &recs).unwrap().0, 1);
    assert_eq!(nearest(b"q\nx\ny\n", 0, &recs).unwrap().0, 2);
}
