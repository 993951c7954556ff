//! Turning a line of ush input into [`Command`]s.
//!
//! A line is split into commands at `;`, each command into words like a
//! (very) small POSIX shell: whitespace separates words, `'…'` quotes
//! literally, `"…"` quotes with `\"` and `\\` escapes, and `#` at the start
//! of a word begins a comment that runs to the end of the line. Nothing is
//! expanded. Parsing is pure — no file is touched and nothing is sent — so
//! every error here is a usage error found before anything happened.

use std::time::Duration;

/// Where `load` takes a version from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoadSource {
    /// `load V FILE.uc`: compile the source here.
    Source(String),
    /// `load V FILE.delta FILE.o`: take `ucc build` output.
    Built {
        /// The `.delta` file.
        delta: String,
        /// The `.o` file.
        object: String,
    },
}

/// The files of `load V ...` and `rollout load V ...`: one source, or
/// `ucc build`'s `.delta` and `.o` pair in either order. `cmd` names the
/// command in messages.
pub(crate) fn load_source(cmd: &str, v: &str, files: &[String]) -> Result<LoadSource, String> {
    Ok(match files {
        [f] if f.ends_with(".delta") || f.ends_with(".o") => {
            return Err(format!(
                "{cmd}: `{f}` needs its partner: {cmd} {v} FILE.delta FILE.o"
            ));
        }
        [f] => LoadSource::Source(f.clone()),
        [a, b] => {
            // Two files are only ever `ucc build`'s pair, in either
            // order; anything else (two sources) is said so here
            // rather than as a bad `.delta` header from the reader.
            let (delta, object) = match (a.ends_with(".delta"), b.ends_with(".delta")) {
                (true, false) if b.ends_with(".o") => (a, b),
                (false, true) if a.ends_with(".o") => (b, a),
                _ => {
                    return Err(format!(
                        "{cmd}: two files must be `ucc build` output: {cmd} {v} FILE.delta FILE.o \
                         (got `{a}` and `{b}`; one program's source is {cmd} {v} FILE.uc)"
                    ));
                }
            };
            LoadSource::Built {
                delta: delta.clone(),
                object: object.clone(),
            }
        }
        _ => {
            return Err(format!(
                "usage: {cmd} V FILE.uc | {cmd} V FILE.delta FILE.o"
            ));
        }
    })
}

/// What `update` updates to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UpdateTarget {
    /// A changes file.
    Changes(String),
    /// A version number: computed changes, no groups.
    Version(u64),
}

/// Where `graph` sends the call graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GraphOut {
    /// Print the DOT text.
    Print,
    /// Write the DOT text to a file.
    Dot(String),
    /// Render SVG with Graphviz's `dot` into a file.
    Svg(String),
}

/// A `set` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetOption {
    /// Stop a script at the first failing command.
    Errexit,
    /// Echo script commands (with the prompt) before running them.
    Echo,
}

