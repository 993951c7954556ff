//! The observer's HTTP side: tiny_http on 127.0.0.1, one accepting thread,
//! one thread per open `/events` stream.
//!
//! Routes: `/` (the page, naming the program), `/app.js`, `/style.css`,
//! `/state[?q=SEARCH]` (the JSON of [`super::Observed::view`]) and
//! `/events` (server-sent events: `event: state` with the new `seq`
//! whenever the state changed, at most one per [`MIN_GAP`], and a comment
//! line every [`HEARTBEAT`] so that a closed page is noticed).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Hub, ObserveError};

const INDEX: &str = include_str!("../../assets/observe/index.html");
const APP_JS: &str = include_str!("../../assets/observe/app.js");
const STYLE: &str = include_str!("../../assets/observe/style.css");

/// Shortest time between two events to one page: a program printing a
/// million lines wakes each page at most this often.
const MIN_GAP: Duration = Duration::from_millis(40);
/// How often an idle stream says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// Most `/events` streams open at once (each holds a thread).
const MAX_STREAMS: usize = 32;

/// Binds 127.0.0.1:`port` and serves from a background thread; the port
/// it listens on.
pub(super) fn start(port: u16, hub: Arc<Hub>) -> Result<u16, ObserveError> {
    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| match e
        .downcast_ref::<std::io::Error>()
    {
        Some(io) if io.kind() == std::io::ErrorKind::AddrInUse => ObserveError::PortBusy(port),
        _ => ObserveError::Listen(port, e.to_string()),
    })?;
    let bound = server.server_addr().to_ip().map_or(port, |a| a.port());
    std::thread::Builder::new()
        .name("observe".into())
        .spawn(move || {
            for req in server.incoming_requests() {
                serve(req, &hub);
            }
        })
        .map_err(|e| ObserveError::Listen(port, e.to_string()))?;
    Ok(bound)
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("ASCII header names and values")
}

fn text(body: String, kind: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_string(body)
        .with_header(header("Content-Type", kind))
        .with_header(header("Cache-Control", "no-store"))
}

fn serve(req: tiny_http::Request, hub: &Arc<Hub>) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if *req.method() != tiny_http::Method::Get {
        let _ = req.respond(tiny_http::Response::empty(405));
        return;
    }
    // Only pages of this host: a web site whose name was made to resolve
    // to 127.0.0.1 (DNS rebinding) sends its own name as the Host.
    let host = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_string());
    if !host.as_deref().is_some_and(local_host) {
        let _ = req.respond(
            text("forbidden: not a local page\n".into(), "text/plain").with_status_code(403),
        );
        return;
    }
    // A page that went away mid-answer costs nothing but this answer.
    let _ = match path {
        "/" | "/index.html" => {
            let program = hub.lock().view_program().unwrap_or_default();
            let page = INDEX.replace("{{PROGRAM}}", &html_escape(&program));
            req.respond(text(page, "text/html; charset=utf-8"))
        }
        "/app.js" => req.respond(text(APP_JS.into(), "text/javascript; charset=utf-8")),
        "/style.css" => req.respond(text(STYLE.into(), "text/css; charset=utf-8")),
        "/state" => {
            let q = param(query, "q").unwrap_or_default();
            let body = hub.lock().view(&q).to_string();
            req.respond(text(body, "application/json"))
        }
        "/events" => {
            if hub.pages.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
                hub.pages.fetch_sub(1, Ordering::SeqCst);
                req.respond(tiny_http::Response::empty(503))
            } else {
                let h = hub.clone();
                let spawned = std::thread::Builder::new()
                    .name("observe-events".into())
                    .spawn(move || {
                        events(req.into_writer(), &h);
                        h.pages.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    hub.pages.fetch_sub(1, Ordering::SeqCst);
                }
                Ok(())
            }
        }
        _ => req.respond(text("not found\n".into(), "text/plain").with_status_code(404)),
    };
}

/// One page's event stream, until a write fails (the page went away).
fn events(mut w: Box<dyn Write + Send>, hub: &Hub) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
    let mut last = u64::MAX;
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    loop {
        let seq = {
            let g = hub.lock();
            let (g, _) = hub
                .changed
                .wait_timeout_while(g, HEARTBEAT, |s| s.seq == last)
                .unwrap_or_else(|e| e.into_inner());
            g.seq
        };
        let sent = Instant::now();
        let msg = if seq == last {
            ": alive\n\n".to_string()
        } else {
            format!("event: state\ndata: {seq}\n\n")
        };
        if w.write_all(msg.as_bytes())
            .and_then(|()| w.flush())
            .is_err()
        {
            return;
        }
        last = seq;
        // Coalesce what comes next into one event.
        let gap = MIN_GAP.saturating_sub(sent.elapsed());
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
}

/// The value of `name` in a query string, percent-decoded.
fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Host header naming this host's loopback (with any port).
fn local_host(h: &str) -> bool {
    let name = match h.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => h.split(':').next().unwrap_or(""),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded() {
        assert_eq!(param("q=do%5Fpizza&x=1", "q").as_deref(), Some("do_pizza"));
        assert_eq!(param("x=1&q=a+b", "q").as_deref(), Some("a b"));
        assert_eq!(param("q=%zz%4", "q").as_deref(), Some("%zz%4"));
        assert_eq!(param("x=1", "q"), None);
    }

    #[test]
    fn only_loopback_hosts_are_served() {
        for h in ["127.0.0.1:7780", "127.0.0.1", "localhost:1", "[::1]:7780"] {
            assert!(local_host(h), "{h}");
        }
        for h in ["evil.example:7780", "127.0.0.1.evil.example", "", "[::2]:1"] {
            assert!(!local_host(h), "{h}");
        }
    }

    #[test]
    fn a_busy_port_is_a_typed_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let r = start(port, Arc::new(Hub::default()));
        assert_eq!(r, Err(ObserveError::PortBusy(port)));
    }
}
