//! The pup's journal, `revert`, `history` and `--restore` (SPEC §4.7,
//! issue 25), end to end with the real binaries: the way back is an update
//! like any other, bad reverts change nothing, and the journal tells the
//! truth after kill -9 of the pup in the middle of an update and of a load,
//! and when its file is corrupt or locked (the program runs on regardless).
//! RELIABILITY.md lists these with their results.
//!
//! Waits are bounded and on output lines or status answers, never sleeps.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use podus_tests::{Daemon, Env, READY, eventually};
use pup_client::auth::Cookie;
use pup_client::client::PupClient;
use pup_client::proto::{
    Ending, EntryKind, EntryOutcome, JournalState, Request, Response, RevertRefusal, RevertSpec,
    StatusInfo, UpdateSpec,
};

const PATIENCE: Duration = Duration::from_secs(30);

const V1: &str = r#"
void tick(int n)
{
    static int count = 0;
    count++;
    printf("tick %d\n", count);
}

main()
{
    int i;
    for (i = 0; i < 1000000; i++) {
        tick(i);
        sleep_ms(20);
    }
}
"#;

const V2: &str = r#"
void tick(int n)
{
    static int ticks = 0;
    ticks++;
    printf("[v2] #%d\n", ticks);
}

mproc tick {
    ticks = old.count + 1000;
}

main()
{
    int i;
    for (i = 0; i < 1000000; i++) {
        tick(i);
        sleep_ms(20);
    }
}
"#;

/// A v1 whose `work` stays on the stack for a long time, so that an
/// update of it stays pending.
const SLOW1: &str = r#"
void work(int n) { printf("work one %d\n", n); sleep_ms(60000); }
main() { int i; for (i = 0; i < 1000; i++) { work(i); } }
"#;
const SLOW2: &str = r#"
void work(int n) { printf("work two %d\n", n); sleep_ms(60000); }
main() { int i; for (i = 0; i < 1000; i++) { work(i); } }
"#;

/// `pup NAME --state DIR` (plus `extra`), with its program output on its
/// stdout; returns it and its address.
fn start_pup(env: &Env, name: &str, state: &Path, extra: &[&str]) -> (Daemon, SocketAddr) {
    let mut c = env.command("pup");
    c.args([name, "--mapper", &env.mapper_addr(), "--state"])
        .arg(state)
        .args(extra);
    let pup = Daemon::spawn(&format!("pup {name}"), c);
    let ready = format!("pup {name} listening on ");
    let line = pup.wait_line(|l| l.starts_with(&ready), READY);
    let addr = line[ready.len()..]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no address in {line:?}"));
    (pup, addr)
}

fn client(env: &Env, addr: SocketAddr) -> PupClient {
    let cookie = Cookie::load(&env.cookie()).expect("the pup made the cookie");
    PupClient::connect(addr, &cookie).expect("connect to the pup")
}

fn load(c: &mut PupClient, version: u64, src: &str) {
    let m = compiler::compile("t.uc", src)
        .unwrap_or_else(|d| panic!("does not compile:\n{}", d.render("t.uc", src, false)));
    let r = c
        .call(Request::Load {
            version,
            object: compiler::object::write_object(&m),
            source: Some(src.to_string()),
        })
        .expect("load call");
    assert!(matches!(r, Response::Loaded(_)), "load {version}: {r:?}");
}

/// Loads `v2` compiled against what the pup runs (its mproc reads `old.count`).
fn load_against(c: &mut PupClient, version: u64, src: &str) {
    let prev = match c.call(Request::Interface).unwrap() {
        Response::Interface { object, .. } => Some(compiler::object::read_object(&object).unwrap()),
        _ => None,
    };
    let built = compiler::compile_for_load("t.uc", src, prev.as_ref())
        .unwrap_or_else(|d| panic!("does not compile:\n{}", d.render("t.uc", src, false)));
    let r = c
        .call(Request::Load {
            version,
            object: built.object,
            source: Some(src.to_string()),
        })
        .expect("load call");
    assert!(matches!(r, Response::Loaded(_)), "load {version}: {r:?}");
}

