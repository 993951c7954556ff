//! A pup's relationship with its pupmapper.
//!
//! - [`MapperLink::register`] registers the pup's `[name, pid, port]` and
//!   starts a keeper thread that re-registers about once a second. A
//!   registration identical to the mapper's entry is a no-op there, so this
//!   is both the check that the mapper still lists the pup and the repair
//!   when a restarted mapper has forgotten it.
//! - [`MapperLink::unregister`] (or dropping the link) stops the keeper first
//!   and then unregisters, so the keeper can never re-register a pup that is
//!   leaving. A pup must call it on SIGINT/SIGTERM too.
//! - [`accept_peer`] sorts out who connected to the pup's own port: a ush
//!   (protocol `podus-pup`), a mapper alert (`podus-mapper-alert`, one-way:
//!   the pup answers nothing), or the mapper's liveness probe (a connection
//!   closed before any frame).

use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use pupmapper_client::client::{ClientError, MapperClient};
use pupmapper_client::proto::{self, MapperAlert, PupEntry};
use wire::Shutdown;

use crate::frame::{self, Connection, HandshakeError, Hello};

/// What kind of peer a connection's first `Hello` announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// The pupmapper, about to send a [`MapperAlert`].
    MapperAlert,
    /// A ush speaking the pup protocol.
    Ush,
    /// Something else; to be refused.
    Unknown,
}

/// Classifies a connection by the protocol its `Hello` names. Versions are
/// not checked here, so that a ush of another version can be told precisely
/// what is wrong.
pub fn classify(hello: &Hello) -> Incoming {
    match hello.protocol.as_str() {
        proto::ALERT_PROTOCOL => Incoming::MapperAlert,
        frame::PROTOCOL => Incoming::Ush,
        _ => Incoming::Unknown,
    }
}

/// Who is on a newly accepted connection, after [`accept_peer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// The mapper says a ush looked this pup up; the connection is done.
    Alert(MapperAlert),
    /// A ush whose `Hello` was welcomed; authentication comes next.
    Ush(Hello),
    /// The peer closed without a frame: the mapper checking that the port
    /// is alive. Close quietly.
    Probe,
}

/// Reads the first frame on a pup's accepted connection and handles the
/// handshake for whichever peer it is.
///
/// A ush gets `Welcome` (or `Refused` on a version mismatch, as an error); an
/// alert is read without any answer and is believed only from a loopback
/// peer, since the mapper runs on the pup's host; anything else is refused.
pub fn accept_peer(conn: &mut Connection) -> Result<Peer, HandshakeError> {
    let Some(hello) = conn.read_hello()? else {
        return Ok(Peer::Probe);
    };
    match classify(&hello) {
        Incoming::Ush => {
            conn.answer_hello(&hello, &frame::hello())?;
            Ok(Peer::Ush(hello))
        }
        Incoming::MapperAlert => {
            let ours = proto::alert_hello();
            let local = conn
                .peer_addr()
                .map(|a| a.ip().to_canonical().is_loopback())
                .unwrap_or(false);
            if !hello.compatible(&ours) || !local {
                // One-way protocol: no refusal is sent, the connection just ends.
                conn.close();
                return Err(HandshakeError::Mismatch {
                    ours,
                    theirs: hello,
                });
            }
            let alert = conn.read_frame::<MapperAlert>()?;
            conn.close();
            alert.map(Peer::Alert).ok_or(HandshakeError::Closed)
        }
        Incoming::Unknown => {
            let ours = frame::hello();
            conn.refuse(
                &ours,
                &format!("this is a pup: it speaks {ours}, not {hello}"),
            );
            Err(HandshakeError::Mismatch {
                ours,
                theirs: hello,
            })
        }
    }
}

/// How the link between a pup and its mapper stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// The mapper lists this pup.
    Registered,
    /// The mapper cannot be reached; the keeper retries.
    MapperUnreachable(String),
    /// The mapper answers but refuses the registration (e.g. a live pup
    /// took the name while the mapper had forgotten this one); the keeper
    /// retries.
    Refused(String),
}

