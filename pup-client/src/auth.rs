//! The shared-secret cookie and the challenge–response of SPEC §5.4.
//!
//! A ush proves to a pup that it knows the cookie without sending it:
//!
//! 1. pup → ush: [`Challenge`] with a fresh random 32-byte nonce
//!    ([`server_challenge`]);
//! 2. ush → pup: [`Response`] = its own random nonce and
//!    `HMAC-SHA256(cookie, server_nonce || "podus-pup-v1" || client_nonce)`
//!    ([`client_response`]);
//! 3. pup → ush: [`Verdict`]. On success it carries the pup's proof
//!    `HMAC-SHA256(cookie, client_nonce || "podus-pup-v1-server" || server_nonce)`
//!    so the ush knows it reached a pup holding the same cookie; on failure
//!    the pup closes the connection.
//!
//! A recorded response is useless on another connection because the server
//! nonce differs; the two directions use different labels so that one side's
//! MAC can never be reflected as the other's. MACs are compared in constant
//! time. [`server_authenticate`] and [`client_authenticate`] run the whole
//! exchange over a [`Connection`] after the `Hello` handshake.

use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::frame::{Connection, FrameError};

/// Environment variable naming the cookie file.
pub const COOKIE_ENV: &str = "PODUS_COOKIE";
/// Bytes in a nonce and in a MAC.
pub const NONCE_LEN: usize = 32;
/// Random bytes in a newly created cookie (written as hex).
pub const COOKIE_BYTES: usize = 32;
/// Shortest cookie accepted, in bytes of file content: a hand-written cookie
/// this short is guessable.
pub const MIN_COOKIE_LEN: usize = 16;

/// Label binding a client MAC to this protocol and direction.
const CLIENT_LABEL: &[u8] = b"podus-pup-v1";
/// Label of the server's proof; differs from [`CLIENT_LABEL`] so a client's
/// MAC cannot be reflected back as a server proof.
const SERVER_LABEL: &[u8] = b"podus-pup-v1-server";

type HmacSha256 = Hmac<Sha256>;

/// Why a cookie could not be used or an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Reading, creating or writing the cookie file failed.
    #[error("cookie file {}: {source}", path.display())]
    Io {
        /// The cookie file (or its directory).
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// The cookie file grants access beyond its owner.
    #[error(
        "cookie file {} is {} by others (mode {:04o}); chmod 600 it",
        path.display(),
        exposure(*mode),
        mode & 0o7777
    )]
    Insecure {
        /// The cookie file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The cookie file belongs to someone else, who could change it.
    #[error("cookie file {} is owned by uid {owner}, not by you (uid {me})", path.display())]
    NotOwned {
        /// The cookie file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The effective uid of this process.
        me: u32,
    },
    /// The path is not a regular file.
    #[error("cookie file {} is not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The cookie is too short to be a secret.
    #[error(
        "cookie file {} holds only {len} bytes; use at least {MIN_COOKIE_LEN} (delete it to get a new random one)",
        path.display()
    )]
    TooShort {
        /// The cookie file.
        path: PathBuf,
        /// Bytes of cookie found (surrounding whitespace excluded).
        len: usize,
    },
    /// Neither `$PODUS_COOKIE` nor `$HOME` is set.
    #[error("no cookie file: set {COOKIE_ENV} or HOME")]
    NoPath,
    /// The exchange's frames failed.
    #[error("authentication exchange failed: {0}")]
    Frame(#[from] FrameError),
    /// The peer closed the connection during the exchange.
    #[error("connection closed during authentication")]
    Closed,
    /// The client's response did not prove knowledge of the cookie.
    #[error("authentication failed: the ush's cookie does not match this pup's")]
    BadResponse,
    /// The pup's proof did not match: it does not hold our cookie.
    #[error("authentication failed: the pup does not hold this cookie")]
    BadServerProof,
    /// The pup refused us; the text is the pup's.
    #[error("{0}")]
    Rejected(String),
}

/// The shared secret, read from a cookie file.
///
/// `Debug` shows the path, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie {
    secret: Vec<u8>,
    path: Option<PathBuf>,
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookie")
            .field("path", &self.path)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Where the cookie lives by default: `$PODUS_COOKIE`, else `~/.podus/cookie`.
pub fn default_cookie_path() -> Result<PathBuf, AuthError> {
    cookie_path_from(std::env::var_os(COOKIE_ENV), std::env::var_os("HOME"))
}

