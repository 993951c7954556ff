use super::*;
use crate::ids::Slot;
use crate::space::AddressSpace;
use proptest::prelude::*;

fn small() -> MemConfig {
    MemConfig {
        stack_len: 64 << 10,
        heap_len: 16 << 20,
        quarantine: 64 << 10,
    }
}

fn mem() -> ProgramMemory {
    // A space base no test address falls in: statics are tested separately.
    ProgramMemory::new(small(), 1 << 46).unwrap()
}

fn kind(m: &ProgramMemory, addr: u64, len: u64) -> AccessKind {
    m.check(addr, len, false).unwrap_err().kind
}

#[test]
fn layout_is_stacks_then_heap() {
    let m = mem();
    let l = m.layout();
    assert_eq!(l.heap_base, l.arena_base + l.stacks_len);
    assert_eq!(
        m.data_stack(Role::Program),
        (l.arena_base, l.arena_base + (64 << 10))
    );
    assert_eq!(m.data_stack(Role::MProc).1, l.heap_base);
    // The whole of both stacks is owned; one byte before is not.
    m.check(l.arena_base, 8, true).unwrap();
    m.check(l.heap_base - 1, 1, true).unwrap();
    assert_eq!(kind(&m, l.arena_base - 1, 1), AccessKind::Wild);
    assert_eq!(kind(&m, l.heap_base, 1), AccessKind::Wild);
}

#[test]
fn malloc_is_aligned_disjoint_live_and_free_makes_it_freed() {
    let m = mem();
    let sizes = [0u64, 1, 15, 16, 17, 24, 100, 1000, 5000, 40_000, 300_000];
    let ps: Vec<u64> = sizes.iter().map(|&s| m.malloc(s, 7)).collect();
    for (&p, &s) in ps.iter().zip(&sizes) {
        assert!(p != 0 && p % 16 == 0, "{p:#x}");
        if s > 0 {
            m.check(p, 1, true).unwrap();
            m.check_range(p, s, true).unwrap();
            // A range past the object's granules is an overrun.
            let end = p + s.div_ceil(16) * 16;
            assert!(matches!(
                m.check_range(p, end - p + 1, false).unwrap_err().kind,
                AccessKind::Overrun { object, size } if object == p && size == s
            ));
        } else {
            // malloc(0): unique, but no byte of it may be touched.
            assert!(m.check(p, 1, false).is_err());
        }
    }
    let mut sorted = ps.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ps.len());
    let objs: Vec<_> = m.objects().collect();
    assert_eq!(objs.len(), sizes.len());
    assert!(
        objs.iter()
            .all(|&(a, s, t)| t == 7 && ps.contains(&a) && sizes.contains(&s))
    );
    m.free(ps[5]).unwrap();
    assert_eq!(
        kind(&m, ps[5] + 8, 8),
        AccessKind::Freed {
            object: ps[5],
            size: 24
        }
    );
    let msg = m.check(ps[5] + 16, 8, true).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "use of freed memory: writing 8 bytes at {:#x}, inside a 24-byte object freed earlier",
            ps[5] + 16
        )
    );
    assert_eq!(m.objects().count(), sizes.len() - 1);
}

#[test]
fn every_free_error() {
    let m = mem();
    let p = m.malloc(32, 0);
    assert_eq!(
        m.free(p + 16),
        Err(FreeError::Interior {
            addr: p + 16,
            object: p,
            size: 32
        })
    );
    m.free(p).unwrap();
    assert_eq!(m.free(p), Err(FreeError::DoubleFree { addr: p, size: 32 }));
    assert_eq!(
        m.free(p).unwrap_err().to_string(),
        format!("double free of {p:#x} (a 32-byte object)")
    );
    let stack = m.data_stack(Role::Program).0;
    for bad in [stack, 12345, m.layout().heap_base + (8 << 20), u64::MAX] {
        assert_eq!(m.free(bad), Err(FreeError::NotAllocated { addr: bad }));
    }
    assert_eq!(
        FreeError::NotAllocated { addr: 0x10 }.to_string(),
        "free of a pointer malloc did not return (0x10)"
    );
    assert_eq!(m.free(0), Ok(()));
    assert_eq!(
        m.realloc(p, 8, 0),
        Err(FreeError::DoubleFree { addr: p, size: 32 })
    );
}

