//! `[sensitivity]`: the range of each assumption the recommendation is tested against, and
//! the rule that ties an `ASSUMPTION` / `NOT FOUND` comment to the value it annotates.
//!
//! ```toml
//! [sensitivity]
//! "authors.ops-agents.escalation.probability" = { low = 0.01, high = 0.2 }
//! "infrastructure.rebuild.lognormal.median" = { low = "4h", high = "24h", label = "time to rebuild a deleted environment" }
//! ```
//!
//! Keys are dotted paths exactly as in `[sweep]` (resolved by `sweep`'s own functions);
//! `low` and `high` are typed like the value written at the path (whole numbers, numbers or
//! durations), and the written value must lie between them. A path that is swept, unknown
//! or not written in the file is refused, located at the key; a bad value is refused
//! located at the value, with the message the same value would get if it were written in
//! place. An arm that sets the same path keeps its own value.
//!
//! The comment rule (`notes`): a block of `#` lines directly above a key line (no blank
//! line between) annotates the key that line starts with, and a comment at the end of a
//! key line annotates that key; a block directly above a table header annotates the whole
//! table. A value marked `ASSUMPTION` or `NOT FOUND` needs a `[sensitivity]` entry at its
//! path or below it (`unranged` lists the ones without), unless its comment says
//! `(no range: <reason>)`.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::engine::SimDuration;
use crate::scenario::document::Env;
use crate::scenario::error::{Ctx, Loc, R};
use crate::scenario::limits;
use crate::scenario::sweep::{self, Entries, Override, display_value, get_path};
use crate::scenario::{Axis, Scenario, ScenarioError, Settings};

/// `{ low, high, label }` as written.
#[derive(Clone, Debug)]
pub struct RawRange {
    /// The low end (number or duration string).
    pub low: Loc<toml::Value>,
    /// The high end.
    pub high: Loc<toml::Value>,
    /// A plain-language name for charts and tables (default: the path).
    pub label: Option<String>,
}

/// `{ low, high, label }`, for the schema (the visitor reads the keys by hand).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RangeSchema {
    /// The low end: a number or a duration string, typed like the value at the path.
    low: serde_json::Value,
    /// The high end.
    high: serde_json::Value,
    /// A plain-language name for the report (default: the path).
    label: Option<String>,
}

impl<'de> Deserialize<'de> for RawRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRange;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a range { low = ..., high = ... }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRange, A::Error> {
                // By hand rather than deny_unknown_fields, so that an unquoted dotted path
                // (which TOML turns into nested tables) gets a useful hint.
                let (mut low, mut high, mut label) = (None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "low" => low = Some(map.next_value::<Loc<toml::Value>>()?),
                        "high" => high = Some(map.next_value::<Loc<toml::Value>>()?),
                        "label" => label = Some(map.next_value::<String>()?),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown field `{other}` in a sensitivity range, expected `low`, `high` or `label`; \
                                 if this is part of a dotted path, quote the whole path: \"a.b.c\" = {{ low = ..., high = ... }}"
                            )));
                        }
                    }
                }
                match (low, high) {
                    (Some(low), Some(high)) => Ok(RawRange { low, high, label }),
                    _ => Err(de::Error::custom(
                        "a sensitivity range needs both `low` and `high`",
                    )),
                }
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for RawRange {
    fn schema_name() -> Cow<'static, str> {
        "SensitivityRange".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        RangeSchema::json_schema(generator)
    }
}

/// One validated range.
#[derive(Clone, Debug, PartialEq)]
pub struct SensitivityEntry {
    /// The dotted path.
    pub path: String,
    /// Plain-language name (the `label`, else the path).
    pub label: String,
    /// The value written in the file.
    pub base: toml::Value,
    /// The low end, typed like `base`.
    pub low: toml::Value,
    /// The high end, typed like `base`.
    pub high: toml::Value,
    /// Where the value comes from, from its comment: "ASSUMPTION", "NOT FOUND",
    /// "docs/calibration.md §2.1", or "as written" when the comment says neither.
    pub source: String,
}

