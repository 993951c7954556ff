//! `pup`: the Program Update Processor daemon (see `pup::cli`).

fn main() {
    std::process::exit(pup::cli::main());
}
