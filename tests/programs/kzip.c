/* kzip.c - a small compressing archiver (LZ77 with hash chains + canonical Huffman coding, a
 * CRC-32 per file) in portable C11 + POSIX, built natively and to wasm32-wasi so that
 * tests/programs/run_programs.py can check that kiln runs it byte for byte like the host does.
 *
 *   kzip c [-0..-9] [-C DIR] ARCHIVE PATH...   create (directories recursively, sorted)
 *   kzip x ARCHIVE OUTDIR                      extract (OUTDIR "-": file contents to stdout)
 *   kzip l ARCHIVE                             list
 *   kzip t ARCHIVE                             test (decompress, check every CRC)
 *
 * ARCHIVE "-" is stdin (x, l, t) or stdout (c); a PATH "-" stores stdin as the entry "stdin".
 * -C DIR: PATHs are read below DIR and stored relative to it. Exit codes: 0 ok, 1 usage,
 * 2 I/O error, 3 corrupt or unsafe archive. Output never depends on time or on the host.
 *
 * Archive format (integers little-endian):
 *   "KZIP" 0x01 0x00                           magic, format version, flags
 *   'D' u16 name_len, name                     a directory ("a/b", '/'-separated UTF-8)
 *   'F' u16 name_len, name, u8 method, u64 size, u64 packed_size, u32 crc32, packed data
 *   'E' u32 entry_count                        the end; nothing may follow
 * method 0 stores the bytes as they are; method 1 is a kz stream: DEFLATE-like blocks, read
 * LSB-first, each "final:1 type:2" then type 0 (stored: pad to a byte, u16 length, bytes) or
 * type 1 (Huffman: 5 bits #litlen-257, 5 bits #dist-1, 4 bits #codelen-4, 3-bit code-length
 * code lengths in CODELEN_ORDER, run-length-coded code lengths, then symbols up to 256).
 * Literal/length symbols are DEFLATE's (257-285: lengths 3-258); the 32 distance codes reach
 * 65535 bytes back (DEFLATE's 30 plus two with 14 extra bits). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

enum { KZ_EXIT_USAGE = 1, KZ_EXIT_IO = 2, KZ_EXIT_CORRUPT = 3 };

#define MIN_MATCH 3
#define MAX_MATCH 258
#define WINDOW_SIZE 65536u /* a power of two: prev[] is indexed by position modulo it */
#define MAX_DIST 65535u
#define HASH_BITS 15
#define BLOCK_TOKENS 16384 /* symbols per Huffman block */
#define BLOCK_BYTES 65535u /* input bytes per block: a stored block's length is a u16 */
#define LITLEN_SYMBOLS 286 /* 256 literals, end of block, 29 length codes */
#define DIST_SYMBOLS 32
#define CODELEN_SYMBOLS 19
#define MAX_CODE_BITS 15
#define MAX_CODELEN_BITS 7
#define END_OF_BLOCK 256
#define MAX_NAME 4095
#define MAX_FILE_SIZE 0x40000000u /* 1 GiB: positions are int32_t in the matcher */

static const uint16_t LENGTH_BASE[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
                                         15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
                                         67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LENGTH_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                         2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint8_t CODELEN_ORDER[CODELEN_SYMBOLS] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                       11, 4,  12, 3, 13, 2, 14, 1, 15};

/* ---------------------------------------------------------------- errors and memory */

static _Noreturn void fail(int code, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fputs("kzip: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(code);
}

static void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size ? size : 1);
  if (!q) fail(KZ_EXIT_IO, "out of memory (%zu bytes)", size);
  return q;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xrealloc(NULL, n), s, n);
}

/* a growable byte array */
typedef struct {
  uint8_t *data;
  size_t len, cap;
} buffer;

static void buf_reserve(buffer *b, size_t extra) {
  if (extra <= b->cap - b->len) return;
  if (extra > SIZE_MAX / 2 - b->len) fail(KZ_EXIT_IO, "out of memory");
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < extra) cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

static void buf_append(buffer *b, const void *p, size_t n) {
  buf_reserve(b, n);
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_put_byte(buffer *b, uint8_t byte) {
  if (b->len == b->cap) buf_reserve(b, 1);
  b->data[b->len++] = byte;
}

static void buf_put_le(buffer *b, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) buf_put_byte(b, (uint8_t)(v >> (8 * i)));
}

/* ---------------------------------------------------------------- CRC-32 (IEEE, reflected) */

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

/* ---------------------------------------------------------------- bit I/O, LSB first */

typedef struct {
  buffer *out;
  uint64_t acc;
  unsigned count; /* bits in acc, < 8 between calls */
} bit_writer;

static void bw_put(bit_writer *w, uint32_t bits, unsigned n) {
  w->acc |= (uint64_t)bits << w->count;
  w->count += n;
  while (w->count >= 8) {
    buf_put_byte(w->out, (uint8_t)w->acc);
    w->acc >>= 8;
    w->count -= 8;
  }
}

static void bw_align(bit_writer *w) {
  if (w->count) bw_put(w, 0, 8 - w->count);
}

typedef struct {
  const uint8_t *data;
  size_t len, pos; /* pos: bytes moved into acc, counting the zeros read past the end */
  uint64_t acc;
  unsigned count;
} bit_reader;

static void br_fill(bit_reader *r) {
  while (r->count <= 56) {
    uint64_t byte = r->pos < r->len ? r->data[r->pos] : 0;
    r->pos++;
    r->acc |= byte << r->count;
    r->count += 8;
  }
}

static uint32_t br_bits(bit_reader *r, unsigned n) {
  if (n == 0) return 0;
  if (r->count < n) br_fill(r);
  uint32_t v = (uint32_t)(r->acc & ((1u << n) - 1));
  r->acc >>= n;
  r->count -= n;
  return v;
}

/* Whether the reader has consumed bits past the end of its data. */
static int br_overrun(const bit_reader *r) {
  return r->pos * 8 - r->count > r->len * 8;
}

/* ---------------------------------------------------------------- Huffman codes */

typedef struct {
  uint32_t freq;
  uint16_t symbol;
} leaf;

