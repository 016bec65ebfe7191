//! A scanned image as a one-page PDF carrying the watermark. The image data is embedded as
//! it is — JPEG as DCTDecode, PNG's zlib stream as FlateDecode with the PNG predictors — so
//! nothing is decoded or re-encoded. PNGs with an alpha channel or interlacing are refused.

use lopdf::{Document, Object, Stream, dictionary};

use super::{ExtractError, Overlay, corrupt, mark_pdf};

/// The scan (`image/jpeg` or `image/png`) as a marked PDF page.
pub(super) fn marked_pdf(
    content: &[u8],
    media_type: &str,
    overlay: &Overlay,
) -> Result<Vec<u8>, ExtractError> {
    let image = if media_type == "image/png" {
        png_image(content)?
    } else {
        jpeg_image(content)?
    };
    image_page(image, overlay)
}

/// An image XObject and its size in pixels.
struct Image {
    stream: Stream,
    width: u32,
    height: u32,
}

fn bad_image(reason: impl Into<String>) -> ExtractError {
    ExtractError::Corrupt {
        format: "image",
        reason: reason.into(),
    }
}

fn jpeg_image(content: &[u8]) -> Result<Image, ExtractError> {
    let (width, height, components) =
        jpeg_size(content).ok_or_else(|| bad_image("not a baseline or progressive JPEG"))?;
    let colour_space = match components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        _ => return Err(bad_image(format!("{components} colour components"))),
    };
    let mut stream = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image",
            "Width" => i64::from(width), "Height" => i64::from(height),
            "ColorSpace" => colour_space, "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        content.to_vec(),
    );
    stream.allows_compression = false;
    Ok(Image {
        stream,
        width: u32::from(width),
        height: u32::from(height),
    })
}

/// Width, height and colour components from a JPEG's start-of-frame marker.
fn jpeg_size(content: &[u8]) -> Option<(u16, u16, u8)> {
    if content.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        while *content.get(at)? == 0xFF && *content.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *content.get(at)? != 0xFF {
            return None;
        }
        let marker = *content.get(at + 1)?;
        let length = usize::from(u16::from_be_bytes([
            *content.get(at + 2)?,
            *content.get(at + 3)?,
        ]));
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let frame = content.get(at + 4..at + 2 + length)?;
            let height = u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]);
            let width = u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]);
            let components = *frame.get(5)?;
            return (width > 0 && height > 0).then_some((width, height, components));
        }
        if marker == 0xD9 || marker == 0xDA {
            return None;
        }
        at += 2 + length;
    }
}

/// A PNG's header, palette and image data as a PDF image: the concatenated IDAT chunks are
/// one zlib stream whose rows carry PNG filter bytes, which PDF's predictor 15 undoes.
fn png_image(content: &[u8]) -> Result<Image, ExtractError> {
    let PngChunks {
        header,
        palette,
        data,
    } = png_chunks(content)?;
    let header = header.ok_or_else(|| bad_image("no PNG header"))?;
    let width = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let height = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let (depth, colour, interlace) = (header[8], header[9], header[12]);
    if width == 0 || height == 0 || data.is_empty() {
        return Err(bad_image("an empty PNG"));
    }
    if interlace != 0 {
        return Err(unsupported("image/png (interlaced)"));
    }
    let (colour_space, colours) = match (colour, palette) {
        (0, _) => (Object::from("DeviceGray"), 1),
        (2, _) => (Object::from("DeviceRGB"), 3),
        (3, Some(palette)) => (
            Object::Array(vec![
                "Indexed".into(),
                "DeviceRGB".into(),
                Object::Integer(i64::try_from(palette.len() / 3).unwrap_or(1) - 1),
                Object::String(palette.to_vec(), lopdf::StringFormat::Hexadecimal),
            ]),
            1,
        ),
        (3, None) => return Err(bad_image("a palette PNG without its palette")),
        _ => return Err(unsupported("image/png (with an alpha channel)")),
    };
    let mut stream = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image",
            "Width" => i64::from(width), "Height" => i64::from(height),
            "ColorSpace" => colour_space, "BitsPerComponent" => i64::from(depth),
            "Filter" => "FlateDecode",
            "DecodeParms" => dictionary! {
                "Predictor" => 15, "Colors" => colours,
                "BitsPerComponent" => i64::from(depth), "Columns" => i64::from(width),
            },
        },
        data,
    );
    stream.allows_compression = false;
    Ok(Image {
        stream,
        width,
        height,
    })
}

/// The chunks of a PNG that a PDF image needs.
struct PngChunks<'a> {
    header: Option<&'a [u8]>,
    palette: Option<&'a [u8]>,
    /// The IDAT chunks, concatenated: one zlib stream.
    data: Vec<u8>,
}

