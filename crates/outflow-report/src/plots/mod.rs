//! Figures drawn with [plotters](https://docs.rs/plotters), as SVG text or PNG bytes, with a font
//! embedded in the crate (a subset of DejaVu Sans) so that nothing depends on the machine's fonts.
//!
//! Every figure is a plain data type implementing [`Figure`]; [`to_svg`] and [`to_png`] render it. The
//! same drawing code produces both, so the PNG copies match the report's inline SVG.
//!
//! ```
//! use outflow_report::analysis::histogram;
//! use outflow_report::plots::{HistogramPlot, VLine, to_png, to_svg};
//! let scores: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
//! let fig = HistogramPlot {
//!     title: "Outlier scores".into(),
//!     x_label: "score".into(),
//!     counted: "flows".into(),
//!     hist: histogram(&scores, 40),
//!     lines: vec![VLine {
//!         value: 0.95,
//!         tag: "p95".into(),
//!         label: "moderate ≥ p95".into(),
//!         color: outflow_report::plots::MODERATE,
//!     }],
//! };
//! let svg = to_svg(&fig).unwrap();
//! assert!(svg.starts_with("<svg") && svg.contains("Outlier scores"));
//! let png = to_png(&fig).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

use std::error::Error;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{ReportError, Result};

mod bars;
mod beeswarm;
mod curves;
mod heatmap;
mod raster;
mod scatter;
mod silhouette;
mod tree;

pub use bars::{ImportanceBars, SizeBars};
pub use beeswarm::BeeswarmPlot;
pub use curves::{HistogramPlot, LinePlot, Series, SeriesPlot, VLine};
pub use heatmap::Heatmap;
pub use scatter::{BubbleMap, ClusterScatter, ValueMap};
pub use silhouette::SilhouettePlot;
pub use tree::CondensedTreePlot;

/// The embedded font: a subset of DejaVu Sans 2.37 (Latin-1, Greek, punctuation, arrows, a few math
/// signs), licence in `fonts/LICENSE-DejaVu.txt`.
pub const FONT_BYTES: &[u8] = include_bytes!("../../fonts/DejaVuSans-subset.ttf");

/// The family name the figures use (the report's CSS declares it with the embedded font).
pub const FONT: &str = "OutflowSans";

/// Error type of drawing code.
pub type DrawResult = std::result::Result<(), Box<dyn Error>>;

/// A figure: a fixed pixel size and drawing code for any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);

    /// Draws onto `area` (already filled white).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

static FONT_INIT: Once = Once::new();

/// Registers the embedded font with plotters (idempotent; [`to_svg`] and [`to_png`] call it).
pub fn register_font() {
    FONT_INIT.call_once(|| {
        for name in [FONT, "sans-serif"] {
            // The bytes are a valid TrueType font checked by the tests.
            let _ = plotters::style::register_font(name, FontStyle::Normal, FONT_BYTES);
        }
    });
}

/// The figure as an SVG document (`<svg …>…</svg>`, with a `viewBox`).
pub fn to_svg<F: Figure>(fig: &F) -> Result<String> {
    register_font();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::plot("svg", e))?;
        fig.draw(&root).map_err(|e| ReportError::plot("svg", e))?;
        root.present().map_err(|e| ReportError::plot("svg", e))?;
    }
    Ok(s)
}

/// The figure as a PNG image (8-bit RGB).
pub fn to_png<F: Figure>(fig: &F) -> Result<Vec<u8>> {
    register_font();
    let (w, h) = fig.size();
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = raster::PngCanvas::new(&mut buf, (w, h), FONT_BYTES).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::plot("png", e))?;
        fig.draw(&root).map_err(|e| ReportError::plot("png", e))?;
        root.present().map_err(|e| ReportError::plot("png", e))?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        let mut wr = enc.write_header().map_err(|e| ReportError::plot("png", e))?;
        wr.write_image_data(&buf).map_err(|e| ReportError::plot("png", e))?;
        wr.finish().map_err(|e| ReportError::plot("png", e))?;
    }
    Ok(out)
}

// ---- shared style ----------------------------------------------------------------------------------

/// Title size (plotters' size unit; SVG font-size is this / 1.24).
pub(crate) const TITLE: u32 = 24;
/// Axis description size.
pub(crate) const DESC: u32 = 18;
/// Tick label size.
pub(crate) const TICK: u32 = 16;
/// Legend and annotation size.
pub(crate) const SMALL: u32 = 15;

/// Colour of moderate anomalies and the moderate threshold.
pub const MODERATE: RGBColor = RGBColor(230, 126, 0);
/// Colour of severe anomalies and the severe threshold.
pub const SEVERE: RGBColor = RGBColor(200, 0, 30);
/// Colour of noise (cluster −1).
pub const NOISE: RGBColor = RGBColor(150, 150, 150);
/// Dark text.
pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
/// Grid lines.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);

