//! The look shared by every chart: size, fonts, the per-arm palette (colour + marker +
//! dash, so arms stay apart in greyscale print), the title block, the legend panel beside
//! the plot (so a legend never covers data), and how numbers and metric names are shown.

use plotters::coord::CoordTranslate;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Pixel size of every chart, PNG and SVG alike: 16:10, reads on a slide.
pub const SIZE: (u32, u32) = (1600, 1000);
/// Height of the title block.
const TITLE_H: u32 = 118;
/// Width of the legend panel on the right.
const LEGEND_W: u32 = 370;

/// Font size of titles.
pub const TITLE_PX: u32 = 38;
/// Font size of axis descriptions and the subtitle.
pub const LABEL_PX: u32 = 26;
/// Font size of tick labels and the legend.
pub const TICK_PX: u32 = 23;

/// Dark grey for secondary text, frontier lines and rings.
pub const INK: RGBColor = RGBColor(40, 40, 40);
/// Mid grey for secondary text.
pub const GREY: RGBColor = RGBColor(110, 110, 110);
/// Light grey for gridlines and unhighlighted graph nodes.
pub const LIGHT: RGBColor = RGBColor(215, 215, 215);
/// The highlight colour (worst incident, incident bars).
pub const ALERT: RGBColor = RGBColor(200, 40, 30);

/// A marker shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled triangle.
    Triangle,
    /// Filled square.
    Square,
    /// An X.
    Cross,
    /// Hollow circle.
    Ring,
    /// Hollow square.
    Box,
    /// Hollow triangle.
    Delta,
    /// Filled diamond.
    Diamond,
}

/// How one arm is drawn.
#[derive(Clone, Copy, Debug)]
pub struct ArmStyle {
    /// Line and marker colour.
    pub color: RGBColor,
    /// Dash length and gap in pixels; `None` is a solid line.
    pub dash: Option<(u32, u32)>,
    /// Marker shape.
    pub marker: Marker,
}

/// The fixed per-arm look, by arm index. Colours are Okabe–Ito (safe for colour-blind
/// readers) ordered so neighbours differ in lightness, plus a brown for the eighth arm
/// (Okabe–Ito's yellow is unreadable on white); marker and dash differ too, so a
/// greyscale print still tells arms apart. Looks repeat from the ninth arm on.
pub fn arm_style(i: usize) -> ArmStyle {
    const TABLE: [ArmStyle; 8] = [
        ArmStyle {
            color: RGBColor(0, 114, 178),
            dash: None,
            marker: Marker::Circle,
        },
        ArmStyle {
            color: RGBColor(213, 94, 0),
            dash: Some((22, 10)),
            marker: Marker::Triangle,
        },
        ArmStyle {
            color: RGBColor(0, 158, 115),
            dash: Some((6, 7)),
            marker: Marker::Square,
        },
        ArmStyle {
            color: RGBColor(204, 121, 167),
            dash: Some((30, 8)),
            marker: Marker::Cross,
        },
        ArmStyle {
            color: RGBColor(230, 159, 0),
            dash: Some((12, 12)),
            marker: Marker::Ring,
        },
        ArmStyle {
            color: RGBColor(86, 180, 233),
            dash: Some((3, 6)),
            marker: Marker::Box,
        },
        ArmStyle {
            color: RGBColor(0, 0, 0),
            dash: Some((18, 5)),
            marker: Marker::Delta,
        },
        ArmStyle {
            color: RGBColor(140, 86, 45),
            dash: Some((26, 6)),
            marker: Marker::Diamond,
        },
    ];
    TABLE[i % TABLE.len()]
}

