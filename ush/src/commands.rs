//! The command table: names, usage and help text.
//!
//! Invariant: every command [`crate::parse::parse_command`] accepts has an
//! entry here (a unit test checks it), so `help`, completion and the
//! "did you mean" hint never miss one.

/// One command's documentation.
#[derive(Debug)]
pub(crate) struct CommandDoc {
    /// The command word.
    pub name: &'static str,
    /// Its arguments, as `help` shows them.
    pub args: &'static str,
    /// One line for the `help` list.
    pub summary: &'static str,
    /// More, for `help NAME`.
    pub details: &'static str,
}

/// Every command, in the order `help` lists them.
pub(crate) const COMMANDS: &[CommandDoc] = &[
    CommandDoc {
        name: "program",
        args: "NAME",
        summary: "choose the current program",
        details: "Later commands act on NAME's pup. ush keeps one connection per program, \
so `program a` / `program b` switch between pups that stay connected.",
    },
    CommandDoc {
        name: "connect",
        args: "[HOST]",
        summary: "connect to the current program's pup through HOST's pupmapper",
        details: "HOST defaults to this host (HOST may be HOST:PORT). Says whether the pup \
is new or what it holds. With ush --local and no HOST, starts the pup if none runs.",
    },
    CommandDoc {
        name: "disconnect",
        args: "",
        summary: "leave the pup; its state stays there",
        details: "The pup keeps its versions, bindings and pending updates; connect again \
at any time, even while an update is pending.",
    },
    CommandDoc {
        name: "pups",
        args: "[HOST]",
        summary: "list the pups registered at HOST's pupmapper",
        details: "",
    },
    CommandDoc {
        name: "load",
        args: "V FILE.uc | V FILE.delta FILE.o",
        summary: "compile (or take ucc build output) and load version V",
        details: "Compiles FILE.uc here (diagnostics are shown on error) or reads the \
files `ucc build` wrote, checking that they describe the same program; registers the \
procedures with the pup's name service, prints delta*, and sends and links version V.",
    },
    CommandDoc {
        name: "run",
        args: "[V]",
        summary: "start main of version V (default: the earliest version the pup still holds)",
        details: "",
    },
    CommandDoc {
        name: "update",
        args: "[CHANGES | V] [--within D] [--atomic] [--strict]",
        summary: "begin an update to the newest (or given) version",
        details: "CHANGES is a changes file (update A -> B, changed, together, within, \
atomic); V updates to version V with computed changes and no groups. Prints the paper's \
lines and, when the update completes, `*** Program NAME updated to version V successfully ***`.",
    },
    CommandDoc {
        name: "wait",
        args: "[--timeout D]",
        summary: "block until no update is pending (fails on timeout)",
        details: "Program output and update news are shown while waiting. Fails when an update \
that ended meanwhile was partial or applied nothing, whichever ush began it (unless `abort` \
alone abandoned what did not apply), so `ush -f` scripts stop there.",
    },
    CommandDoc {
        name: "abort",
        args: "",
        summary: "abandon the pending groups of all updates",
        details: "",
    },
    CommandDoc {
        name: "history",
        args: "[--json]",
        summary: "the pup's journal: loads, updates, reverts, runs and stops, newest last",
        details: "Read from the pup's durable journal (STATE_DIR/journal.db, SQLite; \
docs/JOURNAL.md has its schema), so it covers earlier pups of the same program too. \
--json prints one JSON array for scripts.",
    },
    CommandDoc {
        name: "revert",
        args: "[V] [--changes F.uc | --lossy] [--within D]",
        summary: "update back to version V (default: the version before the last update)",
        details: "An update like any other (activeness, groups, --within, abort): version V's \
code is loaded again from the journal as the next version and the program updated to it \
(--atomic too, as for update); \
statics are carried back by name. If an update since V ran a hand-written mproc, give the \
reverse one (--changes FILE.uc: version V's program with an mproc for the way back) or \
--lossy (ush says which values start afresh). Refused, changing nothing, with nothing to \
revert, for a version never loaded, or while an update is pending.",
    },
    CommandDoc {
        name: "status",
        args: "",
        summary: "versions, HRVN, the program and pending updates",
        details: "",
    },
    CommandDoc {
        name: "versions",
        args: "",
        summary: "loaded versions and their version-space slots",
        details: "",
    },
    CommandDoc {
        name: "procs",
        args: "[NAME...]",
        summary: "procedures with their committed version and bindings per table",
        details: "With names, only those procedures.",
    },
    CommandDoc {
        name: "stack",
        args: "",
        summary: "the program's runtime stack, decoded",
        details: "",
    },
    CommandDoc {
        name: "delta",
        args: "[V] [at ROW COL | NAME]",
        summary: "the delta* matrix of version V (default: the newest), a corner at a time",
        details: "Shows the first 16 rows and columns; `at ROW COL` shows the 16 x 16 block \
from that row and column (procedure-ID order), NAME lists the procedures NAME reaches.",
    },
    CommandDoc {
        name: "graph",
        args: "[V] [--dot FILE | --svg FILE]",
        summary: "the call graph with procedure states, as Graphviz",
        details: "Prints DOT, writes it to FILE with --dot, or renders SVG with Graphviz's \
`dot -Tsvg` (which must be installed) with --svg.",
    },
    CommandDoc {
        name: "addr",
        args: "ADDRESS",
        summary: "decode a large address (hexadecimal)",
        details: "Shows version, segment type, procedure and displacement, e.g. \
`0x7f2a…40 = v2:proc:do_pizza+0x40`.",
    },
    CommandDoc {
        name: "output",
        args: "on|off",
        summary: "stream the program's output to this terminal",
        details: "",
    },
    CommandDoc {
        name: "expect",
        args: "PATTERN [--timeout D]",
        summary: "wait until the program's output contains PATTERN (for scripts)",
        details: "PATTERN is a plain substring of the output streamed since the last \
`expect` matched (needs `output on`). The timeout defaults to 60s.",
    },
    CommandDoc {
        name: "test-update",
        args: "OLD NEW [CHANGES] --records RE",
        summary: "try an update at its update points, under virtual time",
        details: "Options: --for D, --points N, --allow-pending. OLD and NEW are UC \
source files, RE a regular expression. Needs no pup or connection: runs in a private test pup, under virtual time (sleep_ms passes at once): \
OLD and NEW alone for twice --for (default 60s), then OLD once per update point (a safepoint \
in the first half of --for; at most --points, default 1000, spread evenly) with the update \
begun there by the normal algorithm. Output is cut into records at lines matching RE; every \
record of an updated run but the last must appear byte for byte in the OLD or the NEW run. A \
trap, or an update still pending at the end (only reported with --allow-pending), fails the \
point. Prints each failing point (its stack, when groups committed, the first offending record \
next to the nearest records of both runs) and `test-update: N update points tested (M distinct \
states): K failed`; fails when K > 0.",
    },
    CommandDoc {
        name: "observe",
        args: "[--port N]",
        summary: "serve a live web page of the programs this ush is connected to",
        details: "Serves http://127.0.0.1:N/ (default port 7780; loopback only) in the \
background for as long as this ush runs, and returns at once: the versions and their slots, \
the call graph coloured by each procedure's committed version with the stack outlined and \
pending groups with what they wait for, a timeline of loads, updates (with their pauses) and \
reverts, and the program's output. The page updates itself (server-sent events); of a \
program with more than 300 procedures it draws the changed ones, what is on the stack or \
pending, and their callers, and finds others with its search box.",
    },
    CommandDoc {
        name: "stop",
        args: "",
        summary: "end the running program (the pup stays)",
        details: "",
    },
    CommandDoc {
        name: "debug",
        args: "on|off",
        summary: "show the pup's debug trace (pup: ... lines)",
        details: "With ush --local, pups started after `debug on` also print the trace \
to their own log.",
    },
    CommandDoc {
        name: "source",
        args: "FILE",
        summary: "run the commands in FILE",
        details: "Relative paths inside FILE resolve against FILE's directory.",
    },
    CommandDoc {
        name: "sleep",
        args: "D",
        summary: "pause for D (250ms, 2s, 1m), showing output meanwhile",
        details: "",
    },
    CommandDoc {
        name: "set",
        args: "errexit|echo on|off",
        summary: "script options",
        details: "errexit (default on): a script stops at its first failing command. \
echo (default on for ush -f): show each script command after the prompt.",
    },
    CommandDoc {
        name: "fleet",
        args: "[PUP... | --file FILE]",
        summary: "set the current fleet (NAME@HOST[:PORT], NAME: this host), or list it",
        details: "A fleet is the same program in many pups on many hosts (SPEC 5.5). Entries \
are NAME@HOST[:PORT] (HOST's pupmapper) or NAME alone for this host; in a file, one or more \
per line, `#` starts a comment. With ush --local, entries on this host start their private \
pups as `connect` does. `fleet` alone lists every pup with its state.",
    },
    CommandDoc {
        name: "rollout",
        args: "load|run|stop|status|update ...",
        summary: "load, run, stop, inspect or update every pup of the fleet",
        details: "rollout load V FILE.uc|FILE.delta FILE.o | run [V] | stop | status | update V|CHANGES [OPTIONS]. \
load, run and stop do what the single-pup commands do, on every pup in \
parallel (at most 32 at once); load compiles once. status re-reads every pup and prints the \
table. update V|CHANGES [--strategy all | rolling N | rolling N% | canary N] [--soak D] \
[--health REGEX [--health-within D]] [--max-failures K] [--within D] [--strict]: rolling updates batches \
of N, the next once each pup of the batch is done; canary updates N pups, waits --soak D of \
healthy running, then the rest in batches of N. A pup is done when its update completes and, \
with --health, its program prints a line matching REGEX within --health-within (default 10s) \
after it; it fails on a partial update, nothing applied, no health line, a trap, or an \
unreachable pup. A pup that fails only its health gate has applied the update and stays on \
the new version (its row says so); nothing moves it back. --strict makes each pup refuse an \
update that would reset a static or global whose type changed. More than K failures (default 0) halt the rollout: nothing further is \
touched and pending updates in flight are aborted. --within D bounds each pup's update. Ends \
with a table and `rollout: N pups: D updated, F failed, W not touched`; fails unless every \
pup was updated.",
    },
    CommandDoc {
        name: "help",
        args: "[CMD]",
        summary: "list the commands, or explain one",
        details: "",
    },
    CommandDoc {
        name: "quit",
        args: "",
        summary: "leave ush (also: exit)",
        details: "Disconnects from every pup; with --local, stops the pups and the \
pupmapper it started.",
    },
];

