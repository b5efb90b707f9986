//! Cumulative user impact over simulated time, one line per arm: the mean over every
//! replication and its 95% confidence band, at the focus point. From
//! `impact_over_time.csv` (every run's own impact in fixed buckets of the horizon), so it
//! shows all replications, not one run, and does not depend on `run --incidents`.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use super::input::Results;
use super::style::{self, LegendItem};

pub(super) struct Impact<'a> {
    r: &'a Results,
    /// Per arm: (day, mean, CI low, CI high), starting at (0, 0, 0, 0).
    lines: Vec<Vec<(f64, f64, f64, f64)>>,
}

impl<'a> Impact<'a> {
    /// Collects the data, or says why there is no chart.
    pub(super) fn new(r: &'a Results) -> Result<Self, String> {
        let Some(rows) = &r.impact else {
            return Err("impact_over_time.csv is absent".to_string());
        };
        let mut lines: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); r.arms.len()];
        for row in rows {
            if let Some(a) = r.arm_index(&row.arm) {
                lines[a].push((row.day_end, row.mean, row.ci_low, row.ci_high));
            }
        }
        for l in &mut lines {
            l.sort_by(|x, y| x.0.total_cmp(&y.0));
            if !l.is_empty() {
                l.insert(0, (0.0, 0.0, 0.0, 0.0));
            }
        }
        if lines.iter().all(Vec::is_empty) {
            return Err("impact_over_time.csv has no rows at the focus point".to_string());
        }
        Ok(Impact { r, lines })
    }

    pub(super) fn caption(&self) -> String {
        format!(
            "Cumulative user-impact minutes over simulated time, one line per arm: mean over {} \
             replications with its 95% confidence band{}",
            self.r.replications(),
            self.r.focus_phrase(" ", "")
        )
    }
}

impl Chart for Impact<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let title = "User impact piling up over time".to_string();
        let subtitle = format!(
            "Cumulative user-impact minutes since day 0; line = mean over {} replications, band = its 95% CI{}.",
            r.replications(),
            self.r.focus_phrase(" ", "")
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;
        let pts = self.lines.iter().flatten();
        let x1 = pts.clone().map(|p| p.0).fold(0.0, f64::max).max(1.0);
        let top = pts.map(|p| p.3).fold(0.0, f64::max);
        let y1 = if top > 0.0 { top * 1.08 } else { 1.0 };
        let mut chart = ChartBuilder::on(&plot)
            .margin(24)
            .margin_right(40)
            .x_label_area_size(100)
            .y_label_area_size(160)
            .build_cartesian_2d(0.0..x1, 0.0..y1)?;
        chart
            .configure_mesh()
            .x_desc("Simulated day")
            .y_desc("User-impact minutes so far (cumulative)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&style::fmt_tick)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(TRANSPARENT)
            .draw()?;
        // Bands first, so every line is drawn over every band.
        for (a, line) in self.lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let st = style::arm_style(a);
            let mut band: Vec<(f64, f64)> = line.iter().map(|p| (p.0, p.3)).collect();
            band.extend(line.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(band, st.color.mix(0.14))))?;
        }
        for (a, line) in self.lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let st = style::arm_style(a);
            let mean: Vec<(f64, f64)> = line.iter().map(|p| (p.0, p.1)).collect();
            let stroke = st.color.stroke_width(4);
            match st.dash {
                None => {
                    chart.draw_series(LineSeries::new(mean.clone(), stroke))?;
                }
                Some((d, g)) => {
                    chart.draw_series(std::iter::once(DashedPathElement::new(
                        mean.clone(),
                        d,
                        g,
                        stroke,
                    )))?;
                }
            }
            if let Some(last) = mean.last() {
                style::draw_marker(chart.plotting_area(), st.marker, last, st.color, 9)?;
            }
        }
        let mut items = vec![LegendItem::Heading("Arms (mean at the end)".to_string())];
        for (i, a) in r.arms.iter().enumerate() {
            let end = self.lines[i].last().map_or(0.0, |p| p.1);
            items.push(LegendItem::Arm(i, format!("{a} ({})", style::fmt_num(end))));
        }
        items.push(LegendItem::Note(
            "A steeper line loses users' time faster. Where two bands overlap, the runs do not tell those arms apart at that day."
                .to_string(),
        ));
        style::legend(&legend, &items)?;
        Ok(())
    }
}