/// tab10 then the light tab20 shades, then darker variants: distinct colours for 30 clusters.
const PALETTE: [(u8, u8, u8); 30] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
    (57, 59, 121),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (219, 219, 141),
    (158, 218, 229),
    (99, 121, 57),
    (140, 109, 49),
    (132, 60, 57),
    (123, 65, 115),
    (82, 84, 163),
    (107, 110, 207),
    (181, 207, 107),
    (231, 186, 82),
    (214, 97, 107),
    (206, 109, 189),
    (49, 130, 189),
];

/// The colour of a cluster label (noise grey; labels beyond the palette cycle).
pub fn cluster_color(label: i64) -> RGBColor {
    if label < 0 {
        return NOISE;
    }
    let (r, g, b) = PALETTE[label as usize % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The name of a cluster label in figures.
pub fn cluster_name(label: i64) -> String {
    if label < 0 { "noise".to_owned() } else { format!("C{label}") }
}

fn lerp(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (stops.len() - 1) as f64;
    let i = (pos.floor() as usize).min(stops.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (stops[i], stops[i + 1]);
    let m = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// A continuous colour scale on `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorScale {
    /// matplotlib's viridis (dark blue → yellow).
    Viridis,
    /// matplotlib's magma-like inferno ramp (black → yellow), for scores.
    Inferno,
    /// Diverging blue → white → red (for correlations in [−1, 1]).
    Diverging,
    /// shap's blue → magenta → red (feature value low → high).
    Shap,
}

impl ColorScale {
    /// The colour at `t ∈ [0, 1]` (clamped).
    pub fn at(self, t: f64) -> RGBColor {
        const VIRIDIS: [(u8, u8, u8); 9] = [
            (68, 1, 84),
            (71, 44, 122),
            (59, 81, 139),
            (44, 113, 142),
            (33, 144, 141),
            (39, 173, 129),
            (92, 200, 99),
            (170, 220, 50),
            (253, 231, 37),
        ];
        const INFERNO: [(u8, u8, u8); 9] = [
            (0, 0, 4),
            (31, 12, 72),
            (85, 15, 109),
            (136, 34, 106),
            (186, 54, 85),
            (227, 89, 51),
            (249, 140, 10),
            (249, 201, 50),
            (252, 255, 164),
        ];
        const DIVERGING: [(u8, u8, u8); 7] = [
            (33, 102, 172),
            (103, 169, 207),
            (209, 229, 240),
            (247, 247, 247),
            (253, 219, 199),
            (239, 138, 98),
            (178, 24, 43),
        ];
        const SHAP: [(u8, u8, u8); 3] = [(0, 139, 251), (150, 40, 190), (255, 0, 81)];
        match self {
            ColorScale::Viridis => lerp(&VIRIDIS, t),
            ColorScale::Inferno => lerp(&INFERNO, t * 0.9),
            ColorScale::Diverging => lerp(&DIVERGING, t),
            ColorScale::Shap => lerp(&SHAP, t),
        }
    }
}

/// A number for an axis or a label: integers with thousands separators, small and large values in
/// scientific notation, others with up to 3 significant decimals.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let a = v.abs();
    if a < 1e-12 {
        return "0".to_owned(); // also axis ticks that are 0 up to rounding
    }
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace("e-", "e−").replace('-', "−");
    }
    if a >= 1000.0 || (v.fract() == 0.0 && a >= 1.0) {
        let s = fmt_int(v.round().abs() as u64);
        return if v < 0.0 { format!("−{s}") } else { s };
    }
    let decimals = if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else if a >= 0.1 {
        3
    } else {
        4
    };
    let s = format!("{:.*}", decimals, a);
    let s = s.trim_end_matches('0').trim_end_matches('.').to_owned();
    if v < 0.0 { format!("−{s}") } else { s }
}

/// `10^v` for a tick on a log₁₀ axis: `10⁻⁶`, `10⁴` for whole powers beyond ±2, else [`fmt_num`].
pub fn fmt_pow10(v: f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-9 && r.abs() >= 3.0 {
        const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
        let mut s = String::from("10");
        if r < 0.0 {
            s.push('⁻');
        }
        for d in (r.abs() as u64).to_string().bytes() {
            s.push(SUP[(d - b'0') as usize]);
        }
        s
    } else {
        fmt_num(10f64.powf(v))
    }
}

/// An integer with thousands separators.
pub fn fmt_int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Shortens a label to at most `max` characters with an ellipsis.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The text style of a given size and colour.
pub(crate) fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&INK)
}

/// The mesh of a chart with categories down the y axis (bars, beeswarm, silhouette): vertical grid
/// lines and numeric x ticks only; the figure draws its own category labels.
pub(crate) fn category_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    x_desc: &str,
    y_desc: Option<&str>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .label_style(font(TICK))
        .axis_desc_style(font(DESC))
        .max_light_lines(0)
        .disable_y_mesh()
        .y_labels(0)
        .bold_line_style(GRID)
        .axis_style(INK)
        .x_label_formatter(&|v| fmt_num(*v));
    if let Some(y) = y_desc {
        mesh.y_desc(y);
    }
    mesh.draw()?;
    Ok(())
}

