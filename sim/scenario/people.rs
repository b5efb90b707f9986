//! `[[authors]]`, `[[reviewers]]` and `[review]`: who proposes changes and who reviews them.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::model::config::{
    ActionClass, AuthorGroup, AuthorKind, ClassSet, ClassTable, ContextSwitch, Escalation, Flow,
    LoadEffect, QueueDiscipline, ReviewerConfig, ReviewerGroup, Rework, Seniority, Severity,
    SeverityMix, SizeEffect,
};
use crate::model::dist::SizeDist;
use crate::scenario::error::{Ctx, Loc, R, unknown_name};
use crate::scenario::limits;
use crate::scenario::presets;
use crate::scenario::values::{
    ByKind, KindName, RawClassProbs, RawDist, RawDuration, RawHours, SUM_TOLERANCE, any_of,
    at_least_one, class_probs, dist, duration, finite, hours, nonneg, positive, prob, unique_names,
};

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
pub type RawDetectionTable = ByKind<ActionClass, f64, true>;

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
                Ok(RawDetection::Scalar(Loc::new(0..0, v)))
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
        any_of(vec![
            generator.subschema_for::<f64>(),
            generator.subschema_for::<RawDetectionTable>(),
        ])
    }
}

/// `severity = { default = {...}, destructive = {...} }`: per-class severity mixes; a
/// class not named takes `default`, else the built-in mix (see `presets`).
pub type RawSeverityTable = ByKind<ActionClass, RawSeverityMix, true>;

/// Given a defect, P(each severity); they sum to 1 (a missing one is 0).
pub type RawSeverityMix = ByKind<Severity, f64>;

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
    pub kind: Loc<KindName<AuthorKind>>,
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
    pub permissions: Loc<Vec<Loc<KindName<ActionClass>>>>,
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
    /// Closed-loop flow control (default: the open loop, no WIP limit).
    #[serde(default)]
    pub flow: Option<RawFlow>,
}

/// `flow = { wip_limit = 2, backlog_max = 20, batch_max = 4, patience = "10d" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    /// Most tasks in flight per author (at least 1).
    pub wip_limit: Loc<u32>,
    /// Most tasks waiting per author; more are not taken on (default: unlimited).
    #[serde(default)]
    pub backlog_max: Option<Loc<u32>>,
    /// Most tasks folded into one change (default 1: no batching).
    #[serde(default)]
    pub batch_max: Option<Loc<u32>>,
    /// A task waiting longer is abandoned (default: never).
    #[serde(default)]
    pub patience: Option<RawDuration>,
    /// Exponent of the batch defect curve `1 − (1 − p)^(k^e)` (default 1).
    #[serde(default)]
    pub defect_exponent: Option<Loc<f64>>,
    /// Rework after a long wait costs more (default: no extra cost).
    #[serde(default)]
    pub context_switch: Option<RawContextSwitch>,
}

/// `context_switch = { after = "1d", factor = 1.5 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContextSwitch {
    /// Wait since proposal above which the context is lost.
    pub after: RawDuration,
    /// Multiplier on the rework delay (at least 1).
    pub factor: Loc<f64>,
}

/// `[[reviewers]]`: a group of reviewers.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReviewerGroup {
    /// Unique group name.
    pub name: Loc<String>,
    /// "junior" or "senior".
    pub seniority: Loc<KindName<Seniority>>,
    /// Number of reviewers (at least 1).
    pub count: Loc<u32>,
    /// Time one review takes.
    pub review_time: Loc<RawDist>,
    /// P(a careful review detects a defect): a number, or per class.
    pub detection: Loc<RawDetection>,
    /// Working hours (default: around the clock).
    #[serde(default)]
    pub hours: Option<RawHours>,
    /// The human author group these reviewers belong to: reviewing takes their authoring
    /// time (default: dedicated reviewers).
    #[serde(default)]
    pub from_authors: Option<Loc<String>>,
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
    /// Reading speed: review time grows by size / lines_per_hour (default: no size term).
    #[serde(default)]
    pub lines_per_hour: Option<Loc<f64>>,
    /// Order of service: "fifo", "author_kind" (humans first) or "risk_class" (most
    /// drastic first) (default "fifo").
    #[serde(default)]
    pub discipline: Option<Loc<KindName<QueueDiscipline>>>,
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

