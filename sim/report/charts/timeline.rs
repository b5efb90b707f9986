//! One simulated run, day by day (replication 0 at the focus point), for one arm (the
//! report's appendix): deploys per day on top, incidents below as bars as tall as the peak
//! share of users they hit, with breaker trips, error-budget freezes and kill-switch time
//! marked. A `timeline.csv` row may cover several days (horizons over
//! `TIMELINE_ROWS_PER_RUN` days); the kill-switch strip fills of each row's width the share
//! of its hours the switch was on, so its total length is true to the time it was on.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Chart;
use super::input::{Results, TimelineRow};
use super::style::{self, LegendItem, Marker};

/// Error-budget freeze shading.
const FREEZE: RGBColor = RGBColor(86, 180, 233);
/// Kill-switch strip.
const KILL: RGBColor = RGBColor(230, 159, 0);

pub(super) struct Timeline<'a> {
    r: &'a Results,
    arm: usize,
    days: Vec<Day>,
}

/// A row of `timeline.csv` in the chart's coordinates: every count as a float.
struct Day {
    /// First day of the row, and its days.
    day: f64,
    width: f64,
    /// Mean deploys per day over the row.
    deploys: f64,
    incidents: f64,
    users_hit_max: f64,
    breaker_trips: f64,
    freeze_h: f64,
    kill_switch_h: f64,
}

impl Day {
    fn of(t: &TimelineRow) -> Day {
        let width = f64::from(t.days.max(1));
        Day {
            day: f64::from(t.day),
            width,
            deploys: f64::from(t.deploys) / width,
            incidents: f64::from(t.incidents),
            users_hit_max: t.users_hit_max,
            breaker_trips: f64::from(t.breaker_trips),
            freeze_h: t.freeze_h,
            kill_switch_h: t.kill_switch_h,
        }
    }
}

