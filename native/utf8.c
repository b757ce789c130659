/*
 * Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF, no truncated sequences.
 *
 * Well-formed sequences (RFC 3629 section 4 / Unicode table 3-7):
 *   00..7F
 *   C2..DF 80..BF
 *   E0 A0..BF 80..BF | E1..EC 80..BF 80..BF | ED 80..9F 80..BF | EE..EF 80..BF 80..BF
 *   F0 90..BF 80..BF 80..BF | F1..F3 80..BF 80..BF 80..BF | F4 80..8F 80..BF 80..BF
 *
 * Scalar and SSE2 kernels: skip ASCII a word/vector at a time, decode the rest one character at a
 * time. AVX2 and NEON kernels: the nibble-lookup method (three 16-entry tables indexed by the
 * previous byte's high and low nibble and the current byte's high nibble; their AND is non-zero
 * exactly where a 2-byte pattern is illegal), plus a check that 3rd/4th bytes sit where expected.
 * That method is John Keiser and Daniel Lemire's, "Validating UTF-8 In Less Than One Instruction Per
 * Byte" (Software: Practice and Experience, 2021), as simdjson and simdutf use it; the kernels here are
 * written for this addon from the paper's description.
 */
#include <string.h>

#include "weft.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define WEFT_TARGET(x)
#else
#define WEFT_TARGET(x) __attribute__((target(x)))
#endif

/* High bit of every byte: a word is all ASCII when word & ASCII_MASK == 0. */
#define ASCII_MASK UINT64_C(0x8080808080808080)

/*
 * Decodes the non-ASCII character at s[*pi] (the caller knows s[*pi] >= 0x80) and advances *pi.
 * Returns 0 if it is not well formed or is cut off by the end of the input.
 */
static inline int step_multibyte(const uint8_t *s, size_t len, size_t *pi) {
  size_t i = *pi;
  uint8_t c = s[i], b1, lo, hi;
  if (c < 0xC2) return 0; /* a continuation byte, or C0/C1 (always overlong) */
  if (c < 0xE0) {
    if (len - i < 2 || (s[i + 1] & 0xC0) != 0x80) return 0;
    *pi = i + 2;
    return 1;
  }
  if (c < 0xF0) {
    if (len - i < 3) return 0;
    b1 = s[i + 1];
    lo = c == 0xE0 ? 0xA0 : 0x80; /* E0 80..9F would be overlong */
    hi = c == 0xED ? 0x9F : 0xBF; /* ED A0..BF would be a surrogate */
    if (b1 < lo || b1 > hi || (s[i + 2] & 0xC0) != 0x80) return 0;
    *pi = i + 3;
    return 1;
  }
  if (c < 0xF5) {
    if (len - i < 4) return 0;
    b1 = s[i + 1];
    lo = c == 0xF0 ? 0x90 : 0x80; /* F0 80..8F would be overlong */
    hi = c == 0xF4 ? 0x8F : 0xBF; /* F4 90..BF would be above U+10FFFF */
    if (b1 < lo || b1 > hi || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80) return 0;
    *pi = i + 4;
    return 1;
  }
  return 0; /* F5..FF never appear in UTF-8 */
}

/** Validates s[i..len), where i is a character boundary. */
int weft_utf8_scalar_from(const uint8_t *s, size_t len, size_t i) {
  uint64_t a, b;
  while (i < len) {
    if (s[i] < 0x80) {
      i++;
      /* Two 64-bit words per step: ASCII runs cost a load, an OR and a test per 16 bytes. */
      while (len - i >= 16) {
        memcpy(&a, s + i, 8);
        memcpy(&b, s + i + 8, 8);
        if ((a | b) & ASCII_MASK) break;
        i += 16;
      }
      continue;
    }
    if (!step_multibyte(s, len, &i)) return 0;
  }
  return 1;
}

/** Portable kernel. */
int weft_utf8_scalar(const uint8_t *s, size_t len) { return weft_utf8_scalar_from(s, len, 0); }

/* --- nibble-lookup tables (shared by AVX2 and NEON) ------------------------------------------------ */
#if defined(WEFT_X86) || defined(WEFT_NEON)

/* Error classes of a (previous byte, current byte) pair; a pair is illegal if all three lookups agree. */
#define TOO_SHORT 0x01      /* lead byte, then a non-continuation */
#define TOO_LONG 0x02       /* ASCII, then a continuation */
#define OVERLONG_3 0x04     /* E0 80..9F */
#define TOO_LARGE 0x08      /* F4 90..BF, F5..FF 90..BF */
#define SURROGATE 0x10      /* ED A0..BF */
#define OVERLONG_2 0x20     /* C0/C1, then a continuation */
#define TOO_LARGE_1000 0x40 /* F5..FF 80..8F */
#define OVERLONG_4 0x40     /* F0 80..8F (shares the bit: both are F_ lead with the 8_ nibble) */
#define TWO_CONTS 0x80      /* continuation, then continuation (legal only inside 3/4-byte forms) */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

/* Indexed by the high nibble of the previous byte. */
static const uint8_t k_prev_high[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
    TOO_SHORT | OVERLONG_2,
    TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};