static int leaf_compare(const void *a, const void *b) {
  const leaf *x = a, *y = b;
  if (x->freq != y->freq) return x->freq < y->freq ? -1 : 1;
  return (int)x->symbol - (int)y->symbol;
}

/* Huffman code lengths of at most max_bits for the n symbols of freq (unused symbols get 0).
 * Too deep a tree is rebuilt from halved frequencies, which flattens it; ties are broken by
 * symbol so the result is deterministic. */
static void huff_lengths(const uint32_t *freq, int n, int max_bits, uint8_t *lengths) {
  leaf leaves[LITLEN_SYMBOLS];
  uint32_t weight[2 * LITLEN_SYMBOLS];
  int parent[2 * LITLEN_SYMBOLS], depth[2 * LITLEN_SYMBOLS];
  int used = 0;

  memset(lengths, 0, (size_t)n);
  for (int s = 0; s < n; s++)
    if (freq[s]) leaves[used++] = (leaf){freq[s], (uint16_t)s};
  if (used == 0) return;
  if (used == 1) {
    lengths[leaves[0].symbol] = 1;
    return;
  }
  for (;;) {
    qsort(leaves, (size_t)used, sizeof leaves[0], leaf_compare);
    /* Two queues: the sorted leaves 0..used-1 and the internal nodes used.., which are made
     * in nondecreasing weight order; each step joins the two lightest fronts. */
    for (int i = 0; i < used; i++) weight[i] = leaves[i].freq;
    int next_leaf = 0, next_node = used, made = used;
    while (made < 2 * used - 1) {
      int pick[2];
      for (int k = 0; k < 2; k++) {
        if (next_leaf < used && (next_node == made || weight[next_leaf] <= weight[next_node]))
          pick[k] = next_leaf++;
        else
          pick[k] = next_node++;
      }
      weight[made] = weight[pick[0]] + weight[pick[1]];
      parent[pick[0]] = parent[pick[1]] = made;
      made++;
    }
    int max_depth = 0;
    depth[made - 1] = 0;
    for (int i = made - 2; i >= 0; i--) {
      depth[i] = depth[parent[i]] + 1;
      if (i < used && depth[i] > max_depth) max_depth = depth[i];
    }
    if (max_depth <= max_bits) break;
    for (int i = 0; i < used; i++) leaves[i].freq = (leaves[i].freq + 1) / 2;
  }
  for (int i = 0; i < used; i++) lengths[leaves[i].symbol] = (uint8_t)depth[i];
}

static uint32_t reverse_bits(uint32_t code, unsigned n) {
  uint32_t r = 0;
  for (unsigned i = 0; i < n; i++, code >>= 1) r = (r << 1) | (code & 1);
  return r;
}

/* The canonical codes for lengths, bit-reversed for the LSB-first writer. */
static void huff_codes(const uint8_t *lengths, int n, uint16_t *codes) {
  unsigned count[MAX_CODE_BITS + 1] = {0};
  uint32_t next[MAX_CODE_BITS + 2];
  for (int s = 0; s < n; s++) count[lengths[s]]++;
  count[0] = 0;
  next[1] = 0;
  for (int bits = 1; bits <= MAX_CODE_BITS; bits++) next[bits + 1] = (next[bits] + count[bits]) << 1;
  for (int s = 0; s < n; s++)
    if (lengths[s]) codes[s] = (uint16_t)reverse_bits(next[lengths[s]]++, lengths[s]);
}

/* A decoding table indexed by the next `bits` input bits: symbol << 4 | length, 0 for bit
 * patterns that start no code (codes may be incomplete). */
typedef struct {
  uint16_t table[1u << MAX_CODE_BITS];
  unsigned bits;
} huff_decoder;

static const char *huff_decoder_build(huff_decoder *d, const uint8_t *lengths, int n) {
  unsigned count[MAX_CODE_BITS + 1] = {0};
  uint16_t codes[LITLEN_SYMBOLS];
  int left = 1;
  d->bits = 0;
  for (int s = 0; s < n; s++) {
    count[lengths[s]]++;
    if (lengths[s] > d->bits) d->bits = lengths[s];
  }
  for (int bits = 1; bits <= MAX_CODE_BITS; bits++) {
    left = 2 * left - (int)count[bits];
    if (left < 0) return "over-subscribed Huffman code";
  }
  memset(d->table, 0, sizeof d->table[0] << d->bits);
  huff_codes(lengths, n, codes);
  for (int s = 0; s < n; s++) {
    if (lengths[s] == 0) continue;
    for (uint32_t i = codes[s]; i < (1u << d->bits); i += 1u << lengths[s])
      d->table[i] = (uint16_t)(s << 4 | lengths[s]);
  }
  return NULL;
}

/* The next symbol, or -1 for a bit pattern that is no code. */
static int huff_decode(bit_reader *r, const huff_decoder *d) {
  if (r->count < d->bits) br_fill(r);
  uint16_t entry = d->table[r->acc & ((1u << d->bits) - 1)];
  if (entry == 0) return -1;
  r->acc >>= entry & 15;
  r->count -= entry & 15;
  return entry >> 4;
}

/* ---------------------------------------------------------------- symbol codes */

static uint8_t length_code_of[MAX_MATCH + 1];

static void length_codes_init(void) {
  for (int code = 0; code < 29; code++)
    for (int len = LENGTH_BASE[code]; len < LENGTH_BASE[code] + (1 << LENGTH_EXTRA[code]); len++)
      if (len <= MAX_MATCH) length_code_of[len] = (uint8_t)code; /* 258 ends up with code 28 */
}

/* Distance codes: 0-3 are distances 1-4; from code 4 on, code 2k+2 and 2k+3 have k extra bits. */
static unsigned dist_code(unsigned dist) {
  unsigned d = dist - 1, msb = 0;
  if (d < 4) return d;
  while ((d >> (msb + 1)) != 0) msb++;
  return 2 * msb + ((d >> (msb - 1)) & 1);
}

static unsigned dist_extra(unsigned code) {
  return code < 4 ? 0 : code / 2 - 1;
}

static unsigned dist_base(unsigned code) {
  return code < 4 ? code + 1 : ((2u + (code & 1)) << dist_extra(code)) + 1;
}

/* ---------------------------------------------------------------- LZ77 matcher */

