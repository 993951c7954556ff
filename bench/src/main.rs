//! podus-bench (being built).
fn main() {}
