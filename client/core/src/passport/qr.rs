//! The card as one QR code and back: byte mode only (no segment guessing, so every
//! reader returns the same bytes), error correction M, the smallest version that holds
//! the card; written as a greyscale PNG or SVG, and read back from any PNG a phone
//! camera or scanner would produce (colour or grey, scaled, turned, on a background).

use qrcode::bits::Bits;
use qrcode::{Color, EcLevel, QrCode, Version};

/// The largest version the SMART Health Cards spec allows for a single card; Rekam aims
/// at the same.
pub const TARGET_VERSION: i16 = 22;
/// Pixels per module in the PNG, and the quiet zone in modules (the standard 4).
pub const MODULE_PX: usize = 8;
pub const QUIET: usize = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QrError {
    #[error(
        "the card is {0} bytes, more than one QR code (version 40 at error correction M) holds"
    )]
    TooLarge(usize),
    #[error("cannot read the image as a PNG: {0}")]
    NotAnImage(String),
    #[error("no QR code found in the image")]
    NoCode,
    #[error("the QR code in the image cannot be read: {0}")]
    Unreadable(String),
}

/// A card's QR code with what a person planning a card needs to know.
pub struct Qr {
    code: QrCode,
    pub bytes: usize,
}

/// Bytes a byte-mode QR code of `version` holds at error correction M.
pub fn byte_capacity(version: i16) -> usize {
    let bits = Bits::new(Version::Normal(version))
        .max_len(EcLevel::M)
        .expect("versions 1-40 exist at M");
    // Mode indicator (4 bits) and character count (8 bits to version 9, 16 after).
    let header = 4 + if version < 10 { 8 } else { 16 };
    (bits - header) / 8
}

impl Qr {
    /// The smallest byte-mode QR code at error correction M that holds `data`.
    pub fn encode(data: &[u8]) -> Result<Self, QrError> {
        for version in 1..=40 {
            let mut bits = Bits::new(Version::Normal(version));
            if bits.push_byte_data(data).is_err() || bits.push_terminator(EcLevel::M).is_err() {
                continue;
            }
            if let Ok(code) = QrCode::with_bits(bits, EcLevel::M) {
                return Ok(Self {
                    code,
                    bytes: data.len(),
                });
            }
        }
        Err(QrError::TooLarge(data.len()))
    }

    /// A SMART Health Card's QR text: `shc:/` in byte mode, then the digits in numeric
    /// mode (the spec's two segments), at error correction L, the smallest version.
    pub fn encode_shc(text: &str) -> Result<Self, QrError> {
        let digits = text.strip_prefix("shc:/").unwrap_or(text);
        for version in 1..=40 {
            let mut bits = Bits::new(Version::Normal(version));
            if bits.push_byte_data(b"shc:/").is_err()
                || bits.push_numeric_data(digits.as_bytes()).is_err()
                || bits.push_terminator(EcLevel::L).is_err()
            {
                continue;
            }
            if let Ok(code) = QrCode::with_bits(bits, EcLevel::L) {
                return Ok(Self {
                    code,
                    bytes: text.len(),
                });
            }
        }
        Err(QrError::TooLarge(text.len()))
    }

    pub fn version(&self) -> i16 {
        match self.code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        }
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// Bytes left below the target version's capacity (negative: over it).
    pub fn margin(&self) -> i64 {
        byte_capacity(TARGET_VERSION) as i64 - self.bytes as i64
    }

    fn dark(&self, x: usize, y: usize) -> bool {
        let w = self.width();
        x < w && y < w && self.code[(x, y)] == Color::Dark
    }

    /// A greyscale PNG, [`MODULE_PX`] pixels per module, with the quiet zone.
    pub fn png(&self) -> Vec<u8> {
        let side = (self.width() + 2 * QUIET) * MODULE_PX;
        let mut pixels = vec![255u8; side * side];
        for (i, p) in pixels.iter_mut().enumerate() {
            let (x, y) = (i % side / MODULE_PX, i / side / MODULE_PX);
            if x >= QUIET && y >= QUIET && self.dark(x - QUIET, y - QUIET) {
                *p = 0;
            }
        }
        write_grey_png(side as u32, side as u32, &pixels)
    }

