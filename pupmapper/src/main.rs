//! `pupmapper`: the Pup Port Mapper Daemon (see `pupmapper::cli`).

use clap::Parser;
use pupmapper::cli::Cli;

fn main() -> anyhow::Result<()> {
    Cli::parse().run()
}