/// [`default_cookie_path`] with the environment passed in (testable without
/// touching the process environment). Empty values count as unset.
fn cookie_path_from(
    cookie: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf, AuthError> {
    match (cookie, home) {
        (Some(c), _) if !c.is_empty() => Ok(PathBuf::from(c)),
        (_, Some(h)) if !h.is_empty() => Ok(Path::new(&h).join(".podus").join("cookie")),
        _ => Err(AuthError::NoPath),
    }
}

/// How a cookie file's `mode` exposes it, for the error message.
fn exposure(mode: u32) -> &'static str {
    if mode & 0o044 != 0 {
        "readable"
    } else if mode & 0o022 != 0 {
        "writable"
    } else {
        "accessible"
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> AuthError + '_ {
    move |source| AuthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The effective uid of this process.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail (POSIX).
    unsafe { libc::geteuid() }
}

/// Fills a buffer from the OS's random source.
fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator does not fail once the system has booted; without it
    // no secret or nonce can be made at all, so there is nothing to fall back to.
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cookie {
    /// A cookie with the given secret, not backed by a file (tests, or a
    /// private `ush --local` session that made its own secret).
    pub fn from_secret(secret: &[u8]) -> Cookie {
        Cookie {
            secret: secret.to_vec(),
            path: None,
        }
    }

    /// The file this cookie was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Reads the cookie at `path`, refusing a file that others may read or
    /// write, that someone else owns, or whose secret is too short.
    ///
    /// The secret is the file's content without surrounding whitespace, so a
    /// hand-written cookie works as well as a generated one.
    pub fn load(path: &Path) -> Result<Cookie, AuthError> {
        let file = File::open(path).map_err(io_error(path))?;
        // Check the opened file, not the path: nothing can swap it in between.
        let meta = file.metadata().map_err(io_error(path))?;
        if !meta.is_file() {
            return Err(AuthError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        if meta.mode() & 0o077 != 0 {
            return Err(AuthError::Insecure {
                path: path.to_path_buf(),
                mode: meta.mode(),
            });
        }
        let me = euid();
        if meta.uid() != me {
            return Err(AuthError::NotOwned {
                path: path.to_path_buf(),
                owner: meta.uid(),
                me,
            });
        }
        let mut content = Vec::new();
        // A cookie is a short line; a huge file is not one.
        file.take(4096)
            .read_to_end(&mut content)
            .map_err(io_error(path))?;
        let secret = content.trim_ascii();
        if secret.len() < MIN_COOKIE_LEN {
            return Err(AuthError::TooShort {
                path: path.to_path_buf(),
                len: secret.len(),
            });
        }
        Ok(Cookie {
            secret: secret.to_vec(),
            path: Some(path.to_path_buf()),
        })
    }

    /// Reads the cookie at `path`, first creating it if it does not exist:
    /// 32 random bytes as hex, mode 0600, in a directory created with mode
    /// 0700.
    ///
    /// Creation is atomic (written to a private temporary file, then linked
    /// into place), so two processes starting together end up with the same
    /// cookie and neither ever reads a half-written one.
    pub fn load_or_create(path: &Path) -> Result<Cookie, AuthError> {
        match Cookie::load(path) {
            Err(AuthError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            other => return other,
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir))?;
        let tmp = dir.join(format!(
            ".cookie.{}.{}.tmp",
            std::process::id(),
            hex(&random::<8>())
        ));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(format!("{}\n", hex(&random::<COOKIE_BYTES>())).as_bytes())?;
            file.sync_all()?;
            // Fails with AlreadyExists if another process won the race:
            // then its cookie is the one to use.
            match fs::hard_link(&tmp, path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
                _ => Ok(()),
            }
        })();
        let _ = fs::remove_file(&tmp);
        result.map_err(io_error(path))?;
        Cookie::load(path)
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac
    }
}

/// A 32-byte random value used once.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nonce(pub [u8; NONCE_LEN]);

impl Nonce {
    /// A fresh nonce from the OS's random source.
    pub fn random() -> Nonce {
        Nonce(random())
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", hex(&self.0))
    }
}

/// The pup's first authentication frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The server nonce, fresh for this connection.
    pub nonce: Nonce,
}