fn call(c: &mut PupClient, req: Request) -> Response {
    c.call(req).expect("call")
}

fn status(c: &mut PupClient) -> StatusInfo {
    match call(c, Request::Status) {
        Response::Status(s) => s,
        other => panic!("status: {other:?}"),
    }
}

fn history(c: &mut PupClient) -> (JournalState, Vec<pup_client::proto::HistoryRow>) {
    match call(c, Request::History) {
        Response::History { journal, rows } => (journal, rows),
        other => panic!("history: {other:?}"),
    }
}

fn wait_done(c: &mut PupClient) {
    match call(c, Request::Wait { timeout_ms: 20_000 }) {
        Response::Waited { done: true, .. } => {}
        other => panic!("wait: {other:?}"),
    }
}

fn update_to(c: &mut PupClient, to: u64) -> Response {
    call(
        c,
        Request::Update(UpdateSpec {
            to: Some(to),
            ..Default::default()
        }),
    )
}

/// Waits for `n` more program lines matching `pred` after the first `from`
/// lines of output.
fn wait_new_lines(pup: &Daemon, from: usize, pred: impl Fn(&str) -> bool, what: &str) {
    eventually(what, PATIENCE, || {
        let out = pup.output();
        let n = out.lines().skip(from).filter(|l| pred(l)).count();
        (n >= 2).then_some(())
    });
}

fn lines(pup: &Daemon) -> usize {
    pup.output().lines().count()
}

fn state_dir(env: &Env) -> PathBuf {
    env.path().join("state")
}