/* Indexed by the low nibble of the previous byte. */
static const uint8_t k_prev_low[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, /* C0, E0, F0 */
    CARRY | OVERLONG_2,                           /* C1 */
    CARRY, CARRY,
    CARRY | TOO_LARGE, /* F4 */
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, /* ED */
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000};

/* Indexed by the high nibble of the current byte. */
static const uint8_t k_cur_high[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4, /* 80..8F */
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,                  /* 90..9F */
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                   /* A0..AF */
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                   /* B0..BF */
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT};

/* A block whose last bytes exceed these ends inside a sequence (lead in the last 1, 2 or 3 bytes). */
static const uint8_t k_incomplete_max[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xEF, 0xDF, 0xBF};
#endif

#ifdef WEFT_X86
#include <immintrin.h>

/** SSE2 kernel: ASCII skipped 64/16 bytes at a time, other characters decoded one by one. */
WEFT_TARGET("sse2")
int weft_utf8_sse2(const uint8_t *s, size_t len) {
  size_t i = 0, stop;
  __m128i a, b, c, d;
  while (i < len) {
    /* OR four vectors so one movemask covers 64 bytes of ASCII. */
    while (len - i >= 64) {
      a = _mm_loadu_si128((const __m128i *)(s + i));
      b = _mm_loadu_si128((const __m128i *)(s + i + 16));
      c = _mm_loadu_si128((const __m128i *)(s + i + 32));
      d = _mm_loadu_si128((const __m128i *)(s + i + 48));
      if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) break;
      i += 64;
    }
    while (len - i >= 16 && _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s + i))) == 0) i += 16;
    if (len - i < 16) return weft_utf8_scalar_from(s, len, i);
    /* Some byte in the next 16 is non-ASCII: decode up to there (a character may run past it). */
    stop = i + 16;
    while (i < stop) {
      if (s[i] < 0x80) {
        i++;
      } else if (!step_multibyte(s, len, &i)) {
        return 0;
      }
    }
  }
  return 1;
}

/* Error bits for one 32-byte block `in`, given the block before it (only its last 3 bytes matter). */
WEFT_TARGET("avx2")
static inline __m256i avx2_check(__m256i in, __m256i prev_in, __m256i t_prev_high, __m256i t_prev_low,
                                 __m256i t_cur_high) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  /* alignr works within 128-bit lanes, so first build [prev.high lane, in.low lane]. */
  __m256i joined = _mm256_permute2x128_si256(prev_in, in, 0x21);
  __m256i prev1 = _mm256_alignr_epi8(in, joined, 15);
  __m256i prev2 = _mm256_alignr_epi8(in, joined, 14);
  __m256i prev3 = _mm256_alignr_epi8(in, joined, 13);
  /* There is no 8-bit shift: a 16-bit shift then the nibble mask gives each byte's high nibble. */
  __m256i special = _mm256_and_si256(
      _mm256_and_si256(_mm256_shuffle_epi8(t_prev_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble)),
                       _mm256_shuffle_epi8(t_prev_low, _mm256_and_si256(prev1, nibble))),
      _mm256_shuffle_epi8(t_cur_high, _mm256_and_si256(_mm256_srli_epi16(in, 4), nibble)));
  /* Saturating subtraction leaves bit 7 set exactly where prev2 >= E0 or prev3 >= F0: there, two
     continuations in a row are required, elsewhere they are an error. */
  __m256i must23 = _mm256_or_si256(_mm256_subs_epu8(prev2, _mm256_set1_epi8(0x60)),
                                   _mm256_subs_epu8(prev3, _mm256_set1_epi8(0x70)));
  __m256i must23_80 = _mm256_and_si256(must23, _mm256_set1_epi8((char)0x80));
  return _mm256_xor_si256(special, must23_80);
}

/** AVX2 kernel, chosen at run time: nibble lookup on 32-byte blocks, 64 bytes per iteration. */
WEFT_TARGET("avx2")
int weft_utf8_avx2(const uint8_t *s, size_t len) {
  size_t i = 0;
  __m256i t_prev_high, t_prev_low, t_cur_high, max_incomplete, prev, err, incomplete, a, b;
  uint8_t tail[32];
  int ok;
  /* Below one block the table setup costs more than the scalar loop. */
  if (len < 32) return weft_utf8_scalar_from(s, len, 0);
  t_prev_high = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)k_prev_high));
  t_prev_low = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)k_prev_low));
  t_cur_high = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)k_cur_high));
  max_incomplete = _mm256_loadu_si256((const __m256i *)k_incomplete_max);
  prev = _mm256_setzero_si256();
  err = _mm256_setzero_si256();
  incomplete = _mm256_setzero_si256();
  while (len - i >= 64) {
    a = _mm256_loadu_si256((const __m256i *)(s + i));
    b = _mm256_loadu_si256((const __m256i *)(s + i + 32));
    if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
      /* All ASCII: the only possible error is a sequence left open by the previous block. */
      err = _mm256_or_si256(err, incomplete);
      incomplete = _mm256_setzero_si256();
    } else {
      err = _mm256_or_si256(err, _mm256_or_si256(avx2_check(a, prev, t_prev_high, t_prev_low, t_cur_high),
                                                 avx2_check(b, a, t_prev_high, t_prev_low, t_cur_high)));
      incomplete = _mm256_subs_epu8(b, max_incomplete);
    }
    prev = b;
    i += 64;
  }
  if (len - i >= 32) {
    a = _mm256_loadu_si256((const __m256i *)(s + i));
    err = _mm256_or_si256(err, avx2_check(a, prev, t_prev_high, t_prev_low, t_cur_high));
    prev = a;
    i += 32;
  }
  /* The last 0..31 bytes go through one zero-padded block; the zeros after them also expose any
     sequence still open at the end of the input (a lead followed by 00 is TOO_SHORT). */
  memset(tail, 0, sizeof tail);
  memcpy(tail, s + i, len - i);
  a = _mm256_loadu_si256((const __m256i *)tail);
  err = _mm256_or_si256(err, avx2_check(a, prev, t_prev_high, t_prev_low, t_cur_high));
  ok = _mm256_testz_si256(err, err);
  /* Clear the upper YMM halves so later SSE code in Node does not pay the transition penalty. */
  _mm256_zeroupper();
  return ok;
}
#endif /* WEFT_X86 */