/// Timing of a [`MapperLink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// How often the keeper re-registers.
    pub check_interval: Duration,
    /// Connect and request timeout for each talk with the mapper.
    pub timeout: Duration,
}

impl Default for LinkConfig {
    /// A check every second, 2 s timeouts.
    fn default() -> LinkConfig {
        LinkConfig {
            check_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        }
    }
}

/// A pup's registration with a mapper, kept alive by a background thread.
#[derive(Debug)]
pub struct MapperLink {
    mapper: String,
    entry: PupEntry,
    config: LinkConfig,
    state: Arc<Mutex<LinkState>>,
    stop: Shutdown,
    keeper: Option<JoinHandle<()>>,
}

/// One register call; a fresh connection each time, because the point is to
/// notice a mapper that went away and came back.
fn register_once(mapper: &str, entry: &PupEntry, config: &LinkConfig) -> Result<(), ClientError> {
    let mut client = MapperClient::connect_timeout(mapper, config.timeout, config.timeout)?;
    client.register(&entry.name, entry.pid, entry.port)
}

/// The state a register result leaves the link in.
fn state_of(result: Result<(), ClientError>) -> LinkState {
    match result {
        Ok(()) => LinkState::Registered,
        Err(ClientError::Server(message)) => LinkState::Refused(message),
        Err(e) => LinkState::MapperUnreachable(e.to_string()),
    }
}

impl MapperLink {
    /// Registers this process as the pup for `name` on `port` with the mapper
    /// at `mapper` (`"host:port"`), and starts keeping the registration.
    /// Fails if the first registration fails.
    pub fn register(mapper: &str, name: &str, port: u16) -> Result<MapperLink, ClientError> {
        MapperLink::register_with(
            mapper,
            name,
            std::process::id(),
            port,
            LinkConfig::default(),
        )
    }

    /// [`MapperLink::register`] with an explicit pid and timing.
    pub fn register_with(
        mapper: &str,
        name: &str,
        pid: u32,
        port: u16,
        config: LinkConfig,
    ) -> Result<MapperLink, ClientError> {
        let entry = PupEntry {
            name: name.to_string(),
            pid,
            port,
        };
        register_once(mapper, &entry, &config)?;
        let state = Arc::new(Mutex::new(LinkState::Registered));
        let stop = Shutdown::new();
        let keeper = {
            let (mapper, entry, state, stop) = (
                mapper.to_string(),
                entry.clone(),
                state.clone(),
                stop.clone(),
            );
            thread::Builder::new()
                .name("pup-mapper-link".into())
                .spawn(move || keep(&mapper, &entry, &config, &state, &stop))
                .map_err(|e| ClientError::Connect {
                    addr: "(keeper thread)".into(),
                    source: e,
                })?
        };
        Ok(MapperLink {
            mapper: mapper.to_string(),
            entry,
            config,
            state,
            stop,
            keeper: Some(keeper),
        })
    }

    /// The registered tuple.
    pub fn entry(&self) -> &PupEntry {
        &self.entry
    }

    /// The mapper's address as given.
    pub fn mapper(&self) -> &str {
        &self.mapper
    }

    /// How the link stands as of the keeper's last check.
    pub fn state(&self) -> LinkState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops the keeper and unregisters. `Ok` also when the mapper no longer
    /// had the entry.
    pub fn unregister(mut self) -> Result<(), ClientError> {
        self.stop_and_unregister()
    }

    fn stop_and_unregister(&mut self) -> Result<(), ClientError> {
        let Some(keeper) = self.keeper.take() else {
            return Ok(());
        };
        self.stop.trigger();
        let _ = keeper.join();
        let mut client = MapperClient::connect_timeout(
            self.mapper.as_str(),
            self.config.timeout,
            self.config.timeout,
        )?;
        client.unregister(&self.entry.name, self.entry.pid)?;
        Ok(())
    }
}

impl Drop for MapperLink {
    /// Best-effort unregistration; errors have nowhere to go here.
    fn drop(&mut self) {
        let _ = self.stop_and_unregister();
    }
}