/// The ush's answer to a [`Challenge`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The client's own fresh nonce, mixed into the MAC.
    pub client_nonce: Nonce,
    /// `HMAC-SHA256(cookie, server_nonce || "podus-pup-v1" || client_nonce)`.
    pub mac: [u8; NONCE_LEN],
}

/// The pup's last authentication frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The ush is in; `proof` shows the pup holds the same cookie.
    Accepted {
        /// `HMAC-SHA256(cookie, client_nonce || "podus-pup-v1-server" || server_nonce)`.
        proof: [u8; NONCE_LEN],
    },
    /// The ush is refused; the pup closes the connection after this frame.
    Rejected(String),
}

/// A fresh server nonce for one connection.
pub fn server_challenge() -> Nonce {
    Nonce::random()
}

/// The client's answer to `server_nonce`, with a fresh client nonce.
pub fn client_response(cookie: &Cookie, server_nonce: &Nonce) -> Response {
    let client_nonce = Nonce::random();
    let mac = cookie
        .mac(&[&server_nonce.0, CLIENT_LABEL, &client_nonce.0])
        .finalize()
        .into_bytes()
        .into();
    Response { client_nonce, mac }
}

/// Whether `response` proves knowledge of `cookie` for this `server_nonce`.
/// Compares in constant time.
pub fn verify(cookie: &Cookie, server_nonce: &Nonce, response: &Response) -> bool {
    cookie
        .mac(&[&server_nonce.0, CLIENT_LABEL, &response.client_nonce.0])
        .verify_slice(&response.mac)
        .is_ok()
}

/// The server's proof that it holds `cookie`, for the client that sent
/// `client_nonce` in answer to `server_nonce`.
pub fn server_proof(
    cookie: &Cookie,
    server_nonce: &Nonce,
    client_nonce: &Nonce,
) -> [u8; NONCE_LEN] {
    cookie
        .mac(&[&client_nonce.0, SERVER_LABEL, &server_nonce.0])
        .finalize()
        .into_bytes()
        .into()
}

/// Whether `proof` is the server's proof for this exchange (constant time).
pub fn verify_server_proof(
    cookie: &Cookie,
    server_nonce: &Nonce,
    client_nonce: &Nonce,
    proof: &[u8; NONCE_LEN],
) -> bool {
    cookie
        .mac(&[&client_nonce.0, SERVER_LABEL, &server_nonce.0])
        .verify_slice(proof)
        .is_ok()
}

/// Pup side of the exchange, right after the `Hello` handshake. On failure
/// the client is told so and the connection is closed.
pub fn server_authenticate(conn: &mut Connection, cookie: &Cookie) -> Result<(), AuthError> {
    let nonce = server_challenge();
    conn.write_frame(&Challenge { nonce })?;
    let response: Response = conn.read_frame()?.ok_or(AuthError::Closed)?;
    if !verify(cookie, &nonce, &response) {
        let _ = conn.write_frame(&Verdict::Rejected(AuthError::BadResponse.to_string()));
        conn.close();
        return Err(AuthError::BadResponse);
    }
    let proof = server_proof(cookie, &nonce, &response.client_nonce);
    conn.write_frame(&Verdict::Accepted { proof })?;
    Ok(())
}

