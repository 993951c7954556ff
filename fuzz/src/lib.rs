//! What each podus fuzz target checks, shared by the targets in
//! `fuzz_targets/` (which only hand libFuzzer's bytes to these functions).
//!
//! The property every target checks is the one SPEC §5.4 asks of the
//! daemons and §2 of the compiler: hostile input gets an error, never a
//! panic, an abort, an endless loop or an unbounded allocation. Where a
//! decoder accepts its input, the targets also check that what it accepted
//! survives an encode/decode round trip, so a decoder that "accepts" by
//! misreading is caught too.
//!
//! Crashes found by these targets are kept as files: once fixed, under
//! `fuzz/regressions/TARGET/`, replayed by `scripts/fuzz.sh` and, through
//! these very functions (this file is compiled into the test), by
//! `tests/tests/fuzz_replay.rs` in the normal test suite, which cannot
//! build libFuzzer targets; until fixed,
//! under `fuzz/open/TARGET/`, replayed by the ignored test recording them
//! (RELIABILITY.md).

use std::fmt::Debug;
use std::io::{self, Read};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest frame the targets accept. Far below the daemons' 16 MiB so that
/// libFuzzer's inputs (4 KiB by default) can announce frames both under and
/// over the limit.
pub const FUZZ_MAX_FRAME: usize = 1 << 20;

/// A reader that hands out its bytes in pieces of varying size, as a TCP
/// stream does, so the codec's partial-read loop is exercised too. Piece
/// sizes come from the input itself (the first byte), so runs reproduce.
pub struct Chunked<'a> {
    data: &'a [u8],
    sizes: u8,
    turn: u32,
}

