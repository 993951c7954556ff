//! `rollout`'s arguments: the subcommands, and `update`'s strategy, soak,
//! health gate and bounds.

use super::*;

/// `2s`, `250ms`, `1.5s`, `2m 5s`.
pub(crate) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{:.1}s", d.as_secs_f64())
        }
    } else {
        format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

fn count(s: &str, what: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| format!("rollout update: {what} `{s}` is not a number"))
}

/// Parses `rollout`'s arguments.
pub(crate) fn parse(words: &[String]) -> Result<RolloutCmd, String> {
    let usage = || format!("usage: {}", crate::commands::usage("rollout"));
    let (sub, rest) = words.split_first().ok_or_else(usage)?;
    let plain = |n: usize| -> Result<Vec<String>, String> {
        let a = crate::parse::split_args("rollout", rest, &[], &[])?;
        a.at_most("rollout", n)?;
        Ok(a.positional)
    };
    Ok(match sub.as_str() {
        "load" => {
            let p = plain(3)?;
            let Some((v, files)) = p.split_first().filter(|(_, f)| !f.is_empty()) else {
                return Err(
                    "usage: rollout load V FILE.uc | rollout load V FILE.delta FILE.o".into(),
                );
            };
            let version = version(v)?;
            if version == 0 {
                return Err("rollout load: versions are numbered from 1".into());
            }
            RolloutCmd::Load {
                version,
                source: crate::parse::load_source("rollout load", v, files)?,
            }
        }
        "run" => RolloutCmd::Run(plain(1)?.first().map(|v| version(v)).transpose()?),
        "stop" => {
            plain(0)?;
            RolloutCmd::Stop
        }
        "status" => {
            plain(0)?;
            RolloutCmd::Status
        }
        "update" => RolloutCmd::Update(parse_update(rest)?),
        other => {
            return Err(format!(
                "rollout: unknown subcommand `{other}` (load, run, stop, status, update)"
            ));
        }
    })
}

fn parse_update(words: &[String]) -> Result<UpdateOpts, String> {
    // `--strategy rolling 4` takes two words: take them out first.
    let mut rest = Vec::new();
    let mut strategy = Strategy::All;
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let value = match w.strip_prefix("--strategy") {
            Some("") => it
                .next()
                .cloned()
                .ok_or("rollout update: --strategy needs a value")?,
            Some(v) if v.starts_with('=') => v[1..].to_string(),
            _ => {
                rest.push(w.clone());
                continue;
            }
        };
        let mut parts: Vec<String> = value.split_whitespace().map(String::from).collect();
        if matches!(parts.as_slice(), [k] if k == "rolling" || k == "canary") {
            parts.push(
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("rollout update: --strategy {value} needs N"))?,
            );
        }
        strategy = match parts
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["all"] => Strategy::All,
            ["rolling", n] => match n.strip_suffix('%') {
                Some(p) => {
                    let p = count(p, "percentage")?;
                    if !(1..=100).contains(&p) {
                        return Err("rollout update: rolling N% needs 1 to 100".into());
                    }
                    Strategy::Rolling(BatchSize::Percent(p as u32))
                }
                None => Strategy::Rolling(BatchSize::Count(count(n, "batch size")?)),
            },
            ["canary", n] => Strategy::Canary(count(n, "canary count")?),
            _ => {
                return Err(format!(
                    "rollout update: unknown strategy `{value}` (all, rolling N, rolling N%, canary N)"
                ));
            }
        };
        if matches!(
            strategy,
            Strategy::Rolling(BatchSize::Count(0)) | Strategy::Canary(0)
        ) {
            return Err("rollout update: a batch holds at least 1 pup".into());
        }
    }
    let a = crate::parse::split_args(
        "rollout",
        &rest,
        &["soak", "health", "health-within", "max-failures", "within"],
        &["strict"],
    )?;
    let [t] = a.positional.as_slice() else {
        return Err(
            "usage: rollout update V|CHANGES [--strategy all | rolling N | rolling N% | canary N] \
             [--soak D] [--health REGEX [--health-within D]] [--max-failures K] [--within D] [--strict]"
                .into(),
        );
    };
    let target = match t.parse::<u64>() {
        Ok(v) => UpdateTarget::Version(v),
        Err(_) => UpdateTarget::Changes(t.clone()),
    };
    let health = a.opt("health").map(str::to_string);
    if let Some(h) = &health {
        Regex::new(h).map_err(|e| format!("rollout update: --health {h:?}: {e}"))?;
    }
    if a.has("health-within") && health.is_none() {
        return Err("rollout update: --health-within needs --health REGEX".into());
    }
    let soak = a.opt("soak").map(duration).transpose()?;
    if soak.is_some() && !matches!(strategy, Strategy::Canary(_)) {
        return Err("rollout update: --soak goes with --strategy canary N".into());
    }
    Ok(UpdateOpts {
        target,
        strategy,
        soak,
        health,
        health_within: a
            .opt("health-within")
            .map(duration)
            .transpose()?
            .unwrap_or(HEALTH_WITHIN),
        max_failures: a
            .opt("max-failures")
            .map(|k| count(k, "--max-failures"))
            .transpose()?
            .unwrap_or(0),
        within: a.opt("within").map(duration).transpose()?,
        strict: a.has("strict"),
    })
}
