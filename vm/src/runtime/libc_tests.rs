//! The C library over program memory, against the host's glibc.

use super::*;
use crate::memory::{AccessKind, MemConfig};
use std::ffi::CString;

fn mem() -> ProgramMemory {
    ProgramMemory::new(
        MemConfig {
            stack_len: 64 << 10,
            heap_len: 16 << 20,
            quarantine: 64 << 10,
        },
        1 << 46,
    )
    .unwrap()
}

/// A heap copy of `s` (no NUL added).
fn put(m: &ProgramMemory, s: &[u8]) -> u64 {
    let p = m.malloc(s.len() as u64, 0);
    write_bytes(m, p, s).unwrap();
    p
}

fn cput(m: &ProgramMemory, s: &str) -> u64 {
    put(m, CString::new(s).unwrap().as_bytes_with_nul())
}

fn get(m: &ProgramMemory, p: u64, n: u64) -> Vec<u8> {
    read(m, p, n).unwrap()
}

fn c(m: &ProgramMemory, f: LibcFn, a: &[u64]) -> u64 {
    call(m, f, a).unwrap()
}

fn bad(m: &ProgramMemory, f: LibcFn, a: &[u64]) -> BadAccess {
    match call(m, f, a) {
        Err(MemFault::Access(b)) => b,
        other => panic!("{f:?} {a:x?}: {other:?}"),
    }
}

#[test]
fn names_and_numbers_are_stable_and_unique() {
    for (i, (f, n)) in LibcFn::ALL.iter().enumerate() {
        assert_eq!(LibcFn::from_name(n), Some(*f));
        assert_eq!(LibcFn::from_u32(*f as u32), Some(*f));
        assert_eq!(f.name(), *n);
        assert!(LibcFn::ALL[..i].iter().all(|(g, _)| *g as u32 != *f as u32));
    }
    assert_eq!(LibcFn::from_name("qsort"), None);
    assert_eq!(LibcFn::Strlen as u32, 1);
    assert_eq!(LibcFn::Strdup as u32, 47);
}

