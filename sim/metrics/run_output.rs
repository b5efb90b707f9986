//! What one run hands back: its summary row, its incidents, its violations and its daily
//! timeline. Everything here is bounded by the number of incidents and days, never by the
//! number of events.

use crate::engine::{SimDuration, SimTime, StopReason};
use crate::metrics::summary::RunSummary;
use crate::model::config::{ActionClass, AuthorKind, InvariantKind, Severity};
use crate::model::graph::ServiceId;

/// One incident, as written to `incidents.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRecord {
    /// The id of the change that caused it.
    pub change_id: u64,
    /// Index of the author group.
    pub author_group: usize,
    /// Agent or human.
    pub author_kind: AuthorKind,
    /// Action class of the change.
    pub class: ActionClass,
    /// How bad the defect was.
    pub severity: Severity,
    /// The service the change targeted.
    pub origin: ServiceId,
    /// When the fault began.
    pub started_at: SimTime,
    /// When monitoring noticed it.
    pub detected_at: SimTime,
    /// When the last affected service was back.
    pub restored_at: SimTime,
    /// Services down at any point.
    pub services_hit: u32,
    /// Peak share of user traffic lost.
    pub users_hit_peak: f64,
    /// Sum over services of traffic share x minutes down (x the share of cells affected).
    pub user_impact_min: f64,
    /// Whether recovery was a rebuild (environment deletion) rather than a rollback.
    pub rebuilt: bool,
}

impl IncidentRecord {
    /// Fault to full recovery.
    pub fn duration(&self) -> SimDuration {
        self.restored_at.saturating_since(self.started_at)
    }
}

/// An invariant that a run broke.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Which invariant was broken.
    pub invariant: InvariantKind,
    /// When it was broken.
    pub at: SimTime,
    /// The change involved, if any.
    pub change_id: Option<u64>,
    /// The observed value against the limit, in words.
    pub detail: String,
}

/// One simulated day of one run (for the timeline chart).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayStats {
    /// Changes deployed that day.
    pub deploys: u32,
    /// Incidents that started that day.
    pub incidents: u32,
    /// Largest peak share of users hit by an incident that started that day.
    pub users_hit_max: f64,
    /// User-impact minutes of incidents that started that day.
    pub user_impact_min: f64,
    /// Per-agent breaker trips that day.
    pub breaker_trips: u32,
    /// Hours of error-budget freeze that day.
    pub freeze_h: f64,
    /// Hours of kill-switch halt that day.
    pub kill_switch_h: f64,
}

/// Everything one run produces.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The `runs.csv` row.
    pub summary: RunSummary,
    /// Every incident, in start order.
    pub incidents: Vec<IncidentRecord>,
    /// Every invariant violation, in time order.
    pub violations: Vec<Violation>,
    /// One entry per simulated day.
    pub days: Vec<DayStats>,
    /// The services hit by the run's worst incident (largest user-impact minutes).
    pub worst_hit: Vec<ServiceId>,
    /// Hash of every dispatched event: the witness of determinism.
    pub fingerprint: u64,
    /// Which limit ended the run.
    pub stop: StopReason,
}