impl<'a> Timeline<'a> {
    pub(super) fn new(r: &'a Results, rows: &'a [TimelineRow], arm: usize) -> Self {
        let p = r.focus_point();
        let mut days: Vec<Day> = rows
            .iter()
            .filter(|t| t.point == p && t.arm == r.arms[arm])
            .map(Day::of)
            .collect();
        days.sort_by(|a, b| a.day.total_cmp(&b.day));
        Timeline { r, arm, days }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    pub(super) fn caption(&self) -> String {
        let weekly = self
            .days
            .last()
            .is_some_and(|d| d.day + d.width > DAILY_UP_TO);
        format!(
            "One simulated run of {} {}: deploys per day, incidents (bar height = peak share of users hit{}), \
             breaker trips, freezes and kill-switch time",
            self.r.arms[self.arm],
            if weekly { "week by week" } else { "day by day" },
            if weekly {
                ", number = incidents that week"
            } else {
                ""
            }
        )
    }
}

/// Runs longer than this many days are drawn by week: 180 daily bars and labels would
/// crowd into an unreadable comb.
const DAILY_UP_TO: f64 = 63.0;

/// Days grouped for drawing: one day, or one week on a long run.
struct Bin {
    /// First and last day in the bin.
    first: f64,
    last: f64,
    /// Mean deploys per day over the bin.
    deploys: f64,
    /// Days in the bin.
    days: f64,
    /// Incidents started in the bin.
    incidents: f64,
    /// Largest peak share of users hit by one of them.
    users_hit_max: f64,
    /// Per-agent breaker trips in the bin.
    breaker_trips: f64,
}

/// `c` blended 55% towards white: the same look in the chart and its legend.
fn faint(c: RGBColor) -> RGBColor {
    let f = |v: u8| (v as f64 * 0.45 + 255.0 * 0.55).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

fn bins(days: &[Day], width: f64) -> Vec<Bin> {
    let mut out: Vec<Bin> = Vec::new();
    for d in days {
        let k = (d.day / width).floor();
        let first = k * width;
        let last = d.day + d.width - 1.0;
        match out.last_mut() {
            Some(b) if b.first == first => {
                b.last = last;
                b.deploys += d.deploys * d.width;
                b.days += d.width;
                b.incidents += d.incidents;
                b.users_hit_max = b.users_hit_max.max(d.users_hit_max);
                b.breaker_trips += d.breaker_trips;
            }
            _ => out.push(Bin {
                first,
                last,
                deploys: d.deploys * d.width,
                days: d.width,
                incidents: d.incidents,
                users_hit_max: d.users_hit_max,
                breaker_trips: d.breaker_trips,
            }),
        }
    }
    for b in &mut out {
        b.deploys /= b.days.max(1.0);
    }
    out
}

impl Chart for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let r = self.r;
        let st = style::arm_style(self.arm);
        let arm = &r.arms[self.arm];
        let last_day = self
            .days
            .last()
            .map(|d| d.day + d.width - 1.0)
            .unwrap_or(0.0);
        let weekly = last_day + 1.0 > DAILY_UP_TO;
        // Rows wider than a week (very long horizons) are their own bins.
        let row_width = self.days.first().map_or(1.0, |d| d.width);
        let width = if weekly { row_width.max(7.0) } else { 1.0 };
        let per = if weekly { "week" } else { "day" };
        let title = format!(
            "{arm}: one simulated run of {} days, {per} by {per}",
            style::fmt_num(last_day + 1.0)
        );
        let subtitle = format!(
            "The first replication{}. Top: changes deployed per day. Bottom: incidents per {per}, and how many users they hit.",
            r.focus_phrase(" ", "")
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;
        let ph = plot.dim_in_pixel().1;
        let (top, bottom) = plot.split_vertically(ph * 52 / 100);
        let bins = bins(&self.days, width);

        let (x0, x1) = (-0.5, last_day + 0.5);
        let dmax = self.days.iter().map(|d| d.deploys).fold(0.0, f64::max);
        let y1 = if dmax > 0.0 { dmax * 1.22 } else { 1.0 };

        let mut up = ChartBuilder::on(&top)
            .margin(20)
            .margin_right(40)
            .x_label_area_size(50)
            .y_label_area_size(140)
            .build_cartesian_2d(x0..x1, 0.0..y1)?;
        up.configure_mesh()
            .y_desc("Deploys (changes/day)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&style::fmt_tick)
            .y_labels(6)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(TRANSPARENT)
            .draw()?;
        // Freeze: a full-height band, darker the more of the day was frozen.
        up.draw_series(self.days.iter().filter(|d| d.freeze_h > 0.0).map(|d| {
            let alpha = 0.15 + 0.35 * (d.freeze_h / (24.0 * d.width)).min(1.0);
            Rectangle::new(
                [(d.day - 0.5, 0.0), (d.day - 0.5 + d.width, y1)],
                FREEZE.mix(alpha).filled(),
            )
        }))?;
        // Kill switch: a strip along the bottom, so it differs from freezes by shape too.
        // Each row's strip is as long as the share of its hours the switch was on (a
        // switch on for an hour a day fills 1/24 of each day, not the whole day), so the
        // strip's total length is the time it was on.
        up.draw_series(self.days.iter().filter(|d| d.kill_switch_h > 0.0).map(|d| {
            let on = (d.kill_switch_h / (24.0 * d.width)).min(1.0);
            Rectangle::new(
                [(d.day - 0.5, 0.0), (d.day - 0.5 + d.width * on, y1 * 0.05)],
                KILL.filled(),
            )
        }))?;
        if weekly {
            // Daily values faint, the weekly mean bold: the trend reads, the noise stays
            // visible without dominating.
            up.draw_series(LineSeries::new(
                self.days.iter().map(|d| (d.day, d.deploys)),
                faint(st.color).stroke_width(1),
            ))?;
            up.draw_series(LineSeries::new(
                bins.iter().map(|b| ((b.first + b.last) / 2.0, b.deploys)),
                st.color.stroke_width(4),
            ))?;
        } else {
            up.draw_series(LineSeries::new(
                self.days.iter().map(|d| (d.day, d.deploys)),
                st.color.stroke_width(3),
            ))?;
        }
        // Breaker trips: a marker near the top, with the count when more than one.
        for b in bins.iter().filter(|b| b.breaker_trips > 0.0) {
            let x = (b.first + b.last) / 2.0;
            style::draw_marker(
                up.plotting_area(),
                Marker::Triangle,
                &(x, y1 * 0.93),
                style::INK,
                8,
            )?;
            if b.breaker_trips > 1.0 {
                up.draw_series(std::iter::once(Text::new(
                    style::fmt_num(b.breaker_trips),
                    (x, y1 * 0.84),
                    style::centred(style::text(style::TICK_PX - 6, style::INK)),
                )))?;
            }
        }

        let hits: Vec<&Bin> = bins.iter().filter(|b| b.incidents > 0.0).collect();
        let hmax = hits
            .iter()
            .map(|b| b.users_hit_max * 100.0)
            .fold(0.0, f64::max);
        // Headroom above the tallest bar for its count label.
        let h1 = if hmax > 0.0 { hmax * 1.25 } else { 5.0 };
        let mut down = ChartBuilder::on(&bottom)
            .margin(20)
            .margin_right(40)
            .x_label_area_size(90)
            .y_label_area_size(140)
            .build_cartesian_2d(x0..x1, 0.0..h1)?;
        down.configure_mesh()
            .x_desc("Simulated day")
            .y_desc("Peak users hit (%)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&style::fmt_tick)
            .y_labels(5)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(TRANSPARENT)
            .draw()?;
        // A floor of 1.5% of the axis keeps a near-zero incident visible as a sliver.
        let gap = if weekly { 0.6 } else { 0.1 };
        down.draw_series(hits.iter().map(|b| {
            let h = (b.users_hit_max * 100.0).max(h1 * 0.015);
            Rectangle::new(
                [(b.first - 0.5 + gap, 0.0), (b.last + 0.5 - gap, h)],
                style::ALERT.filled(),
            )
        }))?;
        // Counts above the bars: every week's on a long run (the bars are wide), and on a
        // short one only days with several, alternating in height so neighbours don't collide.
        let day_px = (bottom.dim_in_pixel().0 as f64 - 180.0) / (x1 - x0);
        let min_gap = (34.0 / day_px.max(1.0)).ceil();
        let (mut last, mut level) = (f64::NEG_INFINITY, 0.0);
        for b in hits.iter().filter(|b| weekly || b.incidents > 1.0) {
            level = if !weekly && b.first - last < min_gap {
                1.0 - level
            } else {
                0.0
            };
            last = b.first;
            let h = (b.users_hit_max * 100.0).max(h1 * 0.015);
            let label = if weekly {
                style::fmt_num(b.incidents)
            } else {
                format!("×{}", b.incidents as u64)
            };
            down.draw_series(std::iter::once(Text::new(
                label,
                (
                    (b.first + b.last) / 2.0,
                    (h + h1 * (0.07 + 0.1 * level)).min(h1 * 0.96),
                ),
                style::centred(style::text(style::TICK_PX - 6, style::INK)),
            )))?;
        }
        if hits.is_empty() {
            down.draw_series(std::iter::once(Text::new(
                "No incidents in this run".to_string(),
                (last_day / 2.0, h1 / 2.0),
                style::centred(style::text(style::LABEL_PX, style::GREY)),
            )))?;
        }

        let sum = |f: fn(&Day) -> f64| self.days.iter().map(f).sum::<f64>();
        let mut items = vec![LegendItem::Heading(arm.clone())];
        if weekly {
            items.push(LegendItem::Line(
                st.color,
                None,
                4,
                "Deploys per day, weekly mean".to_string(),
            ));
            items.push(LegendItem::Line(
                faint(st.color),
                None,
                1,
                "Deploys, each day".to_string(),
            ));
            items.push(LegendItem::Swatch(
                style::ALERT,
                1.0,
                "Incidents in the week (height: worst peak % of users hit; number: how many)"
                    .to_string(),
            ));
        } else {
            items.push(LegendItem::Line(
                st.color,
                None,
                3,
                "Deploys per day".to_string(),
            ));
            items.push(LegendItem::Swatch(
                style::ALERT,
                1.0,
                "Incident (height: peak % of users hit; ×n: several that day)".to_string(),
            ));
        }
        items.extend([
            LegendItem::Mark(
                Marker::Triangle,
                style::INK,
                format!("Per-agent breaker trip (number: trips that {per})"),
            ),
            LegendItem::Swatch(
                FREEZE,
                0.4,
                "Error-budget freeze (darker: more of the day)".to_string(),
            ),
            LegendItem::Swatch(
                KILL,
                1.0,
                "Kill switch on (strip at the bottom; its length in a day is the hours it was on)"
                    .to_string(),
            ),
            LegendItem::Heading("Run totals".to_string()),
        ]);
        items.push(LegendItem::Note(format!(
            "{} deploys, {} incidents, {} breaker trips, {} h frozen, {} h kill switch",
            style::fmt_num(sum(|d| d.deploys)),
            style::fmt_num(sum(|d| d.incidents)),
            style::fmt_num(sum(|d| d.breaker_trips)),
            style::fmt_num(sum(|d| d.freeze_h)),
            style::fmt_num(sum(|d| d.kill_switch_h)),
        )));
        style::legend(&legend, &items)?;
        Ok(())
    }
}