#[test]
fn quarantine_delays_reuse_then_reuses() {
    let m = mem();
    let p = m.malloc(48, 0);
    m.free(p).unwrap();
    // Not handed out again while it is quarantined ...
    let mut got = Vec::new();
    for _ in 0..2 * (64 << 10) / 48 {
        let q = m.malloc(48, 0);
        assert_ne!(q, p);
        got.push(q);
    }
    // ... but once more than the quarantine's bytes were freed after it, it is.
    for q in got.drain(..) {
        m.free(q).unwrap();
    }
    assert!(m.quarantined() <= 64 << 10);
    let again: Vec<u64> = (0..4000).map(|_| m.malloc(48, 0)).collect();
    assert!(again.contains(&p));
}

#[test]
fn realloc_keeps_contents_and_tag_and_follows_glibc() {
    let m = mem();
    let p = m.malloc(20, 9);
    // SAFETY: a live 20-byte object.
    unsafe { std::ptr::copy_nonoverlapping(b"0123456789abcdefghij".as_ptr(), p as *mut u8, 20) };
    let q = m.realloc(p, 5000, 0).unwrap();
    assert_ne!(q, p);
    // SAFETY: a live 5000-byte object.
    let kept = unsafe { std::slice::from_raw_parts(q as *const u8, 20) };
    assert_eq!(kept, b"0123456789abcdefghij");
    assert!(m.objects().any(|o| o == (q, 5000, 9)));
    assert!(matches!(kind(&m, p, 1), AccessKind::Freed { .. }));
    let r = m.realloc(q, 4500, 0).unwrap();
    assert_eq!(r, q, "shrinking within its slot stays in place");
    assert!(m.objects().any(|o| o == (q, 4500, 9)));
    assert_eq!(m.realloc(r, 0, 0), Ok(0));
    assert!(matches!(kind(&m, r, 1), AccessKind::Freed { .. }));
    let n = m.realloc(0, 10, 3).unwrap();
    assert!(m.objects().any(|o| o == (n, 10, 3)));
    // Exhaustion leaves the object alone.
    assert_eq!(m.realloc(n, 1 << 40, 0), Ok(0));
    m.check(n, 1, false).unwrap();
}

#[test]
fn calloc_zeroes_and_refuses_overflow_and_exhaustion_is_null() {
    let m = mem();
    let p = m.malloc(64, 0);
    // SAFETY: live 64-byte object.
    unsafe { std::ptr::write_bytes(p as *mut u8, 0xaa, 64) };
    m.free(p).unwrap();
    for _ in 0..10_000 {
        let c = m.calloc(4, 16, 0);
        // SAFETY: live 64-byte object.
        let got = unsafe { std::slice::from_raw_parts(c as *const u8, 64) };
        assert!(got.iter().all(|&b| b == 0));
        m.free(c).unwrap();
    }
    assert_eq!(m.calloc(u64::MAX / 2, 3, 0), 0);
    assert_eq!(m.malloc(1 << 40, 0), 0);
    // Fill the heap with big objects until it says no; then it still works
    // once they are freed.
    let mut v = Vec::new();
    loop {
        let p = m.malloc(1 << 20, 0);
        if p == 0 {
            break;
        }
        v.push(p);
    }
    assert!(v.len() >= 14, "{}", v.len());
    for p in v {
        m.free(p).unwrap();
    }
    assert_ne!(m.malloc(1 << 20, 0), 0);
}

#[test]
fn freed_neighbouring_spans_merge_to_serve_a_larger_object() {
    let m = mem();
    let ps: Vec<u64> = (0..3).map(|_| m.malloc(100 << 10, 0)).collect();
    let after = m.malloc(100 << 10, 0);
    assert_eq!(ps[1], ps[0] + (100 << 10));
    // Freed out of order; each is bigger than the test's quarantine, so it
    // leaves it at once.
    for i in [2, 0, 1] {
        m.free(ps[i]).unwrap();
    }
    // One span of 300 KiB again, where the three were.
    assert_eq!(m.malloc(300 << 10, 0), ps[0]);
    m.check_range(ps[0], 300 << 10, true).unwrap();
    m.check(after, 1, false).unwrap();
    // A part of a merged span is reused, the rest stays free.
    m.free(ps[0]).unwrap();
    assert_eq!(m.malloc(50 << 10, 0), ps[0]);
    assert_eq!(m.malloc(200 << 10, 0), ps[0] + (52 << 10));
}

