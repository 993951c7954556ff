//! The interpreter against a fake pup: what it prints and when, without
//! sockets. The real pup is exercised by the end-to-end tests.

use super::*;
use crate::link::{Connected, Link};
use pup_client::proto::{
    Ending, LoadInfo, NotApplied, NotAppliedGroup, Notice, ProcRow, PupInfo, Request, Response,
    StatusInfo, UpdateEnded, UpdateInfo,
};
use pupmapper_client::proto::PupEntry;
use std::collections::VecDeque;
use std::time::Duration;

/// What a fake pup holds; shared with the test.
#[derive(Default)]
struct FakePup {
    notices: VecDeque<Notice>,
    /// Notices released when the program is updated (on the next receive).
    on_update: Vec<Notice>,
    pending: bool,
    closed: bool,
    requests: Vec<String>,
    /// What a `Wait` reply says ended meanwhile.
    ended: Vec<UpdateEnded>,
}

type Shared = Arc<Mutex<BTreeMap<String, FakePup>>>;

struct FakeLink {
    name: String,
    pups: Shared,
}

impl FakeLink {
    fn with<T>(&self, f: impl FnOnce(&mut FakePup) -> T) -> T {
        f(self.pups.lock().unwrap().get_mut(&self.name).unwrap())
    }
}

impl Link for FakeLink {
    fn call(&mut self, req: Request) -> Result<Response, String> {
        let name = self.name.clone();
        self.with(|p| {
            if p.closed {
                return Err("the pup closed the connection".into());
            }
            p.requests.push(
                format!("{req:?}")
                    .split([' ', '{', '('])
                    .next()
                    .unwrap()
                    .to_string(),
            );
            Ok(match req {
                Request::Info => Response::Info(PupInfo {
                    name,
                    host: "h".into(),
                    pid: 1,
                    fresh: true,
                    versions: vec![],
                    program: "not started".into(),
                    pending: 0,
                    region_base: 0,
                    restored_ms: None,
                }),
                // The fake keeps no record of its versions: nothing to type
                // a new one against (the real pup's answer is tested end to
                // end).
                Request::Interface => Response::NoInterface,
                Request::Load {
                    version, object, ..
                } => {
                    let m = compiler::object::read_object(&object).unwrap();
                    Response::Loaded(LoadInfo {
                        version,
                        slot: version as u32 - 1,
                        procs: m
                            .procs
                            .iter()
                            .enumerate()
                            .map(|(i, p)| ProcRow {
                                id: i as u32,
                                name: p.name.clone(),
                                addr: 0,
                                size: 16,
                            })
                            .collect(),
                        delta_matrix: String::new(),
                        code_bytes: 100,
                        space_base: 0x1000,
                        iprocs: vec![],
                        old_versions: vec![],
                        mprocs: vec![],
                        table: 0,
                        load_ns: 0,
                    })
                }
                Request::Run { .. } => Response::Running { version: 1 },
                Request::Update(spec) => {
                    p.pending = true;
                    Response::UpdateBegun(UpdateInfo {
                        from: 1,
                        to: spec.to.unwrap_or(2),
                        changed: vec!["work".into()],
                        reasons: vec![],
                        backtrace: vec!["work".into(), "main".into()],
                        frames: vec![],
                        warped_unchanged: vec!["main".into()],
                        committed: vec![],
                        pending: vec![vec!["work".into()]],
                        failed: vec![],
                        notes: vec![],
                        resets: vec![],
                        return_interrupts: true,
                        complete: false,
                    })
                }
                Request::Wait { .. } => Response::Waited {
                    done: !p.pending,
                    ended: p.ended.clone(),
                },
                Request::Status => Response::Status(StatusInfo {
                    versions: vec![],
                    retired: vec![],
                    hrvn: 1,
                    program: "running version 1".into(),
                    pending: vec![],
                    bindings: vec![],
                    return_interrupts: false,
                    journal: pup_client::proto::JournalState::Off("test".into()),
                    restored: None,
                }),
                Request::Stop => {
                    p.notices.push_back(Notice::Exited {
                        code: 0,
                        message: "stopped".into(),
                    });
                    Response::Ok
                }
                _ => Response::Ok,
            })
        })
    }
    fn try_notices(&mut self) -> Vec<Notice> {
        self.with(|p| p.notices.drain(..).collect())
    }
    fn recv_notice(&mut self, timeout: Duration) -> Option<Notice> {
        let n = self.with(|p| {
            if p.pending && !p.on_update.is_empty() {
                p.pending = false;
                let released: Vec<Notice> = p.on_update.drain(..).collect();
                p.notices.extend(released);
            }
            p.notices.pop_front()
        });
        if n.is_none() {
            std::thread::sleep(timeout.min(Duration::from_millis(5)));
        }
        n
    }
    fn is_closed(&self) -> bool {
        self.with(|p| p.closed)
    }
    fn close(self: Box<Self>) {}
}

