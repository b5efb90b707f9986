//! CSV edge-list importer: `caller,callee[,kind[,calls]]`, one dependency per line.
//!
//! `kind` is `hard` (default when empty or absent) or `soft`; `calls` is an optional
//! non-negative call volume used like Jaeger's `callCount` for the entry-traffic rule.
//! A first line `caller,callee,...` is a header and skipped; `#` starts a comment line.
//! Services are declared by use (so there is no "unknown service" error here); a
//! self-loop, a duplicate edge, an unknown kind or a negative call count is an error
//! located at file:line:column. Parsing uses the `csv` crate.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{LINE_BYTES_MAX, RawEdge, RawGraph, TopologyError};
use crate::model::graph::EdgeKind;

const EXPECTED: &str = "expected caller,callee[,kind[,calls]]";

/// Parses a CSV edge list in one pass, linear in its size.
///
/// A line without a double quote is split on commas directly (the common case, and the
/// fast one); only a line with quotes goes through the `csv` crate. Each line is one
/// record: the csv crate's positions skip blank and comment lines, and an edge list has no
/// use for fields spanning lines. Until the first edge is read, nothing of the file's
/// content is put in an error message: a file that is not an edge list at all (the wrong
/// path, `/etc/shadow`) is named, not quoted.
pub(super) fn parse(path: &str, text: &str) -> Result<RawGraph, TopologyError> {
    let err = |line: usize, column: usize, message: String| TopologyError {
        file: path.to_string(),
        line,
        column,
        message,
    };
    let mut raw = RawGraph::default();
    // Names borrowed from `text` (unquoted lines), so interning allocates once per new
    // name, not per use.
    let mut ids: BTreeMap<Cow<'_, str>, u32> = BTreeMap::new();
    let mut seen: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    let mut any_calls = false;
    let mut first_record = true;
    let mut fields: Vec<Cow<'_, str>> = Vec::new();
    for (index, line_text) in text.lines().enumerate() {
        let line = index + 1;
        if line_text.len() > LINE_BYTES_MAX {
            return Err(err(
                line,
                1,
                format!(
                    "line {line} is {} bytes long, over the limit LINE_BYTES_MAX = \
                     {LINE_BYTES_MAX}; {EXPECTED}",
                    line_text.len()
                ),
            ));
        }
        let trimmed = line_text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // Before the first edge, a bad line means the file may not be an edge list at
        // all: say where and why, but quote nothing from it.
        let shaped = !raw.edges.is_empty();
        let not_shaped = |why: &str| {
            err(
                line,
                1,
                format!("this does not look like a CSV edge list: line {line} {why}; {EXPECTED}"),
            )
        };
        fields.clear();
        if line_text.contains('"') {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(line_text.as_bytes());
            match reader.records().next() {
                Some(Ok(record)) => {
                    fields.extend(record.iter().map(|f| Cow::Owned(f.trim().to_string())));
                }
                Some(Err(e)) if shaped => {
                    return Err(err(
                        line,
                        1,
                        format!("{}; {EXPECTED}", e.to_string().to_lowercase()),
                    ));
                }
                Some(Err(_)) => return Err(not_shaped("is not a CSV record")),
                None => continue,
            }
        } else {
            fields.extend(line_text.split(',').map(|f| Cow::Borrowed(f.trim())));
        }
        let header_candidate = std::mem::replace(&mut first_record, false);
        let col = |field: usize| field_column(line_text, field);
        let field = |i: usize| fields.get(i).map_or("", |f| f.as_ref());
        if header_candidate
            && field(0).eq_ignore_ascii_case("caller")
            && field(1).eq_ignore_ascii_case("callee")
        {
            continue;
        }
        if !(2..=4).contains(&fields.len()) {
            if !shaped {
                return Err(not_shaped(&format!(
                    "has {} fields, not 2 to 4",
                    fields.len()
                )));
            }
            return Err(err(
                line,
                1,
                format!("found {} fields; {EXPECTED}", fields.len()),
            ));
        }
        for i in 0..2 {
            if field(i).is_empty() {
                return Err(err(line, col(i), format!("empty service name; {EXPECTED}")));
            }
        }
        let kind = match field(2) {
            "" => EdgeKind::Hard,
            k if k.eq_ignore_ascii_case("hard") => EdgeKind::Hard,
            k if k.eq_ignore_ascii_case("soft") => EdgeKind::Soft,
            _ if !shaped => return Err(not_shaped("has a third field that is not an edge kind")),
            other => {
                return Err(err(
                    line,
                    col(2),
                    format!(
                        "unknown edge kind `{}`; expected hard or soft",
                        other.to_ascii_lowercase()
                    ),
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
                _ if !shaped => {
                    return Err(not_shaped("has a fourth field that is not a call count"));
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
        let from = intern(&mut ids, &mut raw, fields[0].clone());
        let to = intern(&mut ids, &mut raw, fields[1].clone());
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

/// The id of service `name`, adding it when new.
fn intern<'t>(
    ids: &mut BTreeMap<Cow<'t, str>, u32>,
    raw: &mut RawGraph,
    name: Cow<'t, str>,
) -> u32 {
    if let Some(&id) = ids.get(name.as_ref()) {
        return id;
    }
    let id = raw.add(name.to_string());
    ids.insert(name, id);
    id
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
