//! Facts about this machine for the banner and messages.
//!
//! Invariant: never fails; an unknown fact reads `unknown`.

/// This host's name.
pub(crate) fn hostname() -> String {
    wire::host_name().unwrap_or_else(|| "unknown".into())
}

/// The OS and its release, e.g. `Linux 6.8.0`.
pub(crate) fn os() -> String {
    match nix::sys::utsname::uname() {
        Ok(u) => format!(
            "{} {}",
            u.sysname().to_string_lossy(),
            u.release().to_string_lossy()
        ),
        Err(_) => std::env::consts::OS.to_string(),
    }
}

/// When this ush was compiled (set by build.rs).
pub(crate) const BUILD_DATE: &str = env!("USH_BUILD_DATE");

/// This ush's version.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