/// Draws a marker of shape `m`, `r` pixels in radius, at `at` in `area`'s coordinates.
///
/// Drawn in pixels on the area with its coordinate system stripped: markers are shapes of
/// different types, and plotters' series API wants one element type per call.
pub fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    m: Marker,
    at: &CT::From,
    color: RGBColor,
    r: i32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let (x, y) = area.map_coordinate(at);
    let px = area.strip_coord_spec();
    let (bx, by) = px.get_base_pixel();
    let (x, y) = (x - bx, y - by);
    let fill = color.filled();
    let line = color.stroke_width(3);
    let h = r + r / 3;
    let tri = vec![(x, y - h), (x + h, y + r * 2 / 3), (x - h, y + r * 2 / 3)];
    match m {
        Marker::Circle => px.draw(&Circle::new((x, y), r, fill))?,
        Marker::Ring => px.draw(&Circle::new((x, y), r, line))?,
        Marker::Square => px.draw(&Rectangle::new([(x - r, y - r), (x + r, y + r)], fill))?,
        Marker::Box => px.draw(&Rectangle::new([(x - r, y - r), (x + r, y + r)], line))?,
        Marker::Cross => px.draw(&Cross::new((x, y), r, color.stroke_width(4)))?,
        Marker::Triangle => px.draw(&Polygon::new(tri, fill))?,
        Marker::Delta => {
            let mut closed = tri;
            closed.push(closed[0]);
            px.draw(&PathElement::new(closed, line))?
        }
        Marker::Diamond => {
            let d = vec![(x, y - h), (x + h, y), (x, y + h), (x - h, y)];
            px.draw(&Polygon::new(d, fill))?
        }
    }
    Ok(())
}

/// Regular text of `px` pixels.
pub fn text(px: u32, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: color.to_backend_color(),
        ..TextStyle::from((super::super::font::FAMILY, px).into_font())
    }
}

/// Bold text of `px` pixels.
pub fn bold(px: u32, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: color.to_backend_color(),
        ..TextStyle::from((super::super::font::FAMILY, px, FontStyle::Bold).into_font())
    }
}

/// Splits a chart into its title block, plot area and legend panel (right), draws the
/// title and subtitle, and returns (plot, legend).
pub fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> anyhow::Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>)>
where
    DB::ErrorType: 'static,
{
    let (head, body) = root.split_vertically(TITLE_H);
    let room = SIZE.0 as i32 - 36 - 24;
    // A long title shrinks (down to 28 px) rather than run off the edge.
    let mut px = TITLE_PX;
    while px > 28
        && head
            .estimate_text_size(title, &bold(px, BLACK))
            .map(|(w, _)| w as i32 > room)
            .unwrap_or(false)
    {
        px -= 2;
    }
    head.draw(&Text::new(title.to_string(), (36, 22), bold(px, BLACK)))?;
    // A long subtitle wraps onto a second, smaller line.
    let one = text(LABEL_PX - 2, GREY);
    let lines = wrap(&head, subtitle, &one, room);
    if lines.len() <= 1 {
        head.draw(&Text::new(subtitle.to_string(), (36, 74), one))?;
    } else {
        let small = text(LABEL_PX - 6, GREY);
        for (k, line) in wrap(&head, subtitle, &small, room)
            .into_iter()
            .take(2)
            .enumerate()
        {
            head.draw(&Text::new(line, (36, 66 + 24 * k as i32), small.clone()))?;
        }
    }
    let (plot, legend) = body.split_horizontally(SIZE.0 - LEGEND_W);
    Ok((plot, legend))
}

/// One entry of a legend panel.
#[derive(Clone, Debug)]
pub enum LegendItem {
    /// An arm: its line, marker and name.
    Arm(usize, String),
    /// A line of some colour, optionally dashed.
    Line(RGBColor, Option<(u32, u32)>, u32, String),
    /// A filled swatch.
    Swatch(RGBColor, f64, String),
    /// A marker.
    Mark(Marker, RGBColor, String),
    /// A heading line of text.
    Heading(String),
    /// A line of small explanatory text.
    Note(String),
}

