//! The blast-radius tail: expected incidents per year at least x user-impact minutes bad,
//! per arm, on log-log axes: counts per year, not shares, so an arm with a third of the
//! incidents sits a third as high. From `tail.csv` (every run's own counts at fixed
//! thresholds, so exact at each marker and independent of `run --incidents`), at the focus
//! point (the recommended one, else point 0).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use super::input::Results;
use super::style::{self, LegendItem};

pub(super) struct Ccdf<'a> {
    r: &'a Results,
    /// Per arm: (threshold, incidents per year at least this bad) above zero, by threshold.
    lines: Vec<Vec<(f64, f64)>>,
    /// Per arm: incidents per year of any impact (threshold 0).
    all: Vec<f64>,
}

impl<'a> Ccdf<'a> {
    /// Collects the data, or says why there is no chart.
    pub(super) fn new(r: &'a Results) -> Result<Self, String> {
        let Some(tail) = &r.tail else {
            return Err("tail.csv and incidents.csv are absent".to_string());
        };
        let mut lines = vec![Vec::new(); r.arms.len()];
        let mut all = vec![0.0; r.arms.len()];
        for t in tail.rows.iter().filter(|t| t.measure == "user_impact_min") {
            let Some(a) = r.arm_index(&t.arm) else {
                continue;
            };
            if t.threshold == 0.0 {
                all[a] = t.per_year;
            } else if t.per_year > 0.0 {
                lines[a].push((t.threshold, t.per_year));
            }
        }
        for l in &mut lines {
            l.sort_by(|x, y| x.0.total_cmp(&y.0));
        }
        if lines.iter().all(Vec::is_empty) {
            return Err(format!(
                "no incident with user impact above zero at {}",
                r.point_label_short(r.focus_point())
            ));
        }
        Ok(Ccdf { r, lines, all })
    }

    pub(super) fn caption(&self) -> String {
        format!(
            "Expected incidents per year at least as bad as x user-impact minutes (log-log), one \
             line per arm, mean over {} replications{}",
            self.r.replications(),
            self.r.focus_phrase(" ", "")
        )
    }
}

impl Chart for Ccdf<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let title = "How often is an incident at least this bad?".to_string();
        let subtitle = format!(
            "Expected incidents per year with at least x user-impact minutes, log-log; mean over {} replications{}.",
            r.replications(),
            self.r.focus_phrase(" ", "")
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;

        let pts = self.lines.iter().flatten();
        let xmin = pts.clone().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let xmax = pts.clone().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let ymin = pts.clone().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let ymax = pts.map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        // Whole decades, so the log axis labels read 1, 10, 100, ...
        let x0 = 10f64.powf(xmin.log10().floor());
        let x1 = 10f64.powf((xmax.log10() + 1e-9).ceil()).max(x0 * 10.0);
        let y0 = 10f64.powf(ymin.log10().floor());
        let y1 = 10f64.powf((ymax.log10() + 1e-9).ceil()).max(y0 * 10.0);

        let mut chart = ChartBuilder::on(&plot)
            .margin(24)
            .margin_right(40)
            .x_label_area_size(100)
            .y_label_area_size(140)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("User impact of one incident (user-impact minutes, log scale)")
            .y_desc("Incidents per year at least this bad (log scale)")
            .x_label_formatter(&style::fmt_log_tick)
            .y_label_formatter(&style::fmt_log_tick)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(style::LIGHT.mix(0.25))
            .draw()?;

        for (a, line) in self.lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let st = style::arm_style(a);
            let stroke = st.color.stroke_width(4);
            match st.dash {
                None => {
                    chart.draw_series(LineSeries::new(line.clone(), stroke))?;
                }
                Some((d, g)) => {
                    chart.draw_series(std::iter::once(DashedPathElement::new(
                        line.clone(),
                        d,
                        g,
                        stroke,
                    )))?;
                }
            }
            // A marker at each threshold: the counts are exact there.
            for p in line {
                style::draw_marker(chart.plotting_area(), st.marker, p, st.color, 8)?;
            }
        }

        let mut items = vec![LegendItem::Heading("Arms (incidents per year)".to_string())];
        for (i, a) in r.arms.iter().enumerate() {
            let label = if self.all[i] > 0.0 {
                format!("{a} ({})", style::fmt_num(self.all[i]))
            } else {
                format!("{a} (no incidents)")
            };
            items.push(LegendItem::Arm(i, label));
        }
        items.push(LegendItem::Note(
            "A line further up means more incidents that bad each year; further right, worse ones. Markers are exact counts at fixed thresholds (1-2-5 steps); lines join them."
                .to_string(),
        ));
        // Two arms with the very same counts draw one line over the other.
        for a in 1..self.lines.len() {
            if self.lines[a].is_empty() {
                continue;
            }
            if let Some(b) = (0..a).find(|&b| self.lines[b] == self.lines[a]) {
                items.push(LegendItem::Note(format!(
                    "{} had exactly the counts of {}: its line lies on top.",
                    r.arms[a], r.arms[b]
                )));
            }
        }
        style::legend(&legend, &items)?;
        Ok(())
    }
}
