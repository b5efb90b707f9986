//! Sweep charts: a key metric against the first swept parameter, one line per arm with a
//! 95% CI band (other axes held at the focus point's values), and, when two parameters
//! are swept, a heatmap per arm over both.
//!
//! The x axis is ordinal (one tick per swept value, labelled with the value as written)
//! rather than numeric: swept values are often spaced geometrically (0.01 … 1.0) and a
//! linear axis would crush most of them into one corner.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use super::input::{AxisMeta, Results};
use super::style::{self, LegendItem};

/// The index of `value` among an axis's values: equal as text, else equal as numbers.
fn value_index(axis: &AxisMeta, value: &str) -> Option<usize> {
    axis.values.iter().position(|v| v == value).or_else(|| {
        let x: f64 = value.trim().parse().ok()?;
        axis.values
            .iter()
            .position(|v| v.trim().parse::<f64>().ok() == Some(x))
    })
}

/// The points whose axes other than `free` equal the focus point's, as (point, position
/// of each free axis).
fn slice(r: &Results, free: &[usize]) -> Vec<(usize, Vec<usize>)> {
    let focus = r
        .points
        .iter()
        .find(|p| p.index == r.focus_point())
        .or(r.points.first());
    let Some(focus) = focus else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in &r.points {
        let fixed_ok = (0..r.axes().len())
            .filter(|k| !free.contains(k))
            .all(|k| p.values.get(k) == focus.values.get(k));
        if !fixed_ok {
            continue;
        }
        let pos: Option<Vec<usize>> = free
            .iter()
            .map(|&k| value_index(&r.axes()[k], p.values.get(k)?))
            .collect();
        if let Some(pos) = pos {
            out.push((p.index, pos));
        }
    }
    out
}

/// "senior.count = 8" for every axis not in `free`.
fn fixed_text(r: &Results, free: &[usize]) -> String {
    let focus = r
        .points
        .iter()
        .find(|p| p.index == r.focus_point())
        .or(r.points.first());
    let Some(focus) = focus else {
        return String::new();
    };
    let parts: Vec<String> = r
        .axes()
        .iter()
        .enumerate()
        .filter(|(k, _)| !free.contains(k))
        .map(|(k, a)| {
            format!(
                "{} = {}",
                style::path_label(&a.path),
                focus.values.get(k).map(String::as_str).unwrap_or("?")
            )
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" Held fixed: {}.", parts.join(", "))
    }
}

fn ordinal_labels(axis: &AxisMeta) -> impl Fn(&f64) -> String + '_ {
    move |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            axis.values.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

pub(super) struct Sweep<'a> {
    r: &'a Results,
    metric: &'a str,
}

impl<'a> Sweep<'a> {
    pub(super) fn new(r: &'a Results, metric: &'a str) -> Self {
        Sweep { r, metric }
    }

    pub(super) fn caption(&self) -> String {
        let flat = flat_arms(self.r, 0);
        let mut s = format!(
            "{} as {} varies, one line per arm with its 95% confidence band",
            style::metric_name(self.metric),
            style::path_label(&self.r.axes()[0].path)
        );
        if !flat.is_empty() {
            s.push_str(&format!(
                "; thin flat lines ({}) are arms this parameter does not affect, drawn for reference",
                flat.join(", ")
            ));
        }
        s
    }
}

/// Names of the arms whose results do not depend on axis `axis` at all.
fn flat_arms(r: &Results, axis: usize) -> Vec<String> {
    (0..r.arms.len())
        .filter(|&a| !r.arm_depends_on_axis(a, axis))
        .map(|a| r.arms[a].clone())
        .collect()
}

