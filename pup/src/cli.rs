//! The `pup` command line: `pup NAME [options]` runs the daemon,
//! `pup --exec FILE.uc` runs one program standalone.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use clap::Parser;
use nix::sys::signal::{SigSet, Signal};

use crate::auth::{self, Cookie};
use crate::journal::Journal;
use crate::mapper_link::MapperLink;
use crate::proto::JournalState;
use crate::server::{self, Server, ServerOptions};
use crate::trace;

/// The date this pup was built (set by build.rs).
pub const BUILD_DATE: &str = env!("PUP_BUILD_DATE");

/// Program Update Processor: holds one named program, runs it, and applies
/// the updates a ush sends, while it runs.
///
/// `pup NAME` prints its banner, listens on a free TCP port, registers NAME
/// with the pupmapper and prints `pup NAME listening on ADDR:PORT` once ushes
/// can connect. It unregisters and exits 0 on SIGINT or SIGTERM. Program
/// output goes to standard output; the --debug trace and errors to standard
/// error.
///
/// `pup --exec FILE.uc` compiles and runs one program without mapper or
/// network and exits with the program's exit code (1 on a compile or
/// runtime error).
///
/// `pup --test-update OLD.uc NEW.uc [CHANGES] --records REGEX ...` is the
/// private test pup that ush's `test-update` starts (see
/// `pup --test-update --help`).
#[derive(Debug, Parser)]
#[command(name = "pup", version, after_help = trace::STATES_HELP)]
pub struct Cli {
    /// Name of the program this pup holds (how ushes find it)
    #[arg(required_unless_present = "exec", conflicts_with = "exec")]
    pub name: Option<String>,
    /// Compile and run FILE.uc standalone, then exit with its exit code
    #[arg(long, value_name = "FILE.uc")]
    pub exec: Option<PathBuf>,
    /// The pupmapper to register with [default: 127.0.0.1 and $PODUS_PUPMAPPER_PORT or 7727]
    #[arg(long, value_name = "HOST:PORT")]
    pub mapper: Option<String>,
    /// Address to listen on (ADDR or ADDR:PORT) [default: the pupmapper's address when it is a
    /// loopback one (127.0.0.2 for `--mapper 127.0.0.2:P`: a second "host" on this machine),
    /// else 127.0.0.1]; only loopback clients can reach the default
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// TCP port to listen on [default: any free port]
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// Print the pup's debug trace (the paper's `pup:` lines) on standard error
    #[arg(long)]
    pub debug: bool,
    /// Cookie file shared with ushes [default: $PODUS_COOKIE or ~/.podus/cookie]; created 0600 if missing
    #[arg(long, value_name = "PATH")]
    pub cookie: Option<PathBuf>,
    /// Stack size of the program, in MiB (exceeding it is the "stack overflow" runtime error)
    #[arg(long, value_name = "SIZE_MB", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub stack: Option<u32>,
    /// Do not copy program output to the pup's standard output (ushes can still stream it)
    #[arg(long)]
    pub quiet_output: bool,
    /// Disconnect an authenticated ush that asks nothing and is sent nothing for this long
    /// (`500ms`, `30s`, `10m`, `1h`; `off` for never)
    #[arg(long, value_name = "D", default_value = "1h", value_parser = parse_idle)]
    pub idle_timeout: IdleTimeout,
    /// State directory: the journal (`journal.db`, SQLite; see docs/JOURNAL.md) of every
    /// load, update, revert, run and stop [default: ~/.podus/pups/NAME]
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Reload every version from the journal and start `main` at the versions last
    /// committed (the program's memory starts fresh)
    #[arg(long)]
    pub restore: bool,
    /// Start the program anew: an existing journal is kept aside, readable, as
    /// journal-MS.db in the state directory, and this run begins a new one
    #[arg(long, conflicts_with = "restore")]
    pub fresh: bool,
}

/// The default state directory of program `name`: `~/.podus/pups/NAME`.
pub fn default_state_dir(name: &str) -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or("HOME is not set: give the state directory with --state DIR")?;
    Ok(PathBuf::from(home).join(".podus").join("pups").join(name))
}

/// The value of `--idle-timeout`: a duration, or none for `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleTimeout(pub Option<Duration>);

/// `500ms`, `30s`, `10m`, `1h`, or `off`.
fn parse_idle(s: &str) -> Result<IdleTimeout, String> {
    if s == "off" {
        return Ok(IdleTimeout(None));
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 30s, 10m or 1h"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => {
            return Err(format!(
                "{s:?} is not a duration like 500ms, 30s, 10m or 1h"
            ));
        }
    };
    if d.is_zero() {
        return Err("the idle timeout must be longer than 0 (or `off`)".to_string());
    }
    Ok(IdleTimeout(Some(d)))
}

