//! The `pupmapper` command line.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::thread;

use anyhow::{Context, anyhow};
use clap::Parser;
use nix::sys::signal::{SigSet, Signal};

use crate::proto;
use crate::server::{self, Shutdown};

/// Pup Port Mapper Daemon: maps program names to the pups that hold them.
///
/// Prints `pupmapper listening on ADDR:PORT` once it accepts connections and
/// exits cleanly on SIGINT or SIGTERM. Registration changes are logged to
/// standard error, one line each.
#[derive(Debug, Parser)]
#[command(name = "pupmapper", version)]
pub struct Cli {
    /// TCP port to listen on (0: any free port) [default: $PODUS_PUPMAPPER_PORT or 7727]
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on; only loopback clients can reach the default.
    /// Pups registering here are probed at this address, so mappers on
    /// 127.0.0.2, 127.0.0.3, … (with `pup --mapper 127.0.0.2:P`) stand for
    /// several hosts on one machine
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub listen: IpAddr,
}

impl Cli {
    /// Runs the daemon until SIGINT or SIGTERM.
    pub fn run(self) -> anyhow::Result<()> {
        let port = match self.port {
            Some(port) => port,
            None => proto::default_port().map_err(|e| anyhow!(e))?,
        };
        // Block the signals before any thread starts so that every thread
        // inherits the mask and only the waiter below ever receives them.
        let mut signals = SigSet::empty();
        signals.add(Signal::SIGINT);
        signals.add(Signal::SIGTERM);
        signals.thread_block().context("blocking SIGINT/SIGTERM")?;

        let addr = SocketAddr::new(self.listen, port);
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;

        let shutdown = Shutdown::new();
        let stopper = shutdown.clone();
        thread::Builder::new()
            .name("pupmapper-signals".into())
            .spawn(move || {
                if let Ok(signal) = signals.wait() {
                    crate::log!("pupmapper: {signal}, shutting down");
                }
                stopper.trigger();
            })
            .context("starting the signal thread")?;

        // The listener is already accepting (queued by the kernel), so tests
        // may connect as soon as they read this line.
        let mut out = std::io::stdout().lock();
        writeln!(out, "pupmapper listening on {local}")?;
        out.flush()?;
        drop(out);

        server::run(listener, shutdown).context("serving")?;
        Ok(())
    }
}
