//! Horizontal bar charts: cluster sizes and feature importances.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    DrawResult, Figure, INK, SMALL, Swatch, TICK, category_mesh, cluster_color, cluster_name, fmt_int, fmt_num, font,
    legend, shorten, titled,
};
use crate::analysis::SizeBar;

/// Width of the label column for `labels`.
fn label_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, labels: &[String]) -> u32
where
    DB::ErrorType: 'static,
{
    let style = font(TICK);
    let w = labels.iter().filter_map(|l| area.estimate_text_size(l, &style).ok()).map(|(w, _)| w).max().unwrap_or(40);
    (w + 22).clamp(60, 300)
}

/// Writes `labels[i]` left of the plot at the height of row `i` (rows from the top).
fn row_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    labels: &[String],
    x0: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let base = area.get_base_pixel();
    for (i, l) in labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(x0, i as f64));
        area.draw(&Text::new(
            l.clone(),
            (px - base.0 - 8, py - base.1),
            font(TICK).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Flows per cluster with percentages (noise first).
#[derive(Debug, Clone, PartialEq)]
pub struct SizeBars {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// Bars, drawn top-down.
    pub bars: Vec<SizeBar>,
}

impl SizeBars {
    fn row(&self) -> u32 {
        if self.bars.len() > 40 { 16 } else { 28 }
    }
}

/// A percentage for a label: one decimal, `<0.1%` for small non-zero shares.
pub fn fmt_percent(p: f64) -> String {
    if p > 0.0 && p < 0.05 { "<0.1%".to_owned() } else { format!("{p:.1}%") }
}

impl Figure for SizeBars {
    fn size(&self) -> (u32, u32) {
        (1000, (150 + self.row() * self.bars.len() as u32).max(300))
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let n = self.bars.len().max(1) as f64;
        let max = self.bars.iter().map(|b| b.size).max().unwrap_or(1).max(1) as f64;
        let labels: Vec<String> = self.bars.iter().map(|b| cluster_name(b.label)).collect();
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_right(30)
            .x_label_area_size(56)
            .y_label_area_size(label_width(area, &labels))
            .build_cartesian_2d(0.0..max * 1.3, (n - 0.5)..-0.5)?;
        category_mesh(&mut chart, self.x_label.as_str(), None)?;
        let half = 0.36;
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            let y = i as f64;
            Rectangle::new([(0.0, y - half), (b.size as f64, y + half)], cluster_color(b.label).filled())
        }))?;
        let base = area.get_base_pixel();
        for (i, b) in self.bars.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(b.size as f64, i as f64));
            area.draw(&Text::new(
                format!("{} ({})", fmt_int(b.size as u64), fmt_percent(b.percent)),
                (px - base.0 + 6, py - base.1),
                font(SMALL).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        row_labels(area, &chart, &labels, 0.0)?;
        Ok(())
    }
}

/// Grouped horizontal bars: one group per feature, one bar per series, sorted by the first series.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportanceBars {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// Feature names.
    pub features: Vec<String>,
    /// (name, value per feature, optional ± error per feature) of each series.
    pub series: Vec<(String, Vec<f64>, Option<Vec<f64>>)>,
    /// At most this many features (the most important by the first series).
    pub max_features: usize,
}

const SERIES_COLORS: [RGBColor; 3] = [RGBColor(52, 101, 164), RGBColor(230, 126, 0), RGBColor(44, 160, 44)];

impl ImportanceBars {
    /// Feature indices drawn, top-down.
    pub fn order(&self) -> Vec<usize> {
        let first = self.series.first().map(|s| s.1.clone()).unwrap_or_default();
        let mut order: Vec<usize> = (0..self.features.len()).collect();
        order.sort_by(|&a, &b| {
            let (va, vb) = (first.get(a).copied().unwrap_or(0.0), first.get(b).copied().unwrap_or(0.0));
            vb.total_cmp(&va).then(a.cmp(&b))
        });
        order.truncate(self.max_features.max(1));
        order
    }
}

impl Figure for ImportanceBars {
    fn size(&self) -> (u32, u32) {
        let rows = self.order().len() as u32;
        (1000, (170 + rows * (14 * self.series.len() as u32 + 14)).max(320))
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - 220);
        let order = self.order();
        let n = order.len().max(1) as f64;
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for (_, v, e) in &self.series {
            for &j in &order {
                let err = e.as_ref().map_or(0.0, |e| e[j]);
                lo = lo.min(v[j] - err);
                hi = hi.max(v[j] + err);
            }
        }
        let span = (hi - lo).max(1e-9);
        let labels: Vec<String> = order.iter().map(|&j| shorten(&self.features[j], 32)).collect();
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .margin_right(20)
            .x_label_area_size(56)
            .y_label_area_size(label_width(area, &labels))
            .build_cartesian_2d((lo - 0.02 * span)..(hi + 0.2 * span), (n - 0.5)..-0.5)?;
        category_mesh(&mut chart, self.x_label.as_str(), None)?;
        let k = self.series.len().max(1) as f64;
        let band = 0.8 / k;
        let base = area.get_base_pixel();
        for (s, (_, v, e)) in self.series.iter().enumerate() {
            let color = SERIES_COLORS[s % SERIES_COLORS.len()];
            for (row, &j) in order.iter().enumerate() {
                let y0 = row as f64 - 0.4 + band * s as f64;
                let (a, b) = if v[j] >= 0.0 { (0.0, v[j]) } else { (v[j], 0.0) };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, y0 + 0.06), (b, y0 + band - 0.06)],
                    color.filled(),
                )))?;
                let ym = y0 + band / 2.0;
                let err = e.as_ref().map_or(0.0, |e| e[j]);
                if err > 0.0 {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(v[j] - err, ym), (v[j] + err, ym)],
                        INK.stroke_width(1),
                    )))?;
                }
                let (px, py) = chart.backend_coord(&(v[j].max(0.0) + err, ym));
                area.draw(&Text::new(
                    fmt_num(v[j]),
                    (px - base.0 + 5, py - base.1),
                    font(SMALL - 2).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
        }
        row_labels(area, &chart, &labels, lo - 0.02 * span)?;
        let entries: Vec<(Swatch, String)> = self
            .series
            .iter()
            .enumerate()
            .map(|(s, (name, _, _))| (Swatch::Dot(SERIES_COLORS[s % SERIES_COLORS.len()]), name.clone()))
            .collect();
        legend(&side, (10, 30), 24, &entries)?;
        Ok(())
    }
}