/// The keeper: re-registers every `check_interval` until stopped, logging
/// each change of state once.
fn keep(
    mapper: &str,
    entry: &PupEntry,
    config: &LinkConfig,
    state: &Mutex<LinkState>,
    stop: &Shutdown,
) {
    while !stop.wait_timeout(config.check_interval) {
        let now = state_of(register_once(mapper, entry, config));
        let mut current = state.lock().unwrap_or_else(|e| e.into_inner());
        if *current == now {
            continue;
        }
        // Unreachable → unreachable with a different error text is no news.
        if matches!(
            (&*current, &now),
            (
                LinkState::MapperUnreachable(_),
                LinkState::MapperUnreachable(_)
            )
        ) {
            continue;
        }
        match &now {
            LinkState::Registered => {
                crate::log!("pup: re-registered {entry} with the pupmapper at {mapper}")
            }
            LinkState::MapperUnreachable(e) => {
                crate::log!(
                    "pup: lost the pupmapper at {mapper} ({e}); will re-register when it is back"
                )
            }
            LinkState::Refused(m) => {
                crate::log!("pup: the pupmapper at {mapper} refused {entry}: {m}")
            }
        }
        *current = now;
    }
}

#[cfg(test)]
mod tests {
    // The pupmapper's test helper for ports (a closed port, a reserved one).
    mod closed_port {
        include!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../pupmapper/tests/common/closed_port.rs"
        ));
    }
    use super::*;
    use std::io;
    use std::net::{SocketAddr, TcpListener};
    use std::time::Instant;

    use pupmapper::server::{self, Config};
    use wire::frame::{HelloReply, Limits};

    const PATIENCE: Duration = Duration::from_secs(10);

    /// An in-process mapper on `addr` (port 0 for any).
    struct Mapper {
        addr: SocketAddr,
        stop: Shutdown,
        thread: Option<JoinHandle<io::Result<()>>>,
    }

    impl Mapper {
        fn start(addr: &str) -> Mapper {
            let listener = TcpListener::bind(addr).expect("bind the mapper");
            let addr = listener.local_addr().unwrap();
            let stop = Shutdown::new();
            let thread = {
                let stop = stop.clone();
                thread::spawn(move || server::run_with(listener, stop, Config::default()))
            };
            Mapper {
                addr,
                stop,
                thread: Some(thread),
            }
        }
        fn client(&self) -> MapperClient {
            MapperClient::connect(self.addr).unwrap()
        }
        fn stop(&mut self) {
            self.stop.trigger();
            if let Some(t) = self.thread.take() {
                t.join().unwrap().unwrap();
            }
        }
    }

    impl Drop for Mapper {
        fn drop(&mut self) {
            self.stop();
        }
    }

    fn eventually(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !f() {
            assert!(
                Instant::now() < deadline,
                "timed out after {PATIENCE:?} waiting for {what}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn fast() -> LinkConfig {
        LinkConfig {
            check_interval: Duration::from_millis(50),
            timeout: Duration::from_secs(2),
        }
    }

    /// The pup's listening socket and a link registering it.
    fn pup(mapper: &Mapper, name: &str) -> (TcpListener, MapperLink) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let link = MapperLink::register_with(
            &mapper.addr.to_string(),
            name,
            std::process::id(),
            port,
            fast(),
        )
        .unwrap();
        (listener, link)
    }

    fn accept(listener: &TcpListener) -> Connection {
        let (s, _) = listener.accept().unwrap();
        Connection::new(s, Limits::default()).unwrap()
    }

    #[test]
    fn registers_and_unregisters() {
        let mapper = Mapper::start("127.0.0.1:0");
        let (_listener, link) = pup(&mapper, "pizza");
        assert_eq!(link.state(), LinkState::Registered);
        assert_eq!(mapper.client().list().unwrap(), vec![link.entry().clone()]);
        link.unregister().unwrap();
        assert_eq!(mapper.client().list().unwrap(), vec![]);
    }

    #[test]
    fn drop_unregisters() {
        let mapper = Mapper::start("127.0.0.1:0");
        let (_listener, link) = pup(&mapper, "pizza");
        drop(link);
        assert_eq!(mapper.client().list().unwrap(), vec![]);
    }

    #[test]
    fn first_registration_failure_is_reported() {
        let mapper = Mapper::start("127.0.0.1:0");
        let (_l, _held) = pup(&mapper, "pizza");
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        // Another live process (pid 1) cannot take the name.
        let err = MapperLink::register_with(
            &mapper.addr.to_string(),
            "pizza",
            1,
            other.local_addr().unwrap().port(),
            fast(),
        )
        .unwrap_err();
        assert!(matches!(err, ClientError::Server(_)), "{err:?}");
    }

    #[test]
    fn re_registers_when_the_mapper_restarts() {
        // The port stays reserved while no mapper listens on it, so the
        // new mapper can have it back (a freed port could be taken).
        let (_reserved, port) = closed_port::reserved_port();
        let mut mapper = Mapper::start(&format!("127.0.0.1:{port}"));
        let addr = mapper.addr;
        let (_listener, link) = pup(&mapper, "pizza");
        mapper.stop();
        eventually("the link to notice the mapper is gone", || {
            matches!(link.state(), LinkState::MapperUnreachable(_))
        });
        // A new mapper on the same port starts with an empty table...
        let mapper = Mapper::start(&addr.to_string());
        // ...and the keeper fills it in again.
        eventually("re-registration with the new mapper", || {
            mapper.client().list().unwrap() == vec![link.entry().clone()]
        });
        eventually("the link to report Registered", || {
            link.state() == LinkState::Registered
        });
    }

    #[test]
    fn lookup_alerts_the_pup_and_probes_are_recognized() {
        let mapper = Mapper::start("127.0.0.1:0");
        let (listener, _link) = pup(&mapper, "pizza");
        // List probes the port: a connection that closes without a frame.
        assert_eq!(mapper.client().list().unwrap().len(), 1);
        assert_eq!(accept_peer(&mut accept(&listener)).unwrap(), Peer::Probe);
        // Lookup sends the alert.
        assert!(mapper.client().lookup("pizza").unwrap().is_some());
        assert_eq!(
            accept_peer(&mut accept(&listener)).unwrap(),
            Peer::Alert(MapperAlert {
                name: "pizza".into()
            })
        );
    }

    #[test]
    fn ush_is_welcomed_and_strangers_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            (0..3)
                .map(|_| accept_peer(&mut accept(&listener)))
                .collect::<Vec<_>>()
        });
        let connect = || Connection::connect(&addr, PATIENCE, Limits::default()).unwrap();
        // The right ush.
        assert_eq!(
            connect().offer_hello(&frame::hello()).unwrap(),
            frame::hello()
        );
        // A ush of another version is told what the pup speaks.
        match connect().offer_hello(&Hello::new(frame::PROTOCOL, 99)) {
            Err(HandshakeError::Refused { server, .. }) => assert_eq!(server, frame::hello()),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Someone speaking the mapper protocol to a pup.
        let mut c = connect();
        c.write_frame(&proto::hello()).unwrap();
        assert!(matches!(
            c.read_frame::<HelloReply>(),
            Ok(Some(HelloReply::Refused { .. }))
        ));

        let results = server.join().unwrap();
        assert_eq!(results[0].as_ref().unwrap(), &Peer::Ush(frame::hello()));
        assert!(matches!(results[1], Err(HandshakeError::Mismatch { .. })));
        assert!(matches!(results[2], Err(HandshakeError::Mismatch { .. })));
    }

    #[test]
    fn classification() {
        assert_eq!(classify(&proto::alert_hello()), Incoming::MapperAlert);
        assert_eq!(classify(&frame::hello()), Incoming::Ush);
        assert_eq!(classify(&Hello::new(frame::PROTOCOL, 7)), Incoming::Ush);
        assert_eq!(classify(&proto::hello()), Incoming::Unknown);
    }
}
