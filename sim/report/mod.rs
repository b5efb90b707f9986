//! Everything written to a results folder: CSV tables, the manifest, charts and the
//! leadership report. This layer does file I/O; everything below it is pure.

use std::path::Path;

pub mod charts;
pub mod font;
pub mod report_doc;

/// Redraws every chart and the report of a results folder from its CSV files and
/// `manifest.json` alone: what `blastsim run` calls after writing the tables, and what
/// `blastsim plot DIR` calls. The same files in give the same bytes out.
pub fn render(dir: &Path) -> anyhow::Result<()> {
    let results = charts::input::Results::load(dir)?;
    let drawn = charts::draw_all(dir, &results)?;
    report_doc::write(dir, &results, &drawn)?;
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
/// reader (or a crash) never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