/// Words accepted as commands that are not listed separately.
pub(crate) const ALIASES: &[(&str, &str)] = &[("exit", "quit"), ("?", "help")];

/// The documentation of `name` (or of the command it is an alias of).
pub(crate) fn find(name: &str) -> Option<&'static CommandDoc> {
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map(|(_, t)| *t)
        .unwrap_or(name);
    COMMANDS.iter().find(|c| c.name == name)
}

/// `NAME ARGS`, for usage errors.
pub(crate) fn usage(name: &str) -> String {
    match find(name) {
        Some(c) if c.args.is_empty() => c.name.to_string(),
        Some(c) => format!("{} {}", c.name, c.args),
        None => name.to_string(),
    }
}

/// All command words, aliases included, sorted (for completion).
pub(crate) fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = COMMANDS
        .iter()
        .map(|c| c.name)
        .chain(ALIASES.iter().map(|(a, _)| *a).filter(|a| *a != "?"))
        .collect();
    v.sort_unstable();
    v
}

/// The `help` text: one line per command, or the details of one.
pub(crate) fn help(topic: Option<&str>) -> Result<String, String> {
    match topic {
        None => {
            let width = COMMANDS
                .iter()
                .map(|c| usage(c.name).len())
                .max()
                .unwrap_or(0);
            let mut s = String::from("Commands (help CMD for more):\n");
            for c in COMMANDS {
                s.push_str(&format!("  {:width$}  {}\n", usage(c.name), c.summary));
            }
            s.push_str("Durations are written 250ms, 2s, 1m. `#` starts a comment; `;` separates commands.\n");
            Ok(s)
        }
        Some(t) => {
            let c = find(t).ok_or_else(|| format!("help: no command `{t}` (try `help`)"))?;
            let mut s = format!("usage: {}\n  {}\n", usage(c.name), c.summary);
            if !c.details.is_empty() {
                s.push_str(&wrap(c.details, 76, "  "));
            }
            Ok(s)
        }
    }
}

