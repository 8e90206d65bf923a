/* image.c - the guest of examples/image: decodes a binary PPM/PGM, optionally turns it gray,
 * resizes it bilinearly, blurs or sharpens it (an unsharp mask over a separable binomial
 * Gaussian) and encodes the result as PPM/PGM. `kiln build` compiles it to wasm and writes
 * its JavaScript glue (build.mjs runs it).
 *
 * Every step is integer fixed-point arithmetic, so pipeline.mjs, the same steps in plain
 * JavaScript, gives byte-identical output; the definitions of the steps are here and there
 * in the same words.
 *
 * One export, declared with kiln/guest.h: transform(ppm: bytes, width, height, gray, radius,
 * amount) -> bytes, the whole pipeline (see the end of the file). */
#include <kiln/guest.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

enum { MAX_SIDE = 16384, MAX_PIXELS = 1 << 26, MAX_RADIUS = 7, MIN_AMOUNT = -16, MAX_AMOUNT = 64 };

/* ------------------------------------------------------------------ images */

typedef struct {
  int width, height, channels; /* channels: 1 (gray) or 3 (RGB), interleaved */
  uint8_t *pixels;
} image;

static const char *error; /* what failed, for kiln_fail */

static int fail(const char *message) {
  error = message;
  return 0;
}

static int image_new(image *img, int width, int height, int channels) {
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->pixels = malloc((size_t)width * height * channels);
  return img->pixels ? 1 : fail("out of memory");
}

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* One decimal header field of a PNM file, after whitespace and '#' comments. */
static int pnm_field(const uint8_t *bytes, size_t len, size_t *at, int *value) {
  size_t i = *at;
  for (;;) {
    while (i < len && is_space(bytes[i])) i++;
    if (i < len && bytes[i] == '#') {
      while (i < len && bytes[i] != '\n') i++;
      continue;
    }
    break;
  }
  if (i >= len || bytes[i] < '0' || bytes[i] > '9') return 0;
  long v = 0;
  while (i < len && bytes[i] >= '0' && bytes[i] <= '9') {
    v = v * 10 + (bytes[i++] - '0');
    if (v > MAX_SIDE) return 0;
  }
  *at = i;
  *value = (int)v;
  return 1;
}

/* P6 (RGB) or P5 (gray), maxval 255. */
static int decode_pnm(const uint8_t *bytes, size_t len, image *img) {
  if (len < 2 || bytes[0] != 'P' || (bytes[1] != '6' && bytes[1] != '5'))
    return fail("not a binary PPM (P6) or PGM (P5) image");
  int channels = bytes[1] == '6' ? 3 : 1;
  size_t at = 2;
  int width, height, maxval;
  if (!pnm_field(bytes, len, &at, &width) || !pnm_field(bytes, len, &at, &height) ||
      !pnm_field(bytes, len, &at, &maxval) || at >= len || !is_space(bytes[at]))
    return fail("bad PNM header");
  if (maxval != 255) return fail("only 8-bit PNM images (maxval 255) are supported");
  if (width < 1 || height < 1 || (size_t)width * height > MAX_PIXELS) return fail("bad image size");
  at++;
  size_t size = (size_t)width * height * channels;
  if (len - at < size) return fail("truncated PNM pixel data");
  if (!image_new(img, width, height, channels)) return 0;
  __builtin_memcpy(img->pixels, bytes + at, size);
  return 1;
}

