//! Scatter plots in a 2-D projection: by cluster, by a continuous value, and cluster centres as bubbles.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ColorScale, DrawResult, Figure, GRID, INK, MODERATE, NOISE, SEVERE, SMALL, Swatch, TICK, cluster_color,
    cluster_name, colorbar, fmt_int, fmt_num, font, legend, padded, titled,
};

/// Width of the legend / colour-bar column.
const SIDE: u32 = 190;

fn bounds(points: &[[f64; 2]]) -> ((f64, f64), (f64, f64)) {
    let mut b = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in points {
        b = (b.0.min(p[0]), b.1.max(p[0]), b.2.min(p[1]), b.3.max(p[1]));
    }
    (padded(b.0, b.1, 0.04), padded(b.2, b.3, 0.04))
}

type Chart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

fn xy_chart<'a, DB: DrawingBackend>(
    plot: &DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    x_label: &str,
    y_label: &str,
) -> Result<Chart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(plot)
        .margin(12)
        .x_label_area_size(58)
        .y_label_area_size(82)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(TICK))
        .axis_desc_style(font(super::DESC))
        .x_labels(8)
        .y_labels(8)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(INK)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| fmt_num(*v))
        .draw()?;
    Ok(chart)
}

/// Points coloured by cluster (noise grey), moderate anomalies ringed, severe ones crossed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterScatter {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// Coordinates.
    pub points: Vec<[f64; 2]>,
    /// Cluster of each point (−1 noise).
    pub labels: Vec<i64>,
    /// Severity of each point: 0 normal, 1 moderate, 2 severe.
    pub severity: Vec<u8>,
    /// A line under the legend (e.g. how many points are shown).
    pub note: String,
}

impl Figure for ClusterScatter {
    fn size(&self) -> (u32, u32) {
        (1000, 640)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - SIDE);
        let (xr, yr) = bounds(&self.points);
        let mut chart = xy_chart(&plot, xr, yr, &self.x_label, &self.y_label)?;
        let p = |i: usize| (self.points[i][0], self.points[i][1]);
        let n = self.points.len();
        chart.draw_series(
            (0..n).filter(|&i| self.labels[i] < 0).map(|i| Circle::new(p(i), 2, NOISE.mix(0.55).filled())),
        )?;
        chart.draw_series(
            (0..n)
                .filter(|&i| self.labels[i] >= 0)
                .map(|i| Circle::new(p(i), 3, cluster_color(self.labels[i]).mix(0.8).filled())),
        )?;
        chart.draw_series(
            (0..n).filter(|&i| self.severity[i] == 1).map(|i| Circle::new(p(i), 6, MODERATE.stroke_width(2))),
        )?;
        chart.draw_series(
            (0..n).filter(|&i| self.severity[i] == 2).map(|i| Cross::new(p(i), 6, SEVERE.stroke_width(2))),
        )?;

        let mut counts = std::collections::BTreeMap::new();
        for &l in &self.labels {
            *counts.entry(l).or_insert(0usize) += 1;
        }
        let (mut entries, mut more) = (Vec::new(), 0usize);
        let max_rows = ((side.dim_in_pixel().1 as i32 - 120) / 21).max(4) as usize;
        for (&l, &c) in counts.iter().filter(|(l, _)| **l >= 0) {
            if entries.len() + 4 >= max_rows {
                more += 1;
                continue;
            }
            entries.push((Swatch::Dot(cluster_color(l)), format!("{} ({})", cluster_name(l), fmt_int(c as u64))));
        }
        if more > 0 {
            entries.push((Swatch::Dot(WHITE), format!("+ {more} more clusters")));
        }
        if let Some(&c) = counts.get(&-1) {
            entries.push((Swatch::Dot(NOISE), format!("noise ({})", fmt_int(c as u64))));
        }
        let m = self.severity.iter().filter(|&&s| s == 1).count();
        let s = self.severity.iter().filter(|&&s| s == 2).count();
        entries.push((Swatch::Ring(MODERATE), format!("moderate ({})", fmt_int(m as u64))));
        entries.push((Swatch::Cross(SEVERE), format!("severe ({})", fmt_int(s as u64))));
        legend(&side, (6, 30), 21, &entries)?;
        note(&side, &self.note)?;
        Ok(())
    }
}

