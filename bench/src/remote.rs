//! stub
use crate::report::Results;
use anyhow::Result;
/// Options.
pub struct Opts {
    pub runs: usize,
    pub fleets: Vec<usize>,
    pub root: std::path::PathBuf,
}
/// Run.
pub fn run(_o: &Opts, _r: &mut Results) -> Result<()> {
    Ok(())
}