fn mix(cx: Ctx<'_>, t: &Loc<RawClassProbs>, what: &str) -> R<ClassTable<f64>> {
    let m = class_probs(cx, t.get(), what)?;
    // Summed in class order, so the reported sum is reproducible.
    let sum: f64 = m.0.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(cx.err_at(
            t,
            format!("{what} must sum to 1 (within {SUM_TOLERANCE:e}), but it sums to {sum}"),
        ));
    }
    Ok(m)
}

fn severity_mix(cx: Ctx<'_>, m: &Loc<RawSeverityMix>, what: &str) -> R<SeverityMix> {
    let r = m.get();
    let get = |kind: Severity| -> R<f64> {
        r.get(kind)
            .map_or(Ok(0.0), |v| prob(cx, v, &format!("{what}.{}", kind.name())))
    };
    let s = SeverityMix {
        local: get(Severity::Local)?,
        cascading: get(Severity::Cascading)?,
        environment_deletion: get(Severity::EnvironmentDeletion)?,
    };
    let sum = s.local + s.cascading + s.environment_deletion;
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(cx.err_at(
            m,
            format!("{what} must sum to 1 (within {SUM_TOLERANCE:e}), but it sums to {sum}"),
        ));
    }
    Ok(s)
}

fn severity(cx: Ctx<'_>, t: Option<&RawSeverityTable>, group: &str) -> R<ClassTable<SeverityMix>> {
    let mut out = ClassTable(ActionClass::ALL.map(presets::default_severity));
    let Some(t) = t else { return Ok(out) };
    let what = format!("authors.{group}.severity");
    let default = match &t.default {
        Some(d) => Some(severity_mix(cx, d, &format!("{what}.default"))?),
        None => None,
    };
    for class in ActionClass::ALL {
        let i = class.index();
        out.0[i] = match (t.get(class), default) {
            (Some(m), _) => severity_mix(cx, m, &format!("{what}.{}", class.name()))?,
            (None, Some(d)) => d,
            (None, None) => out.0[i],
        };
    }
    Ok(out)
}

