//! Raw scenario types: the TOML file exactly as written, before any checking.
//!
//! Every struct denies unknown fields, so a typo is an error at its own line. Enums are
//! externally tagged or hand-written visitors, never internally tagged or `untagged`:
//! those buffer the input and lose the location of anything inside them (ecosystem.md §4).
//! Fields whose *meaning* can be wrong (probabilities, mixes, names, durations, paths) are
//! wrapped in `Loc`, which keeps their byte span so `validate` can point at them.
//!
//! The same types generate the JSON schema (`blastsim schema`), so the schema and the
//! parser cannot drift apart.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// A value and the byte range it came from in the scenario text.
#[derive(Clone, Debug, PartialEq)]
pub struct Loc<T>(pub Spanned<T>);

impl<T> Loc<T> {
    /// The value.
    pub fn get(&self) -> &T {
        self.0.get_ref()
    }

    /// Byte range in the scenario text.
    pub fn span(&self) -> Range<usize> {
        self.0.span()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loc<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Spanned::<T>::deserialize(d).map(Loc)
    }
}

impl<T: JsonSchema> JsonSchema for Loc<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A duration string such as "30m", "13h" or "5d".
pub type RawDuration = Loc<String>;

/// The whole scenario file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "blastsim scenario")]
pub struct RawScenario {
    /// Scenario name: letters, digits, '-', '_' and '.'; names the results folder.
    pub name: Loc<String>,
    /// The question this scenario answers (top of the report).
    pub question: String,
    /// Simulated time per run, e.g. "90d".
    pub horizon: RawDuration,
    /// Replications per arm and sweep point (at least 1).
    pub replications: Loc<u32>,
    /// Master seed; replication r uses the same derived seed in every arm and point.
    pub seed: u64,
    /// Safety limit on events per run (default 1,000,000,000).
    #[serde(default)]
    pub events_max: Option<Loc<u64>>,
    /// Calibration sources the defaults cite (e.g. "CALIBRATION.md §2.1 Sadowski 2018").
    #[serde(default)]
    pub sources: Vec<String>,
    /// Name of the baseline arm for paired differences (default: the first arm).
    #[serde(default)]
    pub baseline: Option<Loc<String>>,
    /// The dependency graph, incident detection and recovery.
    pub infrastructure: RawInfrastructure,
    /// Change authors, agents and humans.
    #[serde(default)]
    pub authors: Vec<RawAuthorGroup>,
    /// Reviewer groups.
    #[serde(default)]
    pub reviewers: Vec<RawReviewerGroup>,
    /// Settings of the whole reviewer pool (load and size effects, false rejections).
    #[serde(default)]
    pub review: Option<RawReviewSettings>,
    /// Approval policies; without `[[arms]]` each becomes an arm.
    #[serde(default)]
    pub policies: Vec<RawPolicy>,
    /// Breaker configurations, switched on per arm by name.
    #[serde(default)]
    pub breakers: Option<RawBreakers>,
    /// How approved changes reach production (default: direct).
    #[serde(default)]
    pub deployment: Option<RawDeployment>,
    /// The compared arms: a policy, a set of breakers and overrides.
    #[serde(default)]
    pub arms: Vec<RawArm>,
    /// Sweep axes: "dotted.path" = [values] | { from, to, step } | { values = [...] }.
    #[serde(default)]
    pub sweep: Option<Loc<Entries<RawAxis>>>,
    /// Frontier metrics and recommendation constraints.
    #[serde(default)]
    pub objectives: Option<RawObjectives>,
    /// Faults injected at fixed times.
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// Properties every run should keep.
    #[serde(default)]
    pub invariants: Option<RawInvariants>,
    /// Fault ranges for random chaos campaigns (interpreted by the chaos harness).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub chaos: Option<toml::Value>,
    /// Log-audit settings: classification and service rules (interpreted by `audit`).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub audit: Option<toml::Value>,
}