/// One parsed ush command (SPEC §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `program NAME`
    Program(String),
    /// `connect [HOST] [--fresh]`: `--fresh` (ush --local) starts the
    /// program anew, its journal kept aside, instead of restoring it.
    Connect(Option<String>, bool),
    /// `disconnect`
    Disconnect,
    /// `pups [HOST]`
    Pups(Option<String>),
    /// `load V FILE.uc` or `load V FILE.delta FILE.o`
    Load {
        /// Version number.
        version: u64,
        /// Where the code comes from.
        source: LoadSource,
    },
    /// `run [V]`
    Run(Option<u64>),
    /// `update [CHANGES | V] [--within D] [--atomic] [--strict]`
    Update {
        /// Changes file or version; `None`: the pup's defaults.
        target: Option<UpdateTarget>,
        /// `--within`.
        within: Option<Duration>,
        /// `--atomic`.
        atomic: bool,
        /// `--strict`: refuse an update that would reset data.
        strict: bool,
    },
    /// `wait [--timeout D]`
    Wait {
        /// Give up (and fail) after this long.
        timeout: Option<Duration>,
    },
    /// `abort`
    Abort,
    /// `history [--json]`
    History {
        /// `--json`.
        json: bool,
    },
    /// `revert [V] [--changes FILE.uc | --lossy] [--within D] [--atomic]`
    Revert {
        /// The version to go back to.
        to: Option<u64>,
        /// `--changes FILE.uc`: the reverse program.
        changes: Option<String>,
        /// `--lossy`.
        lossy: bool,
        /// `--within`.
        within: Option<Duration>,
        /// `--atomic`.
        atomic: bool,
    },
    /// `status`
    Status,
    /// `versions`
    Versions,
    /// `procs [NAME...]`
    Procs(Vec<String>),
    /// `stack`
    Stack,
    /// `delta [V]`
    Delta(Option<u64>),
    /// `delta [V] at ROW COL` or `delta [V] NAME`: a block of δ*, or one
    /// procedure's row.
    DeltaView {
        /// Version (default: the newest).
        version: Option<u64>,
        /// First row and column of the block.
        at: (u32, u32),
        /// One procedure's row instead.
        of: Option<String>,
    },
    /// `graph [V] [--dot FILE | --svg FILE]`
    Graph {
        /// Version (default: the newest).
        version: Option<u64>,
        /// Where to put it.
        out: GraphOut,
    },
    /// `addr ADDRESS`
    Addr(u64),
    /// `output on|off`
    Output(bool),
    /// `debug on|off`
    Debug(bool),
    /// `stop`
    Stop,
    /// `source FILE`
    Source(String),
    /// `sleep D`
    Sleep(Duration),
    /// `quit` / `exit`
    Quit,
    /// `set OPTION on|off`
    Set(SetOption, bool),
    /// `expect PATTERN [--timeout D]`
    Expect {
        /// Plain substring of the program's output.
        pattern: String,
        /// Give up (and fail) after this long.
        timeout: Option<Duration>,
    },
    /// `help [CMD]`
    Help(Option<String>),
    /// `fleet [PUP... | --file FILE]` (SPEC §5.5)
    Fleet(crate::fleet::FleetCmd),
    /// `rollout load|run|stop|status|update …` (SPEC §5.5)
    Rollout(crate::rollout::RolloutCmd),
    /// `test-update OLD NEW [CHANGES] --records RE [--for D] [--points N] [--allow-pending]`
    TestUpdate(crate::testupdate::TestUpdate),
    /// `observe [--port N]` (SPEC §5.6)
    Observe {
        /// The port (default 7780; 0: any free one).
        port: Option<u16>,
    },
}

/// Splits a line into its commands at `;` outside quotes, dropping a
/// trailing `#` comment. Returns the raw text of each non-empty command.
pub(crate) fn split_commands(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut word_start = true;
    for c in line.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                cur.push(c);
                word_start = false;
            }
            ';' => {
                push_trimmed(&mut out, &cur);
                cur.clear();
                word_start = true;
            }
            '#' if word_start => break,
            c => {
                cur.push(c);
                word_start = c.is_whitespace();
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    push_trimmed(&mut out, &cur);
    Ok(out)
}

fn push_trimmed(out: &mut Vec<String>, s: &str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

/// Splits one command into words (quotes removed, escapes applied). A `#`
/// at the start of a word ends the command.
pub(crate) fn split_words(cmd: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated ' quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => cur.push(c),
                            Some('n') => cur.push('\n'),
                            Some('t') => cur.push('\t'),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("unterminated \" quote".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unterminated \" quote".into()),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Parses a duration (`250ms`, `2s`, `1m`), as changes files write them.
pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    compiler::changes::parse_duration(s)
}

/// Parses a version number.
pub(crate) fn version(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("`{s}` is not a version number"))
}

/// Parses `on`/`off`.
fn on_off(cmd: &str, s: Option<&str>) -> Result<bool, String> {
    match s {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(format!("{cmd}: expected on or off, not `{other}`")),
        None => Err(format!("{cmd}: expected on or off")),
    }
}

/// Parses a hexadecimal address, with or without `0x`.
pub(crate) fn address(s: &str) -> Result<u64, String> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s)
        .replace('_', "");
    u64::from_str_radix(&digits, 16).map_err(|_| format!("`{s}` is not a hexadecimal address"))
}

