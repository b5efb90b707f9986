//! `[[faults]]`: faults injected at fixed times, and which fields each fault kind takes
//! (shared with the `[chaos]` templates).

use std::ops::Range;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::engine::{SimDuration, SimTime};
use crate::model::config::{ActionClass, Fault, FaultKind, FaultType};
use crate::scenario::error::{Ctx, Loc, R, list_names, unknown_name};
use crate::scenario::people::{RawAuthorGroup, RawReviewerGroup};
use crate::scenario::values::{
    KindName, OneOrMany, RawDuration, duration, items, nonneg, positive_duration, prob,
};

/// `[[faults]]`: a flat table; which fields apply depends on `kind`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// What the fault does.
    pub kind: Loc<KindName<FaultType>>,
    /// Start, as time since the start of the run.
    pub at: RawDuration,
    /// How long it lasts.
    pub duration: RawDuration,
    /// Reviewer or author group, or a list of them: one fault per group listed
    /// (default: all).
    #[serde(default)]
    pub group: Option<Loc<OneOrMany>>,
    /// Share away (reviewer_outage, responder_shortage).
    #[serde(default)]
    pub fraction: Option<Loc<f64>>,
    /// Class granted (permission_misconfiguration).
    #[serde(default)]
    pub class: Option<Loc<KindName<ActionClass>>>,
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

/// The optional fields a fault kind accepts (beyond `kind`, `at` and `duration`), in
/// `[[faults]]` and in `[[chaos.faults]]` templates alike.
pub(crate) fn fields_of(kind: FaultType) -> &'static [&'static str] {
    match kind {
        FaultType::ReviewerOutage => &["group", "fraction"],
        FaultType::PermissionMisconfiguration => &["group", "class"],
        FaultType::RogueAgentBurst => &["group", "defect_multiplier", "escalation_multiplier"],
        FaultType::MonitoringBlindSpot => &["service_share", "detection_multiplier"],
        FaultType::DependencyDegradation => &[],
        FaultType::ResponderShortage => &["fraction"],
    }
}

/// Validates `[[faults]]`; every fault starts before `horizon` (`overridden` when it came
/// from the command line, for the message).
pub(crate) fn faults(
    cx: Ctx<'_>,
    raw: &[RawFault],
    authors: &[RawAuthorGroup],
    reviewers: &[RawReviewerGroup],
    horizon: SimDuration,
    overridden: bool,
) -> R<Vec<Fault>> {
    let author_names: Vec<&str> = authors.iter().map(|a| a.name.get().as_str()).collect();
    let reviewer_names: Vec<&str> = reviewers.iter().map(|a| a.name.get().as_str()).collect();
    let mut out = Vec::new();
    for f in raw {
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
        let at = duration(cx, &f.at)?;
        if at >= horizon {
            return Err(cx.err_at(
                &f.at,
                format!(
                    "the fault starts at {at}, at or after the horizon ({horizon}{})",
                    if overridden { ", set by --horizon" } else { "" }
                ),
            ));
        }
        let need = |name: &str| {
            cx.err_at(
                &f.kind,
                format!("fault kind `{}` needs `{name}`", kind.name()),
            )
        };
        // The groups named (one fault each), or `None` for all groups.
        let groups_of = |names: &[&str], what: &str| -> R<Vec<Option<usize>>> {
            match &f.group {
                Some(g) => {
                    let listed = items(g);
                    if listed.is_empty() {
                        return Err(cx.err_at(g, format!("the list of {what}s is empty")));
                    }
                    listed
                        .iter()
                        .map(|g| {
                            names
                                .iter()
                                .position(|n| *n == g.get().as_str())
                                .map(Some)
                                .ok_or_else(|| cx.err_at(g, unknown_name(what, g.get(), names)))
                        })
                        .collect()
                }
                None => Ok(vec![None]),
            }
        };
        let (groups, what) = match kind {
            FaultType::ReviewerOutage => (&reviewer_names, "reviewer group"),
            FaultType::PermissionMisconfiguration
            | FaultType::RogueAgentBurst
            | FaultType::MonitoringBlindSpot
            | FaultType::DependencyDegradation
            | FaultType::ResponderShortage => (&author_names, "author group"),
        };
        let duration = positive_duration(cx, &f.duration, "duration")?;
        for group in groups_of(groups, what)? {
            let fault_kind = match kind {
                FaultType::ReviewerOutage => FaultKind::ReviewerOutage {
                    group,
                    fraction: prob(
                        cx,
                        f.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                        "fraction",
                    )?,
                },
                FaultType::PermissionMisconfiguration => FaultKind::PermissionMisconfiguration {
                    group,
                    class: cx.kind(f.class.as_ref().ok_or_else(|| need("class"))?)?,
                },
                FaultType::RogueAgentBurst => {
                    if f.defect_multiplier.is_none() && f.escalation_multiplier.is_none() {
                        return Err(need("defect_multiplier` or `escalation_multiplier"));
                    }
                    let mult = |v: &Option<Loc<f64>>, what: &str| {
                        v.as_ref().map_or(Ok(1.0), |v| nonneg(cx, v, what))
                    };
                    FaultKind::RogueAgentBurst {
                        group,
                        defect_multiplier: mult(&f.defect_multiplier, "defect_multiplier")?,
                        escalation_multiplier: mult(
                            &f.escalation_multiplier,
                            "escalation_multiplier",
                        )?,
                    }
                }
                FaultType::MonitoringBlindSpot => FaultKind::MonitoringBlindSpot {
                    service_share: prob(
                        cx,
                        f.service_share
                            .as_ref()
                            .ok_or_else(|| need("service_share"))?,
                        "service_share",
                    )?,
                    detection_multiplier: nonneg(
                        cx,
                        f.detection_multiplier
                            .as_ref()
                            .ok_or_else(|| need("detection_multiplier"))?,
                        "detection_multiplier",
                    )?,
                },
                FaultType::DependencyDegradation => FaultKind::DependencyDegradation,
                FaultType::ResponderShortage => FaultKind::ResponderShortage {
                    fraction: prob(
                        cx,
                        f.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                        "fraction",
                    )?,
                },
            };
            out.push(Fault {
                kind: fault_kind,
                at: SimTime(at.as_ms()),
                duration,
            });
        }
    }
    Ok(out)
}

/// Checks that every field given for a fault (a name and where it stands) applies to its
/// kind: shared by `[[faults]]` and `[chaos]` templates.
pub(crate) fn fault_fields_apply(
    cx: Ctx<'_>,
    kind: FaultType,
    fields: [(&str, Option<Range<usize>>); 7],
) -> R<()> {
    let allowed = fields_of(kind);
    for (name, span) in fields {
        if let Some(span) = span
            && !allowed.contains(&name)
        {
            let takes = if allowed.is_empty() {
                "it takes only `kind`, `at` and `duration`".to_string()
            } else {
                format!("it takes {}", list_names(allowed))
            };
            return Err(cx.err(
                span,
                format!(
                    "`{name}` does not apply to fault kind `{}`; {takes}",
                    kind.name()
                ),
            ));
        }
    }
    Ok(())
}
