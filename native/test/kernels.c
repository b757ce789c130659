/*
 * Standalone check of every kernel this build/CPU has against byte-at-a-time references, without
 * Node: lets the NEON kernels be tested on x86 under qemu, and any kernel under sanitizers.
 *
 *   cc -O2 -Inative native/test/kernels.c native/mask.c native/utf8.c native/cpu.c -o /tmp/k && /tmp/k
 *   aarch64-linux-gnu-gcc -O2 -static -Inative native/test/kernels.c native/mask.c native/utf8.c \
 *     native/cpu.c -o /tmp/k-arm64 && qemu-aarch64 /tmp/k-arm64
 *   cc -O1 -g -fsanitize=address,undefined -Inative native/test/... (same sources)
 *
 * Prints one line per kernel and exits non-zero on the first mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

typedef struct {
  const char *name;
  weft_simd_level level;
  weft_mask_fn mask;
  weft_utf8_fn utf8;
} kernel_set;

static const kernel_set k_sets[] = {
    {"scalar", WEFT_SIMD_SCALAR, weft_mask_scalar, weft_utf8_scalar},
#ifdef WEFT_X86
    {"sse2", WEFT_SIMD_SSE2, weft_mask_sse2, weft_utf8_sse2},
    {"avx2", WEFT_SIMD_AVX2, weft_mask_avx2, weft_utf8_avx2},
#endif
#ifdef WEFT_NEON
    {"neon", WEFT_SIMD_NEON, weft_mask_neon, weft_utf8_neon},
#endif
};

/* xorshift32: deterministic inputs. */
static uint32_t g_seed = 0x9e3779b9u;
static uint32_t rnd(void) {
  g_seed ^= g_seed << 13;
  g_seed ^= g_seed >> 17;
  g_seed ^= g_seed << 5;
  return g_seed;
}

/* WHATWG-style decoder: 1 if s[0..n) is valid UTF-8. Written independently of utf8.c. */
static int ref_utf8(const uint8_t *s, size_t n) {
  size_t i;
  int needed = 0;
  uint8_t lower = 0x80, upper = 0xBF;
  for (i = 0; i < n; i++) {
    uint8_t b = s[i];
    if (needed == 0) {
      if (b <= 0x7F) continue;
      if (b >= 0xC2 && b <= 0xDF) needed = 1;
      else if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) lower = 0xA0;
        if (b == 0xED) upper = 0x9F;
        needed = 2;
      } else if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) lower = 0x90;
        if (b == 0xF4) upper = 0x8F;
        needed = 3;
      } else return 0;
      continue;
    }
    if (b < lower || b > upper) return 0;
    lower = 0x80;
    upper = 0xBF;
    needed--;
  }
  return needed == 0;
}

