//! Histograms and line curves.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DESC, DrawResult, Figure, GRID, INK, SMALL, Swatch, TICK, fmt_int, fmt_num, font, legend, padded, titled};
use crate::analysis::Histogram;

/// A vertical reference line.
#[derive(Debug, Clone, PartialEq)]
pub struct VLine {
    /// Position on the x axis.
    pub value: f64,
    /// Short text written at the top of the line.
    pub tag: String,
    /// Legend text.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
}

/// A histogram with vertical reference lines (e.g. percentile thresholds).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramPlot {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// What is counted (`flows`, `intervals`): the y axis and the legend.
    pub counted: String,
    /// Bin edges and counts.
    pub hist: Histogram,
    /// Reference lines.
    pub lines: Vec<VLine>,
}

const SIDE: u32 = 250;

impl Figure for HistogramPlot {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let w = body.dim_in_pixel().0;
        let (plot, side) = body.split_horizontally(w - SIDE);
        let e = &self.hist.edges;
        let (x0, x1) = (e[0], e[e.len() - 1]);
        let ymax = self.hist.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.12;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(58)
            .y_label_area_size(82)
            .build_cartesian_2d(x0..x1, 0.0..ymax)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.counted.as_str())
            .label_style(font(TICK))
            .axis_desc_style(font(DESC))
            .max_light_lines(0)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(11)
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .draw()?;
        let fill = RGBColor(70, 110, 160);
        chart.draw_series(
            self.hist
                .counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, &c)| Rectangle::new([(e[i], 0.0), (e[i + 1], c as f64)], fill.mix(0.85).filled())),
        )?;
        let mut entries =
            vec![(Swatch::Dot(fill), format!("{} ({})", self.counted, fmt_int(self.hist.total() as u64)))];
        for (k, l) in self.lines.iter().enumerate() {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(l.value, 0.0), (l.value, ymax)],
                l.color.stroke_width(3),
            )))?;
            let (px, py) = chart.backend_coord(&(l.value, ymax));
            let base = area.get_base_pixel();
            area.draw(&Text::new(
                l.tag.clone(),
                (px - base.0 - 5, py - base.1 + 6 + 20 * k as i32),
                font(SMALL).color(&l.color).pos(Pos::new(HPos::Right, VPos::Top)),
            ))?;
            entries.push((Swatch::Line(l.color), l.label.clone()));
        }
        legend(&side, (6, 30), 26, &entries)?;
        Ok(())
    }
}

/// A curve over integer x (e.g. a per-k index), with optional error bars and a marked x.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// x values.
    pub xs: Vec<f64>,
    /// y values (NaN: no point).
    pub ys: Vec<f64>,
    /// Error bar half-widths (± around y).
    pub errors: Option<Vec<f64>>,
    /// y on a log scale (values must be positive).
    pub log_y: bool,
    /// A marked x with its label (e.g. the chosen k).
    pub mark: Option<(f64, String)>,
    /// Line colour.
    pub color: RGBColor,
}

impl Figure for LinePlot {
    fn size(&self) -> (u32, u32) {
        (620, 460)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        let tf = |v: f64| if self.log_y { v.log10() } else { v };
        let pts: Vec<(f64, f64, f64)> = self
            .xs
            .iter()
            .zip(&self.ys)
            .enumerate()
            .filter(|(_, (_, y))| y.is_finite() && (!self.log_y || **y > 0.0))
            .map(|(i, (&x, &y))| (x, tf(y), self.errors.as_ref().map_or(0.0, |e| e[i])))
            .collect();
        let (ylo, yhi) =
            pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y, e)| (a.min(y - e), b.max(y + e)));
        let (ylo, yhi) = padded(ylo, yhi, 0.08);
        let (xlo, xhi) = self.xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let (xlo, xhi) = padded(xlo, xhi, 0.05);
        let log_y = self.log_y;
        let mut chart = ChartBuilder::on(&body)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(56)
            .y_label_area_size(86)
            .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
        let whole = |v: &f64| if (v - v.round()).abs() < 1e-9 { fmt_num(v.round()) } else { String::new() };
        curve_mesh(&mut chart, (&self.x_label, &self.y_label), (self.xs.len().min(12), &whole), log_y)?;
        if let Some((x, label)) = &self.mark {
            let style = RGBColor(200, 0, 30);
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(*x, ylo), (*x, yhi)],
                6,
                4,
                style.stroke_width(2),
            )))?;
            let (px, py) = chart.backend_coord(&(*x, yhi));
            let base = area.get_base_pixel();
            let right = px - base.0 > area.dim_in_pixel().0 as i32 - 140;
            let pos = if right { Pos::new(HPos::Right, VPos::Top) } else { Pos::new(HPos::Left, VPos::Top) };
            let dx = if right { -6 } else { 6 };
            area.draw(&Text::new(
                label.clone(),
                (px - base.0 + dx, py - base.1 + 6),
                font(SMALL).color(&style).pos(pos),
            ))?;
        }
        if self.errors.is_some() {
            chart.draw_series(pts.iter().map(|&(x, y, e)| {
                PathElement::new(vec![(x, y - e), (x, y + e)], self.color.mix(0.6).stroke_width(2))
            }))?;
        }
        chart.draw_series(LineSeries::new(pts.iter().map(|&(x, y, _)| (x, y)), self.color.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|&(x, y, _)| Circle::new((x, y), 4, self.color.filled())))?;
        Ok(())
    }
}

