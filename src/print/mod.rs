//! Printing: PDFs drawn with an embedded, subset CJK font (Noto Sans CJK, or another freely
//! licensed CJK font installed on the machine), for labels, forms, registers and the marks
//! put on borrowed copies. Coordinates are PDF points from the page's top left corner.

pub mod folder;
pub mod labels;
pub mod stamp;
pub mod table;

use std::sync::OnceLock;

use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

/// CJK fonts looked for, in order, with the face of a collection that holds Simplified
/// Chinese (Noto's collections: Japanese, Korean, SC, TC, HK).
const FONTS: [(&str, u32); 5] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
    ),
];

/// Millimetres in PDF points.
pub const MM: f32 = 72.0 / 25.4;
/// An A4 page, portrait, in points.
pub const A4: (f32, f32) = (210.0 * MM, 297.0 * MM);

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "no CJK font to print with: install one (Debian: apt-get install fonts-noto-cjk; \
         looked for {0})"
    )]
    NoFont(String),
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// The CJK font, read once per process.
fn font() -> Result<Font, PrintError> {
    static FONT: OnceLock<Option<Font>> = OnceLock::new();
    FONT.get_or_init(|| {
        FONTS.iter().find_map(|(path, index)| {
            let data = std::fs::read(path).ok()?;
            Font::new(data.into(), *index)
        })
    })
    .clone()
    .ok_or_else(|| {
        PrintError::NoFont(
            FONTS
                .iter()
                .map(|(path, _)| *path)
                .collect::<Vec<_>>()
                .join(", "),
        )
    })
}

/// The width of `text` at `size`, as the font's glyphs are about: full width for CJK and
/// other wide characters, half for the rest.
pub fn text_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.len_utf8() >= 3 { size } else { size * 0.55 })
        .sum()
}

/// A document being drawn, page by page.
pub struct Sheet {
    document: Document,
    font: Font,
}

/// One page of a [`Sheet`] being drawn.
pub struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    font: &'a Font,
}

impl Sheet {
    pub fn new() -> Result<Self, PrintError> {
        Ok(Self {
            document: Document::new(),
            font: font()?,
        })
    }

    /// Adds a page of `width` × `height` points, drawn by `draw`.
    pub fn page(&mut self, width: f32, height: f32, draw: impl FnOnce(&mut Pen)) {
        let settings = PageSettings::from_wh(width.max(1.0), height.max(1.0))
            .unwrap_or_else(|| PageSettings::from_wh(A4.0, A4.1).expect("A4 is a page size"));
        let mut page = self.document.start_page_with(settings);
        let mut surface = page.surface();
        let mut pen = Pen {
            surface: &mut surface,
            font: &self.font,
        };
        draw(&mut pen);
        surface.finish();
        page.finish();
    }

    pub fn finish(self) -> Result<Vec<u8>, PrintError> {
        self.document
            .finish()
            .map_err(|error| PrintError::Write(format!("{error:?}")))
    }
}

impl Pen<'_, '_> {
    /// `text` at `size` points with its baseline starting at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        if text.is_empty() {
            return;
        }
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// `text` centred on `x`.
    pub fn centred(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.text(x - text_width(text, size) / 2.0, y, size, text);
    }

    /// `text` one character under the other (a spine), starting at the top (`x`, `y`).
    pub fn vertical(&mut self, x: f32, y: f32, size: f32, text: &str) {
        for (n, c) in text.chars().filter(|c| !c.is_whitespace()).enumerate() {
            let glyph = c.to_string();
            let width = text_width(&glyph, size);
            self.text(
                x - width / 2.0,
                y + size * 1.15 * (n as f32 + 1.0),
                size,
                &glyph,
            );
        }
    }

    /// Draws `draw` turned by `degrees` (clockwise on the page) about (`x`, `y`), faded to
    /// `opacity`.
    pub fn turned(
        &mut self,
        x: f32,
        y: f32,
        degrees: f32,
        opacity: f32,
        draw: impl FnOnce(&mut Pen),
    ) {
        self.surface
            .push_transform(&Transform::from_rotate_at(degrees, x, y));
        self.surface.push_opacity(
            NormalizedF32::new(opacity.clamp(0.0, 1.0)).unwrap_or(NormalizedF32::ONE),
        );
        draw(self);
        self.surface.pop();
        self.surface.pop();
    }

    /// A rectangle's outline, `width` points thick.
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut builder = PathBuilder::new();
        builder.push_rect(rect);
        self.stroke(builder, width);
    }

    /// A straight line from (`x0`, `y0`) to (`x1`, `y1`).
    pub fn line(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, width: f32) {
        let mut builder = PathBuilder::new();
        builder.move_to(x0, y0);
        builder.line_to(x1, y1);
        self.stroke(builder, width);
    }

    /// Strokes the path `width` points thick, unfilled.
    fn stroke(&mut self, builder: PathBuilder, width: f32) {
        let Some(path) = builder.finish() else { return };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            width,
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(Fill::default()));
    }

    /// A QR code of `data`, `size` points square, its top left corner at (`x`, `y`).
    pub fn qr(&mut self, x: f32, y: f32, size: f32, data: &str) {
        let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
            return;
        };
        let width = code.width();
        // a quiet zone of four modules around the code
        let module = size / (width + 8) as f32;
        let colors = code.to_colors();
        let mut builder = PathBuilder::new();
        for (at, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (col, row) = ((at % width) as f32, (at / width) as f32);
                if let Some(rect) = Rect::from_xywh(
                    x + (col + 4.0) * module,
                    y + (row + 4.0) * module,
                    module,
                    module,
                ) {
                    builder.push_rect(rect);
                }
            }
        }
        if let Some(path) = builder.finish() {
            self.surface.set_fill(Some(Fill::default()));
            self.surface.draw_path(&path);
        }
    }
}

/// A page of `width` × `height` points that is only `line`: small at the foot and the head,
/// and large and faint across the page, to lay over a page of a borrowed copy.
pub fn watermark_page(width: f32, height: f32, line: &str) -> Result<Vec<u8>, PrintError> {
    let mut sheet = Sheet::new()?;
    sheet.page(width, height, |pen| {
        let small = (width.min(height) / 40.0).clamp(5.0, 9.0);
        pen.text(12.0, height - 8.0, small, line);
        pen.text(12.0, 8.0 + small, small, line);
        let diagonal = width.hypot(height);
        let across = (diagonal * 0.8 / text_width(line, 1.0).max(1.0)).clamp(6.0, 40.0);
        let (cx, cy) = (width / 2.0, height / 2.0);
        pen.turned(cx, cy, -height.atan2(width).to_degrees(), 0.3, |pen| {
            pen.centred(cx, cy + across / 3.0, across, line);
        });
    });
    sheet.finish()
}
