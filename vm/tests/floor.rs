//! The calls benchmark's floor (Cranelift's own direct-call fib) computes
//! fib: its self-calls are patched to the right place.

#[test]
fn cranelift_floor_fib_is_fib() {
    let f = vm::floor::FloorFib::new().expect("compiles");
    let want = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
    for (n, w) in want.iter().enumerate() {
        assert_eq!(f.call(n as i64), *w, "fib({n})");
    }
    assert_eq!(f.call(25), 75025);
}