/* A token is a literal byte (< 256) or dist << 9 | length for a match. */
#define TOKEN_MATCH(len, dist) ((uint32_t)(dist) << 9 | (uint32_t)(len))

typedef struct {
  const uint8_t *data;
  size_t size, pos;
  int32_t head[1u << HASH_BITS]; /* the latest position with each hash, -1 for none */
  int32_t prev[WINDOW_SIZE];     /* the previous position with the same hash as position p */
  int chain_limit, nice_length, lazy;
  int cached; /* a match at pos was found (before pos was inserted) by the lazy look-ahead */
  unsigned cached_length, cached_dist;
} matcher;

static uint32_t hash3(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
  return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void matcher_insert(matcher *m, size_t pos) {
  if (pos + MIN_MATCH > m->size) return;
  uint32_t h = hash3(m->data + pos);
  m->prev[pos & (WINDOW_SIZE - 1)] = m->head[h];
  m->head[h] = (int32_t)pos;
}

/* The longest match for pos among earlier positions (pos itself not yet inserted): its length,
 * or 0 when shorter than MIN_MATCH. */
static unsigned matcher_find(const matcher *m, size_t pos, unsigned *dist_out) {
  size_t avail = m->size - pos;
  if (avail < MIN_MATCH) return 0;
  unsigned max_length = avail < MAX_MATCH ? (unsigned)avail : MAX_MATCH;
  const uint8_t *cur = m->data + pos;
  int32_t cand = m->head[hash3(cur)];
  unsigned best = MIN_MATCH - 1;
  int chain = m->chain_limit;
  while (cand >= 0 && chain-- > 0) {
    size_t dist = pos - (size_t)cand;
    if (dist > MAX_DIST) break;
    const uint8_t *c = m->data + cand;
    if (c[best] == cur[best] && c[0] == cur[0] && c[1] == cur[1]) {
      unsigned len = 2;
      while (len < max_length && c[len] == cur[len]) len++;
      if (len > best) {
        best = len;
        *dist_out = (unsigned)dist;
        if (len >= (unsigned)m->nice_length || len == max_length) break;
      }
    }
    int32_t next = m->prev[cand & (WINDOW_SIZE - 1)];
    if (next >= cand) break; /* a slot reused by a later position: the chain ends */
    cand = next;
  }
  return best >= MIN_MATCH ? best : 0;
}

/* Tokens from m->pos on until a block is full; returns how many. Lazy matching: a match is
 * put off by one byte when the next position has a longer one. */
static size_t matcher_tokens(matcher *m, uint32_t *tokens) {
  size_t count = 0, start = m->pos;
  while (m->pos < m->size && count < BLOCK_TOKENS && m->pos - start <= BLOCK_BYTES - MAX_MATCH) {
    size_t pos = m->pos;
    unsigned dist = 0, length;
    if (m->cached) {
      length = m->cached_length;
      dist = m->cached_dist;
      m->cached = 0;
    } else {
      length = matcher_find(m, pos, &dist);
    }
    matcher_insert(m, pos);
    if (length && m->lazy && length < (unsigned)m->nice_length) {
      unsigned next_dist = 0, next_length = matcher_find(m, pos + 1, &next_dist);
      if (next_length > length) {
        tokens[count++] = m->data[pos];
        m->pos = pos + 1;
        m->cached = 1;
        m->cached_length = next_length;
        m->cached_dist = next_dist;
        continue;
      }
    }
    if (length) {
      tokens[count++] = TOKEN_MATCH(length, dist);
      for (size_t k = 1; k < length; k++) matcher_insert(m, pos + k);
      m->pos = pos + length;
    } else {
      tokens[count++] = m->data[pos];
      m->pos = pos + 1;
    }
  }
  return count;
}

/* ---------------------------------------------------------------- block encoder */

/* The code-length sequence of a block, run-length coded: symbols 0-15 are lengths, 16 repeats
 * the previous length 3-6 times, 17 and 18 give 3-10 and 11-138 zeros. */
typedef struct {
  uint8_t symbol[LITLEN_SYMBOLS + DIST_SYMBOLS];
  uint8_t extra[LITLEN_SYMBOLS + DIST_SYMBOLS];
  int count;
} codelen_runs;

static void rle_emit(codelen_runs *r, int symbol, int extra) {
  r->symbol[r->count] = (uint8_t)symbol;
  r->extra[r->count++] = (uint8_t)extra;
}

static void rle_code_lengths(const uint8_t *lengths, int n, codelen_runs *r) {
  r->count = 0;
  for (int i = 0; i < n;) {
    int value = lengths[i], run = 1;
    while (i + run < n && lengths[i + run] == value) run++;
    i += run;
    if (value == 0) {
      for (; run >= 11; run -= run < 138 ? run : 138) rle_emit(r, 18, (run < 138 ? run : 138) - 11);
      if (run >= 3) {
        rle_emit(r, 17, run - 3);
        run = 0;
      }
    } else {
      rle_emit(r, value, 0);
      run--;
      for (; run >= 3; run -= run < 6 ? run : 6) rle_emit(r, 16, (run < 6 ? run : 6) - 3);
    }
    for (; run > 0; run--) rle_emit(r, value, 0);
  }
}

static unsigned codelen_extra_bits(int symbol) {
  return symbol == 16 ? 2 : symbol == 17 ? 3 : symbol == 18 ? 7 : 0;
}

/* Write one block holding raw[0..raw_len), which the tokens encode: Huffman-coded, or stored
 * when that is smaller. */
static void encode_block(bit_writer *w, const uint32_t *tokens, size_t count, const uint8_t *raw,
                         size_t raw_len, int final) {
  uint32_t litlen_freq[LITLEN_SYMBOLS] = {0}, dist_freq[DIST_SYMBOLS] = {0};
  uint32_t codelen_freq[CODELEN_SYMBOLS] = {0};
  uint8_t lengths[LITLEN_SYMBOLS + DIST_SYMBOLS], codelen_lengths[CODELEN_SYMBOLS];
  uint16_t litlen_codes[LITLEN_SYMBOLS], dist_codes[DIST_SYMBOLS], codelen_codes[CODELEN_SYMBOLS];
  codelen_runs runs;

  for (size_t i = 0; i < count; i++) {
    if (tokens[i] < 256) {
      litlen_freq[tokens[i]]++;
    } else {
      litlen_freq[257 + length_code_of[tokens[i] & 511]]++;
      dist_freq[dist_code(tokens[i] >> 9)]++;
    }
  }
  litlen_freq[END_OF_BLOCK] = 1;
  huff_lengths(litlen_freq, LITLEN_SYMBOLS, MAX_CODE_BITS, lengths);
  huff_lengths(dist_freq, DIST_SYMBOLS, MAX_CODE_BITS, lengths + LITLEN_SYMBOLS);
  int nlit = LITLEN_SYMBOLS, ndist = DIST_SYMBOLS;
  while (nlit > 257 && lengths[nlit - 1] == 0) nlit--;
  while (ndist > 1 && lengths[LITLEN_SYMBOLS + ndist - 1] == 0) ndist--;
  /* the two length lists are sent back to back */
  memmove(lengths + nlit, lengths + LITLEN_SYMBOLS, (size_t)ndist);
  rle_code_lengths(lengths, nlit + ndist, &runs);
  for (int i = 0; i < runs.count; i++) codelen_freq[runs.symbol[i]]++;
  huff_lengths(codelen_freq, CODELEN_SYMBOLS, MAX_CODELEN_BITS, codelen_lengths);
  int ncodelen = CODELEN_SYMBOLS;
  while (ncodelen > 4 && codelen_lengths[CODELEN_ORDER[ncodelen - 1]] == 0) ncodelen--;

  /* sizes in bits, to pick the smaller form */
  uint64_t huffman_bits = 3 + 5 + 5 + 4 + 3 * (uint64_t)ncodelen;
  for (int i = 0; i < runs.count; i++)
    huffman_bits += codelen_lengths[runs.symbol[i]] + codelen_extra_bits(runs.symbol[i]);
  for (int s = 0; s < nlit; s++) /* symbols from nlit on are unused */
    huffman_bits += (uint64_t)litlen_freq[s] * (lengths[s] + (s > 256 ? LENGTH_EXTRA[s - 257] : 0));
  for (int s = 0; s < ndist; s++)
    huffman_bits += (uint64_t)dist_freq[s] * (lengths[nlit + s] + dist_extra((unsigned)s));
  uint64_t stored_bits = 3 + (8 - (w->count + 3) % 8) % 8 + 16 + 8 * (uint64_t)raw_len;

  if (stored_bits <= huffman_bits) {
    bw_put(w, (uint32_t)final, 1);
    bw_put(w, 0, 2);
    bw_align(w);
    bw_put(w, (uint32_t)raw_len, 16);
    buf_append(w->out, raw, raw_len);
    return;
  }
  bw_put(w, (uint32_t)final, 1);
  bw_put(w, 1, 2);
  bw_put(w, (uint32_t)(nlit - 257), 5);
  bw_put(w, (uint32_t)(ndist - 1), 5);
  bw_put(w, (uint32_t)(ncodelen - 4), 4);
  for (int i = 0; i < ncodelen; i++) bw_put(w, codelen_lengths[CODELEN_ORDER[i]], 3);
  huff_codes(codelen_lengths, CODELEN_SYMBOLS, codelen_codes);
  for (int i = 0; i < runs.count; i++) {
    int symbol = runs.symbol[i];
    bw_put(w, codelen_codes[symbol], codelen_lengths[symbol]);
    bw_put(w, runs.extra[i], codelen_extra_bits(symbol));
  }
  huff_codes(lengths, nlit, litlen_codes);
  huff_codes(lengths + nlit, ndist, dist_codes);
  for (size_t i = 0; i < count; i++) {
    uint32_t t = tokens[i];
    if (t < 256) {
      bw_put(w, litlen_codes[t], lengths[t]);
      continue;
    }
    unsigned length = t & 511, dist = t >> 9;
    unsigned lcode = length_code_of[length], dcode = dist_code(dist);
    bw_put(w, litlen_codes[257 + lcode], lengths[257 + lcode]);
    bw_put(w, length - LENGTH_BASE[lcode], LENGTH_EXTRA[lcode]);
    bw_put(w, dist_codes[dcode], lengths[nlit + dcode]);
    bw_put(w, dist - dist_base(dcode), dist_extra(dcode));
  }
  bw_put(w, litlen_codes[END_OF_BLOCK], lengths[END_OF_BLOCK]);
}

static matcher the_matcher; /* large (384 KiB): one, reused for every file */

/* Compress data[0..size) (size > 0) to a kz stream; level 1-9 sets how hard the matcher looks. */
static void kz_compress(const uint8_t *data, size_t size, int level, buffer *out) {
  static const int chain_limits[10] = {0, 4, 8, 16, 32, 64, 128, 256, 1024, 4096};
  static uint32_t tokens[BLOCK_TOKENS];
  matcher *m = &the_matcher;
  bit_writer w = {out, 0, 0};

  memset(m->head, 0xFF, sizeof m->head);
  m->data = data;
  m->size = size;
  m->pos = 0;
  m->chain_limit = chain_limits[level];
  m->nice_length = level >= 8 ? MAX_MATCH : 32 + 16 * level;
  m->lazy = level >= 4;
  m->cached = 0;
  while (m->pos < size) {
    size_t start = m->pos, count = matcher_tokens(m, tokens);
    encode_block(&w, tokens, count, data + start, m->pos - start, m->pos == size);
  }
  bw_align(&w);
}

/* ---------------------------------------------------------------- decoder */

static huff_decoder litlen_decoder, dist_decoder, codelen_decoder;

/* Read a Huffman block's code tables into the decoders. */
static const char *read_block_codes(bit_reader *r) {
  uint8_t codelen_lengths[CODELEN_SYMBOLS] = {0}, lengths[LITLEN_SYMBOLS + DIST_SYMBOLS];
  int nlit = (int)br_bits(r, 5) + 257, ndist = (int)br_bits(r, 5) + 1;
  int ncodelen = (int)br_bits(r, 4) + 4;
  const char *error;

  if (nlit > LITLEN_SYMBOLS) return "too many literal/length codes";
  for (int i = 0; i < ncodelen; i++) codelen_lengths[CODELEN_ORDER[i]] = (uint8_t)br_bits(r, 3);
  if ((error = huff_decoder_build(&codelen_decoder, codelen_lengths, CODELEN_SYMBOLS))) return error;
  for (int i = 0; i < nlit + ndist;) {
    int symbol = huff_decode(r, &codelen_decoder), repeat, value = 0;
    if (symbol < 0) return "invalid code-length code";
    if (symbol < 16) {
      lengths[i++] = (uint8_t)symbol;
      continue;
    }
    if (symbol == 16) {
      if (i == 0) return "length repeat with no previous length";
      value = lengths[i - 1];
      repeat = 3 + (int)br_bits(r, 2);
    } else if (symbol == 17) {
      repeat = 3 + (int)br_bits(r, 3);
    } else {
      repeat = 11 + (int)br_bits(r, 7);
    }
    if (repeat > nlit + ndist - i) return "code lengths overflow their table";
    while (repeat--) lengths[i++] = (uint8_t)value;
  }
  if (lengths[END_OF_BLOCK] == 0) return "block has no end-of-block code";
  if ((error = huff_decoder_build(&litlen_decoder, lengths, nlit))) return error;
  return huff_decoder_build(&dist_decoder, lengths + nlit, ndist);
}

/* Decode one Huffman block's symbols into out, from *done on. */
static const char *inflate_huffman(bit_reader *r, uint8_t *out, size_t out_len, size_t *done) {
  size_t o = *done;
  for (;;) {
    int symbol = huff_decode(r, &litlen_decoder);
    if (symbol < 0) return "invalid literal/length code";
    if (symbol < 256) {
      if (o == out_len) return "data longer than its stated size";
      out[o++] = (uint8_t)symbol;
      continue;
    }
    if (symbol == END_OF_BLOCK) break;
    if (symbol - 257 >= 29) return "invalid length symbol";
    if (br_overrun(r)) return "compressed data truncated";
    unsigned lcode = (unsigned)symbol - 257;
    size_t length = LENGTH_BASE[lcode] + br_bits(r, LENGTH_EXTRA[lcode]);
    int dcode = huff_decode(r, &dist_decoder);
    if (dcode < 0) return "invalid distance code";
    size_t dist = dist_base((unsigned)dcode) + br_bits(r, dist_extra((unsigned)dcode));
    if (dist > o) return "distance reaches before the start of the data";
    if (length > out_len - o) return "data longer than its stated size";
    for (const uint8_t *from = out + o - dist; length--;) out[o++] = *from++;
  }
  *done = o;
  return NULL;
}

/* Decode the kz stream in[0..in_len) into exactly out_len bytes at out. Returns NULL or what
 * is wrong with the stream. */
static const char *kz_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len) {
  bit_reader r = {in, in_len, 0, 0, 0};
  size_t o = 0;
  const char *error;
  uint32_t final;
  do {
    if (br_overrun(&r)) return "compressed data truncated";
    final = br_bits(&r, 1);
    uint32_t type = br_bits(&r, 2);
    if (type == 0) {
      br_bits(&r, r.count % 8);
      size_t length = br_bits(&r, 16);
      if (length > out_len - o) return "data longer than its stated size";
      for (; length && r.count >= 8; length--) out[o++] = (uint8_t)br_bits(&r, 8);
      if (length > r.len - (r.pos < r.len ? r.pos : r.len)) return "compressed data truncated";
      if (length) memcpy(out + o, in + r.pos, length);
      o += length;
      r.pos += length;
    } else if (type == 1) {
      if ((error = read_block_codes(&r)) || (error = inflate_huffman(&r, out, out_len, &o)))
        return error;
    } else {
      return "invalid block type";
    }
  } while (!final);
  if (br_overrun(&r)) return "compressed data truncated";
  if ((r.pos * 8 - r.count + 7) / 8 != in_len) return "trailing bytes after the compressed data";
  if (o != out_len) return "data shorter than its stated size";
  return NULL;
}

