//! The tornado chart of the sensitivity analysis: for each assumption, how far the
//! recommended arm's lead over the runner-up moves when the assumption goes from its low
//! to its high value (everything else at base, same seeds), largest swing on top. An end
//! where the recommendation changes is drawn in the alert colour and says to which arm.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Chart;
use super::input::{RangeEnds, Results, range_ends};
use super::style::{self, LegendItem};

/// Most characters of an assumption's name on the axis; longer names are cut with "…".
const LABEL_CHARS_MAX: usize = 40;

/// One assumption: both ends of its range.
type Bar<'a> = RangeEnds<'a>;

/// How far the pick's lead moves across an assumption's range (0 when an end has none).
fn swing(b: &Bar<'_>) -> f64 {
    match (b.low.advantage, b.high.advantage) {
        (Some(a), Some(b)) => (a - b).abs(),
        _ => 0.0,
    }
}

pub(super) struct Tornado<'a> {
    bars: Vec<Bar<'a>>,
    /// The base advantage and the arm index of the recommendation.
    base: f64,
    arm: Option<usize>,
}

impl<'a> Tornado<'a> {
    /// The chart, or why there is none.
    pub(super) fn new(r: &'a Results) -> Result<Self, String> {
        let Some(rows) = &r.sensitivity else {
            return Err(
                "sensitivity.csv is absent (no [sensitivity] section, --no-sensitivity or --shard)"
                    .to_string(),
            );
        };
        let mut bars = range_ends(rows);
        let Some(first) = bars.first().map(|b| b.low) else {
            return Err("sensitivity.csv has no assumption with both ends".to_string());
        };
        let Some(base) = first.base_advantage else {
            return Err(format!(
                "no advantage to draw: at the base values {}",
                if first.base_recommended == "none" {
                    "no setting meets every constraint"
                } else {
                    "no other setting meets every constraint (no runner-up)"
                }
            ));
        };
        // Largest swing on top; ties keep the file's order.
        bars.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
        let arm = r.arm_index(
            first
                .base_recommended
                .split(" at ")
                .next()
                .unwrap_or_default(),
        );
        Ok(Tornado { bars, base, arm })
    }