static size_t put_decimal(uint8_t *out, int value) {
  uint8_t digits[12];
  size_t n = 0;
  do digits[n++] = (uint8_t)('0' + value % 10); while ((value /= 10) > 0);
  for (size_t i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  return n;
}

/* "P6\n<w> <h>\n255\n" (P5 for gray) and the pixels; the buffer is the caller's to free. */
static uint8_t *encode_pnm(const image *img, size_t *len) {
  size_t size = (size_t)img->width * img->height * img->channels;
  uint8_t *out = malloc(size + 32);
  if (!out) return NULL;
  size_t n = 0;
  out[n++] = 'P';
  out[n++] = img->channels == 3 ? '6' : '5';
  out[n++] = '\n';
  n += put_decimal(out + n, img->width);
  out[n++] = ' ';
  n += put_decimal(out + n, img->height);
  out[n++] = '\n';
  out[n++] = '2', out[n++] = '5', out[n++] = '5', out[n++] = '\n';
  __builtin_memcpy(out + n, img->pixels, size);
  *len = n + size;
  return out;
}

/* Luma with weights 77/150/29 (of 256, the BT.601 0.299/0.587/0.114 rounded), rounded. */
static int grayscale(const image *src, image *dst) {
  if (!image_new(dst, src->width, src->height, 1)) return 0;
  size_t n = (size_t)src->width * src->height;
  const uint8_t *p = src->pixels;
  for (size_t i = 0; i < n; i++, p += 3) dst->pixels[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
  return 1;
}

/* Where output coordinate i of n samples falls among the m input samples (pixel centres
 * aligned): the left/top neighbour and the 8-bit weight of the right/bottom one. */
static void bilinear_axis(int m, int n, int32_t *first, int32_t *second, int32_t *weight) {
  for (int i = 0; i < n; i++) {
    int64_t pos = (int64_t)(2 * i + 1) * m * 65536 / (2 * n) - 32768; /* 16.16 fixed point */
    if (pos < 0) pos = 0;
    int32_t at = (int32_t)(pos >> 16), frac = (int32_t)((pos >> 8) & 255);
    if (at >= m - 1) at = m - 1, frac = 0;
    first[i] = at;
    second[i] = at + 1 < m ? at + 1 : at;
    weight[i] = frac;
  }
}

/* The blur kernels: binomial coefficients C(2r, k), k = 0..2r, for radius r = 1..7; each row
 * sums to 4^r. A constant table, so each per-radius copy below multiplies by constants. */
static const int32_t binomial[MAX_RADIUS][2 * MAX_RADIUS + 1] = {
    {1, 2, 1},
    {1, 4, 6, 4, 1},
    {1, 6, 15, 20, 15, 6, 1},
    {1, 8, 28, 56, 70, 56, 28, 8, 1},
    {1, 10, 45, 120, 210, 252, 210, 120, 45, 10, 1},
    {1, 12, 66, 220, 495, 792, 924, 792, 495, 220, 66, 12, 1},
    {1, 14, 91, 364, 1001, 2002, 3003, 3432, 3003, 2002, 1001, 364, 91, 14, 1},
};

/* One source row interpolated horizontally: top[a]*(256-wx) + top[b]*wx, exact (no rounding
 * yet: values up to 255*256 in 16 bits), for every output column and channel. */
static void resize_row(const uint8_t *src, int c, int width, const int32_t *x0, const int32_t *x1,
                       const int32_t *fx, uint16_t *line) {
  for (int x = 0; x < width; x++) {
    const uint8_t *a = src + x0[x] * c, *b = src + x1[x] * c;
    int32_t wx = fx[x];
    for (int k = 0; k < c; k++) *line++ = (uint16_t)(a[k] * (256 - wx) + b[k] * wx);
  }
}

/* Then vertically: (top*(256-wy) + bottom*wy + 32768) >> 16, rounded to 8 bits. */
static void resize_blend(const uint16_t *top, const uint16_t *bottom, int32_t wy, size_t n, uint8_t *out) {
  size_t i = 0;
#ifdef __wasm_simd128__
  v128_t wt = wasm_i16x8_splat((int16_t)(256 - wy)), wb = wasm_i16x8_splat((int16_t)wy);
  v128_t round = wasm_i32x4_splat(32768);
  for (; i + 8 <= n; i += 8) {
    v128_t t = wasm_v128_load(top + i), b = wasm_v128_load(bottom + i);
    v128_t lo = wasm_i32x4_add(wasm_i32x4_add(wasm_u32x4_extmul_low_u16x8(t, wt), wasm_u32x4_extmul_low_u16x8(b, wb)), round);
    v128_t hi = wasm_i32x4_add(wasm_i32x4_add(wasm_u32x4_extmul_high_u16x8(t, wt), wasm_u32x4_extmul_high_u16x8(b, wb)), round);
    v128_t v = wasm_u16x8_narrow_i32x4(wasm_u32x4_shr(lo, 16), wasm_u32x4_shr(hi, 16));
    wasm_v128_store64_lane(out + i, wasm_u8x16_narrow_i16x8(v, v), 0);
  }
#endif
  for (; i < n; i++) out[i] = (uint8_t)((top[i] * (256 - wy) + bottom[i] * wy + 32768) >> 16);
}

/* Bilinear resize. Rows are interpolated horizontally once per source row used (source row r
 * is cached in lines[r & 1]: an output row needs rows r and r+1, never two of one parity). */
static int resize_bilinear(const image *src, int width, int height, image *dst) {
  int c = src->channels;
  size_t row = (size_t)width * c;
  int32_t *table = malloc(sizeof(int32_t) * 3 * ((size_t)width + height));
  uint16_t *lines = malloc(sizeof(uint16_t) * 2 * row);
  if (!table || !lines || !image_new(dst, width, height, c)) {
    free(table), free(lines);
    return fail("out of memory");
  }
  int32_t *x0 = table, *x1 = x0 + width, *fx = x1 + width;
  int32_t *y0 = fx + width, *y1 = y0 + height, *fy = y1 + height;
  bilinear_axis(src->width, width, x0, x1, fx);
  bilinear_axis(src->height, height, y0, y1, fy);
  size_t stride = (size_t)src->width * c;
  int held[2] = {-1, -1};
  for (int y = 0; y < height; y++) {
    int want[2] = {y0[y], y1[y]};
    for (int j = 0; j < 2; j++) {
      int slot = want[j] & 1;
      if (held[slot] != want[j]) {
        resize_row(src->pixels + want[j] * stride, c, width, x0, x1, fx, lines + slot * row);
        held[slot] = want[j];
      }
    }
    resize_blend(lines + (want[0] & 1) * row, lines + (want[1] & 1) * row, fy[y], row, dst->pixels + y * row);
  }
  free(table), free(lines);
  return 1;
}

/* Horizontal blur of one row (edges already repeated into `padded`): the weighted sum of the
 * taps, times 256 (8 fraction bits), rounded: (sum * 256 + half) >> shift. */
static inline __attribute__((always_inline)) void blur_row_taps(const uint8_t *restrict padded, int c, const int32_t *weights,
                                                               const void *vweights, int taps, int shift, size_t n,
                                                               uint16_t *restrict out) {
  uint32_t half = 1u << (shift - 1);
  size_t i = 0;
#ifdef __wasm_simd128__
  const v128_t *w = vweights;
  if (shift <= 8) { /* radius <= 4: sums fit 16 bits, and (sum*256 + half) >> shift is sum << (8-shift) */
    for (; i + 8 <= n; i += 8) {
      v128_t sum = wasm_i16x8_splat(0);
      const uint8_t *in = padded + i;
      for (int t = 0; t < taps; t++, in += c) sum = wasm_i16x8_add(sum, wasm_i16x8_mul(wasm_u16x8_load8x8(in), w[t]));
      wasm_v128_store(out + i, wasm_i16x8_shl(sum, 8 - shift));
    }
  } else {
    v128_t round = wasm_i32x4_splat((int32_t)half);
    for (; i + 8 <= n; i += 8) {
      v128_t lo = wasm_i32x4_splat(0), hi = lo;
      const uint8_t *in = padded + i;
      for (int t = 0; t < taps; t++, in += c) {
        v128_t v = wasm_u16x8_load8x8(in);
        lo = wasm_i32x4_add(lo, wasm_u32x4_extmul_low_u16x8(v, w[t]));
        hi = wasm_i32x4_add(hi, wasm_u32x4_extmul_high_u16x8(v, w[t]));
      }
      lo = wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_shl(lo, 8), round), shift);
      hi = wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_shl(hi, 8), round), shift);
      wasm_v128_store(out + i, wasm_u16x8_narrow_i32x4(lo, hi));
    }
  }