/* ---------------------------------------------------------------- paths */

/* path + "/" + name, in a new string */
static char *path_join(const char *path, const char *name) {
  size_t a = strlen(path), b = strlen(name);
  char *s = xrealloc(NULL, a + b + 2);
  memcpy(s, path, a);
  s[a] = '/';
  memcpy(s + a + 1, name, b + 1);
  return s;
}

/* Whether an archive name may be extracted: relative, no empty, "." or ".." components. */
static int name_is_safe(const char *name) {
  if (name[0] == '/' || name[0] == '\0') return 0;
  for (const char *p = name; *p;) {
    size_t len = strcspn(p, "/");
    if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    p += len;
    if (*p == '/') {
      p++;
      if (*p == '\0') return 0;
    }
  }
  return 1;
}

/* A member name for a command-line path: "." components and repeated or trailing slashes go,
 * a leading "/" goes (with a note), ".." is refused. Returns "" for the directory itself. */
static char *member_name(const char *path) {
  static int noted_absolute;
  char *name = xrealloc(NULL, strlen(path) + 1);
  size_t n = 0;
  if (path[0] == '/' && !noted_absolute) {
    fprintf(stderr, "kzip: removing leading '/' from member names\n");
    noted_absolute = 1;
  }
  for (const char *p = path; *p;) {
    size_t len = strcspn(p, "/");
    if (len == 2 && p[0] == '.' && p[1] == '.') fail(KZ_EXIT_USAGE, "'%s': paths with '..' cannot be stored", path);
    if (len > 0 && !(len == 1 && p[0] == '.')) {
      if (n) name[n++] = '/';
      memcpy(name + n, p, len);
      n += len;
    }
    p += len;
    while (*p == '/') p++;
  }
  name[n] = '\0';
  return name;
}

