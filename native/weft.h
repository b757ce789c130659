/*
 * weft native helpers: shared declarations.
 *
 * Every kernel exists in several flavours (portable scalar, SSE2, AVX2, NEON). binding.c picks one
 * set at load time from what the CPU supports (cpu.c) and calls it through the function pointers in
 * `weft_kernels`, so the hot call costs one indirect jump and no feature test.
 */
#ifndef WEFT_H
#define WEFT_H

#include <stddef.h>
#include <stdint.h>

/* Which instruction-set flavour a kernel set uses; also the order of preference (higher = faster). */
typedef enum {
  WEFT_SIMD_SCALAR = 0,
  WEFT_SIMD_SSE2 = 1,
  WEFT_SIMD_NEON = 2,
  WEFT_SIMD_AVX2 = 3
} weft_simd_level;

/* dst[i] = src[i] ^ key[i & 3] for i < len. src may equal dst (in-place unmask); no other overlap. */
typedef void (*weft_mask_fn)(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len);

/* Returns 1 if s[0..len) is well-formed UTF-8 per RFC 3629 (no overlongs, no surrogates, <= U+10FFFF). */
typedef int (*weft_utf8_fn)(const uint8_t *s, size_t len);

/* mask.c */
void weft_mask_scalar(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len);
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define WEFT_X86 1
void weft_mask_sse2(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len);
void weft_mask_avx2(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len);
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define WEFT_NEON 1
void weft_mask_neon(const uint8_t *src, const uint8_t *key, uint8_t *dst, size_t len);
#endif

/* utf8.c */
int weft_utf8_scalar(const uint8_t *s, size_t len);
#ifdef WEFT_X86
int weft_utf8_sse2(const uint8_t *s, size_t len);
int weft_utf8_avx2(const uint8_t *s, size_t len);
#endif
#ifdef WEFT_NEON
int weft_utf8_neon(const uint8_t *s, size_t len);
#endif

/* cpu.c: the best level this CPU (and OS) can run. */
weft_simd_level weft_cpu_best_level(void);

/* Scalar helper shared by the SIMD kernels: validates s[0..len) starting from a character boundary. */
int weft_utf8_scalar_from(const uint8_t *s, size_t len, size_t i);

#endif /* WEFT_H */