/// `ADDR` or `ADDR:PORT`.
fn listen_addr(listen: &str, port: Option<u16>) -> Result<SocketAddr, String> {
    if let Ok(sa) = listen.parse::<SocketAddr>() {
        return Ok(match port {
            Some(p) => SocketAddr::new(sa.ip(), p),
            None => sa,
        });
    }
    let ip: IpAddr = listen
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("--listen {listen:?} is not an IP address"))?;
    Ok(SocketAddr::new(ip, port.unwrap_or(0)))
}

/// Where a pup listens unless told: the pupmapper's own address when that
/// is a loopback one (the mapper probes and ushes reach this host's pups
/// there), else 127.0.0.1.
fn default_listen(mapper: &str) -> String {
    match mapper.parse::<SocketAddr>() {
        Ok(sa) if sa.ip().is_loopback() => sa.ip().to_string(),
        _ => "127.0.0.1".to_string(),
    }
}

/// The operating system as the banner names it: `Linux version 6.8.0`.
fn os_name() -> String {
    match nix::sys::utsname::uname() {
        Ok(u) => format!(
            "{} version {}",
            u.sysname().to_string_lossy(),
            u.release().to_string_lossy()
        ),
        Err(_) => std::env::consts::OS.to_string(),
    }
}

/// `1, 2, 3`.
fn list(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// The first line a pup prints.
pub fn banner(name: &str, host: &str) -> String {
    format!(
        "program update processor version {} (compiled on {BUILD_DATE}) running under {} on host {host} for program {name}",
        env!("CARGO_PKG_VERSION"),
        os_name()
    )
}

/// Parses the command line and runs; the process exit code.
pub fn main() -> i32 {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--test-update") {
        return crate::testupdate::main(args.collect());
    }
    let cli = Cli::parse();
    if let Some(path) = &cli.exec {
        let stack = cli.stack.map(|mb| (mb as usize) << 20);
        return crate::exec::exec_file(&path.to_string_lossy(), stack);
    }
    match cli.serve() {
        Ok(()) => 0,
        Err(e) => {
            crate::log!("pup: {e}");
            1
        }
    }
}

