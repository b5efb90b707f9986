//! Sweep axes and arm overrides: dotted paths into the scenario document, their values,
//! and the grid of points they span.
//!
//! A path addresses tables by key and arrays by element `name` (or index):
//! `authors.agents.count`, `reviewers.senior.count`,
//! `policies.risk-tiered.rules.2.require.sample`, `breakers.blast_guard.max_predicted_users`.
//! Paths are checked against the base document before anything runs; an unknown one is an
//! error that suggests the nearest valid paths. The grid is the cartesian product of the
//! axes in file order, the first axis varying slowest.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::OnceLock;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::engine::SimDuration;
use crate::scenario::document::RawScenario;
use crate::scenario::error::{Ctx, Loc, list_names, suggest};
use crate::scenario::values::any_of;
use crate::scenario::{Axis, Point, ScenarioError};

pub use crate::scenario::limits::{AXIS_VALUES_MAX, POINTS_MAX};

/// A sweep axis: a list of values, `{ values = [...] }` or `{ from, to, step }`.
// Parsed once per axis; boxing the range would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum RawAxis {
    /// Explicit values.
    Values(Vec<Loc<toml::Value>>),
    /// An arithmetic range, inclusive of `to` when it falls on a step.
    Range {
        /// First value (number, or duration string).
        from: Loc<toml::Value>,
        /// Last value.
        to: Loc<toml::Value>,
        /// Step (positive).
        step: Loc<toml::Value>,
    },
}

/// `{ values = [...] }`, for the schema (the visitor reads the keys by hand).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AxisValues {
    /// The values.
    values: Vec<serde_json::Value>,
}

/// `{ from, to, step }`, for the schema (the visitor reads the keys by hand).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AxisRange {
    /// First value (number, or duration string).
    from: serde_json::Value,
    /// Last value.
    to: serde_json::Value,
    /// Step (positive).
    step: serde_json::Value,
}

