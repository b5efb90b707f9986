//! CSV edge-list importer: `caller,callee[,kind[,calls]]`, one dependency per line.
//!
//! `kind` is `hard` (default when empty or absent) or `soft`; `calls` is an optional
//! non-negative call volume used like Jaeger's `callCount` for the entry-traffic rule.
//! A first line `caller,callee,...` is a header and skipped; `#` starts a comment line.
//! Services are declared by use (so there is no "unknown service" error here); a
//! self-loop, a duplicate edge, an unknown kind or a negative call count is an error
//! located at file:line:column. Parsing uses the `csv` crate.

use std::collections::BTreeMap;

use super::{RawEdge, RawGraph, TopologyError};
use crate::model::graph::EdgeKind;

const EXPECTED: &str = "expected caller,callee[,kind[,calls]]";

/// Parses a CSV edge list.
pub(super) fn parse(path: &str, text: &str) -> Result<RawGraph, TopologyError> {
    let lines: Vec<&str> = text.lines().collect();
    let err = |line: usize, column: usize, message: String| TopologyError {
        file: path.to_string(),
        line,
        column,
        message,
    };
    // Each line is one record, parsed on its own: the csv crate's positions skip blank
    // and comment lines, and an edge list has no use for fields spanning lines.
    let mut raw = RawGraph::default();
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut seen: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    let mut any_calls = false;
    let mut first_record = true;
    for (index, line_text) in lines.iter().enumerate() {
        let line = index + 1;
        let trimmed = line_text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line_text.as_bytes());
        let record = match reader.records().next() {
            Some(Ok(record)) => record,
            Some(Err(e)) => {
                return Err(err(
                    line,
                    1,
                    format!("{}; {EXPECTED}", e.to_string().to_lowercase()),
                ));
            }
            None => continue,
        };
        let header_candidate = std::mem::replace(&mut first_record, false);
        let line_text = lines.get(line - 1).copied().unwrap_or("");
        let col = |field: usize| field_column(line_text, field);
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        if header_candidate
            && field(0).eq_ignore_ascii_case("caller")
            && field(1).eq_ignore_ascii_case("callee")
        {
            continue;
        }
        if !(2..=4).contains(&record.len()) {
            return Err(err(
                line,
                1,
                format!("found {} fields; {EXPECTED}", record.len()),
            ));
        }
        for i in 0..2 {
            if field(i).is_empty() {
                return Err(err(line, col(i), format!("empty service name; {EXPECTED}")));
            }
        }
        let kind = match field(2).to_ascii_lowercase().as_str() {
            "" | "hard" => EdgeKind::Hard,
            "soft" => EdgeKind::Soft,
            other => {
                return Err(err(
                    line,
                    col(2),
                    format!("unknown edge kind `{other}`; expected hard or soft"),
                ));
            }
        };
        let calls = match field(3) {
            "" => 0.0,
            text => match text.parse::<f64>() {
                Ok(c) if c.is_finite() && c >= 0.0 => {
                    any_calls = true;
                    c
                }
                Ok(c) if c < 0.0 => {
                    return Err(err(
                        line,
                        col(3),
                        format!("negative call count {text}; expected a number ≥ 0"),
                    ));
                }
                _ => {
                    return Err(err(
                        line,
                        col(3),
                        format!("call count `{text}` is not a number; expected a number ≥ 0"),
                    ));
                }
            },
        };
        let (caller, callee) = (field(0), field(1));
        if caller == callee {
            return Err(err(
                line,
                col(1),
                format!("service `{caller}` depends on itself; self-loops are not allowed"),
            ));
        }
        let mut id = |name: &str| {
            *ids.entry(name.to_string())
                .or_insert_with(|| raw.add(name.to_string()))
        };
        let (from, to) = (id(caller), id(callee));
        if let Some(first) = seen.insert((from, to), line) {
            return Err(err(
                line,
                col(0),
                format!("duplicate edge {caller} -> {callee} (first on line {first})"),
            ));
        }
        raw.base_weight[from as usize] += calls;
        raw.edges.push(RawEdge {
            from,
            to,
            kind: Some(kind),
            fallback: None,
        });
    }
    if raw.names.is_empty() {
        return Err(err(1, 1, format!("no edges found; {EXPECTED}")));
    }
    if !any_calls {
        raw.base_weight.fill(1.0);
    }
    Ok(raw)
}

/// 1-based column where field `field` starts on `line` (after leading spaces), counting
/// commas outside double quotes.
fn field_column(line: &str, field: usize) -> usize {
    let mut current = 0;
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in line.char_indices() {
        if current == field {
            start = i;
            break;
        }
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                current += 1;
                start = i + 1;
            }
            _ => {}
        }
    }
    if current < field {
        start = line.len();
    }
    let leading = line[start..].len() - line[start..].trim_start().len();
    line[..start + leading].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::field_column;

    #[test]
    fn columns_count_fields() {
        assert_eq!(field_column("a,b,soft", 0), 1);
        assert_eq!(field_column("a,b,soft", 2), 5);
        assert_eq!(field_column("\"x,y\", b", 1), 8);
    }
}
