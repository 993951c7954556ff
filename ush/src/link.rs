//! How the shell reaches pups: the [`Link`] and [`Connector`] traits and
//! their real implementations over `pup_client::client` and `pupmapper_client::client`.
//!
//! Invariant: the shell talks to pups only through these traits, so its
//! logic (errexit, notices, waits) is unit-tested against a fake pup and
//! the network code stays here. Errors are already worded for the user.

use std::net::SocketAddr;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pup_client::auth::{self, Cookie};
use pup_client::client::{ClientError, PupClient};
use pup_client::proto::{Notice, Request, Response};
use pupmapper_client::client::MapperClient;
use pupmapper_client::proto::PupEntry;

use crate::local::Local;

/// One open connection to a pup.
pub(crate) trait Link: Send {
    /// Sends a request and waits for its reply (notices are queued meanwhile).
    fn call(&mut self, req: Request) -> Result<Response, String>;
    /// Notices received so far, without waiting.
    fn try_notices(&mut self) -> Vec<Notice>;
    /// The next notice, waiting at most `timeout`.
    fn recv_notice(&mut self, timeout: Duration) -> Option<Notice>;
    /// True once the pup closed the connection or it broke.
    fn is_closed(&self) -> bool;
    /// Says goodbye and closes (the pup keeps its state).
    fn close(self: Box<Self>);
}

/// What a [`Connector`] hands back for `connect`.
pub(crate) struct Connected {
    /// The connection.
    pub link: Box<dyn Link>,
    /// True if this ush started the pup just now (`ush --local`).
    pub started: bool,
    /// True if the pup belongs to a private `ush --local` session, whose
    /// output the user expects to see without asking.
    pub local: bool,
}

/// Finds pups and connects to them.
pub(crate) trait Connector: Send {
    /// Connects to `program`'s pup through `host`'s pupmapper (`None`: this
    /// host, or the private one of `--local`, starting the pup there if
    /// needed, with `--debug` when `debug`, and with a new journal instead
    /// of restoring from the one it has when `fresh`).
    fn connect(
        &mut self,
        program: &str,
        host: Option<&str>,
        debug: bool,
        fresh: bool,
    ) -> Result<Connected, String>;
    /// The pups registered at `host`'s pupmapper, and how to name that host.
    fn pups(&mut self, host: Option<&str>) -> Result<(String, Vec<PupEntry>), String>;
    /// Stops whatever this connector started (pups, pupmapper). Idempotent.
    fn shutdown(&mut self) {}
    /// A [`Dial`] that reaches many pups at once from worker threads
    /// (fleets, SPEC §5.5).
    fn dialer(&mut self) -> Result<Arc<dyn Dial>, String> {
        Err("this ush cannot reach a fleet".into())
    }
    /// Under `ush --local`, starts `program`'s pup on this host if none
    /// runs: `Ok(true)` if it was started now. Elsewhere does nothing.
    fn start_local(&mut self, _program: &str, _debug: bool) -> Result<bool, String> {
        Ok(false)
    }
}

/// Connects to pups from any thread: the fleet commands open one
/// connection per pup, many at once.
pub(crate) trait Dial: Send + Sync {
    /// Connects to `program`'s pup through `host`'s pupmapper (`None`: this
    /// host, or the private pupmapper of `--local`).
    fn dial(&self, program: &str, host: Option<&str>) -> Result<Box<dyn Link>, String>;
}

/// A [`Link`] over a real [`PupClient`].
pub(crate) struct PupLink(pub PupClient);

impl Link for PupLink {
    fn call(&mut self, req: Request) -> Result<Response, String> {
        self.0.call(req).map_err(|e| match e {
            ClientError::Closed => "the pup closed the connection".to_string(),
            ClientError::Timeout => "the pup did not answer in time".to_string(),
            e => e.to_string(),
        })
    }
    fn try_notices(&mut self) -> Vec<Notice> {
        self.0.try_notices()
    }
    fn recv_notice(&mut self, timeout: Duration) -> Option<Notice> {
        self.0.recv_notice(timeout)
    }
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
    fn close(self: Box<Self>) {
        self.0.close()
    }
}

/// The real connector: pupmapper lookups, the cookie, and (with `--local`)
/// the private pupmapper and pups.
pub(crate) struct NetConnector {
    /// The cookie, read (or created) on first use.
    cookie: Option<Cookie>,
    /// Where the cookie lives.
    cookie_path: Option<PathBuf>,
    /// The private session of `ush --local`.
    local: Option<Local>,
}

impl NetConnector {
    /// A connector using the cookie at `cookie_path` (default:
    /// `$PODUS_COOKIE` or `~/.podus/cookie`) and, if given, a `--local`
    /// session.
    pub(crate) fn new(cookie_path: Option<PathBuf>, local: Option<Local>) -> NetConnector {
        let cookie_path = match &local {
            Some(l) => Some(l.cookie_path().to_path_buf()),
            None => cookie_path,
        };
        NetConnector {
            cookie: None,
            cookie_path,
            local,
        }
    }