/// `[infrastructure]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInfrastructure {
    /// Where the graph comes from: a generator, a file or a preset.
    pub topology: Loc<RawTopology>,
    /// Share of generated edges that are soft.
    pub soft_dependency_share: Loc<f64>,
    /// Share of hard edges on which the dependent has a fallback (default 0).
    #[serde(default)]
    pub fallback_share: Option<Loc<f64>>,
    /// Cells per service when the source does not say (default 1).
    #[serde(default)]
    pub cells: Option<Loc<u32>>,
    /// P(a fault crosses a soft edge).
    pub soft_propagation: Loc<f64>,
    /// Motter–Lai tolerance α for the overload mode (off when absent).
    #[serde(default)]
    pub overload_alpha: Option<Loc<f64>>,
    /// Time from fault to detection.
    pub detection: Loc<RawDist>,
    /// Time to roll back.
    pub rollback: Loc<RawDist>,
    /// Time to rebuild a deleted environment.
    pub rebuild: Loc<RawDist>,
    /// Time per dependency level to come back after the level below it.
    pub restart_step: RawDuration,
    /// On-call responders (at least 1).
    pub responders: Loc<u32>,
}

/// `topology = { generator = "layered", ... }`, `{ file = "x.dot" }` or `{ preset = "..." }`.
///
/// A flat table rather than an enum so every field keeps its location; `validate` checks
/// that exactly one source is given and only its own fields are set.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    /// "layered", "scale_free" or "alibaba_like".
    #[serde(default)]
    pub generator: Option<Loc<String>>,
    /// Number of services (generators).
    #[serde(default)]
    pub services: Option<Loc<u32>>,
    /// Number of layers (layered).
    #[serde(default)]
    pub layers: Option<Loc<u32>>,
    /// Mean dependencies per non-leaf service (layered).
    #[serde(default)]
    pub mean_dependencies: Option<Loc<f64>>,
    /// Dependencies each new service takes (scale_free).
    #[serde(default)]
    pub edges_per_service: Option<Loc<u32>>,
    /// A topology file, relative to the scenario file.
    #[serde(default)]
    pub file: Option<Loc<String>>,
    /// "csv", "dot" or "jaeger" (default: from the file extension).
    #[serde(default)]
    pub format: Option<Loc<String>>,
    /// A shipped preset name.
    #[serde(default)]
    pub preset: Option<Loc<String>>,
    /// Seed of the graph (default 1). The graph is part of the organisation, so it stays
    /// fixed when the run seed changes.
    #[serde(default)]
    pub seed: Option<u64>,
}

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

/// One probability per action class; a missing class is 0.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClassProbs {
    /// Read-only actions.
    #[serde(default)]
    pub read_only: Option<Loc<f64>>,
    /// Code changes.
    #[serde(default)]
    pub code: Option<Loc<f64>>,
    /// Configuration changes.
    #[serde(default)]
    pub config: Option<Loc<f64>>,
    /// Infrastructure changes.
    #[serde(default)]
    pub infra: Option<Loc<f64>>,
    /// Destructive actions.
    #[serde(default)]
    pub destructive: Option<Loc<f64>>,
}

impl RawClassProbs {
    /// The five entries in `ActionClass` order.
    pub fn entries(&self) -> [&Option<Loc<f64>>; 5] {
        [
            &self.read_only,
            &self.code,
            &self.config,
            &self.infra,
            &self.destructive,
        ]
    }
}

/// Detection probability: one number for every class, or a table per class with an
/// optional `default` for the classes not named.
#[derive(Clone, Debug)]
pub enum RawDetection {
    /// The same for every class.
    Scalar(Loc<f64>),
    /// Per class.
    PerClass(RawDetectionTable),
}

/// `detection = { code = 0.6, infra = 0.7, default = 0.5 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDetectionTable {
    /// Classes not named below.
    #[serde(default)]
    pub default: Option<Loc<f64>>,
    /// Read-only actions.
    #[serde(default)]
    pub read_only: Option<Loc<f64>>,
    /// Code changes.
    #[serde(default)]
    pub code: Option<Loc<f64>>,
    /// Configuration changes.
    #[serde(default)]
    pub config: Option<Loc<f64>>,
    /// Infrastructure changes.
    #[serde(default)]
    pub infra: Option<Loc<f64>>,
    /// Destructive actions.
    #[serde(default)]
    pub destructive: Option<Loc<f64>>,
}

