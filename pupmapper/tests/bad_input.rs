//! Hostile and broken clients: each gets an error reply or a closed
//! connection, and the daemon keeps serving well-formed clients.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Outcome, PATIENCE, TestMapper, handshake, outcome, raw, still_answers};
use pupmapper::client::{ClientError, MapperClient};
use pupmapper::frame::{self, HandshakeError, Hello, Limits};
use pupmapper::proto;
use pupmapper::server::{Config, MAX_REQUEST_FRAME};

/// A mapper with short timeouts so that stalling clients are cut off fast.
fn impatient(max_connections: usize) -> TestMapper {
    TestMapper::with(Config {
        limits: Limits {
            max_frame: MAX_REQUEST_FRAME,
            idle_timeout: Some(Duration::from_millis(800)),
            frame_timeout: Some(Duration::from_millis(300)),
            write_timeout: Some(Duration::from_secs(2)),
        },
        handshake_timeout: Duration::from_millis(800),
        max_connections,
        ..Config::default()
    })
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn truncated_frame_is_closed() {
    let mapper = impatient(256);
    let mut s = raw(mapper.addr);
    handshake(&mut s);
    // Announce 100 bytes, send 10, stop sending.
    s.write_all(&100u32.to_be_bytes()).unwrap();
    s.write_all(&[1; 10]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(outcome(&mut s, true), Outcome::Closed);
    still_answers(&mapper);
}

#[test]
fn oversized_length_prefix_gets_an_error() {
    let mapper = impatient(256);
    let mut s = raw(mapper.addr);
    handshake(&mut s);
    s.write_all(&[0xFF; 4]).unwrap();
    match outcome(&mut s, true) {
        Outcome::ErrorReply(m) => assert!(m.contains("exceeds the limit"), "message: {m}"),
        Outcome::Closed => panic!("expected an error reply"),
    }
    // The same before the handshake: refused with the reason.
    let mut s = raw(mapper.addr);
    s.write_all(&[0xFF; 4]).unwrap();
    assert!(matches!(outcome(&mut s, false), Outcome::ErrorReply(m) if m.contains("exceeds")));
    still_answers(&mapper);
}

#[test]
fn undecodable_request_gets_an_error() {
    let mapper = impatient(256);
    let mut s = raw(mapper.addr);
    handshake(&mut s);
    // Variant 200 of Request does not exist.
    s.write_all(&[0, 0, 0, 2, 0xC8, 0x01]).unwrap();
    assert!(matches!(outcome(&mut s, true), Outcome::ErrorReply(m) if m.contains("bad request")));
    still_answers(&mapper);
}

#[test]
fn random_garbage_is_refused_or_closed() {
    let mapper = impatient(256);
    for seed in 1..=20 {
        let mut s = raw(mapper.addr);
        // The peer may close before all of it is written; that is fine.
        let _ = s.write_all(&garbage(seed, 2000));
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = outcome(&mut s, false);
    }
    still_answers(&mapper);
}

#[test]
fn client_vanishing_mid_frame() {
    let mapper = impatient(256);
    for handshaken in [false, true] {
        let mut s = raw(mapper.addr);
        if handshaken {
            handshake(&mut s);
        }
        s.write_all(&50u32.to_be_bytes()).unwrap();
        s.write_all(&[7; 20]).unwrap();
        drop(s);
    }
    still_answers(&mapper);
}

#[test]
fn wrong_protocol_or_version_is_refused() {
    let mapper = impatient(256);
    for hello in [Hello::new("podus-mapper", 99), Hello::new("podus-pup", 1)] {
        let mut s = raw(mapper.addr);
        frame::write_frame(&mut s, &hello).unwrap();
        match outcome(&mut s, false) {
            Outcome::ErrorReply(m) => assert!(m.contains("podus-mapper v1"), "message: {m}"),
            Outcome::Closed => panic!("{hello} was not told why"),
        }
    }
    still_answers(&mapper);
}

#[test]
fn slow_client_is_cut_off_without_blocking_others() {
    // A frame may take 4 s here. A well-formed client is served while the
    // slow one is still connected (checked, not assumed from a time), and
    // the slow one is cut off at the frame timeout, not after its frame.
    const FRAME: Duration = Duration::from_secs(4);
    let mapper = TestMapper::with(Config {
        limits: Limits {
            max_frame: MAX_REQUEST_FRAME,
            idle_timeout: Some(FRAME),
            frame_timeout: Some(FRAME),
            write_timeout: Some(FRAME),
        },
        ..Config::default()
    });
    let addr = mapper.addr;
    let cut = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let slow = thread::spawn({
        let cut = cut.clone();
        move || {
            // Timed from before the connection exists: the mapper's timer
            // cannot start earlier.
            let start = Instant::now();
            let mut s = raw(addr);
            handshake(&mut s);
            s.write_all(&1000u32.to_be_bytes()).unwrap();
            // One byte every 50 ms: each read is quick, but the frame would
            // take 50 s, far over the frame timeout.
            for i in 0..1000u32 {
                if s.write_all(&[i as u8]).is_err() {
                    cut.store(true, Ordering::SeqCst);
                    return start.elapsed();
                }
                if i == 0 {
                    started_tx.send(()).unwrap();
                }
                thread::sleep(Duration::from_millis(50));
            }
            panic!("a 50 s frame was accepted despite the {FRAME:?} frame timeout");
        }
    });
    started_rx
        .recv_timeout(PATIENCE)
        .expect("slow client started");
    let mut c = MapperClient::connect_timeout(mapper.addr, PATIENCE, PATIENCE)
        .expect("connect while a slow client is mid-frame");
    c.list().expect("served while a slow client is mid-frame");
    assert!(
        !cut.load(Ordering::SeqCst),
        "the slow client was already cut off when the good one was served, \
         so the good one may have waited behind it"
    );
    let cut_after = slow.join().expect("slow client thread");
    // Not before the timeout (less timer rounding).
    assert!(
        cut_after >= FRAME - Duration::from_millis(300),
        "cut off after {cut_after:?}, before the {FRAME:?} frame timeout"
    );
    still_answers(&mapper);
}

#[test]
fn silent_clients_are_closed() {
    let mapper = impatient(256);
    // Never says hello.
    let mut quiet = raw(mapper.addr);
    // Says hello, then nothing.
    let mut idle = raw(mapper.addr);
    handshake(&mut idle);
    assert_eq!(outcome(&mut quiet, false), Outcome::Closed);
    assert_eq!(outcome(&mut idle, true), Outcome::Closed);
    still_answers(&mapper);
}

#[test]
fn hundred_concurrent_bad_clients() {
    let mapper = impatient(256);
    let addr = mapper.addr;
    let clients: Vec<_> = (0..100u64)
        .map(|i| {
            thread::spawn(move || {
                let mut s = raw(addr);
                let handshaken = i % 2 == 0;
                if handshaken {
                    handshake(&mut s);
                }
                let bad: Vec<u8> = match i % 5 {
                    0 => [0xFF; 4].to_vec(),           // oversized
                    1 => vec![0, 0, 0, 9, 1, 2],       // truncated
                    2 => garbage(i, 300),              // garbage
                    3 => vec![0, 0, 0, 2, 0xC8, 0x01], // undecodable
                    _ => vec![],                       // silent
                };
                let _ = s.write_all(&bad);
                if i % 5 == 1 || i % 5 == 2 {
                    let _ = s.shutdown(std::net::Shutdown::Write);
                }
                outcome(&mut s, handshaken)
            })
        })
        .collect();
    for c in clients {
        // `outcome` panics on a hang; either result is acceptable.
        c.join()
            .expect("a bad client hung or saw something unexpected");
    }
    still_answers(&mapper);
}

#[test]
fn connections_over_the_limit_are_refused_then_admitted_again() {
    let mapper = TestMapper::with(Config {
        max_connections: 8,
        ..Config::default()
    });
    let mut held: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = raw(mapper.addr);
            handshake(&mut s);
            s
        })
        .collect();
    match MapperClient::connect(mapper.addr) {
        Err(ClientError::Handshake(HandshakeError::Refused { reason, .. })) => {
            assert!(reason.contains("too many connections"), "reason: {reason}");
        }
        other => panic!("expected a refusal at the limit, got {other:?}"),
    }
    // Freeing one slot lets a client in again, once the server sees the close.
    held.pop();
    let mut c = common::eventually("a free connection slot", || {
        MapperClient::connect(mapper.addr).ok()
    });
    assert_eq!(c.lookup("nobody").unwrap(), None);
    // Each held connection is still served.
    for s in &mut held {
        frame::write_frame(s, &proto::Request::List).unwrap();
        let r: proto::Response = frame::read_frame(s, frame::MAX_FRAME).unwrap().unwrap();
        assert_eq!(r, proto::Response::List(vec![]));
    }
}
