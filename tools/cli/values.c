/* values.c - the text form of wasm values on kiln's command line: parsing the arguments of
 * --invoke per parameter type, printing results, and writing function types. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_format_functype(char *buf, size_t size, kiln_functype type) {
  size_t used = 0;
#define APPEND(...)                                                          \
  do {                                                                       \
    int n_ = snprintf(buf + used, size - used, __VA_ARGS__);                 \
    used = n_ < 0 ? used : (used + (size_t)n_ < size ? used + (size_t)n_ : size - 1); \
  } while (0)
  APPEND("(");
  for (uint32_t i = 0; i < type.param_count; i++)
    APPEND("%s%s", i ? ", " : "", kiln_valtype_string(type.params[i]));
  APPEND(") -> (");
  for (uint32_t i = 0; i < type.result_count; i++)
    APPEND("%s%s", i ? ", " : "", kiln_valtype_string(type.results[i]));
  APPEND(")");
#undef APPEND
}

/* ---------------------------------------------------------------- parsing */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* An unsigned decimal or 0x-hex integer of at most 64 bits, the whole of text. */
static bool parse_u64(const char *text, uint64_t *out) {
  unsigned base = 10;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text += 2;
  }
  if (!*text) return false;
  uint64_t v = 0;
  for (; *text; text++) {
    int d = hex_digit(*text);
    if (d < 0 || (unsigned)d >= base) return false;
    if (v > (UINT64_MAX - (uint64_t)d) / base) return false;
    v = v * base + (uint64_t)d;
  }
  *out = v;
  return true;
}

/* An integer of bits bits: signed (down to -2^(bits-1)) or unsigned (up to 2^bits - 1). */
static bool parse_int(const char *text, unsigned bits, uint64_t *out) {
  bool negative = text[0] == '-';
  if (text[0] == '-' || text[0] == '+') text++;
  uint64_t magnitude;
  if (!parse_u64(text, &magnitude)) return false;
  uint64_t unsigned_max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
  if (negative) {
    if (magnitude > (UINT64_C(1) << (bits - 1))) return false;
    magnitude = (uint64_t)0 - magnitude;
  } else if (magnitude > unsigned_max) {
    return false;
  }
  *out = magnitude & unsigned_max;
  return true;
}

/* "nan", "-nan", "nan:0x..." (payload bits below the exponent); false if not a NaN form. */
static bool parse_nan(const char *text, unsigned mantissa_bits, uint64_t exponent_mask,
                      uint64_t *bits) {
  bool negative = text[0] == '-';
  if (text[0] == '-' || text[0] == '+') text++;
  if (strncasecmp(text, "nan", 3) != 0) return false;
  uint64_t payload = UINT64_C(1) << (mantissa_bits - 1); /* the canonical NaN */
  if (text[3] == ':') {
    if (strncasecmp(text + 4, "0x", 2) != 0 || !parse_u64(text + 4, &payload)) return false;
    if (payload == 0 || payload >> mantissa_bits) return false;
  } else if (text[3]) {
    return false;
  }
  *bits = (negative ? UINT64_C(1) << (mantissa_bits == 23 ? 31 : 63) : 0) | exponent_mask | payload;
  return true;
}

static bool parse_v128(const char *text, uint8_t out[16]) {
  if (strncasecmp(text, "0x", 2) != 0) return false;
  const char *digits = text + 2;
  size_t n = strlen(digits);
  if (n == 0 || n > 32) return false;
  memset(out, 0, 16);
  for (size_t i = 0; i < n; i++) { /* the last digit is the lowest nibble of byte 0 */
    int d = hex_digit(digits[n - 1 - i]);
    if (d < 0) return false;
    out[i / 2] |= (uint8_t)(d << (4 * (i % 2)));
  }
  return true;
}

bool cli_parse_value(const char *text, kiln_valtype type, kiln_val *out) {
  memset(out, 0, sizeof *out);
  out->type = type;
  uint64_t bits;
  char *end;
  switch (type) {
    case KILN_I32:
      if (!parse_int(text, 32, &bits)) return false;
      out->of.i32 = (int32_t)(uint32_t)bits;
      return true;
    case KILN_I64:
      if (!parse_int(text, 64, &bits)) return false;
      out->of.i64 = (int64_t)bits;
      return true;
    case KILN_F32:
      if (parse_nan(text, 23, UINT64_C(0xFF) << 23, &bits)) {
        out->of.f32_bits = (uint32_t)bits;
        return true;
      }
      if (!*text || isspace((unsigned char)*text)) return false;
      out->of.f32 = strtof(text, &end);
      return *end == 0;
    case KILN_F64:
      if (parse_nan(text, 52, UINT64_C(0x7FF) << 52, &bits)) {
        out->of.f64_bits = bits;
        return true;
      }
      if (!*text || isspace((unsigned char)*text)) return false;
      out->of.f64 = strtod(text, &end);
      return *end == 0;
    case KILN_V128:
      return parse_v128(text, out->of.v128);
    case KILN_FUNCREF:
    case KILN_EXTERNREF:
      return strcmp(text, "null") == 0;
  }
  return false;
}

/* ---------------------------------------------------------------- printing */

/* The shortest %g form that reads back as the same float. */
static void print_float(FILE *out, double value, bool single, uint64_t bits, unsigned mantissa_bits) {
  if (isnan(value)) {
    uint64_t payload = bits & ((UINT64_C(1) << mantissa_bits) - 1);
    bool negative = bits >> (single ? 31 : 63);
    if (payload == UINT64_C(1) << (mantissa_bits - 1))
      fprintf(out, "%snan\n", negative ? "-" : "");
    else
      fprintf(out, "%snan:0x%" PRIx64 "\n", negative ? "-" : "", payload);
    return;
  }
  if (isinf(value)) {
    fputs(value < 0 ? "-inf\n" : "inf\n", out);
    return;
  }
  char text[64];
  for (int precision = 1; precision <= 17; precision++) {
    snprintf(text, sizeof text, "%.*g", precision, value);
    if (single ? strtof(text, NULL) == (float)value : strtod(text, NULL) == value) break;
  }
  fprintf(out, "%s\n", text);
}

void cli_print_value(FILE *out, const kiln_val *value) {
  switch (value->type) {
    case KILN_I32:
      fprintf(out, "%" PRId32 "\n", value->of.i32);
      return;
    case KILN_I64:
      fprintf(out, "%" PRId64 "\n", value->of.i64);
      return;
    case KILN_F32:
      print_float(out, value->of.f32, true, value->of.f32_bits, 23);
      return;
    case KILN_F64:
      print_float(out, value->of.f64, false, value->of.f64_bits, 52);
      return;
    case KILN_V128:
      fputs("0x", out);
      for (int i = 15; i >= 0; i--) fprintf(out, "%02x", value->of.v128[i]);
      fputc('\n', out);
      return;
    case KILN_FUNCREF:
      fputs(value->of.funcref ? "<funcref>\n" : "null\n", out);
      return;
    case KILN_EXTERNREF:
      fputs(value->of.externref ? "<externref>\n" : "null\n", out);
      return;
  }
}
