//! Everything written to a results folder: CSV tables, the manifest, charts and the
//! leadership report. This layer does file I/O; everything below it is pure.

use std::path::Path;

pub mod atomic;
pub mod charts;
pub mod doc;
pub mod font;
pub mod journal;
pub mod manifest;
pub mod schema;
pub mod tables;
pub mod variations;

/// The headline metrics, in the order the report shows them: each gets a sweep chart,
/// and the report's arms table and `blastsim run`'s printed table lead with them.
pub const HEADLINE_METRICS: [&str; 6] = [
    "deploys_per_day",
    "lead_time_h_p50",
    "user_impact_min_total",
    "incidents",
    "senior_review_h_per_week",
    "blocks_false",
];

/// Redraws every chart and the report of a results folder from its CSV files and
/// `manifest.json` alone: what `blastsim run` calls after writing the tables, and what
/// `blastsim plot DIR` calls. The same files in give the same bytes out.
pub fn render(dir: &Path) -> anyhow::Result<()> {
    let results = charts::input::Results::load(dir)?;
    let drawn = charts::draw_all(dir, &results)?;
    doc::write(dir, &results, &drawn)?;
    Ok(())
}
