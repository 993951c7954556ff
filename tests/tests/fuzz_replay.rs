//! The saved fuzz inputs replayed through the fuzz targets' own checks.
//!
//! The targets in `fuzz/fuzz_targets/` only hand libFuzzer's bytes to the
//! functions of `fuzz/src/lib.rs`, which hold every check: frame round
//! trips, non-empty diagnostics with a position, lexer spans inside the text
//! and in order, object and delta files that read back, a forged MAC that
//! never verifies, a malformed module refused by the VM. That file is
//! compiled into this test as it is (`#[path]`), so the normal test suite,
//! which cannot build libFuzzer targets, runs exactly the checks the fuzzers
//! run, on every input saved under `fuzz/regressions/TARGET/`.
//!
//! One test per target. Each fails if the target's folder is missing or
//! holds fewer inputs than it did when this was written, asserts that it
//! replayed every file, and counts which of the target's branches the
//! inputs reached, so that a folder of inputs that no longer decode (and so
//! skip the checks) fails instead of passing vacuously. A target added to
//! `fuzz/fuzz_targets/` without a test here fails
//! `every_fuzz_target_has_a_replay_test`.

use std::path::PathBuf;

#[allow(dead_code, unreachable_pub)]
#[path = "../../fuzz/src/lib.rs"]
mod podus_fuzz;

/// The targets this file replays, with the fewest inputs each folder may
/// hold (what it held when the replay was written; more is fine).
const TARGETS: [(&str, usize); 7] = [
    ("frame_pupmapper", 9),
    ("frame_pup", 9),
    ("uc_compile", 9),
    ("changes_parse", 6),
    ("object_load", 4),
    ("uc_preprocess", 5),
    ("pointer_run", 8),
];

/// The saved inputs of `target`, sorted; panics if the folder is missing
/// or holds fewer than the recorded number.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = podus_tests::repo().join("fuzz/regressions").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: every fuzz target keeps its saved inputs there",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read the folder").path())
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    let floor = TARGETS.iter().find(|t| t.0 == target).expect("listed").1;
    assert!(
        files.len() >= floor,
        "{} holds {} inputs, fewer than the {floor} it had: were inputs lost?",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, data)
        })
        .collect()
}

/// Runs `check` on every input of `target` (a panic names the input) and
/// returns how many were replayed.
fn replay(target: &str, mut check: impl FnMut(&str, &[u8])) -> usize {
    let all = inputs(target);
    let mut n = 0;
    for (name, data) in &all {
        eprintln!("{target}: replaying {name} ({} bytes)", data.len());
        check(name, data);
        n += 1;
    }
    assert_eq!(n, all.len(), "{target}: not every saved input was replayed");
    eprintln!("{target}: {n} saved inputs replayed");
    n
}

#[test]
fn every_fuzz_target_has_a_replay_test() {
    let dir = podus_tests::repo().join("fuzz/fuzz_targets");
    let mut targets: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
        .collect();
    targets.sort();
    let mut here: Vec<String> = TARGETS.iter().map(|t| t.0.to_string()).collect();
    here.sort();
    assert_eq!(
        targets, here,
        "fuzz/fuzz_targets and this file's replay tests differ"
    );
}

#[test]
fn frame_pupmapper_inputs_replay() {
    use pupmapper::frame::{Hello, HelloReply};
    use pupmapper::proto::{MapperAlert, Request, Response};
    let mut decoded = 0;
    let n = replay("frame_pupmapper", |_, data| {
        podus_fuzz::pupmapper_stream(data);
        // What the target decoded from it (the round trips ran on these).
        let [kind, sizes, stream @ ..] = data else {
            return;
        };
        let got = match kind % 5 {
            0 => podus_fuzz::frames::<Hello>(stream, *sizes).len(),
            1 => podus_fuzz::frames::<HelloReply>(stream, *sizes).len(),
            2 => podus_fuzz::frames::<Request>(stream, *sizes).len(),
            3 => podus_fuzz::frames::<Response>(stream, *sizes).len(),
            _ => podus_fuzz::frames::<MapperAlert>(stream, *sizes).len(),
        };
        decoded += usize::from(got > 0);
    });
    assert!(
        decoded >= 3 && decoded < n,
        "{decoded} of {n} inputs decoded a frame: the replay must reach both \
         the round trips and the refusals"
    );
}

