//! Value types shared by every section (durations, distributions, working hours, tables
//! keyed by a kind, one-or-many names, kind names) and their checks.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::engine::SimDuration;
use crate::model::config::{ActionClass, ClassTable, Kind, WorkingHours};
use crate::model::dist::DurationDist;
use crate::scenario::error::{Ctx, Loc, R, list_names};

/// Tolerance on "sums to 1" checks.
pub const SUM_TOLERANCE: f64 = 1e-9;

/// A duration string such as "30m", "13h" or "5d".
pub type RawDuration = Loc<String>;

/// A distribution of durations, externally tagged:
/// `{ fixed = "30m" }`, `{ exponential = { mean = "10m" } }`,
/// `{ lognormal = { median = "45m", sigma = 1.0 } }`, `{ uniform = { min = "1m", max = "5m" } }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RawDist {
    /// Always the same value.
    Fixed(RawDuration),
    /// Exponential with a mean.
    Exponential {
        /// The mean.
        mean: RawDuration,
    },
    /// Lognormal with a median and shape σ.
    Lognormal {
        /// The median.
        median: RawDuration,
        /// Shape σ (non-negative).
        sigma: Loc<f64>,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min: RawDuration,
        /// Upper bound.
        max: RawDuration,
    },
}

/// Working hours: `{ start = "09:00", end = "17:00", days = "mon-fri", utc_offset = "+01:00" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHours {
    /// Local start of day, "HH:MM".
    pub start: Loc<String>,
    /// Local end of day, "HH:MM" (after start).
    pub end: Loc<String>,
    /// Working days: "mon-fri", "mon,wed,fri", "sat-sun" (default "mon-fri").
    #[serde(default)]
    pub days: Option<Loc<String>>,
    /// Offset from UTC, "+05:30" or "-08:00" (default "+00:00").
    #[serde(default)]
    pub utc_offset: Option<Loc<String>>,
}

/// A table keyed by the names of kind `K` (and `default` when `DEFAULT`), e.g. one
/// probability per action class: `{ code = 0.5, config = 0.5 }`.
///
/// The keys are the kind's own names, so the accepted keys, the error for an unknown one
/// (located at the key) and the schema's properties all derive from `K::ALL`.
#[derive(Clone, Debug)]
pub struct ByKind<K, V, const DEFAULT: bool = false> {
    /// `default = ...`, for the kinds not named (only when `DEFAULT`).
    pub default: Option<Loc<V>>,
    /// The named entries, in file order.
    pub entries: Vec<(K, Loc<V>)>,
}

impl<K: Kind, V, const DEFAULT: bool> ByKind<K, V, DEFAULT> {
    /// The entry for `kind`, if written.
    pub fn get(&self, kind: K) -> Option<&Loc<V>> {
        self.entries
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v)
    }
}

/// Probabilities per action class; a missing class is 0.
pub type RawClassProbs = ByKind<ActionClass, f64>;

/// A key of a table keyed by kind names: `default` (when allowed) or a kind.
pub(crate) enum KindKey<K> {
    /// `default`.
    Default,
    /// A kind's name.
    Named(K),
}

/// Reads a table key as a `K` name (or `default` when `DEFAULT`); an unknown key is an
/// error that toml locates at the key, listing the valid ones.
pub(crate) struct KindKeySeed<K, const DEFAULT: bool>(PhantomData<K>);

impl<K, const DEFAULT: bool> KindKeySeed<K, DEFAULT> {
    pub(crate) fn new() -> Self {
        KindKeySeed(PhantomData)
    }
}

impl<'de, K: Kind, const DEFAULT: bool> de::DeserializeSeed<'de> for KindKeySeed<K, DEFAULT> {
    type Value = KindKey<K>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<KindKey<K>, D::Error> {
        let name = String::deserialize(d)?;
        if DEFAULT && name == "default" {
            return Ok(KindKey::Default);
        }
        K::parse(&name).map(KindKey::Named).map_err(|e| {
            let mut valid: Vec<String> = Vec::new();
            if DEFAULT {
                valid.push("`default`".to_string());
            }
            valid.extend(e.valid.iter().map(|n| format!("`{n}`")));
            // The wording of serde's own unknown-field error, which toml locates at the key.
            de::Error::custom(format!(
                "unknown field `{name}`, expected one of {}",
                valid.join(", ")
            ))
        })
    }
}

impl<'de, K: Kind, V: Deserialize<'de>, const DEFAULT: bool> Deserialize<'de>
    for ByKind<K, V, DEFAULT>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V, const DEFAULT: bool>(PhantomData<(K, V)>);
        impl<'de, K: Kind, V: Deserialize<'de>, const DEFAULT: bool> Visitor<'de> for Vis<K, V, DEFAULT> {
            type Value = ByKind<K, V, DEFAULT>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a table with one entry per {}", K::WHAT)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = ByKind {
                    default: None,
                    entries: Vec::new(),
                };
                while let Some(key) = map.next_key_seed(KindKeySeed::<K, DEFAULT>(PhantomData))? {
                    let v = map.next_value::<Loc<V>>()?;
                    match key {
                        KindKey::Default => out.default = Some(v),
                        KindKey::Named(k) => out.entries.push((k, v)),
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Vis::<K, V, DEFAULT>(PhantomData))
    }
}

