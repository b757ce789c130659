/*
 * weft bench load generator: small helpers with no I/O policy in them (clock, CPU, RNG, histogram,
 * SHA-1/base64 for the opening handshake, frame writer, incremental frame header parser).
 */
#include "lg.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static uint64_t rng_state;

uint64_t rng_next(void) {
  if (rng_state == 0) {
    if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state || rng_state == 0)
      rng_state = now_ns() | 1;
  }
  /* xorshift64*: plenty for masking keys and payload bytes; nothing here needs crypto strength. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

void rng_fill(uint8_t *p, size_t n) {
  while (n >= 8) {
    uint64_t v = rng_next();
    memcpy(p, &v, 8);
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t v = rng_next();
    memcpy(p, &v, n);
  }
}

void raise_nofile(long want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if ((long)rl.rlim_cur >= want) return;
  rl.rlim_cur = (rlim_t)want;
  if ((long)rl.rlim_max < want) rl.rlim_max = (rlim_t)want; /* needs root; ignored on failure */
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* ---- histogram ---- */

static int hist_index(uint64_t v) {
  if (v < HIST_SUB) return (int)v;
  int msb = 63 - __builtin_clzll(v); /* >= 5 */
  int shift = msb - 5;
  int sub = (int)((v >> shift) - HIST_SUB);
  return (msb - 4) * HIST_SUB + sub;
}

static uint64_t hist_mid(int idx) {
  if (idx < HIST_SUB) return (uint64_t)idx;
  int msb = idx / HIST_SUB + 4;
  int sub = idx % HIST_SUB;
  int shift = msb - 5;
  uint64_t lo = (uint64_t)(HIST_SUB + sub) << shift;
  return lo + ((1ull << shift) >> 1);
}

void hist_add(hist_t *h, uint64_t v) {
  h->count[hist_index(v)]++;
  h->n++;
  if (v > h->max) h->max = v;
}

uint64_t hist_pct(const hist_t *h, double p) {
  if (h->n == 0) return 0;
  uint64_t target = (uint64_t)(p * (double)h->n);
  if (target < 1) target = 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += h->count[i];
    if (seen >= target) return hist_mid(i);
  }
  return h->max;
}

/* ---- SHA-1 (FIPS 180-1), only for Sec-WebSocket-Accept ---- */

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1_block(uint32_t h[5], const uint8_t *b) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 |
           b[4 * i + 3];
  for (int i = 16; i < 80; i++) w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) f = (bb & c) | (~bb & d), k = 0x5A827999;
    else if (i < 40) f = bb ^ c ^ d, k = 0x6ED9EBA1;
    else if (i < 60) f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
    else f = bb ^ c ^ d, k = 0xCA62C1D6;
    uint32_t t = ROL(a, 5) + f + e + k + w[i];
    e = d, d = c, c = ROL(bb, 30), bb = a, a = t;
  }
  h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

void sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t i = 0;
  for (; i + 64 <= len; i += 64) sha1_block(h, data + i);
  uint8_t tail[128] = {0};
  size_t rest = len - i;
  memcpy(tail, data + i, rest);
  tail[rest] = 0x80;
  size_t tlen = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int k = 0; k < 8; k++) tail[tlen - 1 - k] = (uint8_t)(bits >> (8 * k));
  sha1_block(h, tail);
  if (tlen == 128) sha1_block(h, tail + 64);
  for (int k = 0; k < 5; k++) {
    out[4 * k] = (uint8_t)(h[k] >> 24);
    out[4 * k + 1] = (uint8_t)(h[k] >> 16);
    out[4 * k + 2] = (uint8_t)(h[k] >> 8);
    out[4 * k + 3] = (uint8_t)h[k];
  }
}

size_t base64(const uint8_t *in, size_t len, char *out) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < len) v |= in[i + 2];
    out[o++] = tbl[(v >> 18) & 63];
    out[o++] = tbl[(v >> 12) & 63];
    out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? tbl[v & 63] : '=';
  }
  out[o] = 0;
  return o;
}