/// Refuses a group over `max` people, or groups over `max` together (located at the
/// group count that crosses it).
fn count_limit<'a>(
    cx: Ctx<'_>,
    counts: impl Iterator<Item = &'a Loc<u32>>,
    what: &str,
    name: &str,
    max: u64,
) -> R<()> {
    let mut total = 0u64;
    for c in counts {
        total += u64::from(*c.get());
        if total > max {
            return Err(cx.err_at(
                c,
                format!(
                    "{total} {what} in all groups up to here, over {}; each is simulated \
                     as an entity, so model a larger organisation as a representative part \
                     of it",
                    limits::named(name, max)
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn authors(cx: Ctx<'_>, raw: &[RawAuthorGroup]) -> R<Vec<AuthorGroup>> {
    if raw.is_empty() {
        return Err(cx.err(
            0..0,
            "no [[authors]]: a scenario needs at least one group of change authors",
        ));
    }
    unique_names(cx, raw.iter().map(|a| &a.name), "author group")?;
    count_limit(
        cx,
        raw.iter().map(|a| &a.count),
        "authors",
        "AUTHORS_MAX",
        limits::AUTHORS_MAX,
    )?;
    raw.iter().map(|a| author(cx, a)).collect()
}

fn author(cx: Ctx<'_>, a: &RawAuthorGroup) -> R<AuthorGroup> {
    let name = a.name.get().clone();
    let kind: AuthorKind = cx.kind(&a.kind)?;
    let count = *a.count.get();
    if count == 0 {
        return Err(cx.err_at(
            &a.count,
            format!("author group `{name}` is empty: count must be at least 1"),
        ));
    }
    let mut permissions = ClassSet::EMPTY;
    for p in a.permissions.get() {
        permissions = permissions.with(cx.kind(p)?);
    }
    let size = match &a.size {
        Some(s) => {
            let median_loc = finite(cx, &s.median_loc, "size.median_loc")?;
            if median_loc < 1.0 {
                return Err(cx.err_at(
                    &s.median_loc,
                    format!("size.median_loc must be at least 1 line, got {median_loc}"),
                ));
            }
            SizeDist {
                median_loc,
                sigma: nonneg(cx, &s.sigma, "size.sigma")?,
            }
        }
        None => presets::default_size(),
    };
    let escalation = match &a.escalation {
        Some(e) => Some(Escalation {
            after_failures: e.after_failures,
            probability: prob(cx, &e.probability, "escalation.probability")?,
        }),
        None => None,
    };
    let rework = match &a.rework {
        Some(r) => Rework {
            probability: prob(cx, &r.probability, "rework.probability")?,
            delay: dist(cx, &r.delay)?,
        },
        None => Rework {
            probability: 1.0,
            delay: presets::default_rework_delay(),
        },
    };
    let flow = match &a.flow {
        None => Flow::OPEN,
        Some(f) => Flow {
            wip_limit: Some(at_least_one(cx, &f.wip_limit, "flow.wip_limit")?),
            backlog_max: f.backlog_max.as_ref().map_or(u32::MAX, |b| *b.get()),
            batch_max: match &f.batch_max {
                Some(b) => at_least_one(cx, b, "flow.batch_max")?,
                None => 1,
            },
            patience: f.patience.as_ref().map(|p| duration(cx, p)).transpose()?,
            defect_exponent: match &f.defect_exponent {
                Some(e) => nonneg(cx, e, "flow.defect_exponent")?,
                None => 1.0,
            },
            context_switch: match &f.context_switch {
                None => None,
                Some(c) => {
                    let factor = finite(cx, &c.factor, "flow.context_switch.factor")?;
                    if factor < 1.0 {
                        return Err(cx.err_at(
                            &c.factor,
                            format!(
                                "flow.context_switch.factor must be at least 1 (a lost \
                                 context never makes rework cheaper), got {factor}"
                            ),
                        ));
                    }
                    Some(ContextSwitch {
                        after: duration(cx, &c.after)?,
                        factor,
                    })
                }
            },
        },
    };
    Ok(AuthorGroup {
        flow,
        kind,
        count,
        tasks_per_day: nonneg(cx, &a.tasks_per_day, "tasks_per_day")?,
        hours: a.hours.as_ref().map(|h| hours(cx, h)).transpose()?,
        mix: mix(cx, &a.mix, &format!("authors.{name}.mix"))?,
        defect_probability: class_probs(
            cx,
            a.defect_probability.get(),
            &format!("authors.{name}.defect_probability"),
        )?,
        severity: severity(cx, a.severity.as_ref(), &name)?,
        size,
        permissions,
        task_success: match &a.task_success {
            Some(t) => prob(cx, t, "task_success")?,
            None => 1.0,
        },
        max_attempts: match &a.max_attempts {
            Some(m) => at_least_one(cx, m, "max_attempts")?,
            None => presets::MAX_ATTEMPTS_DEFAULT,
        },
        escalation,
        rework,
        name,
    })
}

fn detection(cx: Ctx<'_>, d: &Loc<RawDetection>, group: &str) -> R<ClassTable<f64>> {
    let what = format!("reviewers.{group}.detection");
    match d.get() {
        RawDetection::Scalar(v) => {
            // A bare number's own span is the whole value.
            let v = Loc::new(d.span(), *v.get());
            Ok(ClassTable([prob(cx, &v, &what)?; 5]))
        }
        RawDetection::PerClass(t) => {
            let default = match &t.default {
                Some(v) => Some(prob(cx, v, &format!("{what}.default"))?),
                None => None,
            };
            let mut out = [0.0; 5];
            for c in ActionClass::ALL {
                let class = c.name();
                out[c.index()] = match (t.get(c), default) {
                    (Some(v), _) => prob(cx, v, &format!("{what}.{class}"))?,
                    (None, Some(d)) => d,
                    (None, None) => {
                        return Err(cx.err_at(
                            d,
                            format!(
                                "{what} has no value for class `{class}`; give it or a `default`"
                            ),
                        ));
                    }
                };
            }
            Ok(ClassTable(out))
        }
    }
}

pub(crate) fn reviewers(
    cx: Ctx<'_>,
    raw: &[RawReviewerGroup],
    settings: Option<&RawReviewSettings>,
    authors: &[AuthorGroup],
) -> R<ReviewerConfig> {
    unique_names(cx, raw.iter().map(|r| &r.name), "reviewer group")?;
    count_limit(
        cx,
        raw.iter().map(|r| &r.count),
        "reviewers",
        "REVIEWERS_MAX",
        limits::REVIEWERS_MAX,
    )?;
    let mut groups = Vec::with_capacity(raw.len());
    for r in raw {
        let name = r.name.get().clone();
        let seniority: Seniority = cx.kind(&r.seniority)?;
        if *r.count.get() == 0 {
            return Err(cx.err_at(
                &r.count,
                format!("reviewer group `{name}` is empty: count must be at least 1"),
            ));
        }
        let from_authors = match &r.from_authors {
            None => None,
            Some(a) => Some(from_authors(cx, a, *r.count.get(), &name, authors)?),
        };
        groups.push(ReviewerGroup {
            from_authors,
            seniority,
            count: *r.count.get(),
            review_time: dist(cx, &r.review_time)?,
            detection: detection(cx, &r.detection, &name)?,
            hours: r.hours.as_ref().map(|h| hours(cx, h)).transpose()?,
            name,
        });
    }
    // No rubber-stamping and no size effect unless the scenario says so.
    let mut load = LoadEffect {
        queue_above: u32::MAX,
        detection_factor: 1.0,
    };
    let mut size = SizeEffect {
        above_loc: u32::MAX,
        detection_factor: 1.0,
    };
    let mut false_rejection = 0.0;
    let mut lines_per_hour = None;
    let mut discipline = QueueDiscipline::Fifo;
    if let Some(s) = settings {
        if let Some(l) = &s.lines_per_hour {
            lines_per_hour = Some(positive(cx, l, "review.lines_per_hour")?);
        }
        if let Some(d) = &s.discipline {
            discipline = cx.kind(d)?;
        }
        if let Some(r) = &s.rubber_stamp {
            load = LoadEffect {
                queue_above: r.queue_above,
                detection_factor: prob(cx, &r.detection_factor, "rubber_stamp.detection_factor")?,
            };
        }
        if let Some(e) = &s.size_effect {
            size = SizeEffect {
                above_loc: e.above_loc,
                detection_factor: prob(cx, &e.detection_factor, "size_effect.detection_factor")?,
            };
        }
        if let Some(f) = &s.false_rejection {
            false_rejection = prob(cx, f, "false_rejection")?;
        }
    }
    Ok(ReviewerConfig {
        groups,
        load,
        size,
        false_rejection,
        lines_per_hour,
        discipline,
    })
}

/// Resolves `from_authors`: a human author group with at least as many people as the
/// reviewer group (reviewer i is author i of the group).
fn from_authors(
    cx: Ctx<'_>,
    name: &Loc<String>,
    count: u32,
    group: &str,
    authors: &[AuthorGroup],
) -> R<usize> {
    let Some(i) = authors.iter().position(|a| a.name == *name.get()) else {
        let valid: Vec<&str> = authors.iter().map(|a| a.name.as_str()).collect();
        return Err(cx.err_at(name, unknown_name("author group", name.get(), &valid)));
    };
    let a = &authors[i];
    if a.kind != AuthorKind::Human {
        return Err(cx.err_at(
            name,
            format!(
                "reviewer group `{group}` is drawn from `{}`, a group of {}s; reviewers \
                 are people, so from_authors must name a human group",
                a.name, a.kind
            ),
        ));
    }
    if count > a.count {
        return Err(cx.err_at(
            name,
            format!(
                "reviewer group `{group}` has {count} reviewers but author group `{}` only \
                 {} people to draw them from",
                a.name, a.count
            ),
        ));
    }
    Ok(i)
}