    pub(super) fn caption(&self) -> String {
        let b = &self.bars[0].low;
        format!(
            "How far the recommendation's lead moves with each assumption: {} minus the runner-up's {}, \
             each assumption at the low and high end of its range, everything else as in the scenario",
            b.base_recommended,
            style::metric_name(&b.objective)
        )
    }
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS_MAX {
        label.to_string()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS_MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

impl Chart for Tornado<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let first = self.bars[0].low;
        let objective = style::metric_name(&first.objective);
        let unit = style::metric_unit(&first.objective);
        let title = format!(
            "How sure is the answer? The lead of {} across each assumption's range",
            first.base_recommended
        );
        let subtitle = format!(
            "Bars: {objective} of {} minus the runner-up's, with one assumption at its low (light) or high (dark) value; same seeds as the main runs.",
            first.base_recommended
        );
        let (plot, legend) = style::frame(root, &title, &subtitle)?;

        let mut lo = self.base.min(0.0);
        let mut hi = self.base.max(0.0);
        for b in &self.bars {
            for v in [b.low.advantage, b.high.advantage].into_iter().flatten() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        let (x0, x1) = style::padded(lo, hi, false);
        // Room on both sides for the values written beside the bars.
        let (x0, x1) = (x0 - 0.35 * (x1 - x0), x1 + 0.3 * (x1 - x0));
        let n = self.bars.len();
        let mut chart = ChartBuilder::on(&plot)
            .margin(24)
            .margin_right(40)
            .x_label_area_size(100)
            .y_label_area_size(560)
            .build_cartesian_2d(x0..x1, -0.5f64..(n as f64 - 0.5))?;
        let labels: Vec<String> = self.bars.iter().map(|b| short(&b.low.label)).collect();
        let y_label = |y: &f64| {
            let i = (n as f64 - 1.0 - y).round();
            if (y - y.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n.max(1) * 2 + 1)
            .x_desc(format!(
                "Lead over the runner-up ({objective}{})",
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(", {unit}")
                }
            ))
            .y_label_formatter(&y_label)
            .x_label_formatter(&style::fmt_tick)
            .label_style(style::text(style::TICK_PX, style::INK))
            .axis_desc_style(style::text(style::LABEL_PX, BLACK))
            .bold_line_style(style::LIGHT.mix(0.7))
            .light_line_style(style::LIGHT.mix(0.25))
            .draw()?;

        let colour = self.arm.map_or(style::GREY, |a| style::arm_style(a).color);
        let half = 0.32;
        let small = style::text(style::TICK_PX - 4, style::INK);
        // Text beside a point of the plot, `dx` pixels to its right (left when negative).
        let tag = |at: (f64, f64), dx: i32, t: String| {
            let st = if dx < 0 {
                style::right_middle(small.clone())
            } else {
                style::left_middle(small.clone())
            };
            EmptyElement::at(at) + Text::new(t, (dx, 0), st)
        };
        let same = |v: f64| (v - self.base).abs() <= 1e-9 * self.base.abs().max(1.0);
        for (k, b) in self.bars.iter().enumerate() {
            let y = (n - 1 - k) as f64;
            let ends = [(b.low, 0.4), (b.high, 0.95)];
            if ends
                .iter()
                .all(|(r, _)| r.advantage.is_some_and(same) && !r.flips)
            {
                chart.draw_series(std::iter::once(tag(
                    (self.base, y),
                    10,
                    format!("{} to {}: no change", b.low.value, b.high.value),
                )))?;
                continue;
            }
            // Each end's label: the assumption's value there (and a flip's new arm).
            let mut tags: Vec<(f64, String)> = Vec::new();
            for (row, alpha) in ends {
                let Some(v) = row.advantage else {
                    chart.draw_series(std::iter::once(tag(
                        (self.base, y),
                        10,
                        format!("{}: no other arm meets the constraints", row.value),
                    )))?;
                    continue;
                };
                let (a, z) = if v < self.base {
                    (v, self.base)
                } else {
                    (self.base, v)
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y - half), (z, y + half)],
                    colour.mix(alpha).filled(),
                )))?;
                if row.flips {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(a, y - half), (z, y + half)],
                        style::ALERT.stroke_width(4),
                    )))?;
                }
                let mut t = row.value.clone();
                if row.flips {
                    t.push_str(&format!(": {}", row.recommended));
                }
                tags.push((v, t));
            }
            // Two ends on the same side of the base lead would write over each other:
            // one label says both, low first, beyond the farther end on the right, and
            // just right of the base line on the left (where it would run into the
            // assumptions' names).
            if let [(lv, lt), (hv, ht)] = &tags[..]
                && (*lv < self.base) == (*hv < self.base)
            {
                let at = if *lv < self.base {
                    self.base
                } else {
                    lv.max(*hv)
                };
                tags = vec![(at, format!("low {lt}, high {ht}"))];
            }
            for (v, t) in tags {
                let dx = if v < self.base { -8 } else { 8 };
                chart.draw_series(std::iter::once(tag((v, y), dx, t)))?;
            }
        }
        // The base lead, and zero: left of zero the runner-up ships more.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(self.base, -0.5), (self.base, n as f64 - 0.5)],
            BLACK.stroke_width(3),
        )))?;
        if x0 < 0.0 && x1 > 0.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                style::ALERT.mix(0.6).stroke_width(2),
            )))?;
        }

        let mut items = vec![LegendItem::Heading("Reading it".to_string())];
        items.push(LegendItem::Swatch(
            colour,
            0.4,
            "assumption at the low end of its range".to_string(),
        ));
        items.push(LegendItem::Swatch(
            colour,
            0.95,
            "assumption at the high end".to_string(),
        ));
        items.push(LegendItem::Line(
            BLACK,
            None,
            3,
            format!(
                "lead at the scenario's values: {}",
                style::fmt_num(self.base)
            ),
        ));
        items.push(LegendItem::Line(
            style::ALERT,
            None,
            4,
            "red outline: the recommendation changes at that end (to the arm named)".to_string(),
        ));
        items.push(LegendItem::Note(
            "The number at a bar's end is the assumption's value there. A bar crossing zero means the runner-up ships more; \
             the recommendation can also change because its arm stops meeting a constraint."
                .to_string(),
        ));
        style::legend(&legend, &items)?;
        Ok(())
    }
}