impl Cli {
    /// Runs the daemon until SIGINT or SIGTERM.
    pub fn serve(self) -> Result<(), String> {
        let name = self.name.clone().unwrap_or_default();
        pupmapper_client::proto::validate_name(&name)?;
        let mapper = match &self.mapper {
            Some(m) => pupmapper_client::proto::mapper_addr(m)?,
            None => format!("127.0.0.1:{}", pupmapper_client::proto::default_port()?),
        };
        let listen = match &self.listen {
            Some(l) => l.clone(),
            None => default_listen(&mapper),
        };
        let addr = listen_addr(&listen, self.port)?;

        // Block the signals before any thread starts, so that every thread
        // inherits the mask and only the waiter below receives them.
        let mut signals = SigSet::empty();
        signals.add(Signal::SIGINT);
        signals.add(Signal::SIGTERM);
        signals
            .thread_block()
            .map_err(|e| format!("cannot block SIGINT/SIGTERM: {e}"))?;

        let host = server::host_name();
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{}", banner(&name, &host));
        let _ = out.flush();

        let cookie_path = match &self.cookie {
            Some(p) => p.clone(),
            None => auth::default_cookie_path().map_err(|e| e.to_string())?,
        };
        let cookie = Cookie::load_or_create(&cookie_path).map_err(|e| e.to_string())?;

        let mut opts = ServerOptions::new(&name, cookie);
        opts.host = host;
        opts.debug = self.debug;
        opts.quiet_output = self.quiet_output;
        opts.idle_timeout = self.idle_timeout.0;
        opts.stack_size = self.stack.map(|mb| (mb as usize) << 20);
        // A journal that cannot be opened does not keep the program from
        // running: the pup starts without it and says why (refusing to
        // start would turn a bad file into an outage).
        let state = match &self.state {
            Some(d) => Ok(d.clone()),
            None => default_state_dir(&name),
        };
        opts.journal = Some(match state {
            Ok(dir) => match Journal::open_with(&dir, self.fresh) {
                Ok(j) => j,
                Err(e) => {
                    crate::log!("pup: {e}; the journal is off, the program runs without it");
                    Journal::off(&e.to_string())
                }
            },
            Err(e) => {
                crate::log!("pup: {e}; the journal is off");
                Journal::off(&e)
            }
        });
        let shutdown = opts.shutdown.clone();
        let server = Server::new(opts).map_err(|e| e.to_string())?;
        if self.restore {
            match server.restore() {
                Ok(Some(r)) if r.version > 0 => {
                    let _ = writeln!(
                        out,
                        "pup: restored program {name} from its journal: versions {} reloaded, main started at version {}",
                        list(&r.versions),
                        r.version
                    );
                }
                Ok(Some(r)) => {
                    let _ = writeln!(
                        out,
                        "pup: restored program {name} from its journal: versions {} reloaded (it was never run)",
                        list(&r.versions)
                    );
                }
                Ok(None) => match server.journal_state() {
                    JournalState::On(_) => {
                        let _ = writeln!(
                            out,
                            "pup: the journal of {name} is empty: nothing to restore"
                        );
                    }
                    JournalState::Off(why) => {
                        crate::log!("pup: cannot restore {name}: the journal is off ({why})");
                    }
                },
                Err(e) => crate::log!("pup: cannot restore {name} from its journal: {e}"),
            }
            let _ = out.flush();
        }

        let listener =
            TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let link = MapperLink::register(&mapper, &name, local.port()).map_err(|e| {
            format!(
                "cannot register program {name} with the pupmapper at {mapper}: {e} (is a pupmapper running there?)"
            )
        })?;

        {
            let shutdown = shutdown.clone();
            thread::Builder::new()
                .name("pup-signals".into())
                .spawn(move || {
                    if let Ok(signal) = signals.wait() {
                        crate::log!("pup: {signal}, unregistering and shutting down");
                    }
                    shutdown.trigger();
                })
                .map_err(|e| format!("cannot start the signal thread: {e}"))?;
        }

        // The listener already queues connections, so whoever reads this
        // line may connect at once.
        let _ = writeln!(out, "pup {name} listening on {local}");
        let _ = out.flush();

        let served = server.run(listener);
        // A mapper that went away first has nothing left to unregister from
        // (and forgets dead pups anyway): worth a word, not a failure.
        if let Err(e) = link.unregister() {
            crate::log!(
                "pup: could not unregister program {name} from the pupmapper at {mapper}: {e}"
            );
        }
        served.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            listen_addr("127.0.0.1", None).unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            listen_addr("127.0.0.1", Some(9)).unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
        assert_eq!(
            listen_addr("0.0.0.0:5", None).unwrap(),
            "0.0.0.0:5".parse().unwrap()
        );
        assert_eq!(
            listen_addr("::1", None).unwrap(),
            SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 0)
        );
        assert!(listen_addr("nowhere", None).is_err());
    }

    #[test]
    fn pups_listen_on_their_mappers_loopback_address() {
        assert_eq!(default_listen("127.0.0.3:7727"), "127.0.0.3");
        assert_eq!(default_listen("[::1]:7727"), "::1");
        assert_eq!(default_listen("10.1.2.3:7727"), "127.0.0.1");
        assert_eq!(default_listen("gto:7727"), "127.0.0.1");
    }

    #[test]
    fn banner_names_everything() {
        let b = banner("x", "gto");
        assert!(b.starts_with("program update processor version "), "{b}");
        assert!(b.contains("(compiled on "), "{b}");
        assert!(b.ends_with(" on host gto for program x"), "{b}");
    }

    #[test]
    fn idle_timeouts() {
        assert_eq!(parse_idle("off"), Ok(IdleTimeout(None)));
        assert_eq!(
            parse_idle("500ms"),
            Ok(IdleTimeout(Some(Duration::from_millis(500))))
        );
        assert_eq!(
            parse_idle("2m"),
            Ok(IdleTimeout(Some(Duration::from_secs(120))))
        );
        assert!(parse_idle("0s").is_err());
        assert!(parse_idle("5").is_err());
        assert!(parse_idle("x").is_err());
    }

    #[test]
    fn arguments() {
        Cli::try_parse_from(["pup", "x", "--debug", "--stack", "8"]).unwrap();
        Cli::try_parse_from(["pup", "--exec", "a.uc"]).unwrap();
        assert!(Cli::try_parse_from(["pup"]).is_err());
        assert!(Cli::try_parse_from(["pup", "x", "--exec", "a.uc"]).is_err());
        assert!(Cli::try_parse_from(["pup", "x", "--stack", "0"]).is_err());
    }
}
