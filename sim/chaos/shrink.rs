//! Shrinking: cut a failing fault schedule down to a minimal one that still breaks the
//! same invariant, on the same world and seed.
//!
//! Three passes, each keeping a change only if the run still fails:
//! 1. drop faults one at a time (repeated until no fault can go);
//! 2. halve each fault's duration, down to one minute;
//! 3. pull each parameter to its template's mildest value (`from`), or, if that passes,
//!    bisect a few times towards it; try milder granted classes, mildest first.
//!
//! Deterministic (a fixed order of trials, each a pure run) and bounded: at most
//! `max_steps` runs in all.

use crate::engine::{Seed, SimDuration};
use crate::metrics::simulate;
use crate::model::config::{FaultKind, InvariantKind, WorldConfig};
use crate::scenario::chaos::{Bounds, FaultTemplate, TemplateKind};

use super::schedule::{DrawnFault, milder_classes, world_with};

/// Bisection steps per parameter once its mildest value no longer fails.
const BISECT_STEPS: u32 = 3;
/// The shortest duration the halving pass tries.
const MIN_DURATION: SimDuration = SimDuration::from_mins(1);

/// The result of shrinking.
#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// The minimal failing schedule found.
    pub schedule: Vec<DrawnFault>,
    /// Runs spent.
    pub steps: u32,
    /// Whether the step budget ran out before every pass finished.
    pub exhausted: bool,
}

struct Shrinker<'a> {
    base: &'a WorldConfig,
    seed: Seed,
    invariant: InvariantKind,
    steps: u32,
    max_steps: u32,
    /// The last schedule that still failed: every failing trial is kept, so this is the
    /// current state when the budget runs out.
    best: Vec<DrawnFault>,
}

impl Shrinker<'_> {
    /// Whether `schedule` still breaks the invariant; `None` when the budget is spent.
    fn fails(&mut self, schedule: &[DrawnFault]) -> Option<bool> {
        if self.steps >= self.max_steps {
            return None;
        }
        self.steps += 1;
        let out = simulate(&world_with(self.base, schedule), self.seed);
        let fails = out.violations.iter().any(|v| v.invariant == self.invariant);
        if fails {
            self.best = schedule.to_vec();
        }
        Some(fails)
    }

    /// Tries `candidate` in place of fault `i`; keeps it if the run still fails.
    fn try_fault(&mut self, s: &mut [DrawnFault], i: usize, candidate: FaultKind) -> Option<bool> {
        let old = std::mem::replace(&mut s[i].fault.kind, candidate);
        let ok = self.fails(s);
        if ok != Some(true) {
            s[i].fault.kind = old;
        }
        ok
    }

    /// Pulls one parameter of fault `i` towards `mild`; `get`/`set` reach the parameter.
    fn pull(
        &mut self,
        s: &mut [DrawnFault],
        i: usize,
        mild: f64,
        get: fn(&FaultKind) -> f64,
        set: fn(&mut FaultKind, f64),
    ) -> Option<()> {
        let mut cur = get(&s[i].fault.kind);
        if cur <= mild {
            return Some(());
        }
        let mut k = s[i].fault.kind.clone();
        set(&mut k, mild);
        if self.try_fault(s, i, k)? {
            return Some(());
        }
        // The mildest value passes: bisect between it (passes) and `cur` (fails).
        let mut lo = mild;
        for _ in 0..BISECT_STEPS {
            let mid = (lo + cur) / 2.0;
            let mut k = s[i].fault.kind.clone();
            set(&mut k, mid);
            if self.try_fault(s, i, k)? {
                cur = mid;
            } else {
                lo = mid;
            }
        }
        Some(())
    }

    fn run(
        &mut self,
        schedule: &[DrawnFault],
        templates: &[FaultTemplate],
    ) -> Option<Vec<DrawnFault>> {
        let mut s = schedule.to_vec();
        // 1. Drop faults.
        loop {
            let mut dropped = false;
            let mut i = 0;
            while i < s.len() {
                let mut without = s.clone();
                without.remove(i);
                if self.fails(&without)? {
                    s = without;
                    dropped = true;
                } else {
                    i += 1;
                }
            }
            if !dropped {
                break;
            }
        }
        // 2. Halve durations.
        for i in 0..s.len() {
            loop {
                let d = s[i].fault.duration;
                let half = SimDuration(d.as_ms() / 2).max(MIN_DURATION);
                if half >= d {
                    break;
                }
                let mut t = s.clone();
                t[i].fault.duration = half;
                if self.fails(&t)? {
                    s = t;
                } else {
                    break;
                }
            }
        }
        // 3. Milder parameters.
        for i in 0..s.len() {
            let template = &templates[s[i].template];
            for c in milder_classes(template, class_of(&s[i].fault.kind)?) {
                let mut k = s[i].fault.kind.clone();
                if let FaultKind::PermissionMisconfiguration { class, .. } = &mut k {
                    *class = c;
                }
                if self.try_fault(&mut s, i, k)? {
                    break;
                }
            }
            for (mild, get, set) in params(&template.kind) {
                self.pull(&mut s, i, mild, get, set)?;
            }
        }
        Some(s)
    }
}

