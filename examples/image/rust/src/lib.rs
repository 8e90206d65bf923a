//! image-rust - the Rust guest of examples/image: image.c's pipeline, ported. It decodes a
//! binary PPM/PGM, optionally turns it gray, resizes it bilinearly, blurs or sharpens it (an
//! unsharp mask over a separable binomial Gaussian) and encodes the result as PPM/PGM.
//!
//! Every step is the integer fixed-point arithmetic of image.c and pipeline.mjs, in the same
//! order, so the three give byte-identical images. Built with the simd128 target feature, the
//! blur and the vertical half of the resize take explicit SIMD paths (image.c's, lane for
//! lane) that compute the same integers. ../build.mjs runs `kiln build` on this crate twice:
//! with `-C target-feature=+simd128,+bulk-memory` and with `+bulk-memory` only.
//!
//! One export, `transform(ppm, width, height, gray, radius, amount)`: the encoded image, or
//! `Err` with image.c's message, which the glue throws as a JavaScript `Error`.
use wasm_bindgen::prelude::*;

const MAX_SIDE: usize = 16384;
const MAX_PIXELS: usize = 1 << 26;
const MAX_RADIUS: i32 = 7;
const MIN_AMOUNT: i32 = -16;
const MAX_AMOUNT: i32 = 64;

const OUT_OF_MEMORY: &str = "out of memory";
const BAD_HEADER: &str = "bad PNM header";
const BAD_OUTPUT_SIZE: &str = "bad output size";

/// What failed: one of image.c's messages.
type Failure = &'static str;

// ------------------------------------------------------------------ images

struct Image {
    width: usize,
    height: usize,
    channels: usize, // 1 (gray) or 3 (RGB), interleaved
    pixels: Vec<u8>,
}

impl Image {
    fn row(&self) -> usize {
        self.width * self.channels
    }
}

/// An empty vector with room for exactly `len` items, or "out of memory" where growing a
/// vector would abort.
fn with_capacity<T>(len: usize) -> Result<Vec<T>, Failure> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| OUT_OF_MEMORY)?;
    Ok(v)
}

/// `len` zeros (a `memory.fill`: the crate is built with bulk-memory).
fn zeroed<T: Copy + Default>(len: usize) -> Result<Vec<T>, Failure> {
    let mut v = with_capacity(len)?;
    v.resize(len, T::default());
    Ok(v)
}

/// The items of an iterator that knows its length, in a vector of exactly that size.
fn collect<T>(items: impl ExactSizeIterator<Item = T>) -> Result<Vec<T>, Failure> {
    let mut v = with_capacity(items.len())?;
    v.extend(items);
    Ok(v)
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// One decimal header field of a PNM file at `*at`, after whitespace and '#' comments.
fn pnm_field(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut i = *at;
    loop {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'#') {
            break;
        }
        while i < bytes.len() && bytes[i] != b'\n' {
            i += 1;
        }
    }
    let start = i;
    let mut value = 0;
    while let Some(&digit @ b'0'..=b'9') = bytes.get(i) {
        value = value * 10 + usize::from(digit - b'0');
        if value > MAX_SIDE {
            return None;
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    *at = i;
    Some(value)
}

/// P6 (RGB) or P5 (gray), maxval 255.
fn decode_pnm(bytes: &[u8]) -> Result<Image, Failure> {
    let channels = match bytes {
        [b'P', b'6', ..] => 3,
        [b'P', b'5', ..] => 1,
        _ => return Err("not a binary PPM (P6) or PGM (P5) image"),
    };
    let mut at = 2;
    let width = pnm_field(bytes, &mut at).ok_or(BAD_HEADER)?;
    let height = pnm_field(bytes, &mut at).ok_or(BAD_HEADER)?;
    let maxval = pnm_field(bytes, &mut at).ok_or(BAD_HEADER)?;
    if !matches!(bytes.get(at), Some(&c) if is_space(c)) {
        return Err(BAD_HEADER);
    }
    if maxval != 255 {
        return Err("only 8-bit PNM images (maxval 255) are supported");
    }
    if width < 1 || height < 1 || width * height > MAX_PIXELS {
        return Err("bad image size");
    }
    let data = bytes[at + 1..].get(..width * height * channels).ok_or("truncated PNM pixel data")?;
    let mut pixels = with_capacity(data.len())?;
    pixels.extend_from_slice(data); // memory.copy
    Ok(Image { width, height, channels, pixels })
}

/// "P6\n<w> <h>\n255\n" (P5 for gray) and the pixels.
fn encode_pnm(img: &Image) -> Result<Vec<u8>, Failure> {
    let kind = if img.channels == 3 { '6' } else { '5' };
    let header = format!("P{}\n{} {}\n255\n", kind, img.width, img.height);
    let mut out = with_capacity(header.len() + img.pixels.len())?;
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&img.pixels);
    Ok(out)
}

/// Luma with weights 77/150/29 (of 256, the BT.601 0.299/0.587/0.114 rounded), rounded.
fn grayscale(src: &Image) -> Result<Image, Failure> {
    let luma = |p: &[u8]| ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8) as u8;
    let pixels = collect(src.pixels.chunks_exact(3).map(luma))?;
    Ok(Image { width: src.width, height: src.height, channels: 1, pixels })
}

