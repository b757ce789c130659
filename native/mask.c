/*
 * WebSocket masking kernels: dst[i] = src[i] ^ key[i & 3].
 *
 * The mask repeats every 4 bytes, so any block whose size is a multiple of 4 can be XORed with the
 * key replicated across a word or vector register. Each kernel: (1) for large inputs, a byte-wise
 * head until dst is aligned to the vector width, (2) an unrolled vector loop, (3) narrower steps,
 * (4) a byte-wise tail. Indices stay absolute, so the tail uses key[i & 3] directly and the vector
 * key is built from the key rotated by the head length.
 */
#include <string.h>

#include "weft.h"

#if defined(_MSC_VER) && !defined(__clang__)
#define WEFT_TARGET(x)
#else
#define WEFT_TARGET(x) __attribute__((target(x)))
#endif

/* Inputs shorter than this skip the alignment head: a few unaligned stores cost less than the head loop. */
#define WEFT_ALIGN_MIN 128

/* Bytes to process one at a time so that dst + result is aligned to `align` (a power of two). */
static inline size_t head_len(const uint8_t *dst, size_t len, size_t align) {
  size_t h;
  if (len < WEFT_ALIGN_MIN) return 0;
  h = (size_t)(-(uintptr_t)dst) & (align - 1);
  return h;
}

/* The 4 key bytes as they apply from absolute index `start` on, as one native-endian 32-bit word. */
static inline uint32_t key_word_from(const uint8_t *key, size_t start) {
  uint8_t rk[4];
  uint32_t w;
  rk[0] = key[start & 3];
  rk[1] = key[(start + 1) & 3];
  rk[2] = key[(start + 2) & 3];
  rk[3] = key[(start + 3) & 3];
  /* memcpy keeps the byte order of memory whatever the host endianness, and compiles to one load. */
  memcpy(&w, rk, 4);
  return w;
}

/* 8 bytes at a time from index i (which must be a multiple of 4 past the key phase of k64), then bytes. */
static inline void mask_words_and_tail(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t i,
                                       size_t len) {
  /* Both halves of the 64-bit word are the same 32-bit key word, so its memory image is the key
     twice on either endianness. */
  uint32_t k32 = key_word_from(key, i);
  uint64_t k64 = ((uint64_t)k32 << 32) | k32;
  uint64_t w;
  for (; i + 8 <= len; i += 8) {
    /* memcpy = one unaligned load/store on targets that allow it, safe byte access elsewhere. */
    memcpy(&w, src + i, 8);
    w ^= k64;
    memcpy(dst + i, &w, 8);
  }
  for (; i < len; i++) dst[i] = (uint8_t)(src[i] ^ key[i & 3]);
}

/** Portable kernel: 64-bit words, 4 words per iteration. */
void weft_mask_scalar(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len) {
  size_t i = 0;
  size_t h = head_len(dst, len, 8);
  uint32_t k32;
  uint64_t k64, a, b, c, d;
  for (; i < h; i++) dst[i] = (uint8_t)(src[i] ^ key[i & 3]);
  k32 = key_word_from(key, i);
  k64 = ((uint64_t)k32 << 32) | k32;
  /* Four independent words per iteration keep several loads in flight. */
  for (; i + 32 <= len; i += 32) {
    memcpy(&a, src + i, 8);
    memcpy(&b, src + i + 8, 8);
    memcpy(&c, src + i + 16, 8);
    memcpy(&d, src + i + 24, 8);
    a ^= k64;
    b ^= k64;
    c ^= k64;
    d ^= k64;
    memcpy(dst + i, &a, 8);
    memcpy(dst + i + 8, &b, 8);
    memcpy(dst + i + 16, &c, 8);
    memcpy(dst + i + 24, &d, 8);
  }
  mask_words_and_tail(src, key, dst, i, len);
}

#ifdef WEFT_X86
#include <immintrin.h>

/** SSE2 kernel (x86-64 baseline): 16-byte vectors, 64 bytes per iteration. */
WEFT_TARGET("sse2")
void weft_mask_sse2(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len) {
  size_t i = 0;
  size_t h = head_len(dst, len, 16);
  __m128i k, a, b, c, d;
  for (; i < h; i++) dst[i] = (uint8_t)(src[i] ^ key[i & 3]);
  k = _mm_set1_epi32((int)key_word_from(key, i));
  /* Loads are unaligned (src may be misaligned relative to dst); stores hit aligned dst when large. */
  for (; i + 64 <= len; i += 64) {
    a = _mm_loadu_si128((const __m128i *)(src + i));
    b = _mm_loadu_si128((const __m128i *)(src + i + 16));
    c = _mm_loadu_si128((const __m128i *)(src + i + 32));
    d = _mm_loadu_si128((const __m128i *)(src + i + 48));
    _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
    _mm_storeu_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, k));
    _mm_storeu_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, k));
    _mm_storeu_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, k));
  }
  for (; i + 16 <= len; i += 16) {
    a = _mm_loadu_si128((const __m128i *)(src + i));
    _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
  }
  mask_words_and_tail(src, key, dst, i, len);
}

/** AVX2 kernel, chosen at run time: 32-byte vectors, 128 bytes per iteration. */
WEFT_TARGET("avx2")
void weft_mask_avx2(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len) {
  size_t i = 0;
  /* Aligning dst to 32 keeps every store within one cache line. */
  size_t h = head_len(dst, len, 32);
  __m256i k, a, b, c, d;
  for (; i < h; i++) dst[i] = (uint8_t)(src[i] ^ key[i & 3]);
  k = _mm256_set1_epi32((int)key_word_from(key, i));
  for (; i + 128 <= len; i += 128) {
    a = _mm256_loadu_si256((const __m256i *)(src + i));
    b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
    c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
    d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
    _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, k));
    _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, k));
    _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, k));
  }
  for (; i + 32 <= len; i += 32) {
    a = _mm256_loadu_si256((const __m256i *)(src + i));
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
  }
  /* The 16-byte step reuses the low half of the key vector (the key period divides 16). */
  if (i + 16 <= len) {
    __m128i x = _mm_loadu_si128((const __m128i *)(src + i));
    _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(x, _mm256_castsi256_si128(k)));
    i += 16;
  }
  mask_words_and_tail(src, key, dst, i, len);
  /* Clear the upper YMM halves so later SSE code in Node does not pay the transition penalty. */
  _mm256_zeroupper();
}
#endif /* WEFT_X86 */

#ifdef WEFT_NEON
#include <arm_neon.h>

/** NEON kernel (AArch64): 16-byte vectors, 64 bytes per iteration. */
void weft_mask_neon(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len) {
  size_t i = 0;
  size_t h = head_len(dst, len, 16);
  uint8x16_t k, a, b, c, d;
  for (; i < h; i++) dst[i] = (uint8_t)(src[i] ^ key[i & 3]);
  k = vreinterpretq_u8_u32(vdupq_n_u32(key_word_from(key, i)));
  for (; i + 64 <= len; i += 64) {
    a = vld1q_u8(src + i);
    b = vld1q_u8(src + i + 16);
    c = vld1q_u8(src + i + 32);
    d = vld1q_u8(src + i + 48);
    vst1q_u8(dst + i, veorq_u8(a, k));
    vst1q_u8(dst + i + 16, veorq_u8(b, k));
    vst1q_u8(dst + i + 32, veorq_u8(c, k));
    vst1q_u8(dst + i + 48, veorq_u8(d, k));
  }
  for (; i + 16 <= len; i += 16) vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), k));
  mask_words_and_tail(src, key, dst, i, len);
}
#endif /* WEFT_NEON */