/// The header, palette and concatenated image data of a PNG.
fn png_chunks(content: &[u8]) -> Result<PngChunks<'_>, ExtractError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !content.starts_with(SIGNATURE) {
        return Err(bad_image("not a PNG"));
    }
    let mut at = SIGNATURE.len();
    let (mut header, mut palette, mut data) = (None, None, Vec::new());
    while let Some(length) = content.get(at..at + 4) {
        let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
        let kind = content
            .get(at + 4..at + 8)
            .ok_or_else(|| bad_image("cut short"))?;
        let body = content
            .get(at + 8..at + 8 + length)
            .ok_or_else(|| bad_image("cut short"))?;
        match kind {
            b"IHDR" if body.len() == 13 => header = Some(body),
            b"PLTE" => palette = Some(body),
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    Ok(PngChunks {
        header,
        palette,
        data,
    })
}

fn unsupported(media_type: &str) -> ExtractError {
    ExtractError::Unsupported {
        media_type: media_type.to_owned(),
    }
}

/// One page the image fills, its long side that of A4 (842 pt), with the marks laid over it.
fn image_page(image: Image, overlay: &Overlay) -> Result<Vec<u8>, ExtractError> {
    let scale = 842.0 / f64::from(image.width.max(image.height));
    let (w, h) = (
        f64::from(image.width) * scale,
        f64::from(image.height) * scale,
    );
    let mut document = Document::with_version("1.5");
    let scan = document.add_object(image.stream);
    let ops = format!("q {w:.2} 0 0 {h:.2} 0 0 cm /Scan Do Q\n").into_bytes();
    let contents = document.add_object(Stream::new(dictionary! {}, ops));
    let pages_id = document.new_object_id();
    let page = document.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(w as f32), Object::Real(h as f32)],
        "Contents" => contents,
        "Resources" => dictionary! {
            "XObject" => dictionary! { "Scan" => scan },
        },
    });
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
        }),
    );
    let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog);
    let mut out = Vec::new();
    document.save_to(&mut out).map_err(corrupt)?;
    mark_pdf(&out, overlay)
}

#[cfg(test)]
mod tests {
    use super::super::tests::page_text;
    use super::*;

    #[test]
    fn a_jpeg_header_gives_its_size_and_a_broken_one_nothing() {
        // SOI, APP0 (length 4), SOF0: precision 8, height 2, width 3, 3 components.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00,
            0x02, 0x00, 0x03, 0x03, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
        ];
        assert_eq!(jpeg_size(&jpeg), Some((3, 2, 3)));
        assert_eq!(jpeg_size(&jpeg[..12]), None);
        assert_eq!(jpeg_size(b"GIF89a"), None);
        let pdf = marked_pdf(&jpeg, "image/jpeg", &"loan L2".into()).expect("wrapped");
        assert_eq!(page_text(&pdf).matches("loan L2").count(), 2);
    }

    fn png(colour: u8, chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut header = vec![0, 0, 0, 2, 0, 0, 0, 1, 8, colour, 0, 0, 0];
        let mut all = vec![(b"IHDR", std::mem::take(&mut header))];
        all.extend(chunks.iter().map(|(kind, body)| (*kind, body.clone())));
        all.push((b"IEND", Vec::new()));
        for (kind, body) in all {
            let length = u32::try_from(body.len()).expect("small");
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(&body);
            out.extend_from_slice(&[0; 4]); // CRC, not checked here
        }
        out
    }

    #[test]
    fn pngs_without_alpha_are_wrapped_and_others_refused() {
        let data = (b"IDAT", vec![0x78, 0x9c, 0x01, 0x02]);
        let rgb = png(2, std::slice::from_ref(&data));
        let pdf = marked_pdf(&rgb, "image/png", &"loan L3".into()).expect("wrapped");
        let document = Document::load_mem(&pdf).expect("loads");
        let image = document
            .objects
            .values()
            .filter_map(|object| object.as_stream().ok())
            .find(|stream| stream.dict.get(b"Subtype").ok() == Some(&Object::from("Image")))
            .expect("image");
        assert_eq!(image.content, data.1);
        assert_eq!(page_text(&pdf).matches("loan L3").count(), 2);
        let palette = png(3, &[(b"PLTE", vec![0, 0, 0, 255, 255, 255]), data.clone()]);
        assert!(marked_pdf(&palette, "image/png", &"loan".into()).is_ok());
        assert!(matches!(
            marked_pdf(&png(6, &[data]), "image/png", &"loan".into()),
            Err(ExtractError::Unsupported { .. })
        ));
        assert!(matches!(
            marked_pdf(b"\x89PNG\r\n\x1a\n", "image/png", &"loan".into()),
            Err(ExtractError::Corrupt { .. })
        ));
    }
}