impl<'de> Deserialize<'de> for RawAxis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawAxis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of values, { values = [...] } or { from, to, step }")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawAxis, A::Error> {
                Vec::<Loc<toml::Value>>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(RawAxis::Values)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawAxis, A::Error> {
                // Read by hand rather than with deny_unknown_fields so that an unquoted
                // dotted path (which TOML turns into nested tables) gets a useful hint.
                let (mut values, mut from, mut to, mut step) = (None, None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "values" => values = Some(map.next_value::<Vec<Loc<toml::Value>>>()?),
                        "from" => from = Some(map.next_value::<Loc<toml::Value>>()?),
                        "to" => to = Some(map.next_value::<Loc<toml::Value>>()?),
                        "step" => step = Some(map.next_value::<Loc<toml::Value>>()?),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown field `{other}` in a sweep axis, expected `values`, `from`, `to` or `step`; \
                                 if this is part of a dotted path, quote the whole path: \"a.b.c\" = [...]"
                            )));
                        }
                    }
                }
                match (values, from, to, step) {
                    (Some(v), None, None, None) => Ok(RawAxis::Values(v)),
                    (None, Some(from), Some(to), Some(step)) => {
                        Ok(RawAxis::Range { from, to, step })
                    }
                    _ => Err(de::Error::custom(
                        "expected either `values = [...]` or all of `from`, `to` and `step`",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawAxis {
    fn schema_name() -> Cow<'static, str> {
        "SweepAxis".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        any_of(vec![
            generator.subschema_for::<Vec<serde_json::Value>>(),
            generator.subschema_for::<AxisValues>(),
            generator.subschema_for::<AxisRange>(),
        ])
    }
}

/// A TOML table read as an ordered list of located entries (file order).
#[derive(Clone, Debug)]
pub struct Entries<V>(pub Vec<(Loc<String>, Loc<V>)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of \"dotted.path\" = value entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<Loc<String>>()? {
                    let v = map.next_value::<Loc<V>>()?;
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for Entries<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Entries_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        std::collections::BTreeMap::<String, V>::json_schema(generator)
    }
}

/// Top-level keys that describe the experiment rather than the organisation; sweeping
/// them would make points incomparable.
const NOT_SWEEPABLE: [&str; 11] = [
    "name",
    "question",
    "seed",
    "replications",
    "baseline",
    "arms",
    "sweep",
    "sensitivity",
    "objectives",
    "sources",
    "chaos",
];

/// One value set at one path, remembered with where it was written.
#[derive(Clone, Debug)]
pub(crate) struct Override {
    pub(crate) path: String,
    pub(crate) value: toml::Value,
    pub(crate) value_span: Range<usize>,
    /// "sweep" or "arm `name`", for messages.
    pub(crate) origin: String,
}

impl Override {
    /// "sweep `path` = value" / "arm `x` sets `path` = value".
    pub(crate) fn describe(&self) -> String {
        let v = display_value(&self.value);
        if self.origin == "sweep" {
            format!("sweep `{}` = {v}", self.path)
        } else {
            format!("{} sets `{}` = {v}", self.origin, self.path)
        }
    }
}

/// The expanded sweep.
pub(crate) struct Grid {
    pub(crate) axes: Vec<Axis>,
    pub(crate) points: Vec<Point>,
    /// The overrides of each point, in axis order.
    pub(crate) overrides: Vec<Vec<Override>>,
}

/// How a value is shown in labels and messages: strings bare, everything else as TOML.
pub fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Expands `[sweep]` into axes and points, checking every path against `doc`.
pub(crate) fn grid(
    cx: Ctx<'_>,
    sweep: Option<&Loc<Entries<RawAxis>>>,
    doc: &toml::Table,
) -> Result<Grid, ScenarioError> {
    let mut axes: Vec<(Axis, Vec<Override>)> = Vec::new();
    if let Some(s) = sweep {
        for (key, axis) in &s.get().0 {
            if axes.iter().any(|(a, _)| &a.path == key.get()) {
                return Err(cx.err_at_loc(key, format!("`{}` is swept twice", key.get())));
            }
            let values = match axis.get() {
                RawAxis::Values(v) => v.clone(),
                RawAxis::Range { from, to, step } => range(cx, from, to, step, axis.span())?,
            };
            if values.is_empty() {
                return Err(
                    cx.err_at_loc(axis, format!("sweep axis `{}` has no values", key.get()))
                );
            }
            check_path(cx, key, &values[0], doc)?;
            let overrides: Vec<Override> = values
                .iter()
                .map(|v| Override {
                    path: key.get().clone(),
                    value: v.get().clone(),
                    value_span: v.span(),
                    origin: "sweep".into(),
                })
                .collect();
            axes.push((
                Axis {
                    path: key.get().clone(),
                    values: values.iter().map(|v| display_value(v.get())).collect(),
                },
                overrides,
            ));
        }
    }
    let mut n: usize = 1;
    for (a, _) in &axes {
        n = n.saturating_mul(a.values.len());
    }
    if n > POINTS_MAX {
        let span = sweep.map_or(0..0, Loc::span);
        return Err(cx.err(
            span,
            format!(
                "the sweep has {n} points, over the limit POINTS_MAX = {POINTS_MAX}; use \
                 fewer values per axis or split the sweep over several scenario files"
            ),
        ));
    }
    let mut points = Vec::with_capacity(n);
    let mut overrides = Vec::with_capacity(n);
    for index in 0..n {
        // Mixed-radix digits, last axis fastest.
        let mut rest = index;
        let mut picks = vec![0; axes.len()];
        for (i, (a, _)) in axes.iter().enumerate().rev() {
            picks[i] = rest % a.values.len();
            rest /= a.values.len();
        }
        let values: Vec<String> = axes
            .iter()
            .zip(&picks)
            .map(|((a, _), &j)| a.values[j].clone())
            .collect();
        let label = if axes.is_empty() {
            "base".to_string()
        } else {
            axes.iter()
                .zip(&values)
                .map(|((a, _), v)| format!("{}={v}", a.path))
                .collect::<Vec<_>>()
                .join(", ")
        };
        overrides.push(
            axes.iter()
                .zip(&picks)
                .map(|((_, o), &j)| o[j].clone())
                .collect(),
        );
        points.push(Point {
            index,
            label,
            values,
        });
    }
    Ok(Grid {
        axes: axes.into_iter().map(|(a, _)| a).collect(),
        points,
        overrides,
    })
}

/// The overrides of one arm's `set` table, paths checked.
pub(crate) fn arm_overrides(
    cx: Ctx<'_>,
    arm: &str,
    set: Option<&Loc<Entries<toml::Value>>>,
    doc: &toml::Table,
) -> Result<Vec<Override>, ScenarioError> {
    let Some(set) = set else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Override> = Vec::new();
    for (key, value) in &set.get().0 {
        if out.iter().any(|o| &o.path == key.get()) {
            return Err(cx.err_at_loc(key, format!("`{}` is set twice", key.get())));
        }
        check_path(cx, key, value, doc)?;
        out.push(Override {
            path: key.get().clone(),
            value: value.get().clone(),
            value_span: value.span(),
            origin: format!("arm `{arm}`"),
        });
    }
    Ok(out)
}

fn range(
    cx: Ctx<'_>,
    from: &Loc<toml::Value>,
    to: &Loc<toml::Value>,
    step: &Loc<toml::Value>,
    span: Range<usize>,
) -> Result<Vec<Loc<toml::Value>>, ScenarioError> {
    use toml::Value as V;
    let at = |v: toml::Value| Loc(toml::Spanned::new(span.clone(), v));
    let count = |lo: f64, hi: f64, st: f64| -> Result<usize, ScenarioError> {
        if st.is_nan() || st <= 0.0 || !st.is_finite() {
            return Err(cx.err_at_loc(step, "the step must be greater than 0"));
        }
        if hi < lo {
            return Err(cx.err_at_loc(to, "`to` must not be below `from`"));
        }
        // The small slack keeps `to` when float steps land a hair short of it.
        let n = ((hi - lo) / st + 1e-9).floor() + 1.0;
        if n > AXIS_VALUES_MAX as f64 {
            return Err(cx.err(
                span.clone(),
                format!(
                    "the range has {n} values, over the limit AXIS_VALUES_MAX = \
                     {AXIS_VALUES_MAX}; use a larger step"
                ),
            ));
        }
        Ok(n as usize)
    };
    match (from.get(), to.get(), step.get()) {
        (V::Integer(a), V::Integer(b), V::Integer(s)) => {
            let n = count(*a as f64, *b as f64, *s as f64)?;
            (0..n as i64)
                .map(|i| {
                    i.checked_mul(*s)
                        .and_then(|d| a.checked_add(d))
                        .filter(|v| v <= b)
                        .map(|v| at(V::Integer(v)))
                        .ok_or_else(|| {
                            cx.err(span.clone(), "the range does not fit in 64-bit integers")
                        })
                })
                .collect()
        }
        (V::String(a), V::String(b), V::String(s)) => {
            let p = |v: &Loc<toml::Value>, t: &str| {
                SimDuration::parse(t).map_err(|e| cx.err_at_loc(v, e.to_string()))
            };
            let (a, b, s) = (p(from, a)?, p(to, b)?, p(step, s)?);
            let n = count(a.as_ms() as f64, b.as_ms() as f64, s.as_ms() as f64)?;
            // Saturating: float rounding of huge spans must not overflow.
            Ok((0..n as u64)
                .map(|i| {
                    let ms = a.as_ms().saturating_add(i.saturating_mul(s.as_ms()));
                    at(V::String(SimDuration(ms.min(b.as_ms())).to_string()))
                })
                .collect())
        }
        (a, b, s) => {
            let num = |v: &toml::Value, l: &Loc<toml::Value>| match v {
                V::Integer(i) => Ok(*i as f64),
                V::Float(f) => Ok(*f),
                _ => Err(cx.err_at_loc(
                    l,
                    "a range needs numbers, or duration strings for all of from, to and step",
                )),
            };
            let (a, b, s) = (num(a, from)?, num(b, to)?, num(s, step)?);
            let n = count(a, b, s)?;
            // Rounded to 12 decimals so 0.1 + 2 × 0.1 prints as 0.3, not 0.30000000000000004.
            Ok((0..n)
                .map(|i| at(V::Float(((a + i as f64 * s) * 1e12).round() / 1e12)))
                .collect())
        }
    }
}

/// Why a path could not be applied.
#[derive(Debug)]
pub(crate) enum PathError {
    /// The first `n` segments exist, the next does not.
    Missing(usize),
    /// Segment `n` is a value, not a table or array.
    NotContainer(usize),
}

fn index_in(a: &[toml::Value], seg: &str) -> Option<usize> {
    a.iter()
        .position(|e| e.get("name").and_then(toml::Value::as_str) == Some(seg))
        .or_else(|| seg.parse::<usize>().ok().filter(|i| *i < a.len()))
}

fn child_mut<'v>(v: &'v mut toml::Value, seg: &str) -> Option<&'v mut toml::Value> {
    match v {
        toml::Value::Table(t) => t.get_mut(seg),
        toml::Value::Array(a) => {
            let i = index_in(a, seg)?;
            a.get_mut(i)
        }
        _ => None,
    }
}

