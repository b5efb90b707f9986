//! The forest plot: for every arm other than the baseline, its paired difference from the
//! baseline (same seeds) on each business quantity of the first screen (`business`), with
//! its 95% confidence interval, one panel per quantity, a zero line in each. Every
//! quantity is oriented so that right of zero is worse, so the panels read one way.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::experiment::frontier::Interval;

use super::Chart;
use super::business::{self, Measure};
use super::input::Results;
use super::style::{self, LegendItem};

pub(super) struct Forest<'a> {
    r: &'a Results,
    measures: Vec<Measure>,
    /// Arms drawn, top to bottom (every arm but the baseline with a difference).
    arms: Vec<usize>,
}

impl<'a> Forest<'a> {
    /// The chart, or why there is none.
    pub(super) fn new(r: &'a Results) -> Result<Self, String> {
        let p = r.focus_point();
        let measures = business::measures(r);
        if measures.is_empty() {
            return Err("summary.csv has none of the metrics it compares".to_string());
        }
        let arms: Vec<usize> = (0..r.arms.len())
            .filter(|&a| a != r.baseline() && measures.iter().any(|m| m.diff(r, a, p).is_some()))
            .collect();
        if arms.is_empty() {
            return Err("no arm has paired differences from the baseline".to_string());
        }
        Ok(Forest { r, measures, arms })
    }

    pub(super) fn caption(&self) -> String {
        format!(
            "Each arm's difference from the baseline, {}, on the same simulated changes, with its 95% \
             confidence interval; right of zero is worse, a bar across zero is inconclusive{}",
            self.r.arms[self.r.baseline()],
            self.r.focus_phrase(" (", ")")
        )
    }
}

impl Chart for Forest<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let p = r.focus_point();
        let base = &r.arms[r.baseline()];
        let title = format!("What each policy changes against {base}");
        let subtitle = "Paired differences on the same seeds, 95% CIs. Right of the zero line is worse; a bar that crosses it is inconclusive.";
        let (plot, legend) = style::frame(root, title.as_str(), subtitle)?;
        let (labels, panels_area) = plot.split_horizontally(230);
        let k = self.measures.len();
        let panels = panels_area.split_evenly((1, k));
        let n = self.arms.len();
        // Row i (top first) sits at y = n - 1 - i.
        let row_y = |i: usize| (n - 1 - i) as f64;
        let mut row_px: Vec<i32> = Vec::new();
        for (j, (m, panel)) in self.measures.iter().zip(panels.iter()).enumerate() {
            let (head, body) = panel.split_vertically(84);
            let font = style::bold(style::TICK_PX - 3, BLACK);
            let width = head.dim_in_pixel().0 as i32 - 16;
            for (line_no, line) in style::wrap(&head, &m.short, &font, width)
                .into_iter()
                .take(3)
                .enumerate()
            {
                head.draw(&Text::new(line, (8, 6 + 26 * line_no as i32), font.clone()))?;
            }
            let diffs: Vec<Option<Interval>> = self.arms.iter().map(|&a| m.diff(r, a, p)).collect();
            let (mut lo, mut hi) = (0.0f64, 0.0f64);
            for d in diffs.iter().flatten() {
                if d.low.is_finite() && d.high.is_finite() {
                    lo = lo.min(d.low);
                    hi = hi.max(d.high);
                }
            }
            let (x0, x1) = style::padded(lo, hi, false);
            let mut chart = ChartBuilder::on(&body)
                .margin(8)
                .margin_right(18)
                .x_label_area_size(56)
                .y_label_area_size(0)
                .build_cartesian_2d(x0..x1, -0.6..(n as f64 - 0.4))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_labels(4)
                .x_label_formatter(&style::fmt_tick)
                .label_style(style::text(style::TICK_PX - 4, style::INK))
                .bold_line_style(style::LIGHT.mix(0.7))
                .light_line_style(TRANSPARENT)
                .draw()?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.6), (0.0, n as f64 - 0.4)],
                BLACK.stroke_width(2),
            )))?;
            for (i, (&a, d)) in self.arms.iter().zip(&diffs).enumerate() {
                if j == 0 {
                    row_px.push(chart.backend_coord(&(x0, row_y(i))).1);
                }
                let Some(d) = d else { continue };
                let s = style::arm_style(a);
                chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                    row_y(i),
                    d.low,
                    d.mean,
                    d.high,
                    s.color.stroke_width(4),
                    14,
                )))?;
                style::draw_marker(
                    chart.plotting_area(),
                    s.marker,
                    &(d.mean, row_y(i)),
                    s.color,
                    9,
                )?;
            }
        }
        // Arm names in the label column, level with their rows.
        let (bx, _) = labels.get_base_pixel();
        let lw = labels.dim_in_pixel().0 as i32;
        let (rx, ry) = root.get_base_pixel();
        for (&a, &y) in self.arms.iter().zip(&row_px) {
            let s = style::arm_style(a);
            let text = Text::new(
                r.arms[a].clone(),
                (bx - rx + lw - 12, y - ry),
                style::right_middle(style::bold(style::TICK_PX - 2, s.color)),
            );
            root.draw(&text)?;
        }

        let mut items = vec![LegendItem::Heading("Arms".to_string())];
        items.extend(
            self.arms
                .iter()
                .map(|&a| LegendItem::Arm(a, r.arms[a].clone())),
        );
        items.push(LegendItem::Heading("Reading it".to_string()));
        items.push(LegendItem::Note(format!(
            "Zero line: the same as {base}. Bars: 95% confidence intervals of the paired difference."
        )));
        items.push(LegendItem::Note(
            "Right of zero is worse: more outages, more user-hours lost, more deploys given up, more senior time, longer holds."
                .to_string(),
        ));
        if let Some(d) = business::horizon_days(r) {
            items.push(LegendItem::Note(format!(
                "Per-run figures scaled to a year: x 365 / {}.",
                style::fmt_num(d)
            )));
        }
        style::legend(&legend, &items)?;
        Ok(())
    }
}
