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

mod memory {
    use super::super::printf::{ConvKind, PrintPiece, Printf, format, prepare_conv, store};
    use super::super::{Ctx, ExitStatus, Host, Role, RuntimeError, TrapKind};
    use crate::memory::{AccessKind, BadAccess, FreeError, MemConfig, MemFault, ProgramMemory};

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

    fn conv(spec: &str, c: char, kind: Option<ConvKind>) -> PrintPiece {
        let mut p = prepare_conv(spec, c).unwrap();
        if let (PrintPiece::Conv { kind: k, .. }, Some(want)) = (&mut p, kind) {
            *k = want;
        }
        p
    }

    fn cstr(m: &ProgramMemory, s: &[u8]) -> u64 {
        let p = m.malloc(s.len() as u64 + 1, 0);
        let mut v = s.to_vec();
        v.push(0);
        super::super::libc::write_bytes(m, p, &v).unwrap();
        p
    }

    #[test]
    fn percent_s_of_a_pointer_c_and_p() {
        let m = mem();
        let s = cstr(&m, b"hello");
        let lit = std::ffi::CString::new("lit").unwrap();
        let desc = Printf {
            pieces: vec![
                conv("%s", 's', Some(ConvKind::CStr)),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%.3s", 's', Some(ConvKind::CStr)),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%-7s", 's', Some(ConvKind::CStr)),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%.*s", 's', Some(ConvKind::CStr)),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%s", 's', None),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%c", 'c', None),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%p", 'p', None),
                PrintPiece::Lit(b"|".to_vec()),
                conv("%p", 'p', None),
            ],
        };
        let args = [
            s,
            s,
            s,
            2,
            s,
            lit.as_ptr() as u64,
            b'x' as u64,
            0,
            0x1234abcd,
        ];
        // SAFETY: one slot per `*` and conversion; the literal lives.
        let out = unsafe { format(Some(&m), &desc, args.as_ptr()) }.unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "hello|hel|hello  |he|lit|x|(nil)|0x1234abcd"
        );
        // A precision reads no further than it says: no NUL needed.
        let raw = m.malloc(3, 0);
        super::super::libc::write_bytes(&m, raw, b"abc").unwrap();
        let d = Printf {
            pieces: vec![conv("%.3s", 's', Some(ConvKind::CStr))],
        };
        // SAFETY: as above.
        let got = unsafe { format(Some(&m), &d, [raw].as_ptr()) };
        assert_eq!(got.unwrap(), b"abc");
        // Without one, running off the object is a bad access.
        let d = Printf {
            pieces: vec![conv("%s", 's', Some(ConvKind::CStr))],
        };
        // SAFETY: as above.
        let e = unsafe { format(Some(&m), &d, [raw].as_ptr()) }.unwrap_err();
        assert!(matches!(e.kind, AccessKind::Overrun { object, size: 3 } if object == raw));
        // SAFETY: as above.
        let e = unsafe { format(Some(&m), &d, [0].as_ptr()) }.unwrap_err();
        assert_eq!(e.kind, AccessKind::Null);
    }

    #[test]
    fn snprintf_stores_truncated_and_counts_the_whole() {
        let m = mem();
        let dst = m.malloc(8, 0);
        assert_eq!(store(&m, b"hello world".to_vec(), dst, 8), Ok(11));
        assert_eq!(
            super::super::libc::read_cstr(&m, dst, 100).unwrap(),
            b"hello w"
        );
        assert_eq!(store(&m, b"hi".to_vec(), dst, u64::MAX), Ok(2));
        assert_eq!(super::super::libc::read_cstr(&m, dst, 100).unwrap(), b"hi");
        // cap 0 writes nothing, so a null destination is fine.
        assert_eq!(store(&m, b"abc".to_vec(), 0, 0), Ok(3));
        // sprintf into too small a buffer is refused before a byte is written.
        let e = store(&m, b"much too long".to_vec(), dst, u64::MAX).unwrap_err();
        assert!(
            e.write && matches!(e.kind, AccessKind::Overrun { object, size: 8 } if object == dst)
        );
        assert_eq!(super::super::libc::read_cstr(&m, dst, 100).unwrap(), b"hi");
    }

    /// A host that only has memory and builds plain runtime errors.
    struct MemHost(ProgramMemory);

    impl Host for MemHost {
        fn output(&self, _: &[u8]) {}
        fn handle_requests(&self, _: &Ctx, _: u64, _: u64) -> Result<(), ExitStatus> {
            Ok(())
        }
        fn sleep_until(&self, _: &Ctx, _: std::time::Instant) -> bool {
            false
        }
        fn barrier_hit(&self, _: &Ctx, _: u64, _: u64) {}
        fn runtime_error(&self, _: &Ctx, kind: TrapKind, _: u64, _: u64, _: u32) -> RuntimeError {
            RuntimeError {
                kind,
                message: format!("{} at f.uc:3:5", kind.describe()),
                backtrace: vec!["v1:proc:main+0x10".into()],
                fault: None,
            }
        }
        fn memory(&self) -> Option<&ProgramMemory> {
            Some(&self.0)
        }
    }

    #[test]
    fn entries_reach_the_hosts_memory_and_faults_read_as_the_user_would_say() {
        let host = Box::new(MemHost(mem()));
        let h: *const dyn Host = &*host;
        // SAFETY: `host` outlives the context.
        let ctx = unsafe { Ctx::new(1 << 46, Role::Program, h) };
        // SAFETY: a real context whose host has memory; these calls succeed
        // and so never leave through the unwinder.
        unsafe {
            let p = super::super::rt_malloc(&ctx, 24, 5);
            assert!(host.0.objects().any(|o| o == (p, 24, 5)));
            let z = super::super::rt_calloc(&ctx, 3, 8, 0);
            assert_eq!(host.0.check_range(z, 24, false), Ok(()));
            let q = super::super::rt_realloc(&ctx, p, 100, 0, 0, 0, 0);
            assert!(host.0.objects().any(|o| o == (q, 100, 5)));
            let args = [q, b'A' as u64, 100];
            super::super::rt_libc(
                &ctx,
                super::super::LibcFn::Memset as u32,
                args.as_ptr(),
                0,
                0,
                0,
            );
            let n = super::super::rt_libc(
                &ctx,
                super::super::LibcFn::Strlen as u32,
                [z].as_ptr(),
                0,
                0,
                0,
            );
            assert_eq!(n, 0);
            super::super::rt_free(&ctx, q, 0, 0, 0);
            super::super::rt_free(&ctx, 0, 0, 0, 0);
        }
        let fault = MemFault::Access(BadAccess {
            addr: 0,
            len: 4,
            write: false,
            kind: AccessKind::Null,
        });
        let e = host.fault_error(&ctx, fault, 0, 0, 0);
        assert_eq!(e.kind, TrapKind::BadPointer);
        assert_eq!(e.fault, Some(fault));
        assert_eq!(
            e.message,
            "null pointer dereference (reading 4 bytes at 0x0) at f.uc:3:5"
        );
        assert_eq!(e.backtrace, ["v1:proc:main+0x10"]);
        let e = host.fault_error(
            &ctx,
            MemFault::Free(FreeError::DoubleFree {
                addr: 0x10,
                size: 16,
            }),
            0,
            0,
            0,
        );
        assert_eq!(e.kind, TrapKind::BadFree);
        assert_eq!(
            e.message,
            "double free of 0x10 (a 16-byte object) at f.uc:3:5"
        );
        let e = host.fault_error(
            &ctx,
            MemFault::Realloc(FreeError::NotAllocated { addr: 0x20 }),
            0,
            0,
            0,
        );
        assert_eq!(
            e.message,
            "realloc of a pointer malloc did not return (0x20) at f.uc:3:5"
        );
        drop(ctx);
    }
}