static int is_directory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: each missing directory of path is created. */
static void make_directories(const char *path) {
  char *p = xstrdup(path);
  for (char *slash = p;; slash++) {
    slash = strchr(slash, '/');
    if (slash == p) continue; /* the root of an absolute path */
    if (slash) *slash = '\0';
    if (p[0] && mkdir(p, 0777) != 0 && !is_directory(p))
      fail(KZ_EXIT_IO, "cannot create directory '%s': %s", p, strerror(errno));
    if (!slash) break;
    *slash = '/';
  }
  free(p);
}

/* ---------------------------------------------------------------- archive writing */

typedef struct {
  FILE *out;
  FILE *messages; /* stdout, or stderr when the archive goes to stdout */
  int level;
  int have_self; /* the archive is a file: skip it if met in a directory */
  dev_t self_dev;
  ino_t self_ino;
  uint32_t entries, files, directories;
  uint64_t total_size, total_packed;
} archive_writer;

static void write_bytes(archive_writer *aw, const void *p, size_t n) {
  if (n && fwrite(p, 1, n, aw->out) != n) fail(KZ_EXIT_IO, "write error: %s", strerror(errno));
}

static void write_entry_header(archive_writer *aw, char type, const char *name, buffer *header) {
  size_t len = strlen(name);
  if (len == 0 || len > MAX_NAME) fail(KZ_EXIT_USAGE, "bad member name '%s'", name);
  header->len = 0;
  buf_put_byte(header, (uint8_t)type);
  buf_put_le(header, len, 2);
  buf_append(header, name, len);
  aw->entries++;
}

