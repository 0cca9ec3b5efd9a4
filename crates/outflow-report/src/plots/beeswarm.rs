//! shap's beeswarm (`summary_plot`): one row per feature, one dot per explained flow at its SHAP value,
//! coloured by the feature's value.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ColorScale, DrawResult, Figure, TICK, category_mesh, colorbar, font, padded, shorten, titled};
use crate::analysis::Beeswarm;

/// The beeswarm of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct BeeswarmPlot {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// The values and layout.
    pub data: Beeswarm,
    /// At most this many features (the most important).
    pub max_features: usize,
}

impl BeeswarmPlot {
    fn rows(&self) -> usize {
        self.data.rows.len().min(self.max_features.max(1))
    }
}

impl Figure for BeeswarmPlot {
    fn size(&self) -> (u32, u32) {
        (1000, (170 + 56 * self.rows() as u32).max(360))
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - 150);
        let rows = &self.data.rows[..self.rows()];
        let (lo, hi) =
            rows.iter().flat_map(|r| r.shap.iter().copied()).fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = padded(lo, hi, 0.05);
        let n = rows.len() as f64;
        let labels: Vec<String> = rows.iter().map(|r| shorten(&r.feature, 30)).collect();
        let style = font(TICK);
        let lw = labels.iter().filter_map(|l| area.estimate_text_size(l, &style).ok()).map(|s| s.0).max().unwrap_or(40);
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .margin_right(20)
            .x_label_area_size(56)
            .y_label_area_size((lw + 22).clamp(60, 300))
            .build_cartesian_2d(lo..hi, (n - 0.5)..-0.5)?;
        category_mesh(&mut chart, self.x_label.as_str(), None)?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, n - 0.5), (0.0, -0.5)],
            RGBColor(120, 120, 120).stroke_width(1),
        )))?;
        for (r, row) in rows.iter().enumerate() {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(lo, r as f64), (hi, r as f64)],
                RGBColor(235, 235, 235).stroke_width(1),
            )))?;
            chart.draw_series((0..row.shap.len()).map(|i| {
                Circle::new(
                    (row.shap[i], r as f64 + row.offset[i]),
                    2,
                    ColorScale::Shap.at(row.color[i]).mix(0.9).filled(),
                )
            }))?;
        }
        let base = area.get_base_pixel();
        for (r, l) in labels.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(lo, r as f64));
            area.draw(&Text::new(
                l.clone(),
                (px - base.0 - 8, py - base.1),
                style.pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        let bar_h = side.dim_in_pixel().1.saturating_sub(30).max(200);
        let (bar, _) = side.split_vertically(bar_h);
        colorbar(&bar, ColorScale::Shap, "feature value", &[(0.0, "low".into()), (1.0, "high".into())])?;
        Ok(())
    }
}
