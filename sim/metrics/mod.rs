//! Per-run metrics: the streaming collector and the summary it produces.
//!
//! Memory does not grow with the horizon: quantiles come from fixed-size histograms, and
//! only per-incident and per-day records are kept.

pub mod collector;
pub mod run_output;
pub mod summary;
pub mod trace;

pub use collector::{Collector, quantile_sorted};
pub use run_output::{DayStats, IncidentRecord, RunOutput, Violation};
pub use summary::{METRICS, MetricDef, RunSummary};
pub use trace::{BreakerKind, BreakerState, CascadeHit, ReviewNeed, TraceEvent, TraceRecord};