#[test]
fn string_functions_match_glibc() {
    let m = mem();
    let words = [
        "",
        "a",
        "abc",
        "abd",
        "ab",
        "hello world",
        "\u{e9}t\u{e9}",
        "zzzz",
    ];
    for x in words {
        for y in words {
            let (px, py) = (cput(&m, x), cput(&m, y));
            let (cx, cy) = (CString::new(x).unwrap(), CString::new(y).unwrap());
            // SAFETY: NUL-terminated host strings.
            let want = unsafe { libc::strcmp(cx.as_ptr(), cy.as_ptr()) };
            assert_eq!(
                c(&m, LibcFn::Strcmp, &[px, py]) as i64,
                want as i64,
                "{x:?} {y:?}"
            );
            for n in 0..5 {
                // SAFETY: as above.
                let want = unsafe { libc::strncmp(cx.as_ptr(), cy.as_ptr(), n) };
                assert_eq!(
                    (c(&m, LibcFn::Strncmp, &[px, py, n as u64]) as i64).signum(),
                    (want as i64).signum()
                );
            }
            // SAFETY: as above.
            let want = unsafe { libc::strstr(cx.as_ptr(), cy.as_ptr()) };
            let got = c(&m, LibcFn::Strstr, &[px, py]);
            if want.is_null() {
                assert_eq!(got, 0);
            } else {
                assert_eq!(got - px, want as u64 - cx.as_ptr() as u64);
            }
        }
    }
    let s = cput(&m, "hello world");
    assert_eq!(c(&m, LibcFn::Strlen, &[s]), 11);
    assert_eq!(c(&m, LibcFn::Strchr, &[s, b'o' as u64]), s + 4);
    assert_eq!(c(&m, LibcFn::Strrchr, &[s, b'o' as u64]), s + 7);
    assert_eq!(c(&m, LibcFn::Strchr, &[s, 0]), s + 11);
    assert_eq!(c(&m, LibcFn::Strrchr, &[s, 0]), s + 11);
    assert_eq!(c(&m, LibcFn::Strchr, &[s, b'q' as u64]), 0);
    // int c converts to char: 'o' + 256 finds 'o'.
    assert_eq!(c(&m, LibcFn::Strchr, &[s, b'o' as u64 + 256]), s + 4);

    let d = m.malloc(32, 0);
    assert_eq!(c(&m, LibcFn::Strcpy, &[d, s]), d);
    assert_eq!(get(&m, d, 12), b"hello world\0");
    let bang = cput(&m, "!!");
    c(&m, LibcFn::Strcat, &[d, bang]);
    assert_eq!(get(&m, d, 14), b"hello world!!\0");
    c(&m, LibcFn::Strncat, &[d, s, 3]);
    assert_eq!(get(&m, d, 17), b"hello world!!hel\0");
    c(&m, LibcFn::Memset, &[d, b'x' as u64, 32]);
    c(&m, LibcFn::Strncpy, &[d, bang, 5]);
    assert_eq!(get(&m, d, 6), b"!!\0\0\0x");
    c(&m, LibcFn::Strncpy, &[d, s, 3]);
    assert_eq!(get(&m, d, 4), b"hel\0");
    // memmove with overlap, memcpy, memcmp.
    c(&m, LibcFn::Memcpy, &[d, s, 11]);
    c(&m, LibcFn::Memmove, &[d + 2, d, 9]);
    assert_eq!(get(&m, d, 11), b"hehello wor");
    assert_eq!(c(&m, LibcFn::Memcmp, &[d, s, 2]), 0);
    let (a, b) = (put(&m, b"\x01\xff"), put(&m, b"\x01\x02"));
    // SAFETY: two 2-byte host buffers.
    let want = unsafe {
        libc::memcmp(
            b"\x01\xff".as_ptr() as *const _,
            b"\x01\x02".as_ptr() as *const _,
            2,
        )
    };
    // C promises the sign only (glibc's magnitude depends on the length).
    assert_eq!(
        (c(&m, LibcFn::Memcmp, &[a, b, 2]) as i64 as i32).signum(),
        want.signum()
    );
    assert_eq!(c(&m, LibcFn::Memcmp, &[a, b, 0]), 0);
    // strdup is a fresh heap object of tag 0.
    let dup = c(&m, LibcFn::Strdup, &[s]);
    assert_ne!(dup, s);
    assert_eq!(get(&m, dup, 12), b"hello world\0");
    assert!(m.objects().any(|o| o == (dup, 12, 0)));
}

#[test]
fn ctype_matches_glibc_for_every_defined_value() {
    use LibcFn::*;
    type F = unsafe extern "C" fn(libc::c_int) -> libc::c_int;
    let host: [(LibcFn, F); 13] = [
        (Isalnum, libc::isalnum),
        (Isalpha, libc::isalpha),
        (Isdigit, libc::isdigit),
        (Isxdigit, libc::isxdigit),
        (Islower, libc::islower),
        (Isupper, libc::isupper),
        (Isspace, libc::isspace),
        (Ispunct, libc::ispunct),
        (Isprint, libc::isprint),
        (Iscntrl, libc::iscntrl),
        (Isgraph, libc::isgraph),
        (Toupper, libc::toupper),
        (Tolower, libc::tolower),
    ];
    let m = mem();
    for (f, h) in host {
        for v in -128..=255 {
            // SAFETY: in range of glibc's tables.
            // Called through an opaque pointer: LLVM folds a direct
            // `isdigit(c)` into `c - '0' < 10`, which is not glibc's value.
            let want = unsafe { std::hint::black_box(h)(v) };
            assert_eq!(
                c(&m, f, &[v as i64 as u64]) as i64,
                want as i64,
                "{f:?}({v})"
            );
        }
        // Out of C's range: no table is indexed.
        let huge = c(&m, f, &[1_000_000]);
        assert_eq!(
            huge,
            if matches!(f, Toupper | Tolower) {
                1_000_000
            } else {
                0
            }
        );
    }
    assert_eq!(c(&m, Toupper, &[b'a' as u64]), b'A' as u64);
    assert_ne!(c(&m, Isspace, &[0x0b]), 0, "\\v is a space in C");
}

