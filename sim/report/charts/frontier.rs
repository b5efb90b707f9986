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
            style::metric_name(self.r.velocity()),
            style::metric_name(self.r.risk()).to_lowercase()
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

/// Where to put a label box of `size` for the marker at `anchor` (pixels): inside the
/// plot, covering as few data points as possible, and as close to the anchor as that
/// allows. Returns the box's top-left offset from the anchor.
fn place_box(
    (xr, yr): (std::ops::Range<i32>, std::ops::Range<i32>),
    anchor: (i32, i32),
    (w, h): (i32, i32),
    obstacles: &[(i32, i32)],
) -> (i32, i32) {
    let pad = 16;
    let ring = 30;
    let mut best: Option<(i64, (i32, i32))> = None;
    let mut y0 = yr.start + 8;
    while y0 + h <= yr.end - 8 {
        let mut x0 = xr.start + 8;
        while x0 + w <= xr.end - 8 {
            let covers = |(ox, oy): (i32, i32), m: i32| {
                ox >= x0 - m && ox <= x0 + w + m && oy >= y0 - m && oy <= y0 + h + m
            };
            let covered = obstacles.iter().filter(|o| covers(**o, pad)).count() as i64
                + covers(anchor, ring) as i64 * 1000;
            let nx = anchor.0.clamp(x0, x0 + w);
            let ny = anchor.1.clamp(y0, y0 + h);
            let dist = (((nx - anchor.0) as f64).hypot((ny - anchor.1) as f64)) as i64;
            let score = covered * 100_000 + dist;
            if best.is_none_or(|(b, _)| score < b) {
                best = Some((score, (x0 - anchor.0, y0 - anchor.1)));
            }
            x0 += 20;
        }
        y0 += 20;
    }
    best.map(|b| b.1).unwrap_or((ring, -h - ring))
}

/// Pairs (arm, earlier arm) whose markers fall on top of each other at every point
/// (means within 0.5% of the axis span on both axes), so the later arm's markers hide the
/// earlier one's: the legend has to say so.
fn coinciding(r: &Results) -> Vec<(usize, usize)> {
    let (vm, rm) = (&r.velocity(), &r.risk());
    let span = |m: &str| {
        let vals = r
            .objective_points()
            .into_iter()
            .filter_map(|(a, p, ..)| r.summary.mean(a, p, m));
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        (hi - lo).max(0.0)
    };
    let tol = [span(vm) * 0.005, span(rm) * 0.005];
    let same = |a: usize, b: usize| {
        r.points.iter().all(|p| {
            [vm, rm].iter().zip(tol).all(|(m, t)| {
                match (r.summary.mean(a, p.index, m), r.summary.mean(b, p.index, m)) {
                    (Some(x), Some(y)) => (x - y).abs() <= t,
                    _ => false,
                }
            })
        })
    };
    (1..r.arms.len())
        .filter_map(|a| (0..a).find(|&b| same(a, b)).map(|b| (a, b)))
        .collect()
}