/// Draws a legend down the panel `area`, top first.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let mut y = 40;
    let x0 = 16;
    let label_x = x0 + 70;
    let mid = |y: i32| y + TICK_PX as i32 / 2;
    for item in items {
        let (label, style) = match item {
            LegendItem::Heading(t) => (t.clone(), bold(TICK_PX, BLACK)),
            LegendItem::Note(t) => (t.clone(), text(TICK_PX - 4, GREY)),
            LegendItem::Arm(_, t)
            | LegendItem::Line(.., t)
            | LegendItem::Swatch(.., t)
            | LegendItem::Mark(.., t) => (t.clone(), text(TICK_PX, BLACK)),
        };
        match item {
            LegendItem::Arm(i, _) => {
                let s = arm_style(*i);
                sample_line(area, (x0, mid(y)), 56, s.color, s.dash, 3)?;
                draw_marker(area, s.marker, &(x0 + 28, mid(y)), s.color, 8)?;
            }
            LegendItem::Line(c, dash, w, _) => sample_line(area, (x0, mid(y)), 56, *c, *dash, *w)?,
            LegendItem::Swatch(c, alpha, _) => {
                let top = y + 2;
                area.draw(&Rectangle::new(
                    [(x0, top), (x0 + 56, top + TICK_PX as i32 - 2)],
                    c.mix(*alpha).filled(),
                ))?;
            }
            LegendItem::Mark(m, c, _) => {
                draw_marker(area, *m, &(x0 + 28, mid(y)), *c, 10)?;
            }
            LegendItem::Heading(_) | LegendItem::Note(_) => {}
        }
        let indent = if matches!(item, LegendItem::Heading(_) | LegendItem::Note(_)) {
            x0
        } else {
            label_x
        };
        let width = area.dim_in_pixel().0 as i32 - indent - 10;
        for line in wrap(area, &label, &style, width) {
            area.draw(&Text::new(line, (indent, y), style.clone()))?;
            y += style.font.get_size() as i32 + 6;
        }
        y += 12;
    }
    Ok(())
}

fn sample_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    len: i32,
    color: RGBColor,
    dash: Option<(u32, u32)>,
    width: u32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let style = color.stroke_width(width);
    match dash {
        None => area.draw(&PathElement::new(vec![(x, y), (x + len, y)], style))?,
        Some((d, g)) => area.draw(&DashedPathElement::new(
            vec![(x, y), (x + len, y)],
            d,
            g,
            style,
        ))?,
    }
    Ok(())
}