void ws_accept_for(const char *key, char out[29]) {
  char buf[128];
  int n = snprintf(buf, sizeof buf, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  uint8_t digest[20];
  sha1((const uint8_t *)buf, (size_t)n, digest);
  base64(digest, 20, out);
}

int http_header(const char *head, const char *name, char *out, size_t outlen) {
  size_t nl = strlen(name);
  const char *p = strstr(head, "\r\n");
  while (p && p[2] != '\r') {
    p += 2;
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (*v == ' ' || *v == '\t') v++;
      const char *e = strstr(v, "\r\n");
      if (!e) return 0;
      while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
      size_t n = (size_t)(e - v);
      if (n >= outlen) n = outlen - 1;
      memcpy(out, v, n);
      out[n] = 0;
      return 1;
    }
    p = strstr(p, "\r\n");
  }
  return 0;
}

/* ---- framing ---- */

void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t phase) {
  /* Rotate the key to the phase once, then XOR 8 bytes at a time: the server mode unmasks every
   * byte it echoes, and a byte loop would make it the slowest part of this program. */
  uint8_t k[8];
  for (int i = 0; i < 8; i++) k[i] = key[(phase + (size_t)i) & 3];
  uint64_t k64;
  memcpy(&k64, k, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    v ^= k64;
    memcpy(p + i, &v, 8);
  }
  for (; i < n; i++) p[i] ^= k[i & 7];
}

size_t ws_frame(uint8_t *out, int fin, int rsv1, int opcode, const uint8_t *payload, size_t len,
                const uint8_t *key) {
  size_t h = 0;
  out[h++] = (uint8_t)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
  uint8_t mbit = key ? 0x80 : 0;
  if (len < 126) {
    out[h++] = (uint8_t)(mbit | len);
  } else if (len < 65536) {
    out[h++] = mbit | 126;
    out[h++] = (uint8_t)(len >> 8);
    out[h++] = (uint8_t)len;
  } else {
    out[h++] = mbit | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  if (key) {
    memcpy(out + h, key, 4);
    h += 4;
  }
  if (!payload) return h; /* header only: the caller streams the payload after it */
  if (len) memcpy(out + h, payload, len);
  if (key) ws_mask(out + h, len, key, 0);
  return h + len;
}

void frame_rx_init(frame_rx *r) {
  memset(r, 0, sizeof *r);
  r->need = 2;
}

long frame_rx_header(frame_rx *r, const uint8_t *p, size_t n) {
  size_t used = 0;
  while (used < n && r->have < r->need) {
    r->hdr[r->have++] = p[used++];
    if (r->have == 2) {
      int l7 = r->hdr[1] & 0x7f;
      r->need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((r->hdr[1] & 0x80) ? 4 : 0);
    }
  }
  if (r->have < r->need) return (long)used;
  uint8_t b0 = r->hdr[0], b1 = r->hdr[1];
  r->fin = b0 >> 7;
  r->rsv1 = (b0 >> 6) & 1;
  r->opcode = b0 & 15;
  r->masked = b1 >> 7;
  int l7 = b1 & 0x7f, off = 2;
  uint64_t len = (uint64_t)l7;
  if (l7 == 126) {
    len = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
    off = 4;
  } else if (l7 == 127) {
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | r->hdr[2 + i];
    off = 10;
    if (len >> 63) return -1;
  }
  if (r->masked) memcpy(r->key, r->hdr + off, 4);
  if ((b0 & 0x30) != 0) return -1;                              /* RSV2/RSV3 */
  if ((r->opcode > 2 && r->opcode < 8) || r->opcode > 10) return -1; /* reserved opcodes */
  if (r->opcode >= 8 && (len > 125 || !r->fin)) return -1;       /* control frame rules */
  r->len = r->remain = len;
  r->pos = 0;
  r->in_payload = 1;
  return (long)used;
}

void emit_event(const char *name) {
  printf("{\"event\":\"%s\"}\n", name);
  fflush(stdout);
}