impl Chart for Sweep<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let axis = &r.axes()[0];
        let pts = slice(r, &[0]);
        let title = format!(
            "{} as {} varies",
            style::metric_name(self.metric),
            style::path_label(&axis.path)
        );
        let subtitle = format!(
            "Lines: mean of {} replications per arm; shaded: 95% CI.{}",
            r.replications(),
            fixed_text(r, &[0])
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;

        // (x position, mean, low, high) per arm.
        let series: Vec<Vec<(f64, f64, f64, f64)>> = (0..r.arms.len())
            .map(|a| {
                let mut s: Vec<(f64, f64, f64, f64)> = pts
                    .iter()
                    .filter_map(|(p, pos)| {
                        let st = r.summary.get(a, *p, self.metric)?;
                        let lo = if st.ci_low.is_finite() {
                            st.ci_low
                        } else {
                            st.mean
                        };
                        let hi = if st.ci_high.is_finite() {
                            st.ci_high
                        } else {
                            st.mean
                        };
                        Some((pos[0] as f64, st.mean, lo, hi))
                    })
                    .collect();
                s.sort_by(|a, b| a.0.total_cmp(&b.0));
                s
            })
            .collect();
        // Arms the swept parameter does not touch give a flat line: drawn thin, without
        // band or markers, as a reference level rather than as a result of the sweep.
        let depends: Vec<bool> = (0..r.arms.len())
            .map(|a| r.arm_depends_on_axis(a, 0))
            .collect();
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        for (a, s) in series.iter().enumerate() {
            for (_, m, lo, hi) in s {
                let (lo, hi) = if depends[a] { (*lo, *hi) } else { (*m, *m) };
                y0 = y0.min(lo.min(*m));
                y1 = y1.max(hi.max(*m));
            }
        }
        let (y0, y1) = style::padded(y0, y1, true);
        let n = axis.values.len().max(1);

        let mut chart = ChartBuilder::on(&plot)
            .margin(24)
            .margin_right(40)
            .x_label_area_size(100)
            .y_label_area_size(140)
            .build_cartesian_2d(-0.3..(n as f64 - 0.7), y0..y1)?;
        let fmt = ordinal_labels(axis);
        chart
            .configure_mesh()
            .x_desc(style::path_label(&axis.path))
            .y_desc(style::metric_label(self.metric))
            .x_label_formatter(&fmt)
            .x_labels(n)
            .y_label_formatter(&style::fmt_tick)
            .y_labels(8)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(TRANSPARENT)
            .draw()?;

        for (a, s) in series.iter().enumerate() {
            if s.len() > 1 && depends[a] {
                let st = style::arm_style(a);
                let mut band: Vec<(f64, f64)> = s.iter().map(|(x, _, _, hi)| (*x, *hi)).collect();
                band.extend(s.iter().rev().map(|(x, _, lo, _)| (*x, *lo)));
                chart.draw_series(std::iter::once(Polygon::new(
                    band,
                    st.color.mix(0.14).filled(),
                )))?;
            }
        }
        for (a, s) in series.iter().enumerate() {
            let st = style::arm_style(a);
            let line: Vec<(f64, f64)> = s.iter().map(|(x, m, ..)| (*x, *m)).collect();
            let stroke = st.color.stroke_width(if depends[a] { 4 } else { 2 });
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
            if depends[a] {
                for p in &line {
                    style::draw_marker(chart.plotting_area(), st.marker, p, st.color, 9)?;
                }
            } else if let Some(last) = line.last() {
                // One marker at the right end names the reference line.
                style::draw_marker(chart.plotting_area(), st.marker, last, st.color, 7)?;
            }
        }

        let mut items = vec![LegendItem::Heading("Arms".to_string())];
        items.extend(
            r.arms
                .iter()
                .enumerate()
                .filter(|(i, _)| depends[*i])
                .map(|(i, a)| LegendItem::Arm(i, a.clone())),
        );
        if depends.iter().any(|d| !d) {
            items.push(LegendItem::Heading("Not affected (reference)".to_string()));
            items.extend(
                r.arms
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !depends[*i])
                    .map(|(i, a)| LegendItem::Arm(i, a.clone())),
            );
            items.push(LegendItem::Note(format!(
                "These arms do not use {}: the same result at every value.",
                style::path_label(&axis.path)
            )));
        }
        items.push(LegendItem::Note(
            "Shaded bands: 95% confidence intervals of the mean.".to_string(),
        ));
        style::legend(&legend, &items)?;
        Ok(())
    }
}

pub(super) struct Heatmap<'a> {
    r: &'a Results,
    metric: &'a str,
}

impl<'a> Heatmap<'a> {
    pub(super) fn new(r: &'a Results, metric: &'a str) -> Self {
        Heatmap { r, metric }
    }

    pub(super) fn caption(&self) -> String {
        let r = self.r;
        let a = &r.axes();
        let hidden: Vec<&str> = (0..r.arms.len())
            .filter(|&k| !r.arm_depends_on_axis(k, 0) && !r.arm_depends_on_axis(k, 1))
            .map(|k| r.arms[k].as_str())
            .collect();
        let mut s = format!(
            "{} over both swept parameters ({} across, {} up), one panel per arm",
            style::metric_name(self.metric),
            style::path_label(&a[0].path),
            style::path_label(&a[1].path)
        );
        if !hidden.is_empty() && hidden.len() < r.arms.len() {
            s.push_str(&format!(
                "; {} use neither parameter and are left out",
                hidden.join(", ")
            ));
        }
        s
    }
}

/// Viridis, sampled at five stops: lightness rises monotonically, so the scale still
/// reads in greyscale.
fn colormap(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    } * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn is_dark(c: RGBColor) -> bool {
    (0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64) < 140.0
}