#[test]
fn a_program_scribbling_over_all_its_memory_leaves_the_allocator_sound() {
    let m = mem();
    let l = m.layout();
    let mut live: Vec<(u64, u64)> = (1..200).map(|i| (m.malloc(i * 37, 0), i * 37)).collect();
    for &(p, _) in live.iter().step_by(3) {
        m.free(p).unwrap();
    }
    live = live
        .into_iter()
        .skip(1)
        .enumerate()
        .filter(|(i, _)| (i + 1) % 3 != 0)
        .map(|(_, o)| o)
        .collect();
    // Every byte the program owns (stacks and the whole heap) overwritten.
    // SAFETY: the arena is this memory's own RW mapping.
    unsafe {
        std::ptr::write_bytes(
            l.arena_base as *mut u8,
            0xa5,
            (l.stacks_len + l.heap_len) as usize,
        )
    };
    for i in 0..2000u64 {
        live.push((m.malloc(i % 300 + 1, 0), i % 300 + 1));
        if i % 2 == 0 {
            let (p, _) = live.swap_remove((i as usize * 7) % live.len());
            m.free(p).unwrap();
        }
    }
    let mut objs: Vec<(u64, u64)> = m.objects().map(|(a, s, _)| (a, s)).collect();
    objs.sort();
    live.sort();
    assert_eq!(objs, live);
    for w in objs.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0);
    }
}

#[test]
fn reset_empties_the_heap_and_zeroes_the_stacks() {
    let m = mem();
    let p = m.malloc(100, 1);
    let (lo, _) = m.data_stack(Role::Program);
    // SAFETY: owned stack memory.
    unsafe { (lo as *mut u64).write(42) };
    m.reset();
    assert_eq!(m.objects().count(), 0);
    assert_eq!(kind(&m, p, 1), AccessKind::Wild);
    // SAFETY: as above.
    assert_eq!(unsafe { (lo as *const u64).read() }, 0);
    assert_eq!(m.malloc(100, 1), p, "a fresh heap starts at the same place");
}

#[test]
fn null_and_wild_are_classified() {
    let m = mem();
    assert_eq!(kind(&m, 0, 4), AccessKind::Null);
    assert_eq!(
        m.check(0, 4, false).unwrap_err().to_string(),
        "null pointer dereference (reading 4 bytes at 0x0)"
    );
    assert_eq!(kind(&m, 4095, 1), AccessKind::Null);
    let here = &m as *const _ as u64;
    assert_eq!(kind(&m, here, 1), AccessKind::Wild);
    assert_eq!(
        m.check(here, 1, false).unwrap_err().to_string(),
        format!("wild pointer: reading 1 byte at {here:#x} outside every object the program owns")
    );
}

#[test]
fn statics_of_every_slot_are_owned_and_code_and_tables_are_not() {
    use crate::layout::SegType;
    let space = AddressSpace::reserve().unwrap();
    let m = ProgramMemory::new(small(), space.base()).unwrap();
    // A slot nothing was loaded into: its statics read as zero.
    let d = space.segment(Slot(200), SegType::Data, 77);
    m.check(d + 8, 8, false).unwrap();
    // SAFETY: type-3 ranges are mapped RW for the space's life.
    assert_eq!(unsafe { ((d + 8) as *const u64).read() }, 0);
    // SAFETY: as above.
    unsafe { ((d + 8) as *mut u64).write(5) };
    space.release_slot(Slot(200)).unwrap();
    // SAFETY: as above: released statics are zero but still mapped.
    assert_eq!(unsafe { ((d + 8) as *const u64).read() }, 0);
    // The last bytes of a segment, not across it.
    m.check(d + SEGMENT_SIZE - 8, 8, false).unwrap();
    assert!(matches!(
        kind(&m, d + SEGMENT_SIZE - 4, 8),
        AccessKind::Overrun { object, .. } if object == d
    ));
    assert!(m.check_range(d, SEGMENT_SIZE, true).is_ok());
    assert!(m.check_range(d, SEGMENT_SIZE + 1, true).is_err());
    for ty in [
        SegType::Proc,
        SegType::IProc,
        SegType::MProc,
        SegType::Table,
        SegType::Remote,
    ] {
        let a = space.segment(Slot(3), ty, 5) + 16;
        assert_eq!(kind(&m, a, 8), AccessKind::Wild, "{ty:?}");
        assert_eq!(
            m.check_range(a, 8, false).unwrap_err().kind,
            AccessKind::Wild
        );
    }
    assert_eq!(
        kind(&m, space.base() + crate::layout::REGION_SIZE, 1),
        AccessKind::Wild
    );
}

