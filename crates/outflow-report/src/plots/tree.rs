//! HDBSCAN's condensed tree as an icicle plot with the selected clusters boxed, like hdbscan's
//! `condensed_tree_.plot(select_clusters=True)`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ColorScale, DESC, DrawResult, Figure, GRID, INK, SMALL, TICK, cluster_color, cluster_name, colorbar, fmt_int,
    fmt_num, font, titled,
};
use crate::analysis::TreeLayout;

/// The condensed tree: icicles (width = points, colour = points on a log scale), λ growing downwards.
#[derive(Debug, Clone, PartialEq)]
pub struct CondensedTreePlot {
    /// Title.
    pub title: String,
    /// The layout.
    pub layout: TreeLayout,
    /// λ on a log scale (needed when λ spans decades, e.g. with duplicate flows).
    pub log_lambda: bool,
}

impl CondensedTreePlot {
    /// The smallest λ drawn (the top of the plot on a log scale).
    pub fn lambda_floor(&self) -> f64 {
        let min = self
            .layout
            .bars
            .iter()
            .flat_map(|b| [b.lambda_start, b.lambda_end])
            .filter(|&l| l > 0.0)
            .fold(f64::INFINITY, f64::min);
        if min.is_finite() { 10f64.powf(min.log10().floor()) } else { 1e-3 }
    }

    fn y(&self, lambda: f64) -> f64 {
        if self.log_lambda { lambda.max(self.lambda_floor()).log10() } else { lambda }
    }
}

impl Figure for CondensedTreePlot {
    fn size(&self) -> (u32, u32) {
        (1100, 700)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - 170);
        let l = &self.layout;
        let (x0, x1) = if l.x_range.0.is_finite() { l.x_range } else { (0.0, 1.0) };
        let pad = (x1 - x0) * 0.02 + 1.0;
        let top = self.y(if self.log_lambda { self.lambda_floor() } else { 0.0 });
        let bottom = self.y(l.lambda_max.max(self.lambda_floor() * 10.0));
        let span = (bottom - top).abs().max(1e-9);
        let log = self.log_lambda;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .margin_top(30)
            .x_label_area_size(20)
            .y_label_area_size(90)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), (bottom + span * 0.03)..(top - span * 0.02))?;
        chart
            .configure_mesh()
            .y_desc(if log { "λ = 1 / distance (log scale)" } else { "λ = 1 / distance" })
            .label_style(font(TICK))
            .axis_desc_style(font(DESC))
            .max_light_lines(0)
            .disable_x_mesh()
            .x_labels(0)
            .bold_line_style(GRID)
            .axis_style(INK)
            .y_label_formatter(&|v| if log { super::fmt_pow10(*v) } else { fmt_num(*v) })
            .draw()?;
        let n = l.n_points.max(2) as f64;
        let t = |w: f64| (w.max(1.0).ln() / n.ln()).clamp(0.0, 1.0);
        chart.draw_series(l.bars.iter().map(|b| {
            Rectangle::new(
                [(b.x - b.width / 2.0, self.y(b.lambda_start)), (b.x + b.width / 2.0, self.y(b.lambda_end))],
                ColorScale::Viridis.at(t(b.points)).filled(),
            )
        }))?;
        chart.draw_series(l.lines.iter().map(|ln| {
            PathElement::new(vec![(ln.x0, self.y(ln.lambda)), (ln.x1, self.y(ln.lambda))], INK.stroke_width(1))
        }))?;
        // Selected clusters: boxes in the cluster's colour, labels placed to avoid each other.
        let base = area.get_base_pixel();
        let style = font(SMALL);
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        for s in &l.selected {
            let px = (s.right - s.left) * 0.08 + pad * 0.2;
            let (a, b) = (self.y(s.lambda_birth), self.y(s.lambda_death));
            let rect = [(s.left - px, a - span * 0.008), (s.right + px, b + span * 0.008)];
            chart.draw_series(std::iter::once(Rectangle::new(rect, cluster_color(s.label).stroke_width(3))))?;
        }
        for s in &l.selected {
            let text = cluster_name(s.label);
            let (tw, th) = area.estimate_text_size(&text, &style)?;
            let (tw, th) = (tw as i32, th as i32);
            let (cx, ytop) = chart.backend_coord(&((s.left + s.right) / 2.0, self.y(s.lambda_birth) - span * 0.008));
            let (_, ybot) = chart.backend_coord(&((s.left + s.right) / 2.0, self.y(s.lambda_death) + span * 0.008));
            let (cx, ytop, ybot) = (cx - base.0, ytop - base.1, ybot - base.1);
            let mut chosen = None;
            'find: for k in 0..8 {
                for (above, y) in [(true, ytop - 3 - k * (th + 2)), (false, ybot + 3 + k * (th + 2))] {
                    let (y0, y1) = if above { (y - th, y) } else { (y, y + th) };
                    let r = (cx - tw / 2 - 2, y0, cx + tw / 2 + 2, y1);
                    if !placed.iter().any(|p| r.0 < p.2 && p.0 < r.2 && r.1 < p.3 && p.1 < r.3) {
                        chosen = Some(r);
                        break 'find;
                    }
                }
            }
            let r = chosen.unwrap_or((cx - tw / 2, ytop - th - 3, cx + tw / 2, ytop - 3));
            placed.push(r);
            area.draw(&Rectangle::new([(r.0, r.1), (r.2, r.3)], WHITE.mix(0.85).filled()))?;
            area.draw(&Text::new(
                text,
                (cx, (r.1 + r.3) / 2),
                style.color(&cluster_color(s.label)).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
        let ticks: Vec<(f64, String)> = [2.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0, 1_000_000.0]
            .into_iter()
            .filter(|&v| v < n)
            .map(|v| (t(v), fmt_int(v as u64)))
            .chain(std::iter::once((1.0, fmt_int(n as u64))))
            .collect();
        let (bar, rest) = side.split_vertically(side.dim_in_pixel().1.saturating_sub(150));
        colorbar(&bar, ColorScale::Viridis, "points", &ticks)?;
        rest.draw(&Rectangle::new([(10, 20), (34, 38)], cluster_color(0).stroke_width(3)))?;
        rest.draw(&Text::new("selected", (42, 29), font(SMALL).pos(Pos::new(HPos::Left, VPos::Center))))?;
        rest.draw(&Text::new("cluster", (42, 47), font(SMALL).pos(Pos::new(HPos::Left, VPos::Center))))?;
        Ok(())
    }
}