#else
  (void)vweights;
#endif
  for (; i < n; i++) {
    uint32_t sum = 0;
    for (int t = 0; t < taps; t++) sum += (uint32_t)weights[t] * padded[i + t * c];
    out[i] = (uint16_t)((sum * 256 + half) >> shift);
  }
}

/* Vertical blur of one row from the horizontally blurred rows `taprows`, then the unsharp
 * mask in place on the row's pixels p: out = (p*4096 + amount*(p*256 - blurred) + 2048) >> 12,
 * clamped, where blurred = (sum + half) >> shift keeps 8 fraction bits. */
static inline __attribute__((always_inline)) void sharpen_row_taps(const uint16_t *const *restrict taprows,
                                                                  const int32_t *weights, const void *vweights,
                                                                  int taps, int shift, int amount, size_t n,
                                                                  uint8_t *restrict p) {
  uint32_t half = 1u << (shift - 1);
  size_t i = 0;
#ifdef __wasm_simd128__
  const v128_t *w = vweights;
  v128_t round = wasm_i32x4_splat((int32_t)half), gain = wasm_i32x4_splat(amount), bias = wasm_i32x4_splat(2048);
  for (; i + 8 <= n; i += 8) {
    v128_t lo = wasm_i32x4_splat(0), hi = lo;
    for (int t = 0; t < taps; t++) {
      v128_t v = wasm_v128_load(taprows[t] + i);
      lo = wasm_i32x4_add(lo, wasm_u32x4_extmul_low_u16x8(v, w[t]));
      hi = wasm_i32x4_add(hi, wasm_u32x4_extmul_high_u16x8(v, w[t]));
    }
    v128_t px = wasm_u16x8_load8x8(p + i);
    v128_t plo = wasm_u32x4_extend_low_u16x8(px), phi = wasm_u32x4_extend_high_u16x8(px);
    v128_t dlo = wasm_i32x4_sub(wasm_i32x4_shl(plo, 8), wasm_u32x4_shr(wasm_i32x4_add(lo, round), shift));
    v128_t dhi = wasm_i32x4_sub(wasm_i32x4_shl(phi, 8), wasm_u32x4_shr(wasm_i32x4_add(hi, round), shift));
    v128_t vlo = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_shl(plo, 12), wasm_i32x4_mul(gain, dlo)), bias), 12);
    v128_t vhi = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_shl(phi, 12), wasm_i32x4_mul(gain, dhi)), bias), 12);
    v128_t v = wasm_i16x8_narrow_i32x4(vlo, vhi); /* |v| < 2^11: no saturation here */
    wasm_v128_store64_lane(p + i, wasm_u8x16_narrow_i16x8(v, v), 0); /* clamps to 0..255 */
  }