/// A probability for every action class, or a table per class with an optional `default`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RawDetectionSchema {
    Scalar(f64),
    PerClass(RawDetectionTable),
}

impl<'de> Deserialize<'de> for RawDetection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDetection;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a probability or a table of probabilities per action class")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDetection, E> {
                // The span of a bare number is recovered by the enclosing `Loc`.
                Ok(RawDetection::Scalar(Loc(Spanned::new(0..0, v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDetection, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDetection, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDetection, A::Error> {
                RawDetectionTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDetection::PerClass)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawDetection {
    fn schema_name() -> Cow<'static, str> {
        "Detection".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        RawDetectionSchema::json_schema(generator)
    }
}

/// One string or a list of strings (`class = "infra"` or `class = ["infra", "destructive"]`).
#[derive(Clone, Debug)]
pub struct OneOrMany(pub Vec<Loc<String>>);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrManySchema {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![Loc(Spanned::new(0..0, v.to_string()))]))
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
        OneOrManySchema::json_schema(generator)
    }
}

/// One tier or a list of tiers.
#[derive(Clone, Debug)]
pub struct Tiers(pub Vec<u8>);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TiersSchema {
    One(u8),
    Many(Vec<u8>),
}

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
        TiersSchema::json_schema(generator)
    }
}

/// `severity = { default = {...}, destructive = {...} }`: per-class severity mixes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSeverityTable {
    /// Classes not named below (default: the built-in mix, see `presets`).
    #[serde(default)]
    pub default: Option<Loc<RawSeverityMix>>,
    /// Read-only actions.
    #[serde(default)]
    pub read_only: Option<Loc<RawSeverityMix>>,
    /// Code changes.
    #[serde(default)]
    pub code: Option<Loc<RawSeverityMix>>,
    /// Configuration changes.
    #[serde(default)]
    pub config: Option<Loc<RawSeverityMix>>,
    /// Infrastructure changes.
    #[serde(default)]
    pub infra: Option<Loc<RawSeverityMix>>,
    /// Destructive actions.
    #[serde(default)]
    pub destructive: Option<Loc<RawSeverityMix>>,
}

/// Given a defect, P(each severity); the three sum to 1 (a missing one is 0).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSeverityMix {
    /// Breaks only the target.
    #[serde(default)]
    pub local: Option<Loc<f64>>,
    /// Spreads along dependency edges.
    #[serde(default)]
    pub cascading: Option<Loc<f64>>,
    /// Deletes the environment; rebuilt, not rolled back.
    #[serde(default)]
    pub environment_deletion: Option<Loc<f64>>,
}

/// `size = { median_loc = 24, sigma = 1.0 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSize {
    /// Median lines of code.
    pub median_loc: Loc<f64>,
    /// Lognormal shape σ.
    pub sigma: Loc<f64>,
}

/// `escalation = { after_failures = 2, probability = 0.3 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEscalation {
    /// Failures on one task before escalation is considered.
    pub after_failures: u32,
    /// P(escalating one class on each later failure).
    pub probability: Loc<f64>,
}

/// `rework = { probability = 0.9, delay = { fixed = "2h" } }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRework {
    /// P(the task is retried after a rejection).
    pub probability: Loc<f64>,
    /// Time spent reworking.
    pub delay: Loc<RawDist>,
}