/// Ush side of the exchange, right after the `Hello` handshake. Also checks
/// that the pup holds the same cookie.
pub fn client_authenticate(conn: &mut Connection, cookie: &Cookie) -> Result<(), AuthError> {
    let Challenge { nonce } = conn.read_frame()?.ok_or(AuthError::Closed)?;
    let response = client_response(cookie, &nonce);
    conn.write_frame(&response)?;
    match conn.read_frame::<Verdict>()?.ok_or(AuthError::Closed)? {
        Verdict::Accepted { proof } => {
            if verify_server_proof(cookie, &nonce, &response.client_nonce, &proof) {
                Ok(())
            } else {
                Err(AuthError::BadServerProof)
            }
        }
        Verdict::Rejected(message) => Err(AuthError::Rejected(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::fs::PermissionsExt;
    use std::thread;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn cookie_is_created_0600_in_a_0700_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("home").join(".podus");
        let path = dir.join("cookie");
        let cookie = Cookie::load_or_create(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 2 * COOKIE_BYTES);
        assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(cookie.path(), Some(path.as_path()));
        // Second use reads the same cookie, and nothing else was left behind.
        assert_eq!(Cookie::load_or_create(&path).unwrap(), cookie);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn readable_cookie_is_refused_with_advice() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cookie");
        fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Cookie::load(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cookie file {} is readable by others (mode 0644); chmod 600 it",
                path.display()
            )
        );
        // load_or_create must not paper over it either.
        assert!(matches!(
            Cookie::load_or_create(&path),
            Err(AuthError::Insecure { .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).unwrap();
        let err = Cookie::load(&path).unwrap_err().to_string();
        assert!(err.contains("writable by others (mode 0620)"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Cookie::load(&path).is_ok());
    }

    #[test]
    fn short_cookie_and_directory_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cookie");
        fs::write(&path, "secret\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            Cookie::load(&path),
            Err(AuthError::TooShort { len: 6, .. })
        ));
        let dir = tmp.path().join("d");
        DirBuilder::new().mode(0o700).create(&dir).unwrap();
        assert!(matches!(
            Cookie::load(&dir),
            Err(AuthError::NotAFile { .. })
        ));
    }

    #[test]
    fn default_path() {
        let p = cookie_path_from(Some("/x/c".into()), Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/x/c"));
        let p = cookie_path_from(None, Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/home/u/.podus/cookie"));
        let p = cookie_path_from(Some("".into()), Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/home/u/.podus/cookie"));
        assert!(matches!(
            cookie_path_from(None, None),
            Err(AuthError::NoPath)
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Cookie::from_secret(b"very-secret-cookie-value");
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    #[test]
    fn right_cookie_verifies_wrong_one_fails() {
        let cookie = Cookie::from_secret(b"0123456789abcdef0123456789abcdef");
        let other = Cookie::from_secret(b"fedcba9876543210fedcba9876543210");
        let nonce = server_challenge();
        let response = client_response(&cookie, &nonce);
        assert!(verify(&cookie, &nonce, &response));
        assert!(!verify(&other, &nonce, &response));
        assert!(!verify(&cookie, &nonce, &client_response(&other, &nonce)));
        // A tampered MAC or client nonce fails.
        let mut bad = response.clone();
        bad.mac[0] ^= 1;
        assert!(!verify(&cookie, &nonce, &bad));
        let mut bad = response.clone();
        bad.client_nonce.0[31] ^= 1;
        assert!(!verify(&cookie, &nonce, &bad));
    }

    #[test]
    fn replayed_response_fails_against_a_new_nonce() {
        let cookie = Cookie::from_secret(b"0123456789abcdef0123456789abcdef");
        let first = server_challenge();
        let recorded = client_response(&cookie, &first);
        assert!(verify(&cookie, &first, &recorded));
        let second = server_challenge();
        assert_ne!(first, second, "nonces repeat");
        assert!(!verify(&cookie, &second, &recorded));
    }

    #[test]
    fn server_proof_is_not_a_reflected_client_mac() {
        let cookie = Cookie::from_secret(b"0123456789abcdef0123456789abcdef");
        let (s, c) = (Nonce::random(), Nonce::random());
        let proof = server_proof(&cookie, &s, &c);
        assert!(verify_server_proof(&cookie, &s, &c, &proof));
        // The client MAC over the same nonces in the server's order differs.
        let reflected = Response {
            client_nonce: s,
            mac: proof,
        };
        assert!(!verify(&cookie, &c, &reflected));
    }

    /// Runs both sides of the exchange over a loopback connection.
    fn exchange(
        server_cookie: Cookie,
        client_cookie: Cookie,
    ) -> (Result<(), AuthError>, Result<(), AuthError>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut conn = Connection::new(s, Default::default()).unwrap();
            server_authenticate(&mut conn, &server_cookie)
        });
        let mut conn =
            Connection::new(TcpStream::connect(addr).unwrap(), Default::default()).unwrap();
        let client = client_authenticate(&mut conn, &client_cookie);
        (server.join().unwrap(), client)
    }

    #[test]
    fn exchange_over_a_socket() {
        let a = Cookie::from_secret(b"0123456789abcdef0123456789abcdef");
        let b = Cookie::from_secret(b"fedcba9876543210fedcba9876543210");
        let (server, client) = exchange(a.clone(), a.clone());
        assert!(server.is_ok() && client.is_ok(), "{server:?} {client:?}");
        let (server, client) = exchange(a, b);
        assert!(matches!(server, Err(AuthError::BadResponse)), "{server:?}");
        match client {
            Err(AuthError::Rejected(m)) => assert!(m.contains("cookie does not match"), "{m}"),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }
}