/// Wraps text at word boundaries, each line indented.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + w.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The closest command to a mistyped word, if one is close enough.
pub(crate) fn suggest(word: &str) -> Option<&'static str> {
    names()
        .into_iter()
        .map(|n| (edit_distance(word, n), n))
        .filter(|(d, n)| *d <= 2 && *d < n.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance (the words are a few letters long).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parsed_command_is_documented() {
        // A minimal valid invocation of each command the parser knows.
        let samples = [
            "program x",
            "connect",
            "disconnect",
            "pups",
            "load 1 a.uc",
            "run",
            "update",
            "wait",
            "abort",
            "status",
            "history",
            "revert",
            "versions",
            "procs",
            "stack",
            "delta",
            "graph",
            "addr 0",
            "output on",
            "expect x",
            "test-update a.uc b.uc --records x",
            "observe --port 1",
            "stop",
            "debug on",
            "source f",
            "sleep 1s",
            "set errexit on",
            "help",
            "quit",
            "exit",
            "fleet a b@h:1",
            "rollout status",
        ];
        for s in samples {
            let word = s.split_whitespace().next().unwrap();
            assert!(crate::parse::parse(s).unwrap().is_some(), "{s}");
            assert!(find(word).is_some(), "{word} has no help entry");
        }
        for c in COMMANDS {
            assert!(
                samples.iter().any(|s| s.starts_with(c.name)),
                "{} untested",
                c.name
            );
        }
    }

    #[test]
    fn help_lists_and_explains() {
        let all = help(None).unwrap();
        assert!(all.contains(
            "  update [CHANGES | V] [--within D] [--atomic] [--strict]  begin an update"
        ));
        assert!(all.lines().count() > COMMANDS.len());
        let one = help(Some("exit")).unwrap();
        assert!(one.starts_with("usage: quit\n"), "{one}");
        assert!(
            help(Some("frob"))
                .unwrap_err()
                .contains("no command `frob`")
        );
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(suggest("conect"), Some("connect"));
        assert_eq!(suggest("stauts"), Some("status"));
        assert_eq!(suggest("xyzzy"), None);
        assert!(names().contains(&"exit"));
    }
}