/// Splits `--flag VALUE` options (and bare `--switch`es) from positional
/// words. `flags` lists the options that take a value.
pub(crate) struct Args {
    pub(crate) positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

pub(crate) fn split_args(
    cmd: &str,
    words: &[String],
    valued: &[&str],
    switches: &[&str],
) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut options = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if let Some(name) = w.strip_prefix("--") {
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if valued.contains(&name) {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("{cmd}: --{name} needs a value"))?,
                };
                options.push((name.to_string(), Some(v)));
            } else if switches.contains(&name) && inline.is_none() {
                options.push((name.to_string(), None));
            } else {
                return Err(format!("{cmd}: unknown option --{name}"));
            }
        } else {
            positional.push(w.clone());
        }
    }
    Ok(Args {
        positional,
        options,
    })
}

impl Args {
    pub(crate) fn opt(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    pub(crate) fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }
    pub(crate) fn at_most(&self, cmd: &str, n: usize) -> Result<(), String> {
        if self.positional.len() > n {
            Err(format!(
                "{cmd}: unexpected argument `{}` (usage: {})",
                self.positional[n],
                crate::commands::usage(cmd)
            ))
        } else {
            Ok(())
        }
    }
}

fn timeout_opt(args: &Args) -> Result<Option<Duration>, String> {
    args.opt("timeout").map(duration).transpose()
}

