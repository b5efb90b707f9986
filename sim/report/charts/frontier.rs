//! The headline chart: velocity (x) against blast radius (y) for every arm and sweep
//! point, with 95% CI error bars both ways, the Pareto frontier as a step line and the
//! recommended setting ringed and labelled.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Chart;
use super::input::Results;
use super::style::{self, LegendItem, Marker};

pub(super) struct Frontier<'a> {
    r: &'a Results,
}

impl<'a> Frontier<'a> {
    pub(super) fn new(r: &'a Results) -> Self {
        Frontier { r }
    }

    pub(super) fn caption(&self) -> String {
        format!(
            "{} (x, higher is better) against {} (y, lower is better) for every arm and setting; \
             bars are 95% confidence intervals, the grey staircase is the Pareto frontier",
            style::metric_name(&self.r.manifest.velocity),
            style::metric_name(&self.r.manifest.risk).to_lowercase()
        )
    }
}

/// The staircase bounding the region the frontier dominates: from each frontier point up
/// to the next one's risk, then across to its velocity.
fn staircase(mut pts: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out = Vec::with_capacity(pts.len() * 2);
    for (i, p) in pts.iter().enumerate() {
        if i > 0 {
            out.push((pts[i - 1].0, p.1));
        }
        out.push(*p);
    }
    out
}

impl Chart for Frontier<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let (vm, rm) = (&r.manifest.velocity, &r.manifest.risk);
        let pts = r.objective_points();
        let per = if r.points.len() > 1 { "one arm at one sweep setting" } else { "one arm" };
        let title = format!(
            "Velocity vs blast radius: {} against {}",
            style::metric_name(vm).to_lowercase(),
            style::metric_name(rm).to_lowercase()
        );
        let subtitle = format!(
            "Each marker is {per}: mean of {} replications, bars are 95% CIs. Best is bottom right.",
            r.replications()
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;

        let lo_hi = |s: &super::input::Stat| {
            let lo = if s.ci_low.is_finite() { s.ci_low } else { s.mean };
            let hi = if s.ci_high.is_finite() { s.ci_high } else { s.mean };
            (lo.min(s.mean), hi.max(s.mean))
        };
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for (_, _, v, k) in &pts {
            let (a, b) = lo_hi(v);
            let (c, d) = lo_hi(k);
            (x0, x1, y0, y1) = (x0.min(a), x1.max(b), y0.min(c), y1.max(d));
        }
        let (x0, x1) = style::padded(x0, x1, false);
        let (y0, y1) = style::padded(y0, y1, true);

        let mut chart = ChartBuilder::on(&plot)
            .margin(24)
            .margin_right(40)
            .x_label_area_size(100)
            .y_label_area_size(140)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(format!("{}, higher is better", style::metric_label(vm)))
            .y_desc(format!("{}, lower is better", style::metric_label(rm)))
            .x_label_formatter(&style::fmt_tick)
            .y_label_formatter(&style::fmt_tick)
            .x_labels(8)
            .y_labels(8)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(TRANSPARENT)
            .draw()?;

        // Frontier first, so markers sit on top of it.
        let front = r.frontier();
        let front_xy: Vec<(f64, f64)> = pts
            .iter()
            .filter(|(a, p, ..)| front.contains(&(*a, *p)))
            .map(|(_, _, v, k)| (v.mean, k.mean))
            .collect();
        if front_xy.len() > 1 {
            chart.draw_series(LineSeries::new(staircase(front_xy.clone()), style::GREY.stroke_width(5)))?;
        }

        for (a, _, v, k) in &pts {
            let s = style::arm_style(*a);
            let line = s.color.mix(0.75).stroke_width(2);
            let (xl, xh) = lo_hi(v);
            let (yl, yh) = lo_hi(k);
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(v.mean, yl, k.mean, yh, line, 12)))?;
            chart.draw_series(std::iter::once(ErrorBar::new_horizontal(k.mean, xl, v.mean, xh, line, 12)))?;
        }
        for (a, _, v, k) in &pts {
            let s = style::arm_style(*a);
            style::draw_marker(chart.plotting_area(), s.marker, &(v.mean, k.mean), s.color, 10)?;
        }

        if let Some((ra, rp)) = r.recommended() {
            if let Some((_, _, v, k)) = pts.iter().find(|(a, p, ..)| (*a, *p) == (ra, rp)) {
                let label = if r.points.len() > 1 {
                    format!("Recommended: {}, {}", r.arms[ra], r.point_label_short(rp))
                } else {
                    format!("Recommended: {}", r.arms[ra])
                };
                let at = (v.mean, k.mean);
                chart.draw_series(std::iter::once(Circle::new(at, 24, style::INK.stroke_width(4))))?;
                let (px, py) = chart.backend_coord(&at);
                let (pw, _) = plot.dim_in_pixel();
                let font = style::bold(style::TICK_PX, BLACK);
                let (tw, th) = plot.estimate_text_size(&label, &font).unwrap_or((300, 24));
                let (tw, th) = (tw as i32, th as i32);
                // Put the label on whichever side has room, below the ring if near the top.
                let plot_left = plot.get_base_pixel().0;
                let right_room = plot_left + pw as i32 - 40 - (px + 34);
                let dx = if right_room >= tw + 10 { 34 } else { -34 - tw - 10 };
                let dy = if py - plot.get_base_pixel().1 < 80 { 40 } else { -40 };
                let boxed = EmptyElement::at(at)
                    + Rectangle::new([(dx - 6, dy - th / 2 - 8), (dx + tw + 8, dy + th / 2 + 8)], WHITE.mix(0.9).filled())
                    + Rectangle::new([(dx - 6, dy - th / 2 - 8), (dx + tw + 8, dy + th / 2 + 8)], style::INK.stroke_width(2))
                    + Text::new(label, (dx, dy), style::left_middle(font));
                chart.draw_series(std::iter::once(boxed))?;
            }
        }

        let mut items = vec![LegendItem::Heading("Arms".to_string())];
        items.extend(r.arms.iter().enumerate().map(|(i, a)| LegendItem::Arm(i, a.clone())));
        items.push(LegendItem::Heading("Marks".to_string()));
        if front_xy.len() > 1 {
            items.push(LegendItem::Line(style::GREY, None, 5, "Pareto frontier: no setting beats these on both axes".to_string()));
        }
        if r.recommended().is_some() {
            items.push(LegendItem::Mark(Marker::Ring, style::INK, "Recommended setting".to_string()));
        } else {
            items.push(LegendItem::Note("No setting met the constraints, so none is recommended.".to_string()));
        }
        items.push(LegendItem::Note("Error bars: 95% confidence intervals of the mean.".to_string()));
        style::legend(&legend, &items)?;
        Ok(())
    }
}
