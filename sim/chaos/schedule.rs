//! Fault schedules: drawing one from the `[chaos]` templates (swarm testing), and writing
//! a fault back as words (for people) and as a `[[faults]]` table (for repro files).
//!
//! Swarm testing (Groce et al. 2012): each campaign first switches every template on or
//! off with probability 1/2, so some campaigns stack many faults and others isolate one;
//! then every template's parameters are drawn uniformly in their ranges. Every template
//! is drawn whether or not it is switched on, so a template's values in campaign k do not
//! depend on which others are on.

use rand::RngExt;

use crate::engine::time::MS_PER_MINUTE;
use crate::engine::{Seed, SimDuration, SimTime};
use crate::model::config::{ActionClass, Fault, FaultKind, WorldConfig};
use crate::scenario::chaos::{Bounds, FaultTemplate, TemplateKind};

/// Stream kind of `Seed::stream` for schedules; the entity is the campaign number.
pub const SCHEDULE_STREAM: u64 = 0xC4A0_5001;

/// A fault of a campaign's schedule and the template it was drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct DrawnFault {
    /// Index of the template in `ChaosSpec::templates`.
    pub template: usize,
    /// The fault as injected.
    pub fault: Fault,
}

fn uniform(rng: &mut impl RngExt, b: Bounds<f64>) -> f64 {
    if b.to > b.from {
        b.from + rng.random::<f64>() * (b.to - b.from)
    } else {
        b.from
    }
}

/// A whole number of minutes in `[from, to]` when the range holds one (schedules read
/// better in minutes), else `from`.
fn minutes(rng: &mut impl RngExt, from_ms: u64, to_ms: u64) -> u64 {
    let lo = from_ms.div_ceil(MS_PER_MINUTE);
    let hi = to_ms / MS_PER_MINUTE;
    if lo < hi {
        rng.random_range(lo..=hi) * MS_PER_MINUTE
    } else {
        from_ms
    }
}

fn pick<T: Copy>(rng: &mut impl RngExt, items: &[T]) -> Option<T> {
    (!items.is_empty()).then(|| items[rng.random_range(0..items.len())])
}

fn draw_kind(rng: &mut impl RngExt, kind: &TemplateKind) -> FaultKind {
    match kind {
        TemplateKind::ReviewerOutage { groups, fraction } => FaultKind::ReviewerOutage {
            group: pick(rng, groups),
            fraction: uniform(rng, *fraction),
        },
        TemplateKind::PermissionMisconfiguration { groups, classes } => {
            FaultKind::PermissionMisconfiguration {
                group: pick(rng, groups),
                class: pick(rng, classes).expect("validation keeps at least one class"),
            }
        }
        TemplateKind::RogueAgentBurst {
            groups,
            defect_multiplier,
            escalation_multiplier,
        } => FaultKind::RogueAgentBurst {
            group: pick(rng, groups),
            defect_multiplier: uniform(rng, *defect_multiplier),
            escalation_multiplier: uniform(rng, *escalation_multiplier),
        },
        TemplateKind::MonitoringBlindSpot {
            service_share,
            detection_multiplier,
        } => FaultKind::MonitoringBlindSpot {
            service_share: uniform(rng, *service_share),
            detection_multiplier: uniform(rng, *detection_multiplier),
        },
        TemplateKind::DependencyDegradation => FaultKind::DependencyDegradation,
        TemplateKind::ResponderShortage { fraction } => FaultKind::ResponderShortage {
            fraction: uniform(rng, *fraction),
        },
    }
}

/// The fault schedule of campaign `campaign`: a random non-empty subset of the templates,
/// each with parameters drawn in its ranges, in template order.
pub fn draw_schedule(templates: &[FaultTemplate], seed: Seed, campaign: u32) -> Vec<DrawnFault> {
    let mut rng = seed.stream(SCHEDULE_STREAM, u64::from(campaign));
    let mut out = Vec::new();
    let mut drawn = Vec::with_capacity(templates.len());
    for (i, t) in templates.iter().enumerate() {
        let on = rng.random_bool(0.5);
        let at = minutes(&mut rng, t.at.from.as_ms(), t.at.to.as_ms());
        let duration = minutes(&mut rng, t.duration.from.as_ms(), t.duration.to.as_ms());
        let kind = draw_kind(&mut rng, &t.kind);
        let fault = DrawnFault {
            template: i,
            fault: Fault {
                kind,
                at: SimTime(at),
                duration: SimDuration(duration),
            },
        };
        if on {
            out.push(fault.clone());
        }
        drawn.push(fault);
    }
    // An empty schedule tests nothing the plain run does not: switch one template on.
    if out.is_empty() && !drawn.is_empty() {
        out.push(drawn.swap_remove(campaign as usize % templates.len()));
    }
    out
}

