//! Writes the seed corpora for every fuzz target into `fuzz/corpus/TARGET/`
//! (cargo-fuzz's default corpus directories): one well-formed frame of
//! every wire message, and the UC programs and changes files of the
//! repository. libFuzzer mutates from these, which gets it past the length
//! prefix and the postcard enum tags far sooner than from nothing.
//!
//! Run by scripts/fuzz.sh as `cargo run --example make_seeds` (an ordinary
//! build, not an instrumented one).

use std::fs;
use std::path::{Path, PathBuf};

use pup::auth::{self, Cookie, Nonce};
use pup::proto as pp;
use pupmapper::frame::{Hello, HelloReply};
use pupmapper::proto as mp;
use serde::Serialize;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Writes `[kind, 0] ++ frames` as seed `name` of `target`, and the same
/// with the chunked read pattern (`sizes` odd).
fn frame_seed<T: Serialize>(target: &str, name: &str, kind: u8, values: &[T]) {
    let mut stream = Vec::new();
    for v in values {
        pupmapper::frame::write_frame(&mut stream, v).expect("encode");
    }
    for sizes in [0u8, 5] {
        let mut data = vec![kind, sizes];
        data.extend_from_slice(&stream);
        write(target, &format!("{name}-{sizes}"), &data);
    }
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = root().join("fuzz/corpus").join(target);
    fs::create_dir_all(&dir).expect("corpus directory");
    fs::write(dir.join(name), data).expect("write seed");
}

/// Files with extension `ext` in the repository directories `dirs`.
fn files(dirs: &[&str], ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(entries) = fs::read_dir(root().join(d)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(ext))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn main() {
    // The pupmapper's messages (kinds as in podus_fuzz::pupmapper_stream).
    let t = "frame_pupmapper";
    frame_seed(t, "hello", 0, &[mp::hello(), mp::alert_hello()]);
    frame_seed(
        t,
        "hello-reply",
        1,
        &[
            HelloReply::Welcome(mp::hello()),
            HelloReply::Refused {
                server: mp::hello(),
                reason: "too many connections".into(),
            },
        ],
    );
    frame_seed(
        t,
        "requests",
        2,
        &[
            mp::Request::Register {
                name: "pizza".into(),
                pid: 4242,
                port: 40000,
            },
            mp::Request::Unregister {
                name: "pizza".into(),
                pid: 4242,
            },
            mp::Request::Lookup {
                name: "pizza".into(),
            },
            mp::Request::List,
        ],
    );
    frame_seed(
        t,
        "responses",
        3,
        &[
            mp::Response::List(vec![mp::PupEntry {
                name: "pizza".into(),
                pid: 1,
                port: 2,
            }]),
            mp::Response::Error("bad request".into()),
        ],
    );
    frame_seed(
        t,
        "alert",
        4,
        &[mp::MapperAlert {
            name: "pizza".into(),
        }],
    );

    // The pup's messages (kinds as in podus_fuzz::pup_stream).
    let t = "frame_pup";
    frame_seed(t, "hello", 0, &[pup::frame::hello(), mp::alert_hello()]);
    frame_seed(
        t,
        "hello-reply",
        1,
        &[HelloReply::Welcome(pup::frame::hello())],
    );
    let nonce = Nonce([3; auth::NONCE_LEN]);
    frame_seed(t, "challenge", 2, &[auth::Challenge { nonce }]);
    let cookie = Cookie::from_secret(b"seed-cookie-0123456789abcdef");
    frame_seed(t, "response", 3, &[auth::client_response(&cookie, &nonce)]);
    frame_seed(
        t,
        "verdict",
        4,
        &[
            auth::Verdict::Accepted { proof: [9; 32] },
            auth::Verdict::Rejected("no".into()),
        ],
    );
    let pizza = fs::read_to_string(root().join("samples/pizza/pizza1.uc")).expect("pizza1.uc");
    let object = compiler::object::write_object(&compiler::compile("pizza1.uc", &pizza).unwrap());
    frame_seed(
        t,
        "requests",
        5,
        &[
            pp::Request::Info,
            pp::Request::Load {
                version: 1,
                object,
                source: None,
            },
            pp::Request::Run { version: Some(1) },
            pp::Request::Update(pp::UpdateSpec {
                from: Some(1),
                to: Some(2),
                changed: Some(vec!["do_pizza".into()]),
                together: vec![vec!["a".into(), "b".into()]],
                within_ms: Some(30_000),
                atomic: true,
                strict: true,
            }),
            pp::Request::Wait { timeout_ms: 10 },
            pp::Request::Abort,
            pp::Request::Status,
            pp::Request::Stack,
            pp::Request::Delta { version: None },
            pp::Request::Graph { version: Some(2) },
            pp::Request::Addr { addr: 1 << 40 },
            pp::Request::Output { on: true },
            pp::Request::Debug { on: false },
            pp::Request::Stop,
            pp::Request::Bye,
        ],
    );
    frame_seed(
        t,
        "server-msgs",
        6,
        &[
            pp::ServerMsg::Reply(pp::Response::Ok),
            pp::ServerMsg::Reply(pp::Response::Waited {
                done: true,
                ended: vec![],
            }),
            pp::ServerMsg::Notice(pp::Notice::Output(b"pizza 1\n".to_vec())),
            pp::ServerMsg::Notice(pp::Notice::UpdateComplete(pp::UpdateEnded {
                id: 1,
                to: 2,
                ending: pp::Ending::Complete,
                applied: vec![vec!["do_pizza".into()]],
                not_applied: vec![],
                reasons: vec![],
                at_exit: false,
            })),
            pp::ServerMsg::Notice(pp::Notice::Exited {
                code: 0,
                message: "returned".into(),
            }),
        ],
    );

    // UC programs: the golden corpus, the samples, the compiler's tests.
    let sources = files(
        &[
            "tests/corpus",
            "samples/pizza",
            "compiler/tests/valid",
            "compiler/tests/errors",
        ],
        ".uc",
    );
    for p in &sources {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read(p).expect("read source");
        write("uc_compile", &name, &text);
        // Object files of those that compile, for the loader.
        if let Ok(src) = String::from_utf8(text)
            && let Ok(m) = compiler::compile(&name, &src)
        {
            write(
                "object_load",
                &format!("{name}.o"),
                &compiler::object::write_object(&m),
            );
        }
    }

    // Changes files: the samples and every keyword.
    for p in files(&["samples/pizza"], ".changes") {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        write("changes_parse", &name, &fs::read(p).expect("read changes"));
    }
    write(
        "changes_parse",
        "all-keywords",
        b"# every line\nupdate 1 -> 2\nchanged a b\ntogether a b\ntogether c\nwithin 1.5s\natomic\n",
    );

    // So libFuzzer's dictionary option has something to read.
    let dict = root().join("fuzz/uc.dict");
    assert!(dict.exists(), "fuzz/uc.dict is missing");
    eprintln!("seeds written under fuzz/corpus/");
}
