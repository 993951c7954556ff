//! Unit tests of printf formatting and the C library shims.

use super::libm::GlibcRand;
use super::printf::{PrintPiece, c_format, prepare_conv};

fn fmt1(spec: &str, conv: char, raw: u64) -> String {
    let PrintPiece::Conv { cfmt, kind, .. } = prepare_conv(spec, conv).unwrap() else {
        panic!()
    };
    let mut out = Vec::new();
    c_format(&mut out, &cfmt, kind, &[], raw);
    String::from_utf8(out).unwrap()
}

#[test]
fn formats_like_c() {
    assert_eq!(fmt1("%d", 'd', (-5i64) as u64), "-5");
    assert_eq!(fmt1("%5d", 'd', 42), "   42");
    assert_eq!(fmt1("%.2lf", 'f', 0.75f64.to_bits()), "0.75");
    assert_eq!(fmt1("%e", 'e', 123456.0f64.to_bits()), "1.234560e+05");
    assert_eq!(fmt1("%g", 'g', 0.0001f64.to_bits()), "0.0001");
    assert_eq!(fmt1("%c", 'c', 65), "A");
    assert_eq!(fmt1("%ld", 'd', i64::MIN as u64), "-9223372036854775808");
    // `%d` is C's 32-bit int: it reads the low half of the slot, as a
    // varargs int on x86-64 does.
    assert_eq!(fmt1("%d", 'd', i64::MIN as u64), "0");
    assert_eq!(fmt1("%x", 'x', (-1i64) as u64), "ffffffff");
    assert_eq!(fmt1("%lx", 'x', (-1i64) as u64), "ffffffffffffffff");
}

#[test]
fn refuses_dangerous_conversions() {
    assert!(prepare_conv("%n", 'n').is_err());
    assert!(prepare_conv("%**d", 'd').is_err());
    assert!(prepare_conv("%d%n", 'd').is_err());
    assert!(prepare_conv("%9999999d", 'd').is_err());
    assert!(prepare_conv("%Lf", 'f').is_err());
}

#[test]
fn long_modifiers_and_wide_fields_format_like_c() {
    // The bugs of issue 12: `%lld`, `%lli` and 4+-digit widths.
    assert_eq!(fmt1("%lld", 'd', 1234567890123), "1234567890123");
    assert_eq!(fmt1("%lli", 'i', (-5i64) as u64), "-5");
    assert_eq!(fmt1("%1000d", 'd', 7).len(), 1000);
    assert_eq!(fmt1("%.1000f", 'f', 1.0f64.to_bits()).len(), 1002);
    assert_eq!(fmt1("%lu", 'u', u64::MAX), "18446744073709551615");
    assert_eq!(fmt1("%lx", 'x', 255), "ff");
    assert_eq!(fmt1("%#o", 'o', 8), "010");
    assert_eq!(fmt1("%hd", 'd', 70000), "4464");
    assert_eq!(fmt1("%hhu", 'u', 300), "44");
    assert_eq!(fmt1("%08.3f", 'f', 1.23456f64.to_bits()), "0001.235");
}

#[test]
fn stars_take_their_ints() {
    let PrintPiece::Conv { cfmt, kind, stars } = prepare_conv("%*.*f", 'f').unwrap() else {
        panic!()
    };
    assert_eq!(stars, 2);
    let mut out = Vec::new();
    c_format(&mut out, &cfmt, kind, &[8, 2], 1.23456f64.to_bits());
    assert_eq!(String::from_utf8(out).unwrap(), "    1.23");
}

#[test]
fn rand_is_glibcs_sequence() {
    // glibc's first values after srand(1), the default seed.
    let mut g = GlibcRand::new(1);
    let first: Vec<i64> = (0..3).map(|_| g.next_value()).collect();
    assert_eq!(first, vec![1804289383, 846930886, 1681692777]);
}