/// The value at dotted `path` in `doc`, resolved as `set_path` resolves it (tables by
/// key, arrays by element `name` or index); `None` when the path is not written.
pub fn get_path<'d>(doc: &'d toml::Table, path: &str) -> Option<&'d toml::Value> {
    let mut segs = path.split('.');
    let mut cur = doc.get(segs.next()?)?;
    for seg in segs {
        cur = match cur {
            toml::Value::Table(t) => t.get(seg)?,
            toml::Value::Array(a) => a.get(index_in(a, seg)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Sets `value` at dotted `path` in `doc`. Intermediate tables must exist; the last key
/// may be new (the schema check happens when the document is parsed again).
pub fn set_path(doc: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    apply(doc, path, value).map_err(|e| match e {
        PathError::Missing(n) => format!(
            "`{}` is not in the scenario",
            path.split('.').take(n + 1).collect::<Vec<_>>().join(".")
        ),
        PathError::NotContainer(n) => format!(
            "`{}` is a value, not a table",
            path.split('.').take(n + 1).collect::<Vec<_>>().join(".")
        ),
    })
}

pub(crate) fn apply(
    doc: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<(), PathError> {
    let segs: Vec<&str> = path.split('.').collect();
    let (last, parents) = segs
        .split_last()
        .expect("split yields at least one segment");
    if parents.is_empty() {
        doc.insert((*last).to_string(), value);
        return Ok(());
    }
    let mut cur = doc.get_mut(parents[0]).ok_or(PathError::Missing(0))?;
    for (i, seg) in parents.iter().enumerate().skip(1) {
        if !matches!(cur, toml::Value::Table(_) | toml::Value::Array(_)) {
            return Err(PathError::NotContainer(i - 1));
        }
        cur = child_mut(cur, seg).ok_or(PathError::Missing(i))?;
    }
    match cur {
        toml::Value::Table(t) => {
            t.insert((*last).to_string(), value);
            Ok(())
        }
        toml::Value::Array(a) => {
            let i = index_in(a, last).ok_or(PathError::Missing(parents.len()))?;
            a[i] = value;
            Ok(())
        }
        _ => Err(PathError::NotContainer(parents.len() - 1)),
    }
}

/// Every path in the document, for suggestions: tables by key, arrays of tables by
/// element name (or index when an element has none).
pub(crate) fn all_paths(doc: &toml::Table) -> Vec<String> {
    fn walk(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
        out.push(prefix.to_string());
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    walk(&format!("{prefix}.{k}"), v, out);
                }
            }
            toml::Value::Array(a) if a.iter().all(toml::Value::is_table) => {
                for (i, e) in a.iter().enumerate() {
                    let key = e
                        .get("name")
                        .and_then(toml::Value::as_str)
                        .map_or_else(|| i.to_string(), str::to_string);
                    walk(&format!("{prefix}.{key}"), e, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in doc {
        if !NOT_SWEEPABLE.contains(&k.as_str()) {
            walk(k, v, &mut out);
        }
    }
    out
}

fn nearest(path: &str, doc: &toml::Table) -> String {
    let paths = all_paths(doc);
    let near = suggest(path, paths.iter().map(String::as_str));
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", list_names(&near))
    }
}

/// Checks that `key` names a settable place in `doc`: its parents exist and the scenario
/// format accepts the last key there (tried by parsing the document with `sample` set).
pub(crate) fn check_path(
    cx: Ctx<'_>,
    key: &Loc<String>,
    sample: &Loc<toml::Value>,
    doc: &toml::Table,
) -> Result<(), ScenarioError> {
    let path = key.get();
    let first = path.split('.').next().unwrap_or("");
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(cx.err_at_loc(key, format!("invalid path `{path}`: a segment is empty")));
    }
    if NOT_SWEEPABLE.contains(&first) {
        return Err(cx.err_at_loc(
            key,
            format!(
                "`{first}` cannot be swept or overridden: it describes the experiment, not the organisation"
            ),
        ));
    }
    let mut trial = doc.clone();
    if let Err(e) = set_path(&mut trial, path, sample.get().clone()) {
        return Err(cx.err_at_loc(
            key,
            format!("unknown path `{path}`: {e}{}", nearest(path, doc)),
        ));
    }
    // The format must accept the path: walked through the schema generated from the raw
    // types (the parser's own definition). A bad value is reported by validation later,
    // located at the value.
    if let Err(why) = schema_accepts(path) {
        return Err(cx.err_at_loc(
            key,
            format!("unknown path `{path}`: {why}{}", nearest(path, doc)),
        ));
    }
    Ok(())
}

/// The scenario format's JSON schema, generated once.
fn scenario_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::Value::from(schemars::schema_for!(RawScenario)))
}

/// Whether the scenario format has a place at dotted `path` (array elements are addressed
/// by name or index, so any segment selects an element); otherwise why not.
fn schema_accepts(path: &str) -> Result<(), String> {
    let root = scenario_schema();
    let segs: Vec<&str> = path.split('.').collect();
    match walk(root, root, &segs) {
        Ok(()) => Ok(()),
        Err(depth) => {
            let at = segs[..=depth.min(segs.len() - 1)].join(".");
            Err(format!("the scenario format has no field `{at}`"))
        }
    }
}

/// Follows `segs` from `schema`; on failure, how many segments were accepted.
fn walk(root: &serde_json::Value, schema: &serde_json::Value, segs: &[&str]) -> Result<(), usize> {
    use serde_json::Value as J;
    // Draft 07 keeps definitions under `definitions`, later drafts under `$defs`.
    let schema = match schema.get("$ref").and_then(J::as_str) {
        Some(r) => ["definitions", "$defs"]
            .iter()
            .find_map(|k| {
                let name = r.strip_prefix(&format!("#/{k}/"))?;
                root.get(*k)?.get(name)
            })
            .unwrap_or_else(|| panic!("the generated schema defines its reference {r}")),
        None => schema,
    };
    let Some((seg, rest)) = segs.split_first() else {
        return Ok(());
    };
    let obj = match schema {
        J::Bool(b) => return if *b { Ok(()) } else { Err(0) },
        J::Object(o) => o,
        _ => return Err(0),
    };
    // Alternatives (Option, untagged shapes, externally tagged enums): the deepest wins.
    for key in ["anyOf", "oneOf"] {
        if let Some(J::Array(alts)) = obj.get(key) {
            let mut best = 0;
            for alt in alts {
                match walk(root, alt, segs) {
                    Ok(()) => return Ok(()),
                    Err(d) => best = best.max(d),
                }
            }
            return Err(best);
        }
    }
    let deeper = |s: &serde_json::Value| walk(root, s, rest).map_err(|d| d + 1);
    if let Some(props) = obj.get("properties").and_then(J::as_object)
        && let Some(p) = props.get(*seg)
    {
        return deeper(p);
    }
    match obj.get("additionalProperties") {
        Some(J::Bool(false)) => return Err(0),
        Some(extra @ J::Object(_)) => return deeper(extra),
        _ => {}
    }
    if let Some(items) = obj.get("items") {
        return deeper(items);
    }
    // A schema that constrains nothing (e.g. a free-form value) takes any path.
    let constrains = ["type", "properties", "enum", "const"]
        .iter()
        .any(|k| obj.contains_key(*k));
    if constrains { Err(0) } else { Ok(()) }
}

impl Ctx<'_> {
    pub(crate) fn err_at_loc<T>(&self, loc: &Loc<T>, message: impl Into<String>) -> ScenarioError {
        self.err(loc.span(), message)
    }
}
