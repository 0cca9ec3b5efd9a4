//! scikit-learn's silhouette plot: each cluster's sorted silhouette values as a filled band.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DrawResult, Figure, INK, SMALL, category_mesh, cluster_color, cluster_name, fmt_num, font, titled};
use crate::analysis::SilhouetteData;

/// Silhouette values per cluster with the mean as a dashed line.
#[derive(Debug, Clone, PartialEq)]
pub struct SilhouettePlot {
    /// Title.
    pub title: String,
    /// The values.
    pub data: SilhouetteData,
}

/// Minimum band height in "rows" so that every cluster stays visible and labelled.
fn bands(sizes: &[usize], min_rows: f64) -> Vec<(f64, f64)> {
    let mut y = 0.0;
    let gap = (sizes.iter().sum::<usize>() as f64 * 0.01).max(2.0);
    sizes
        .iter()
        .map(|&s| {
            let h = (s as f64).max(min_rows);
            let b = (y, y + h);
            y += h + gap;
            b
        })
        .collect()
}

impl Figure for SilhouettePlot {
    fn size(&self) -> (u32, u32) {
        (1000, (240 + 24 * self.data.clusters.len() as u32).clamp(560, 1100))
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let sizes: Vec<usize> = self.data.clusters.iter().map(|c| c.1.len()).collect();
        let total = sizes.iter().sum::<usize>().max(1) as f64;
        let plot_h = body.dim_in_pixel().1 as f64 - 90.0;
        // At least 18 px per band.
        let min_rows = 18.0 * total / plot_h.max(100.0);
        let b = bands(&sizes, min_rows);
        let ymax = b.last().map_or(1.0, |l| l.1) + min_rows * 0.3;
        let ytop = -min_rows * 1.4;
        let lo = self.data.clusters.iter().flat_map(|c| c.1.iter().copied()).fold(0.0f64, f64::min).max(-1.0);
        let xlo = if lo < -0.1 { (lo * 10.0).floor() / 10.0 } else { -0.1 };
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_right(30)
            .x_label_area_size(56)
            .y_label_area_size(70)
            .build_cartesian_2d(xlo..1.0, ymax..ytop)?;
        category_mesh(&mut chart, "silhouette coefficient", Some("clusters (band height ∝ flows)"))?;
        let base = area.get_base_pixel();
        for ((label, values), &(y0, y1)) in self.data.clusters.iter().zip(&b) {
            let n = values.len().max(1) as f64;
            let mut poly = vec![(0.0, y0)];
            for (i, &v) in values.iter().enumerate() {
                let y = y0 + (i as f64 + 0.5) / n * (y1 - y0);
                poly.push((v, y));
            }
            poly.push((0.0, y1));
            chart.draw_series(std::iter::once(Polygon::new(poly.clone(), cluster_color(*label).mix(0.85).filled())))?;
            chart.draw_series(std::iter::once(PathElement::new(poly, cluster_color(*label).stroke_width(1))))?;
            let (px, py) = chart.backend_coord(&(xlo, (y0 + y1) / 2.0));
            area.draw(&Text::new(
                cluster_name(*label),
                (px - base.0 - 8, py - base.1),
                font(SMALL).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, ymax), (0.0, ytop)], INK.stroke_width(1))))?;
        let red = RGBColor(200, 0, 30);
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(self.data.mean, ymax), (self.data.mean, ytop)],
            8,
            5,
            red.stroke_width(2),
        )))?;
        let (px, py) = chart.backend_coord(&(self.data.mean, ytop));
        area.draw(&Text::new(
            format!("mean {}", fmt_num(self.data.mean)),
            (px - base.0 + 6, py - base.1 + 4),
            font(SMALL).color(&red).pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        Ok(())
    }
}
