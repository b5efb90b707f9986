//! The headline chart: velocity (x) against blast radius (y) for every arm and sweep
//! point, with 95% CI error bars both ways, the Pareto frontier as a step line, every
//! marker labelled with its arm (and point), the constraints on either axis drawn as
//! dashed limits with the breaking side shaded, settings that miss a constraint faded,
//! the settings tied with the pick ringed, and the recommended setting ringed and
//! labelled. An axis that does not start at zero says so ("axis zoomed") and carries a
//! broken-axis mark.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use super::input::{ConstraintMeta, Results};
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

/// How many label heights above or below its marker a crowded label may move.
const LABEL_STEPS: i32 = 8;

/// The recommendation's callout: the marker it points at, its text and where its box goes
/// (pixels from the marker).
struct Callout {
    at: (f64, f64),
    lines: Vec<String>,
    offset: (i32, i32),
    size: (i32, i32),
}

/// The height of one line of the callout, in pixels.
const CALLOUT_LINE_H: i32 = style::TICK_PX as i32 + 8;

/// Radius of the ring around the recommended marker, in pixels.
const PICK_RING: i32 = 24;

/// The point of a box at `offset` of `size` (pixels from an anchor) nearest the anchor:
/// where a leader line from the anchor meets the box.
fn nearest_point((dx, dy): (i32, i32), (w, h): (i32, i32)) -> (i32, i32) {
    (0.clamp(dx, dx + w), 0.clamp(dy, dy + h))
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
        let decided = r.decision();
        let feasible = |a: usize, p: usize| {
            decided
                .index(a, p)
                .is_none_or(|i| decided.choice.feasible.get(i).copied().unwrap_or(true))
        };
        let any_infeasible =
            !r.constraints().is_empty() && pts.iter().any(|(a, p, ..)| !feasible(*a, *p));
        for (a, p, v, k) in &pts {
            let s = style::arm_style(*a);
            let color = if feasible(*a, *p) {
                s.color
            } else {
                faded(s.color)
            };
            style::draw_marker(
                chart.plotting_area(),
                s.marker,
                &(v.mean, k.mean),
                color,
                10,
            )?;
        }
        // The settings tied with the pick on velocity: a thin ring each.
        let rec = r.recommended();
        let ties: Vec<(usize, usize)> = decided
            .choice
            .ties
            .iter()
            .map(|&i| decided.keys[i])
            .filter(|&k| Some(k) != rec)
            .collect();
        for (_, _, v, k) in pts.iter().filter(|(a, p, ..)| ties.contains(&(*a, *p))) {
            chart.draw_series(std::iter::once(Circle::new(
                (v.mean, k.mean),
                20,
                style::GREY.stroke_width(2),
            )))?;
        }

        // Constraints on the chart's axes: a dashed limit, the breaking side shaded.
        let mut limits: Vec<String> = Vec::new();
        let focus = r.focus_point();
        for c in r.constraints() {
            let on_x = c.metric == *vm;
            if !on_x && c.metric != *rm {
                continue;
            }
            let bound = match &c.arm {
                Some(name) => r
                    .arm_index(name)
                    .and_then(|a| r.summary.mean(a, focus, &c.metric)),
                None => Some(c.value),
            };
            let Some(b) = bound else { continue };
            let (lo, hi) = if on_x { (x0, x1) } else { (y0, y1) };
            if !(lo..=hi).contains(&b) {
                limits.push(format!(
                    "{} (off the chart: every setting is on the {} side)",
                    limit_text(c, Some(b)),
                    if (c.at_most && b > hi) || (!c.at_most && b < lo) {
                        "allowed"
                    } else {
                        "breaking"
                    }
                ));
                continue;
            }
            let shade = style::ALERT.mix(0.07).filled();
            let rect = match (on_x, c.at_most) {
                (true, true) => [(b, y0), (x1, y1)],
                (true, false) => [(x0, y0), (b, y1)],
                (false, true) => [(x0, b), (x1, y1)],
                (false, false) => [(x0, y0), (x1, b)],
            };
            chart.draw_series(std::iter::once(Rectangle::new(rect, shade)))?;
            let line = if on_x {
                vec![(b, y0), (b, y1)]
            } else {
                vec![(x0, b), (x1, b)]
            };
            chart.draw_series(std::iter::once(DashedPathElement::new(
                line,
                12,
                8,
                style::ALERT.stroke_width(3),
            )))?;
            let at = if on_x { (b, y1) } else { (x0, b) };
            let label = limit_text(c, Some(b));
            chart.draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Text::new(
                        label.clone(),
                        if on_x { (8, 14) } else { (10, -16) },
                        style::text(style::TICK_PX - 4, style::ALERT),
                    ),
            ))?;
            limits.push(label);
        }

        // The recommendation's callout is placed before the marker labels, so they keep
        // clear of it, and drawn after them, on top.
        let callout = r.recommended().and_then(|(ra, rp)| {
            let (_, _, v, k) = pts.iter().find(|(a, p, ..)| (*a, *p) == (ra, rp))?;
            let mut lines = vec![format!("Recommended: {}", r.arms[ra])];
            if r.points.len() > 1 {
                lines.push(r.point_label_short(rp));
            }
            let font = style::bold(style::TICK_PX, BLACK);
            let tw = lines
                .iter()
                .map(|l| {
                    plot.estimate_text_size(l, &font)
                        .map_or(300, |(w, _)| w as i32)
                })
                .max()
                .unwrap_or(0)
                + 20;
            let th = CALLOUT_LINE_H * lines.len() as i32 + 12;
            // Markers and the ends and middles of their error bars are what the callout
            // must not hide.
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
            let at = (v.mean, k.mean);
            let offset = place_box(
                chart.plotting_area().get_pixel_range(),
                chart.backend_coord(&at),
                (tw, th),
                &obstacles,
            );
            Some(Callout {
                at,
                lines,
                offset,
                size: (tw, th),
            })
        });

        // Every marker labelled: arm, and the point where the sweep changes the arm.
        let font = style::text(style::TICK_PX - 5, style::INK);
        let area = chart.plotting_area().get_pixel_range();
        let mut taken: Vec<(i32, i32, i32, i32)> = pts
            .iter()
            .map(|(_, _, v, k)| {
                let (x, y) = chart.backend_coord(&(v.mean, k.mean));
                (x - 11, y - 11, x + 11, y + 11)
            })
            .collect();
        if let Some(c) = &callout {
            let (x, y) = chart.backend_coord(&c.at);
            let (l, t) = (x + c.offset.0, y + c.offset.1);
            taken.push((l, t, l + c.size.0, t + c.size.1));
            // The pick's ring (drawn later) stays clear too.
            let ring = PICK_RING + 2;
            taken.push((x - ring, y - ring, x + ring, y + ring));
        }
        for (a, p, v, k) in &pts {
            let varies = r.points.len() > 1 && !r.axes_of_arm(*a).is_empty();
            let first = r.points.first().is_none_or(|q| q.index == *p);
            if !varies && !first {
                continue;
            }
            let text = if varies {
                let values: Vec<String> = r
                    .points
                    .iter()
                    .find(|q| q.index == *p)
                    .map(|q| {
                        r.axes_of_arm(*a)
                            .iter()
                            .filter_map(|&k| q.values.get(k).cloned())
                            .collect()
                    })
                    .unwrap_or_default();
                format!("{} {}", r.arms[*a], values.join(","))
            } else {
                r.arms[*a].clone()
            };
            let (w, h) = plot
                .estimate_text_size(&text, &font)
                .map(|(w, h)| (w as i32, h as i32))
                .unwrap_or((120, 18));
            let (x, y) = chart.backend_coord(&(v.mean, k.mean));
            // Beside the marker first; when tied settings crowd those spots, further out
            // above and below, joined to the marker by a leader line.
            let beside = [
                (14, -h - 8),
                (14, 8),
                (-14 - w, -h - 8),
                (-14 - w, 8),
                (-w / 2, -h - 22),
                (-w / 2, 20),
            ];
            let mut options = beside.to_vec();
            for step in 1..=LABEL_STEPS {
                let dy = step * (h + 3);
                for dx in [30, -30 - w] {
                    options.push((dx, -h / 2 - dy));
                    options.push((dx, -h / 2 + dy));
                }
            }
            let inside = |(dx, dy): (i32, i32)| {
                x + dx >= area.0.start
                    && x + dx + w <= area.0.end
                    && y + dy >= area.1.start
                    && y + dy + h <= area.1.end
            };
            let free = |(dx, dy): (i32, i32)| {
                let (l, t, rr, b) = (x + dx, y + dy, x + dx + w, y + dy + h);
                !taken
                    .iter()
                    .any(|&(l2, t2, r2, b2)| l < r2 && l2 < rr && t < b2 && t2 < b)
            };
            let pick = options
                .iter()
                .copied()
                .find(|&o| inside(o) && free(o))
                .or_else(|| options.iter().copied().find(|&o| inside(o)))
                .unwrap_or(options[0]);
            taken.push((x + pick.0, y + pick.1, x + pick.0 + w, y + pick.1 + h));
            let s = style::arm_style(*a);
            if !beside.contains(&pick) {
                let near = nearest_point(pick, (w, h));
                chart.draw_series(std::iter::once(
                    EmptyElement::at((v.mean, k.mean))
                        + PathElement::new(vec![(0, 0), near], s.color.stroke_width(1)),
                ))?;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((v.mean, k.mean))
                    + Text::new(text, pick, style::text(style::TICK_PX - 5, darker(s.color))),
            ))?;
        }

        // An axis that does not start at zero: say so, and break it.
        let zoomed_x = x0 > 0.0 || x1 < 0.0;
        let zoomed_y = y0 > 0.0 || y1 < 0.0;
        let (px0, py0) = chart.backend_coord(&(x0, y0));
        if zoomed_x {
            broken_mark(&mut chart, (x0, y0), true)?;
            let note = format!(
                "x axis zoomed: {} to {} (does not start at 0)",
                style::fmt_tick(&x0),
                style::fmt_tick(&x1)
            );
            chart.draw_series(std::iter::once(
                EmptyElement::at((x0, y0))
                    + Text::new(note, (12, -30), style::bold(style::TICK_PX - 4, style::INK)),
            ))?;
        }
        if zoomed_y {
            broken_mark(&mut chart, (x0, y0), false)?;
            let note = format!(
                "y axis zoomed: {} to {} (does not start at 0)",
                style::fmt_tick(&y0),
                style::fmt_tick(&y1)
            );
            chart.draw_series(std::iter::once(
                EmptyElement::at((x0, y1))
                    + Text::new(note, (12, 10), style::bold(style::TICK_PX - 4, style::INK)),
            ))?;
        }
        let _ = (px0, py0);

        if let Some(c) = &callout {
            let (at, (dx, dy), (tw, th)) = (c.at, c.offset, c.size);
            chart.draw_series(std::iter::once(Circle::new(
                at,
                PICK_RING,
                style::INK.stroke_width(4),
            )))?;
            // A leader line from the ring to the nearest point of the box.
            let near = nearest_point((dx, dy), (tw, th));
            if near.0.abs().max(near.1.abs()) > PICK_RING {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + PathElement::new(vec![(0, 0), near], style::INK.stroke_width(2)),
                ))?;
            }
            let boxed = EmptyElement::at(at)
                + Rectangle::new([(dx, dy), (dx + tw, dy + th)], WHITE.mix(0.92).filled())
                + Rectangle::new([(dx, dy), (dx + tw, dy + th)], style::INK.stroke_width(2));
            chart.draw_series(std::iter::once(boxed))?;
            for (i, l) in c.lines.iter().enumerate() {
                let f = if i == 0 {
                    style::bold(style::TICK_PX, BLACK)
                } else {
                    style::text(style::TICK_PX, BLACK)
                };
                let y = dy + 6 + CALLOUT_LINE_H * i as i32 + CALLOUT_LINE_H / 2;
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
        if !ties.is_empty() {
            items.push(LegendItem::Mark(
                Marker::Ring,
                style::GREY,
                "Tied with the pick on velocity (within its 95% CI)".to_string(),
            ));
        }
        for l in &limits {
            items.push(LegendItem::Line(
                style::ALERT,
                Some((12, 8)),
                3,
                format!("Limit: {l}"),
            ));
        }
        let off_axes: Vec<String> = r
            .constraints()
            .iter()
            .filter(|c| c.metric != *vm && c.metric != *rm)
            .map(|c| limit_text(c, None))
            .collect();
        if !off_axes.is_empty() {
            items.push(LegendItem::Note(format!(
                "Constraints not on these axes: {}.",
                off_axes.join("; ")
            )));
        }
        if any_infeasible {
            items.push(LegendItem::Note(
                "Faded markers miss a constraint (see the report for which).".to_string(),
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

/// "user impact per run at most 2,669", or "... at most senior-signoff's (2,669)" for a
/// relative limit drawn at `b` (without `b`: "... at most senior-signoff's mean").
fn limit_text(c: &ConstraintMeta, b: Option<f64>) -> String {
    let what = style::metric_name(&c.metric).to_lowercase();
    let op = if c.at_most { "at most" } else { "at least" };
    match (&c.arm, b) {
        (Some(a), Some(b)) => format!("{what} {op} {a}'s ({})", style::fmt_num(b)),
        (Some(a), None) => format!("{what} {op} {a}'s mean"),
        (None, _) => format!("{what} {op} {}", style::fmt_num(c.value)),
    }
}

/// A colour washed towards white, for settings that miss a constraint.
fn faded(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * 0.65).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// A colour darkened, for label text that must read on white.
fn darker(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) * 0.75).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// The broken-axis mark: two short slanted strokes across the x axis (`x`) or the y axis
/// near the corner `at`, on a white gap.
fn broken_mark<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    at: (f64, f64),
    x: bool,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    type Stroke = [(i32, i32); 2];
    let (gap, strokes): ((i32, i32, i32, i32), [Stroke; 2]) = if x {
        ((18, -6, 34, 6), [[(14, 8), (22, -8)], [(30, 8), (38, -8)]])
    } else {
        (
            (-6, -34, 6, -18),
            [[(-8, -14), (8, -22)], [(-8, -30), (8, -38)]],
        )
    };
    chart.draw_series(std::iter::once(
        EmptyElement::at(at) + Rectangle::new([(gap.0, gap.1), (gap.2, gap.3)], WHITE.filled()),
    ))?;
    for st in strokes {
        chart.draw_series(std::iter::once(
            EmptyElement::at(at) + PathElement::new(st.to_vec(), BLACK.stroke_width(3)),
        ))?;
    }
    Ok(())
}