impl<K: Kind, V: JsonSchema, const DEFAULT: bool> JsonSchema for ByKind<K, V, DEFAULT> {
    fn schema_name() -> Cow<'static, str> {
        format!(
            "{}_by_{}",
            V::schema_name(),
            K::WHAT.replace([' ', '-'], "_")
        )
        .into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = serde_json::Value::from(generator.subschema_for::<V>());
        let mut props = serde_json::Map::new();
        if DEFAULT {
            props.insert("default".into(), value.clone());
        }
        for n in K::names() {
            props.insert(n.into(), value.clone());
        }
        schemars::json_schema!({
            "type": "object",
            "properties": props,
            "additionalProperties": false,
        })
    }
}

/// A name of kind `K` as written: a string whose schema lists `K`'s names.
#[derive(Clone, Debug, PartialEq)]
pub struct KindName<K>(pub String, PhantomData<K>);

impl<K> AsRef<str> for KindName<K> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de, K> Deserialize<'de> for KindName<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| KindName(s, PhantomData))
    }
}

impl<K: Kind> JsonSchema for KindName<K> {
    fn schema_name() -> Cow<'static, str> {
        K::WHAT.replace([' ', '-'], "_").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "string", "enum": K::names() })
    }
}

/// A schema that is any one of `schemas` (for values written in more than one shape).
pub(crate) fn any_of(schemas: Vec<Schema>) -> Schema {
    let list: Vec<serde_json::Value> = schemas.into_iter().map(serde_json::Value::from).collect();
    schemars::json_schema!({ "anyOf": list })
}

/// One string or a list of strings (`class = "infra"` or `class = ["infra", "destructive"]`).
#[derive(Clone, Debug)]
pub struct OneOrMany(pub Vec<Loc<String>>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Loc::new(0..0, v.to_string())]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany, A::Error> {
                Vec::<Loc<String>>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(OneOrMany)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for OneOrMany {
    fn schema_name() -> Cow<'static, str> {
        "OneOrMany".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        any_of(vec![
            generator.subschema_for::<String>(),
            generator.subschema_for::<Vec<String>>(),
        ])
    }
}

/// The located items of a one-or-many value (a single string takes the outer span).
pub(crate) fn items(v: &Loc<OneOrMany>) -> Vec<Loc<String>> {
    v.get()
        .0
        .iter()
        .map(|s| {
            if s.span() == (0..0) {
                Loc::new(v.span(), s.get().clone())
            } else {
                s.clone()
            }
        })
        .collect()
}

/// One tier or a list of tiers.
#[derive(Clone, Debug)]
pub struct Tiers(pub Vec<u8>);