#ifdef WEFT_NEON
#include <arm_neon.h>

/* Error bits for one 16-byte block `in`, given the block before it. */
static inline uint8x16_t neon_check(uint8x16_t in, uint8x16_t prev_in, uint8x16_t t_prev_high,
                                    uint8x16_t t_prev_low, uint8x16_t t_cur_high) {
  uint8x16_t prev1 = vextq_u8(prev_in, in, 15);
  uint8x16_t prev2 = vextq_u8(prev_in, in, 14);
  uint8x16_t prev3 = vextq_u8(prev_in, in, 13);
  uint8x16_t special = vandq_u8(vandq_u8(vqtbl1q_u8(t_prev_high, vshrq_n_u8(prev1, 4)),
                                         vqtbl1q_u8(t_prev_low, vandq_u8(prev1, vdupq_n_u8(0x0F)))),
                                vqtbl1q_u8(t_cur_high, vshrq_n_u8(in, 4)));
  /* Bit 7 set where prev2 >= E0 or prev3 >= F0 (see avx2_check). */
  uint8x16_t must23 = vorrq_u8(vqsubq_u8(prev2, vdupq_n_u8(0x60)), vqsubq_u8(prev3, vdupq_n_u8(0x70)));
  return veorq_u8(special, vandq_u8(must23, vdupq_n_u8(0x80)));
}

/** NEON kernel (AArch64): nibble lookup on 16-byte blocks, 64 bytes per iteration. */
int weft_utf8_neon(const uint8_t *s, size_t len) {
  size_t i = 0;
  uint8x16_t t_prev_high, t_prev_low, t_cur_high, max_incomplete, prev, err, incomplete, a, b, c, d;
  uint8_t tail[16];
  if (len < 16) return weft_utf8_scalar_from(s, len, 0);
  t_prev_high = vld1q_u8(k_prev_high);
  t_prev_low = vld1q_u8(k_prev_low);
  t_cur_high = vld1q_u8(k_cur_high);
  max_incomplete = vld1q_u8(k_incomplete_max + 16);
  prev = vdupq_n_u8(0);
  err = vdupq_n_u8(0);
  incomplete = vdupq_n_u8(0);
  while (len - i >= 64) {
    a = vld1q_u8(s + i);
    b = vld1q_u8(s + i + 16);
    c = vld1q_u8(s + i + 32);
    d = vld1q_u8(s + i + 48);
    /* One horizontal max over the OR of four vectors tells whether 64 bytes are ASCII. */
    if (vmaxvq_u8(vorrq_u8(vorrq_u8(a, b), vorrq_u8(c, d))) < 0x80) {
      err = vorrq_u8(err, incomplete);
      incomplete = vdupq_n_u8(0);
    } else {
      err = vorrq_u8(err, vorrq_u8(vorrq_u8(neon_check(a, prev, t_prev_high, t_prev_low, t_cur_high),
                                            neon_check(b, a, t_prev_high, t_prev_low, t_cur_high)),
                                   vorrq_u8(neon_check(c, b, t_prev_high, t_prev_low, t_cur_high),
                                            neon_check(d, c, t_prev_high, t_prev_low, t_cur_high))));
      incomplete = vqsubq_u8(d, max_incomplete);
    }
    prev = d;
    i += 64;
  }
  while (len - i >= 16) {
    a = vld1q_u8(s + i);
    err = vorrq_u8(err, neon_check(a, prev, t_prev_high, t_prev_low, t_cur_high));
    prev = a;
    i += 16;
  }
  /* Zero-padded last block, as in the AVX2 kernel. */
  memset(tail, 0, sizeof tail);
  memcpy(tail, s + i, len - i);
  err = vorrq_u8(err, neon_check(vld1q_u8(tail), prev, t_prev_high, t_prev_low, t_cur_high));
  return vmaxvq_u8(err) == 0;
}
#endif /* WEFT_NEON */
