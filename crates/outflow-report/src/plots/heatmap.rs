//! A labelled square heatmap of a matrix in [−1, 1] (correlations).

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ColorScale, DrawResult, Figure, INK, SMALL, TICK, colorbar, font, shorten, titled};

/// A `p × p` matrix of values in [−1, 1] with row / column names; NaN cells are hatched grey.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Title.
    pub title: String,
    /// Names of the rows and columns.
    pub names: Vec<String>,
    /// Values.
    pub matrix: Array2<f64>,
    /// Title of the colour bar.
    pub value_label: String,
}

impl Heatmap {
    fn cell(&self) -> i32 {
        (600 / self.names.len().max(1) as i32).clamp(14, 90)
    }

    fn label_space(&self) -> i32 {
        let longest = self.names.iter().map(|n| shorten(n, 28).chars().count()).max().unwrap_or(4) as i32;
        (longest * 9 + 24).clamp(60, 270)
    }
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        let p = self.names.len() as i32;
        let grid = self.cell() * p;
        let w = self.label_space() + grid + 220;
        let h = 80 + grid + self.label_space();
        (w.max(700) as u32, h.max(420) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0 as i32;
        let p = self.names.len();
        let cell = self.cell();
        let left = self.label_space();
        let grid = cell * p as i32;
        let x_off = ((w - 200 - left - grid) / 2).max(0) + left;
        let y_off = 10;
        let annotate = p <= 16;
        let value_font = (cell / 3).clamp(10, SMALL as i32) as u32;
        for i in 0..p {
            for j in 0..p {
                let v = self.matrix[[i, j]];
                let (x0, y0) = (x_off + j as i32 * cell, y_off + i as i32 * cell);
                let color =
                    if v.is_finite() { ColorScale::Diverging.at((v + 1.0) / 2.0) } else { RGBColor(210, 210, 210) };
                body.draw(&Rectangle::new([(x0, y0), (x0 + cell, y0 + cell)], color.filled()))?;
                body.draw(&Rectangle::new([(x0, y0), (x0 + cell, y0 + cell)], WHITE.stroke_width(1)))?;
                if annotate {
                    let text = if v.is_finite() { format!("{v:.2}").replace('-', "−") } else { "n/a".to_owned() };
                    let ink = if v.is_finite() && v.abs() > 0.6 { WHITE } else { INK };
                    body.draw(&Text::new(
                        text,
                        (x0 + cell / 2, y0 + cell / 2),
                        font(value_font).color(&ink).pos(Pos::new(HPos::Center, VPos::Center)),
                    ))?;
                }
            }
            let name = shorten(&self.names[i], 28);
            body.draw(&Text::new(
                name.clone(),
                (x_off - 8, y_off + i as i32 * cell + cell / 2),
                font(TICK).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            body.draw(&Text::new(
                name,
                (x_off + i as i32 * cell + cell / 2, y_off + grid + 8),
                font(TICK).transform(FontTransform::Rotate270).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        body.draw(&Rectangle::new([(x_off, y_off), (x_off + grid, y_off + grid)], INK.stroke_width(1)))?;
        let bar = body.clone().shrink((x_off + grid + 40, 0), (160, (grid + 60).min(body.dim_in_pixel().1 as i32)));
        colorbar(
            &bar,
            ColorScale::Diverging,
            &self.value_label,
            &[(0.0, "−1".into()), (0.5, "0".into()), (1.0, "1".into())],
        )?;
        Ok(())
    }
}
