//! The front end's memory grows linearly and stays small per procedure.
//!
//! A counting global allocator measures the peak heap of compiling (and
//! encoding) a generated program at two sizes. Heap bytes, unlike time, do
//! not depend on the machine's load, so these bounds are not flaky. They
//! caught what ush met at 50,000 procedures: about 20 KB of syntax tree and
//! IR per procedure, plus a deep copy of the module to encode it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller's layout contract, passed on unchanged.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = NOW.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` came from `alloc` above with this layout.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Tests in one binary run on threads at once; the counters are global.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Peak heap bytes above the starting point while compiling `src` and
/// encoding its object, as ush's `load` does.
fn peak_of_load(src: &str) -> usize {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let m = compiler::compile("g.uc", src).expect("the generated program compiles");
    let obj = compiler::object::write_object(&m);
    assert!(!obj.is_empty());
    drop((m, obj));
    PEAK.load(Ordering::Relaxed) - base
}

/// Peak heap bytes above the starting point of `compile_for_load` (what
/// ush's `load` runs), keeping its result as ush does.
fn peak_of_load_path(src: &str, itemwise: bool) -> usize {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let c = compiler::compile_for_load_with("g.uc", src, None, itemwise)
        .expect("the generated program compiles");
    assert!(!c.object.is_empty());
    let peak = PEAK.load(Ordering::Relaxed) - base;
    drop(c);
    peak
}

#[test]
fn front_end_heap_is_linear_and_under_8_kib_per_procedure() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (small, large) = (2_000, 20_000);
    let a = peak_of_load(&compiler::synth::program(small));
    let b = peak_of_load(&compiler::synth::program(large));
    let per_small = a / small;
    let per_large = b / large;
    eprintln!("peak heap: {per_small} B/procedure at {small}, {per_large} B/procedure at {large}");
    // Linear: ten times the procedures costs at most ~ten times the memory
    // (a quadratic structure would cost a hundred).
    assert!(
        per_large <= per_small * 13 / 10,
        "peak heap per procedure grew from {per_small} B at {small} to {per_large} B at {large}: not linear"
    );
    // Small: the syntax tree is dropped procedure by procedure as its IR is
    // made, and the module is encoded without a copy (before: ~18 KB).
    assert!(
        per_large < 8 * 1024,
        "peak heap is {per_large} B per generated procedure at {large} (want < 8 KiB)"
    );
}

#[test]
fn the_load_path_keeps_no_bodies_and_peaks_lower() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let n = 20_000;
    let src = compiler::synth::program(n);
    let whole = peak_of_load(&src) / n;
    let streamed = peak_of_load_path(&src, false) / n;
    let itemwise = peak_of_load_path(&src, true) / n;
    eprintln!(
        "peak heap per procedure: {whole} B compile + write_object, {streamed} B compile_for_load, {itemwise} B item by item"
    );
    // Parsed whole, the syntax tree (dropped procedure by procedure) is
    // most of what is left at the peak; the IR bodies never accumulate.
    assert!(
        streamed * 10 < whole * 8,
        "compile_for_load peaks at {streamed} B/procedure, not clearly below the whole module's {whole} B"
    );
    // Item by item, no syntax tree accumulates either: what is left is the
    // object (~0.8 KB per procedure, and the capacity its Vec grew to), the
    // summary and the module without bodies.
    assert!(
        itemwise < 3 * 1024 && itemwise * 10 < streamed * 7,
        "item by item peaks at {itemwise} B/procedure (want < 3 KiB, and clearly below {streamed} B)"
    );
}