/// `[[authors]]`: a group of change authors.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAuthorGroup {
    /// Unique group name.
    pub name: Loc<String>,
    /// "agent" or "human".
    pub kind: Loc<String>,
    /// Number of authors (at least 1).
    pub count: Loc<u32>,
    /// New tasks per author per day (per working day with `hours`).
    pub tasks_per_day: Loc<f64>,
    /// Tasks arrive only in these hours (default: around the clock).
    #[serde(default)]
    pub hours: Option<RawHours>,
    /// P(first attempt of a task is of each class); must sum to 1.
    pub mix: Loc<RawClassProbs>,
    /// P(a change of each class is latently defective).
    pub defect_probability: Loc<RawClassProbs>,
    /// Severity mix per class (default: see `presets::default_severity`).
    #[serde(default)]
    pub severity: Option<RawSeverityTable>,
    /// Change size (default median 24 LOC, σ 1.0).
    #[serde(default)]
    pub size: Option<RawSize>,
    /// Classes access control lets the group execute.
    pub permissions: Loc<Vec<Loc<String>>>,
    /// P(a good, deployed change completes its task) (default 1).
    #[serde(default)]
    pub task_success: Option<Loc<f64>>,
    /// Most attempts at one task (default 3).
    #[serde(default)]
    pub max_attempts: Option<Loc<u32>>,
    /// Agent escalation (default: none).
    #[serde(default)]
    pub escalation: Option<RawEscalation>,
    /// Behaviour after rejection (default: always retry after an exponential 2h).
    #[serde(default)]
    pub rework: Option<RawRework>,
}

/// `[[reviewers]]`: a group of reviewers.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReviewerGroup {
    /// Unique group name.
    pub name: Loc<String>,
    /// "junior" or "senior".
    pub seniority: Loc<String>,
    /// Number of reviewers (at least 1).
    pub count: Loc<u32>,
    /// Time one review takes.
    pub review_time: Loc<RawDist>,
    /// P(a careful review detects a defect): a number, or per class.
    pub detection: Loc<RawDetection>,
    /// Working hours (default: around the clock).
    #[serde(default)]
    pub hours: Option<RawHours>,
}

/// `[review]`: settings of the whole reviewer pool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReviewSettings {
    /// Rubber-stamping under load (default: none).
    #[serde(default)]
    pub rubber_stamp: Option<RawRubberStamp>,
    /// Detection loss on large changes (default: none).
    #[serde(default)]
    pub size_effect: Option<RawSizeEffect>,
    /// P(a good change is rejected anyway) (default 0).
    #[serde(default)]
    pub false_rejection: Option<Loc<f64>>,
}

/// `rubber_stamp = { queue_above = 10, detection_factor = 0.3 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRubberStamp {
    /// Queue length above which reviews are rushed.
    pub queue_above: u32,
    /// Multiplier on detection in a rushed review.
    pub detection_factor: Loc<f64>,
}

/// `size_effect = { above_loc = 400, detection_factor = 0.5 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSizeEffect {
    /// Size above which detection degrades.
    pub above_loc: u32,
    /// Multiplier on detection for larger changes.
    pub detection_factor: Loc<f64>,
}

/// `[[policies]]`: ordered approval rules, first match wins.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Unique policy name (may shadow a preset).
    pub name: Loc<String>,
    /// Rules in order; no match means no review.
    pub rules: Vec<RawRule>,
    /// Approve a review still pending after this long (default: never).
    #[serde(default)]
    pub auto_approve_after: Option<RawDuration>,
}

/// `{ when = {...}, require = "peer" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// When the rule applies (default: always).
    #[serde(default)]
    pub when: Option<RawWhen>,
    /// What it requires.
    pub require: Loc<RawRequire>,
}

/// Conditions of a rule; every one that is set must hold.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// "agent" or "human".
    #[serde(default)]
    pub author: Option<Loc<String>>,
    /// Author group name(s).
    #[serde(default, alias = "groups")]
    pub group: Option<Loc<OneOrMany>>,
    /// Action class name(s).
    #[serde(default, alias = "classes")]
    pub class: Option<Loc<OneOrMany>>,
    /// Criticality tier(s) of the target.
    #[serde(default, alias = "tiers")]
    pub tier: Option<Tiers>,
    /// Predicted share of users above this.
    #[serde(default)]
    pub predicted_users_above: Option<Loc<f64>>,
    /// Change size above this many lines.
    #[serde(default)]
    pub size_above: Option<u32>,
}