/// Draws a short note at the bottom of the side column, wrapped at word boundaries.
fn note<DB: DrawingBackend>(side: &DrawingArea<DB, Shift>, text: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let h = side.dim_in_pixel().1 as i32;
    let lines = wrap(text, 24);
    let n = lines.len() as i32;
    for (i, line) in lines.into_iter().enumerate() {
        side.draw(&Text::new(
            line,
            (6, h - 70 - (n - 1 - i as i32) * 18),
            font(SMALL - 1).color(&RGBColor(90, 90, 90)),
        ))?;
    }
    Ok(())
}

pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Points coloured by a continuous value (highest drawn last), with a colour bar.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueMap {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// Coordinates.
    pub points: Vec<[f64; 2]>,
    /// Value of each point.
    pub values: Vec<f64>,
    /// Title of the colour bar.
    pub value_label: String,
    /// Values mapped to the ends of the colour scale.
    pub range: (f64, f64),
    /// Colour scale.
    pub scale: ColorScale,
    /// Extra marks on the colour bar (value, label), e.g. thresholds.
    pub marks: Vec<(f64, String)>,
    /// A line under the colour bar.
    pub note: String,
}

impl ValueMap {
    fn t(&self, v: f64) -> f64 {
        let (lo, hi) = self.range;
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    }
}

impl Figure for ValueMap {
    fn size(&self) -> (u32, u32) {
        (1000, 640)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - SIDE);
        let (xr, yr) = bounds(&self.points);
        let mut chart = xy_chart(&plot, xr, yr, &self.x_label, &self.y_label)?;
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by(|&a, &b| self.values[a].total_cmp(&self.values[b]).then(a.cmp(&b)));
        chart.draw_series(order.into_iter().map(|i| {
            Circle::new((self.points[i][0], self.points[i][1]), 3, self.scale.at(self.t(self.values[i])).filled())
        }))?;
        let (lo, hi) = self.range;
        let mut ticks = vec![(0.0, fmt_num(lo)), (1.0, fmt_num(hi))];
        if self.marks.is_empty() {
            ticks.push((0.5, fmt_num((lo + hi) / 2.0)));
        }
        for (v, l) in &self.marks {
            ticks.push((self.t(*v), l.clone()));
        }
        let (bar, _) = side.split_vertically(side.dim_in_pixel().1 - 110);
        colorbar(&bar, self.scale, &self.value_label, &ticks)?;
        note(&side, &self.note)?;
        Ok(())
    }
}

/// Cluster centres as bubbles (area ∝ flows), over the projected flows in light grey.
#[derive(Debug, Clone, PartialEq)]
pub struct BubbleMap {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// Background points (may be empty).
    pub background: Vec<[f64; 2]>,
    /// (label, centre, flows) of each cluster.
    pub bubbles: Vec<(i64, [f64; 2], usize)>,
    /// A line under the legend.
    pub note: String,
}

/// Largest bubble radius in pixels.
const R_MAX: f64 = 46.0;