impl<'a> Chunked<'a> {
    /// Reads `data` in pieces whose sizes are derived from `sizes`.
    pub fn new(data: &'a [u8], sizes: u8) -> Chunked<'a> {
        Chunked {
            data,
            sizes,
            turn: 0,
        }
    }
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.turn = self.turn.wrapping_add(1);
        // 1..=8 bytes per read when `sizes` is odd, whole buffers otherwise.
        let piece = if self.sizes & 1 == 1 {
            1 + ((self.turn.wrapping_mul(u32::from(self.sizes) | 1) >> 1) % 8) as usize
        } else {
            usize::MAX
        };
        let n = buf.len().min(self.data.len()).min(piece);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Reads frames of type `T` from `data` until a clean end, an error, or 64
/// frames; returns the values decoded. Every decoded value must survive
/// `write_frame` → `read_frame` unchanged.
pub fn frames<T>(data: &[u8], sizes: u8) -> Vec<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut r = Chunked::new(data, sizes);
    let mut out = Vec::new();
    // Bounded: each iteration consumes at least the 4-byte prefix or ends.
    for _ in 0..64 {
        match pupmapper::frame::read_frame::<T>(&mut r, FUZZ_MAX_FRAME) {
            Ok(Some(v)) => {
                round_trip(&v);
                out.push(v);
            }
            // A clean end, or an error: the server closes here.
            Ok(None) | Err(_) => break,
        }
    }
    out
}

/// Encodes `v` as a frame and decodes it again; panics if it changed.
pub fn round_trip<T>(v: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut buf = Vec::new();
    pupmapper::frame::write_frame(&mut buf, v).expect("a decoded value encodes");
    let again: T = pupmapper::frame::read_frame(&mut &buf[..], usize::MAX)
        .expect("a re-encoded frame decodes")
        .expect("a re-encoded frame is not empty");
    assert_eq!(&again, v, "frame round trip changed the value");
}

/// The pupmapper's wire: the first byte picks the message type (the
/// handshake, requests, responses, alerts), the second the read pattern,
/// the rest is the stream.
pub fn pupmapper_stream(data: &[u8]) {
    use pupmapper::frame::{Hello, HelloReply};
    use pupmapper::proto::{MapperAlert, Request, Response};
    let [kind, sizes, stream @ ..] = data else {
        return;
    };
    match kind % 5 {
        0 => {
            for h in frames::<Hello>(stream, *sizes) {
                let _ = h.compatible(&pupmapper::proto::hello());
                let _ = h.to_string();
            }
        }
        1 => drop(frames::<HelloReply>(stream, *sizes)),
        2 => {
            for r in frames::<Request>(stream, *sizes) {
                // What the server checks before it touches its registry.
                match r {
                    Request::Register { name, .. }
                    | Request::Unregister { name, .. }
                    | Request::Lookup { name } => {
                        let _ = pupmapper::proto::validate_name(&name);
                    }
                    Request::List => {}
                }
            }
        }
        3 => drop(frames::<Response>(stream, *sizes)),
        _ => drop(frames::<MapperAlert>(stream, *sizes)),
    }
}

/// The pup's wire: the first byte picks the message type (the handshake,
/// the three authentication frames, requests, server messages), the second
/// the read pattern, the rest is the stream.
pub fn pup_stream(data: &[u8]) {
    use pup::auth;
    use pup::proto::{Request, ServerMsg};
    use pupmapper::frame::{Hello, HelloReply};
    let [kind, sizes, stream @ ..] = data else {
        return;
    };
    match kind % 7 {
        0 => {
            for h in frames::<Hello>(stream, *sizes) {
                let _ = pup::mapper_link::classify(&h);
            }
        }
        1 => drop(frames::<HelloReply>(stream, *sizes)),
        2 => drop(frames::<auth::Challenge>(stream, *sizes)),
        3 => {
            // A response with a forged MAC must never verify.
            let cookie = auth::Cookie::from_secret(b"fuzzing-cookie-0123456789abcdef");
            let nonce = auth::Nonce([7; auth::NONCE_LEN]);
            for r in frames::<auth::Response>(stream, *sizes) {
                assert!(
                    !auth::verify(&cookie, &nonce, &r),
                    "a fuzzed response verified: {r:?}"
                );
            }
        }
        4 => drop(frames::<auth::Verdict>(stream, *sizes)),
        5 => {
            for r in frames::<Request>(stream, *sizes) {
                // The pup decodes a load's object bytes itself.
                if let Request::Load { object, .. } = r {
                    object_bytes(&object);
                }
            }
        }
        _ => drop(frames::<ServerMsg>(stream, *sizes)),
    }
}

/// `ucc build` object bytes as the pup receives them in a `Load`: refused
/// with an error, or a module that re-encodes to the same bytes.
pub fn object_bytes(data: &[u8]) -> Option<compiler::ir::Module> {
    let m = compiler::object::read_object(data).ok()?;
    let bytes = compiler::object::write_object(&m);
    let again = compiler::object::read_object(&bytes).expect("a written object reads back");
    // Compare encodings, not values: doubles in the IR may be NaN.
    assert_eq!(
        compiler::object::write_object(&again),
        bytes,
        "object round trip changed the module"
    );
    Some(m)
}

/// UC source through the lexer, the parser and the checker. Diagnostics
/// must render (every span inside the source, on character boundaries); a
/// module that compiles must survive the object and delta files and check
/// against itself as the previous version.
pub fn uc_source(src: &str) {
    // The lexer alone: never fails, spans inside the text, in order.
    // (Preprocessor errors found at the end of a file, such as an
    // unterminated `#if`, point back at their directive; a text with NUL
    // markers is several files, whose tokens interleave.)
    let mut last = 0;
    for t in compiler::lexer::Lexer::new(src) {
        let (start, tok, end) = t.expect("the lexer never fails");
        assert!(start <= end && end <= src.len(), "span {start}..{end}");
        if !matches!(tok, compiler::lexer::Tok::Error(_)) && !src.contains('\0') {
            assert!(start >= last, "tokens out of order");
            last = start;
        }
    }
    let whole = compiler::compile("fuzz.uc", src);
    // ush's load path, parsed whole and item by item, agrees with compile
    // and write_object: the same bytes, or the same diagnostics.
    for itemwise in [false, true] {
        match (
            &whole,
            compiler::compile_for_load_with("fuzz.uc", src, None, itemwise),
        ) {
            (Ok(m), Ok(c)) => {
                assert_eq!(
                    c.object,
                    compiler::object::write_object(m),
                    "object (itemwise {itemwise})"
                );
            }
            (Err(a), Err(b)) => assert_eq!(a.0, b.0, "diagnostics (itemwise {itemwise})"),
            (a, b) => panic!(
                "compile is_ok={} but compile_for_load (itemwise {itemwise}) is_ok={}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }
    match whole {
        Err(d) => {
            assert!(!d.0.is_empty(), "compile failed without a diagnostic");
            let text = d.render("fuzz.uc", src, false);
            assert!(text.contains("fuzz.uc:"), "diagnostic without a position");
        }
        Ok(m) => {
            let obj = compiler::object::write_object(&m);
            compiler::object::read_object(&obj).expect("an object of a compiled module reads back");
            let delta = compiler::object::write_delta(&m);
            let d = compiler::object::read_delta(&delta).expect("its delta file reads back");
            d.check_module(&m).expect("its delta file matches it");
            let _ = compiler::callgraph::DeltaStar::of_module(&m).matrix_string();
            // The same text as the next version of itself: iprocs and
            // mprocs are checked against the previous module.
            if let Err(d) = compiler::compile_update("fuzz2.uc", src, Some(&m)) {
                let _ = d.render("fuzz2.uc", src, false);
            }
            let _ = compiler::diff::diff(&m, &m);
        }
    }
}

/// A changes file: parsed, or diagnostics that render with a position.
pub fn changes_text(src: &str) {
    match compiler::changes::parse("fuzz.changes", src) {
        Err(d) => {
            assert!(!d.0.is_empty(), "parse failed without a diagnostic");
            let text = d.render("fuzz.changes", src, false);
            assert!(
                text.contains("fuzz.changes:"),
                "diagnostic without a position"
            );
        }
        Ok(c) => {
            if let Some((from, to)) = c.update {
                assert!(from < to, "update {from} -> {to} was accepted");
            }
            for g in &c.together {
                assert!(!g.is_empty(), "an empty together group was accepted");
            }
        }
    }
    // Durations are parsed from user text in ush flags too.
    for w in src.split_whitespace().take(16) {
        let _ = compiler::changes::parse_duration(w);
    }
}

/// Object bytes loaded into a fresh VM, as the pup does with a `Load`
/// request's payload: a module that decodes but is not one the compiler
/// could have produced must get a load error, never a panic or memory
/// corruption. The program is never run.
pub fn object_load(data: &[u8]) {
    let Some(module) = object_bytes(data) else {
        return;
    };
    let vm = vm::Vm::new(vm::VmConfig {
        output: std::sync::Arc::new(|_: &[u8]| {}),
        ..vm::VmConfig::default()
    })
    .expect("a VM can be set up");
    let _ = vm.load(vm::VersionNo(1), module, None);
}

/// A program of several files through the preprocessor and the compiler.
/// The input is the main file, then files each introduced by a line
/// `//--- NAME` (so `#include "NAME"` finds them). Every token's span lies
/// in the combined text; compile and the load path agree; every
/// diagnostic renders with a file:line:col that lies in the text.
pub fn pp_source(input: &str) {
    let mut parts = input.split("\n//--- ");
    let main = parts.next().unwrap_or_default().replace('\0', " ");
    let files: Vec<(String, String)> = parts
        .map(|p| {
            let (name, text) = p.split_once('\n').unwrap_or((p, ""));
            (name.trim().to_string(), text.replace('\0', " "))
        })
        .collect();
    let text = compiler::source::combine(main, &mut |rel| {
        files
            .iter()
            .find(|(n, _)| n == rel)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| format!("{rel} does not exist"))
    });
    for t in compiler::lexer::Lexer::with_file("m.uc", &text) {
        let (start, _, end) = t.expect("the preprocessor never fails");
        assert!(start <= end && end <= text.len(), "span {start}..{end}");
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
    }
    let whole = compiler::compile("m.uc", &text);
    for itemwise in [false, true] {
        match (
            &whole,
            compiler::compile_for_load_with("m.uc", &text, None, itemwise),
        ) {
            (Ok(m), Ok(c)) => assert_eq!(c.object, compiler::object::write_object(m)),
            (Err(a), Err(b)) => assert_eq!(a.0, b.0, "diagnostics (itemwise {itemwise})"),
            (a, b) => panic!(
                "compile is_ok={} but compile_for_load is_ok={}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }
    if let Err(d) = whole {
        assert!(!d.0.is_empty(), "compile failed without a diagnostic");
        let out = d.render("m.uc", &text, false);
        for x in &d.0 {
            let l = compiler::source::locate(&text, "m.uc", x.span.start as usize);
            assert!(l.line >= 1 && l.column >= 1);
            assert!(
                out.contains(&format!("{}:{}:{}", l.file, l.line, l.column)),
                "{out}"
            );
        }
    }
}

/// A UC program that uses pointers, made from `data`: each two bytes are
/// one statement (allocate, free, store, load, point into an array, step,
/// cast an integer to a pointer, realloc, memset, ...) on four `long *`
/// variables, a `char *`, a local and a global array, so that every input
/// compiles and runs and the fuzzer explores what the program does with
/// its pointers rather than the grammar.
pub fn pointer_program(data: &[u8]) -> String {
    let mut body = String::new();
    for pair in data.chunks(2).take(64) {
        let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        let p = format!("p{}", op >> 6);
        let q = format!("p{}", arg >> 6);
        // Indices and sizes reach a little past the objects' ends on purpose.
        let i = (arg % 24) as i64 - 4;
        let n = arg % 16;
        let stmt = match op % 16 {
            0 => format!("{p} = malloc({n} * sizeof(long));"),
            1 => format!("free({p});"),
            2 => format!("{p}[{i}] = {arg};"),
            3 => format!("s += {p}[{i}];"),
            4 => format!("{p} = &a[{}];", arg % 8),
            5 => format!("{p} = {p} + {i};"),
            6 => format!("{p} = (long *)(long){};", (arg as u64) << 12),
            7 => format!("{p} = NULL;"),
            8 => format!("c = (char *){p}; c[{i}] = 'x';"),
            9 => format!("{p} = realloc({p}, {n} * sizeof(long));"),
            10 => format!("memset({p}, {arg}, {n});"),
            11 => format!("{p} = &g[{}];", arg % 4),
            12 => format!("{p} = {q};"),
            13 => format!("*{p} += 1;"),
            14 => format!("s += {p} - {q};"),
            _ => format!("{p} = calloc({n}, sizeof(long));"),
        };
        body.push_str("    ");
        body.push_str(&stmt);
        body.push('\n');
    }
    format!(
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\
         long g[4];\n\
         int main(void)\n{{\n    long a[8];\n    long *p0 = NULL, *p1 = NULL, *p2 = NULL, *p3 = NULL;\n    \
         char *c = NULL;\n    long s = 0;\n{body}    printf(\"%ld\\n\", s);\n    return 0;\n}}\n"
    )
}

/// How a [`pointer_run`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum PointerRun {
    /// `main` returned.
    Returned,
    /// A runtime error stopped the program (the VM and the process go on).
    RuntimeError,
}

/// [`pointer_program`] compiled, loaded and run in a fresh VM: it must
/// compile, and end by returning or by a runtime error within a few
/// seconds, never by crashing the process (the fuzzer's crash) or
/// hanging; the VM must still answer afterwards.
pub fn pointer_run(data: &[u8]) -> PointerRun {
    let src = pointer_program(data);
    let module = match compiler::compile("ptr.uc", &src) {
        Ok(m) => m,
        Err(d) => panic!(
            "a generated program does not compile:\n{}\n{src}",
            d.render("ptr.uc", &src, false)
        ),
    };
    let vm = vm::Vm::new(vm::VmConfig {
        output: std::sync::Arc::new(|_: &[u8]| {}),
        ..vm::VmConfig::default()
    })
    .expect("a VM can be set up");
    vm.load(vm::VersionNo(1), module, None)
        .expect("a compiled program loads");
    vm.run(None).expect("it starts");
    let status = vm
        .wait_exit(std::time::Duration::from_secs(10))
        .unwrap_or_else(|| panic!("a straight-line program did not end in 10 s:\n{src}"));
    let _ = vm.status();
    match status {
        vm::ExitStatus::Returned => PointerRun::Returned,
        vm::ExitStatus::Error(_) => PointerRun::RuntimeError,
        other => panic!("unexpected end {other:?}:\n{src}"),
    }
}
