//! Every example of the UC reference (`docs/UC.md`) is compiled and run
//! here, so the page cannot drift from the compiler and the VM.
//!
//! The page's fenced blocks, by their info string (first word the tag,
//! further words attributes):
//! - ` ```uc `: a complete program. It is run with `pup --exec
//!   example.uc` (the real binary) with a deadline; it must exit 0, or `N`
//!   with the attribute `exit=N`.
//! - ` ```uc-error `: a program the compiler refuses. `ucc check` must exit 1
//!   and its diagnostics must contain the ` ```output ` block that follows.
//! - ` ```uc-v2 `: a new version of the nearest ` ```uc v1 ` block above it
//!   (a `uc` block with the attribute `v1`); it is compiled against that
//!   version with `compiler::compile_update`, as a live load types it.
//!   An ` ```output-updated ` block as the next block (prose may come
//!   between) is what the v1 program
//!   prints when it is updated to this version live: the VM runs v1, holds
//!   it right after it prints the first line of its own `output` block,
//!   loads this version, begins the update (no changes file), and the
//!   whole output until the program ends must be the block.
//! - ` ```output ` right after a `uc` block (only blank lines between): the
//!   program's exact standard output. ` ```stderr ` after that (or right
//!   after the program): its exact standard error, except that code
//!   offsets in a backtrace (`+0x2c`) may differ. A `uc` program without a
//!   `stderr` block must print nothing on standard error.
//!
//! An `output` or `stderr` block that follows no program, and a `uc-*` tag
//! this test does not know, fail the test, so a typo cannot turn an
//! example into unchecked text. All failures are reported at once, each
//! with the line of the page where its block starts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use podus_tests::{bin, run_until};

/// One fenced block of the page.
#[derive(Debug)]
struct Block {
    /// The tag (first word of the info string).
    tag: String,
    /// The other words of the info string.
    attrs: Vec<String>,
    /// The text between the fences, each line ending in `\n`.
    text: String,
    /// Line (from 1) of the opening fence.
    line: usize,
    /// Whether only blank lines separate it from the block before it.
    adjacent: bool,
}

fn page() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/UC.md")
}

/// The fenced blocks of a Markdown text, in order.
fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    // Only blank lines since the last closing fence (and there was one).
    let mut adjacent = false;
    for (i, line) in md.lines().enumerate() {
        match &mut open {
            Some(b) => {
                if line.trim_end() == "```" {
                    out.push(open.take().expect("open"));
                    adjacent = true;
                } else {
                    b.text.push_str(line);
                    b.text.push('\n');
                }
            }
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let mut words = info.split_whitespace().map(str::to_string);
                    open = Some(Block {
                        tag: words.next().unwrap_or_default(),
                        attrs: words.collect(),
                        text: String::new(),
                        line: i + 1,
                        adjacent,
                    });
                } else if !line.trim().is_empty() {
                    adjacent = false;
                }
            }
        }
    }
    assert!(open.is_none(), "docs/UC.md ends inside a fenced block");
    out
}

