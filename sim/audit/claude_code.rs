//! Claude Code hook events as JSONL: one hook input object per line, as a `PreToolUse` /
//! `PostToolUse` hook that appends its stdin to a file writes them.
//!
//! Fields read (Claude Code's hook input; anything else is ignored): `hook_event_name`,
//! `session_id`, `cwd`, `tool_name`, `tool_input`, `tool_response`, `tool_use_id`, plus a
//! time the logger may add as `timestamp` (or `ts` / `time`: epoch milliseconds or RFC
//! 3339) and an `agent` / `agent_id` naming the agent (default: the session id).
//!
//! A tool call is its `PreToolUse` (the decision point); its `PostToolUse` (or
//! `PostToolUseFailure`) gives the outcome. They are joined by `tool_use_id`; without one,
//! a Post is joined to the oldest unanswered Pre of the same session and tool. A Pre
//! whose Post has not come within the pair window (log time) or while too many calls wait
//! is handed on with an unknown outcome; a Post with no Pre becomes an action of its own.
//! Other hook events (`SessionStart`, `Stop`, `UserPromptSubmit`, ...) are counted and
//! skipped.
//!
//! Outcome of a Post: an error when `tool_response` is an object with `is_error` /
//! `isError` true, `success` false, `interrupted` true, a non-zero `exit_code` /
//! `exitCode` / `returncode`, or a non-null `error`; otherwise success.
//!
//! Fields read from `tool_input`: `command` (Bash), `file_path` (Read, Edit, Write,
//! MultiEdit), `notebook_path` (NotebookEdit, NotebookRead), `path` (Glob, Grep, LS),
//! `url` (WebFetch), `query` (WebSearch), `subagent_type` (Task, Agent); the size of a
//! write is the line count of `content` / `new_string` / `new_source`. Those tools must
//! carry their field as a string (a wrong type is a malformed line); other tools (MCP
//! servers' and unknown ones) are taken as they come.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::audit::log::{Action, Outcome, Parsed, Stamp, excerpt};

