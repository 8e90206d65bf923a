/* image.c - the guest of examples/image: decodes a binary PPM/PGM, optionally turns it gray,
 * resizes it bilinearly, blurs or sharpens it (an unsharp mask over a separable binomial
 * Gaussian) and encodes the result as PPM/PGM. Built to wasm32 with no libc (build.mjs).
 *
 * Every step is integer fixed-point arithmetic, so pipeline.mjs, the same steps in plain
 * JavaScript, gives byte-identical output; the definitions of the steps are here and there
 * in the same words.
 *
 * Exports: image_alloc/image_free for buffers the host fills or reads, image_process (the
 * whole pipeline, bytes in, bytes out), image_result_len/image_error for its results, and
 * image_heap_used for leak checks. */
#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))

enum { MAX_SIDE = 16384, MAX_PIXELS = 1 << 26, MAX_RADIUS = 7, MIN_AMOUNT = -16, MAX_AMOUNT = 64 };

/* ------------------------------------------------------------------ a small allocator
 * First fit over an address-ordered free list with coalescing; blocks are 16-byte aligned
 * and start with a 16-byte header holding their size. Memory grows a page run at a time. */

typedef struct block {
  size_t size;        /* bytes of the whole block, header included */
  struct block *next; /* next free block by address (free blocks only) */
} block;

enum { HEADER = 16, PAGE = 65536 };

extern unsigned char __heap_base;
static unsigned char *heap_end;
static block *free_list;
static size_t heap_used;

static void heap_release(block *b) {
  block **link = &free_list;
  while (*link && *link < b) link = &(*link)->next;
  b->next = *link;
  *link = b;
  if (b->next && (unsigned char *)b + b->size == (unsigned char *)b->next) {
    b->size += b->next->size;
    b->next = b->next->next;
  }
  if (link != &free_list) {
    block *prev = (block *)((unsigned char *)link - offsetof(block, next));
    if ((unsigned char *)prev + prev->size == (unsigned char *)b) {
      prev->size += b->size;
      prev->next = b->next;
    }
  }
}