type Param = (f64, fn(&FaultKind) -> f64, fn(&mut FaultKind, f64));

/// The numeric parameters of a template's faults: mildest value, getter, setter.
fn params(kind: &TemplateKind) -> Vec<Param> {
    fn mild(b: &Bounds<f64>) -> f64 {
        b.from
    }
    match kind {
        TemplateKind::ReviewerOutage { fraction, .. } => vec![(
            mild(fraction),
            |k| match k {
                FaultKind::ReviewerOutage { fraction, .. } => *fraction,
                _ => 0.0,
            },
            |k, v| {
                if let FaultKind::ReviewerOutage { fraction, .. } = k {
                    *fraction = v;
                }
            },
        )],
        TemplateKind::ResponderShortage { fraction } => vec![(
            mild(fraction),
            |k| match k {
                FaultKind::ResponderShortage { fraction } => *fraction,
                _ => 0.0,
            },
            |k, v| {
                if let FaultKind::ResponderShortage { fraction } = k {
                    *fraction = v;
                }
            },
        )],
        TemplateKind::RogueAgentBurst {
            defect_multiplier,
            escalation_multiplier,
            ..
        } => vec![
            (
                mild(defect_multiplier),
                |k| match k {
                    FaultKind::RogueAgentBurst {
                        defect_multiplier, ..
                    } => *defect_multiplier,
                    _ => 0.0,
                },
                |k, v| {
                    if let FaultKind::RogueAgentBurst {
                        defect_multiplier, ..
                    } = k
                    {
                        *defect_multiplier = v;
                    }
                },
            ),
            (
                mild(escalation_multiplier),
                |k| match k {
                    FaultKind::RogueAgentBurst {
                        escalation_multiplier,
                        ..
                    } => *escalation_multiplier,
                    _ => 0.0,
                },
                |k, v| {
                    if let FaultKind::RogueAgentBurst {
                        escalation_multiplier,
                        ..
                    } = k
                    {
                        *escalation_multiplier = v;
                    }
                },
            ),
        ],
        TemplateKind::MonitoringBlindSpot {
            service_share,
            detection_multiplier,
        } => vec![
            (
                mild(service_share),
                |k| match k {
                    FaultKind::MonitoringBlindSpot { service_share, .. } => *service_share,
                    _ => 0.0,
                },
                |k, v| {
                    if let FaultKind::MonitoringBlindSpot { service_share, .. } = k {
                        *service_share = v;
                    }
                },
            ),
            (
                mild(detection_multiplier),
                |k| match k {
                    FaultKind::MonitoringBlindSpot {
                        detection_multiplier,
                        ..
                    } => *detection_multiplier,
                    _ => 0.0,
                },
                |k, v| {
                    if let FaultKind::MonitoringBlindSpot {
                        detection_multiplier,
                        ..
                    } = k
                    {
                        *detection_multiplier = v;
                    }
                },
            ),
        ],
        TemplateKind::PermissionMisconfiguration { .. } | TemplateKind::DependencyDegradation => {
            Vec::new()
        }
    }
}

/// The granted class of a permission fault; a harmless placeholder for other kinds (no
/// milder class is tried for them).
fn class_of(kind: &FaultKind) -> Option<crate::model::config::ActionClass> {
    Some(match kind {
        FaultKind::PermissionMisconfiguration { class, .. } => *class,
        _ => crate::model::config::ActionClass::ReadOnly,
    })
}

/// Shrinks `schedule`, which breaks `invariant` on `base` (with its fixed faults) from
/// `seed`, to a minimal schedule that still breaks it, in at most `max_steps` runs.
///
/// If `schedule` does not fail to begin with, it comes back unchanged after one run.
pub fn shrink(
    base: &WorldConfig,
    templates: &[FaultTemplate],
    schedule: &[DrawnFault],
    seed: Seed,
    invariant: InvariantKind,
    max_steps: u32,
) -> Shrunk {
    let mut sh = Shrinker {
        base,
        seed,
        invariant,
        steps: 0,
        max_steps,
        best: schedule.to_vec(),
    };
    if sh.fails(schedule) != Some(true) {
        return Shrunk {
            schedule: schedule.to_vec(),
            steps: sh.steps,
            exhausted: false,
        };
    }
    let result = sh.run(schedule, templates);
    Shrunk {
        exhausted: result.is_none(),
        schedule: result.unwrap_or(sh.best),
        steps: sh.steps,
    }
}
