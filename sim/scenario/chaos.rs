//! The `[chaos]` table: fault templates with ranges, validated into a `ChaosSpec`.
//!
//! ```toml
//! [chaos]
//! campaigns = 64          # default number of campaigns (`--campaigns` overrides)
//! replications = 1        # runs per (campaign, arm), each with its own seed
//! arms = ["autonomous"]   # which arms to attack (default: all)
//!
//! [[chaos.faults]]
//! kind = "reviewer_outage"
//! group = "seniors"                       # or a list: one is drawn; absent = every group
//! at = { from = "0d", to = "60d" }        # or a fixed "10d"
//! duration = { from = "1d", to = "14d" }
//! fraction = { from = 0.3, to = 1.0 }     # or a fixed 0.5
//! ```
//!
//! Each kind takes the parameters its `[[faults]]` entry takes, each as a fixed value or a
//! `{ from, to }` range; `class` of `permission_misconfiguration` is a name or a list to
//! draw from. Larger values are always the harsher ones, so `from` is the mildest value
//! and the shrinker pulls parameters towards it.
//!
//! The table is validated with the rest of the scenario (so `blastsim validate` checks
//! it, against the arms, groups and horizon of the same document) into
//! `Scenario::chaos`; the chaos harness reads that, never the file again.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::engine::{SimDuration, SimTime};
use crate::model::config::{ActionClass, FaultType, WorldConfig};
use crate::scenario::Scenario;
use crate::scenario::error::{Ctx, Loc, R, ScenarioError, unknown_name};
use crate::scenario::faults::fault_fields_apply;
use crate::scenario::limits;
use crate::scenario::values::{
    KindName, OneOrMany, any_of, duration, items, nonneg, positive_duration, prob,
};

/// Campaigns when neither the file nor the command line says.
pub const CAMPAIGNS_DEFAULT: u32 = 64;

/// A closed range `[from, to]` of a fault parameter; `from <= to`, and `from` is the
/// mildest value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds<T> {
    /// The mildest value.
    pub from: T,
    /// The harshest value.
    pub to: T,
}

impl<T: Copy> Bounds<T> {
    /// A range holding one value.
    pub fn fixed(v: T) -> Bounds<T> {
        Bounds { from: v, to: v }
    }
}

/// What a template injects, with its parameter ranges.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplateKind {
    /// A share of a reviewer group away.
    ReviewerOutage {
        /// Reviewer groups to draw from; empty means every group at once.
        groups: Vec<usize>,
        /// Share of the group away.
        fraction: Bounds<f64>,
    },
    /// A class granted to agents.
    PermissionMisconfiguration {
        /// Author groups to draw from; empty means every agent group.
        groups: Vec<usize>,
        /// Classes to draw from (at least one), in escalation order.
        classes: Vec<ActionClass>,
    },
    /// Agents misbehave.
    RogueAgentBurst {
        /// Author groups to draw from; empty means every agent group.
        groups: Vec<usize>,
        /// Multiplier on defect probability.
        defect_multiplier: Bounds<f64>,
        /// Multiplier on escalation probability.
        escalation_multiplier: Bounds<f64>,
    },
    /// Slower detection on a share of services.
    MonitoringBlindSpot {
        /// Share of services affected.
        service_share: Bounds<f64>,
        /// Multiplier on detection delay.
        detection_multiplier: Bounds<f64>,
    },
    /// Soft edges behave as hard ones.
    DependencyDegradation,
    /// A share of responders away.
    ResponderShortage {
        /// Share away.
        fraction: Bounds<f64>,
    },
}

/// One `[[chaos.faults]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultTemplate {
    /// The kind name, as in the file ("reviewer_outage", ...).
    pub kind_name: &'static str,
    /// What it injects.
    pub kind: TemplateKind,
    /// When it starts (every value before the horizon).
    pub at: Bounds<SimTime>,
    /// How long it lasts (longer than zero).
    pub duration: Bounds<SimDuration>,
}

/// The validated `[chaos]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosSpec {
    /// Fault templates, in file order.
    pub templates: Vec<FaultTemplate>,
    /// Campaigns to run by default.
    pub campaigns: u32,
    /// Indices of the arms to attack, ascending.
    pub arms: Vec<usize>,
    /// Runs per (campaign, arm, point), each with its own seed.
    pub replications: u32,
}

/// A parameter as written: one value or a `{ from, to }` table.
#[derive(Clone, Debug)]
pub enum RawRange<T> {
    /// One value (its location is the enclosing `Loc`'s).
    Fixed(T),
    /// A range.
    Between {
        /// The mildest value.
        from: Loc<T>,
        /// The harshest value.
        to: Loc<T>,
    },
}