/// How a varied value is typed: the type of the value written at the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// A TOML integer.
    Whole,
    /// A TOML float (integers are accepted and written as floats).
    Real,
    /// A duration string.
    Duration,
}

impl Scale {
    /// The scale of a written value, if it can be varied.
    pub fn of(v: &toml::Value) -> Option<Scale> {
        match v {
            toml::Value::Integer(_) => Some(Scale::Whole),
            toml::Value::Float(_) => Some(Scale::Real),
            toml::Value::String(s) if SimDuration::parse(s).is_ok() => Some(Scale::Duration),
            _ => None,
        }
    }

    /// `v` as a position on this scale (durations in milliseconds), or why not.
    pub fn position(self, v: &toml::Value) -> Result<f64, &'static str> {
        match (self, v) {
            (Scale::Whole, toml::Value::Integer(i)) => Ok(*i as f64),
            (Scale::Whole, _) => Err("a whole number, like the value at the path"),
            (Scale::Real, toml::Value::Integer(i)) => Ok(*i as f64),
            (Scale::Real, toml::Value::Float(f)) if f.is_finite() => Ok(*f),
            (Scale::Real, _) => Err("a number, like the value at the path"),
            (Scale::Duration, toml::Value::String(s)) => SimDuration::parse(s)
                .map(|d| d.as_ms() as f64)
                .map_err(|_| "a duration such as \"30m\", like the value at the path"),
            (Scale::Duration, _) => {
                Err("a duration string such as \"30m\", like the value at the path")
            }
        }
    }

    /// The value at `position` on this scale (rounded to whole numbers or milliseconds).
    pub fn value(self, position: f64) -> toml::Value {
        match self {
            Scale::Whole => toml::Value::Integer(position.round() as i64),
            // Rounded to 12 decimals, as sweep ranges are, so midpoints print short.
            Scale::Real => toml::Value::Float((position * 1e12).round() / 1e12),
            Scale::Duration => {
                toml::Value::String(SimDuration::from_ms_f64(position.round()).to_string())
            }
        }
    }
}

