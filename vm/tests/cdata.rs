//! Issue 27 (SPEC 2.3) in the VM: C's integer widths in statics carried
//! across an update, `goto` loops that an update can interrupt, and the
//! typed refusal of a forged module whose labels do not add up.

mod common;

use common::run;

use std::time::Duration;
use vm::{ExitStatus, UpdateRequest, VersionNo};

const T: Duration = Duration::from_secs(30);

/// Narrow statics keep C's wrap-around, sizes and layout (a char next to
/// an int is padded to the int's alignment).
#[test]
fn narrow_statics_wrap_and_are_laid_out_as_c() {
    let src = r#"
char c = 120;
unsigned char uc = 250;
short s = 32760;
unsigned short us = 65530;
int i = 2147483640;
unsigned u = 4294967290;
long l = 9223372036854775800;
float f = 16777216.0f;
int step() {
    static char sc = 'a';
    static int si = 1;
    c += 10; uc += 10; s += 10; us += 10; i += 10; u += 10; l += 10;
    f += 1.0f;
    sc++; si = si * 3;
    return sc;
}
int main() {
    int r = step();
    printf("%d %d %d %d %d %u %ld %.1f %c %lu\n", c, uc, s, us, i, u, l, f, r, sizeof(long) + sizeof c);
    return 0;
}
"#;
    let (st, out) = run("narrow.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    assert_eq!(
        out,
        "-126 4 -32766 4 -2147483646 4 -9223372036854775806 16777216.0 b 9\n"
    );
}

const GOTO1: &str = r#"
int tick(int n) {
    return n + 1;
}
int main() {
    int n = 0, k = 0;
again:
    n = tick(n);
    k++;
    if (k % 1000 == 0) {
        printf("v1 %d\n", n);
        sleep_ms(1);
    }
    goto again;
}
"#;

/// The steps between consecutive printed counts.
fn steps(out: &str) -> Vec<i64> {
    let nums: Vec<i64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("v1 ")?.trim().parse().ok())
        .collect();
    nums.windows(2).map(|w| w[1] - w[0]).collect()
}

/// A loop made of `goto` is interruptible by an update (the goto is a
/// safepoint) and, once `tick` changes, its calls reach the new code while
/// `main` (never returning) stays at version 1.
#[test]
fn a_goto_loop_polls_and_its_callee_updates() {
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("g1.uc", GOTO1), None)
        .unwrap();
    vm.run(None).unwrap();
    cap.wait_contains("v1 ", 3, T);
    let v2 = GOTO1.replace("return n + 1;", "return n + 1000;");
    vm.load(VersionNo(2), common::compile("g2.uc", &v2), None)
        .unwrap();
    let begun = vm.begin_update(UpdateRequest::default()).unwrap();
    assert_eq!(begun.changed, ["tick"], "{begun:?}");
    let out = cap.wait_for("a step of 1,000,000", T, |s| steps(s).contains(&1_000_000));
    vm.stop();
    vm.wait_exit(T);
    let st = steps(&out);
    assert!(
        st.iter()
            .all(|d| *d == 1000 || *d == 1_000_000 || (1000..1_000_000).contains(d)),
        "{out}"
    );
}