/// `require = "none" | "peer" | "senior" | "two_person" | { sample = p }`.
#[derive(Clone, Debug)]
pub enum RawRequire {
    /// A named requirement.
    Named(String),
    /// A peer review with probability p.
    Sample(Loc<f64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleTable {
    sample: Loc<f64>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RawRequireSchema {
    Named(RequireName),
    Sample {
        /// P(a peer review is required).
        sample: f64,
    },
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum RequireName {
    None,
    Peer,
    Senior,
    TwoPerson,
}

impl<'de> Deserialize<'de> for RawRequire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRequire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "\"none\", \"peer\", \"senior\", \"two_person\" or { sample = probability }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRequire, E> {
                Ok(RawRequire::Named(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRequire, A::Error> {
                SampleTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| RawRequire::Sample(t.sample))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawRequire {
    fn schema_name() -> Cow<'static, str> {
        "Require".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        RawRequireSchema::json_schema(generator)
    }
}

/// `[breakers]`: one optional configuration per breaker kind; arms switch them on by name.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBreakers {
    /// Per-agent circuit breaker.
    #[serde(default)]
    pub agent: Option<Loc<RawAgentBreaker>>,
    /// Blast-radius guard.
    #[serde(default)]
    pub blast_guard: Option<Loc<RawBlastGuard>>,
    /// Token-bucket rate limiter.
    #[serde(default)]
    pub rate_limit: Option<Loc<RawRateLimit>>,
    /// Error-budget freeze.
    #[serde(default)]
    pub error_budget: Option<Loc<RawErrorBudget>>,
    /// Incident kill switch.
    #[serde(default)]
    pub kill_switch: Option<Loc<RawKillSwitch>>,
}

/// The per-agent breaker: a preset, explicit fields, or a preset with fields overriding it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAgentBreaker {
    /// "resilience4j-rescaled", "resilience4j-defaults", "hystrix-like" or "envoy-like".
    #[serde(default)]
    pub preset: Option<Loc<String>>,
    /// `{ count = 20 }` (last n actions) or `{ time = "1d" }`.
    #[serde(default)]
    pub window: Option<RawWindow>,
    /// Actions in the window before it may trip.
    #[serde(default)]
    pub min_actions: Option<Loc<u32>>,
    /// Trip at this failure rate or above.
    #[serde(default)]
    pub failure_rate: Option<Loc<f64>>,
    /// Time open before half-open.
    #[serde(default)]
    pub open_for: Option<RawDuration>,
    /// Trial actions when half-open.
    #[serde(default)]
    pub half_open_trials: Option<Loc<u32>>,
    /// What counts as a failure (default: rejected, refused and incident).
    #[serde(default)]
    pub failures: Option<RawFailureKinds>,
}

/// The sliding window, externally tagged.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RawWindow {
    /// The last n actions.
    Count(Loc<u32>),
    /// The actions of the last span of time.
    Time(RawDuration),
}

/// `failures = { rejected = true, refused = true, incident = true, classifier = {...} }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFailureKinds {
    /// Rejected in review (default true).
    #[serde(default)]
    pub rejected: Option<bool>,
    /// Refused by access control (default true).
    #[serde(default)]
    pub refused: Option<bool>,
    /// Caused an incident (default true).
    #[serde(default)]
    pub incident: Option<bool>,
    /// Flagged by a risk classifier (default: no classifier).
    #[serde(default)]
    pub classifier: Option<RawClassifier>,
}

/// `classifier = { true_positive = 0.8, false_positive = 0.05 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClassifier {
    /// P(flag | defective).
    pub true_positive: Loc<f64>,
    /// P(flag | good).
    pub false_positive: Loc<f64>,
}

