//! blastsim's generic action-log schema: one JSON object per line, one line per action,
//! that any agent's log can be converted to.
//!
//! | field | type | required | meaning |
//! |---|---|---|---|
//! | `tool` | string | yes | tool or action kind (`Bash`, `Edit`, `kubectl`, `api:DeleteBucket`) |
//! | `time` | integer ms since the epoch, or RFC 3339 string | no | when; order alone without it |
//! | `agent` | string | no | the agent (per-agent breakers key on it); default `session`, else `unknown` |
//! | `session` | string | no | session id; default `agent` |
//! | `command` | string | no | shell command or request line |
//! | `path` | string | no | file path |
//! | `url` | string | no | URL |
//! | `target` | string | no | any other target (a resource, a table, a bucket) |
//! | `cwd` | string | no | working directory, for relative paths |
//! | `class` | string | no | `read_only`, `code`, `config`, `infra` or `destructive`: overrides the rules |
//! | `service` | string | no | topology service name: overrides the service rules |
//! | `outcome` | string | no | `ok`, `error` or `unknown` (default) |
//! | `size` | integer | no | lines changed |
//!
//! Unknown fields are refused (a typo must not be silently dropped).

use serde::Deserialize;

use crate::audit::log::{Action, Outcome, Parsed, Stamp};
use crate::model::config::ActionClass;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    tool: String,
    time: Option<Stamp>,
    agent: Option<String>,
    session: Option<String>,
    command: Option<String>,
    path: Option<String>,
    url: Option<String>,
    target: Option<String>,
    cwd: Option<String>,
    class: Option<String>,
    service: Option<String>,
    outcome: Option<String>,
    size: Option<u32>,
}

/// Parses one line; `Err((reason, detail))` for a malformed one.
pub(crate) fn parse_line(
    line: &[u8],
    file: u32,
    number: u64,
) -> Result<Parsed, (&'static str, String)> {
    let l: Line = serde_json::from_slice(line).map_err(|e| {
        let reason = if e.is_data() {
            "wrong type"
        } else {
            "not JSON"
        };
        (reason, e.to_string())
    })?;
    let class = match l.class.as_deref() {
        None => None,
        Some(c) => Some(ActionClass::from_name(c).ok_or_else(|| {
            (
                "unknown value",
                format!(
                    "class {c:?} is not one of {}",
                    ActionClass::ALL.map(ActionClass::name).join(", ")
                ),
            )
        })?),
    };
    let outcome = match l.outcome.as_deref() {
        None => Outcome::Unknown,
        Some(o) => Outcome::parse(o).ok_or_else(|| {
            (
                "unknown value",
                format!(
                    "outcome {o:?} is not one of {}",
                    Outcome::ALL.map(Outcome::name).join(", ")
                ),
            )
        })?,
    };
    let agent = l
        .agent
        .clone()
        .or(l.session.clone())
        .unwrap_or_else(|| "unknown".to_string());
    let session = l.session.unwrap_or_else(|| agent.clone());
    Ok(Parsed::Action(Action {
        seq: 0,
        file,
        line: number,
        time_ms: l.time.map_or(0, |s| s.0),
        timed: l.time.is_some(),
        agent,
        session,
        tool: l.tool,
        command: l.command,
        path: l.path,
        url: l.url,
        target: l.target,
        cwd: l.cwd,
        class,
        service: l.service,
        outcome,
        size: l.size.unwrap_or(0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_line_and_a_minimal_line_parse() {
        let Parsed::Action(a) = parse_line(
            br#"{"time":"2026-01-05T10:00:00Z","agent":"bot-1","tool":"kubectl","command":"kubectl delete ns shop","class":"destructive","service":"orders","outcome":"error"}"#,
            0,
            3,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.class, Some(ActionClass::Destructive));
        assert_eq!(a.outcome, Outcome::Error);
        assert_eq!((a.agent.as_str(), a.session.as_str()), ("bot-1", "bot-1"));
        let Parsed::Action(a) = parse_line(br#"{"tool":"Read"}"#, 0, 1).unwrap() else {
            panic!()
        };
        assert!(!a.timed);
        assert_eq!(a.agent, "unknown");
    }

    #[test]
    fn typos_wrong_types_and_unknown_values_are_refused() {
        assert_eq!(
            parse_line(br#"{"tool":"Bash","comand":"ls"}"#, 0, 1)
                .unwrap_err()
                .0,
            "wrong type"
        );
        assert_eq!(
            parse_line(br#"{"tool":5}"#, 0, 1).unwrap_err().0,
            "wrong type"
        );
        let e = parse_line(br#"{"tool":"x","class":"nuke"}"#, 0, 1).unwrap_err();
        assert!(e.1.contains("destructive"), "{}", e.1);
        assert_eq!(
            parse_line(br#"{"tool":"x","outcome":"meh"}"#, 0, 1)
                .unwrap_err()
                .0,
            "unknown value"
        );
    }
}
