//! Jaeger dependencies JSON importer: `[{"parent": "a", "child": "b", "callCount": 12}]`,
//! or the same array under `{"data": [...]}` as the Jaeger query API returns it.
//!
//! Every edge is hard (Jaeger does not say which calls a caller survives without). Traffic
//! weights: entry services (never a child) are weighted by the calls they make, i.e. the
//! traffic they receive from outside the traced system; see `topology` for the rule.
//! A self-call (parent = child) is an internal span, not a dependency, and is skipped.
//! Parsed with `serde_json`, whose errors carry line and column; a duplicate pair is
//! located at its array element.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{RawEdge, RawGraph, TopologyError, line_col};
use crate::model::graph::EdgeKind;

const EXPECTED: &str =
    r#"expected a JSON array of {"parent": string, "child": string, "callCount": integer ≥ 0}"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    parent: String,
    child: String,
    #[serde(rename = "callCount")]
    call_count: u64,
    /// Present in newer Jaeger versions; ignored.
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    data: Vec<Link>,
    #[serde(default)]
    #[allow(dead_code)]
    total: Option<serde_json::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    limit: Option<serde_json::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    offset: Option<serde_json::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    errors: Option<serde_json::Value>,
}

/// Parses Jaeger dependencies JSON.
pub(super) fn parse(path: &str, text: &str) -> Result<RawGraph, TopologyError> {
    let err = |line: usize, column: usize, message: String| TopologyError {
        file: path.to_string(),
        line,
        column,
        message,
    };
    let wrapped = text.trim_start().starts_with('{');
    let parsed = if wrapped {
        serde_json::from_str::<Wrapped>(text).map(|w| w.data)
    } else {
        serde_json::from_str::<Vec<Link>>(text)
    };
    let links = parsed.map_err(|e| {
        let line = e.line().max(1);
        let message = e.to_string();
        // serde_json appends " at line L column C"; the location is in the prefix already.
        let message = match message.rfind(" at line ") {
            Some(i) => &message[..i],
            None => &message[..],
        };
        err(line, e.column().max(1), format!("{message}; {EXPECTED}"))
    })?;
    let starts = element_starts(text, wrapped);
    let mut raw = RawGraph::default();
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut seen: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for (i, link) in links.iter().enumerate() {
        let (line, column) = line_col(text, starts.get(i).copied().unwrap_or(0));
        if link.parent.is_empty() || link.child.is_empty() {
            return Err(err(line, column, format!("empty service name; {EXPECTED}")));
        }
        if link.parent == link.child {
            continue;
        }
        let mut id = |name: &str| {
            *ids.entry(name.to_string())
                .or_insert_with(|| raw.add(name.to_string()))
        };
        let (from, to) = (id(&link.parent), id(&link.child));
        if let Some(first) = seen.insert((from, to), line) {
            return Err(err(
                line,
                column,
                format!(
                    "duplicate edge {} -> {} (first on line {first}); expected each pair once",
                    link.parent, link.child
                ),
            ));
        }
        raw.base_weight[from as usize] += link.call_count as f64;
        raw.edges.push(RawEdge {
            from,
            to,
            kind: Some(EdgeKind::Hard),
            fallback: None,
        });
    }
    if raw.names.is_empty() {
        let (line, column) = line_col(text, text.len() - text.trim_start().len());
        return Err(err(
            line,
            column,
            format!("no dependencies found; {EXPECTED}"),
        ));
    }
    Ok(raw)
}

/// Byte offsets of the `{` opening each element of the dependency array (the top-level
/// array, or the array at depth 1 when wrapped in `{"data": [...]}`). Only called on text
/// serde_json has already accepted, so strings and nesting are well formed.
fn element_starts(text: &str, wrapped: bool) -> Vec<usize> {
    let element_depth = if wrapped { 2 } else { 1 };
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => {
                if c == '{' && depth == element_depth {
                    out.push(i);
                }
                depth += 1;
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}
