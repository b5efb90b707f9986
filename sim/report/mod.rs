//! Everything written to a results folder: CSV tables, the manifest, charts and the
//! leadership report. This layer does file I/O; everything below it is pure.

use std::path::Path;

pub mod atomic;
pub mod journal;
pub mod manifest;
pub mod tables;

/// Draws the charts and the report of a results folder from its CSV files.
///
/// PLACEHOLDER until the charts land (the charts engineer owns the real one): does nothing.
pub fn render(dir: &Path) -> anyhow::Result<()> {
    let _ = dir;
    Ok(())
}
