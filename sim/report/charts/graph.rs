//! The dependency graph in a layered layout: one column per depth (entry services left,
//! services with no dependencies right), services ordered in
//! each column to keep edges short (barycentre sweeps), circle area by user-traffic
//! weight, and the services the worst incident took down in red.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use super::input::{GraphData, Results};
use super::style::{self, LegendItem, Marker};

/// Fill of services the worst incident did not hit.
const CALM: RGBColor = RGBColor(205, 205, 205);

pub(super) struct GraphChart<'a> {
    r: &'a Results,
    g: &'a GraphData,
}

impl<'a> GraphChart<'a> {
    pub(super) fn new(r: &'a Results, g: &'a GraphData) -> Self {
        GraphChart { r, g }
    }

    pub(super) fn caption(&self) -> String {
        let hit = self.g.nodes.iter().filter(|n| n.hit_in_worst).count();
        format!(
            "The {} services by dependency depth, sized by user traffic; in red the {hit} the worst incident took down",
            self.g.nodes.len()
        )
    }
}

/// Column (depth) and row of every node, by node position in `g.nodes`. Rows are ordered
/// by the mean row of each node's dependents in the previous columns (a barycentre
/// sweep, ties by id), which keeps most edges short and uncrossed.
fn layout(g: &GraphData) -> (Vec<Vec<usize>>, Vec<usize>) {
    let max_id = g.nodes.iter().map(|n| n.id).max().unwrap_or(0);
    let mut pos_of_id = vec![usize::MAX; max_id + 1];
    for (i, n) in g.nodes.iter().enumerate() {
        pos_of_id[n.id] = i;
    }
    let depth_n = g.nodes.iter().map(|n| n.depth).max().map_or(0, |d| d + 1);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); depth_n];
    let mut by_id: Vec<usize> = (0..g.nodes.len()).collect();
    by_id.sort_by_key(|&i| g.nodes[i].id);
    for i in by_id {
        columns[g.nodes[i].depth].push(i);
    }
    let mut row = vec![0.0f64; g.nodes.len()];
    for col in &columns {
        for (k, &i) in col.iter().enumerate() {
            row[i] = k as f64 / col.len().max(1) as f64;
        }
    }
    // Neighbours as node positions, both directions.
    let mut nbr: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for e in &g.edges {
        let (a, b) = (pos_of_id[e.from], pos_of_id[e.to]);
        nbr[a].push(b);
        nbr[b].push(a);
    }
    for sweep in 0..4 {
        let order: Vec<usize> = if sweep % 2 == 0 {
            (1..depth_n).collect()
        } else {
            (0..depth_n.saturating_sub(1)).rev().collect()
        };
        for c in order {
            let reference = if sweep % 2 == 0 {
                c.wrapping_sub(1)
            } else {
                c + 1
            };
            let mut keyed: Vec<(f64, usize, usize)> = columns[c]
                .iter()
                .map(|&i| {
                    let ns: Vec<f64> = nbr[i]
                        .iter()
                        .filter(|&&j| g.nodes[j].depth == reference)
                        .map(|&j| row[j])
                        .collect();
                    let key = if ns.is_empty() {
                        row[i]
                    } else {
                        ns.iter().sum::<f64>() / ns.len() as f64
                    };
                    (key, g.nodes[i].id, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            columns[c] = keyed.iter().map(|k| k.2).collect();
            let len = columns[c].len().max(1) as f64;
            for (k, &i) in columns[c].iter().enumerate() {
                row[i] = k as f64 / len;
            }
        }
    }
    (columns, pos_of_id)
}

impl Chart for GraphChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (g, r) = (self.g, self.r);
        let hit = g.nodes.iter().filter(|n| n.hit_in_worst).count();
        let (columns, pos_of_id) = layout(g);
        let title = "The dependency graph and the worst incident's blast radius".to_string();
        let subtitle = match r.worst_incident() {
            Some(w) => format!(
                "{} services by depth. Red: the {hit} service{} down in the worst incident ({}, {} of users at peak).",
                g.nodes.len(),
                if hit == 1 { "" } else { "s" },
                w.arm,
                style::fmt_pct(w.users_hit_peak)
            ),
            None => format!(
                "{} services by depth. No incident was recorded.",
                g.nodes.len()
            ),
        };
        let (plot, legend) = style::frame(root, &title, &subtitle)?;
        let (w, h) = plot.dim_in_pixel();
        let (left, right, top, bottom) = (70.0, w as f64 - 150.0, 70.0, h as f64 - 30.0);
        let ncol = columns.len().max(1);
        // Depth is the longest dependency chain below a service, so the entry services
        // have the largest: they are drawn on the left, as the legend says, and the
        // services with no dependencies (depth 0) on the right.
        let col_x = |c: usize| {
            if ncol == 1 {
                (left + right) / 2.0
            } else {
                left + (right - left) * (ncol - 1 - c) as f64 / (ncol - 1) as f64
            }
        };

        let wmax = g
            .nodes
            .iter()
            .map(|n| n.weight)
            .fold(0.0, f64::max)
            .max(1e-12);
        let mut xy = vec![(0i32, 0i32); g.nodes.len()];
        let mut radius = vec![4i32; g.nodes.len()];
        for (c, col) in columns.iter().enumerate() {
            let gap = (bottom - top) / col.len().max(1) as f64;
            let rmax = (gap * 0.45).clamp(3.0, 22.0);
            for (k, &i) in col.iter().enumerate() {
                xy[i] = (col_x(c) as i32, (top + gap * (k as f64 + 0.5)) as i32);
                // Area proportional to weight: radius by square root.
                radius[i] = (3.0 + (rmax - 3.0) * (g.nodes[i].weight / wmax).max(0.0).sqrt())
                    .round() as i32;
            }
            plot.draw(&Text::new(
                format!("depth {c}"),
                (col_x(c) as i32, 30),
                style::centred(style::bold(style::TICK_PX - 2, style::GREY)),
            ))?;
        }

        // On a large graph the unhit edges are a faint texture, so the red subgraph of the
        // worst incident stands out; names are drawn only for the services it hit.
        let large = g.nodes.len() > 60;
        let origin = r.worst_incident().map(|w| w.origin.as_str());
        if large {
            for (i, n) in g.nodes.iter().enumerate() {
                if n.hit_in_worst {
                    radius[i] = radius[i].max(7);
                }
            }
        }
        let is_hit = |id: usize| g.nodes[pos_of_id[id]].hit_in_worst;
        for pass in [false, true] {
            for e in g
                .edges
                .iter()
                .filter(|e| (is_hit(e.from) && is_hit(e.to)) == pass)
            {
                let (a, b) = (xy[pos_of_id[e.from]], xy[pos_of_id[e.to]]);
                let s = if pass {
                    style::ALERT.stroke_width(3)
                } else if large {
                    style::GREY.mix(0.14).stroke_width(1)
                } else {
                    style::GREY.mix(0.35).stroke_width(1)
                };
                if e.kind == "soft" {
                    plot.draw(&DashedPathElement::new(vec![a, b], 7, 6, s))?;
                } else {
                    plot.draw(&PathElement::new(vec![a, b], s))?;
                }
            }
        }
        for (i, n) in g.nodes.iter().enumerate() {
            let (fill, edge) = if n.hit_in_worst {
                (style::ALERT, BLACK)
            } else {
                (CALM, style::GREY)
            };
            let fill = if large && !n.hit_in_worst {
                fill.mix(0.6)
            } else {
                fill.mix(1.0)
            };
            plot.draw(&Circle::new(xy[i], radius[i], fill.filled()))?;
            plot.draw(&Circle::new(xy[i], radius[i], edge.stroke_width(1)))?;
            if origin == Some(n.name.as_str()) && n.hit_in_worst {
                plot.draw(&Circle::new(xy[i], radius[i] + 6, BLACK.stroke_width(3)))?;
            }
        }
        // Names: all when few, else only the hit ones when those are few.
        let label_all = g.nodes.len() <= 40;
        if label_all || hit <= 25 {
            for (i, n) in g
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| label_all || n.hit_in_worst)
            {
                let (x, y) = xy[i];
                let is_origin = origin == Some(n.name.as_str()) && n.hit_in_worst;
                let name = if is_origin {
                    format!("{} (start)", n.name)
                } else {
                    n.name.clone()
                };
                // Clear of the origin's ring.
                let x = if is_origin { x + 8 } else { x };
                plot.draw(&Text::new(
                    name,
                    (x + radius[i] + 5, y),
                    style::left_middle(style::text(
                        style::TICK_PX - 7,
                        if n.hit_in_worst { BLACK } else { style::GREY },
                    )),
                ))?;
            }
        }

        let items = vec![
            LegendItem::Heading("Services".to_string()),
            LegendItem::Mark(Marker::Circle, style::ALERT, format!("Down in the worst incident ({hit})")),
            LegendItem::Mark(Marker::Circle, CALM, "Not hit".to_string()),
            LegendItem::Mark(Marker::Ring, BLACK, "Where the worst incident started".to_string()),
            LegendItem::Note("Circle area: share of user traffic.".to_string()),
            LegendItem::Heading("Dependencies".to_string()),
            LegendItem::Line(style::GREY, None, 2, "Hard: a failure spreads".to_string()),
            LegendItem::Line(style::GREY, Some((7, 6)), 2, "Soft: it may spread".to_string()),
            LegendItem::Line(style::ALERT, None, 3, "Between two hit services".to_string()),
            LegendItem::Note("Columns: entry services on the left, services with no dependencies (depth 0) on the right; depth = the longest chain of dependencies below a service.".to_string()),
        ];
        style::legend(&legend, &items)?;
        Ok(())
    }
}