/// `base` with `schedule` injected after its own (fixed) faults.
pub fn world_with(base: &WorldConfig, schedule: &[DrawnFault]) -> WorldConfig {
    let mut w = base.clone();
    w.faults.extend(schedule.iter().map(|d| d.fault.clone()));
    w
}

/// The scenario name of a fault kind.
pub fn kind_name(kind: &FaultKind) -> &'static str {
    match kind {
        FaultKind::ReviewerOutage { .. } => "reviewer_outage",
        FaultKind::PermissionMisconfiguration { .. } => "permission_misconfiguration",
        FaultKind::RogueAgentBurst { .. } => "rogue_agent_burst",
        FaultKind::MonitoringBlindSpot { .. } => "monitoring_blind_spot",
        FaultKind::DependencyDegradation => "dependency_degradation",
        FaultKind::ResponderShortage { .. } => "responder_shortage",
    }
}

fn author_group(world: &WorldConfig, g: Option<usize>) -> String {
    g.map_or_else(
        || "every agent group".into(),
        |g| world.authors[g].name.clone(),
    )
}

fn reviewer_group(world: &WorldConfig, g: Option<usize>) -> String {
    g.map_or_else(
        || "every reviewer group".into(),
        |g| world.reviewers.groups[g].name.clone(),
    )
}

/// Rounds a drawn parameter for display: three significant decimals are plenty.
fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What a fault does, in words: "permission_misconfiguration (destructive granted to
/// ops-agents) from 12d 3h for 2d".
pub fn describe_fault(fault: &Fault, world: &WorldConfig) -> String {
    let what = match &fault.kind {
        FaultKind::ReviewerOutage { group, fraction } => format!(
            "{}% of {} away",
            num(fraction * 100.0),
            reviewer_group(world, *group)
        ),
        FaultKind::PermissionMisconfiguration { group, class } => format!(
            "{} granted to {}",
            class.name(),
            author_group(world, *group)
        ),
        FaultKind::RogueAgentBurst {
            group,
            defect_multiplier,
            escalation_multiplier,
        } => format!(
            "defects x{}, escalation x{} for {}",
            num(*defect_multiplier),
            num(*escalation_multiplier),
            author_group(world, *group)
        ),
        FaultKind::MonitoringBlindSpot {
            service_share,
            detection_multiplier,
        } => format!(
            "detection x{} on {}% of services",
            num(*detection_multiplier),
            num(service_share * 100.0)
        ),
        FaultKind::DependencyDegradation => "soft dependencies act as hard ones".into(),
        FaultKind::ResponderShortage { fraction } => {
            format!("{}% of responders away", num(fraction * 100.0))
        }
    };
    format!(
        "{} ({what}) from {} for {}",
        kind_name(&fault.kind),
        fault.at.since_start(),
        fault.duration
    )
}

/// The fault as a `[[faults]]` table of the scenario format; it validates back to
/// exactly `fault` (durations print exactly, floats round-trip through TOML).
pub fn fault_toml(fault: &Fault, world: &WorldConfig) -> toml::Table {
    let mut t = toml::Table::new();
    let mut put = |k: &str, v: toml::Value| {
        t.insert(k.to_string(), v);
    };
    put("kind", kind_name(&fault.kind).into());
    put("at", fault.at.since_start().to_string().into());
    put("duration", fault.duration.to_string().into());
    match &fault.kind {
        FaultKind::ReviewerOutage { group, fraction } => {
            if let Some(g) = group {
                put("group", world.reviewers.groups[*g].name.clone().into());
            }
            put("fraction", (*fraction).into());
        }
        FaultKind::PermissionMisconfiguration { group, class } => {
            if let Some(g) = group {
                put("group", world.authors[*g].name.clone().into());
            }
            put("class", class.name().into());
        }
        FaultKind::RogueAgentBurst {
            group,
            defect_multiplier,
            escalation_multiplier,
        } => {
            if let Some(g) = group {
                put("group", world.authors[*g].name.clone().into());
            }
            put("defect_multiplier", (*defect_multiplier).into());
            put("escalation_multiplier", (*escalation_multiplier).into());
        }
        FaultKind::MonitoringBlindSpot {
            service_share,
            detection_multiplier,
        } => {
            put("service_share", (*service_share).into());
            put("detection_multiplier", (*detection_multiplier).into());
        }
        FaultKind::DependencyDegradation => {}
        FaultKind::ResponderShortage { fraction } => put("fraction", (*fraction).into()),
    }
    t
}

/// The classes of a permission template milder than `class`, mildest first.
pub(crate) fn milder_classes(t: &FaultTemplate, class: ActionClass) -> Vec<ActionClass> {
    match &t.kind {
        TemplateKind::PermissionMisconfiguration { classes, .. } => {
            classes.iter().copied().filter(|c| *c < class).collect()
        }
        _ => Vec::new(),
    }
}