/// One line of a [`SeriesPlot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// x values, ascending.
    pub xs: Vec<f64>,
    /// y values (on a log scale: values ≤ 0 are drawn at the floor).
    pub ys: Vec<f64>,
}

/// Several lines on shared axes with a legend, y optionally on a log scale (e.g. bytes per window of the
/// top hosts).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPlot {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// The lines, coloured in order.
    pub series: Vec<Series>,
    /// y on a log scale.
    pub log_y: bool,
}

impl Figure for SeriesPlot {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = titled(area, &self.title)?;
        // Log scale: zero is drawn one decade below the smallest positive value.
        let floor = self.series.iter().flat_map(|s| &s.ys).copied().filter(|y| *y > 0.0).fold(f64::INFINITY, f64::min);
        let floor = if floor.is_finite() { floor.log10() - 1.0 } else { 0.0 };
        let tf = |y: f64| {
            if !self.log_y {
                y
            } else if y > 0.0 {
                y.log10()
            } else {
                floor
            }
        };
        let pts: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|s| {
                s.xs.iter()
                    .zip(&s.ys)
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(&x, &y)| (x, tf(y)))
                    .collect()
            })
            .collect();
        let all = pts.iter().flatten();
        let (xlo, xhi) = all.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (ylo, yhi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
        if !xlo.is_finite() {
            return Ok(());
        }
        let (xlo, xhi) = padded(xlo, xhi, 0.03);
        let (ylo, yhi) = padded(ylo, yhi, 0.08);
        let legend_width = 280;
        let (plot, side) = body.split_horizontally(body.dim_in_pixel().0.saturating_sub(legend_width));
        let log_y = self.log_y;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(56)
            .y_label_area_size(86)
            .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
        curve_mesh(&mut chart, (&self.x_label, &self.y_label), (8, &|v: &f64| fmt_num(*v)), log_y)?;
        let mut entries = Vec::new();
        for (i, (s, p)) in self.series.iter().zip(&pts).enumerate() {
            let color = super::cluster_color(i as i64);
            chart.draw_series(LineSeries::new(p.iter().copied(), color.stroke_width(2)))?;
            chart.draw_series(p.iter().map(|&xy| Circle::new(xy, 3, color.filled())))?;
            entries.push((Swatch::Line(color), super::shorten(&s.label, 34)));
        }
        legend(&side, (8, 40), 26, &entries)
    }
}

/// The mesh of the curve plots: both axes described, light grid, y ticks as powers of ten on a log scale.
fn curve_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    (x_desc, y_desc): (&str, &str),
    (x_labels, x_format): (usize, &dyn Fn(&f64) -> String),
    log_y: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(TICK))
        .axis_desc_style(font(DESC))
        .max_light_lines(0)
        .bold_line_style(GRID)
        .axis_style(INK)
        .x_labels(x_labels)
        .y_labels(6)
        .x_label_formatter(x_format)
        .y_label_formatter(&|v| if log_y { super::fmt_pow10(*v) } else { fmt_num(*v) })
        .draw()?;
    Ok(())
}