/// Parses the words of one command. `words` must not be empty.
pub(crate) fn parse_command(words: &[String]) -> Result<Command, String> {
    let (name, rest) = words.split_first().ok_or("empty command")?;
    let cmd = name.as_str();
    let usage_err = || format!("usage: {}", crate::commands::usage(cmd));
    let plain = |n: usize| -> Result<Args, String> {
        let a = split_args(cmd, rest, &[], &[])?;
        a.at_most(cmd, n)?;
        Ok(a)
    };
    Ok(match cmd {
        "program" => {
            let a = plain(1)?;
            let n = a.positional.first().ok_or_else(usage_err)?;
            pupmapper_client::proto::validate_name(n).map_err(|e| format!("program: {e}"))?;
            Command::Program(n.clone())
        }
        "connect" => {
            let a = split_args(cmd, rest, &[], &["fresh"])?;
            a.at_most(cmd, 1)?;
            Command::Connect(a.positional.first().cloned(), a.has("fresh"))
        }
        "disconnect" => {
            plain(0)?;
            Command::Disconnect
        }
        "pups" => Command::Pups(plain(1)?.positional.first().cloned()),
        "load" => {
            let a = plain(3)?;
            let (v, files) = a.positional.split_first().ok_or_else(usage_err)?;
            let version = version(v)?;
            if version == 0 {
                return Err("load: versions are numbered from 1".into());
            }
            if files.is_empty() {
                return Err(usage_err());
            }
            let source = load_source("load", v, files)?;
            Command::Load { version, source }
        }
        "run" => Command::Run(
            plain(1)?
                .positional
                .first()
                .map(|v| version(v))
                .transpose()?,
        ),
        "update" => {
            let a = split_args(cmd, rest, &["within"], &["atomic", "strict"])?;
            a.at_most(cmd, 1)?;
            let target = a.positional.first().map(|t| match t.parse::<u64>() {
                Ok(v) => UpdateTarget::Version(v),
                Err(_) => UpdateTarget::Changes(t.clone()),
            });
            Command::Update {
                target,
                within: a.opt("within").map(duration).transpose()?,
                atomic: a.has("atomic"),
                strict: a.has("strict"),
            }
        }
        "wait" => {
            let a = split_args(cmd, rest, &["timeout"], &[])?;
            a.at_most(cmd, 0)?;
            Command::Wait {
                timeout: timeout_opt(&a)?,
            }
        }
        "abort" => {
            plain(0)?;
            Command::Abort
        }
        "history" => {
            let a = split_args(cmd, rest, &[], &["json"])?;
            a.at_most(cmd, 0)?;
            Command::History {
                json: a.has("json"),
            }
        }
        "revert" => {
            let a = split_args(cmd, rest, &["within", "changes"], &["atomic", "lossy"])?;
            a.at_most(cmd, 1)?;
            let changes = a.opt("changes").map(str::to_string);
            if changes.is_some() && a.has("lossy") {
                return Err("revert: give either --changes FILE.uc or --lossy, not both".into());
            }
            Command::Revert {
                to: a.positional.first().map(|v| version(v)).transpose()?,
                changes,
                lossy: a.has("lossy"),
                within: a.opt("within").map(duration).transpose()?,
                atomic: a.has("atomic"),
            }
        }
        "status" => {
            plain(0)?;
            Command::Status
        }
        "versions" => {
            plain(0)?;
            Command::Versions
        }
        "procs" => Command::Procs(plain(usize::MAX)?.positional),
        "stack" => {
            plain(0)?;
            Command::Stack
        }
        "delta" => {
            let a = plain(4)?;
            let mut pos = a.positional.as_slice();
            let v = match pos.first() {
                Some(x) if x.bytes().all(|b| b.is_ascii_digit()) => {
                    pos = &pos[1..];
                    Some(version(x)?)
                }
                _ => None,
            };
            let num = |s: &str| {
                s.parse::<u32>()
                    .map_err(|_| format!("delta: `{s}` is not a row or column number"))
            };
            match pos {
                [] => Command::Delta(v),
                [at, r, c] if at == "at" => Command::DeltaView {
                    version: v,
                    at: (num(r)?, num(c)?),
                    of: None,
                },
                [name] => Command::DeltaView {
                    version: v,
                    at: (0, 0),
                    of: Some(name.clone()),
                },
                _ => return Err("usage: delta [V] [at ROW COL | NAME]".into()),
            }
        }
        "graph" => {
            let a = split_args(cmd, rest, &["dot", "svg"], &[])?;
            a.at_most(cmd, 1)?;
            let out = match (a.opt("dot"), a.opt("svg")) {
                (Some(_), Some(_)) => return Err("graph: give --dot or --svg, not both".into()),
                (Some(f), None) => GraphOut::Dot(f.to_string()),
                (None, Some(f)) => GraphOut::Svg(f.to_string()),
                (None, None) => GraphOut::Print,
            };
            Command::Graph {
                version: a.positional.first().map(|v| version(v)).transpose()?,
                out,
            }
        }
        "addr" => {
            let a = plain(1)?;
            Command::Addr(address(a.positional.first().ok_or_else(usage_err)?)?)
        }
        "output" => Command::Output(on_off(
            cmd,
            plain(1)?.positional.first().map(String::as_str),
        )?),
        "debug" => Command::Debug(on_off(
            cmd,
            plain(1)?.positional.first().map(String::as_str),
        )?),
        "stop" => {
            plain(0)?;
            Command::Stop
        }
        "source" => Command::Source(
            plain(1)?
                .positional
                .first()
                .cloned()
                .ok_or_else(usage_err)?,
        ),
        "sleep" => Command::Sleep(duration(
            plain(1)?.positional.first().ok_or_else(usage_err)?,
        )?),
        "quit" | "exit" => {
            plain(0)?;
            Command::Quit
        }
        "set" => {
            let a = plain(2)?;
            let opt = match a.positional.first().map(String::as_str) {
                Some("errexit") => SetOption::Errexit,
                Some("echo") => SetOption::Echo,
                Some(o) => return Err(format!("set: unknown option `{o}` (errexit, echo)")),
                None => return Err(usage_err()),
            };
            Command::Set(opt, on_off(cmd, a.positional.get(1).map(String::as_str))?)
        }
        "expect" => {
            let a = split_args(cmd, rest, &["timeout"], &[])?;
            a.at_most(cmd, 1)?;
            let pattern = a.positional.first().ok_or_else(usage_err)?.clone();
            if pattern.is_empty() {
                return Err("expect: the pattern is empty".into());
            }
            Command::Expect {
                pattern,
                timeout: timeout_opt(&a)?,
            }
        }
        "help" | "?" => Command::Help(plain(1)?.positional.first().cloned()),
        "fleet" => Command::Fleet(crate::fleet::parse(rest)?),
        "observe" => {
            let a = split_args(cmd, rest, &["port"], &[])?;
            a.at_most(cmd, 0)?;
            let port = a
                .opt("port")
                .map(|p| {
                    p.parse::<u16>()
                        .map_err(|_| format!("observe: `{p}` is not a port number (0 to 65535)"))
                })
                .transpose()?;
            Command::Observe { port }
        }
        "rollout" => Command::Rollout(crate::rollout::parse(rest)?),
        "test-update" => {
            let a = split_args(cmd, rest, &["records", "for", "points"], &["allow-pending"])?;
            a.at_most(cmd, 3)?;
            let [old, new, changes @ ..] = &a.positional[..] else {
                return Err(usage_err());
            };
            let records = a
                .opt("records")
                .ok_or_else(|| {
                    format!(
                        "test-update: --records REGEX is required (usage: {})",
                        crate::commands::usage(cmd)
                    )
                })?
                .to_string();
            let run_for = a
                .opt("for")
                .map(|d| duration(d).map(|_| d.to_string()))
                .transpose()?;
            let points = a
                .opt("points")
                .map(|n| match n.parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("test-update: --points {n}: give a positive number")),
                })
                .transpose()?;
            Command::TestUpdate(crate::testupdate::TestUpdate {
                old: old.clone(),
                new: new.clone(),
                changes: changes.first().cloned(),
                records,
                run_for,
                points,
                allow_pending: a.has("allow-pending"),
            })
        }
        other => {
            return Err(match crate::commands::suggest(other) {
                Some(s) => format!("unknown command `{other}` (did you mean `{s}`? try `help`)"),
                None => format!("unknown command `{other}` (try `help`)"),
            });
        }
    })
}