/// Lower and upper bounds with a margin of `pad` (fraction of the span); a zero span gets ±0.5.
pub(crate) fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 0.0 {
        return (lo - 0.5, hi + 0.5);
    }
    (lo - span * pad, hi + span * pad)
}

/// Draws a vertical colour bar with a title and min / max tick labels into `area`.
pub(crate) fn colorbar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scale: ColorScale,
    title: &str,
    ticks: &[(f64, String)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let top = 60;
    let bottom = h - 50;
    let x0 = 14;
    let x1 = x0 + 18;
    area.draw(&Text::new(title.to_owned(), (x0 - 4, top - 30), font(SMALL)))?;
    let steps = (bottom - top).max(1);
    for i in 0..steps {
        let t = 1.0 - i as f64 / steps as f64;
        area.draw(&Rectangle::new([(x0, top + i), (x1, top + i + 1)], scale.at(t).filled()))?;
    }
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], INK.stroke_width(1)))?;
    // Tick marks where they belong; labels pushed apart (≥ 17 px) and joined to their mark.
    let mut marks: Vec<(i32, &String)> =
        ticks.iter().map(|(t, l)| (bottom - (t.clamp(0.0, 1.0) * (bottom - top) as f64).round() as i32, l)).collect();
    marks.sort_by_key(|m| m.0);
    let gap = 17;
    let mut ys: Vec<i32> = marks.iter().map(|m| m.0).collect();
    for i in 1..ys.len() {
        ys[i] = ys[i].max(ys[i - 1] + gap);
    }
    if let Some(&last) = ys.last() {
        let over = last - (bottom + 8);
        if over > 0 {
            for y in ys.iter_mut() {
                *y -= over;
            }
            for i in (0..ys.len().saturating_sub(1)).rev() {
                ys[i] = ys[i].min(ys[i + 1] - gap);
            }
        }
    }
    let style = font(SMALL).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    ));
    for ((y, label), ly) in marks.iter().zip(&ys) {
        area.draw(&PathElement::new(vec![(x0 - 3, *y), (x1 + 3, *y)], INK.stroke_width(1)))?;
        area.draw(&PathElement::new(vec![(x1 + 3, *y), (x1 + 9, *ly)], INK.stroke_width(1)))?;
        area.draw(&Text::new((*label).clone(), (x1 + 12, *ly), style.clone()))?;
    }
    let _ = w;
    Ok(())
}

/// One legend entry.
pub(crate) enum Swatch {
    /// A filled dot.
    Dot(RGBColor),
    /// A hollow ring.
    Ring(RGBColor),
    /// A cross.
    Cross(RGBColor),
    /// A vertical line.
    Line(RGBColor),
}

/// Draws legend entries top-down from `(x, y)` with `step` pixels between them.
pub(crate) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    step: i32,
    entries: &[(Swatch, String)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    for (i, (sw, label)) in entries.iter().enumerate() {
        let cy = y + i as i32 * step;
        match sw {
            Swatch::Dot(c) => area.draw(&Circle::new((x + 6, cy), 6, c.filled()))?,
            Swatch::Ring(c) => area.draw(&Circle::new((x + 6, cy), 6, c.stroke_width(2)))?,
            Swatch::Cross(c) => area.draw(&Cross::new((x + 6, cy), 6, c.stroke_width(2)))?,
            Swatch::Line(c) => area.draw(&PathElement::new(vec![(x, cy), (x + 14, cy)], c.stroke_width(3)))?,
        }
        area.draw(&Text::new(label.clone(), (x + 20, cy), font(SMALL).pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    Ok(())
}

/// Draws a title centred at the top of `area`; returns the area below it.
pub(crate) fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let w = area.dim_in_pixel().0 as i32;
    let style = font(TITLE);
    let (_, th) = area.estimate_text_size(title, &style)?;
    area.draw(&Text::new(title.to_owned(), (w / 2, 14), style.pos(Pos::new(HPos::Center, VPos::Top))))?;
    Ok(area.split_vertically(14 + th as i32 + 16).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(3656.0), "3,656");
        assert_eq!(fmt_num(0.93289), "0.933");
        assert_eq!(fmt_num(-0.5), "−0.5");
        assert_eq!(fmt_num(59612.5), "59,613");
        assert_eq!(fmt_num(1.2e7), "1.2e7");
        assert_eq!(fmt_num(0.0001), "1.0e−4");
        assert_eq!(fmt_num(12.345), "12.35");
        assert_eq!(fmt_int(1234567), "1,234,567");
    }

    #[test]
    fn the_font_parses() {
        register_font();
        let f = TextStyle::from((FONT, 20).into_font());
        let (w, _) = f.font.box_size("Outflow").unwrap();
        assert!(w > 40);
    }

    #[test]
    fn palette_is_distinct_and_noise_is_grey() {
        assert_eq!(cluster_color(-1), NOISE);
        let set: std::collections::BTreeSet<(u8, u8, u8)> = (0..30)
            .map(|l| {
                let c = cluster_color(l);
                (c.0, c.1, c.2)
            })
            .collect();
        assert_eq!(set.len(), 30);
    }
}