#[test]
fn revert_is_an_update_back_and_history_and_restore_tell_it() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    let (pup, addr) = start_pup(&env, "ctr", &state, &[]);
    let mut c = client(&env, addr);
    load(&mut c, 1, V1);
    load_against(&mut c, 2, V2);

    // Nothing to revert before any update; not running before `run`.
    let nothing = RevertSpec::default();
    assert_eq!(
        call(&mut c, Request::Revert(nothing.clone())),
        Response::RevertRefused(RevertRefusal::NotRunning)
    );
    assert!(matches!(
        call(&mut c, Request::Run { version: None }),
        Response::Running { .. }
    ));
    pup.wait_line(|l| l == "tick 2", PATIENCE);
    assert_eq!(
        call(&mut c, Request::Revert(nothing.clone())),
        Response::RevertRefused(RevertRefusal::NothingToRevert)
    );

    assert!(matches!(update_to(&mut c, 2), Response::UpdateBegun(_)));
    wait_done(&mut c);
    pup.wait_line(|l| l.starts_with("[v2] #100"), PATIENCE);

    // A version never loaded; the forward mproc needs a reverse or --lossy.
    let to9 = RevertSpec {
        to: Some(9),
        ..Default::default()
    };
    assert_eq!(
        call(&mut c, Request::Revert(to9)),
        Response::RevertRefused(RevertRefusal::NeverLoaded(9))
    );
    match call(&mut c, Request::Revert(nothing.clone())) {
        Response::RevertRefused(RevertRefusal::NeedsReverse { to: 1, mprocs }) => {
            assert_eq!(
                mprocs,
                vec![(2, "tick".to_string(), vec!["tick.ticks".to_string()])]
            );
        }
        other => panic!("revert without --lossy: {other:?}"),
    }
    // Refusals changed nothing: still at 2, no version added.
    let st = status(&mut c);
    assert_eq!(st.hrvn, 2);
    assert!(
        st.versions.iter().all(|v| v.version <= 2),
        "{:?}",
        st.versions
    );

    let mark = lines(&pup);
    let lossy = RevertSpec {
        lossy: true,
        ..Default::default()
    };
    match call(&mut c, Request::Revert(lossy)) {
        Response::Reverted { to: 1, info, lost } => {
            assert_eq!((info.from, info.to), (2, 3));
            assert_eq!(lost, vec!["tick.ticks".to_string()]);
        }
        other => panic!("revert --lossy: {other:?}"),
    }
    wait_done(&mut c);
    // v1's code again: `count` starts afresh (lossy), printed v1's way.
    wait_new_lines(
        &pup,
        mark,
        |l| l.starts_with("tick "),
        "v1's lines after the revert",
    );

    // Versions stay a number line: `update 2` again works.
    let mark = lines(&pup);
    match update_to(&mut c, 2) {
        Response::UpdateBegun(info) => assert_eq!((info.from, info.to), (3, 4)),
        other => panic!("update 2 after the revert: {other:?}"),
    }
    wait_done(&mut c);
    wait_new_lines(&pup, mark, |l| l.starts_with("[v2] #"), "v2's lines again");

    let (journal, rows) = history(&mut c);
    assert!(matches!(journal, JournalState::On(_)), "{journal:?}");
    let kinds: Vec<EntryKind> = rows.iter().map(|r| r.kind).collect();
    use EntryKind::*;
    assert_eq!(
        kinds,
        vec![Load, Load, Run, Update, Load, Revert, Load, Update]
    );
    let revert = &rows[5];
    assert_eq!(
        (revert.from, revert.version, revert.code_of),
        (Some(2), Some(3), Some(1))
    );
    assert!(matches!(
        revert.outcome,
        EntryOutcome::Ended {
            ending: Ending::Complete,
            ..
        }
    ));
    assert_eq!(rows[7].code_of, Some(2), "the restaged update is v2's code");
    assert!(
        rows.iter().all(|r| !r.who.user.is_empty()),
        "each step says who"
    );

    // The journal is a plain SQLite file a user can query.
    let db = rusqlite::Connection::open(state.join("journal.db")).unwrap();
    let reverts: i64 = db
        .query_row(
            "SELECT count(*) FROM reverts WHERE revert_to = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reverts, 1);
    let files: String = db
        .query_row(
            "SELECT f.text FROM load_files f JOIN loads l USING (seq) WHERE l.version = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(files, V1);
    drop(db);

    // Restart: back at v2's code (version 4), at once.
    drop(c);
    drop(pup);
    let (pup, addr) = start_pup(&env, "ctr", &state, &["--restore"]);
    pup.wait_line(|l| l.starts_with("[v2] #"), PATIENCE);
    let mut c = client(&env, addr);
    let st = status(&mut c);
    let r = st.restored.expect("status says it was restored");
    assert_eq!(r.version, 4);
    assert_eq!(r.versions, vec![1, 2, 3, 4]);
    assert!(
        st.program.starts_with("running version 4"),
        "{}",
        st.program
    );
    assert!(
        !pup.output().contains("tick "),
        "no v1 code ran after the restore"
    );
}

#[test]
fn a_revert_while_an_update_is_pending_is_refused_and_changes_nothing() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (pup, addr) = start_pup(&env, "slow", &state_dir(&env), &[]);
    let mut c = client(&env, addr);
    load(&mut c, 1, SLOW1);
    load(&mut c, 2, SLOW2);
    call(&mut c, Request::Run { version: None });
    pup.wait_line(|l| l == "work one 0", PATIENCE);
    match update_to(&mut c, 2) {
        Response::UpdateBegun(i) => assert!(!i.complete, "work is on the stack"),
        other => panic!("{other:?}"),
    }
    let before = status(&mut c);
    assert_eq!(
        call(&mut c, Request::Revert(RevertSpec::default())),
        Response::RevertRefused(RevertRefusal::UpdatePending)
    );
    let after = status(&mut c);
    assert_eq!(before.versions, after.versions);
    assert_eq!(before.pending, after.pending);
}