/// A field of `tool_input` that should be a string.
#[derive(Debug, Default)]
enum Field {
    /// Absent.
    #[default]
    Absent,
    /// A string.
    Str(String),
    /// Present with another type.
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(Field::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Field, E> {
                Ok(Field::Str(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Field, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Field, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl Field {
    fn take(self) -> Option<String> {
        match self {
            Field::Str(s) => Some(s),
            Field::Absent | Field::Other => None,
        }
    }
    fn is_other(&self) -> bool {
        matches!(self, Field::Other)
    }
}

/// The line count of a string field (0 for any other value), without keeping the text.
#[derive(Debug, Default)]
struct Lines(u32);

impl<'de> Deserialize<'de> for Lines {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Lines, D::Error> {
        match Field::deserialize(d)? {
            Field::Str(s) if s.is_empty() => Ok(Lines(0)),
            Field::Str(s) => Ok(Lines(
                u32::try_from(memchr::memchr_iter(b'\n', s.as_bytes()).count() + 1)
                    .unwrap_or(u32::MAX),
            )),
            Field::Absent | Field::Other => Ok(Lines(0)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ToolInput {
    command: Field,
    file_path: Field,
    notebook_path: Field,
    path: Field,
    url: Field,
    query: Field,
    subagent_type: Field,
    content: Lines,
    new_string: Lines,
    new_source: Lines,
}

/// Whether a `tool_response` says the call failed.
#[derive(Debug, Default)]
struct Failed(bool);

impl<'de> Deserialize<'de> for Failed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Failed, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Failed;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Failed, A::Error> {
                let mut failed = false;
                while let Some(key) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    let v: serde_json::Value = match key.as_ref() {
                        "is_error" | "isError" | "success" | "interrupted" | "exit_code"
                        | "exitCode" | "returncode" | "error" => m.next_value()?,
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    failed |= match key.as_ref() {
                        "is_error" | "isError" | "interrupted" => v.as_bool() == Some(true),
                        "success" => v.as_bool() == Some(false),
                        "exit_code" | "exitCode" | "returncode" => {
                            v.as_i64().is_some_and(|c| c != 0)
                        }
                        _ => !v.is_null() && v != serde_json::Value::Bool(false),
                    };
                }
                Ok(Failed(failed))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Failed, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Failed(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<Failed, E> {
                Ok(Failed(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Failed, E> {
                Ok(Failed(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Failed, E> {
                Ok(Failed(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Failed, E> {
                Ok(Failed(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Failed, E> {
                Ok(Failed(false))
            }
            fn visit_unit<E>(self) -> Result<Failed, E> {
                Ok(Failed(false))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
struct Hook {
    hook_event_name: String,
    session_id: Option<String>,
    cwd: Option<String>,
    tool_name: Option<String>,
    tool_use_id: Option<String>,
    tool_input: Option<ToolInput>,
    tool_response: Option<Failed>,
    #[serde(alias = "ts", alias = "time")]
    timestamp: Option<Stamp>,
    agent: Option<String>,
    agent_id: Option<String>,
}

/// The hook events that are tool calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ToolEvent {
    Pre,
    Post,
    PostFailure,
}

impl ToolEvent {
    fn parse(name: &str) -> Option<ToolEvent> {
        match name {
            "PreToolUse" => Some(ToolEvent::Pre),
            "PostToolUse" => Some(ToolEvent::Post),
            "PostToolUseFailure" => Some(ToolEvent::PostFailure),
            _ => None,
        }
    }
}

/// The `tool_input` field a built-in tool must carry as a string, if any.
fn required_field(tool: &str) -> Option<&'static str> {
    match tool {
        "Bash" => Some("command"),
        "Read" | "Edit" | "Write" | "MultiEdit" => Some("file_path"),
        "NotebookEdit" | "NotebookRead" => Some("notebook_path"),
        "WebFetch" => Some("url"),
        _ => None,
    }
}

/// Parses one line; `Err((reason, detail))` for a malformed one.
pub(crate) fn parse_line(
    line: &[u8],
    file: u32,
    number: u64,
) -> Result<Parsed, (&'static str, String)> {
    let hook: Hook = serde_json::from_slice(line).map_err(|e| {
        let reason = if e.is_data() {
            "wrong type"
        } else {
            "not JSON"
        };
        (reason, e.to_string())
    })?;
    let Some(event) = ToolEvent::parse(&hook.hook_event_name) else {
        return Ok(Parsed::Ignored(hook.hook_event_name));
    };
    let Some(tool) = hook.tool_name else {
        return Err((
            "missing field",
            format!("{} without `tool_name`", hook.hook_event_name),
        ));
    };
    let input = hook.tool_input.unwrap_or_default();
    if let Some(field) = required_field(&tool) {
        let f = match field {
            "command" => &input.command,
            "file_path" => &input.file_path,
            "notebook_path" => &input.notebook_path,
            _ => &input.url,
        };
        if f.is_other() {
            return Err((
                "wrong type",
                format!("{tool} call whose tool_input.{field} is not a string"),
            ));
        }
        if matches!(f, Field::Absent) && event == ToolEvent::Pre {
            return Err((
                "missing field",
                format!("{tool} call without tool_input.{field}"),
            ));
        }
    }
    let size = input
        .content
        .0
        .max(input.new_string.0)
        .max(input.new_source.0);
    let session = hook.session_id.unwrap_or_default();
    let agent = hook
        .agent
        .or(hook.agent_id)
        .unwrap_or_else(|| session.clone());
    let outcome = match event {
        ToolEvent::Pre => Outcome::Unknown,
        ToolEvent::PostFailure => Outcome::Error,
        ToolEvent::Post => match hook.tool_response {
            Some(Failed(true)) => Outcome::Error,
            Some(Failed(false)) | None => Outcome::Ok,
        },
    };
    let path = input
        .file_path
        .take()
        .or(input.notebook_path.take())
        .or(input.path.take());
    let target = input.query.take().or(input.subagent_type.take());
    let action = Action {
        seq: 0,
        file,
        line: number,
        time_ms: hook.timestamp.map_or(0, |s| s.0),
        timed: hook.timestamp.is_some(),
        agent,
        session,
        tool,
        command: input.command.take(),
        path,
        url: input.url.take(),
        target,
        cwd: hook.cwd,
        class: None,
        service: None,
        outcome,
        size,
    };
    let id = hook.tool_use_id;
    Ok(match event {
        ToolEvent::Pre => Parsed::Pre { action, id },
        ToolEvent::Post | ToolEvent::PostFailure => Parsed::Post { action, id },
    })
}

/// One call waiting in the pairer.
struct Slot {
    action: Action,
    id: Option<String>,
    resolved: bool,
}

/// Joins PreToolUse and PostToolUse events, handing calls on in Pre order.
pub(crate) struct Pairer {
    window_ms: u64,
    max_pending: usize,
    queue: VecDeque<Slot>,
    /// Absolute index of `queue[0]`.
    base: u64,
    by_id: BTreeMap<String, u64>,
    /// Unanswered Pres without an id, per (session, tool), oldest first.
    fifo: BTreeMap<(String, String), VecDeque<u64>>,
}

impl Pairer {
    pub(crate) fn new(window_ms: u64, max_pending: usize) -> Pairer {
        Pairer {
            window_ms,
            max_pending: max_pending.max(1),
            queue: VecDeque::new(),
            base: 0,
            by_id: BTreeMap::new(),
            fifo: BTreeMap::new(),
        }
    }

    /// A PreToolUse.
    pub(crate) fn pre(&mut self, action: Action, id: Option<String>) {
        let abs = self.base + self.queue.len() as u64;
        match &id {
            Some(id) => {
                self.by_id.insert(id.clone(), abs);
            }
            None => self
                .fifo
                .entry((action.session.clone(), action.tool.clone()))
                .or_default()
                .push_back(abs),
        }
        self.queue.push_back(Slot {
            action,
            id,
            resolved: false,
        });
    }

    /// A PostToolUse: completes its Pre, or comes back as an orphan.
    pub(crate) fn post(&mut self, post: Action, id: Option<String>) -> Option<Action> {
        let abs = match &id {
            Some(id) => self.by_id.remove(id),
            None => {
                let key = (post.session.clone(), post.tool.clone());
                let q = self.fifo.get_mut(&key);
                let found = q.and_then(|q| {
                    while q.front().is_some_and(|&i| i < self.base) {
                        q.pop_front();
                    }
                    q.pop_front()
                });
                if self.fifo.get(&key).is_some_and(VecDeque::is_empty) {
                    self.fifo.remove(&key);
                }
                found
            }
        };
        match abs {
            Some(abs) if abs >= self.base => {
                let slot = &mut self.queue[(abs - self.base) as usize];
                slot.action.outcome = post.outcome;
                slot.action.size = slot.action.size.max(post.size);
                slot.resolved = true;
                None
            }
            _ => Some(post),
        }
    }

    /// An action complete on its own (an orphan Post).
    pub(crate) fn push_resolved(&mut self, action: Action) {
        self.queue.push_back(Slot {
            action,
            id: None,
            resolved: true,
        });
    }

    fn pop(&mut self) -> (Action, bool) {
        let slot = self.queue.pop_front().expect("queue is not empty");
        let abs = self.base;
        self.base += 1;
        if !slot.resolved {
            match &slot.id {
                Some(id) => {
                    if self.by_id.get(id) == Some(&abs) {
                        self.by_id.remove(id);
                    }
                }
                None => {
                    let key = (slot.action.session.clone(), slot.action.tool.clone());
                    if let Some(q) = self.fifo.get_mut(&key) {
                        while q.front().is_some_and(|&i| i <= abs) {
                            q.pop_front();
                        }
                        if q.is_empty() {
                            self.fifo.remove(&key);
                        }
                    }
                }
            }
        }
        (slot.action, !slot.resolved)
    }

    /// Calls that can be handed on at log time `now`: answered ones at the front, and
    /// unanswered ones past the window or over the limit. `bool` = unanswered.
    pub(crate) fn ready(&mut self, now: u64) -> Vec<(Action, bool)> {
        let mut out = Vec::new();
        while let Some(front) = self.queue.front() {
            let expired = now.saturating_sub(front.action.time_ms) > self.window_ms
                || self.queue.len() > self.max_pending;
            if front.resolved || expired {
                out.push(self.pop());
            } else {
                break;
            }
        }
        out
    }

    /// Everything left, at end of file.
    pub(crate) fn flush(&mut self) -> Vec<(Action, bool)> {
        let mut out = Vec::new();
        while !self.queue.is_empty() {
            out.push(self.pop());
        }
        out
    }
}

/// A short description of an action for examples: `tool: subject`.
pub fn describe(a: &Action) -> String {
    let subject = a.subject();
    if subject.is_empty() {
        a.tool.clone()
    } else {
        format!("{}: {}", a.tool, excerpt(subject, 120))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Parsed, (&'static str, String)> {
        parse_line(s.as_bytes(), 0, 1)
    }

    #[test]
    fn pre_and_post_parse_with_outcomes() {
        let p = parse(
            r#"{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf build","description":"x"},"tool_use_id":"t1","timestamp":"2026-01-05T10:00:00Z","transcript_path":"/x"}"#,
        )
        .unwrap();
        let Parsed::Pre { action, id } = p else {
            panic!("not a pre")
        };
        assert_eq!(id.as_deref(), Some("t1"));
        assert_eq!(action.command.as_deref(), Some("rm -rf build"));
        assert_eq!(action.agent, "s1");
        assert!(action.timed);
        let p = parse(
            r#"{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"false"},"tool_response":{"stdout":"","exit_code":1}}"#,
        )
        .unwrap();
        let Parsed::Post { action, .. } = p else {
            panic!("not a post")
        };
        assert_eq!(action.outcome, Outcome::Error);
        let p = parse(
            r#"{"hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{"file_path":"/a"},"tool_response":"text"}"#,
        )
        .unwrap();
        let Parsed::Post { action, .. } = p else {
            panic!("not a post")
        };
        assert_eq!(action.outcome, Outcome::Ok);
    }

    #[test]
    fn wrong_types_and_missing_fields_are_malformed() {
        let e = parse(
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":42}}"#,
        )
        .unwrap_err();
        assert_eq!(e.0, "wrong type");
        let e = parse(r#"{"hook_event_name":7}"#).unwrap_err();
        assert_eq!(e.0, "wrong type");
        let e = parse(r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{}}"#)
            .unwrap_err();
        assert_eq!(e.0, "missing field");
        let e = parse(r#"{"hook_event_name":"PreToolUse""#).unwrap_err();
        assert_eq!(e.0, "not JSON");
        // An MCP tool may carry anything.
        assert!(
            parse(r#"{"hook_event_name":"PreToolUse","tool_name":"mcp__db__query","tool_input":{"command":[1,2]}}"#)
                .is_ok()
        );
        assert!(matches!(
            parse(r#"{"hook_event_name":"Stop","session_id":"s"}"#),
            Ok(Parsed::Ignored(e)) if e == "Stop"
        ));
    }

    fn act(session: &str, tool: &str, t: u64) -> Action {
        let Parsed::Pre { mut action, .. } = parse(&format!(
            r#"{{"session_id":"{session}","hook_event_name":"PreToolUse","tool_name":"{tool}","tool_input":{{"file_path":"/x","command":"c","url":"u"}}}}"#
        ))
        .unwrap() else {
            panic!()
        };
        action.time_ms = t;
        action
    }

    #[test]
    fn pairer_joins_by_id_then_by_session_and_tool_and_keeps_pre_order() {
        let mut p = Pairer::new(1000, 100);
        p.pre(act("s", "Bash", 0), Some("a".into()));
        p.pre(act("s", "Read", 1), None);
        p.pre(act("s", "Read", 2), None);
        // The second Pre is answered first: nothing leaves until the first is answered.
        let mut post = act("s", "Read", 3);
        post.outcome = Outcome::Error;
        assert!(p.post(post, None).is_none());
        assert!(p.ready(3).is_empty());
        let mut post = act("s", "Bash", 4);
        post.outcome = Outcome::Ok;
        assert!(p.post(post, Some("a".into())).is_none());
        let out = p.ready(4);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].0.time_ms, out[0].0.outcome), (0, Outcome::Ok));
        assert_eq!((out[1].0.time_ms, out[1].0.outcome), (1, Outcome::Error));
        // The third waits until the window passes, then leaves unanswered.
        assert!(p.ready(1002).is_empty());
        let out = p.ready(1003);
        assert_eq!(out.len(), 1);
        assert!(out[0].1);
        // A Post for an id never seen is an orphan.
        assert!(p.post(act("s", "Bash", 5), Some("zz".into())).is_some());
    }
}