/// `blast_guard = { max_predicted_users = 0.1, estimate_noise = 0.3, action = "escalate" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBlastGuard {
    /// Largest predicted share of users an action may touch unchecked.
    pub max_predicted_users: Loc<f64>,
    /// σ of the lognormal noise on the prediction (default 0).
    #[serde(default)]
    pub estimate_noise: Option<Loc<f64>>,
    /// "block" or "escalate" (default "block").
    #[serde(default)]
    pub action: Option<Loc<String>>,
    /// Guard human changes too (default false).
    #[serde(default)]
    pub humans_too: Option<bool>,
    /// Action classes the guard checks (default: every class).
    #[serde(default)]
    pub classes: Option<Vec<Loc<String>>>,
}

/// `rate_limit = { per_agent = "20/h" }` or `{ per_agent = { rate = "20/h", burst = 5 } }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Bucket per agent.
    #[serde(default)]
    pub per_agent: Option<Loc<TokenRateText>>,
    /// Bucket per target service.
    #[serde(default)]
    pub per_service: Option<Loc<TokenRateText>>,
}

/// `"20/h"` (burst = 20) or `{ rate = "20/h", burst = 5 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTokenRate {
    /// "N/period", e.g. "20/h", "100/d", "5/30m".
    pub rate: Loc<String>,
    /// Bucket capacity (default: N).
    #[serde(default)]
    pub burst: Option<Loc<u32>>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TokenRateSchema {
    Rate(String),
    Table(RawTokenRate),
}

/// A token rate written as a bare string or a table.
#[derive(Clone, Debug)]
pub struct TokenRateText(pub RawTokenRate);

impl<'de> Deserialize<'de> for TokenRateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokenRateText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate such as \"20/h\" or { rate = \"20/h\", burst = 5 }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TokenRateText, E> {
                // The span of a bare string is recovered by the enclosing `Loc`.
                Ok(TokenRateText(RawTokenRate {
                    rate: Loc(Spanned::new(0..0, v.to_string())),
                    burst: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TokenRateText, A::Error> {
                RawTokenRate::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(TokenRateText)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for TokenRateText {
    fn schema_name() -> Cow<'static, str> {
        "TokenRate".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        TokenRateSchema::json_schema(generator)
    }
}

/// `error_budget = { slo = 0.999, windows = [{ long = "1h", short = "5m", burn_rate = 14.4 }] }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawErrorBudget {
    /// Availability objective in (0, 1).
    pub slo: Loc<f64>,
    /// Burn-rate windows; any that fires freezes changes.
    pub windows: Loc<Vec<RawBurnWindow>>,
    /// Freeze human changes too (default false).
    #[serde(default)]
    pub humans_too: Option<bool>,
}

/// `{ long = "6h", short = "30m", burn_rate = 6.0 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBurnWindow {
    /// Long window.
    pub long: RawDuration,
    /// Short window (default: single-window).
    #[serde(default)]
    pub short: Option<RawDuration>,
    /// Freeze at this burn rate or above.
    pub burn_rate: Loc<f64>,
}

/// `kill_switch = { on = "incident", scope = "agents" }` or
/// `{ on = "incidents", count = 2, window = "7d", halt_for = "1d" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKillSwitch {
    /// "incident" (while one is open) or "incidents" (after `count` in `window`).
    pub on: Loc<String>,
    /// Incidents that trip it ("incidents").
    #[serde(default)]
    pub count: Option<Loc<u32>>,
    /// Window they must fall in ("incidents").
    #[serde(default)]
    pub window: Option<RawDuration>,
    /// Halt duration ("incidents").
    #[serde(default)]
    pub halt_for: Option<RawDuration>,
    /// "agents" (all) or "offender" (default "agents").
    #[serde(default)]
    pub scope: Option<Loc<String>>,
}

/// `[deployment]`: without `waves` (or with an empty list) changes deploy directly.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDeployment {
    /// Staged waves; cumulative shares increase and the last is 1.
    #[serde(default)]
    pub waves: Option<Loc<Vec<RawWave>>>,
}

/// `{ share = 0.1, bake = "1h" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWave {
    /// Cumulative share of traffic on the change after this wave.
    pub share: Loc<f64>,
    /// Bake time after it.
    pub bake: RawDuration,
}