/// Code offsets in backtrace lines (`v1:proc:f+0x2c`) depend on the code
/// generator, not on the language: they are compared as `+0x…`.
fn normalize(stderr: &str) -> String {
    let mut out = String::new();
    let mut rest = stderr;
    while let Some(i) = rest.find("+0x") {
        out.push_str(&rest[..i]);
        out.push_str("+0x…");
        rest = rest[i + 3..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

/// Each line without trailing blanks (diagnostics pad their gutter).
fn trim_lines(s: &str) -> String {
    s.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}

fn exit_attr(b: &Block) -> Result<i32, String> {
    match b.attrs.iter().find_map(|a| a.strip_prefix("exit=")) {
        None => Ok(0),
        Some(n) => n
            .parse()
            .map_err(|_| format!("line {}: `exit={n}` is not a number", b.line)),
    }
}

/// Runs one `uc` program with its expected output; `Err` says what differs.
fn check_run(
    dir: &Path,
    b: &Block,
    stdout: Option<&Block>,
    stderr: Option<&Block>,
) -> Result<(), String> {
    let want_code = exit_attr(b)?;
    std::fs::write(dir.join("example.uc"), &b.text).expect("write example");
    let mut c = Command::new(bin("pup"));
    c.current_dir(dir).args(["--exec", "example.uc"]);
    // Every example finishes in well under a second; the bound is for a
    // loaded machine.
    let run = run_until(c, Duration::from_secs(30));
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    let err = String::from_utf8_lossy(&run.stderr).into_owned();
    let at = format!("the example at docs/UC.md line {}", b.line);
    if run.timed_out {
        return Err(format!(
            "{at} did not finish within 30 s (examples must end by themselves); it printed:\n{out}{err}"
        ));
    }
    let mut problems = Vec::new();
    if run.code != Some(want_code) {
        problems.push(format!(
            "exit code {:?}, the page says {want_code}",
            run.code
        ));
    }
    if let Some(o) = stdout
        && out != o.text
    {
        problems.push(format!(
            "standard output differs from the block at line {}:\n--- page\n{}--- actual\n{out}---",
            o.line, o.text
        ));
    }
    match stderr {
        Some(e) if normalize(&err) != normalize(&e.text) => problems.push(format!(
            "standard error differs from the block at line {}:\n--- page\n{}--- actual\n{err}---",
            e.line, e.text
        )),
        None if !err.is_empty() => problems.push(format!(
            "it printed on standard error, and the page shows no stderr block:\n{err}"
        )),
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{at}: {}", problems.join("\n")))
    }
}

/// Checks one `uc-error` program: `ucc check` refuses it with the diagnostic
/// the page shows.
fn check_error(dir: &Path, b: &Block, diag: Option<&Block>) -> Result<(), String> {
    let at = format!("the uc-error example at docs/UC.md line {}", b.line);
    let Some(diag) = diag else {
        return Err(format!(
            "{at} has no ```output block with the diagnostic right after it"
        ));
    };
    std::fs::write(dir.join("example.uc"), &b.text).expect("write example");
    let mut c = Command::new(bin("ucc"));
    c.current_dir(dir)
        .args(["--color", "never", "check", "example.uc"]);
    let run = run_until(c, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&run.stderr).into_owned();
    if run.code != Some(1) {
        return Err(format!(
            "{at}: `ucc check` exited {:?}, not 1 (a compile error); it printed:\n{err}",
            run.code
        ));
    }
    if !trim_lines(&err).contains(&trim_lines(&diag.text)) {
        return Err(format!(
            "{at}: the diagnostic differs from the block at line {}:\n--- page\n{}--- ucc check\n{err}---",
            diag.line, diag.text
        ));
    }
    Ok(())
}

/// Runs `v1` in a VM, updates it to `v2` right after it prints
/// `marker`, and returns all it printed until it ended.
fn run_updated(
    m1: compiler::ir::Module,
    s1: &str,
    m2: compiler::ir::Module,
    s2: &str,
    marker: &str,
) -> Result<String, String> {
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Instant;
    use vm::{ExitStatus, UpdateRequest, VersionNo, Vm, VmConfig};

    type Out = Arc<(Mutex<Vec<u8>>, Condvar)>;
    let out: Out = Arc::default();
    let sink = out.clone();
    let vm = Vm::new(VmConfig {
        output: Arc::new(move |b: &[u8]| {
            let (m, cv) = &*sink;
            m.lock().unwrap().extend_from_slice(b);
            cv.notify_all();
        }),
        // The VM's test pause point: the program is held right after it
        // prints the marker until the update asks it to pause, so the
        // update lands there, however late this thread asks.
        hold_after_output: Some(marker.as_bytes().to_vec()),
        ..VmConfig::default()
    })
    .map_err(|e| format!("cannot start a VM: {e}"))?;
    let text = |out: &Out| String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    let limit = Duration::from_secs(30);
    vm.load(VersionNo(1), m1, Some(s1))
        .map_err(|e| format!("v1 does not load: {e}"))?;
    vm.run(None).map_err(|e| format!("v1 does not run: {e}"))?;
    vm.load(VersionNo(2), m2, Some(s2))
        .map_err(|e| format!("v2 does not load: {e}"))?;
    {
        let end = Instant::now() + limit;
        let (m, cv) = &*out;
        let mut g = m.lock().unwrap();
        while !String::from_utf8_lossy(&g).contains(marker) {
            let now = Instant::now();
            if now >= end {
                return Err(format!(
                    "v1 did not print {marker:?} within {limit:?}; it printed:\n{}",
                    String::from_utf8_lossy(&g)
                ));
            }
            g = cv.wait_timeout(g, end - now).unwrap().0;
        }
    }
    vm.begin_update(UpdateRequest::default())
        .map_err(|e| format!("the update does not begin: {e}"))?;
    match vm.wait_exit(limit) {
        Some(ExitStatus::Returned) => Ok(text(&out)),
        Some(other) => Err(format!(
            "the updated program ended with {other:?}; it printed:\n{}",
            text(&out)
        )),
        None => {
            vm.stop();
            Err(format!(
                "the updated program did not end within {limit:?}; it printed:\n{}",
                text(&out)
            ))
        }
    }
}

/// Checks one `uc-v2` program against its v1.
fn check_v2(v1: Option<&Block>, b: &Block) -> Result<(), String> {
    check_v2_updated(v1, None, b, None)
}

/// Checks one `uc-v2` program against its v1 and, with `updated`, runs
/// the live update (`v1_out`: v1's own output block).
fn check_v2_updated(
    v1: Option<&Block>,
    v1_out: Option<&Block>,
    b: &Block,
    updated: Option<&Block>,
) -> Result<(), String> {
    let at = format!("the uc-v2 example at docs/UC.md line {}", b.line);
    let Some(v1) = v1 else {
        return Err(format!("{at} has no ```uc v1 block above it"));
    };
    let old = compiler::compile("v1.uc", &v1.text).map_err(|d| {
        format!(
            "{at}: its v1 (line {}) does not compile:\n{}",
            v1.line,
            d.render("v1.uc", &v1.text, false)
        )
    })?;
    let new = compiler::compile_update("v2.uc", &b.text, Some(&old)).map_err(|d| {
        format!(
            "{at} does not compile as a new version of line {}:\n{}",
            v1.line,
            d.render("v2.uc", &b.text, false)
        )
    })?;
    let Some(updated) = updated else {
        return Ok(());
    };
    let Some(marker) = v1_out.and_then(|o| o.text.lines().next()) else {
        return Err(format!(
            "{at}: its ```output-updated block needs the v1 program (line {}) to have an \
             ```output block, whose first line is where the update is asked for",
            v1.line
        ));
    };
    let got = run_updated(old, &v1.text, new, &b.text, &format!("{marker}\n"))
        .map_err(|e| format!("{at}, updating line {} live: {e}", v1.line))?;
    if got != updated.text {
        return Err(format!(
            "{at}: updating line {} live prints other than the block at line {}:\n\
             --- page\n{}--- actual\n{got}---",
            v1.line, updated.line, updated.text
        ));
    }
    Ok(())
}

#[test]
fn every_example_of_the_uc_reference_compiles_and_prints_what_it_shows() {
    let path = page();
    let md = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bs = blocks(&md);
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let (mut runs, mut errors, mut updates) = (0, 0, 0);
    let mut v1: Option<&Block> = None;
    let mut v1_out: Option<&Block> = None;
    let mut live = 0;
    let mut i = 0;
    while i < bs.len() {
        let b = &bs[i];
        // The result blocks right after this one.
        let next = |k: usize, tag: &str| bs.get(k).filter(|n| n.tag == tag && n.adjacent);
        match b.tag.as_str() {
            "uc" => {
                runs += 1;
                let out = next(i + 1, "output");
                let k = i + 1 + out.is_some() as usize;
                let err = next(k, "stderr");
                if let Err(e) = check_run(tmp.path(), b, out, err) {
                    failures.push(e);
                }
                if b.attrs.iter().any(|a| a == "v1") {
                    v1 = Some(b);
                    v1_out = out;
                }
                i = k + err.is_some() as usize;
                continue;
            }
            "uc-error" => {
                errors += 1;
                let out = next(i + 1, "output");
                if let Err(e) = check_error(tmp.path(), b, out) {
                    failures.push(e);
                }
                i += 1 + out.is_some() as usize;
                continue;
            }
            "uc-v2" => {
                updates += 1;
                // Prose may explain the live run before its block.
                let updated = bs.get(i + 1).filter(|n| n.tag == "output-updated");
                live += updated.is_some() as usize;
                if let Err(e) = check_v2_updated(v1, v1_out, b, updated) {
                    failures.push(e);
                }
                i += 1 + updated.is_some() as usize;
                continue;
            }
            "output" | "stderr" | "output-updated" => failures.push(format!(
                "docs/UC.md line {}: a ```{} block that follows no program \
                 it belongs to (only blank lines may separate them)",
                b.line, b.tag
            )),
            t if t.starts_with("uc") => failures.push(format!(
                "docs/UC.md line {}: unknown tag ```{t} (uc, uc-error, uc-v2)",
                b.line
            )),
            _ => {}
        }
        i += 1;
    }
    eprintln!(
        "docs/UC.md: {runs} programs run, {errors} compile errors checked, {updates} new versions \
         compiled against their v1, {live} of them also updated live"
    );
    assert!(
        failures.is_empty(),
        "{} of the examples in docs/UC.md do not do what the page says:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The page is the language reference: losing its examples is a failure.
    assert!(
        runs >= 15 && errors >= 10 && updates >= 2 && live >= 2,
        "docs/UC.md has too few tested examples: {runs} programs, {errors} errors, \
         {updates} updates ({live} live)"
    );
}

/// The checker can fail: a wrong output, a wrong exit code, an orphan
/// output block and a compile error that is not the one shown are caught.
#[test]
fn the_reference_checker_catches_drift() {
    let md = "\
```uc
main() { printf(\"hi\\n\"); }
```

```output
ho
```

```uc exit=2
main() { return 3; }
```

text

```output
orphan
```

```uc-error
main() { x = 1; }
```

```output
error: something else
```
";
    let bs = blocks(md);
    assert_eq!(bs.len(), 6);
    assert!(bs[1].adjacent && !bs[3].adjacent && bs[5].adjacent);
    let tmp = tempfile::tempdir().unwrap();
    let e = check_run(tmp.path(), &bs[0], Some(&bs[1]), None).unwrap_err();
    assert!(e.contains("standard output differs"), "{e}");
    let e = check_run(tmp.path(), &bs[2], None, None).unwrap_err();
    assert!(e.contains("exit code Some(3), the page says 2"), "{e}");
    let e = check_error(tmp.path(), &bs[4], Some(&bs[5])).unwrap_err();
    assert!(e.contains("the diagnostic differs"), "{e}");
    // An iproc that does not take what the old version's callers pass.
    let v1 = Block {
        tag: "uc".into(),
        attrs: vec!["v1".into()],
        text: "void f(int n) { } main() { f(1); }\n".into(),
        line: 1,
        adjacent: false,
    };
    let v2 = Block {
        tag: "uc-v2".into(),
        attrs: Vec::new(),
        text: "void f(double x) { } iproc f(double n) { new.f(n); } main() { f(1); }\n".into(),
        line: 2,
        adjacent: false,
    };
    let e = check_v2(Some(&v1), &v2).unwrap_err();
    assert!(e.contains("does not compile as a new version"), "{e}");
    assert!(
        check_v2(None, &v2)
            .unwrap_err()
            .contains("no ```uc v1 block")
    );
    assert_eq!(
        normalize("#0 v1:proc:f+0x2c\n#1 v1:proc:main+0x65\n"),
        "#0 v1:proc:f+0x…\n#1 v1:proc:main+0x…\n"
    );
}