/// Validates `[sensitivity]` against the document `doc` (as written) and the sweep axes.
pub(crate) fn entries(
    cx: Ctx<'_>,
    raw: Option<&Loc<Entries<RawRange>>>,
    doc: &toml::Table,
    axes: &[Axis],
    env: &mut Env<'_>,
) -> R<Vec<SensitivityEntry>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let list = &raw.get().0;
    if list.len() > limits::SENSITIVITY_ENTRIES_MAX {
        return Err(cx.err_at_loc(
            raw,
            format!(
                "[sensitivity] has {} entries, over {}: each costs at least two more run sets; \
                 keep the assumptions that matter most",
                list.len(),
                limits::named("SENSITIVITY_ENTRIES_MAX", limits::SENSITIVITY_ENTRIES_MAX)
            ),
        ));
    }
    let notes = notes(cx.text);
    let mut out: Vec<SensitivityEntry> = Vec::new();
    for (key, range) in list {
        let path = key.get();
        let r = range.get();
        if out.iter().any(|e| &e.path == path) {
            return Err(cx.err_at_loc(key, format!("`{path}` has two ranges")));
        }
        sweep::check_path(cx, key, &r.low, doc)?;
        if axes.iter().any(|a| &a.path == path) {
            return Err(cx.err_at_loc(
                key,
                format!(
                    "`{path}` is swept in [sweep]: every point sets it, so a range here would \
                     change nothing; remove one of the two"
                ),
            ));
        }
        let Some(base) = get_path(doc, path) else {
            return Err(cx.err_at_loc(
                key,
                format!(
                    "`{path}` is not written in the scenario (its default applies): write the \
                     value there, so the range has a value to vary around"
                ),
            ));
        };
        let Some(scale) = Scale::of(base) else {
            return Err(cx.err_at_loc(
                key,
                format!(
                    "`{path}` cannot be varied over a range: its value {} is not a number or \
                     a duration",
                    display_value(base)
                ),
            ));
        };
        let at = |v: &Loc<toml::Value>| -> R<(toml::Value, f64)> {
            let p = scale
                .position(v.get())
                .map_err(|why| cx.err_at_loc(v, format!("expected {why}")))?;
            // An integer written for a float path is kept as the float it means.
            let value = match (scale, v.get()) {
                (Scale::Real, toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
                (_, other) => other.clone(),
            };
            Ok((value, p))
        };
        let (low, lo) = at(&r.low)?;
        let (high, hi) = at(&r.high)?;
        let b = scale
            .position(base)
            .expect("the scale was read from this value");
        if lo > hi {
            return Err(cx.err_at_loc(
                &r.low,
                format!(
                    "low ({}) is above high ({})",
                    display_value(&low),
                    display_value(&high)
                ),
            ));
        }
        if lo == hi {
            return Err(cx.err_at_loc(
                range,
                "low and high are the same: give a range to vary over",
            ));
        }
        if b < lo || b > hi {
            return Err(cx.err_at_loc(
                range,
                format!(
                    "the range {}..{} does not contain the value written at `{path}` ({}); \
                     the analysis varies each value on both sides of what the file says",
                    display_value(&low),
                    display_value(&high),
                    display_value(base)
                ),
            ));
        }
        // Each end gets every check a written value gets, located at the end.
        for (value, loc) in [(&low, &r.low), (&high, &r.high)] {
            let o = Override {
                path: path.clone(),
                value: value.clone(),
                value_span: loc.span(),
                origin: "[sensitivity]".to_string(),
            };
            super::revalidate(cx, doc, std::slice::from_ref(&o), env)?;
        }
        out.push(SensitivityEntry {
            path: path.clone(),
            label: r.label.clone().unwrap_or_else(|| path.clone()),
            base: match (scale, base) {
                (Scale::Real, toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
                (_, v) => v.clone(),
            },
            low,
            high,
            source: source_of(&notes, path),
        });
    }
    Ok(out)
}

impl Scenario {
    /// This scenario with `value` at `path` (one `[sensitivity]` variation): validated
    /// again from `source` with the same seed, replications and horizon, every arm and
    /// sweep point rebuilt. Arms that set `path` themselves keep their value.
    pub fn varied(&self, path: &str, value: toml::Value) -> Result<Scenario, ScenarioError> {
        let mut doc = self.document();
        // The ranges are not needed for one variation (and would be checked again).
        doc.remove("sensitivity");
        sweep::set_path(&mut doc, path, value).map_err(|m| {
            ScenarioError::Invalid(crate::scenario::Located::at(&self.path, "", 0..0, m))
        })?;
        let text = toml::to_string(&doc).map_err(|e| ScenarioError::Read {
            path: self.path.clone(),
            message: format!("cannot write the document back as toml: {e}"),
        })?;
        let settings = Settings {
            seed: Some(self.seed),
            replications: Some(self.replications),
            horizon: Some(self.horizon),
        };
        super::parse_with(
            &text,
            &self.path,
            super::from_files(self.referenced_files.clone()),
            settings,
        )
    }
}

// ---------------------------------------------------------------------------------------
// Comments and what they annotate

/// The two markers of a value without a published source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// The modeller's assumption.
    Assumption,
    /// Searched for and not found in the literature.
    NotFound,
}

impl Marker {
    /// Every marker.
    pub const ALL: [Marker; 2] = [Marker::Assumption, Marker::NotFound];

    /// The word as written in comments.
    pub fn name(self) -> &'static str {
        match self {
            Marker::Assumption => "ASSUMPTION",
            Marker::NotFound => "NOT FOUND",
        }
    }
}

/// One comment (a block of `#` lines, or the end of a key line) and what it annotates.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// 1-based line of the comment's first line.
    pub line: usize,
    /// The annotated path (a key or a table); `None` when the comment is followed by a
    /// blank line or the end of the file.
    pub path: Option<String>,
    /// The comment text, `#` removed, lines joined with spaces.
    pub text: String,
}

fn re(pattern: &'static str, cell: &'static OnceLock<regex::Regex>) -> &'static regex::Regex {
    cell.get_or_init(|| regex::Regex::new(pattern).expect("a valid pattern"))
}