#[test]
fn kill_9_mid_update_leaves_a_journal_that_says_so_and_restore_comes_back_at_what_was_committed() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    let (mut pup, addr) = start_pup(&env, "slow", &state, &[]);
    let mut c = client(&env, addr);
    load(&mut c, 1, SLOW1);
    load(&mut c, 2, SLOW2);
    call(&mut c, Request::Run { version: None });
    pup.wait_line(|l| l == "work one 0", PATIENCE);
    assert!(matches!(update_to(&mut c, 2), Response::UpdateBegun(_)));
    let (_, rows) = history(&mut c);
    assert_eq!(rows.last().unwrap().outcome, EntryOutcome::Pending);
    pup.kill9();

    // The file opens and tells the truth: the update never ended.
    let db = rusqlite::Connection::open(state.join("journal.db")).unwrap();
    let (ending, applied): (Option<String>, Option<String>) = db
        .query_row("SELECT ending, applied FROM updates", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((ending, applied), (None, None));
    drop(db);

    let (pup, addr) = start_pup(&env, "slow", &state, &["--restore"]);
    pup.wait_line(|l| l == "work one 0", PATIENCE);
    let mut c = client(&env, addr);
    let st = status(&mut c);
    assert_eq!(st.restored.as_ref().map(|r| r.version), Some(1));
    assert_eq!(st.hrvn, 1);
    let (_, rows) = history(&mut c);
    let upd = rows.iter().find(|r| r.kind == EntryKind::Update).unwrap();
    assert_eq!(upd.outcome, EntryOutcome::Interrupted);
    assert_eq!(rows.last().unwrap().kind, EntryKind::Restore);
}

/// A program of `n` procedures: its load takes long enough to be killed in.
fn big(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("int p{i}(int x) {{ return x + {i}; }}\n"));
    }
    s.push_str("main() { int i; for (i = 0; i < 1000000; i++) { printf(\"big %d\\n\", p0(i)); sleep_ms(50); } }\n");
    s
}

#[test]
fn kill_9_mid_load_leaves_the_load_recorded_whole_or_not_at_all() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    let (mut pup, addr) = start_pup(&env, "big", &state, &["--debug"]);
    let mut c = client(&env, addr);
    load(&mut c, 1, V1);
    call(&mut c, Request::Run { version: None });
    pup.wait_line(|l| l == "tick 1", PATIENCE);
    let src = big(20_000);
    let m = compiler::compile("big.uc", &src).unwrap();
    let object = compiler::object::write_object(&m);
    let mut c2 = client(&env, addr);
    let sender = std::thread::spawn(move || {
        let _ = c2.call(Request::Load {
            version: 2,
            object,
            source: Some(src),
        });
    });
    pup.wait_line(|l| l.contains("received command LOAD"), PATIENCE);
    pup.kill9();
    let _ = sender.join();

    let db = rusqlite::Connection::open(state.join("journal.db")).unwrap();
    let loads: Vec<i64> = db
        .prepare("SELECT version FROM loads ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(loads == vec![1] || loads == vec![1, 2], "{loads:?}");
    // Every recorded load has its source files: none is half written.
    let orphans: i64 = db
        .query_row(
            "SELECT count(*) FROM loads l WHERE NOT EXISTS (SELECT 1 FROM load_files f WHERE f.seq = l.seq)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    drop(db);

    let (pup, addr) = start_pup(&env, "big", &state, &["--restore"]);
    pup.wait_line(|l| l == "tick 1", PATIENCE);
    let st = status(&mut client(&env, addr));
    assert_eq!(st.restored.map(|r| r.version), Some(1));
}

#[test]
fn a_corrupt_journal_is_one_line_and_the_program_runs_without_it() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("journal.db"), vec![0x5a; 16384]).unwrap();
    let (pup, addr) = start_pup(&env, "ctr", &state, &["--restore"]);
    let line = pup.wait_line(|l| l.contains("cannot open the journal"), READY);
    assert!(line.contains("the journal is off"), "{line}");
    let mut c = client(&env, addr);
    load(&mut c, 1, V1);
    call(&mut c, Request::Run { version: None });
    pup.wait_line(|l| l == "tick 2", PATIENCE);
    assert!(matches!(status(&mut c).journal, JournalState::Off(_)));
    assert_eq!(
        call(
            &mut c,
            Request::Revert(RevertSpec {
                to: Some(1),
                ..Default::default()
            })
        ),
        Response::RevertRefused(RevertRefusal::JournalOff(match status(&mut c).journal {
            JournalState::Off(w) => w,
            _ => unreachable!(),
        }))
    );
}

