//! The public corpus (`tests/corpus/public`): C programs taken unedited from
//! public repositories (origins in its README), each run by UC (`pup
//! --exec FILE.c`) and by gcc's build of the same file (`gcc -O0 -fwrapv`,
//! the oracle, built here at test time).
//!
//! A ratchet, because UC does not run most of them yet: `MANIFEST` says for
//! each program either `runs` (UC's stdout must equal gcc's byte for byte,
//! and its exit code gcc's) or `refused: TEXT` (TEXT is UC's first
//! diagnostic line). The test fails when a `runs` program stops matching,
//! when a `refused` program starts running (so the manifest and the README
//! tally change in the same commit as the feature that made it run), when
//! it is refused with a different first diagnostic, and when the README's
//! tally line is not the manifest's. `wrong: WHAT` records a program UC
//! runs to the end but whose output or exit code is not gcc's.
//!
//! `PUBLIC_CORPUS_BLESS=1 cargo test --release -p podus-tests --test
//! public_corpus` rewrites MANIFEST and the tally from what it observed
//! (then review the diff: a `runs` that became anything else is a
//! regression, not something to bless).
//!
//! Needs `gcc`: outside CI the test says so and passes without it; with
//! `CI=true` (`.ci/run` installs gcc) a missing gcc fails it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use podus_tests::{bin, have_tool, in_ci, run_until};

fn dir() -> PathBuf {
    // This crate's own path (not the library's `repo()`, which a shared
    // target directory may have compiled in another checkout).
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/public")
}

/// MANIFEST: `NAME STATUS` per line (`#` comments), in file order.
fn manifest(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (n, s) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("MANIFEST line without a status: {l:?}"));
            (n.to_string(), s.trim().to_string())
        })
        .collect()
}

/// UC's first diagnostic: the first stderr line that starts with `error`,
/// else the first non-empty one.
fn first_diagnostic(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    lines
        .iter()
        .find(|l| l.starts_with("error"))
        .or_else(|| lines.iter().find(|l| !l.is_empty()))
        .map(|l| l.to_string())
        .unwrap_or_else(|| "(nothing on stderr)".to_string())
}

/// What one program does now: `runs`, `refused: ...` or `wrong: ...`.
fn observe(src: &Path, tmp: &Path) -> String {
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let exe = tmp.join(&stem);
    let mut gcc = Command::new("gcc");
    gcc.args(["-O0", "-fwrapv", "-w", "-o"])
        .arg(&exe)
        .arg(src)
        .arg("-lm");
    let built = run_until(gcc, Duration::from_secs(120));
    assert_eq!(
        built.code,
        Some(0),
        "{stem}: gcc cannot build it (every program must build with gcc):\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let want = run_until(Command::new(&exe), Duration::from_secs(20));
    assert!(!want.timed_out, "{stem}: gcc's build did not finish");
    let mut pup = Command::new(bin("pup"));
    pup.arg("--exec").arg(src);
    let got = run_until(pup, Duration::from_secs(60));
    if got.timed_out {
        return "wrong: did not finish within 60 s".to_string();
    }
    if got.stdout == want.stdout && got.code == want.code {
        return "runs".to_string();
    }
    let diag = first_diagnostic(&String::from_utf8_lossy(&got.stderr));
    if got.code == Some(1) && diag.starts_with("error") {
        return format!("refused: {diag}");
    }
    if got.stdout != want.stdout {
        format!(
            "wrong: stdout differs (exit {:?}, gcc {:?})",
            got.code, want.code
        )
    } else {
        format!("wrong: exit {:?}, gcc {:?}", got.code, want.code)
    }
}

/// The README's tally line, as the manifest says it must read.
fn tally_line(m: &[(String, String)]) -> String {
    let runs = m.iter().filter(|(_, s)| s == "runs").count();
    format!(
        "Tally: **{runs} of {} run unedited** (checked by `tests/tests/public_corpus.rs`).",
        m.len()
    )
}

#[test]
fn public_corpus_matches_its_manifest() {
    if !have_tool("gcc", "--version") {
        assert!(!in_ci(), "CI=true but gcc is missing (.ci/run installs it)");
        eprintln!("SKIPPED: the public corpus needs gcc as its oracle");
        return;
    }
    let d = dir();
    let mpath = d.join("MANIFEST");
    let m = manifest(&mpath);
    let mut files: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".c"))
        .map(|n| n.trim_end_matches(".c").to_string())
        .collect();
    files.sort();
    let bless = std::env::var("PUBLIC_CORPUS_BLESS").is_ok_and(|v| v == "1");
    // Blessing takes the folder's files as the list (a new program gets its
    // line); checking requires the two to agree.
    let m: Vec<(String, String)> = if bless {
        files.iter().map(|n| (n.clone(), String::new())).collect()
    } else {
        m
    };
    let mut listed: Vec<String> = m.iter().map(|(n, _)| n.clone()).collect();
    listed.sort();
    assert_eq!(
        files,
        listed,
        "every .c file in {} must have exactly one MANIFEST line",
        d.display()
    );
    assert!(
        m.len() >= 20,
        "the public corpus lost programs: {}",
        m.len()
    );

    // Parallel: a few workers, each one gcc build + run and one pup --exec
    // per program.
    let tmp = tempfile::tempdir().unwrap();
    let queue = Mutex::new(listed.clone());
    let seen = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(name) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let st = observe(&d.join(format!("{name}.c")), tmp.path());
                    seen.lock().unwrap().insert(name, st);
                }
            });
        }
    });
    let seen = seen.into_inner().unwrap();

    let readme_path = d.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    if bless {
        let new: Vec<(String, String)> = m
            .iter()
            .map(|(n, _)| (n.clone(), seen[n].clone()))
            .collect();
        let header: String = std::fs::read_to_string(&mpath)
            .unwrap()
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let body: String = new.iter().map(|(n, s)| format!("{n} {s}\n")).collect();
        std::fs::write(&mpath, format!("{header}{body}")).unwrap();
        let fixed: String = readme
            .lines()
            .map(|l| {
                if l.starts_with("Tally: ") {
                    tally_line(&new)
                } else {
                    l.to_string()
                }
            })
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&readme_path, fixed).unwrap();
        eprintln!("blessed MANIFEST and the README tally");
        return;
    }

    let mut failures = Vec::new();
    for (n, want) in &m {
        let got = &seen[n];
        if got != want {
            let why = if want == "runs" {
                "REGRESSION: it ran unedited and matched gcc"
            } else if got == "runs" {
                "it runs now: mark it `runs` in MANIFEST and update the README tally in this commit"
            } else {
                "its first diagnostic changed: update MANIFEST (PUBLIC_CORPUS_BLESS=1)"
            };
            failures.push(format!("{n}: MANIFEST says `{want}`, now `{got}` ({why})"));
        }
    }
    let want_tally = tally_line(&m);
    if !readme.lines().any(|l| l == want_tally) {
        failures.push(format!(
            "README.md's tally line must read exactly:\n{want_tally}"
        ));
    }
    let runs = m.iter().filter(|(_, s)| s == "runs").count();
    eprintln!("public corpus: {runs} of {} run unedited", m.len());
    assert!(
        failures.is_empty(),
        "{} mismatches with tests/corpus/public/MANIFEST:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