    fn cookie(&mut self) -> Result<Cookie, String> {
        if let Some(c) = &self.cookie {
            return Ok(c.clone());
        }
        let path = match &self.cookie_path {
            Some(p) => p.clone(),
            None => auth::default_cookie_path().map_err(|e| e.to_string())?,
        };
        let c = Cookie::load_or_create(&path).map_err(|e| e.to_string())?;
        self.cookie = Some(c.clone());
        Ok(c)
    }

    /// The mapper address for `host`, and the host's name for messages.
    fn mapper_for(&self, host: Option<&str>) -> Result<(String, String), String> {
        mapper_for(host, self.local.as_ref().map(Local::mapper_addr))
    }
}

/// The pupmapper address for `host` (`None`: this host's, or the private
/// one of `--local` at `local`), and the host's name for messages.
fn mapper_for(host: Option<&str>, local: Option<SocketAddr>) -> Result<(String, String), String> {
    match (host, local) {
        (None, Some(m)) => Ok((m.to_string(), "localhost".into())),
        (None, None) => Ok((
            pupmapper_client::proto::mapper_addr("127.0.0.1")?,
            crate::sysinfo::hostname(),
        )),
        (Some(h), _) => Ok((pupmapper_client::proto::mapper_addr(h)?, h.to_string())),
    }
}

/// Looks `program` up at the pupmapper `addr` (of host `host_name`, for
/// messages), retrying for `wait`, and connects to its pup with `cookie`.
fn open(
    cookie: &Cookie,
    addr: &str,
    host_name: &str,
    program: &str,
    wait: Duration,
) -> Result<PupClient, String> {
    let mut mc = mapper_client(addr, host_name)?;
    let deadline = Instant::now() + wait;
    let entry = loop {
        match mc
            .lookup(program)
            .map_err(|e| format!("pupmapper on host {host_name}: {e}"))?
        {
            Some(e) => break e,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            None => {
                return Err(format!(
                    "no pup for program {program} on host {host_name} (start one there with `pup {program}`)"
                ));
            }
        }
    };
    let ip = mc.addr().ip();
    let pup_addr = (ip, entry.port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address for the pup")?;
    PupClient::connect(pup_addr, cookie).map_err(|e| match e {
        ClientError::Auth(_) | ClientError::Closed => {
            let path = cookie
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(built in)".into());
            format!(
                "the pup for program {program} on host {host_name} refused this ush: {e} \
                 (our cookie is {path}; it must hold the same secret as the pup's)"
            )
        }
        e => format!("pup for program {program} on host {host_name}: {e}"),
    })
}

/// The real [`Dial`]: the cookie, and the private pupmapper of `--local`
/// for pups on this host.
struct NetDial {
    cookie: Cookie,
    local_mapper: Option<SocketAddr>,
}

impl Dial for NetDial {
    fn dial(&self, program: &str, host: Option<&str>) -> Result<Box<dyn Link>, String> {
        let (addr, host_name) = mapper_for(host, self.local_mapper)?;
        let client = open(&self.cookie, &addr, &host_name, program, Duration::ZERO)?;
        Ok(Box::new(PupLink(client)))
    }
}

fn mapper_client(addr: &str, host: &str) -> Result<MapperClient, String> {
    MapperClient::connect(addr).map_err(|e| match e {
        pupmapper_client::client::ClientError::Connect { source, .. } => format!(
            "cannot reach the pupmapper on host {host} ({addr}): {source} (is pupmapper running there?)"
        ),
        e => format!("pupmapper on host {host}: {e}"),
    })
}

impl Connector for NetConnector {
    fn connect(
        &mut self,
        program: &str,
        host: Option<&str>,
        debug: bool,
        fresh: bool,
    ) -> Result<Connected, String> {
        let cookie = self.cookie()?;
        let mut started = false;
        if host.is_none()
            && let Some(local) = &mut self.local
        {
            started = local.ensure_pup(program, debug, fresh)?;
        }
        let (addr, host_name) = self.mapper_for(host)?;
        // A pup just started registers before it prints its ready line, but
        // allow a moment for a mapper that answers lookups from a snapshot.
        let wait = Duration::from_secs(if started { 5 } else { 0 });
        let client = open(&cookie, &addr, &host_name, program, wait)?;
        Ok(Connected {
            link: Box::new(PupLink(client)),
            started,
            local: host.is_none() && self.local.is_some(),
        })
    }

    fn pups(&mut self, host: Option<&str>) -> Result<(String, Vec<PupEntry>), String> {
        let (addr, host_name) = self.mapper_for(host)?;
        let list = mapper_client(&addr, &host_name)?
            .list()
            .map_err(|e| format!("pupmapper on host {host_name}: {e}"))?;
        Ok((host_name, list))
    }

    fn shutdown(&mut self) {
        if let Some(l) = &mut self.local {
            l.shutdown();
        }
    }

    fn dialer(&mut self) -> Result<Arc<dyn Dial>, String> {
        Ok(Arc::new(NetDial {
            cookie: self.cookie()?,
            local_mapper: self.local.as_ref().map(Local::mapper_addr),
        }))
    }

    fn start_local(&mut self, program: &str, debug: bool) -> Result<bool, String> {
        match &mut self.local {
            Some(l) => l.ensure_pup(program, debug, false),
            None => Ok(false),
        }
    }
}
