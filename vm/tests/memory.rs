//! Data segments cost memory only when something is in them.
//!
//! SPEC §3 puts each procedure's statics at `(v, 3, P, 0)`, 64 KiB apart, so
//! every procedure with statics has a page of its own. Zeroed statics are
//! not written at load (fresh pages read as zero), so those pages stay
//! untouched until the program writes them: 200 MB of the pup at 50,000
//! procedures with `static int calls;`.

mod common;

use std::time::Duration;
use vm::VersionNo;

const N: usize = 400;
const PAGE: u64 = 4096;

/// `N` procedures, each with one static initialized by `init`, and a main
/// that calls the first `called` of them once and then prints.
fn program(init: &str, called: usize) -> String {
    let mut s = String::new();
    for i in 0..N {
        s.push_str(&format!(
            "int p{i}() {{ static int s{init}; s++; return s; }}\n"
        ));
    }
    s.push_str("main() { int t = 0;");
    for i in 0..called {
        s.push_str(&format!(" t = t + p{i}();"));
    }
    s.push_str(" printf(\"t %d\\n\", t); }\n");
    s
}

/// Resident bytes of a fresh VM's region after loading `src` (and, with
/// `run`, after running it to its end), with what it printed.
fn resident_after(src: &str, run: bool) -> (u64, String) {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("m.uc", src), None)
        .expect("loads");
    if run {
        vm.run(None).expect("runs");
        vm.wait_exit(Duration::from_secs(60)).expect("ends");
    }
    (vm.resident_bytes(), cap.text())
}

#[test]
fn zeroed_statics_take_no_page_until_written() {
    let (zeroed, _) = resident_after(&program("", 0), false);
    let (set, _) = resident_after(&program(" = 1", 0), false);
    // The same code either way; only the initialized statics' pages differ.
    assert!(
        set >= zeroed + (N as u64) * PAGE * 9 / 10,
        "initialized statics should touch a page each: {set} resident vs {zeroed} with zeroed ones"
    );
    // Run, the zeroed statics read as zero and the pages written are the
    // ones of the procedures called.
    let (ran, out) = resident_after(&program("", 100), true);
    assert!(
        out.contains("t 100"),
        "each zeroed static read as 0 before its ++: {out}"
    );
    assert!(
        ran >= zeroed + 90 * PAGE && ran < zeroed + (N as u64) * PAGE / 2,
        "running 100 of {N} procedures touches about 100 data pages: {ran} vs {zeroed}"
    );
}

/// The program's own memory (SPEC §2.3) lives beside the region, not in it,
/// and the pointer check sees the real region: a loaded version's statics
/// and those of a slot never used are owned, its code and binding table
/// are not.
#[test]
fn program_memory_sits_outside_the_region_and_checks_against_it() {
    use vm::layout::{REGION_SIZE, SEGMENT_SIZE, TYPE_SHIFT, VERSION_SHIFT};
    let (vm, _cap) = common::vm();
    vm.load(VersionNo(1), common::compile("m.uc", &program("", 0)), None)
        .expect("loads");
    let m = vm.memory();
    let l = m.layout();
    let base = vm.region_base();
    assert_eq!(l.space_base, base);
    let arena_end = l.heap_base + l.heap_len;
    assert!(arena_end <= base || l.arena_base >= base + REGION_SIZE);
    // Slot s, type t, proc 1, disp 8.
    let at = |s: u64, t: u64| base + (s << VERSION_SHIFT) + (t << TYPE_SHIFT) + SEGMENT_SIZE + 8;
    for slot in [0, 1, 2, 255] {
        m.check(at(slot, 3), 8, true).unwrap();
        for ty in [0, 1, 2, 4, 5, 6, 7] {
            assert!(
                m.check(at(slot, ty), 1, false).is_err(),
                "slot {slot} type {ty}"
            );
        }
    }
    let p = m.malloc(40, 3);
    m.check(p, 8, true).unwrap();
    assert!(m.objects().any(|o| o == (p, 40, 3)));
    m.free(p).unwrap();
    assert!(m.check(p, 8, true).is_err());
}
