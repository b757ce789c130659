/*
 * Runtime CPU feature detection: which kernel set binding.c may use.
 *
 * AVX2 needs both the CPU flag and OS support for saving YMM registers (XCR0); GCC/Clang's
 * __builtin_cpu_supports checks both, MSVC gets the same test by hand.
 */
#include "weft.h"

#if defined(_MSC_VER) && !defined(__clang__) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#include <immintrin.h>

static int msvc_has_avx2(void) {
  int regs[4];
  __cpuid(regs, 0);
  if (regs[0] < 7) return 0;
  __cpuid(regs, 1);
  /* OSXSAVE (bit 27) and AVX (bit 28) must be set before XGETBV may be executed. */
  if ((regs[2] & (1 << 27)) == 0 || (regs[2] & (1 << 28)) == 0) return 0;
  /* XCR0 bits 1 and 2: the OS saves XMM and YMM state. */
  if ((_xgetbv(0) & 6) != 6) return 0;
  __cpuidex(regs, 7, 0);
  return (regs[1] & (1 << 5)) != 0;
}
#endif

weft_simd_level weft_cpu_best_level(void) {
#if defined(WEFT_X86)
#if defined(_MSC_VER) && !defined(__clang__)
  return msvc_has_avx2() ? WEFT_SIMD_AVX2 : WEFT_SIMD_SSE2;
#else
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return WEFT_SIMD_AVX2;
#if defined(__x86_64__) || defined(__SSE2__)
  /* SSE2 is part of the x86-64 baseline. */
  return WEFT_SIMD_SSE2;
#else
  return __builtin_cpu_supports("sse2") ? WEFT_SIMD_SSE2 : WEFT_SIMD_SCALAR;
#endif
#endif
#elif defined(WEFT_NEON)
  /* Advanced SIMD is mandatory on AArch64. */
  return WEFT_SIMD_NEON;
#else
  return WEFT_SIMD_SCALAR;
#endif
}