#else
  (void)vweights;
#endif
  for (; i < n; i++) {
    uint32_t sum = 0;
    for (int t = 0; t < taps; t++) sum += (uint32_t)weights[t] * taprows[t][i];
    int32_t blurred = (int32_t)((sum + half) >> shift);
    int32_t v = (p[i] * 4096 + amount * (p[i] * 256 - blurred) + 2048) >> 12;
    p[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

/* The two above with the number of taps a constant, one copy per radius, so the compiler
 * unrolls the loops over the taps (an interpreter pays for every loop branch). */
#define FOR_EACH_RADIUS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* noinline: the weights reach them through memory, opaque, so the compiler keeps the
 * widening multiplies (extmul) rather than rewriting splat-times-extend into two steps. */
static __attribute__((noinline)) void blur_row(const uint8_t *padded, int c, const void *vweights, int taps,
                                               size_t n, uint16_t *out) {
  switch (taps) {
#define BLUR_CASE(r) case 2 * r + 1: blur_row_taps(padded, c, binomial[r - 1], vweights, 2 * r + 1, 2 * r, n, out); break;
    FOR_EACH_RADIUS(BLUR_CASE)
#undef BLUR_CASE
  }
}

static __attribute__((noinline)) void sharpen_row(const uint16_t *const *taprows, const void *vweights, int taps,
                                                  int amount, size_t n, uint8_t *p) {
  switch (taps) {
#define SHARPEN_CASE(r) case 2 * r + 1: sharpen_row_taps(taprows, binomial[r - 1], vweights, 2 * r + 1, 2 * r, amount, n, p); break;
    FOR_EACH_RADIUS(SHARPEN_CASE)
#undef SHARPEN_CASE
  }
}

/* Unsharp mask in place: blurred = the image convolved with the binomial kernel C(2r, k)/4^r
 * (a Gaussian of sigma sqrt(r/2)) along rows, then columns, edges clamped, kept with 8
 * fraction bits; then out = p + amount/16 * (p - blurred), rounded and clamped. amount 0
 * keeps the image, -16 gives the blur itself, positive values sharpen. */
static int unsharp_mask(image *img, int radius, int amount) {
  int c = img->channels, w = img->width, h = img->height, taps = 2 * radius + 1;
  size_t row = (size_t)w * c;
  const int32_t *weights = binomial[radius - 1];
  const uint16_t *taprows[2 * MAX_RADIUS + 1];
#ifdef __wasm_simd128__
  v128_t vweights[2 * MAX_RADIUS + 1]; /* each weight in every 16-bit lane */
  for (int k = 0; k < taps; k++) vweights[k] = wasm_i16x8_splat((int16_t)weights[k]);
#else
  const int32_t *vweights = weights;
#endif

  uint16_t *rows = malloc(sizeof(uint16_t) * row * h);   /* the horizontal pass */
  uint8_t *padded = malloc((size_t)(w + 2 * radius) * c); /* one row, edges repeated */
  if (!rows || !padded) {
    free(rows), free(padded);
    return fail("out of memory");
  }
  for (int y = 0; y < h; y++) {
    const uint8_t *src = img->pixels + y * row;
    __builtin_memcpy(padded + radius * c, src, row); /* memory.copy */
    for (int x = 0; x < radius; x++) {
      for (int k = 0; k < c; k++) {
        padded[x * c + k] = src[k];
        padded[(radius + w + x) * c + k] = src[(w - 1) * c + k];
      }
    }
    blur_row(padded, c, vweights, taps, row, rows + y * row);
  }
  for (int y = 0; y < h; y++) {
    for (int t = 0; t < taps; t++) {
      int sy = y + t - radius;
      taprows[t] = rows + (sy < 0 ? 0 : sy >= h ? h - 1 : sy) * row;
    }
    sharpen_row(taprows, vweights, taps, amount, row, img->pixels + y * row);
  }
  free(rows), free(padded);
  return 1;
}

/* ------------------------------------------------------------------ the pipeline */

/* Decodes `len` bytes of PPM/PGM at `bytes`; if `gray`, converts to gray; resizes to
 * width x height (0 for either: keep the aspect ratio; both 0: keep the size); applies
 * unsharp_mask(radius 1..7, amount -16..64; amount 0 skips it); encodes. Returns the encoded
 * image (*result_len bytes, from malloc) or NULL with `error` set, having freed the rest. */
static uint8_t *image_process(const uint8_t *bytes, size_t len, int width, int height, int gray, int radius,
                              int amount, size_t *result_len) {
  image src = {0}, tmp = {0}, out = {0};
  uint8_t *encoded = NULL;
  error = NULL;
  *result_len = 0;
  if (radius < 1 || radius > MAX_RADIUS) return fail("radius must be 1 to 7"), NULL;
  if (amount < MIN_AMOUNT || amount > MAX_AMOUNT) return fail("amount must be -16 to 64"), NULL;
  if (width < 0 || height < 0 || width > MAX_SIDE || height > MAX_SIDE) return fail("bad output size"), NULL;
  if (!decode_pnm(bytes, len, &src)) return NULL;
  if (gray && src.channels == 3) {
    if (!grayscale(&src, &tmp)) goto done;
    free(src.pixels);
    src = tmp;
    tmp.pixels = NULL;
  }
  if (width == 0 && height == 0) width = src.width, height = src.height;
  if (width == 0) width = (int)(((int64_t)height * src.width + src.height / 2) / src.height);
  if (height == 0) height = (int)(((int64_t)width * src.height + src.width / 2) / src.width);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE ||
      (size_t)width * height > MAX_PIXELS) {
    fail("bad output size");
    goto done;
  }
  if (!resize_bilinear(&src, width, height, &out)) goto done;
  if (amount != 0 && !unsharp_mask(&out, radius, amount)) goto done;
  encoded = encode_pnm(&out, result_len);
  if (!encoded) fail("out of memory");
done:
  free(src.pixels);
  free(tmp.pixels);
  free(out.pixels);
  return encoded;
}

/* The export. The arguments are lent (the glue frees ppm); the result is given: the glue
 * copies it out and frees it with kiln_free. On failure everything is already freed when
 * kiln_fail throws the message to JavaScript. */
KILN_EXPORT(bytes, transform, (bytes, ppm), (i32, width), (i32, height), (bool, gray), (i32, radius), (i32, amount))
kiln_bytes transform(kiln_bytes ppm, int32_t width, int32_t height, bool gray, int32_t radius, int32_t amount) {
  size_t len;
  uint8_t *out = image_process(ppm.ptr, ppm.len, width, height, gray, radius, amount, &len);
  if (!out) kiln_fail(error);
  return (kiln_bytes){out, len};
}
