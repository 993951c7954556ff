//! Fairness (SPEC §5.4, issue 11): the pupmapper has no authentication, so
//! connections are limited per peer address: one host holding its share of
//! the slots cannot keep another out.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::time::Duration;

use common::{Outcome, PATIENCE, TestMapper, eventually, handshake, outcome};
use pupmapper::server::Config;

/// A TCP connection to `to` from source address `from` (any 127.x address
/// is this host on Linux).
fn connect_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let SocketAddr::V4(to) = to else {
        panic!("IPv4 only")
    };
    // SAFETY: plain socket calls on a descriptor this function owns until
    // it is handed to TcpStream.
    let s = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = TcpStream::from_raw_fd(fd);
        let sa = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let local = sa(from, 0);
        let r = libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len);
        assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());
        let remote = sa(*to.ip(), to.port());
        let r = libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len);
        assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
        stream
    };
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

#[test]
fn one_address_cannot_hold_every_slot() {
    let mapper = TestMapper::with(Config {
        max_connections: 16,
        max_per_peer: 4,
        handshake_timeout: Duration::from_secs(30),
        ..Config::default()
    });
    let flooder = Ipv4Addr::new(127, 0, 0, 2);
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = connect_from(flooder, mapper.addr);
            handshake(&mut s);
            s
        })
        .collect();
    let mut fifth = connect_from(flooder, mapper.addr);
    match outcome(&mut fifth, false) {
        Outcome::ErrorReply(m) => assert!(m.contains("too many connections"), "{m}"),
        Outcome::Closed => panic!("refused without a reason"),
    }
    // Another host is served meanwhile.
    assert!(mapper.client().list().is_ok());
    // One of the four leaves: the flooder may connect again.
    drop(held.pop());
    eventually("the freed slot to be given back", || {
        let mut s = connect_from(flooder, mapper.addr);
        frame_hello_welcomed(&mut s).then_some(())
    });
}

/// Whether the mapper welcomes a `Hello` on `s`.
fn frame_hello_welcomed(s: &mut TcpStream) -> bool {
    use pupmapper::frame::{self, HelloReply, MAX_FRAME};
    frame::write_frame(s, &pupmapper::proto::hello()).is_ok()
        && matches!(
            frame::read_frame::<HelloReply>(s, MAX_FRAME),
            Ok(Some(HelloReply::Welcome(_)))
        )
}