/// Greedy word wrap to `width` pixels, measured with the real font.
pub fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    width: i32,
) -> Vec<String> {
    let fits = |s: &str| {
        area.estimate_text_size(s, style)
            .map(|(w, _)| w as i32 <= width)
            .unwrap_or(true)
    };
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if cur.is_empty() || fits(&cand) {
            cur = cand;
        } else {
            lines.push(std::mem::replace(&mut cur, word.to_string()));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Text anchored at its left-middle.
pub fn left_middle(style: TextStyle<'static>) -> TextStyle<'static> {
    style.pos(Pos::new(HPos::Left, VPos::Center))
}

/// Text anchored at its right-middle.
pub fn right_middle(style: TextStyle<'static>) -> TextStyle<'static> {
    style.pos(Pos::new(HPos::Right, VPos::Center))
}

/// Text anchored at its centre.
pub fn centred(style: TextStyle<'static>) -> TextStyle<'static> {
    style.pos(Pos::new(HPos::Center, VPos::Center))
}

/// A number as the report and the charts show it: about three significant digits,
/// thousands separated, no exponent. The report's numbers are written with this, and the
/// tests compare against it.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    let whole = v == v.trunc();
    let s = if a >= 100.0 {
        let r = v.round();
        let digits = format!("{}", r.abs() as u64);
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if r < 0.0 { format!("-{out}") } else { out }
    } else if whole {
        // Counts and round values read as "44", not "44.0".
        format!("{}", v as i64)
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a == 0.0 {
        "0".to_string()
    } else {
        let decimals = (2 - a.log10().floor() as i32).clamp(0, 12) as usize;
        format!("{v:.decimals$}")
    };
    // "-0.0" and friends read as noise.
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.' || c == ',')
    {
        "0".to_string()
    } else {
        s
    }
}

/// A signed number: "+1.23" or "-1.23".
pub fn fmt_signed(v: f64) -> String {
    let s = fmt_num(v);
    if v > 0.0 && s != "0" {
        format!("+{s}")
    } else {
        s
    }
}

/// A share (0..1) as a percentage: "12.5%".
pub fn fmt_pct(share: f64) -> String {
    format!("{}%", fmt_num(share * 100.0))
}

/// A tick label: like [`fmt_num`] but without the separator on 4-digit numbers.
pub fn fmt_tick(v: &f64) -> String {
    // Round ticks ("20", not "20.0") when the tick is a whole number; five digits and
    // more get thousands separators ("70,000"), as in the report.
    if v.abs() >= 1.0 && (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        return if v.abs() >= 10_000.0 {
            fmt_num(v.round())
        } else {
            format!("{}", v.round() as i64)
        };
    }
    let s = fmt_num(*v);
    if v.abs() < 10_000.0 {
        s.replace(',', "")
    } else {
        s
    }
}

/// A tick of a log axis: as short as the value allows ("0.001", "0.1", "10", "1,000"),
/// without the trailing zeros three significant digits would add.
pub fn fmt_log_tick(v: &f64) -> String {
    if *v >= 1.0 {
        return fmt_tick(v);
    }
    let s = format!("{v:.12}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A share on a log axis as a percentage: "0.01%", "1%", "100%".
pub fn fmt_log_pct(share: &f64) -> String {
    format!("{}%", fmt_log_tick(&(share * 100.0)))
}

/// A metric's name for people, with its unit in brackets.
pub fn metric_label(name: &str) -> String {
    let known = match name {
        "deploys_per_day" => "Deploys per day (changes/day)",
        "deploys_per_day_agent" => "Agent deploys per day (changes/day)",
        "deploys_per_day_human" => "Human deploys per day (changes/day)",
        "lead_time_h_p50" => "Lead time, median (hours)",
        "lead_time_h_p95" => "Lead time, 95th percentile (hours)",
        "lead_time_h_mean" => "Lead time, mean (hours)",
        "user_impact_min_total" => "User impact per run (user-impact minutes)",
        "user_impact_min_p95" => "User impact per incident, p95 (user-impact minutes)",
        "user_impact_min_max" => "Worst incident's user impact (user-impact minutes)",
        "incidents" => "Incidents per run (count)",
        "senior_review_h_per_week" => "Senior review time (hours/week)",
        "blocks_false" => "Good changes blocked per run (count)",
        "blocks_true" => "Bad changes blocked per run (count)",
        "users_hit_max" => "Worst peak share of users hit (share)",
        "services_hit_max" => "Services down in the worst incident (count)",
        "change_failure_rate" => "Change failure rate (share)",
        "availability" => "Availability (share)",
        "time_to_restore_h_p50" => "Time to restore, median (hours)",
        "outage_h_max" => "Longest outage (hours)",
        "user_impact_min_mean" => "User impact per incident, mean (user-impact minutes)",
        "good_deploys_per_day" => "Good deploys per day (changes/day)",
        "tasks_done_per_day" => "Tasks done per day (tasks/day)",
        "tasks_abandoned" => "Tasks abandoned per run (count)",
        "batch_size_p50" => "Tasks per change, median (tasks)",
        "batch_size_p95" => "Tasks per change, 95th percentile (tasks)",
        "backlog_p95" => "Tasks waiting to start, 95th percentile (tasks)",
        "lead_time_censored_share" => "Changes still in flight at the end (share)",
        "review_load_ratio" => "Review work demanded per review hour available (ratio)",
        "queue_unstable" => "Runs whose queue still grows (share)",
        "reviewer_utilisation" => "Reviewer utilisation (share)",
        "environment_deletions" => "Environment deletions per run (count)",
        "block_delay_h_total" => "Hours good changes were held by breakers per run (hours)",
        "violations_max_users_hit_by_one_change" => {
            "Incidents over the users-hit limit per run (count)"
        }
        "violations_max_outage" => "Outages over the time limit per run (count)",
        "violations_max_user_impact_minutes" => {
            "Incidents over the windowed impact limit per run (count)"
        }
        "violations_min_deploys_per_day" => "Runs below the deploy-rate floor (share)",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    match crate::metrics::METRICS.iter().find(|m| m.name == name) {
        Some(m) => format!("{} ({})", capitalise(m.doc), name),
        None => name.to_string(),
    }
}

/// A metric's name for people without the unit: "Deploys per day".
pub fn metric_name(name: &str) -> String {
    let l = metric_label(name);
    match l.rfind(" (") {
        Some(i) if l.ends_with(')') => l[..i].to_string(),
        _ => l,
    }
}

/// A metric's unit alone: "changes/day".
pub fn metric_unit(name: &str) -> String {
    let l = metric_label(name);
    match l.rfind(" (") {
        Some(i) if l.ends_with(')') => l[i + 2..l.len() - 1].to_string(),
        _ => String::new(),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A file-name-safe form of an arm name (one definition, shared with validation).
pub fn slug(name: &str) -> String {
    crate::scenario::file_stem(name)
}

/// A swept parameter's name for people, from its dotted path: a plain name for the
/// parameters the shipped scenarios sweep, else its last two segments in words
/// ("breakers.rate_limit.per_hour" reads "Rate limit: per hour").
pub fn path_label(path: &str) -> String {
    let known = match path {
        "breakers.blast_guard.max_predicted_users" => {
            "Blast-guard threshold (largest predicted share of users a change may hit)"
        }
        "breakers.rate_limit.max_per_hour" => "Rate limit (agent changes per hour)",
        "breakers.error_budget.budget" => "Error budget (user-impact minutes)",
        "reviewers.seniors.count" | "reviewers.senior.count" => "Senior reviewers (people)",
        "authors.agents.count" => "Agents (count)",
        "authors.agents.tasks_per_day" => "Agent tasks per day",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let parts: Vec<String> = path
        .split('.')
        .rev()
        .take(2)
        .map(|p| p.replace('_', " "))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    capitalise(&parts.join(": "))
}

/// The last two segments of a dotted path: "blast_guard.max_predicted_users".
pub fn short_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

/// "a=1, b=2" with shortened paths, or the label as is when it is not of that form.
pub fn short_point_label(
    axes: &[super::input::AxisMeta],
    values: &[String],
    label: &str,
) -> String {
    if axes.is_empty() || axes.len() != values.len() {
        return label.to_string();
    }
    axes.iter()
        .zip(values)
        .map(|(a, v)| format!("{}={v}", short_path(&a.path)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An axis range around [lo, hi] with 8% headroom each side; never empty. With
/// `from_zero`, a non-negative range starts at 0 so bars and magnitudes read honestly.
pub fn padded(lo: f64, hi: f64, from_zero: bool) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let lo = if from_zero && lo > 0.0 { 0.0 } else { lo };
    if hi - lo < 1e-9 {
        let pad = if hi.abs() > 1e-9 { hi.abs() * 0.1 } else { 1.0 };
        return (
            if from_zero && lo >= 0.0 {
                0.0
            } else {
                lo - pad
            },
            hi + pad,
        );
    }
    let pad = (hi - lo) * 0.08;
    let low = if from_zero && lo >= 0.0 { lo } else { lo - pad };
    (low, hi + pad)
}
