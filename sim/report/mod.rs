//! Everything written to a results folder: CSV tables, the manifest, charts and the
//! leadership report. This layer does file I/O; everything below it is pure.

use std::path::Path;

pub mod atomic;
pub mod charts;
pub mod font;
pub mod journal;
pub mod manifest;
pub mod report_doc;
pub mod tables;

/// Redraws every chart and the report of a results folder from its CSV files and
/// `manifest.json` alone: what `blastsim run` calls after writing the tables, and what
/// `blastsim plot DIR` calls. The same files in give the same bytes out.
pub fn render(dir: &Path) -> anyhow::Result<()> {
    let results = charts::input::Results::load(dir)?;
    let drawn = charts::draw_all(dir, &results)?;
    report_doc::write(dir, &results, &drawn)?;
    Ok(())
}