/// `[[arms]]`: a policy with breakers and overrides.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawArm {
    /// Unique arm name.
    pub name: Loc<String>,
    /// A `[[policies]]` name or a preset.
    pub policy: Loc<String>,
    /// Names of configured `[breakers]` entries to switch on (default none).
    #[serde(default)]
    pub breakers: Vec<Loc<String>>,
    /// One line on the arm.
    #[serde(default)]
    pub description: Option<String>,
    /// Overrides for this arm: "dotted.path" = value.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub set: Option<Loc<Entries<toml::Value>>>,
    /// A Claude Code `settings.json` whose `permissions` block this arm applies first
    /// (used by `blastsim audit` only; `run` has no commands to match it against).
    #[serde(default)]
    pub claude_code_settings: Option<Loc<String>>,
}

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

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RawAxisSchema {
    List(Vec<serde_json::Value>),
    Values {
        values: Vec<serde_json::Value>,
    },
    Range {
        from: serde_json::Value,
        to: serde_json::Value,
        step: serde_json::Value,
    },
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
        RawAxisSchema::json_schema(generator)
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

/// `[objectives]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawObjectives {
    /// Velocity metric, higher is better (default "deploys_per_day").
    #[serde(default)]
    pub velocity: Option<Loc<String>>,
    /// Risk metric, lower is better (default "user_impact_min_total").
    #[serde(default)]
    pub risk: Option<Loc<String>>,
    /// Constraints on the recommended setting.
    #[serde(default)]
    pub constraints: Vec<Loc<RawConstraint>>,
}

/// `{ metric = "user_impact_min_p95", at_most = 600 }` or `{ metric = ..., at_least = ... }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConstraint {
    /// Metric name from `metrics::METRICS`.
    pub metric: Loc<String>,
    /// Upper bound on the mean.
    #[serde(default)]
    pub at_most: Option<f64>,
    /// Lower bound on the mean.
    #[serde(default)]
    pub at_least: Option<f64>,
}

/// `[[faults]]`: a flat table; which fields apply depends on `kind`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// "reviewer_outage", "permission_misconfiguration", "rogue_agent_burst",
    /// "monitoring_blind_spot", "dependency_degradation" or "responder_shortage".
    pub kind: Loc<String>,
    /// Start, as time since the start of the run.
    pub at: RawDuration,
    /// How long it lasts.
    pub duration: RawDuration,
    /// Reviewer or author group (default: all).
    #[serde(default)]
    pub group: Option<Loc<String>>,
    /// Share away (reviewer_outage, responder_shortage).
    #[serde(default)]
    pub fraction: Option<Loc<f64>>,
    /// Class granted (permission_misconfiguration).
    #[serde(default)]
    pub class: Option<Loc<String>>,
    /// Multiplier on defect probability (rogue_agent_burst).
    #[serde(default)]
    pub defect_multiplier: Option<Loc<f64>>,
    /// Multiplier on escalation probability (rogue_agent_burst).
    #[serde(default)]
    pub escalation_multiplier: Option<Loc<f64>>,
    /// Share of services affected (monitoring_blind_spot).
    #[serde(default)]
    pub service_share: Option<Loc<f64>>,
    /// Multiplier on detection delay (monitoring_blind_spot).
    #[serde(default)]
    pub detection_multiplier: Option<Loc<f64>>,
}

/// `[invariants]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInvariants {
    /// No change may hit more than this share of users.
    #[serde(default)]
    pub max_users_hit_by_one_change: Option<Loc<f64>>,
    /// No incident may last longer than this.
    #[serde(default)]
    pub max_outage: Option<RawDuration>,
    /// `{ minutes = 600, window = "7d" }`.
    #[serde(default)]
    pub max_user_impact_minutes: Option<RawImpactBound>,
    /// Deploys per day over the run at least this.
    #[serde(default)]
    pub min_deploys_per_day: Option<Loc<f64>>,
}

/// `{ minutes = 600, window = "7d" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImpactBound {
    /// User-impact minutes.
    pub minutes: Loc<f64>,
    /// Window length.
    pub window: RawDuration,
}