impl Chart for Frontier<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let (vm, rm) = (&r.velocity(), &r.risk());
        let pts = r.objective_points();
        let per = if r.points.len() > 1 {
            "one arm at one sweep setting"
        } else {
            "one arm"
        };
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
            let lo = if s.ci_low.is_finite() {
                s.ci_low
            } else {
                s.mean
            };
            let hi = if s.ci_high.is_finite() {
                s.ci_high
            } else {
                s.mean
            };
            (lo.min(s.mean), hi.max(s.mean))
        };
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
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
            chart.draw_series(LineSeries::new(
                staircase(front_xy.clone()),
                style::GREY.stroke_width(5),
            ))?;
        }

        for (a, _, v, k) in &pts {
            let s = style::arm_style(*a);
            let line = s.color.mix(0.75).stroke_width(2);
            let (xl, xh) = lo_hi(v);
            let (yl, yh) = lo_hi(k);
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                v.mean, yl, k.mean, yh, line, 12,
            )))?;
            chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                k.mean, xl, v.mean, xh, line, 12,
            )))?;
        }
        for (a, _, v, k) in &pts {
            let s = style::arm_style(*a);
            style::draw_marker(
                chart.plotting_area(),
                s.marker,
                &(v.mean, k.mean),
                s.color,
                10,
            )?;
        }

        if let Some((ra, rp)) = r.recommended()
            && let Some((_, _, v, k)) = pts.iter().find(|(a, p, ..)| (*a, *p) == (ra, rp))
        {
            let mut lines = vec![format!("Recommended: {}", r.arms[ra])];
            if r.points.len() > 1 {
                lines.push(r.point_label_short(rp));
            }
            let at = (v.mean, k.mean);
            chart.draw_series(std::iter::once(Circle::new(
                at,
                24,
                style::INK.stroke_width(4),
            )))?;
            let font = style::bold(style::TICK_PX, BLACK);
            let sizes: Vec<(i32, i32)> = lines
                .iter()
                .map(|l| {
                    plot.estimate_text_size(l, &font)
                        .map(|(w, h)| (w as i32, h as i32))
                        .unwrap_or((300, 24))
                })
                .collect();
            let tw = sizes.iter().map(|s| s.0).max().unwrap_or(0) + 20;
            let line_h = style::TICK_PX as i32 + 8;
            let th = line_h * lines.len() as i32 + 12;
            // Markers and the ends and middles of their error bars are what a label must
            // not hide.
            let mut obstacles = Vec::new();
            for (_, _, v, k) in &pts {
                let (xl, xh) = lo_hi(v);
                let (yl, yh) = lo_hi(k);
                for p in [
                    (v.mean, k.mean),
                    (xl, k.mean),
                    (xh, k.mean),
                    (v.mean, yl),
                    (v.mean, yh),
                ] {
                    obstacles.push(chart.backend_coord(&p));
                }
                for f in [0.25, 0.75] {
                    obstacles.push(chart.backend_coord(&(xl + (xh - xl) * f, k.mean)));
                }
            }
            let (dx, dy) = place_box(
                chart.plotting_area().get_pixel_range(),
                chart.backend_coord(&at),
                (tw, th),
                &obstacles,
            );
            // A leader line from the ring to the nearest point of the box.
            let near = (0.clamp(dx, dx + tw), 0.clamp(dy, dy + th));
            if near.0.abs().max(near.1.abs()) > 24 {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + PathElement::new(vec![(0, 0), near], style::INK.stroke_width(2)),
                ))?;
            }
            let boxed = EmptyElement::at(at)
                + Rectangle::new([(dx, dy), (dx + tw, dy + th)], WHITE.mix(0.92).filled())
                + Rectangle::new([(dx, dy), (dx + tw, dy + th)], style::INK.stroke_width(2));
            chart.draw_series(std::iter::once(boxed))?;
            for (i, l) in lines.iter().enumerate() {
                let f = if i == 0 {
                    font.clone()
                } else {
                    style::text(style::TICK_PX, BLACK)
                };
                let y = dy + 6 + line_h * i as i32 + line_h / 2;
                let text = EmptyElement::at(at)
                    + Text::new(l.clone(), (dx + 10, y), style::left_middle(f));
                chart.draw_series(std::iter::once(text))?;
            }
        }

        let mut items = vec![LegendItem::Heading("Arms".to_string())];
        items.extend(
            r.arms
                .iter()
                .enumerate()
                .map(|(i, a)| LegendItem::Arm(i, a.clone())),
        );
        items.push(LegendItem::Heading("Marks".to_string()));
        if front_xy.len() > 1 {
            items.push(LegendItem::Line(
                style::GREY,
                None,
                5,
                "Pareto frontier: no setting beats these on both axes".to_string(),
            ));
        }
        if r.recommended().is_some() {
            items.push(LegendItem::Mark(
                Marker::Ring,
                style::INK,
                "Recommended setting".to_string(),
            ));
        } else {
            items.push(LegendItem::Note(
                "No setting met the constraints, so none is recommended.".to_string(),
            ));
        }
        items.push(LegendItem::Note(
            "Error bars: 95% confidence intervals of the mean.".to_string(),
        ));
        for (a, b) in coinciding(r) {
            items.push(LegendItem::Note(format!(
                "{} lands on {} (nearly the same results): its markers cover {}'s.",
                r.arms[a], r.arms[b], r.arms[b]
            )));
        }
        style::legend(&legend, &items)?;
        Ok(())
    }
}