static void format_ratio(char *out, size_t out_size, uint64_t size, uint64_t packed) {
  if (size == 0) {
    snprintf(out, out_size, "-");
    return;
  }
  uint64_t permille = (packed * 1000 + size / 2) / size;
  snprintf(out, out_size, "%" PRIu64 ".%" PRIu64 "%%", permille / 10, permille % 10);
}

/* Read a whole stream into b. */
static void read_all(FILE *in, const char *what, buffer *b) {
  for (;;) {
    buf_reserve(b, 65536);
    size_t got = fread(b->data + b->len, 1, b->cap - b->len, in);
    b->len += got;
    if (got == 0) break;
    if (b->len > MAX_FILE_SIZE) fail(KZ_EXIT_IO, "'%s': larger than 1 GiB", what);
  }
  if (ferror(in)) fail(KZ_EXIT_IO, "cannot read '%s': %s", what, strerror(errno));
}

static void add_file_data(archive_writer *aw, const char *name, const uint8_t *data, size_t size) {
  buffer header = {0}, packed = {0};
  int method = 0;
  if (aw->level > 0 && size > 0) {
    kz_compress(data, size, aw->level, &packed);
    if (packed.len < size) method = 1;
  }
  const uint8_t *body = method ? packed.data : data;
  size_t body_len = method ? packed.len : size;
  write_entry_header(aw, 'F', name, &header);
  buf_put_byte(&header, (uint8_t)method);
  buf_put_le(&header, size, 8);
  buf_put_le(&header, body_len, 8);
  buf_put_le(&header, crc32_of(data, size), 4);
  write_bytes(aw, header.data, header.len);
  write_bytes(aw, body, body_len);
  char ratio[32];
  format_ratio(ratio, sizeof ratio, size, body_len);
  fprintf(aw->messages, "  adding: %s (%zu -> %zu, %s)\n", name, size, body_len, ratio);
  aw->files++;
  aw->total_size += size;
  aw->total_packed += body_len;
  free(header.data);
  free(packed.data);
}

static void add_file(archive_writer *aw, const char *path, const char *name) {
  buffer data = {0};
  FILE *in = fopen(path, "rb");
  if (!in) fail(KZ_EXIT_IO, "cannot open '%s': %s", path, strerror(errno));
  read_all(in, path, &data);
  fclose(in);
  add_file_data(aw, name, data.data, data.len);
  free(data.data);
}

static void add_directory_entry(archive_writer *aw, const char *name) {
  buffer header = {0};
  write_entry_header(aw, 'D', name, &header);
  write_bytes(aw, header.data, header.len);
  fprintf(aw->messages, "  adding: %s/\n", name);
  aw->directories++;
  free(header.data);
}