#[test]
fn conversions_match_glibc() {
    let m = mem();
    let end = m.malloc(8, 0);
    let read_end = || u64::from_le_bytes(get(&m, end, 8).try_into().unwrap());
    for (s, base) in [
        ("  42xyz", 10),
        ("-17", 10),
        ("0x1fg", 0),
        ("0x", 16),
        ("0777", 0),
        ("  +z", 36),
        ("99999999999999999999", 10),
        ("-99999999999999999999", 10),
        ("", 10),
        ("12", 1),
        ("ff", 16),
    ] {
        let p = cput(&m, s);
        let cs = CString::new(s).unwrap();
        let mut e = std::ptr::null_mut();
        // SAFETY: NUL-terminated host string.
        let want = unsafe { libc::strtol(cs.as_ptr(), &mut e, base) };
        write_bytes(&m, end, &[0; 8]).unwrap();
        assert_eq!(
            c(&m, LibcFn::Strtol, &[p, end, base as u64]) as i64,
            want,
            "{s:?}"
        );
        if e.is_null() {
            // An invalid base: glibc leaves *endptr alone.
            assert_eq!(read_end(), 0, "{s:?}");
        } else {
            assert_eq!(read_end() - p, e as u64 - cs.as_ptr() as u64, "{s:?}");
        }
        // SAFETY: as above.
        let want = unsafe { libc::strtoul(cs.as_ptr(), &mut e, base) };
        assert_eq!(c(&m, LibcFn::Strtoul, &[p, 0, base as u64]), want, "{s:?}");
    }
    for s in [
        "3.25", "  -1e10x", "inf", "nan", "0x1p-2", "1e400", "abc", ".5",
    ] {
        let p = cput(&m, s);
        let cs = CString::new(s).unwrap();
        let mut e = std::ptr::null_mut();
        // SAFETY: NUL-terminated host string.
        let want = unsafe { libc::strtod(cs.as_ptr(), &mut e) };
        let got = f64::from_bits(c(&m, LibcFn::Strtod, &[p, end]));
        assert!(got == want || (got.is_nan() && want.is_nan()), "{s:?}");
        assert_eq!(read_end() - p, e as u64 - cs.as_ptr() as u64, "{s:?}");
    }
    let p = cput(&m, " -123abc");
    assert_eq!(c(&m, LibcFn::Atoi, &[p]) as i64, -123);
    assert_eq!(c(&m, LibcFn::Atol, &[p]) as i64, -123);
    let big = cput(&m, "4294967297");
    assert_eq!(
        c(&m, LibcFn::Atoi, &[big]) as i64,
        1,
        "atoi is (int) strtol"
    );
    assert_eq!(c(&m, LibcFn::Abs, &[(-5i64) as u64]) as i64, 5);
    assert_eq!(
        c(&m, LibcFn::Abs, &[i32::MIN as i64 as u64]) as i64,
        i32::MIN as i64
    );
    assert_eq!(c(&m, LibcFn::Labs, &[(-5i64) as u64]) as i64, 5);
}

