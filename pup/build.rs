//! Records the build time for the pup's banner ("compiled on DATE"), as
//! the paper's pup prints it; reruns whenever the pup's sources change.

include!("../build-support/build_date.rs");

fn main() {
    println!("cargo:rustc-env=PUP_BUILD_DATE={}", build_date());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../build-support/build_date.rs");
    println!("cargo:rerun-if-changed=src");
}