#[test]
fn frame_pup_inputs_replay() {
    use pup::auth;
    let mut forged = 0;
    let mut loads = 0;
    let n = replay("frame_pup", |_, data| {
        podus_fuzz::pup_stream(data);
        let [kind, sizes, stream @ ..] = data else {
            return;
        };
        match kind % 7 {
            // The forged-MAC check ran on every response decoded here.
            3 => forged += podus_fuzz::frames::<auth::Response>(stream, *sizes).len(),
            5 => {
                loads += podus_fuzz::frames::<pup::proto::Request>(stream, *sizes)
                    .iter()
                    .filter(|r| matches!(r, pup::proto::Request::Load { .. }))
                    .count()
            }
            _ => {}
        }
    });
    assert!(n >= 8);
    assert!(
        forged >= 1,
        "no saved input reaches the forged-MAC check (kind 3, a decodable response)"
    );
    assert!(
        loads >= 2,
        "the saved inputs reach the Load object check {loads} times, want 2"
    );
}

#[test]
fn uc_compile_inputs_replay() {
    let (mut compiled, mut refused) = (0, 0);
    replay("uc_compile", |_, data| {
        let src = String::from_utf8_lossy(data);
        podus_fuzz::uc_source(&src);
        match compiler::compile("fuzz.uc", &src) {
            Ok(_) => compiled += 1,
            Err(_) => refused += 1,
        }
    });
    assert!(
        compiled >= 2 && refused >= 2,
        "{compiled} inputs compiled and {refused} were refused: the replay must \
         reach both the object/delta checks and the diagnostics checks"
    );
}

#[test]
fn uc_preprocess_inputs_replay() {
    let (mut compiled, mut refused) = (0, 0);
    replay("uc_preprocess", |_, data| {
        let src = String::from_utf8_lossy(data);
        podus_fuzz::pp_source(&src);
        match compiler::compile("fuzz.uc", &src) {
            Ok(_) => compiled += 1,
            Err(_) => refused += 1,
        }
    });
    assert!(
        compiled >= 1 && refused >= 2,
        "{compiled} inputs compiled and {refused} were refused"
    );
}

#[test]
fn changes_parse_inputs_replay() {
    let (mut parsed, mut refused) = (0, 0);
    replay("changes_parse", |_, data| {
        let src = String::from_utf8_lossy(data);
        podus_fuzz::changes_text(&src);
        match compiler::changes::parse("fuzz.changes", &src) {
            Ok(_) => parsed += 1,
            Err(_) => refused += 1,
        }
    });
    assert!(
        parsed >= 2 && refused >= 2,
        "{parsed} inputs parsed and {refused} were refused: the replay must \
         reach both branches"
    );
}

#[test]
fn object_load_inputs_replay() {
    let mut modules = 0;
    replay("object_load", |name, data| {
        podus_fuzz::object_load(data);
        let Some(module) = podus_fuzz::object_bytes(data) else {
            return;
        };
        modules += 1;
        // What the target leaves unchecked: a crash input that decodes is
        // a module the compiler could not have made, and must be refused;
        // a seed, compiled from UC, must load.
        let vm = vm::Vm::new(vm::VmConfig {
            output: std::sync::Arc::new(|_: &[u8]| {}),
            ..vm::VmConfig::default()
        })
        .expect("a VM");
        let loaded = vm.load(vm::VersionNo(1), module, None);
        if name.starts_with("seed-") {
            loaded.unwrap_or_else(|e| panic!("{name}: a compiled object was refused: {e}"));
        } else {
            assert!(loaded.is_err(), "{name}: a malformed module was loaded");
        }
    });
    assert!(
        modules >= 2,
        "only {modules} saved inputs decode as a module, so the VM's load \
         checks were barely reached"
    );
}

#[test]
fn pointer_run_inputs_replay() {
    let (mut returned, mut stopped) = (0, 0);
    replay("pointer_run", |name, data| {
        let end = podus_fuzz::pointer_run(data);
        // The hand-written seeds say how they end: only `seed-*-ok` returns.
        let ok = name.ends_with("-ok") || name == "seed-char-writes";
        if name.starts_with("seed-") {
            let want = if ok {
                podus_fuzz::PointerRun::Returned
            } else {
                podus_fuzz::PointerRun::RuntimeError
            };
            assert_eq!(end, want, "{name}");
        }
        match end {
            podus_fuzz::PointerRun::Returned => returned += 1,
            podus_fuzz::PointerRun::RuntimeError => stopped += 1,
        }
    });
    assert!(
        returned >= 2 && stopped >= 5,
        "{returned} programs returned and {stopped} stopped with a runtime error"
    );
}