#[test]
fn a_journal_locked_by_another_process_is_one_line_and_the_program_runs_on() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    // Another pup with the same state directory holds it.
    let state = state_dir(&env);
    let (_first, _) = start_pup(&env, "one", &state, &[]);
    let (pup, addr) = start_pup(&env, "two", &state, &[]);
    let line = pup.wait_line(|l| l.contains("in use by another pup"), READY);
    assert!(line.contains("the journal is off"), "{line}");
    let mut c = client(&env, addr);
    load(&mut c, 1, V1);
    call(&mut c, Request::Run { version: None });
    pup.wait_line(|l| l == "tick 2", PATIENCE);
    assert!(matches!(status(&mut c).journal, JournalState::Off(_)));
}

#[test]
fn a_journal_write_that_fails_at_runtime_turns_it_off_and_the_step_still_happens() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    let (pup, addr) = start_pup(&env, "ctr", &state, &[]);
    let mut c = client(&env, addr);
    load(&mut c, 1, V1);
    // A user's sqlite3 holds a write transaction: the pup's next write
    // times out.
    let db = rusqlite::Connection::open(state.join("journal.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    assert!(matches!(
        call(&mut c, Request::Run { version: None }),
        Response::Running { .. }
    ));
    pup.wait_line(|l| l == "tick 2", PATIENCE);
    let line = pup.wait_line(|l| l.contains("the journal is off"), READY);
    assert!(line.contains("recording a run failed"), "{line}");
    db.execute_batch("ROLLBACK").unwrap();
    match status(&mut c).journal {
        JournalState::Off(why) => assert!(why.contains("locked"), "{why}"),
        other => panic!("{other:?}"),
    }
    // What was recorded before is still there, whole.
    let n: i64 = db
        .query_row("SELECT count(*) FROM loads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn ush_history_and_revert_speak_in_lines_and_json() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    let (pup, _addr) = start_pup(&env, "ctr", &state, &[]);
    env.write("v1.uc", V1);
    env.write("v2.uc", V2);
    env.ush_c(
        "program ctr; connect; load 1 v1.uc; load 2 v2.uc; run; update 2; wait --timeout 20s",
    )
    .assert_ok();
    pup.wait_line(|l| l.starts_with("[v2] #"), PATIENCE);
    let refused = env.ush_c("program ctr; connect; revert");
    assert!(!refused.all().contains("Reverting"), "{}", refused.all());
    assert!(
        refused.all().contains("revert --lossy"),
        "the refusal says the way out: {}",
        refused.all()
    );
    env.ush_c("program ctr; connect; revert --lossy; wait --timeout 20s; history")
        .assert_has("Reverting program ctr to version 1's code")
        .assert_has("cannot restore what the forward mprocs computed: tick.ticks")
        .assert_has("2 -> 3 (= 1)");
    let json = env.ush_c("program ctr; connect; history --json");
    json.assert_ok();
    let text = json.all();
    let start = text.find('[').expect("a JSON array");
    let end = text.rfind(']').unwrap();
    let v: serde_json::Value = serde_json::from_str(&text[start..=end]).expect("valid JSON");
    assert_eq!(v.as_array().unwrap().len(), 6);
    assert_eq!(v[5]["kind"], "Revert");
}

