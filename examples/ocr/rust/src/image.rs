//! Pictures: decoding PNG and JPEG into RGB, bilinear resizing into the models' normalised
//! input tensors, cropping a text box out of a picture, and rotating crops. ../../pipeline.mjs
//! does each step the same way in JavaScript.

/// The largest picture decoded (width x height): 40 megapixels.
pub const MAX_PIXELS: usize = 40_000_000;

/// An RGB picture, 3 bytes a pixel, rows top to bottom.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Image {
    fn at(&self, x: usize, y: usize) -> &[u8] {
        let i = (y * self.width + x) * 3;
        &self.pixels[i..i + 3]
    }
}

fn check_size(format: &str, width: usize, height: usize) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err(format!("{}: the picture is empty ({}x{})", format, width, height));
    }
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(format!("{}: {}x{} is over the {} pixels this reads", format, width, height, MAX_PIXELS));
    }
    Ok(())
}

/// A PNG or JPEG file's picture (told apart by their signatures); transparency is blended over
/// white.
pub fn decode(bytes: &[u8]) -> Result<Image, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        decode_jpeg(bytes)
    } else {
        Err(format!("not a PNG or JPEG image ({} bytes that start with neither signature)", bytes.len()))
    }
}

/// v with alpha a over white.
fn over_white(v: u8, a: u8) -> u8 {
    let (v, a) = (v as u32, a as u32);
    ((v * a + 255 * (255 - a) + 127) / 255) as u8
}

fn decode_png(bytes: &[u8]) -> Result<Image, String> {
    // the size first, from the header chunk (which comes first), for a clearer error than the
    // decoder's "limits are exceeded"
    if bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        check_size("PNG", be(&bytes[16..20]), be(&bytes[20..24]))?;
    }
    let mut decoder = png::Decoder::new_with_limits(bytes, png::Limits { bytes: MAX_PIXELS * 8 });
    // 16-bit samples to 8, palettes and low bit depths to whole bytes
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| format!("PNG: {}", e))?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    check_size("PNG", width, height)?;
    let mut buffer = vec![0u8; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).map_err(|e| format!("PNG: {}", e))?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("PNG: a palette the decoder did not expand".into()),
    };
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        let row = &buffer[y * frame.line_size..y * frame.line_size + width * channels];
        for p in row.chunks_exact(channels) {
            match channels {
                1 => pixels.extend_from_slice(&[p[0], p[0], p[0]]),
                2 => {
                    let g = over_white(p[0], p[1]);
                    pixels.extend_from_slice(&[g, g, g]);
                }
                3 => pixels.extend_from_slice(p),
                _ => pixels.extend_from_slice(&[over_white(p[0], p[3]), over_white(p[1], p[3]), over_white(p[2], p[3])]),
            }
        }
    }
    Ok(Image { width, height, pixels })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Image, String> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(|e| format!("JPEG: {}", e))?;
    let info = match decoder.info() {
        Some(info) => info,
        None => return Err("JPEG: no frame header".into()),
    };
    let (width, height) = (info.width as usize, info.height as usize);
    check_size("JPEG", width, height)?;
    decoder.set_max_decoding_buffer_size(MAX_PIXELS * 4);
    let data = decoder.decode().map_err(|e| format!("JPEG: {}", e))?;
    let mut pixels = Vec::with_capacity(width * height * 3);
    match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => data.iter().for_each(|&g| pixels.extend_from_slice(&[g, g, g])),
        // (native byte order: the high byte second on wasm32)
        jpeg_decoder::PixelFormat::L16 => data.chunks_exact(2).for_each(|g| pixels.extend_from_slice(&[g[1], g[1], g[1]])),
        jpeg_decoder::PixelFormat::RGB24 => pixels.extend_from_slice(&data),
        jpeg_decoder::PixelFormat::CMYK32 => data.chunks_exact(4).for_each(|p| {
            let k = 255 - p[3] as u32;
            let ink = |c: u8| ((255 - c as u32) * k / 255) as u8;
            pixels.extend_from_slice(&[ink(p[0]), ink(p[1]), ink(p[2])]);
        }),
    }
    if pixels.len() != width * height * 3 {
        return Err(format!("JPEG: {} bytes of pixels for {}x{}", pixels.len(), width, height));
    }
    Ok(Image { width, height, pixels })
}

/// Per channel, v -> (v / 255 - mean) / std: a lookup table of the 256 values.
pub struct Normalize([[f32; 256]; 3]);

impl Normalize {
    /// mean and std in the tensor's channel order (B, G, R).
    pub fn new(mean: [f32; 3], std: [f32; 3]) -> Normalize {
        let mut table = [[0f32; 256]; 3];
        for c in 0..3 {
            for v in 0..256 {
                table[c][v] = (v as f32 / 255.0 - mean[c]) / std[c];
            }
        }
        Normalize(table)
    }
}