impl Note {
    /// The first marker the comment contains, if any (`ASSUMPTIONS` counts).
    pub fn marker(&self) -> Option<Marker> {
        Marker::ALL
            .into_iter()
            .find(|m| self.text.contains(m.name()))
    }

    /// The reason of a `(no range: reason)` opt-out.
    pub fn opt_out(&self) -> Option<&str> {
        static R: OnceLock<regex::Regex> = OnceLock::new();
        re(r"\(no range: ([^)]+)\)", &R)
            .captures(&self.text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().trim())
    }

    /// The `range: LOW..HIGH` the comment proposes, as written.
    pub fn range(&self) -> Option<(String, String)> {
        static R: OnceLock<regex::Regex> = OnceLock::new();
        let c = re(
            r"range:\s*([0-9A-Za-z.+\-]+?)\.\.([0-9A-Za-z.+\-]*[0-9A-Za-z])",
            &R,
        )
        .captures(&self.text)?;
        Some((c[1].to_string(), c[2].to_string()))
    }

    /// The `§x.y` sections the comment cites, in order, each once.
    pub fn sections(&self) -> Vec<String> {
        static R: OnceLock<regex::Regex> = OnceLock::new();
        let mut out: Vec<String> = Vec::new();
        for m in re(r"§\s?[0-9]+(\.[0-9]+)?", &R).find_iter(&self.text) {
            let s = m.as_str().replace(' ', "");
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

/// Where `path`'s value comes from, from the comment nearest to it (on it or on a table
/// above it): its marker, else the sections it cites, else "as written".
fn source_of(notes: &[Note], path: &str) -> String {
    let covering = |n: &&Note| n.path.as_deref().is_some_and(|p| covers(p, path));
    // The most specific comment first: the longest annotated path.
    let mut near: Vec<&Note> = notes.iter().filter(covering).collect();
    near.sort_by_key(|n| std::cmp::Reverse(n.path.as_ref().map_or(0, String::len)));
    for n in &near {
        if let Some(m) = n.marker() {
            return m.name().to_string();
        }
        let s = n.sections();
        if !s.is_empty() {
            return format!("docs/calibration.md {}", s.join(", "));
        }
    }
    "as written".to_string()
}

/// Whether annotated path `annotated` covers `path`: equal, or a table above it.
pub fn covers(annotated: &str, path: &str) -> bool {
    path == annotated
        || path
            .strip_prefix(annotated)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Where each key of the document starts (byte offset), by dotted path: tables by key,
/// arrays of tables by element `name` (or index), as `[sweep]` paths address them.
fn key_starts(text: &str) -> Vec<(String, usize)> {
    use toml::de::{DeTable, DeValue};
    fn walk(prefix: &str, t: &DeTable<'_>, out: &mut Vec<(String, usize)>) {
        for (k, v) in t.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            out.push((path.clone(), k.span().start));
            value(&path, v.get_ref(), out);
        }
    }
    fn value(path: &str, v: &DeValue<'_>, out: &mut Vec<(String, usize)>) {
        match v {
            DeValue::Table(t) => walk(path, t, out),
            DeValue::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    if let DeValue::Table(t) = e.get_ref() {
                        let name = t
                            .iter()
                            .find(|(k, _)| k.get_ref() == "name")
                            .and_then(|(_, v)| match v.get_ref() {
                                DeValue::String(s) => Some(s.to_string()),
                                _ => None,
                            })
                            .unwrap_or_else(|| i.to_string());
                        walk(&format!("{path}.{name}"), t, out);
                    }
                }
            }
            DeValue::String(_)
            | DeValue::Integer(_)
            | DeValue::Float(_)
            | DeValue::Boolean(_)
            | DeValue::Datetime(_) => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(doc) = DeTable::parse(text) {
        walk("", doc.get_ref(), &mut out);
    }
    out
}

/// Where `line` has a comment outside strings: the byte index of its `#`.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return Some(i),
            None => {}
        }
    }
    None
}

