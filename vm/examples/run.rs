//! Run a UC file through the VM library: `cargo run --release -p vm --example run -- FILE.uc [--no-safepoints]`.
//! A developer's tool for looking at the JIT without the pup around it.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: run FILE.uc [--no-safepoints]");
    let src = std::fs::read_to_string(path).expect("readable file");
    let module =
        compiler::compile(path, &src).unwrap_or_else(|d| panic!("{}", d.render(path, &src, false)));
    let safepoints = !args.iter().any(|a| a == "--no-safepoints");
    let vm = vm::Vm::new(vm::VmConfig {
        safepoints,
        ..Default::default()
    })
    .unwrap();
    vm.load(vm::VersionNo(1), module, Some(&src)).unwrap();
    vm.run(None).unwrap();
    let st = vm.wait_exit(std::time::Duration::from_secs(3600)).unwrap();
    std::process::exit(st.code() as i32);
}
