//! The audit chart: one horizontal bar per arm, split into the shares of actions allowed,
//! asked, held, blocked and escalated, with the destructive actions stopped written at
//! the end of each bar. Drawn with plotters and the bundled DejaVu font, as every chart.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::audit::replay::{ArmStats, DecisionKind};
use crate::report::atomic::write_atomic;
use crate::report::font;

/// File stem of the chart.
pub const NAME: &str = "audit_decisions";

const SIZE: (u32, u32) = (1600, 900);

fn colour(k: DecisionKind) -> RGBColor {
    match k {
        DecisionKind::Allowed => RGBColor(120, 170, 110),
        DecisionKind::Asked => RGBColor(90, 140, 200),
        DecisionKind::Held => RGBColor(240, 180, 70),
        DecisionKind::Blocked => RGBColor(200, 60, 50),
        DecisionKind::Escalated => RGBColor(150, 90, 170),
    }
}

fn style(px: u32, c: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: c.to_backend_color(),
        ..TextStyle::from((font::FAMILY, px).into_font())
    }
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    arms: &[String],
    stats: &[ArmStats],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let ink = RGBColor(40, 40, 40);
    root.draw(&Text::new(
        "What each arm would have done to the logged actions".to_string(),
        (40, 24),
        style(38, BLACK),
    ))?;
    let total: u64 = stats.first().map_or(0, |s| s.kinds.iter().sum());
    root.draw(&Text::new(
        format!("share of {total} actions by decision; right: destructive actions stopped (blocked or held), and sent to a senior"),
        (40, 74),
        style(24, RGBColor(110, 110, 110)),
    ))?;
    // Legend.
    let mut x = 40;
    for k in DecisionKind::ALL {
        root.draw(&Rectangle::new(
            [(x, 116), (x + 28, 140)],
            colour(k).filled(),
        ))?;
        root.draw(&Text::new(
            k.name().to_string(),
            (x + 36, 116),
            style(24, ink),
        ))?;
        x += 200;
    }
    let left = 360i32;
    let right = SIZE.0 as i32 - 330;
    let top = 180i32;
    let n = arms.len().max(1) as i32;
    let row_h = ((SIZE.1 as i32 - top - 60) / n).clamp(30, 120);
    let bar_h = (row_h * 2 / 3).max(20);
    for (i, (name, s)) in arms.iter().zip(stats).enumerate() {
        let y = top + i as i32 * row_h;
        let label: String = if name.chars().count() > 26 {
            format!("{}…", name.chars().take(25).collect::<String>())
        } else {
            name.clone()
        };
        root.draw(&Text::new(label, (40, y + bar_h / 2 - 14), style(26, ink)))?;
        let n: u64 = s.kinds.iter().sum();
        let mut x0 = left;
        for k in DecisionKind::ALL {
            let share = if n == 0 {
                0.0
            } else {
                s.kinds[k.index()] as f64 / n as f64
            };
            let w = (share * f64::from(right - left)).round() as i32;
            if w > 0 {
                root.draw(&Rectangle::new(
                    [(x0, y), (x0 + w, y + bar_h)],
                    colour(k).filled(),
                ))?;
                if w > 70 {
                    root.draw(&Text::new(
                        format!("{:.0}%", share * 100.0),
                        (x0 + 8, y + bar_h / 2 - 12),
                        style(22, WHITE),
                    ))?;
                }
            }
            x0 += w;
        }
        root.draw(&Rectangle::new(
            [(left, y), (right, y + bar_h)],
            ink.stroke_width(1),
        ))?;
        let d: u64 = s.destructive.iter().sum();
        let stopped = s.destructive[DecisionKind::Blocked.index()]
            + s.destructive[DecisionKind::Held.index()];
        let senior = s.destructive[DecisionKind::Escalated.index()];
        let label = if senior > 0 {
            format!("{stopped} of {d}, {senior} to a senior")
        } else {
            format!("{stopped} of {d}")
        };
        root.draw(&Text::new(
            label,
            (right + 20, y + bar_h / 2 - 14),
            style(26, ink),
        ))?;
    }
    Ok(())
}

/// Draws `audit_decisions.svg` and `.png` into `dir`; returns the stem.
pub fn draw(dir: &Path, arms: &[String], stats: &[ArmStats]) -> anyhow::Result<&'static str> {
    font::register()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw_on(&root, arms, stats)?;
        root.present()?;
    }
    write_atomic(&dir.join(format!("{NAME}.svg")), svg.as_bytes())?;
    // The bitmap encoder picks the format from the extension: the temporary keeps `.png`.
    let tmp = dir.join(format!(".{NAME}.tmp.png"));
    {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw_on(&root, arms, stats)?;
        root.present()?;
    }
    std::fs::rename(&tmp, dir.join(format!("{NAME}.png")))?;
    Ok(NAME)
}