/// Every comment of scenario `text` and the path it annotates (see the module docs).
/// Empty when the text is not valid TOML.
pub fn notes(text: &str) -> Vec<Note> {
    let keys = key_starts(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut starts = Vec::with_capacity(lines.len());
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        starts.push(at);
        at += l.len();
    }
    // The shortest path of a key starting on line `i` (0-based), or the table a header
    // on that line opens.
    let annotated = |i: usize| -> Option<String> {
        let (from, to) = (starts[i], starts[i] + lines[i].len());
        let header = lines[i].trim_start().starts_with('[');
        let on_line = keys
            .iter()
            .filter(|(_, s)| (from..to).contains(s))
            .min_by_key(|(p, _)| p.split('.').count())
            .map(|(p, _)| p.clone());
        if !header {
            return on_line;
        }
        // A header: `[a.b]` opens `a.b`; `[[a]]` opens the element whose first key comes
        // next, so its path is that key's minus the key.
        let inner = lines[i]
            .trim()
            .trim_start_matches('[')
            .split(']')
            .next()
            .unwrap_or("")
            .trim()
            .replace([' ', '"'], "");
        if lines[i].trim_start().starts_with("[[") {
            keys.iter()
                .filter(|(p, s)| *s >= to && p.starts_with(&format!("{inner}.")))
                .min_by_key(|(_, s)| *s)
                .and_then(|(p, _)| {
                    let depth = inner.split('.').count() + 1;
                    let segs: Vec<&str> = p.split('.').collect();
                    (segs.len() >= depth).then(|| segs[..depth].join("."))
                })
        } else {
            Some(inner)
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        if trimmed.starts_with('#') {
            let first = i;
            let mut text = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with('#') {
                text.push(lines[i].trim_start().trim_start_matches('#').trim());
                i += 1;
            }
            let path = (i < lines.len() && !lines[i].trim().is_empty())
                .then(|| annotated(i))
                .flatten();
            out.push(Note {
                line: first + 1,
                path,
                text: text.join(" "),
            });
            continue;
        }
        if let Some(c) = comment_start(lines[i]) {
            out.push(Note {
                line: i + 1,
                path: annotated(i),
                text: lines[i][c..].trim_start_matches('#').trim().to_string(),
            });
        }
        i += 1;
    }
    out
}

/// A marked value without a range.
#[derive(Clone, Debug, PartialEq)]
pub struct Unranged {
    /// 1-based line of its comment.
    pub line: usize,
    /// The annotated path, `None` when the comment annotates no key.
    pub path: Option<String>,
    /// Its marker.
    pub marker: Marker,
    /// The `range: LOW..HIGH` its comment proposes, if any.
    pub proposed: Option<(String, String)>,
}

impl fmt::Display for Unranged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.marker.name();
        match &self.path {
            None => write!(
                f,
                "line {}: a {m} comment annotates no key: put it directly above the key it \
                 describes (no blank line between)",
                self.line
            ),
            Some(p) => {
                write!(
                    f,
                    "line {}: `{p}` is marked {m} but [sensitivity] has no range at `{p}` or \
                     below it; add \"{p}\" = {{ low = ..., high = ... }}",
                    self.line
                )?;
                if let Some((lo, hi)) = &self.proposed {
                    write!(f, " (its comment proposes range: {lo}..{hi})")?;
                }
                write!(f, ", or say `(no range: <reason>)` in the comment")
            }
        }
    }
}

/// Every `ASSUMPTION` / `NOT FOUND` value of scenario `text` that has no range among the
/// `[sensitivity]` paths `ranged` and no `(no range: ...)` opt-out.
pub fn unranged(text: &str, ranged: &[&str]) -> Vec<Unranged> {
    notes(text)
        .into_iter()
        .filter_map(|n| {
            let marker = n.marker()?;
            if n.opt_out().is_some() {
                return None;
            }
            let covered = n
                .path
                .as_deref()
                .is_some_and(|p| ranged.iter().any(|r| covers(p, r)));
            (!covered).then(|| Unranged {
                line: n.line,
                path: n.path.clone(),
                marker,
                proposed: n.range(),
            })
        })
        .collect()
}
