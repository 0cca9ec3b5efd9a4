//! The PNG canvas: plotters' bitmap backend for shapes, and text drawn as a browser draws the same
//! figure's SVG `<text>` (em = size / 1.24, the SVG backend's baseline offsets, glyph side bearings and
//! kerning), so that the PNG copies look like the inline SVG.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters::backend::BitMapBackend;
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform};

/// A bitmap backend with browser-like text.
pub(crate) struct PngCanvas<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
    x_height: f32,
}

impl<'a> PngCanvas<'a> {
    pub(crate) fn new(buf: &'a mut [u8], size: (u32, u32), font_bytes: &'static [u8]) -> Self {
        let font = FontRef::try_from_slice(font_bytes).expect("the embedded font parses");
        let upm = font.units_per_em().unwrap_or(2048.0);
        let x_height =
            font.outline(font.glyph_id('x')).map(|o| (o.bounds.max.y - o.bounds.min.y).abs() / upm).unwrap_or(0.55);
        PngCanvas { inner: BitMapBackend::with_buffer(buf, size), font, x_height }
    }
}

type Res<E> = Result<(), DrawingErrorKind<E>>;

impl DrawingBackend for PngCanvas<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Res<Self::ErrorType> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Res<Self::ErrorType> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Res<Self::ErrorType> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Res<Self::ErrorType> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Res<Self::ErrorType> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Res<Self::ErrorType> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, (w, h): (u32, u32), src: &[u8]) -> Res<Self::ErrorType> {
        self.inner.blit_bitmap(pos, (w, h), src)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Res<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        // As the SVG backend writes it: font-size = size / 1.24, dy by vertical anchor, text-anchor.
        let em = (style.size() / 1.24) as f32;
        let upm = self.font.units_per_em().unwrap_or(2048.0);
        let scale = PxScale::from(em * self.font.height_unscaled() / upm);
        let sf = self.font.as_scaled(scale);
        let mut glyphs = Vec::with_capacity(text.len());
        let mut x = 0.0f32;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                x += sf.kern(p, id);
            }
            glyphs.push(id.with_scale_and_position(scale, point(x, 0.0)));
            x += sf.h_advance(id);
            prev = Some(id);
        }
        let width = x;
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let ex = self.x_height * em;
        let dy = match anchor.v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.5 * ex,
            VPos::Bottom => -0.5 * ex,
        };
        let transform = style.transform();
        let (w, h) = self.inner.get_size();
        let (r, g, b) = color.rgb;
        for glyph in glyphs {
            let Some(outlined) = self.font.outline_glyph(glyph) else { continue };
            let bounds = outlined.px_bounds();
            let mut result = Ok(());
            let inner = &mut self.inner;
            outlined.draw(|gx, gy, cov| {
                if result.is_err() || cov <= 0.0 {
                    return;
                }
                let lx = (bounds.min.x + gx as f32 + dx).round() as i32;
                let ly = (bounds.min.y + gy as f32 + dy).round() as i32;
                let (tx, ty) = match transform {
                    FontTransform::None => (lx, ly),
                    FontTransform::Rotate90 => (-ly, lx),
                    FontTransform::Rotate180 => (-lx, -ly),
                    FontTransform::Rotate270 => (ly, -lx),
                };
                let (px, py) = (pos.0 + tx, pos.1 + ty);
                if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                    result = inner.draw_pixel(
                        (px, py),
                        BackendColor { alpha: color.alpha * f64::from(cov.min(1.0)), rgb: (r, g, b) },
                    );
                }
            });
            result?;
        }
        Ok(())
    }
}