impl Chart for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let (ax, ay) = (&r.axes()[0], &r.axes()[1]);
        let pts = slice(r, &[0, 1]);
        let title = format!(
            "{} by {} and {}",
            style::metric_name(self.metric),
            style::path_label(&ax.path),
            style::path_label(&ay.path)
        );
        let subtitle = format!(
            "Cell: mean of {} replications, in {}. One panel per arm; one colour scale.{}",
            r.replications(),
            style::metric_unit(self.metric),
            fixed_text(r, &[0, 1])
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;

        let cells: Vec<Vec<(usize, usize, f64)>> = (0..r.arms.len())
            .map(|a| {
                pts.iter()
                    .filter_map(|(p, pos)| {
                        Some((pos[0], pos[1], r.summary.mean(a, *p, self.metric)?))
                    })
                    .collect()
            })
            .collect();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (.., v) in cells.iter().flatten() {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let span = if hi - lo > 1e-12 { hi - lo } else { 1.0 };

        // A panel of an arm neither swept parameter touches is one flat colour: it is left
        // out and named in the legend instead.
        let shown: Vec<usize> = (0..r.arms.len())
            .filter(|&a| r.arm_depends_on_axis(a, 0) || r.arm_depends_on_axis(a, 1))
            .collect();
        let shown = if shown.is_empty() {
            (0..r.arms.len()).collect()
        } else {
            shown
        };
        let hidden: Vec<usize> = (0..r.arms.len()).filter(|a| !shown.contains(a)).collect();
        let k = shown.len().max(1);
        let cols = (k as f64).sqrt().ceil() as usize;
        let rows = k.div_ceil(cols);
        let panels = plot.margin(10, 10, 10, 20).split_evenly((rows, cols));
        let (nx, ny) = (ax.values.len().max(1), ay.values.len().max(1));
        let rec = r.recommended();
        let cell_px = style::TICK_PX - if rows > 1 { 4 } else { 0 };
        for (&a, panel) in shown.iter().zip(panels.iter()) {
            let mut chart = ChartBuilder::on(panel)
                .caption(&r.arms[a], style::bold(style::LABEL_PX, BLACK))
                .margin(8)
                .x_label_area_size(70)
                .y_label_area_size(90)
                .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)?;
            let (fx, fy) = (ordinal_labels(ax), ordinal_labels(ay));
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(style::path_label(&ax.path))
                .y_desc(style::path_label(&ay.path))
                .x_label_formatter(&fx)
                .y_label_formatter(&fy)
                .x_labels(nx)
                .y_labels(ny)
                .label_style(style::text(style::TICK_PX - 4, style::INK))
                .axis_desc_style(style::text(style::TICK_PX - 2, BLACK))
                .draw()?;
            for &(i, j, v) in &cells[a] {
                let c = colormap((v - lo) / span);
                let (x, y) = (i as f64, j as f64);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    c.filled(),
                )))?;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    WHITE.stroke_width(2),
                )))?;
                let ink = if is_dark(c) { WHITE } else { BLACK };
                chart.draw_series(std::iter::once(Text::new(
                    style::fmt_num(v),
                    (x, y),
                    style::centred(style::text(cell_px, ink)),
                )))?;
            }
            if let Some((ra, rp)) = rec
                && ra == a
                && let Some((_, pos)) = pts.iter().find(|(p, _)| *p == rp)
            {
                let (x, y) = (pos[0] as f64, pos[1] as f64);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.47, y - 0.47), (x + 0.47, y + 0.47)],
                    BLACK.stroke_width(5),
                )))?;
            }
        }

        // Colour bar in the legend panel.
        style::legend(
            &legend,
            &[LegendItem::Heading(style::metric_unit(self.metric))],
        )?;
        let (bx, by, bw, bh) = (24, 90, 44, 520);
        let steps = 100;
        for s in 0..steps {
            let t = 1.0 - s as f64 / steps as f64;
            let y = by + s * bh / steps;
            legend.draw(&Rectangle::new(
                [(bx, y), (bx + bw, y + bh / steps + 1)],
                colormap(t).filled(),
            ))?;
        }
        legend.draw(&Rectangle::new(
            [(bx, by), (bx + bw, by + bh)],
            style::INK.stroke_width(1),
        ))?;
        for q in 0..=4 {
            let t = q as f64 / 4.0;
            let y = by + ((1.0 - t) * bh as f64) as i32;
            legend.draw(&Text::new(
                style::fmt_num(lo + t * span),
                (bx + bw + 12, y),
                style::left_middle(style::text(style::TICK_PX, BLACK)),
            ))?;
        }
        let mut note_y = by + bh + 40;
        let mut notes: Vec<String> = Vec::new();
        if rec.is_some_and(|(ra, _)| shown.contains(&ra)) {
            notes.push("Thick outline: the recommended setting.".to_string());
        }
        if !hidden.is_empty() {
            let names: Vec<String> = hidden
                .iter()
                .map(|&a| {
                    let v = pts
                        .first()
                        .and_then(|(p, _)| r.summary.mean(a, *p, self.metric))
                        .map(style::fmt_num)
                        .unwrap_or_else(|| "n/a".to_string());
                    format!("{} ({v})", r.arms[a])
                })
                .collect();
            notes.push(format!(
                "Not shown, the same at every setting: {}.",
                names.join(", ")
            ));
        }
        for n in notes {
            for line in style::wrap(
                &legend,
                &n,
                &style::text(style::TICK_PX - 4, style::GREY),
                320,
            ) {
                legend.draw(&Text::new(
                    line,
                    (bx - 8, note_y),
                    style::text(style::TICK_PX - 4, style::GREY),
                ))?;
                note_y += 26;
            }
        }
        Ok(())
    }
}