/// Parses one command's text (as [`split_commands`] returns it).
pub(crate) fn parse(cmd: &str) -> Result<Option<Command>, String> {
    let words = split_words(cmd)?;
    if words.is_empty() {
        return Ok(None);
    }
    parse_command(&words).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Command {
        parse(s).unwrap().unwrap()
    }
    fn e(s: &str) -> String {
        parse(s).unwrap_err()
    }

    #[test]
    fn splits_commands_at_semicolons_outside_quotes() {
        assert_eq!(
            split_commands("program x; connect ;; run # go").unwrap(),
            ["program x", "connect", "run"]
        );
        assert_eq!(
            split_commands("expect \"a; b\"; stop").unwrap(),
            ["expect \"a; b\"", "stop"]
        );
        assert_eq!(
            split_commands("expect 'x#y' # c").unwrap(),
            ["expect 'x#y'"]
        );
        assert_eq!(
            split_commands("  # only a comment").unwrap(),
            Vec::<String>::new()
        );
        assert!(split_commands("expect \"open").is_err());
    }

    #[test]
    fn words_honour_quotes_and_escapes() {
        assert_eq!(
            split_words(r#"expect "Fahrenheit for pizza 2" --timeout 5s"#).unwrap(),
            ["expect", "Fahrenheit for pizza 2", "--timeout", "5s"]
        );
        assert_eq!(
            split_words(r#"a "b \"c\"" 'd e'f"#).unwrap(),
            ["a", "b \"c\"", "d ef"]
        );
        assert_eq!(split_words("a b#c # rest").unwrap(), ["a", "b#c"]);
        assert_eq!(split_words(r#"x """#).unwrap(), ["x", ""]);
    }

    /// Regression (issue 29): `load 1 a.uc b.uc` said "bad header" (the
    /// `.delta` reader's complaint about a source file).
    #[test]
    fn load_of_two_files_that_are_not_a_delta_and_an_object_says_what_it_takes() {
        let err = e("load 1 a.uc b.uc");
        assert!(err.contains("load 1 FILE.delta FILE.o"), "{err}");
        assert!(err.contains("load 1 FILE.uc"), "{err}");
        assert!(e("load 1 a.delta b.delta").contains("FILE.delta FILE.o"));
    }

    #[test]
    fn parses_the_papers_session() {
        assert_eq!(p("program x"), Command::Program("x".into()));
        assert_eq!(
            p("connect goto"),
            Command::Connect(Some("goto".into()), false)
        );
        assert_eq!(p("connect"), Command::Connect(None, false));
        assert_eq!(p("connect --fresh"), Command::Connect(None, true));
        assert_eq!(
            p("load 1 pizza1.delta pizza1.o"),
            Command::Load {
                version: 1,
                source: LoadSource::Built {
                    delta: "pizza1.delta".into(),
                    object: "pizza1.o".into()
                }
            }
        );
        assert_eq!(
            p("load 2 pizza2.o pizza2.delta"),
            Command::Load {
                version: 2,
                source: LoadSource::Built {
                    delta: "pizza2.delta".into(),
                    object: "pizza2.o".into()
                }
            }
        );
        assert_eq!(
            p("load 1 pizza1.uc"),
            Command::Load {
                version: 1,
                source: LoadSource::Source("pizza1.uc".into())
            }
        );
        assert_eq!(p("run"), Command::Run(None));
        assert_eq!(p("run 2"), Command::Run(Some(2)));
        assert_eq!(
            p("update pizza2.changes"),
            Command::Update {
                target: Some(UpdateTarget::Changes("pizza2.changes".into())),
                within: None,
                atomic: false,
                strict: false
            }
        );
    }

    #[test]
    fn parses_options_and_durations() {
        assert_eq!(
            p("update 3 --within 250ms --atomic --strict"),
            Command::Update {
                target: Some(UpdateTarget::Version(3)),
                within: Some(Duration::from_millis(250)),
                atomic: true,
                strict: true
            }
        );
        assert_eq!(
            p("update --within=2s"),
            Command::Update {
                target: None,
                within: Some(Duration::from_secs(2)),
                atomic: false,
                strict: false
            }
        );
        assert_eq!(
            p("wait --timeout 1m"),
            Command::Wait {
                timeout: Some(Duration::from_secs(60))
            }
        );
        assert_eq!(p("sleep 250ms"), Command::Sleep(Duration::from_millis(250)));
        assert_eq!(
            p("expect \"pizza 2\" --timeout 10s"),
            Command::Expect {
                pattern: "pizza 2".into(),
                timeout: Some(Duration::from_secs(10))
            }
        );
        assert_eq!(
            p("graph 2 --svg g.svg"),
            Command::Graph {
                version: Some(2),
                out: GraphOut::Svg("g.svg".into())
            }
        );
        assert_eq!(p("addr 0x7f2a0040"), Command::Addr(0x7f2a_0040));
        assert_eq!(p("addr 7F2A0040"), Command::Addr(0x7f2a_0040));
        assert_eq!(p("output on"), Command::Output(true));
        assert_eq!(p("debug off"), Command::Debug(false));
        assert_eq!(
            p("set errexit off"),
            Command::Set(SetOption::Errexit, false)
        );
        assert_eq!(p("exit"), Command::Quit);
        assert_eq!(p("procs"), Command::Procs(vec![]));
        assert_eq!(
            p("procs main work"),
            Command::Procs(vec!["main".into(), "work".into()])
        );
        assert_eq!(p("help update"), Command::Help(Some("update".into())));
    }

    #[test]
    fn rejects_bad_usage_with_a_clear_message() {
        assert!(e("sleep 2").contains("no unit"), "{}", e("sleep 2"));
        assert!(e("load x a.uc").contains("not a version number"));
        assert!(e("load 0 a.uc").contains("from 1"));
        assert!(e("load 1 a.o").contains("partner"));
        assert!(e("load 1").contains("usage: load"));
        assert!(e("output maybe").contains("on or off"));
        assert!(e("update --within").contains("needs a value"));
        assert!(e("update --frobnicate").contains("unknown option"));
        assert!(e("stop now").contains("unexpected argument `now`"));
        assert!(e("addr zz").contains("hexadecimal"));
        assert!(e("graph --dot a --svg b").contains("not both"));
        assert!(e("updte 2").contains("did you mean `update`"));
        assert!(e("program 'a b'").starts_with("program:"));
        assert!(e("expect \"\"").contains("empty"));
    }
}
