/* reader.h - bounds-checked reading of the binary format: bytes, LEB128 integers, floats.
 * Every read either succeeds or leaves a reason in r->error and returns false. */
#ifndef KILN_READER_H
#define KILN_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct reader {
  const uint8_t *bytes;  /* the whole module */
  size_t pos;            /* next byte to read (absolute offset in bytes) */
  size_t end;            /* one past the last readable byte */
  const char *error;     /* why the last read failed */
} reader;

static inline reader reader_make(const uint8_t *bytes, size_t start, size_t end) {
  reader r = {bytes, start, end, NULL};
  return r;
}

static inline bool reader_at_end(const reader *r) { return r->pos >= r->end; }

static inline bool read_u8(reader *r, uint8_t *out) {
  if (r->pos >= r->end) {
    r->error = "unexpected end";
    return false;
  }
  *out = r->bytes[r->pos++];
  return true;
}

/* Unsigned LEB128 of at most `bits` bits (32 or 64). */
static inline bool read_uleb(reader *r, unsigned bits, uint64_t *out) {
  uint64_t result = 0;
  unsigned shift = 0;
  for (;;) {
    uint8_t b;
    if (!read_u8(r, &b)) return false;
    if (shift + 7 >= bits) {
      /* last permitted byte: no continuation, unused bits must be zero */
      if (b & 0x80) {
        r->error = "integer representation too long";
        return false;
      }
      unsigned used = bits - shift;
      if (used < 7 && (b >> used) != 0) {
        r->error = "integer too large";
        return false;
      }
      result |= (uint64_t)b << shift;
      break;
    }
    result |= (uint64_t)(b & 0x7F) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  *out = result;
  return true;
}

/* Signed LEB128 of at most `bits` bits (32, 33 or 64). */
static inline bool read_sleb(reader *r, unsigned bits, int64_t *out) {
  uint64_t result = 0;
  unsigned shift = 0;
  uint8_t b;
  for (;;) {
    if (!read_u8(r, &b)) return false;
    if (shift + 7 >= bits) {
      if (b & 0x80) {
        r->error = "integer representation too long";
        return false;
      }
      /* the unused high bits must all equal the sign bit */
      unsigned used = bits - shift; /* 1..7 bits of this byte are significant */
      int8_t sb = (int8_t)(b << 1) >> 1; /* sign-extend 7-bit payload */
      int64_t top = (int64_t)sb >> (used - 1);
      if (used < 7 && top != 0 && top != -1) {
        r->error = "integer too large";
        return false;
      }
      result |= (uint64_t)(b & 0x7F) << shift;
      shift += 7;
      break;
    }
    result |= (uint64_t)(b & 0x7F) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (shift < 64 && (b & 0x40)) result |= ~(uint64_t)0 << shift;
  *out = (int64_t)result;
  return true;
}

static inline bool read_u32(reader *r, uint32_t *out) {
  uint64_t v;
  if (!read_uleb(r, 32, &v)) return false;
  *out = (uint32_t)v;
  return true;
}

static inline bool read_s32(reader *r, int32_t *out) {
  int64_t v;
  if (!read_sleb(r, 32, &v)) return false;
  *out = (int32_t)v;
  return true;
}

static inline bool read_s64(reader *r, int64_t *out) { return read_sleb(r, 64, out); }

static inline bool read_fixed(reader *r, void *out, size_t n) {
  if (r->end - r->pos < n || r->pos > r->end) {
    r->error = "unexpected end";
    return false;
  }
  memcpy(out, r->bytes + r->pos, n);
  r->pos += n;
  return true;
}

static inline bool read_f32_bits(reader *r, uint32_t *out) { return read_fixed(r, out, 4); }
static inline bool read_f64_bits(reader *r, uint64_t *out) { return read_fixed(r, out, 8); }

#endif