static size_t put_cp(uint8_t *p, uint32_t cp) {
  if (cp < 0x80) { p[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { p[0] = (uint8_t)(0xC0 | (cp >> 6)); p[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    p[0] = (uint8_t)(0xE0 | (cp >> 12)); p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); p[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  p[0] = (uint8_t)(0xF0 | (cp >> 18)); p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); p[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* Mostly-valid text of about n bytes (ASCII-heavy, some 2/3/4-byte characters). */
static size_t gen_text(uint8_t *p, size_t n) {
  size_t len = 0;
  while (len + 4 <= n) {
    uint32_t r = rnd() % 100, cp;
    if (r < 60) cp = 0x20 + rnd() % 0x5F;
    else if (r < 75) cp = 0x80 + rnd() % 0x780;
    else if (r < 90) { cp = 0x800 + rnd() % 0xF800; if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; }
    else cp = 0x10000 + rnd() % 0x100000;
    len += put_cp(p + len, cp);
  }
  return len;
}

#define BUF 70000
static uint8_t g_src[BUF + 64], g_dst[BUF + 64], g_ref[BUF + 64];

static int check_mask(const kernel_set *k) {
  int iter;
  for (iter = 0; iter < 20000; iter++) {
    size_t len = iter < 600 ? (size_t)iter % 300 : (iter % 50 == 0 ? rnd() % BUF : rnd() % 2000);
    size_t so = rnd() % 16, doff = rnd() % 16, i;
    uint8_t key[4];
    for (i = 0; i < 4; i++) key[i] = (uint8_t)rnd();
    for (i = 0; i < len; i++) g_src[so + i] = (uint8_t)rnd();
    memset(g_dst, 0xA5, sizeof g_dst);
    memset(g_ref, 0xA5, sizeof g_ref);
    for (i = 0; i < len; i++) g_ref[doff + i] = g_src[so + i] ^ key[i & 3];
    k->mask(g_src + so, key, g_dst + doff, len);
    if (memcmp(g_dst, g_ref, sizeof g_dst) != 0) {
      printf("%s mask: mismatch, len %zu src+%zu dst+%zu\n", k->name, len, so, doff);
      return 0;
    }
    /* in place */
    memcpy(g_dst + so, g_src + so, len);
    k->mask(g_dst + so, key, g_dst + so, len);
    for (i = 0; i < len; i++) {
      if (g_dst[so + i] != (uint8_t)(g_src[so + i] ^ key[i & 3])) {
        printf("%s unmask: mismatch at %zu, len %zu\n", k->name, i, len);
        return 0;
      }
    }
  }
  return 1;
}

static int check_utf8(const kernel_set *k) {
  static const uint8_t probes[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
  /* Positions where the sequence straddles the end of a 16- or 32-byte block. */
  static const size_t positions[] = {0, 13, 14, 15, 29, 30, 31, 33};
  uint8_t buf[40];
  size_t pos, pi, n, p;
  int iter, a, b;
  /* Every first/second byte pair with probe third (and fourth) bytes. */
  for (p = 0; p < sizeof positions / sizeof positions[0]; p++) {
    pos = positions[p];
    memset(buf, 'x', sizeof buf);
    for (a = 0; a < 256; a++) {
      for (b = 0; b < 256; b++) {
        for (pi = 0; pi < sizeof probes; pi++) {
          buf[pos] = (uint8_t)a;
          buf[pos + 1] = (uint8_t)b;
          buf[pos + 2] = probes[pi];
          buf[pos + 3] = (pi & 1) ? 0x80 : 'x';
          for (n = pos + 2; n <= pos + 4; n++) {
            if (k->utf8(buf, n) != ref_utf8(buf, n)) {
              printf("%s utf8: mismatch on %02x %02x %02x at %zu, n %zu\n", k->name, a, b, probes[pi], pos, n);
              return 0;
            }
          }
        }
      }
    }
  }
  /* Random text, damaged or not, at random alignments. */
  for (iter = 0; iter < 4000; iter++) {
    size_t off = rnd() % 16, len = gen_text(g_src + off, iter % 40 == 0 ? rnd() % BUF : rnd() % 600);
    int want, got;
    if (iter & 1) {
      int d, nd = 1 + (int)(rnd() % 3);
      for (d = 0; d < nd && len; d++) g_src[off + rnd() % len] = (uint8_t)rnd();
    }
    if (iter % 7 == 0 && len) len -= rnd() % (len < 4 ? len : 4); /* maybe cut a character */
    want = ref_utf8(g_src + off, len);
    got = k->utf8(g_src + off, len);
    if (got != want) {
      printf("%s utf8: random mismatch, iter %d len %zu (want %d)\n", k->name, iter, len, want);
      return 0;
    }
  }
  return 1;
}

int main(void) {
  size_t i;
  weft_simd_level best = weft_cpu_best_level();
  for (i = 0; i < sizeof k_sets / sizeof k_sets[0]; i++) {
    const kernel_set *k = &k_sets[i];
    if (k->level > best) {
      printf("%-6s skipped (CPU lacks it)\n", k->name);
      continue;
    }
    if (!check_mask(k) || !check_utf8(k)) return 1;
    printf("%-6s ok\n", k->name);
  }
  return 0;
}