    /// The dark modules as one SVG path in a square of `size` units at (`x`, `y`),
    /// with the quiet zone inside the square.
    pub fn svg_group(&self, x: f64, y: f64, size: f64) -> String {
        let modules = self.width() + 2 * QUIET;
        let m = size / modules as f64;
        let mut path = String::new();
        for row in 0..self.width() {
            for col in 0..self.width() {
                if self.dark(col, row) {
                    path.push_str(&format!(
                        "M{:.3} {:.3}h{m:.3}v{m:.3}h-{m:.3}z",
                        x + (col + QUIET) as f64 * m,
                        y + (row + QUIET) as f64 * m
                    ));
                }
            }
        }
        format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
             <path d=\"{path}\" fill=\"#000\" shape-rendering=\"crispEdges\"/>"
        )
    }
}

/// Encodes an 8-bit greyscale image as PNG.
pub fn write_grey_png(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("writing to a Vec");
    writer
        .write_image_data(pixels)
        .expect("the pixel count matches the header");
    writer.finish().expect("writing to a Vec");
    out
}

/// Decodes any PNG to 8-bit luminance: `(width, height, pixels)`.
pub fn read_grey_png(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), QrError> {
    let bad = |e: png::DecodingError| QrError::NotAnImage(e.to_string());
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| QrError::NotAnImage("the image is too large".into()))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(QrError::NotAnImage(
                "an indexed image was not expanded".into(),
            ))
        }
    };
    let mut grey = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = &buf[y * info.line_size..y * info.line_size + w * channels];
        for px in row.chunks(channels) {
            let (value, alpha) = match channels {
                1 => (px[0] as u32, 255),
                2 => (px[0] as u32, px[1] as u32),
                // Rec. 601 luma.
                _ => (
                    (299 * px[0] as u32 + 587 * px[1] as u32 + 114 * px[2] as u32) / 1000,
                    if channels == 4 { px[3] as u32 } else { 255 },
                ),
            };
            // Transparent pixels read as white paper.
            grey.push(((value * alpha + 255 * (255 - alpha)) / 255) as u8);
        }
    }
    Ok((w, h, grey))
}

/// The bytes of the first QR code found in a PNG that can be decoded.
pub fn decode_png(bytes: &[u8]) -> Result<Vec<u8>, QrError> {
    let (w, h, grey) = read_grey_png(bytes)?;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
    let grids = image.detect_grids();
    if grids.is_empty() {
        return Err(QrError::NoCode);
    }
    let mut last = String::new();
    for grid in &grids {
        let mut out = Vec::new();
        match grid.decode_to(&mut out) {
            Ok(_) => return Ok(out),
            Err(e) => last = e.to_string(),
        }
    }
    Err(QrError::Unreadable(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_round_trips_through_a_png() {
        let data: Vec<u8> = (0..600u32).map(|i| (i * 131 % 256) as u8).collect();
        let qr = Qr::encode(&data).unwrap();
        assert_eq!(decode_png(&qr.png()).unwrap(), data);
        assert_eq!(qr.margin(), byte_capacity(22) as i64 - 600);
    }

    #[test]
    fn capacities_at_m() {
        // ISO/IEC 18004 table 7, byte mode at M (checked against the codeword and block
        // counts of the standard, recomputed outside this crate).
        assert_eq!(byte_capacity(1), 14);
        assert_eq!(byte_capacity(10), 213);
        assert_eq!(byte_capacity(22), 779);
        assert_eq!(byte_capacity(40), 2331);
    }

    #[test]
    fn not_images_and_no_codes() {
        assert!(matches!(decode_png(b"hello"), Err(QrError::NotAnImage(_))));
        let blank = write_grey_png(64, 64, &[255; 64 * 64]);
        assert_eq!(decode_png(&blank), Err(QrError::NoCode));
        assert_eq!(Qr::encode(&[0; 3000]).err(), Some(QrError::TooLarge(3000)));
    }
}
