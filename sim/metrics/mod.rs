//! Per-run metrics: the streaming collector and the summary it produces.
//!
//! Memory does not grow with the horizon: quantiles come from fixed-size histograms, and
//! only per-incident and per-day records are kept.

pub mod run_output;
pub mod summary;

pub use run_output::{DayStats, IncidentRecord, RunOutput, Violation};
pub use summary::{METRICS, MetricDef, RunSummary};