#[test]
fn every_bad_pointer_argument_is_a_bad_access_not_a_fault() {
    use LibcFn::*;
    let space = crate::space::AddressSpace::reserve().unwrap();
    let m = ProgramMemory::new(
        MemConfig {
            stack_len: 64 << 10,
            heap_len: 16 << 20,
            quarantine: 64 << 10,
        },
        space.base(),
    )
    .unwrap();
    let ok = cput(&m, "fine");
    let freed = cput(&m, "gone");
    m.free(freed).unwrap();
    let here = &m as *const _ as u64;
    let code = space.segment(crate::ids::Slot(1), crate::layout::SegType::Proc, 3);
    let table = space.segment(crate::ids::Slot(1), crate::layout::SegType::Table, 0);
    // An unterminated string that runs off its object's end.
    let unterminated = put(&m, b"abcdefghijklmnop");
    let dst = m.malloc(8, 0);
    let cases: Vec<(u64, AccessKind)> = vec![
        (0, AccessKind::Null),
        (8, AccessKind::Null),
        (
            freed,
            AccessKind::Freed {
                object: freed,
                size: 5,
            },
        ),
        (here, AccessKind::Wild),
        (code, AccessKind::Wild),
        (table, AccessKind::Wild),
    ];
    for (p, k) in &cases {
        for (f, a) in [
            (Strlen, vec![*p]),
            (Strcmp, vec![ok, *p]),
            (Strcmp, vec![*p, ok]),
            (Strcpy, vec![*p, ok]),
            (Strcpy, vec![dst, *p]),
            (Strchr, vec![*p, 1]),
            (Strstr, vec![*p, ok]),
            (Memcpy, vec![*p, ok, 4]),
            (Memcpy, vec![dst, *p, 4]),
            (Memset, vec![*p, 0, 4]),
            (Memcmp, vec![ok, *p, 4]),
            (Strtol, vec![*p, 0, 10]),
            (Strtol, vec![ok, if *p == 0 { 8 } else { *p }, 10]),
            (Strtod, vec![*p, 0]),
            (Atoi, vec![*p]),
            (Strdup, vec![*p]),
        ] {
            let b = bad(&m, f, &a);
            assert_eq!(b.kind, *k, "{f:?}({a:x?})");
        }
    }
    // Reading or writing past an object's end.
    let b = bad(&m, Strlen, &[unterminated]);
    assert_eq!(b.addr, unterminated + 16);
    assert!(matches!(b.kind, AccessKind::Overrun { object, size: 16 } if object == unterminated));
    let b = bad(&m, Memcpy, &[dst, ok, 20]);
    assert!(b.kind != AccessKind::Wild && !b.write, "{b:?}");
    let long = cput(&m, "much too long for eight");
    let b = bad(&m, Strcpy, &[dst, long]);
    assert!(b.write && matches!(b.kind, AccessKind::Overrun { object, size: 8 } if object == dst));
    // Nothing was written by the refused call.
    assert_eq!(get(&m, dst, 1), [0]);
    let b = bad(&m, Strcat, &[ok, long]);
    assert!(b.write);
    assert_eq!(get(&m, ok, 5), b"fine\0");
    // A zero-length range touches nothing.
    assert_eq!(c(&m, Memcpy, &[0, 0, 0]), 0);
}

/// The checker numbers each C library call as this runtime does and gives
/// it the arity the runtime reads: a mismatch would run the wrong function.
#[test]
fn the_checkers_table_names_the_runtimes_functions() {
    for (name, which, params, _) in compiler::check::LIBC_MEM {
        let f = LibcFn::from_u32(*which).unwrap_or_else(|| panic!("{name}: no LibcFn {which}"));
        assert_eq!(f.name(), *name, "LibcFn {which}");
        assert_eq!(f.arity(), params.len(), "{name}'s arity");
    }
    // abs and labs are the checker's own builtins (SPEC 2.2), inlined.
    let missing: Vec<&str> = LibcFn::ALL
        .iter()
        .filter(|&&(f, name)| {
            !["abs", "labs"].contains(&name)
                && !compiler::check::LIBC_MEM
                    .iter()
                    .any(|(n, w, _, _)| *n == name && *w == f as u32)
        })
        .map(|(_, n)| *n)
        .collect();
    assert!(
        missing.is_empty(),
        "in the runtime but never called by the checker: {missing:?}"
    );
}
