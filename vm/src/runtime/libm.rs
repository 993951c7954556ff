//! The C library's math functions and glibc's `rand()` for generated code.

use super::trampolines::{CURRENT, guarded};

/// The C library's math functions of one argument, for generated code
/// (indexed by [`math1_addr`]); Rust's `f64` methods call the system libm,
/// which is what gcc's build of a C program calls too. (Pure float
/// operations that cannot panic: the one kind of `extern "C"` entry point
/// not run under `guarded`.)
extern "C" fn rt_sin(x: f64) -> f64 {
    x.sin()
}
extern "C" fn rt_cos(x: f64) -> f64 {
    x.cos()
}
extern "C" fn rt_tan(x: f64) -> f64 {
    x.tan()
}
extern "C" fn rt_atan(x: f64) -> f64 {
    x.atan()
}
extern "C" fn rt_exp(x: f64) -> f64 {
    x.exp()
}
extern "C" fn rt_log(x: f64) -> f64 {
    x.ln()
}
extern "C" fn rt_log10(x: f64) -> f64 {
    x.log10()
}
extern "C" fn rt_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}
extern "C" fn rt_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}
extern "C" fn rt_fmod(x: f64, y: f64) -> f64 {
    x % y
}

/// Address of the runtime function computing a math builtin that is not a
/// machine instruction, or `None` (sqrt, floor, ceil, fabs are inline).
pub fn math_addr(b: compiler::ir::Builtin) -> Option<u64> {
    use compiler::ir::Builtin as B;
    let one = |f: extern "C" fn(f64) -> f64| Some(f as *const () as u64);
    let two = |f: extern "C" fn(f64, f64) -> f64| Some(f as *const () as u64);
    match b {
        B::Sin => one(rt_sin),
        B::Cos => one(rt_cos),
        B::Tan => one(rt_tan),
        B::Atan => one(rt_atan),
        B::Exp => one(rt_exp),
        B::Log => one(rt_log),
        B::Log10 => one(rt_log10),
        B::Atan2 => two(rt_atan2),
        B::Pow => two(rt_pow),
        B::Fmod => two(rt_fmod),
        _ => None,
    }
}

/// glibc's `random()` (TYPE_3: an additive feedback generator over 31
/// words, r[i] = r[i-31] + r[i-3]), so that `rand()` gives the numbers a
/// C program built with gcc prints for the same seed.
pub struct GlibcRand {
    r: [i32; 34],
    /// Index of the newest word in the ring buffer of the last 34.
    i: usize,
}

impl GlibcRand {
    /// The state after `srand(seed)` (seed 0 acts as 1, as in glibc).
    pub fn new(seed: u32) -> GlibcRand {
        let mut r = [0i32; 34];
        let seed = if seed == 0 { 1 } else { seed };
        r[0] = seed as i32;
        let mut word = seed as i64;
        for slot in r.iter_mut().take(31).skip(1) {
            // glibc: word = 16807 * word % 2147483647, by Schrage's method.
            let hi = word / 127_773;
            let lo = word % 127_773;
            word = 16_807 * lo - 2_836 * hi;
            if word < 0 {
                word += 2_147_483_647;
            }
            *slot = word as i32;
        }
        for k in 31..34 {
            r[k] = r[k - 31];
        }
        let mut g = GlibcRand { r, i: 33 };
        // glibc discards the first 310 outputs.
        for _ in 0..310 {
            g.step();
        }
        g
    }

    fn step(&mut self) -> u32 {
        let n = (self.i + 1) % 34;
        let v = self.r[(n + 34 - 31) % 34].wrapping_add(self.r[(n + 34 - 3) % 34]);
        self.r[n] = v;
        self.i = n;
        v as u32
    }

    /// The next `rand()` value, in 0..2^31.
    pub fn next_value(&mut self) -> i64 {
        (self.step() >> 1) as i64
    }
}

thread_local! {
    /// The program's `rand` state. A program runs on one thread, so this is
    /// per program, like a C process's; it starts as `srand(1)`.
    static RAND: std::cell::RefCell<Option<GlibcRand>> = const { std::cell::RefCell::new(None) };
}

/// `rand()`.
pub extern "C" fn rt_rand() -> i64 {
    guarded(CURRENT.with(|c| c.get()), || {
        RAND.with(|r| {
            r.borrow_mut()
                .get_or_insert_with(|| GlibcRand::new(1))
                .next_value()
        })
    })
}

/// `srand(seed)`: C's seed is an `unsigned int`, so the low 32 bits count.
pub extern "C" fn rt_srand(seed: i64) {
    guarded(CURRENT.with(|c| c.get()), || {
        RAND.with(|r| *r.borrow_mut() = Some(GlibcRand::new(seed as u32)))
    });
}