/// Forward and backward gotos, labels inside loops and switches, a goto
/// out of nested loops.
#[test]
fn gotos_jump_forward_backward_and_out_of_loops() {
    let src = r#"
int find(int want) {
    int i, j;
    for (i = 0; i < 10; i++)
        for (j = 0; j < 10; j++)
            if (i * j == want)
                goto found;
    return -1;
found:
    return i * 10 + j;
}
int main() {
    int k = 0;
top:
    k++;
    switch (k) {
    case 1:
        goto top;
    case 2:
        printf("two\n");
        goto top;
    default:
        break;
    }
    if (k < 5) goto top;
    printf("%d %d %d\n", k, find(42), find(97));
    goto end;
    printf("skipped\n");
end:
    return 0;
}
"#;
    let (st, out) = run("goto.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    assert_eq!(out, "two\n5 67 -1\n");
}

/// Enums (file and block scope, implicit and explicit values, constant
/// expressions of earlier enumerators and `sizeof`), typedef names of
/// scalar and enum types, adjacent string literals and the storage
/// words C accepts: what gcc's build of the same text prints.
#[test]
fn enums_typedefs_and_ignored_storage_words_print_what_gcc_prints() {
    let src = r#"
typedef unsigned long ulong;
typedef enum { RED, GREEN = 5, BLUE } color;
enum sz { SMALL = sizeof(int), BIG = SMALL * 4 };
static inline int twice(register int x) { return 2 * x; }
int main(void) {
    ulong u = 18446744073709551615UL;
    color c = BLUE;
    enum sz s = BIG;
    int arr[BIG];
    enum { LOCAL = 3, NEXT };
    volatile int v = LOCAL;
    switch (c) { case BLUE: printf("bl" "ue\n"); break; default: printf("other\n"); }
    printf("%lu %d %d %d %d %d %d\n", u, c, s, (int)(sizeof arr / sizeof arr[0]), twice(v), GREEN, NEXT);
    return 0;
}
"#;
    let (st, out) = run("enums.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    assert_eq!(out, "blue\n18446744073709551615 6 16 16 6 5 4\n");
}

/// A typedef whose type changes between versions changes the procedures
/// that use it: the diff sees the resolved types, not the names.
#[test]
fn a_changed_typedef_changes_the_procedures_that_use_it() {
    let v1 = "typedef int count_t;\ncount_t next(count_t n) { return n + 1; }\nint other(void) { return 2; }\nint main(void) { return next(1) + other(); }\n";
    let v2 = v1.replace("typedef int count_t;", "typedef long count_t;");
    let d = compiler::diff::diff(&common::compile("a.uc", v1), &common::compile("b.uc", &v2));
    assert_eq!(d.changed_names(), ["next", "main"], "{d}");
}

/// `char s[] = "..."`: the string's bytes and its NUL, the NUL dropped
/// where the written length leaves no room (C's rule), in locals, statics
/// and globals.
#[test]
fn char_arrays_take_string_initializers() {
    let src = r#"
char g[] = "global";
int main(void) {
    char s[] = "hi there";
    static char t[5] = "exact";
    unsigned char u[8] = "ab";
    int i;
    for (i = 0; s[i]; i++) putchar(s[i] - 32 * (s[i] >= 'a' && s[i] <= 'z'));
    putchar('\n');
    for (i = 0; i < 5; i++) putchar(t[i]);
    printf(" %d %d %d %d %d\n", (int)sizeof s, (int)sizeof g, u[1], u[2], u[7]);
    return 0;
}
"#;
    let (st, out) = run("strings.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    assert_eq!(out, "HI THERE\nexact 9 7 98 0 0\n");
}

/// `%s` and `puts` of `char` arrays (local, global, array parameter): up
/// to the first 0 byte and never past the array's end, with width and
/// precision as C's printf.
#[test]
fn char_arrays_print_with_percent_s_and_puts() {
    let src = r#"
char g[] = "global";
void show(char s[]) { printf("[%s] [%5s] [%-4.2s]\n", s, s, s); }
int main(void) {
    char s[] = "hi there";
    char full[3] = "abc";
    char buf[8];
    int i;
    for (i = 0; i < 5; i++) buf[i] = 'a' + i;
    buf[5] = 0;
    puts(s);
    puts(g);
    show(buf);
    printf("%s|%.3s|%s\n", g, s, "lit");
    printf("%s\n", full);
    return 0;
}
"#;
    let (st, out) = run("puts.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    // `full` has no 0 byte: C would read past it; UC stops at its end.
    assert_eq!(
        out,
        "hi there\nglobal\n[abcde] [abcde] [ab  ]\nglobal|hi |lit\nabc\n"
    );
}

/// `float` is IEEE binary32: arithmetic rounds to single precision at
/// each step (`16777216.0f + 1` stays), mixes with double as C's usual
/// conversions say, and prints promoted to double. The expected text is
/// gcc's build of the same program (`gcc -O0 -fwrapv`).
#[test]
fn float_is_binary32_as_gcc_computes_it() {
    let src = r#"
float scale(float x, int k) { return x * k / 3.0f; }
int main(void) {
    float a = 0.1f, b = 3.0f, c;
    double d = 0.1;
    int i;
    c = a * b;
    printf("%.10f %.10f %d\n", c, a * 3.0, c == 0.3f);
    for (i = 0; i < 10; i++) a += 0.1f;
    printf("%.9g %.17g\n", a, (double)a);
    a = 16777216.0f; a += 1.0f;
    printf("%.1f %ld %u\n", a, (long)(a * 2), (unsigned)(a / 3));
    c = (float)d + 1e-9f;
    printf("%.12f %d %d\n", c, (int)-2.7f, (int)(float)2147483520);
    a = 1.5f; a *= 2.25; a -= 1;
    printf("%g %g %g\n", a, scale(a, 7), (float)1 / 3);
    printf("%d %d\n", 0.1f < 0.1, 0.5f == 0.5);
    return 0;
}
"#;
    let (st, out) = run("float.uc", src);
    assert_eq!(st, ExitStatus::Returned, "{out}");
    assert_eq!(
        out,
        "0.3000000119 0.3000000045 1\n1.10000014 1.1000001430511475\n16777216.0 33554432 5592405\n\
         0.100000001490 -2 2147483520\n2.375 5.54167 0.333333\n0 1\n"
    );
}