// ------------------------------------------------------------------ resize

/// Where an output coordinate falls among the input samples: the left/top neighbour, the
/// right/bottom one and the 8-bit weight of the latter.
struct Sample {
    first: usize,
    second: usize,
    weight: u32,
}

/// The samples of n output coordinates over m input ones (pixel centres aligned).
fn bilinear_axis(m: usize, n: usize) -> Result<Vec<Sample>, Failure> {
    collect((0..n).map(|i| {
        let pos = ((2 * i as i64 + 1) * m as i64 * 65536 / (2 * n as i64) - 32768).max(0); // 16.16 fixed point
        let (at, weight) = match (pos >> 16) as usize {
            at if at >= m - 1 => (m - 1, 0),
            at => (at, ((pos >> 8) & 255) as u32),
        };
        Sample { first: at, second: (at + 1).min(m - 1), weight }
    }))
}

/// One source row interpolated horizontally: a*(256-wx) + b*wx, exact (no rounding yet:
/// values up to 255*256 in 16 bits), for every output column and channel.
fn resize_row(src: &[u8], c: usize, xs: &[Sample], line: &mut [u16]) {
    for (out, x) in line.chunks_exact_mut(c).zip(xs) {
        // The two neighbours (and nothing or one between them), bounds-checked once.
        let pair = &src[x.first * c..(x.second + 1) * c];
        let (a, b) = (&pair[..c], &pair[pair.len() - c..]);
        let (wa, wb) = (256 - x.weight, x.weight);
        for ((out, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *out = (u32::from(a) * wa + u32::from(b) * wb) as u16;
        }
    }
}

/// Then vertically: (top*(256-wy) + bottom*wy + 32768) >> 16, rounded to 8 bits.
fn resize_blend(top: &[u16], bottom: &[u16], wy: u32, out: &mut [u8]) {
    let done = simd::resize_blend(top, bottom, wy, out);
    for ((out, &t), &b) in out[done..].iter_mut().zip(&top[done..]).zip(&bottom[done..]) {
        *out = ((u32::from(t) * (256 - wy) + u32::from(b) * wy + 32768) >> 16) as u8;
    }
}

/// Bilinear resize. Rows are interpolated horizontally once per source row used (source row
/// r is kept in lines[r & 1]: an output row needs rows r and r+1, never two of one parity).
fn resize_bilinear(src: &Image, width: usize, height: usize) -> Result<Image, Failure> {
    let c = src.channels;
    let (stride, row) = (src.row(), width * c);
    let xs = bilinear_axis(src.width, width)?;
    let ys = bilinear_axis(src.height, height)?;
    let mut lines = [zeroed::<u16>(row)?, zeroed::<u16>(row)?];
    let mut held = [None; 2];
    let mut pixels = zeroed(row * height)?;
    for (y, out) in ys.iter().zip(pixels.chunks_exact_mut(row)) {
        for r in [y.first, y.second] {
            if held[r & 1] != Some(r) {
                resize_row(&src.pixels[r * stride..][..stride], c, &xs, &mut lines[r & 1]);
                held[r & 1] = Some(r);
            }
        }
        resize_blend(&lines[y.first & 1], &lines[y.second & 1], y.weight, out);
    }
    Ok(Image { width, height, channels: c, pixels })
}

// ------------------------------------------------------------------ unsharp mask

/// The blur's kernel of TAPS = 2r + 1 taps, r = 1..7: the binomial coefficients C(2r, k),
/// which sum to 4^r = 2^SHIFT. Constants: each kernel's loops multiply by constants, and
/// the compiler can unroll the loops over the taps (an interpreter pays for every branch).
struct Kernel<const TAPS: usize>;

impl<const TAPS: usize> Kernel<TAPS> {
    const WEIGHTS: [u32; TAPS] = binomial();
    const SHIFT: u32 = TAPS as u32 - 1;
    const HALF: u32 = 1 << (Self::SHIFT - 1);
}

const fn binomial<const TAPS: usize>() -> [u32; TAPS] {
    let mut weights = [1; TAPS];
    let mut k = 1;
    while k < TAPS {
        weights[k] = weights[k - 1] * (TAPS - k) as u32 / k as u32;
        k += 1;
    }
    weights
}

/// Horizontal blur of one row: output i is the weighted sum of taps[t][i] (the padded row
/// shifted by t pixels), times 256 (8 fraction bits), rounded: (sum * 256 + half) >> shift.
#[inline(always)]
fn blur_row<const TAPS: usize>(taps: &[&[u8]; TAPS], out: &mut [u16]) {
    let done = simd::blur_row(taps, out);
    for i in done..out.len() {
        let sum: u32 = Kernel::<TAPS>::WEIGHTS.iter().zip(taps).map(|(w, tap)| w * u32::from(tap[i])).sum();
        out[i] = ((sum * 256 + Kernel::<TAPS>::HALF) >> Kernel::<TAPS>::SHIFT) as u16;
    }
}

/// Vertical blur of one row from the horizontally blurred rows under the kernel, then the
/// unsharp mask in place on the row's pixels p: out = (p*4096 + amount*(p*256 - blurred) +
/// 2048) >> 12, clamped, where blurred = (sum + half) >> shift keeps 8 fraction bits.
#[inline(always)]
fn sharpen_row<const TAPS: usize>(taps: &[&[u16]; TAPS], amount: i32, pixels: &mut [u8]) {
    let done = simd::sharpen_row(taps, amount, pixels);
    for i in done..pixels.len() {
        let sum: u32 = Kernel::<TAPS>::WEIGHTS.iter().zip(taps).map(|(w, tap)| w * u32::from(tap[i])).sum();
        let blurred = ((sum + Kernel::<TAPS>::HALF) >> Kernel::<TAPS>::SHIFT) as i32;
        let v = i32::from(pixels[i]);
        pixels[i] = ((v * 4096 + amount * (v * 256 - blurred) + 2048) >> 12).clamp(0, 255) as u8;
    }
}

/// Unsharp mask in place: blurred = the image convolved with the binomial kernel C(2r, k)/4^r
/// (a Gaussian of sigma sqrt(r/2)) along rows, then columns, edges clamped, kept with 8
/// fraction bits; then out = p + amount/16 * (p - blurred), rounded and clamped. amount 0
/// keeps the image, -16 gives the blur itself, positive values sharpen.
fn unsharp_mask(img: &mut Image, radius: i32, amount: i32) -> Result<(), Failure> {
    match radius {
        1 => unsharp_mask_taps::<3>(img, amount),
        2 => unsharp_mask_taps::<5>(img, amount),
        3 => unsharp_mask_taps::<7>(img, amount),
        4 => unsharp_mask_taps::<9>(img, amount),
        5 => unsharp_mask_taps::<11>(img, amount),
        6 => unsharp_mask_taps::<13>(img, amount),
        7 => unsharp_mask_taps::<15>(img, amount),
        _ => unreachable!("radius checked by process()"),
    }
}

/// TAPS slices of `data`, each `len` long, the t-th at `start(t)`. Built with a plain loop
/// (array::from_fn is not inlined) so that the compiler knows every slice's length is `len`:
/// indexing them all with one i < len takes one bounds check, not one per tap.
#[inline(always)]
fn tap_slices<T, const TAPS: usize>(data: &[T], start: impl Fn(usize) -> usize, len: usize) -> [&[T]; TAPS] {
    let mut taps = [&data[..0]; TAPS];
    for (t, tap) in taps.iter_mut().enumerate() {
        *tap = &data[start(t)..][..len];
    }
    taps
}

fn unsharp_mask_taps<const TAPS: usize>(img: &mut Image, amount: i32) -> Result<(), Failure> {
    let (c, h, row, radius) = (img.channels, img.height, img.row(), TAPS / 2);
    let mut rows = zeroed::<u16>(row * h)?; // the horizontal pass
    let mut padded = zeroed::<u8>(row + 2 * radius * c)?; // one row, edges repeated
    for (src, out) in img.pixels.chunks_exact(row).zip(rows.chunks_exact_mut(row)) {
        let (left, rest) = padded.split_at_mut(radius * c);
        let (middle, right) = rest.split_at_mut(row);
        middle.copy_from_slice(src); // memory.copy
        left.chunks_exact_mut(c).for_each(|px| px.copy_from_slice(&src[..c]));
        right.chunks_exact_mut(c).for_each(|px| px.copy_from_slice(&src[row - c..]));
        blur_row::<TAPS>(&tap_slices(&padded, |t| t * c, row), out);
    }
    for (y, pixels) in img.pixels.chunks_exact_mut(row).enumerate() {
        let tap_row = |t: usize| (y + t).saturating_sub(radius).min(h - 1) * row;
        sharpen_row::<TAPS>(&tap_slices(&rows, tap_row, row), amount, pixels);
    }
    Ok(())
}

// ------------------------------------------------------------------ the pipeline

/// Decodes PPM/PGM bytes; if `gray`, converts to gray; resizes to width x height (0 for
/// either: keep the aspect ratio; both 0: keep the size); applies the unsharp mask (radius
/// 1..7, amount -16..64; amount 0 skips it); encodes.
fn process(bytes: &[u8], width: i32, height: i32, gray: bool, radius: i32, amount: i32) -> Result<Vec<u8>, Failure> {
    if !(1..=MAX_RADIUS).contains(&radius) {
        return Err("radius must be 1 to 7");
    }
    if !(MIN_AMOUNT..=MAX_AMOUNT).contains(&amount) {
        return Err("amount must be -16 to 64");
    }
    let side = |n: i32| usize::try_from(n).ok().filter(|&n| n <= MAX_SIDE);
    let (mut width, mut height) = match (side(width), side(height)) {
        (Some(width), Some(height)) => (width, height),
        _ => return Err(BAD_OUTPUT_SIZE),
    };
    let mut src = decode_pnm(bytes)?;
    if gray && src.channels == 3 {
        src = grayscale(&src)?;
    }
    if width == 0 && height == 0 {
        (width, height) = (src.width, src.height);
    }
    if width == 0 {
        width = (height * src.width + src.height / 2) / src.height;
    }
    if height == 0 {
        height = (width * src.height + src.width / 2) / src.width;
    }
    if width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS {
        return Err(BAD_OUTPUT_SIZE);
    }
    let mut out = resize_bilinear(&src, width, height)?;
    drop(src);
    if amount != 0 {
        unsharp_mask(&mut out, radius, amount)?;
    }
    encode_pnm(&out)
}

/// The export. wasm-bindgen's glue copies `ppm` in (this side frees it) and the result out
/// (then frees it); an `Err` becomes a thrown `Error` with the message.
#[wasm_bindgen]
pub fn transform(
    ppm: &[u8],
    width: i32,
    height: i32,
    gray: bool,
    radius: i32,
    amount: i32,
) -> Result<Vec<u8>, JsValue> {
    process(ppm, width, height, gray, radius, amount).map_err(JsValue::from_str)
}

// ------------------------------------------------------------------ SIMD

/// image.c's SIMD paths, 8 pixels at a time: each row function does the largest multiple of
/// 8 of its outputs and returns how many; the scalar loops above do the rest (without
/// simd128, everything).
#[cfg(target_feature = "simd128")]
mod simd {
    use super::Kernel;
    use std::arch::wasm32::*;

    /// The kernel's weights, each in every 16-bit lane.
    fn weights<const TAPS: usize>() -> [v128; TAPS] {
        Kernel::<TAPS>::WEIGHTS.map(|w| i16x8_splat(w as i16))
    }

    /// The sums over the taps of weight times the 8 16-bit lanes load(tap) gives, in 32-bit
    /// lanes: the first 4 and the last 4.
    #[inline(always)]
    fn weighted_sums<T, const TAPS: usize>(
        taps: &[&[T]; TAPS],
        weights: &[v128; TAPS],
        load: impl Fn(&[T]) -> v128,
    ) -> (v128, v128) {
        let (mut lo, mut hi) = (i32x4_splat(0), i32x4_splat(0));
        for (tap, &w) in taps.iter().zip(weights) {
            let v = load(tap);
            lo = i32x4_add(lo, u32x4_extmul_low_u16x8(v, w));
            hi = i32x4_add(hi, u32x4_extmul_high_u16x8(v, w));
        }
        (lo, hi)
    }

    /// The starts of the groups of 8 among n items (the last n % 8 left out).
    fn groups_of_8(n: usize) -> impl Iterator<Item = usize> {
        (0..n / 8).map(|group| group * 8)
    }

    // The loads and stores of 8 items at s[i..]. Safety: i + 8 <= s.len(), which each row
    // function asserts once for the whole row (wasm loads and stores need no alignment).
    #[inline(always)]
    unsafe fn load_u8x8(s: &[u8], i: usize) -> v128 {
        debug_assert!(i + 8 <= s.len());
        u16x8_load_extend_u8x8(s.as_ptr().add(i)) // zero-extended to 16-bit lanes
    }

    #[inline(always)]
    unsafe fn load_u16x8(s: &[u16], i: usize) -> v128 {
        debug_assert!(i + 8 <= s.len());
        v128_load(s.as_ptr().add(i).cast())
    }

    #[inline(always)]
    unsafe fn store_u16x8(s: &mut [u16], i: usize, v: v128) {
        debug_assert!(i + 8 <= s.len());
        v128_store(s.as_mut_ptr().add(i).cast(), v)
    }

    /// The 8 i16 lanes of v saturated to u8 (clamped to 0..255).
    #[inline(always)]
    unsafe fn store_u8x8(s: &mut [u8], i: usize, v: v128) {
        debug_assert!(i + 8 <= s.len());
        v128_store64_lane::<0>(u8x16_narrow_i16x8(v, v), s.as_mut_ptr().add(i).cast())
    }

    pub fn resize_blend(top: &[u16], bottom: &[u16], wy: u32, out: &mut [u8]) -> usize {
        let n = out.len() / 8 * 8;
        assert!(top.len() >= n && bottom.len() >= n);
        let (wt, wb) = (i16x8_splat((256 - wy) as i16), i16x8_splat(wy as i16));
        let round = i32x4_splat(32768);
        for i in groups_of_8(n) {
            // SAFETY: i + 8 <= n, and n <= the length of every slice here.
            unsafe {
                let (t, b) = (load_u16x8(top, i), load_u16x8(bottom, i));
                let lo = i32x4_add(i32x4_add(u32x4_extmul_low_u16x8(t, wt), u32x4_extmul_low_u16x8(b, wb)), round);
                let hi = i32x4_add(i32x4_add(u32x4_extmul_high_u16x8(t, wt), u32x4_extmul_high_u16x8(b, wb)), round);
                store_u8x8(out, i, u16x8_narrow_i32x4(u32x4_shr(lo, 16), u32x4_shr(hi, 16)));
            }
        }
        n
    }

    pub fn blur_row<const TAPS: usize>(taps: &[&[u8]; TAPS], out: &mut [u16]) -> usize {
        let n = out.len() / 8 * 8;
        assert!(taps.iter().all(|tap| tap.len() >= n));
        let weights = weights::<TAPS>();
        let shift = Kernel::<TAPS>::SHIFT;
        if shift <= 8 {
            // radius <= 4: the sums fit 16 bits, and (sum*256 + half) >> shift is sum << (8-shift).
            for i in groups_of_8(n) {
                let mut sum = i16x8_splat(0);
                for (tap, &w) in taps.iter().zip(&weights) {
                    // SAFETY: i + 8 <= n, and n <= the length of every slice here.
                    sum = i16x8_add(sum, i16x8_mul(unsafe { load_u8x8(tap, i) }, w));
                }
                unsafe { store_u16x8(out, i, i16x8_shl(sum, 8 - shift)) };
            }
        } else {
            let round = i32x4_splat(Kernel::<TAPS>::HALF as i32);
            for i in groups_of_8(n) {
                // SAFETY: as above.
                let (mut lo, mut hi) = weighted_sums(taps, &weights, |tap| unsafe { load_u8x8(tap, i) });
                lo = u32x4_shr(i32x4_add(i32x4_shl(lo, 8), round), shift);
                hi = u32x4_shr(i32x4_add(i32x4_shl(hi, 8), round), shift);
                unsafe { store_u16x8(out, i, u16x8_narrow_i32x4(lo, hi)) };
            }
        }
        n
    }

    pub fn sharpen_row<const TAPS: usize>(taps: &[&[u16]; TAPS], amount: i32, pixels: &mut [u8]) -> usize {
        let n = pixels.len() / 8 * 8;
        assert!(taps.iter().all(|tap| tap.len() >= n));
        let weights = weights::<TAPS>();
        let shift = Kernel::<TAPS>::SHIFT;
        let (round, gain, bias) = (i32x4_splat(Kernel::<TAPS>::HALF as i32), i32x4_splat(amount), i32x4_splat(2048));
        for i in groups_of_8(n) {
            // SAFETY: i + 8 <= n, and n <= the length of every slice here.
            let (lo, hi) = weighted_sums(taps, &weights, |tap| unsafe { load_u16x8(tap, i) });
            let px = unsafe { load_u8x8(pixels, i) };
            let (plo, phi) = (u32x4_extend_low_u16x8(px), u32x4_extend_high_u16x8(px));
            let dlo = i32x4_sub(i32x4_shl(plo, 8), u32x4_shr(i32x4_add(lo, round), shift));
            let dhi = i32x4_sub(i32x4_shl(phi, 8), u32x4_shr(i32x4_add(hi, round), shift));
            let vlo = i32x4_shr(i32x4_add(i32x4_add(i32x4_shl(plo, 12), i32x4_mul(gain, dlo)), bias), 12);
            let vhi = i32x4_shr(i32x4_add(i32x4_add(i32x4_shl(phi, 12), i32x4_mul(gain, dhi)), bias), 12);
            // |v| < 2^11: the narrowing to i16 does not saturate; the one to u8 clamps.
            unsafe { store_u8x8(pixels, i, i16x8_narrow_i32x4(vlo, vhi)) };
        }
        n
    }
}

/// Without simd128: no SIMD paths, the scalar loops do everything.
#[cfg(not(target_feature = "simd128"))]
mod simd {
    pub fn resize_blend(_: &[u16], _: &[u16], _: u32, _: &mut [u8]) -> usize {
        0
    }

    pub fn blur_row<const TAPS: usize>(_: &[&[u8]; TAPS], _: &mut [u16]) -> usize {
        0
    }

    pub fn sharpen_row<const TAPS: usize>(_: &[&[u16]; TAPS], _: i32, _: &mut [u8]) -> usize {
        0
    }
}