/// `{ from = .., to = .. }`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawBetween<T> {
    /// The mildest value.
    from: Loc<T>,
    /// The harshest value.
    to: Loc<T>,
}

impl<T: JsonSchema> JsonSchema for RawRange<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Range_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        any_of(vec![
            generator.subschema_for::<T>(),
            generator.subschema_for::<RawBetween<T>>(),
        ])
    }
}

macro_rules! range_visitor {
    ($t:ty, $expecting:literal, $($method:ident : $arg:ty => $conv:expr),*) => {
        impl<'de> Deserialize<'de> for RawRange<$t> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = RawRange<$t>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    $(fn $method<E: de::Error>(self, v: $arg) -> Result<RawRange<$t>, E> {
                        #[allow(clippy::redundant_closure_call)]
                        Ok(RawRange::Fixed(($conv)(v)))
                    })*
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRange<$t>, A::Error> {
                        let b = RawBetween::<$t>::deserialize(
                            de::value::MapAccessDeserializer::new(map),
                        )?;
                        Ok(RawRange::Between { from: b.from, to: b.to })
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

range_visitor!(f64, "a number or a range { from = .., to = .. }",
    visit_f64: f64 => |v| v,
    visit_i64: i64 => |v| v as f64,
    visit_u64: u64 => |v| v as f64);
range_visitor!(String, "a duration such as \"3d\" or a range { from = \"1d\", to = \"7d\" }",
    visit_str: &str => |v: &str| v.to_string());

/// One `[[chaos.faults]]` entry as written: the fields of a `[[faults]]` entry, each a
/// fixed value or a `{ from, to }` range; `group` and `class` name one or several.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFaultTemplate {
    /// What the fault does.
    kind: Loc<KindName<FaultType>>,
    /// When it starts.
    at: Loc<RawRange<String>>,
    /// How long it lasts.
    duration: Loc<RawRange<String>>,
    /// Groups to draw from (default: every group).
    #[serde(default)]
    group: Option<Loc<OneOrMany>>,
    /// Share away (reviewer_outage, responder_shortage).
    #[serde(default)]
    fraction: Option<Loc<RawRange<f64>>>,
    /// Classes to draw from (permission_misconfiguration).
    #[serde(default)]
    class: Option<Loc<OneOrMany>>,
    /// Multiplier on defect probability (rogue_agent_burst).
    #[serde(default)]
    defect_multiplier: Option<Loc<RawRange<f64>>>,
    /// Multiplier on escalation probability (rogue_agent_burst).
    #[serde(default)]
    escalation_multiplier: Option<Loc<RawRange<f64>>>,
    /// Share of services affected (monitoring_blind_spot).
    #[serde(default)]
    service_share: Option<Loc<RawRange<f64>>>,
    /// Multiplier on detection delay (monitoring_blind_spot).
    #[serde(default)]
    detection_multiplier: Option<Loc<RawRange<f64>>>,
}

/// `[chaos]` as written.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChaos {
    /// Campaigns to run (default 64; `--campaigns` overrides).
    #[serde(default)]
    campaigns: Option<Loc<u32>>,
    /// Runs per (campaign, arm), each with its own seed (default 1).
    #[serde(default)]
    replications: Option<Loc<u32>>,
    /// Arms to attack (default: all).
    #[serde(default)]
    arms: Option<Loc<OneOrMany>>,
    /// Fault templates (at least one).
    #[serde(default)]
    faults: Vec<RawFaultTemplate>,
}

/// Refuses `campaigns` campaigns of `arms` arms × `replications` over `RUNS_MAX` runs, for
/// the file's `campaigns` and `--campaigns` alike.
pub fn runs_check(campaigns: u32, arms: usize, replications: u32) -> Result<(), String> {
    let runs = u64::from(campaigns) * arms as u64 * u64::from(replications);
    if runs > limits::RUNS_MAX {
        return Err(format!(
            "{campaigns} campaigns x {arms} arms x {replications} replications = {runs} runs, \
             over {}; use fewer campaigns or replications",
            limits::named("RUNS_MAX", limits::RUNS_MAX)
        ));
    }
    Ok(())
}

/// The validated `[chaos]` table of `scenario`.
///
/// Errors when the scenario has no `[chaos]` table: there is nothing to attack with.
pub fn load(scenario: &Scenario) -> R<ChaosSpec> {
    scenario.chaos.clone().ok_or_else(|| {
        ScenarioError::Invalid(crate::scenario::Located::at(
            &scenario.path,
            "",
            0..0,
            "the scenario has no [chaos] table; add [[chaos.faults]] templates with ranges \
             (see scenarios/chaos-policies.toml)",
        ))
    })
}

/// Validates `[chaos]` against the document's arms and the world of its first arm (group
/// names, horizon; `overridden` when the horizon came from the command line).
pub(crate) fn validate(
    cx: Ctx<'_>,
    chaos: &Loc<RawChaos>,
    arm_names: &[&str],
    world: &WorldConfig,
    overridden: bool,
) -> R<ChaosSpec> {
    let raw = chaos.get();
    if raw.faults.is_empty() {
        return Err(cx.err(
            chaos.span(),
            "[chaos] has no fault template; add at least one [[chaos.faults]]",
        ));
    }
    let campaigns = match &raw.campaigns {
        Some(c) if *c.get() == 0 => return Err(cx.err_at(c, "campaigns must be at least 1")),
        Some(c) if *c.get() > limits::CAMPAIGNS_MAX => {
            return Err(cx.err_at(
                c,
                format!(
                    "{} campaigns is over {}; run several seeds (--seed) instead",
                    c.get(),
                    limits::named("CAMPAIGNS_MAX", limits::CAMPAIGNS_MAX)
                ),
            ));
        }
        Some(c) => *c.get(),
        None => CAMPAIGNS_DEFAULT,
    };
    let replications = match &raw.replications {
        Some(r) if *r.get() == 0 => return Err(cx.err_at(r, "replications must be at least 1")),
        Some(r) if *r.get() > limits::REPLICATIONS_MAX => {
            return Err(cx.err_at(
                r,
                format!(
                    "replications = {} is over {}",
                    r.get(),
                    limits::named("REPLICATIONS_MAX", limits::REPLICATIONS_MAX)
                ),
            ));
        }
        Some(r) => *r.get(),
        None => 1,
    };
    let arms = match &raw.arms {
        None => (0..arm_names.len()).collect(),
        Some(list) => {
            let mut out = Vec::new();
            for name in items(list) {
                let i = arm_names
                    .iter()
                    .position(|n| *n == name.get().as_str())
                    .ok_or_else(|| cx.err_at(&name, unknown_name("arm", name.get(), arm_names)))?;
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            if out.is_empty() {
                return Err(cx.err_at(list, "arms must name at least one arm"));
            }
            out.sort_unstable();
            out
        }
    };
    // Runs of the file's campaigns (`--campaigns` goes through `runs_check` too).
    if let Err(message) = runs_check(campaigns, arms.len(), replications) {
        let at = raw.campaigns.as_ref().map_or(chaos.span(), Loc::span);
        return Err(cx.err(at, message));
    }
    let authors: Vec<&str> = world.authors.iter().map(|a| a.name.as_str()).collect();
    let reviewers: Vec<&str> = world
        .reviewers
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    let templates = raw
        .faults
        .iter()
        .map(|f| template(cx, f, &authors, &reviewers, world.horizon, overridden))
        .collect::<R<Vec<_>>>()?;
    Ok(ChaosSpec {
        templates,
        campaigns,
        arms,
        replications,
    })
}

fn template(
    cx: Ctx<'_>,
    f: &RawFaultTemplate,
    authors: &[&str],
    reviewers: &[&str],
    horizon: SimDuration,
    overridden: bool,
) -> R<FaultTemplate> {
    let kind: FaultType = cx.kind(&f.kind)?;
    let fields: [(&str, Option<Range<usize>>); 7] = [
        ("group", f.group.as_ref().map(Loc::span)),
        ("fraction", f.fraction.as_ref().map(Loc::span)),
        ("class", f.class.as_ref().map(Loc::span)),
        (
            "defect_multiplier",
            f.defect_multiplier.as_ref().map(Loc::span),
        ),
        (
            "escalation_multiplier",
            f.escalation_multiplier.as_ref().map(Loc::span),
        ),
        ("service_share", f.service_share.as_ref().map(Loc::span)),
        (
            "detection_multiplier",
            f.detection_multiplier.as_ref().map(Loc::span),
        ),
    ];
    fault_fields_apply(cx, kind, fields)?;
    let at = durations(cx, &f.at, "at", false)?;
    if at.to >= horizon {
        return Err(cx.err_at(
            &f.at,
            format!(
                "the fault may start at {}, at or after the horizon ({horizon}{})",
                at.to,
                if overridden { ", set by --horizon" } else { "" }
            ),
        ));
    }
    let duration = durations(cx, &f.duration, "duration", true)?;
    let need = |name: &str| {
        cx.err_at(
            &f.kind,
            format!("fault kind `{}` needs `{name}`", kind.name()),
        )
    };
    let groups = |names: &[&str], what: &str| -> R<Vec<usize>> {
        let Some(g) = &f.group else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for name in items(g) {
            let i = names
                .iter()
                .position(|n| *n == name.get().as_str())
                .ok_or_else(|| cx.err_at(&name, unknown_name(what, name.get(), names)))?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        Ok(out)
    };
    let probs = |v: &Option<Loc<RawRange<f64>>>, name: &str| -> R<Bounds<f64>> {
        numbers(cx, v.as_ref().ok_or_else(|| need(name))?, name, true)
    };
    let kind_out = match kind {
        FaultType::ReviewerOutage => TemplateKind::ReviewerOutage {
            groups: groups(reviewers, "reviewer group")?,
            fraction: probs(&f.fraction, "fraction")?,
        },
        FaultType::PermissionMisconfiguration => {
            let list = f.class.as_ref().ok_or_else(|| need("class"))?;
            let mut classes = Vec::new();
            for c in items(list) {
                let class: ActionClass = cx.kind(&c)?;
                if !classes.contains(&class) {
                    classes.push(class);
                }
            }
            if classes.is_empty() {
                return Err(cx.err_at(list, "class must name at least one action class"));
            }
            classes.sort();
            TemplateKind::PermissionMisconfiguration {
                groups: groups(authors, "author group")?,
                classes,
            }
        }
        FaultType::RogueAgentBurst => {
            if f.defect_multiplier.is_none() && f.escalation_multiplier.is_none() {
                return Err(need("defect_multiplier` or `escalation_multiplier"));
            }
            let mult = |v: &Option<Loc<RawRange<f64>>>, name: &str| match v {
                Some(v) => numbers(cx, v, name, false),
                None => Ok(Bounds::fixed(1.0)),
            };
            TemplateKind::RogueAgentBurst {
                groups: groups(authors, "author group")?,
                defect_multiplier: mult(&f.defect_multiplier, "defect_multiplier")?,
                escalation_multiplier: mult(&f.escalation_multiplier, "escalation_multiplier")?,
            }
        }
        FaultType::MonitoringBlindSpot => TemplateKind::MonitoringBlindSpot {
            service_share: probs(&f.service_share, "service_share")?,
            detection_multiplier: numbers(
                cx,
                f.detection_multiplier
                    .as_ref()
                    .ok_or_else(|| need("detection_multiplier"))?,
                "detection_multiplier",
                false,
            )?,
        },
        FaultType::DependencyDegradation => TemplateKind::DependencyDegradation,
        FaultType::ResponderShortage => TemplateKind::ResponderShortage {
            fraction: probs(&f.fraction, "fraction")?,
        },
    };
    Ok(FaultTemplate {
        kind_name: kind.name(),
        kind: kind_out,
        at: Bounds {
            from: SimTime(at.from.as_ms()),
            to: SimTime(at.to.as_ms()),
        },
        duration,
    })
}

/// A numeric range: probabilities (`is_prob`) or non-negative multipliers, `from <= to`.
fn numbers(cx: Ctx<'_>, v: &Loc<RawRange<f64>>, name: &str, is_prob: bool) -> R<Bounds<f64>> {
    let check = |x: &Loc<f64>| {
        if is_prob {
            prob(cx, x, name)
        } else {
            nonneg(cx, x, name)
        }
    };
    match v.get() {
        RawRange::Fixed(x) => {
            let x = check(&Loc::new(v.span(), *x))?;
            Ok(Bounds::fixed(x))
        }
        RawRange::Between { from, to } => {
            let (a, b) = (check(from)?, check(to)?);
            if b < a {
                return Err(cx.err_at(
                    to,
                    format!(
                        "`to` ({b}) must be at least `from` ({a}): `from` is the mildest {name}"
                    ),
                ));
            }
            Ok(Bounds { from: a, to: b })
        }
    }
}

/// A duration range; `positive` demands every value be longer than zero.
fn durations(
    cx: Ctx<'_>,
    v: &Loc<RawRange<String>>,
    name: &str,
    positive: bool,
) -> R<Bounds<SimDuration>> {
    let check = |x: &Loc<String>| {
        if positive {
            positive_duration(cx, x, name)
        } else {
            duration(cx, x)
        }
    };
    match v.get() {
        RawRange::Fixed(x) => Ok(Bounds::fixed(check(&Loc::new(v.span(), x.clone()))?)),
        RawRange::Between { from, to } => {
            let (a, b) = (check(from)?, check(to)?);
            if b < a {
                return Err(cx.err_at(to, format!("`to` ({b}) must be at least `from` ({a})")));
            }
            Ok(Bounds { from: a, to: b })
        }
    }
}
