// A closed loopback port that stays closed. Plain comments, not `//!`:
// src/registry.rs's unit tests `include!` this file too.

use std::net::Ipv4Addr;

/// A loopback TCP port that is bound but not listening: connecting to it
/// is refused, and nobody else can bind it while the fd lives (it has
/// no SO_REUSEADDR).
#[allow(dead_code)]
pub(crate) fn bound_but_closed_port() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a fresh fd we own; the sockaddr
    // structs are fully initialized and sized as the kernel expects.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        use std::os::fd::AsRawFd;
        let rc = libc::bind(fd.as_raw_fd(), (&raw const sa).cast(), len);
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        let mut out: libc::sockaddr_in = std::mem::zeroed();
        let mut olen = len;
        let rc = libc::getsockname(fd.as_raw_fd(), (&raw mut out).cast(), &mut olen);
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        (fd, u16::from_be(out.sin_port))
    }
}

/// A loopback TCP port held for the caller: bound with SO_REUSEADDR but
/// not listening. The kernel never hands it to anyone binding port 0 while
/// the fd lives, but a listener with SO_REUSEADDR (std's `TcpListener::bind`,
/// so every podus daemon) may bind it, again after a daemon on it died: a
/// test that restarts a daemon on "the same port" keeps that port this way,
/// where a port found free and then released could be taken meanwhile.
#[allow(dead_code)]
pub(crate) fn reserved_port() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: plain socket calls on a fresh fd we own; the option value and
    // the sockaddr structs are fully initialized and sized as the kernel
    // expects.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let rc = libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&raw const one).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let rc = libc::bind(fd.as_raw_fd(), (&raw const sa).cast(), len);
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        let mut out: libc::sockaddr_in = std::mem::zeroed();
        let mut olen = len;
        let rc = libc::getsockname(fd.as_raw_fd(), (&raw mut out).cast(), &mut olen);
        assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
        (fd, u16::from_be(out.sin_port))
    }
}
