//! Records when ush was compiled, for the banner (`compiled on DATE`).

include!("../build-support/build_date.rs");

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=../build-support/build_date.rs");
    println!("cargo:rustc-env=USH_BUILD_DATE={}", build_date());
}