#[test]
fn revert_changes_runs_the_reverse_mproc_and_carries_the_value_back() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (pup, _addr) = start_pup(&env, "ctr", &state_dir(&env), &[]);
    env.write("v1.uc", V1);
    env.write("v2.uc", V2);
    // v1's program with the mproc for the way back.
    env.write(
        "back.uc",
        &V1.replace(
            "main()",
            "mproc tick {\n    count = old.ticks + 5000;\n}\n\nmain()",
        ),
    );
    env.ush_c(
        "program ctr; connect; load 1 v1.uc; load 2 v2.uc; run; update 2; wait --timeout 20s",
    )
    .assert_ok();
    pup.wait_line(|l| l.starts_with("[v2] #100"), PATIENCE);
    env.ush_c("program ctr; connect; revert --changes back.uc; wait --timeout 20s")
        .assert_ok()
        .assert_has("Reverting program ctr to version 1's code with the reverse mprocs");
    // count = ticks + 5000 (ticks was 1000 + count when it went forward).
    let line = pup.wait_line(|l| l.starts_with("tick 6"), PATIENCE);
    let n: u64 = line["tick ".len()..].trim().parse().unwrap();
    assert!(
        (6000..7000).contains(&n),
        "the value came back through the mproc: {line}"
    );
}

#[test]
fn connect_under_ush_local_restores_a_program_that_has_a_journal() {
    let env = Env::new();
    env.write("v1.uc", V1);
    env.write("v2.uc", V2);
    let limit = Duration::from_secs(60);
    env.ush(
        &[
            "--local",
            "-c",
            "program hist; connect; load 1 v1.uc; load 2 v2.uc; run; update 2; wait --timeout 20s",
        ],
        limit,
    )
    .assert_ok();
    assert!(
        env.path()
            .join("home/.podus/pups/hist/journal.db")
            .is_file()
    );
    let again = env.ush(
        &[
            "--local",
            "-c",
            "program hist; connect; output on; expect \"[v2] #\" --timeout 20s; status; stop",
        ],
        limit,
    );
    again
        .assert_ok()
        .assert_has("restored from its journal at ")
        .assert_has("main started at version 2");
    assert!(
        !again.stdout.contains("\ntick "),
        "no v1 code ran: {}",
        again.all()
    );
}

/// `connect --fresh` under `ush --local` starts the program anew even
/// where a journal could restore it (a script that runs twice, like the
/// pizza demo), and keeps the earlier journal aside, readable.
#[test]
fn connect_fresh_starts_anew_and_keeps_the_old_journal() {
    let env = Env::new();
    env.write("v1.uc", V1);
    let limit = Duration::from_secs(60);
    env.ush(
        &["--local", "-c", "program hist; connect; load 1 v1.uc; run"],
        limit,
    )
    .assert_ok();
    let again = env.ush(
        &[
            "--local",
            "-c",
            "program hist; connect --fresh; load 1 v1.uc; history",
        ],
        limit,
    );
    again.assert_ok();
    assert!(!again.stdout.contains("restored"), "{}", again.all());
    assert!(
        again.stdout.contains("loaded successfully"),
        "{}",
        again.all()
    );
    let dir = env.path().join("home/.podus/pups/hist");
    let kept: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("journal-") && n.ends_with(".db"))
        .collect();
    assert_eq!(
        kept.len(),
        1,
        "the first run's journal is kept aside: {kept:?}"
    );
    assert!(dir.join("journal.db").is_file());
}

/// `work(0)` returns soon, every later call stays for a minute: an update
/// begun during the first call completes, one begun later waits.
const HOLD1: &str = r#"
void work(int n) { printf("one %d\n", n); if (n == 0) { sleep_ms(1500); } else { sleep_ms(60000); } }
main() { int i; for (i = 0; i < 1000; i++) { work(i); } }
"#;
const HOLD2: &str = r#"
void work(int n) { printf("two %d\n", n); if (n == 0) { sleep_ms(1500); } else { sleep_ms(60000); } }
main() { int i; for (i = 0; i < 1000; i++) { work(i); } }
"#;

