//! The blast-radius tail: the complementary CDF of user-impact minutes per incident, on
//! log-log axes so a heavy tail shows as a line that stays high far to the right. Pooled
//! over every replication at the focus point (the recommended one, else point 0).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use super::input::Results;
use super::style::{self, LegendItem};

pub(super) struct Ccdf<'a> {
    r: &'a Results,
    /// Per arm: impacts above zero, sorted ascending.
    impacts: Vec<Vec<f64>>,
    /// Per arm: incidents with zero impact (not drawable on a log axis).
    zeros: Vec<usize>,
}

impl<'a> Ccdf<'a> {
    /// Collects the data, or says why there is no chart.
    pub(super) fn new(r: &'a Results) -> Result<Self, String> {
        let Some(incidents) = &r.incidents else {
            return Err("incidents.csv is absent".to_string());
        };
        let p = r.focus_point();
        let mut impacts = vec![Vec::new(); r.arms.len()];
        let mut zeros = vec![0; r.arms.len()];
        for i in incidents.iter().filter(|i| i.point == p) {
            let Some(a) = r.arm_index(&i.arm) else {
                continue;
            };
            if i.user_impact_min > 0.0 && i.user_impact_min.is_finite() {
                impacts[a].push(i.user_impact_min);
            } else {
                zeros[a] += 1;
            }
        }
        if impacts.iter().all(Vec::is_empty) {
            return Err(format!(
                "no incident with user impact above zero at {}",
                r.point_label_short(p)
            ));
        }
        for v in &mut impacts {
            v.sort_by(f64::total_cmp);
        }
        Ok(Ccdf { r, impacts, zeros })
    }

    pub(super) fn caption(&self) -> String {
        let at = self.r.focus_description();
        format!(
            "Share of incidents at least as bad as x user-impact minutes (log-log), one line per arm, \
             pooled over all replications{}",
            if at.is_empty() {
                String::new()
            } else {
                format!(" {at}")
            }
        )
    }
}

/// The empirical CCDF as a staircase: P(X >= x_i) = (n - i) / n for sorted x.
fn staircase(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len() as f64;
    let mut out = Vec::with_capacity(sorted.len() * 2);
    for (i, x) in sorted.iter().enumerate() {
        let y = (sorted.len() - i) as f64 / n;
        // P(X >= x) keeps its value up to and including x_i, then drops: so the step
        // down happens at the previous value.
        if i > 0 {
            out.push((sorted[i - 1], y));
        }
        out.push((*x, y));
    }
    out
}

impl Chart for Ccdf<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let at = r.focus_description();
        let title = "How bad do incidents get? The tail of user impact per incident".to_string();
        let subtitle = format!(
            "Share of incidents at least as bad as x, log-log; {} replications pooled{}.",
            r.replications(),
            if at.is_empty() {
                String::new()
            } else {
                format!(" {at}")
            }
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;

        let all = self.impacts.iter().flatten();
        let xmin = all.clone().copied().fold(f64::INFINITY, f64::min);
        let xmax = all.copied().fold(f64::NEG_INFINITY, f64::max);
        let nmax = self.impacts.iter().map(Vec::len).max().unwrap_or(1).max(1);
        // Whole decades, so the log axis labels read 1, 10, 100, ...
        let x0 = 10f64.powf(xmin.log10().floor());
        let x1 = 10f64.powf((xmax.log10() + 1e-9).ceil()).max(x0 * 10.0);
        let y0 = 10f64.powf((1.0 / nmax as f64).log10().floor()).min(0.1);

        let mut chart = ChartBuilder::on(&plot)
            .margin(24)
            .margin_right(40)
            .x_label_area_size(100)
            .y_label_area_size(140)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..1.0).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("User impact of one incident (user-impact minutes, log scale)")
            .y_desc("Share of incidents at least this bad (log scale)")
            .x_label_formatter(&style::fmt_log_tick)
            .y_label_formatter(&style::fmt_log_pct)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(style::LIGHT.mix(0.25))
            .draw()?;

        for (a, v) in self.impacts.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let st = style::arm_style(a);
            let line = staircase(v);
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
            // A few markers per line (not one per incident) so arms are told apart
            // without burying the line; the last one marks the worst incident.
            let n = v.len();
            let every = n.div_ceil(6).max(1);
            let marks = (0..n)
                .filter(|i| i % every == 0 || *i == n - 1)
                .map(|i| (v[i], (n - i) as f64 / n as f64));
            for p in marks {
                style::draw_marker(chart.plotting_area(), st.marker, &p, st.color, 9)?;
            }
        }

        let mut items = vec![LegendItem::Heading("Arms (incidents)".to_string())];
        for (i, a) in r.arms.iter().enumerate() {
            let n = self.impacts[i].len();
            let label = match (n, self.zeros[i]) {
                (0, 0) => format!("{a} (no incidents)"),
                (n, 0) => format!("{a} ({n})"),
                (n, z) => format!("{a} ({n}; {z} at zero impact not shown)"),
            };
            items.push(LegendItem::Arm(i, label));
        }
        items.push(LegendItem::Note(
            "A line that stays high further right means more large outages. The last marker on each line is its worst incident."
                .to_string(),
        ));
        // Two arms with the very same incidents draw one line over the other.
        for a in 1..self.impacts.len() {
            if self.impacts[a].is_empty() {
                continue;
            }
            if let Some(b) = (0..a).find(|&b| self.impacts[b] == self.impacts[a]) {
                items.push(LegendItem::Note(format!(
                    "{} had exactly the incidents of {}: its line lies on top.",
                    r.arms[a], r.arms[b]
                )));
            }
        }
        style::legend(&legend, &items)?;
        Ok(())
    }
}