impl<'de> Deserialize<'de> for Tiers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tiers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tier (0-255) or a list of tiers")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tiers, E> {
                u8::try_from(v)
                    .map(|t| Tiers(vec![t]))
                    .map_err(|_| E::custom(format!("tier {v} is out of range; expected 0 to 255")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tiers, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Tiers, A::Error> {
                Vec::<u8>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Tiers)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Tiers {
    fn schema_name() -> Cow<'static, str> {
        "Tiers".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        any_of(vec![
            generator.subschema_for::<u8>(),
            generator.subschema_for::<Vec<u8>>(),
        ])
    }
}

// ---------------------------------------------------------------------------------------
// Scalars.

pub(crate) fn finite(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = *v.get();
    if !x.is_finite() {
        return Err(cx.err_at(v, format!("{what} must be a finite number, got {x}")));
    }
    Ok(x)
}

pub(crate) fn prob(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = finite(cx, v, what)?;
    if !(0.0..=1.0).contains(&x) {
        return Err(cx.err_at(
            v,
            format!("{what} must be a probability between 0 and 1, got {x}"),
        ));
    }
    Ok(x)
}

pub(crate) fn nonneg(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = finite(cx, v, what)?;
    if x < 0.0 {
        return Err(cx.err_at(v, format!("{what} must be at least 0, got {x}")));
    }
    Ok(x)
}

pub(crate) fn positive(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = finite(cx, v, what)?;
    if x <= 0.0 {
        return Err(cx.err_at(v, format!("{what} must be greater than 0, got {x}")));
    }
    Ok(x)
}

pub(crate) fn at_least_one(cx: Ctx<'_>, v: &Loc<u32>, what: &str) -> R<u32> {
    if *v.get() == 0 {
        return Err(cx.err_at(v, format!("{what} must be at least 1, got 0")));
    }
    Ok(*v.get())
}

/// Parses a duration string, located at the string.
pub(crate) fn duration(cx: Ctx<'_>, v: &Loc<String>) -> R<SimDuration> {
    SimDuration::parse(v.get()).map_err(|e| cx.err_at(v, e.to_string()))
}

pub(crate) fn positive_duration(cx: Ctx<'_>, v: &Loc<String>, what: &str) -> R<SimDuration> {
    let d = duration(cx, v)?;
    if d == SimDuration::ZERO {
        return Err(cx.err_at(v, format!("{what} must be longer than zero")));
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------
// Distributions and calendars.

/// Validates a duration distribution.
pub(crate) fn dist(cx: Ctx<'_>, v: &Loc<RawDist>) -> R<DurationDist> {
    Ok(match v.get() {
        RawDist::Fixed(d) => DurationDist::Fixed(duration(cx, d)?),
        RawDist::Exponential { mean } => DurationDist::Exponential {
            mean: duration(cx, mean)?,
        },
        RawDist::Lognormal { median, sigma } => DurationDist::Lognormal {
            median: duration(cx, median)?,
            sigma: nonneg(cx, sigma, "sigma")?,
        },
        RawDist::Uniform { min, max } => {
            let lo = duration(cx, min)?;
            let hi = duration(cx, max)?;
            if lo > hi {
                return Err(cx.err_at(
                    max,
                    format!("the uniform maximum ({hi}) is below its minimum ({lo})"),
                ));
            }
            DurationDist::Uniform { min: lo, max: hi }
        }
    })
}

fn clock(cx: Ctx<'_>, v: &Loc<String>) -> R<u32> {
    let bad = || {
        cx.err_at(
            v,
            format!(
                "invalid time of day {:?}; expected \"HH:MM\" between \"00:00\" and \"24:00\"",
                v.get()
            ),
        )
    };
    let (h, m) = v.get().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let m: u32 = m.trim().parse().map_err(|_| bad())?;
    if h > 24 || m >= 60 || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn days(cx: Ctx<'_>, v: &Loc<String>) -> R<u8> {
    let day = |s: &str| -> R<usize> {
        let s = s.trim().to_ascii_lowercase();
        DAY_NAMES.iter().position(|d| *d == s).ok_or_else(|| {
            cx.err_at(
                v,
                format!(
                    "unknown day `{s}` in {:?}; expected days such as \"mon-fri\" or \"mon,wed,fri\" from {}",
                    v.get(),
                    list_names(&DAY_NAMES)
                ),
            )
        })
    };
    let mut mask = 0u8;
    for part in v.get().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                if a > b {
                    return Err(cx.err_at(
                        v,
                        format!(
                            "day range `{}` runs backwards; write it Monday first",
                            part.trim()
                        ),
                    ));
                }
                for d in a..=b {
                    mask |= 1 << d;
                }
            }
            None => mask |= 1 << day(part)?,
        }
    }
    Ok(mask)
}

fn utc_offset(cx: Ctx<'_>, v: &Loc<String>) -> R<i32> {
    let s = v.get().trim();
    let bad = || {
        cx.err_at(
            v,
            format!("invalid UTC offset {s:?}; expected \"+HH:MM\" or \"-HH:MM\", e.g. \"+05:30\""),
        )
    };
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(sign * (h * 60 + m))
}

pub(crate) fn hours(cx: Ctx<'_>, h: &RawHours) -> R<WorkingHours> {
    let start_min = clock(cx, &h.start)?;
    let end_min = clock(cx, &h.end)?;
    if end_min <= start_min {
        return Err(cx.err_at(
            &h.end,
            format!(
                "the working day ends ({}) before it starts ({}); expected end after start",
                h.end.get(),
                h.start.get()
            ),
        ));
    }
    let days = match &h.days {
        Some(d) => days(cx, d)?,
        None => 0b001_1111,
    };
    let utc_offset_min = match &h.utc_offset {
        Some(o) => utc_offset(cx, o)?,
        None => 0,
    };
    Ok(WorkingHours {
        start_min,
        end_min,
        days,
        utc_offset_min,
    })
}

/// Checks that names are non-empty and unique.
pub(crate) fn unique_names<'a>(
    cx: Ctx<'_>,
    names: impl Iterator<Item = &'a Loc<String>>,
    what: &str,
) -> R<()> {
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        if n.get().trim().is_empty() {
            return Err(cx.err_at(n, format!("{what} name is empty")));
        }
        if seen.contains(&n.get().as_str()) {
            return Err(cx.err_at(
                n,
                format!("duplicate {what} name `{}`; names must be unique", n.get()),
            ));
        }
        seen.push(n.get());
    }
    Ok(())
}

/// Probabilities per class; a class not named is 0.
pub(crate) fn class_probs(cx: Ctx<'_>, t: &RawClassProbs, what: &str) -> R<ClassTable<f64>> {
    let mut out = [0.0; 5];
    for (class, v) in &t.entries {
        out[class.index()] = prob(cx, v, &format!("{what}.{}", class.name()))?;
    }
    Ok(ClassTable(out))
}