/// A pup running HOLD updated to version 2, with v2's `work` on the stack
/// for a minute: what a revert to 1 must wait for.
fn hold_at_v2(env: &Env, name: &str, state: &Path) -> (Daemon, PupClient) {
    let (pup, addr) = start_pup(env, name, state, &[]);
    let mut c = client(env, addr);
    load(&mut c, 1, HOLD1);
    load(&mut c, 2, HOLD2);
    call(&mut c, Request::Run { version: None });
    pup.wait_line(|l| l == "one 0", PATIENCE);
    assert!(matches!(update_to(&mut c, 2), Response::UpdateBegun(_)));
    wait_done(&mut c);
    pup.wait_line(|l| l == "two 1", PATIENCE);
    (pup, c)
}

#[test]
fn a_revert_waits_for_activeness_like_any_update_and_within_abandons_it() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (_pup, mut c) = hold_at_v2(&env, "hold", &state_dir(&env));
    // v2's work is on the stack for a minute: the revert waits for it.
    let spec = RevertSpec {
        within_ms: Some(300),
        ..Default::default()
    };
    match call(&mut c, Request::Revert(spec)) {
        Response::Reverted { to: 1, info, .. } => {
            assert!(!info.complete, "work is active: {info:?}");
            assert_eq!(info.pending, vec![vec!["work".to_string()]]);
        }
        other => panic!("revert: {other:?}"),
    }
    let ended = match call(&mut c, Request::Wait { timeout_ms: 20_000 }) {
        Response::Waited { done: true, ended } => ended,
        other => panic!("wait: {other:?}"),
    };
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].ending, Ending::NothingApplied);
    assert_eq!(
        ended[0].not_applied[0].why,
        pup_client::proto::NotApplied::Within(Some(300))
    );
    let (_, rows) = history(&mut c);
    let last = rows.last().unwrap();
    assert_eq!(last.kind, EntryKind::Revert);
    match &last.outcome {
        EntryOutcome::Ended {
            ending: Ending::NothingApplied,
            applied: 0,
            not_applied,
        } => assert_eq!(
            not_applied[0].why,
            pup_client::proto::NotApplied::Within(Some(300))
        ),
        other => panic!("{other:?}"),
    }
    // Nothing applied: still v2's code.
    assert!(
        status(&mut c)
            .bindings
            .iter()
            .any(|b| b.name == "work" && b.committed == 2)
    );
}

/// A revert is an update like any other, so a pup killed while one waits
/// leaves it recorded as begun and never ended; the next pup marks it
/// interrupted, and `--restore` comes back at what was committed: the
/// forward update's version, not the revert's.
#[test]
fn kill_9_mid_revert_leaves_it_unfinished_and_restore_comes_back_at_the_forward_version() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let state = state_dir(&env);
    let (mut pup, mut c) = hold_at_v2(&env, "holdk", &state);
    // v2's work is on the stack for a minute: the revert waits for it.
    match call(&mut c, Request::Revert(RevertSpec::default())) {
        Response::Reverted { to: 1, info, .. } => {
            assert!(!info.complete, "work is active: {info:?}");
        }
        other => panic!("revert: {other:?}"),
    }
    let (_, rows) = history(&mut c);
    let last = rows.last().unwrap();
    assert_eq!(last.kind, EntryKind::Revert);
    assert_eq!(last.outcome, EntryOutcome::Pending);
    pup.kill9();

    // The file opens and tells the truth: one update (the revert) began
    // and never ended; the forward one ended complete.
    let db = rusqlite::Connection::open(state.join("journal.db")).unwrap();
    let open: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM updates WHERE ending IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let complete: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM updates WHERE ending = 'complete'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((open, complete), (1, 1));
    drop(db);

    let (pup, addr) = start_pup(&env, "holdk", &state, &["--restore"]);
    pup.wait_line(|l| l == "two 0", PATIENCE);
    let mut c = client(&env, addr);
    let st = status(&mut c);
    assert_eq!(st.restored.as_ref().map(|r| r.version), Some(2));
    let (_, rows) = history(&mut c);
    let rev = rows.iter().find(|r| r.kind == EntryKind::Revert).unwrap();
    assert_eq!(rev.outcome, EntryOutcome::Interrupted);
}
