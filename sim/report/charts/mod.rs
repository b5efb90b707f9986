//! Every chart of a results folder, each drawn once by backend-generic code and saved as
//! SVG and PNG (1600×1000).
//!
//! - `forest`: each arm's paired differences from the baseline in business units;
//! - `frontier`: velocity against blast radius, CI error bars, Pareto frontier, the
//!   constraints and the recommendation;
//! - `sweep_<metric>` / `heatmap_<metric>`: key metrics against the swept parameters;
//! - `ccdf_impact`: expected incidents per year at least x user-impact minutes bad, log-log;
//! - `impact_over_time`: cumulative user impact per arm, mean and 95% band over replications;
//! - `timeline_<arm>`: one simulated run day by day, of one arm (the recommended one, else
//!   the baseline), for the appendix;
//! - `graph`: the dependency graph with the worst incident's blast radius;
//! - `tornado`: how the recommendation's lead moves with each `[sensitivity]` assumption.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

pub mod business;
pub mod input;
pub mod style;

mod ccdf;
mod forest;
mod frontier;
mod graph;
mod impact;
mod sweep;
mod timeline;
mod tornado;

use input::Results;

/// A chart written to disk.
#[derive(Clone, Debug)]
pub struct ChartFile {
    /// File stem: `<name>.svg` and `<name>.png`.
    pub name: String,
    /// One sentence on what it shows, for the report.
    pub caption: String,
    /// The SVG text (the report inlines it).
    pub svg: String,
}

/// What `draw_all` produced.
#[derive(Clone, Debug, Default)]
pub struct Charts {
    /// Charts written, in report order.
    pub files: Vec<ChartFile>,
    /// Charts not drawn, each with the reason (the report says so).
    pub skipped: Vec<String>,
}

impl Charts {
    /// The chart called `name`, if it was drawn.
    pub fn get(&self, name: &str) -> Option<&ChartFile> {
        self.files.iter().find(|c| c.name == name)
    }
}

/// One chart: drawing code that works on any plotters backend.
trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws every chart the data allows into `dir`.
///
/// Each chart is independent of the others, so they are drawn in parallel (on the current
/// rayon pool) and listed in report order: the files and the list are the same whatever
/// the thread count.
pub fn draw_all(dir: &Path, r: &Results) -> anyhow::Result<Charts> {
    use rayon::prelude::*;
    crate::report::font::register()?;
    let mut out = Charts::default();
    // The charts to draw, in report order.
    let mut jobs: Vec<Job<'_>> = Vec::new();
    match forest::Forest::new(r) {
        Ok(c) => save(dir, "forest", c.caption(), c, &mut jobs),
        Err(why) => out.skipped.push(format!("forest: {why}")),
    }
    let f = frontier::Frontier::new(r);
    save(dir, "frontier", f.caption(), f, &mut jobs);

    if r.axes().is_empty() || r.points.len() < 2 {
        out.skipped
            .push("sweep charts: the scenario sweeps no parameter".to_string());
    } else {
        for metric in crate::report::HEADLINE_METRICS {
            if !r.summary.has_metric(metric) {
                out.skipped.push(format!(
                    "sweep_{metric}: summary.csv has no `{metric}` rows"
                ));
                continue;
            }
            let s = sweep::Sweep::new(r, metric);
            save(dir, &format!("sweep_{metric}"), s.caption(), s, &mut jobs);
            if r.axes().len() >= 2 {
                let h = sweep::Heatmap::new(r, metric);
                save(dir, &format!("heatmap_{metric}"), h.caption(), h, &mut jobs);
            }
        }
    }

    match ccdf::Ccdf::new(r) {
        Ok(c) => save(dir, "ccdf_impact", c.caption(), c, &mut jobs),
        Err(why) => out.skipped.push(format!("ccdf_impact: {why}")),
    }

    match impact::Impact::new(r) {
        Ok(c) => save(dir, "impact_over_time", c.caption(), c, &mut jobs),
        Err(why) => out.skipped.push(format!("impact_over_time: {why}")),
    }

    match &r.timeline {
        None => out
            .skipped
            .push("timeline: timeline.csv is absent".to_string()),
        Some(rows) => {
            let arm = r.timeline_arm();
            let name = format!("timeline_{}", style::slug(&r.arms[arm]));
            let t = timeline::Timeline::new(r, rows, arm);
            if t.is_empty() {
                out.skipped
                    .push(format!("{name}: timeline.csv has no days for this arm"));
            } else {
                save(dir, &name, t.caption(), t, &mut jobs);
            }
        }
    }

    match tornado::Tornado::new(r) {
        Ok(t) => save(dir, "tornado", t.caption(), t, &mut jobs),
        Err(why) => out.skipped.push(format!("tornado: {why}")),
    }

    match &r.graph {
        None => out.skipped.push(
            "graph: graph_nodes.csv / graph_edges.csv are absent (not written for very large graphs)".to_string(),
        ),
        Some(g) => {
            let c = graph::GraphChart::new(r, g);
            save(dir, "graph", c.caption(), c, &mut jobs);
        }
    }
    out.files = jobs
        .into_par_iter()
        .map(|job| job())
        .collect::<anyhow::Result<_>>()?;
    Ok(out)
}

/// One chart to draw and save.
type Job<'a> = Box<dyn FnOnce() -> anyhow::Result<ChartFile> + Send + 'a>;

/// Queues `chart` to be drawn to `<name>.svg` and `<name>.png` in `dir`.
fn save<'a, C: Chart + Send + Sync + 'a>(
    dir: &'a Path,
    name: &str,
    caption: String,
    chart: C,
    jobs: &mut Vec<Job<'a>>,
) {
    let name = name.to_string();
    jobs.push(Box::new(move || draw_files(dir, &name, caption, &chart)));
}

/// Draws `chart` to `<name>.svg` and `<name>.png`, each written to a temporary file and
/// renamed, so a reader never sees half a chart.
fn draw_files<C: Chart + Sync>(
    dir: &Path,
    name: &str,
    caption: String,
    chart: &C,
) -> anyhow::Result<ChartFile> {
    // The SVG and the PNG are drawn independently, so in parallel.
    let (svg, png) = rayon::join(
        || -> anyhow::Result<String> {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, style::SIZE).into_drawing_area();
                root.fill(&WHITE)?;
                chart.draw(&root)?;
                root.present()?;
            }
            crate::report::atomic::write_unsynced(
                &dir.join(format!("{name}.svg")),
                svg.as_bytes(),
            )?;
            Ok(svg)
        },
        || -> anyhow::Result<()> {
            // The bitmap encoder picks the format from the extension, so the temporary
            // name keeps `.png` at the end.
            let tmp = dir.join(format!(".{name}.tmp.png"));
            {
                let root = BitMapBackend::new(&tmp, style::SIZE).into_drawing_area();
                root.fill(&WHITE)?;
                chart.draw(&root)?;
                root.present()?;
            }
            let dest = dir.join(format!("{name}.png"));
            std::fs::rename(&tmp, &dest)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", dest.display()))
        },
    );
    let svg = svg?;
    png?;
    Ok(ChartFile {
        name: name.to_string(),
        caption,
        svg,
    })
}