static int heap_grow(size_t bytes) {
  if (!heap_end) heap_end = (unsigned char *)(((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15);
  size_t pages = (bytes + PAGE - 1) / PAGE;
  size_t old = __builtin_wasm_memory_grow(0, pages);
  if (old == (size_t)-1) return 0;
  /* Only this allocator grows memory, so [heap_end, old end) is unused: it joins the block. */
  unsigned char *top = (unsigned char *)((old + pages) * PAGE);
  block *b = (block *)heap_end;
  b->size = (size_t)(top - heap_end);
  heap_end = top;
  heap_release(b);
  return 1;
}

EXPORT(image_alloc) void *image_alloc(size_t n) {
  if (n > 0x7fff0000u) return NULL;
  size_t need = (n + HEADER + 15) & ~(size_t)15;
  for (int attempt = 0; attempt < 2; attempt++) {
    for (block **link = &free_list; *link; link = &(*link)->next) {
      block *b = *link;
      if (b->size < need) continue;
      if (b->size - need >= 64) { /* split: the tail stays free */
        block *rest = (block *)((unsigned char *)b + need);
        rest->size = b->size - need;
        rest->next = b->next;
        *link = rest;
        b->size = need;
      } else {
        *link = b->next;
      }
      heap_used += b->size;
      return (unsigned char *)b + HEADER;
    }
    if (!heap_grow(need + PAGE)) return NULL;
  }
  return NULL;
}

EXPORT(image_free) void image_free(void *p) {
  if (!p) return;
  block *b = (block *)((unsigned char *)p - HEADER);
  heap_used -= b->size;
  heap_release(b);
}

/* Bytes allocated and not yet freed: the host checks it returns to where it was. */
EXPORT(image_heap_used) size_t image_heap_used(void) { return heap_used; }

/* ------------------------------------------------------------------ images */

typedef struct {
  int width, height, channels; /* channels: 1 (gray) or 3 (RGB), interleaved */
  uint8_t *pixels;
} image;

static const char *error;
static size_t result_len;

static int fail(const char *message) {
  error = message;
  return 0;
}

static int image_new(image *img, int width, int height, int channels) {
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->pixels = image_alloc((size_t)width * height * channels);
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
  for (size_t i = 0; i < size; i++) img->pixels[i] = bytes[at + i];
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
  uint8_t *out = image_alloc(size + 32);
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
  for (size_t i = 0; i < size; i++) out[n + i] = img->pixels[i];
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

static int resize_bilinear(const image *src, int width, int height, image *dst) {
  int c = src->channels;
  int32_t *table = image_alloc(sizeof(int32_t) * 3 * ((size_t)width + height));
  if (!table) return fail("out of memory");
  int32_t *x0 = table, *x1 = x0 + width, *fx = x1 + width;
  int32_t *y0 = fx + width, *y1 = y0 + height, *fy = y1 + height;
  bilinear_axis(src->width, width, x0, x1, fx);
  bilinear_axis(src->height, height, y0, y1, fy);
  if (!image_new(dst, width, height, c)) {
    image_free(table);
    return 0;
  }
  size_t stride = (size_t)src->width * c;
  uint8_t *out = dst->pixels;
  for (int y = 0; y < height; y++) {
    const uint8_t *top = src->pixels + y0[y] * stride, *bottom = src->pixels + y1[y] * stride;
    int32_t wy = fy[y];
    for (int x = 0; x < width; x++) {
      int32_t a = x0[x] * c, b = x1[x] * c, wx = fx[x];
      for (int k = 0; k < c; k++) {
        int32_t t = top[a + k] * (256 - wx) + top[b + k] * wx;
        int32_t u = bottom[a + k] * (256 - wx) + bottom[b + k] * wx;
        *out++ = (uint8_t)((t * (256 - wy) + u * wy + 32768) >> 16);
      }
    }
  }
  image_free(table);
  return 1;
}

/* Unsharp mask in place: blurred = the image convolved with the binomial kernel C(2r, k)/4^r
 * (a Gaussian of sigma sqrt(r/2)) along rows, then columns, edges clamped, kept with 8
 * fraction bits; then out = p + amount/16 * (p - blurred), rounded and clamped. amount 0
 * keeps the image, -16 gives the blur itself, positive values sharpen. */
static int unsharp_mask(image *img, int radius, int amount) {
  int c = img->channels, w = img->width, h = img->height, taps = 2 * radius + 1, shift = 2 * radius;
  int32_t half = 1 << (shift - 1);
  size_t row = (size_t)w * c;
  int32_t weights[2 * MAX_RADIUS + 1];
  weights[0] = 1;
  for (int k = 1; k < taps; k++) weights[k] = weights[k - 1] * (taps - k) / k;

  uint16_t *rows = image_alloc(sizeof(uint16_t) * row * h);       /* horizontal pass */
  uint8_t *padded = image_alloc((size_t)(w + 2 * radius) * c);     /* one row, edges repeated */
  uint32_t *acc = image_alloc(sizeof(uint32_t) * row);             /* one row's sums */
  if (!rows || !padded || !acc) {
    image_free(rows), image_free(padded), image_free(acc);
    return fail("out of memory");
  }
  for (int y = 0; y < h; y++) {
    const uint8_t *src = img->pixels + y * row;
    for (int x = -radius; x < w + radius; x++) {
      int sx = x < 0 ? 0 : x >= w ? w - 1 : x;
      for (int k = 0; k < c; k++) padded[(x + radius) * c + k] = src[sx * c + k];
    }
    for (size_t i = 0; i < row; i++) acc[i] = 0;
    for (int t = 0; t < taps; t++) {
      const uint8_t *in = padded + t * c;
      uint32_t wt = (uint32_t)weights[t];
      for (size_t i = 0; i < row; i++) acc[i] += wt * in[i];
    }
    uint16_t *dst = rows + y * row;
    for (size_t i = 0; i < row; i++) dst[i] = (uint16_t)((acc[i] * 256 + half) >> shift);
  }
  for (int y = 0; y < h; y++) {
    for (size_t i = 0; i < row; i++) acc[i] = 0;
    for (int t = 0; t < taps; t++) {
      int sy = y + t - radius;
      sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
      const uint16_t *in = rows + sy * row;
      uint32_t wt = (uint32_t)weights[t];
      for (size_t i = 0; i < row; i++) acc[i] += wt * in[i];
    }
    uint8_t *p = img->pixels + y * row;
    for (size_t i = 0; i < row; i++) {
      int32_t blurred = (int32_t)((acc[i] + half) >> shift); /* 8 fraction bits */
      int32_t v = (p[i] * 4096 + amount * (p[i] * 256 - blurred) + 2048) >> 12;
      p[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  image_free(rows), image_free(padded), image_free(acc);
  return 1;
}

/* ------------------------------------------------------------------ the pipeline */

/* Decodes `len` bytes of PPM/PGM at `bytes`; if `gray`, converts to gray; resizes to
 * width x height (0 for either: keep the aspect ratio; both 0: keep the size); applies
 * unsharp_mask(radius 1..7, amount -16..64; amount 0 skips it); encodes. Returns the encoded
 * image (image_result_len() bytes, freed with image_free) or NULL with image_error() set. */
EXPORT(image_process)
uint8_t *image_process(const uint8_t *bytes, size_t len, int width, int height, int gray, int radius, int amount) {
  image src = {0}, tmp = {0}, out = {0};
  uint8_t *encoded = NULL;
  error = NULL;
  result_len = 0;
  if (radius < 1 || radius > MAX_RADIUS) return fail("radius must be 1 to 7"), NULL;
  if (amount < MIN_AMOUNT || amount > MAX_AMOUNT) return fail("amount must be -16 to 64"), NULL;
  if (width < 0 || height < 0 || width > MAX_SIDE || height > MAX_SIDE) return fail("bad output size"), NULL;
  if (!decode_pnm(bytes, len, &src)) return NULL;
  if (gray && src.channels == 3) {
    if (!grayscale(&src, &tmp)) goto done;
    image_free(src.pixels);
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
  encoded = encode_pnm(&out, &result_len);
  if (!encoded) fail("out of memory");
done:
  image_free(src.pixels);
  image_free(tmp.pixels);
  image_free(out.pixels);
  return encoded;
}

EXPORT(image_result_len) size_t image_result_len(void) { return result_len; }

/* The last image_process error as a NUL-terminated string, or NULL. */
EXPORT(image_error) const char *image_error(void) { return error; }