/// OpenCV's INTER_LINEAR sampling along one axis: for each output index, the two source
/// indexes and the weight of the second (pixel centres at +0.5, edges clamped).
fn axis(source: usize, dest: usize) -> Vec<(usize, usize, f32)> {
    let scale = source as f32 / dest as f32;
    (0..dest)
        .map(|d| {
            let s = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
            let i = (s as usize).min(source - 1);
            let j = (i + 1).min(source - 1);
            (i, j, s - i as f32)
        })
        .collect()
}

/// img resized bilinearly to width x height, each sample rounded to a byte (as OpenCV's resize
/// of an 8-bit picture), normalised and written into out: three planes (B, G, R) of `height`
/// rows of `stride` floats; columns from `width` to `stride` are left as they are.
pub fn resize_into(img: &Image, width: usize, height: usize, norm: &Normalize, out: &mut [f32], stride: usize) {
    let xs = axis(img.width, width);
    let ys = axis(img.height, height);
    let plane = height * stride;
    for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
        let top = &img.pixels[y0 * img.width * 3..(y0 + 1) * img.width * 3];
        let bottom = &img.pixels[y1 * img.width * 3..(y1 + 1) * img.width * 3];
        for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
            for c in 0..3 {
                let a = top[x0 * 3 + c] as f32 + (top[x1 * 3 + c] as f32 - top[x0 * 3 + c] as f32) * fx;
                let b = bottom[x0 * 3 + c] as f32 + (bottom[x1 * 3 + c] as f32 - bottom[x0 * 3 + c] as f32) * fx;
                let v = (a + (b - a) * fy + 0.5) as usize;
                // RGB in, BGR planes out
                out[(2 - c) * plane + y * stride + x] = norm.0[2 - c][v.min(255)];
            }
        }
    }
}

/// The value of channel c at (x, y), bilinear, coordinates clamped to the picture (OpenCV's
/// BORDER_REPLICATE).
fn sample(img: &Image, x: f32, y: f32) -> [u8; 3] {
    let x = x.max(0.0).min((img.width - 1) as f32);
    let y = y.max(0.0).min((img.height - 1) as f32);
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(img.width - 1), (y0 + 1).min(img.height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0u8; 3];
    for c in 0..3 {
        let a = img.at(x0, y0)[c] as f32 + (img.at(x1, y0)[c] as f32 - img.at(x0, y0)[c] as f32) * fx;
        let b = img.at(x0, y1)[c] as f32 + (img.at(x1, y1)[c] as f32 - img.at(x0, y1)[c] as f32) * fx;
        out[c] = (a + (b - a) * fy + 0.5) as u8;
    }
    out
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// The quadrilateral q (top-left, top-right, bottom-right, bottom-left) cut out of img and
/// straightened: as wide as its longer top/bottom side and as high as its longer left/right
/// side, each output pixel (u, v) sampled where the corners' bilinear blend at (u/W, v/H) puts
/// it. A crop at least 1.5 times higher than wide (vertical text) is turned a quarter
/// counterclockwise.
pub fn crop(img: &Image, q: &[[f32; 2]; 4]) -> Image {
    let width = (distance(q[0], q[1]).max(distance(q[2], q[3])) as usize).max(1);
    let height = (distance(q[0], q[3]).max(distance(q[1], q[2])) as usize).max(1);
    let mut pixels = Vec::with_capacity(width * height * 3);
    for v in 0..height {
        let t = v as f32 / height as f32;
        let left = [q[0][0] + (q[3][0] - q[0][0]) * t, q[0][1] + (q[3][1] - q[0][1]) * t];
        let right = [q[1][0] + (q[2][0] - q[1][0]) * t, q[1][1] + (q[2][1] - q[1][1]) * t];
        for u in 0..width {
            let s = u as f32 / width as f32;
            pixels.extend_from_slice(&sample(img, left[0] + (right[0] - left[0]) * s, left[1] + (right[1] - left[1]) * s));
        }
    }
    let image = Image { width, height, pixels };
    if height as f32 / width as f32 >= 1.5 {
        rotate_quarter(&image)
    } else {
        image
    }
}

/// img turned a quarter counterclockwise (numpy's rot90).
fn rotate_quarter(img: &Image) -> Image {
    let (width, height) = (img.height, img.width);
    let mut pixels = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(img.at(img.width - 1 - y, x));
        }
    }
    Image { width, height, pixels }
}

/// img turned upside down.
pub fn rotate_half(img: &mut Image) {
    let n = img.width * img.height;
    for i in 0..n / 2 {
        for c in 0..3 {
            img.pixels.swap(i * 3 + c, (n - 1 - i) * 3 + c);
        }
    }
}