/// A simple model of what is live, to compare the heap with.
#[derive(Debug, Clone)]
enum Op {
    Malloc(u64),
    Free(usize),
    Realloc(usize, u64),
    Probe(usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let size = prop_oneof![0u64..64, 0u64..2000, 30_000u64..70_000];
    prop_oneof![
        4 => size.clone().prop_map(Op::Malloc),
        3 => any::<usize>().prop_map(Op::Free),
        2 => (any::<usize>(), size).prop_map(|(i, s)| Op::Realloc(i, s)),
        3 => (any::<usize>(), 0u64..80_000).prop_map(|(i, o)| Op::Probe(i, o)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_heap_use_agrees_with_a_model(ops in proptest::collection::vec(op(), 1..300)) {
        let m = mem();
        let l = m.layout();
        let mut live: Vec<(u64, u64)> = Vec::new();
        let mut dead: Vec<(u64, u64)> = Vec::new();
        for op in ops {
            match op {
                Op::Malloc(s) => {
                    let p = m.malloc(s, 1);
                    prop_assert!(p != 0);
                    live.push((p, s));
                }
                Op::Free(i) if !live.is_empty() => {
                    let o = live.swap_remove(i % live.len());
                    prop_assert_eq!(m.free(o.0), Ok(()));
                    prop_assert_eq!(m.free(o.0), Err(FreeError::DoubleFree { addr: o.0, size: o.1 }));
                    dead.push(o);
                }
                Op::Realloc(i, s) if !live.is_empty() => {
                    let k = i % live.len();
                    let (p, _) = live[k];
                    let q = m.realloc(p, s, 0).unwrap();
                    if s == 0 {
                        prop_assert_eq!(q, 0);
                        live.swap_remove(k);
                    } else {
                        prop_assert!(q != 0);
                        live[k] = (q, s);
                    }
                }
                Op::Probe(i, o) if !live.is_empty() => {
                    let (p, s) = live[i % live.len()];
                    let a = p + o;
                    let owned = o < s.div_ceil(16) * 16;
                    let r = m.check(a, 1, false);
                    if owned {
                        prop_assert!(r.is_ok());
                    } else if !live.iter().any(|&(q, t)| a >= q && a < q + t.div_ceil(16) * 16) {
                        prop_assert!(r.is_err(), "{:#x} of {:#x}+{}", a, p, s);
                    }
                }
                _ => {}
            }
            // Disjoint, aligned, inside the heap; objects() is exactly `live`.
            let mut v = live.clone();
            v.sort();
            for w in v.windows(2) {
                prop_assert!(w[0].0 + w[0].1.max(1) <= w[1].0);
            }
            for &(p, s) in &v {
                prop_assert!(p % 16 == 0 && p >= l.heap_base && p + s <= l.heap_base + l.heap_len);
            }
            let mut objs: Vec<(u64, u64)> = m.objects().map(|(a, s, _)| (a, s)).collect();
            objs.sort();
            prop_assert_eq!(objs, v);
        }
        // A freed object not since reused reads as freed.
        for &(p, s) in &dead {
            if s > 0 && !live.iter().any(|&(q, t)| p >= q && p < q + t.max(1)) {
                prop_assert!(m.check(p, 1, false).is_err());
            }
        }
    }
}

/// `cargo test --release -p vm memory::tests::malloc_free_speed -- --ignored --nocapture`
#[test]
#[ignore = "a measurement; run in release with --nocapture"]
fn malloc_free_speed() {
    let m = ProgramMemory::new(MemConfig::default(), 1 << 46).unwrap();
    // The binary-trees pattern: build a tree of 2^16 nodes, free it, repeat.
    let n = 1 << 16;
    let mut v = Vec::with_capacity(n);
    let rounds = 40;
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        for _ in 0..n {
            v.push(m.malloc(24, 1));
        }
        for p in v.drain(..) {
            m.free(p).unwrap();
        }
    }
    let per = t.elapsed().as_nanos() as f64 / (rounds * n) as f64;
    // And a tight pair.
    let t = std::time::Instant::now();
    for _ in 0..1_000_000 {
        let p = m.malloc(32, 1);
        m.free(p).unwrap();
    }
    let pair = t.elapsed().as_nanos() as f64 / 1e6;
    println!("malloc+free: {per:.1} ns/pair (tree pattern), {pair:.1} ns/pair (tight)");
}