static int string_compare(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(archive_writer *aw, const char *path, const char *name);

/* The directory path as name, then its entries in byte order of their names. */
static void add_directory(archive_writer *aw, const char *path, const char *name) {
  DIR *dir = opendir(path);
  char **names = NULL;
  size_t count = 0, cap = 0;
  struct dirent *ent;
  if (!dir) fail(KZ_EXIT_IO, "cannot open directory '%s': %s", path, strerror(errno));
  if (name[0]) add_directory_entry(aw, name);
  errno = 0;
  while ((ent = readdir(dir)) != NULL) {
    if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
    if (count == cap) {
      cap = cap ? 2 * cap : 16;
      names = xrealloc(names, cap * sizeof *names);
    }
    names[count++] = xstrdup(ent->d_name);
  }
  if (errno) fail(KZ_EXIT_IO, "cannot read directory '%s': %s", path, strerror(errno));
  closedir(dir);
  if (count) qsort(names, count, sizeof *names, string_compare);
  for (size_t i = 0; i < count; i++) {
    char *child_path = path_join(path, names[i]);
    char *child_name = name[0] ? path_join(name, names[i]) : xstrdup(names[i]);
    add_path(aw, child_path, child_name);
    free(child_path);
    free(child_name);
    free(names[i]);
  }
  free(names);
}

static void add_path(archive_writer *aw, const char *path, const char *name) {
  struct stat st;
  if (stat(path, &st) != 0) fail(KZ_EXIT_IO, "cannot stat '%s': %s", path, strerror(errno));
  if (aw->have_self && st.st_dev == aw->self_dev && st.st_ino == aw->self_ino) {
    fprintf(stderr, "kzip: skipping '%s': it is the archive being written\n", name);
  } else if (S_ISDIR(st.st_mode)) {
    add_directory(aw, path, name);
  } else if (S_ISREG(st.st_mode)) {
    if (!name[0]) fail(KZ_EXIT_USAGE, "'%s': a file needs a name", path);
    add_file(aw, path, name);
  } else {
    fprintf(stderr, "kzip: skipping '%s': not a regular file or directory\n", name);
  }
}

static int cmd_create(const char *archive, const char *base, int level, char **paths, int npaths) {
  archive_writer aw = {0};
  static const uint8_t magic[6] = {'K', 'Z', 'I', 'P', 1, 0};
  aw.level = level;
  if (strcmp(archive, "-") == 0) {
    aw.out = stdout;
    aw.messages = stderr;
  } else {
    struct stat st;
    aw.out = fopen(archive, "wb");
    if (!aw.out) fail(KZ_EXIT_IO, "cannot create '%s': %s", archive, strerror(errno));
    aw.messages = stdout;
    if (stat(archive, &st) == 0) {
      aw.have_self = 1;
      aw.self_dev = st.st_dev;
      aw.self_ino = st.st_ino;
    }
  }
  write_bytes(&aw, magic, sizeof magic);
  for (int i = 0; i < npaths; i++) {
    if (strcmp(paths[i], "-") == 0) {
      buffer data = {0};
      read_all(stdin, "stdin", &data);
      add_file_data(&aw, "stdin", data.data, data.len);
      free(data.data);
      continue;
    }
    char *name = member_name(paths[i]);
    char *path = base ? path_join(base, paths[i]) : xstrdup(paths[i]);
    add_path(&aw, path, name);
    free(name);
    free(path);
  }
  buffer end = {0};
  buf_put_byte(&end, 'E');
  buf_put_le(&end, aw.entries, 4);
  write_bytes(&aw, end.data, end.len);
  free(end.data);
  if (fflush(aw.out) != 0 || ferror(aw.out) || (aw.out != stdout && fclose(aw.out) != 0))
    fail(KZ_EXIT_IO, "cannot write '%s': %s", archive, strerror(errno));
  char ratio[32];
  format_ratio(ratio, sizeof ratio, aw.total_size, aw.total_packed);
  fprintf(aw.messages, "%" PRIu32 " files, %" PRIu32 " directories: %" PRIu64 " -> %" PRIu64
          " bytes (%s)\n", aw.files, aw.directories, aw.total_size, aw.total_packed, ratio);
  return 0;
}

/* ---------------------------------------------------------------- archive reading */

typedef struct {
  FILE *in;
  uint32_t entries;
} archive_reader;

typedef struct {
  char type; /* 'D', 'F' */
  char name[MAX_NAME + 1];
  int method;
  uint64_t size, packed_size;
  uint32_t crc;
} entry;

static void read_exact(archive_reader *ar, void *p, size_t n) {
  if (fread(p, 1, n, ar->in) == n) return;
  if (ferror(ar->in)) fail(KZ_EXIT_IO, "read error: %s", strerror(errno));
  fail(KZ_EXIT_CORRUPT, "unexpected end of archive");
}

static uint64_t read_le(archive_reader *ar, int bytes) {
  uint8_t b[8];
  uint64_t v = 0;
  read_exact(ar, b, (size_t)bytes);
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

static void reader_open(archive_reader *ar, const char *archive) {
  uint8_t magic[6];
  ar->entries = 0;
  ar->in = strcmp(archive, "-") == 0 ? stdin : fopen(archive, "rb");
  if (!ar->in) fail(KZ_EXIT_IO, "cannot open '%s': %s", archive, strerror(errno));
  read_exact(ar, magic, sizeof magic);
  if (memcmp(magic, "KZIP", 4) != 0) fail(KZ_EXIT_CORRUPT, "not a kzip archive");
  if (magic[4] != 1) fail(KZ_EXIT_CORRUPT, "unsupported archive version %d", magic[4]);
}

/* The next entry's header into e; 0 at the end record. */
static int read_entry(archive_reader *ar, entry *e) {
  uint8_t type;
  read_exact(ar, &type, 1);
  if (type == 'E') {
    uint32_t count = (uint32_t)read_le(ar, 4);
    if (count != ar->entries)
      fail(KZ_EXIT_CORRUPT, "end record counts %" PRIu32 " entries, the archive has %" PRIu32,
           count, ar->entries);
    if (fgetc(ar->in) != EOF) fail(KZ_EXIT_CORRUPT, "trailing data after the end of the archive");
    return 0;
  }
  if (type != 'D' && type != 'F')
    fail(KZ_EXIT_CORRUPT, "entry %" PRIu32 ": bad entry type 0x%02x", ar->entries + 1, type);
  size_t len = (size_t)read_le(ar, 2);
  if (len == 0 || len > MAX_NAME) fail(KZ_EXIT_CORRUPT, "entry %" PRIu32 ": bad name length", ar->entries + 1);
  read_exact(ar, e->name, len);
  e->name[len] = '\0';
  if (strlen(e->name) != len) fail(KZ_EXIT_CORRUPT, "entry %" PRIu32 ": NUL byte in name", ar->entries + 1);
  e->type = (char)type;
  e->method = 0;
  e->size = e->packed_size = 0;
  e->crc = 0;
  if (type == 'F') {
    e->method = (int)read_le(ar, 1);
    e->size = read_le(ar, 8);
    e->packed_size = read_le(ar, 8);
    e->crc = (uint32_t)read_le(ar, 4);
    if (e->method > 1) fail(KZ_EXIT_CORRUPT, "'%s': unknown method %d", e->name, e->method);
    /* a kz stream expands at most ~1032 times (a 258-byte match in two bits) */
    if ((e->method == 0 && e->size != e->packed_size) || e->size > MAX_FILE_SIZE ||
        (e->method == 1 && e->size / 1100 > e->packed_size))
      fail(KZ_EXIT_CORRUPT, "'%s': implausible sizes", e->name);
  }
  ar->entries++;
  return 1;
}

/* Read an entry's packed data, into b (discarded when b is NULL). */
static void read_packed(archive_reader *ar, const entry *e, buffer *b) {
  static uint8_t scratch[65536]; /* not on the stack: wasm32-wasi's is 64 KiB */
  for (uint64_t left = e->packed_size; left > 0;) {
    size_t n = left < sizeof scratch ? (size_t)left : sizeof scratch;
    read_exact(ar, scratch, n);
    if (b) buf_append(b, scratch, n);
    left -= n;
  }
}

/* An entry's contents, checked against its CRC, into out. */
static void unpack_entry(archive_reader *ar, const entry *e, buffer *out) {
  buffer packed = {0};
  read_packed(ar, e, &packed);
  out->len = 0;
  if (e->method == 0) {
    buf_append(out, packed.data, packed.len);
  } else {
    buf_reserve(out, (size_t)e->size);
    const char *error = kz_decompress(packed.data, packed.len, out->data, (size_t)e->size);
    if (error) fail(KZ_EXIT_CORRUPT, "'%s': %s", e->name, error);
    out->len = (size_t)e->size;
  }
  free(packed.data);
  uint32_t crc = crc32_of(out->data, out->len);
  if (crc != e->crc)
    fail(KZ_EXIT_CORRUPT, "'%s': CRC mismatch (stored %08" PRIx32 ", computed %08" PRIx32 ")",
         e->name, e->crc, crc);
}

static void write_file(const char *path, const buffer *data) {
  FILE *out = fopen(path, "wb");
  if (!out) fail(KZ_EXIT_IO, "cannot create '%s': %s", path, strerror(errno));
  if ((data->len && fwrite(data->data, 1, data->len, out) != data->len) || fclose(out) != 0)
    fail(KZ_EXIT_IO, "cannot write '%s': %s", path, strerror(errno));
}

static void extract_entry(const char *outdir, const entry *e, const buffer *data) {
  char *path = path_join(outdir, e->name);
  if (e->type == 'D') {
    make_directories(path);
  } else {
    char *slash = strrchr(path, '/');
    *slash = '\0';
    make_directories(path);
    *slash = '/';
    write_file(path, data);
  }
  free(path);
}

enum command { LIST, TEST, EXTRACT };

static int cmd_read(enum command command, const char *archive, const char *outdir) {
  archive_reader ar;
  entry *e = xrealloc(NULL, sizeof *e);
  buffer data = {0};
  uint32_t files = 0, directories = 0;
  uint64_t total_size = 0, total_packed = 0;
  int to_stdout = outdir && strcmp(outdir, "-") == 0;
  FILE *messages = to_stdout ? stderr : stdout;
  char ratio[32];

  reader_open(&ar, archive);
  if (command == EXTRACT && !to_stdout) make_directories(outdir);
  if (command == LIST) printf("%10s %10s %6s  %-8s  %s\n", "size", "packed", "ratio", "crc32", "name");
  while (read_entry(&ar, e)) {
    if (command != LIST && !name_is_safe(e->name))
      fail(KZ_EXIT_CORRUPT, "refusing unsafe entry name '%s'", e->name);
    if (e->type == 'D') {
      directories++;
      if (command == LIST) printf("%10s %10s %6s  %-8s  %s/\n", "-", "-", "-", "-", e->name);
      else if (command == EXTRACT && !to_stdout) extract_entry(outdir, e, NULL);
      if (command == EXTRACT && !to_stdout) fprintf(messages, "  creating: %s/\n", e->name);
      continue;
    }
    files++;
    total_size += e->size;
    total_packed += e->packed_size;
    if (command == LIST) {
      read_packed(&ar, e, NULL);
      format_ratio(ratio, sizeof ratio, e->size, e->packed_size);
      printf("%10" PRIu64 " %10" PRIu64 " %6s  %08" PRIx32 "  %s\n", e->size, e->packed_size,
             ratio, e->crc, e->name);
      continue;
    }
    unpack_entry(&ar, e, &data);
    if (command == TEST) {
      fprintf(messages, "  OK: %s\n", e->name);
    } else if (to_stdout) {
      if (data.len && fwrite(data.data, 1, data.len, stdout) != data.len)
        fail(KZ_EXIT_IO, "write error: %s", strerror(errno));
      fprintf(messages, "  inflating: %s\n", e->name);
    } else {
      extract_entry(outdir, e, &data);
      fprintf(messages, "  inflating: %s\n", e->name);
    }
  }
  if (fflush(stdout) != 0) fail(KZ_EXIT_IO, "write error: %s", strerror(errno));
  if (ar.in != stdin) fclose(ar.in);
  format_ratio(ratio, sizeof ratio, total_size, total_packed);
  if (command == LIST)
    printf("%" PRIu32 " files, %" PRIu32 " directories: %" PRIu64 " -> %" PRIu64 " bytes (%s)\n",
           files, directories, total_size, total_packed, ratio);
  else
    fprintf(messages, "%" PRIu32 " files, %" PRIu32 " directories %s\n", files, directories,
            command == TEST ? "tested: no errors" : "extracted");
  free(data.data);
  free(e);
  return 0;
}

/* ---------------------------------------------------------------- command line */

static void usage(FILE *to) {
  fputs("usage: kzip c [-0..-9] [-C DIR] ARCHIVE PATH...  create an archive\n"
        "       kzip x ARCHIVE OUTDIR                     extract (OUTDIR '-': to stdout)\n"
        "       kzip l ARCHIVE                            list\n"
        "       kzip t ARCHIVE                            test\n"
        "ARCHIVE '-' is stdin or stdout; PATH '-' stores stdin as 'stdin'.\n"
        "-0 stores, -1 is fastest, -9 compresses most (default -6); -C DIR reads PATHs below DIR.\n"
        "exit status: 0 ok, 1 usage, 2 I/O error, 3 corrupt or unsafe archive\n",
        to);
}

int main(int argc, char **argv) {
  crc_init();
  length_codes_init();
  if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc < 3 || strlen(argv[1]) != 1) {
    usage(stderr);
    return KZ_EXIT_USAGE;
  }
  char command = argv[1][0];
  if (command == 'c') {
    int level = 6, i = 2;
    const char *base = NULL;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
      if (argv[i][1] >= '0' && argv[i][1] <= '9' && argv[i][2] == '\0') {
        level = argv[i][1] - '0';
      } else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc) {
        base = argv[++i];
      } else {
        fail(KZ_EXIT_USAGE, "unknown option '%s' (kzip -h for help)", argv[i]);
      }
    }
    if (argc - i < 2) fail(KZ_EXIT_USAGE, "c needs an archive and at least one path");
    return cmd_create(argv[i], base, level, argv + i + 1, argc - i - 1);
  }
  if (command == 'x' && argc == 4) return cmd_read(EXTRACT, argv[2], argv[3]);
  if (command == 'l' && argc == 3) return cmd_read(LIST, argv[2], NULL);
  if (command == 't' && argc == 3) return cmd_read(TEST, argv[2], NULL);
  usage(stderr);
  return KZ_EXIT_USAGE;
}