struct FakeConnector(Shared);

impl Connector for FakeConnector {
    fn connect(
        &mut self,
        program: &str,
        _: Option<&str>,
        _: bool,
        _: bool,
    ) -> Result<Connected, String> {
        let mut pups = self.0.lock().unwrap();
        if !pups.contains_key(program) {
            return Err(format!("no pup for program {program} on host h"));
        }
        pups.get_mut(program).unwrap().closed = false;
        Ok(Connected {
            link: Box::new(FakeLink {
                name: program.into(),
                pups: self.0.clone(),
            }),
            started: false,
            local: false,
        })
    }
    fn pups(&mut self, _: Option<&str>) -> Result<(String, Vec<PupEntry>), String> {
        Ok(("h".into(), vec![]))
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>, Arc<Mutex<String>>);

impl Sink for Capture {
    fn out(&mut self, text: &str) {
        self.0.lock().unwrap().push_str(text);
    }
    fn err(&mut self, text: &str) {
        self.1.lock().unwrap().push_str(text);
    }
}

impl Capture {
    fn out(&self) -> String {
        self.0.lock().unwrap().clone()
    }
    fn err(&self) -> String {
        self.1.lock().unwrap().clone()
    }
}

fn shell(pups: &[&str]) -> (Shell, Shared, Capture) {
    let shared: Shared = Arc::new(Mutex::new(
        pups.iter()
            .map(|p| (p.to_string(), FakePup::default()))
            .collect(),
    ));
    let cap = Capture::default();
    let sh = Shell::new(
        Box::new(FakeConnector(shared.clone())),
        Box::new(cap.clone()),
        std::env::temp_dir(),
    );
    (sh, shared, cap)
}

fn push(shared: &Shared, pup: &str, n: Notice) {
    shared
        .lock()
        .unwrap()
        .get_mut(pup)
        .unwrap()
        .notices
        .push_back(n);
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

#[test]
fn scripts_stop_at_the_first_failure_unless_errexit_is_off() {
    let (mut sh, _, cap) = shell(&[]);
    let script = "program a\nstatus\nprogram b\n";
    assert!(!sh.run_script("t.ush", lines(script), Path::new(".")));
    assert!(!cap.out().contains("now b"), "{}", cap.out());
    assert_eq!(
        cap.err(),
        "error: t.ush:2: not connected to a pup for program a (use `connect [HOST]`)\n"
    );
    let (mut sh, _, cap) = shell(&[]);
    sh.settings.echo = true;
    let script = format!("set errexit off\n# note\n{script}");
    // The last command succeeded, so the script did.
    assert!(sh.run_script("t.ush", lines(&script), Path::new(".")));
    assert!(
        cap.out()
            .contains("> program b\nThe current program is now b\n")
    );
    assert!(cap.out().contains("# note\n"));
    assert!(cap.err().contains("t.ush:4: not connected"));
}

#[test]
fn one_line_stops_at_its_first_failure_with_errexit() {
    let (mut sh, _, cap) = shell(&[]);
    assert_eq!(
        sh.execute_at("program a; connect; program b", ""),
        Outcome::Stopped
    );
    assert!(
        cap.err().contains("no pup for program a on host h"),
        "{}",
        cap.err()
    );
    assert!(!cap.out().contains("now b"));
}

#[test]
fn program_output_comes_by_whole_lines_and_expect_sees_it() {
    let (mut sh, shared, cap) = shell(&["x"]);
    assert_eq!(
        sh.execute_at("program x; connect; output on", ""),
        Outcome::Ok
    );
    push(
        &shared,
        "x",
        Notice::Output(b"oven pre-heated to 400 degrees ".to_vec()),
    );
    push(
        &shared,
        "x",
        Notice::Output(b"Fahrenheit for pizza 2\npizza 2 con".to_vec()),
    );
    assert_eq!(
        sh.execute_at("expect \"Fahrenheit for pizza 2\"", ""),
        Outcome::Ok
    );
    let out = cap.out();
    assert!(
        out.ends_with("oven pre-heated to 400 degrees Fahrenheit for pizza 2\n"),
        "{out}"
    );
    // The half line waits for its end, and a later expect finds text
    // only after the last match.
    push(
        &shared,
        "x",
        Notice::Output(b"tains 0.75 lb dough\n".to_vec()),
    );
    assert_eq!(
        sh.execute_at("expect \"pizza 2 contains\"", ""),
        Outcome::Ok
    );
    assert!(
        cap.out()
            .ends_with("for pizza 2\npizza 2 contains 0.75 lb dough\n")
    );
    assert_eq!(
        sh.execute_at("expect \"pizza 2\" --timeout 50ms", ""),
        Outcome::Stopped
    );
    assert!(
        cap.err().contains("did not print \"pizza 2\" within 50ms"),
        "{}",
        cap.err()
    );
}

#[test]
fn output_sent_before_output_off_is_shown_before_the_off_line() {
    let (mut sh, shared, cap) = shell(&["x"]);
    sh.execute_at("program x; connect; output on", "");
    // The pup queued these before it read `output off`: they arrive ahead
    // of its reply and are program output from while output was on.
    push(&shared, "x", Notice::Output(b"tick 4\ntick".to_vec()));
    push(&shared, "x", Notice::Output(b" 5".to_vec()));
    assert_eq!(sh.execute_at("output off", ""), Outcome::Ok);
    let out = cap.out();
    let off = out
        .find("no longer streamed")
        .unwrap_or_else(|| panic!("no off line:\n{out}"));
    assert!(out[..off].contains("tick 4\ntick 5\n"), "{out}");
    assert!(!out[off..].contains("tick"), "{out}");
}

#[test]
fn expect_needs_streaming_and_fails_when_the_program_ends() {
    let (mut sh, shared, cap) = shell(&["x"]);
    sh.execute_at("program x; connect", "");
    assert_eq!(sh.execute_at("expect done", ""), Outcome::Stopped);
    assert!(cap.err().contains("use `output on` first"));
    sh.execute_at("output on", "");
    push(
        &shared,
        "x",
        Notice::Exited {
            code: 3,
            message: "exit(3)".into(),
        },
    );
    assert_eq!(sh.execute_at("expect done", ""), Outcome::Stopped);
    assert!(
        cap.out()
            .contains("Program x ended (exit code 3): exit(3)\n")
    );
    assert!(
        cap.err()
            .contains("program x ended without printing \"done\"")
    );
}

#[test]
fn update_then_wait_prints_the_completion_once_after_the_papers_lines() {
    let (mut sh, shared, cap) = shell(&["x"]);
    sh.execute_at("program x; connect; output on", "");
    shared.lock().unwrap().get_mut("x").unwrap().on_update = vec![
        Notice::Output(b"v1 done\n".to_vec()),
        Notice::UpdateComplete(UpdateEnded {
            id: 1,
            to: 2,
            ending: Ending::Complete,
            applied: vec![vec!["work".into()]],
            not_applied: vec![],
            at_exit: false,
        }),
    ];
    assert_eq!(
        sh.execute_at("update 2; wait --timeout 5s", ""),
        Outcome::Ok
    );
    let out = cap.out();
    let begun = out
        .find("Program x update initiated successfully")
        .expect(&out);
    let done = out
        .find("*** Program x updated to version 2 successfully ***")
        .expect(&out);
    assert!(begun < out.find("v1 done").unwrap() && out.find("v1 done").unwrap() < done);
    assert_eq!(out.matches("updated to version 2").count(), 1);
    // The update was awaited by listening: no Wait request was sent.
    assert!(
        !shared.lock().unwrap()["x"]
            .requests
            .iter()
            .any(|r| r == "Wait")
    );
}

/// An update another ush began ends while this one waits; the pup's
/// reply says how it ended (no completion notice reaches this ush in
/// time): `wait` fails for partial or nothing applied, once.
#[test]
fn wait_learns_from_the_pup_how_an_update_begun_elsewhere_ended() {
    let (mut sh, shared, cap) = shell(&["x"]);
    sh.execute_at("program x; connect", "");
    let ended = |id, ending, why: NotApplied| UpdateEnded {
        id,
        to: 2,
        ending,
        applied: vec![],
        not_applied: vec![NotAppliedGroup {
            members: vec!["work".into()],
            why,
        }],
        at_exit: false,
    };
    shared.lock().unwrap().get_mut("x").unwrap().ended = vec![ended(
        7,
        Ending::NothingApplied,
        NotApplied::Within(Some(1000)),
    )];
    assert_eq!(sh.execute_at("wait --timeout 5s", ""), Outcome::Stopped);
    assert!(
        cap.err().contains(
            "wait: Program x update to version 2 applied nothing: not applied {work} (still active when within 1s ran out)"
        ),
        "{}",
        cap.err()
    );
    // Its notice, arriving late, is shown but fails nothing again.
    let late = Notice::UpdateComplete(UpdateEnded {
        id: 7,
        to: 2,
        ending: Ending::NothingApplied,
        applied: vec![],
        not_applied: vec![NotAppliedGroup {
            members: vec!["work".into()],
            why: NotApplied::Within(Some(1000)),
        }],
        at_exit: false,
    });
    push(&shared, "x", late);
    shared.lock().unwrap().get_mut("x").unwrap().ended = vec![];
    assert_eq!(sh.execute_at("wait --timeout 5s", ""), Outcome::Ok);
    // What `abort` abandoned was asked for: it fails nothing.
    shared.lock().unwrap().get_mut("x").unwrap().ended =
        vec![ended(8, Ending::NothingApplied, NotApplied::Abort)];
    assert_eq!(sh.execute_at("wait --timeout 5s", ""), Outcome::Ok);
}

#[test]
fn two_pups_are_told_apart() {
    let (mut sh, shared, cap) = shell(&["a", "b"]);
    sh.execute_at(
        "program a; connect; output on; program b; connect; output on",
        "",
    );
    push(&shared, "a", Notice::Output(b"from a\n".to_vec()));
    push(
        &shared,
        "b",
        Notice::Trace("pup: INTERRUPT! (pup state: 2) received command UPDATE".into()),
    );
    sh.execute_at("sleep 20ms", "");
    let out = cap.out();
    assert!(out.contains("[a] from a\n"), "{out}");
    assert!(
        out.contains("[b] pup: INTERRUPT! (pup state: 2) received command UPDATE\n"),
        "{out}"
    );
    // Stopping b leaves a connected and current after switching.
    assert_eq!(sh.execute_at("stop; program a; status", ""), Outcome::Ok);
    assert!(cap.out().contains("Program b ended (exit code 0): stopped"));
    assert!(cap.out().contains("program a on host h: running version 1"));
}

#[test]
fn a_lost_connection_is_reported_and_dropped() {
    let (mut sh, shared, cap) = shell(&["x"]);
    sh.execute_at("program x; connect", "");
    shared.lock().unwrap().get_mut("x").unwrap().closed = true;
    assert_eq!(sh.execute_at("status", ""), Outcome::Stopped);
    assert!(
        cap.err()
            .contains("lost the connection to the pup for program x"),
        "{}",
        cap.err()
    );
    assert!(
        cap.err()
            .contains("Connection to pup for program x on host h lost")
    );
    // Reconnecting works, and says what it found.
    assert_eq!(sh.execute_at("connect", ""), Outcome::Ok);
    assert!(cap.out().ends_with("Pup for program x on host h is new\n"));
}

#[test]
fn load_compiles_here_and_reports_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.uc"), "main() { work(); }\nwork() { }\n").unwrap();
    std::fs::write(dir.path().join("bad.uc"), "main() {\n  int x = ;\n}\n").unwrap();
    let (mut sh, _, cap) = shell(&["x"]);
    sh.base_dir = dir.path().to_path_buf();
    assert_eq!(
        sh.execute_at("program x; connect; load 1 ok.uc", ""),
        Outcome::Ok
    );
    let out = cap.out();
    assert!(
        out.contains("compiled ok.uc\nprogram x has 2 updatable procedures\n"),
        "{out}"
    );
    assert!(
        out.contains("delta* computed for 2 procedures in x:\n    0 1\n    0 0\n"),
        "{out}"
    );
    assert!(
        out.ends_with("Version 1 of program x loaded successfully\n"),
        "{out}"
    );
    assert_eq!(sh.execute_at("load 2 bad.uc", ""), Outcome::Stopped);
    let err = cap.err();
    assert!(err.contains("bad.uc:2:11"), "{err}");
    assert!(err.contains("error: load: bad.uc does not compile; nothing was loaded"));
    // Completion knows the loaded procedures.
    assert_eq!(*sh.completion_names().lock().unwrap(), ["main", "work"]);
}
