//! Issue 12 (SPEC 2.2) in the VM: the load-time bugs as regressions, the
//! new runtime check, and the new constructs across an update (an unsigned
//! static carried over, a switch inside an iproc).

mod common;

use common::run;

use std::time::Duration;
use vm::{ExitStatus, UpdateRequest, VersionNo};

const T: Duration = Duration::from_secs(30);

/// Issue 12: a 5500-element local array was zeroed by unrolled stores,
/// 12 bytes each, and overflowed its procedure's 64 KiB code segment.
#[test]
fn a_large_local_array_loads_and_starts_at_zero() {
    let src = "int test() { int m[5500]; m[0] = 5; return m[0] + m[5499]; }\n\
               int big() { double d[65536]; return d[65535] == 0.0; }\n\
               int main() { printf(\"%d %d\\n\", test(), big()); return 0; }";
    let (st, out) = run("big.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    assert_eq!(out, "5 1\n");
}

/// Issue 12: `int main() { return 3; }` exited 0.
#[test]
fn mains_return_value_is_the_exit_code() {
    let (st, _) = run("r3.uc", "int main() { return 3; }");
    assert_eq!(st.code(), 3);
    let (st, _) = run("r0.uc", "int main() { return 0; }");
    assert_eq!(st, ExitStatus::Returned);
    let (st, _) = run("void.uc", "void main() { }");
    assert_eq!(st.code(), 0);
}

/// Issue 12: `%lli`, `%lld` and 4+-digit widths were refused at load.
#[test]
fn long_long_conversions_and_wide_fields_load() {
    let src = r#"int main() { printf("%lli %lld|%1000d|\n", 5, -6LL, 7); return 0; }"#;
    let (st, out) = run("fmt.uc", src);
    assert_eq!(st, ExitStatus::Returned);
    assert!(out.starts_with("5 -6|"), "{out}");
    assert_eq!(out.len(), "5 -6||\n".len() + 1000);
}

#[test]
fn a_shift_count_outside_0_to_63_is_a_runtime_error() {
    for (expr, ok) in [
        ("1L << n", false),
        ("8L >> n", false),
        ("-1L >> (n - 1)", true),
    ] {
        let src = format!(
            "long f(long n) {{ return {expr}; }}\nint main() {{ printf(\"%ld\\n\", f(63)); printf(\"%ld\\n\", f(64)); return 0; }}"
        );
        let (st, out) = run("shift.uc", &src);
        if ok {
            assert_eq!(st, ExitStatus::Returned, "{expr}: {out}");
            continue;
        }
        let ExitStatus::Error(e) = st else {
            panic!("{expr}: want a runtime error, got {st:?}")
        };
        assert!(
            e.message.contains("shift count outside 0..63"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains('f'),
            "names the procedure: {}",
            e.message
        );
        assert_eq!(
            out.lines().count(),
            1,
            "f(63) printed, f(64) trapped: {out}"
        );
    }
    // Negative counts too (they are huge as unsigned).
    let (st, _) = run("neg.uc", "int main() { long n = -1; return 1 << n; }");
    assert!(matches!(st, ExitStatus::Error(_)), "{st:?}");
    // An int is 32 bits wide: 31 is its last count.
    let src = "int f(int n) { return 1 << n; }\nint main() { printf(\"%d\\n\", f(31)); printf(\"%d\\n\", f(32)); return 0; }";
    let (st, out) = run("shift32.uc", src);
    let ExitStatus::Error(e) = st else {
        panic!("want a runtime error, got {st:?}")
    };
    assert!(
        e.message.contains("shift count outside 0..31"),
        "{}",
        e.message
    );
    assert_eq!(out, "-2147483648\n");
}

const HASH1: &str = r#"
#define PRIME 1099511628211UL
void step() {
    static unsigned long h = 14695981039346656037UL;
    static unsigned long n;
    n++;
    printf("v1 %lu %lu\n", n, h % 1000);
    h = (h ^ n) * PRIME;
    sleep_ms(2);
}
int main() { while (1) step(); }
"#;

/// An `unsigned` static keeps its value across an update (same name, same
/// type), and a `#define` change reaches the new code.
#[test]
fn an_unsigned_static_is_carried_over() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("h1.uc", HASH1), None)
        .unwrap();
    vm.run(None).unwrap();
    let v2 = HASH1.replace("v1 %lu", "v2 %lu");
    vm.load(VersionNo(2), common::compile("h2.uc", &v2), None)
        .unwrap();
    cap.wait_contains("v1 ", 3, T);
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    assert_eq!(begun.changed, ["step"]);
    assert!(vm.wait_updates(T));
    cap.wait_contains("v2 ", 2, T);
    vm.stop();
    vm.wait_exit(T);
    // The same sequence as if no update had happened: compute it here.
    let out = cap.text();
    let mut h: u64 = 14695981039346656037;
    for (i, line) in out.lines().enumerate() {
        let n = i as u64 + 1;
        let want = format!("{n} {}", h % 1000);
        assert!(
            line.ends_with(&want),
            "line {n} {line:?}, want {want:?}\n{out}"
        );
        h = (h ^ n).wrapping_mul(1099511628211);
    }
}

const KIND1: &str = r#"
int kind(int c) {
    return c >= 'a' && c <= 'z';
}
int main() {
    long i = 0;
    while (1) {
        printf("%d%d\n", kind('a' + i % 3), kind('A'));
        i++;
        sleep_ms(2);
    }
}
"#;

const KIND2: &str = r#"
int kind(int c, int vowels) {
    if (vowels) {
        switch (c) {
        case 'a': case 'e': case 'i': case 'o': case 'u':
            return 2;
        }
    }
    return c >= 'a' && c <= 'z' ? 1 : 0;
}
iproc kind(int c) {
    int v;
    switch (c % 2) {
    case 0:
        v = 0;
        break;
    default:
        v = 1;
    }
    return new.kind(c, v);
}
int main() {
    while (1) {
        printf("new %d\n", kind('e', 1));
        sleep_ms(2);
    }
}
"#;

/// An iproc with a switch maps the old one-argument calls of `kind` onto
/// the new two-argument one: 'a' (97, odd) asks for vowels, 'b' does not.
#[test]
fn a_switch_inside_an_iproc() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("k1.uc", KIND1), None)
        .unwrap();
    vm.run(None).unwrap();
    let rep = vm
        .load(VersionNo(2), common::compile("k2.uc", KIND2), Some(KIND2))
        .unwrap();
    assert_eq!(rep.iprocs.len(), 1);
    cap.wait_contains("10\n", 2, T);
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    assert_eq!(begun.committed, ["kind"]);
    // Old main keeps running and calls kind through the iproc: 'a' (odd:
    // vowels asked) → 2, 'b' → 1, 'c' (odd, no vowel) → 1, 'A' → 0.
    let out = cap.wait_for("old calls through the iproc", T, |s| {
        s.lines().skip_while(|l| *l != "20").count() >= 3
    });
    let after: Vec<&str> = out.lines().skip_while(|l| *l != "20").take(3).collect();
    assert_eq!(after.len(), 3, "{out}");
    assert_eq!(after, ["20", "10", "10"], "{out}");
    vm.abort_updates();
}