impl Figure for BubbleMap {
    fn size(&self) -> (u32, u32) {
        (1000, 640)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - SIDE);
        let mut all: Vec<[f64; 2]> = self.bubbles.iter().map(|b| b.1).collect();
        all.extend(self.background.iter().copied());
        let (xr, yr) = bounds(&all);
        let mut chart = xy_chart(&plot, xr, yr, &self.x_label, &self.y_label)?;
        chart.draw_series(
            self.background.iter().map(|p| Circle::new((p[0], p[1]), 2, RGBColor(200, 200, 200).filled())),
        )?;
        let max = self.bubbles.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64;
        let radius = |s: usize| (R_MAX * (s as f64 / max).sqrt()).max(5.0);
        let mut order: Vec<usize> = (0..self.bubbles.len()).collect();
        order.sort_by(|&a, &b| self.bubbles[b].2.cmp(&self.bubbles[a].2).then(a.cmp(&b)));
        for &i in &order {
            let (l, c, s) = self.bubbles[i];
            let r = radius(s).round() as i32;
            chart.draw_series(std::iter::once(Circle::new((c[0], c[1]), r, cluster_color(l).mix(0.45).filled())))?;
            chart.draw_series(std::iter::once(Circle::new((c[0], c[1]), r, cluster_color(l).stroke_width(2))))?;
        }
        // Labels next to their bubble, moved to avoid each other.
        let base = area.get_base_pixel();
        let style = font(SMALL);
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        let mut anchors: Vec<(i32, i32, i32)> = Vec::new();
        for &(_, c, s) in &self.bubbles {
            let (px, py) = chart.backend_coord(&(c[0], c[1]));
            anchors.push((px - base.0, py - base.1, radius(s).round() as i32));
        }
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let inside = |r: (i32, i32, i32, i32)| {
            r.0 >= xr.start - base.0 && r.2 <= xr.end - base.0 && r.1 >= yr.start - base.1 && r.3 <= yr.end - base.1
        };
        for &i in order.iter().rev() {
            let (l, _, _) = self.bubbles[i];
            let text = cluster_name(l);
            let (tw, th) = area.estimate_text_size(&text, &style)?;
            let (tw, th) = (tw as i32, th as i32);
            let (ax, ay, r) = anchors[i];
            let mut best = None;
            'search: for d in [0, 8, 16, 28, 42] {
                for (dx, dy) in [(1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1)] {
                    let (cx, cy) = (ax + dx * (r + 4 + d + tw / 2), ay + dy * (r + 4 + d + th / 2));
                    let rect = (cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2);
                    let hits = placed.iter().any(|p| rect.0 < p.2 && p.0 < rect.2 && rect.1 < p.3 && p.1 < rect.3)
                        || anchors.iter().enumerate().any(|(j, a)| {
                            j != i && {
                                let nx = (a.0).clamp(rect.0, rect.2);
                                let ny = (a.1).clamp(rect.1, rect.3);
                                let (ddx, ddy) = ((nx - a.0) as f64, (ny - a.1) as f64);
                                (ddx * ddx + ddy * ddy).sqrt() < (a.2 as f64).min(8.0)
                            }
                        });
                    if !hits && inside(rect) {
                        best = Some((cx, cy, rect));
                        break 'search;
                    }
                }
            }
            let (cx, cy, rect) =
                best.unwrap_or((ax + r + 4 + tw / 2, ay, (ax + r + 4, ay - th / 2, ax + r + 4 + tw, ay + th / 2)));
            placed.push(rect);
            area.draw(&Text::new(text, (cx, cy), style.color(&INK).pos(Pos::new(HPos::Center, VPos::Center))))?;
        }
        // Size key.
        side.draw(&Text::new("bubble area ∝ flows", (6, 30), font(SMALL)))?;
        let mut y = 70;
        let mut keys: Vec<usize> = vec![max as usize];
        for f in [0.25, 0.05] {
            let k = (max * f).round() as usize;
            if k >= 1 && !keys.contains(&k) {
                keys.push(k);
            }
        }
        for k in keys {
            let r = radius(k).round() as i32;
            side.draw(&Circle::new((6 + R_MAX as i32, y + r), r, RGBColor(120, 120, 120).stroke_width(1)))?;
            side.draw(&Text::new(
                fmt_int(k as u64),
                (12 + 2 * R_MAX as i32, y + r),
                font(SMALL).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            y += 2 * r + 12;
        }
        note(&side, &self.note)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("one two three four", 9), vec!["one two", "three", "four"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn scatter_draws_every_point() {
        let fig = ClusterScatter {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            points: (0..50).map(|i| [i as f64, (i * i) as f64]).collect(),
            labels: (0..50).map(|i| i % 3 - 1).collect(),
            severity: (0..50).map(|i| (i % 7 == 0) as u8 + (i == 49) as u8).collect(),
            note: "50 points".into(),
        };
        let svg = super::super::to_svg(&fig).unwrap();
        // 50 dots + 8 rings (0, 7, …, 42, 49→severe) … count circles of radius 2 and 3 only.
        let dots = svg.matches("r=\"2\"").count() + svg.matches("r=\"3\"").count();
        assert_eq!(dots, 50);
    }
}
