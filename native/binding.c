/*
 * weft native addon: the N-API surface.
 *
 *   mask(source, mask, output, offset, length)  output[offset + i] = source[i] ^ mask[i & 3], i < length
 *   unmask(buffer, mask)                         buffer[i] ^= mask[i & 3], in place
 *   isValidUTF8(buffer)                          strict RFC 3629 validation -> boolean
 *   simd()                                       name of the kernel set in use
 *   setSimd(name)                                switch this thread's kernel set ('scalar' | 'sse2' |
 *                                                'avx2' | 'neon') if this CPU supports it -> boolean
 *                                                (tests, benchmarks)
 *
 * Buffers are any Uint8Array (Node Buffers included). Wrong types throw a TypeError with code
 * ERR_INVALID_ARG_TYPE; offsets/lengths that are not safe non-negative integers or reach outside a
 * buffer, and masks shorter than 4 bytes, throw a RangeError with code ERR_OUT_OF_RANGE. So does a
 * mask() whose source and output ranges partly overlap (each kernel reads ahead by a different width,
 * so the result would depend on the CPU); the very same bytes (in place) are allowed. The pure-TS
 * twins in lib/util/fallback.ts follow the same rules.
 */
#include <stdlib.h>
#include <string.h>

#define NAPI_VERSION 3
#include <node_api.h>

#include "weft.h"

/*
 * The kernels an instance of the addon uses. Each instance (the main thread and every worker thread
 * that loads weft) has its own set, chosen when it loads and handed to its functions as their callback
 * data, so setSimd() in one thread never changes the kernels another thread is running; a call pays one
 * indirect jump and no feature test.
 */
typedef struct {
  weft_mask_fn mask;
  weft_utf8_fn utf8;
  weft_simd_level level;
} kernel_set;

/*
 * The CPU's best level, detected once per process: -1 until then. Threads loading the addon at the same
 * time may both detect it; they compute the same value, and the atomic store makes that race harmless.
 */
static int g_best = -1;

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define LOAD_BEST() ((int)_InterlockedOr((volatile long *)&g_best, 0))
#define STORE_BEST(v) _InterlockedExchange((volatile long *)&g_best, (long)(v))
#else
#define LOAD_BEST() __atomic_load_n(&g_best, __ATOMIC_ACQUIRE)
#define STORE_BEST(v) __atomic_store_n(&g_best, (v), __ATOMIC_RELEASE)
#endif

static weft_simd_level best_level(void) {
  int best = LOAD_BEST();
  if (best < 0) {
    best = (int)weft_cpu_best_level();
    STORE_BEST(best);
  }
  return (weft_simd_level)best;
}

static const char *level_name(weft_simd_level level) {
  switch (level) {
    case WEFT_SIMD_SSE2: return "sse2";
    case WEFT_SIMD_NEON: return "neon";
    case WEFT_SIMD_AVX2: return "avx2";
    default: return "scalar";
  }
}

/* Installs the kernels of `level` in `k`; returns 0 (and changes nothing) if this build/CPU cannot run it. */
static int use_level(kernel_set *k, weft_simd_level level) {
  weft_simd_level best = best_level();
  switch (level) {
    case WEFT_SIMD_SCALAR:
      k->mask = weft_mask_scalar;
      k->utf8 = weft_utf8_scalar;
      break;
#ifdef WEFT_X86
    case WEFT_SIMD_SSE2:
      if (best < WEFT_SIMD_SSE2) return 0;
      k->mask = weft_mask_sse2;
      k->utf8 = weft_utf8_sse2;
      break;
    case WEFT_SIMD_AVX2:
      if (best < WEFT_SIMD_AVX2) return 0;
      k->mask = weft_mask_avx2;
      k->utf8 = weft_utf8_avx2;
      break;
#endif
#ifdef WEFT_NEON
    case WEFT_SIMD_NEON:
      if (best < WEFT_SIMD_NEON) return 0;
      k->mask = weft_mask_neon;
      k->utf8 = weft_utf8_neon;
      break;
#endif
    default:
      (void)best;
      return 0;
  }
  k->level = level;
  return 1;
}

/* ---- argument checks (each returns 0 after throwing) ------------------------------------------- */

static int throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return 0;
}

static int throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return 0;
}

/* Data pointer and byte length of a Uint8Array (Buffers are Uint8Arrays). */
static int get_bytes(napi_env env, napi_value value, const char *msg, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  void *ptr = NULL;
  size_t length = 0;
  /* One call both type-checks and reads; the ArrayBuffer and offset outputs are not requested
     because creating their handles costs time (data already includes the view's offset). */
  if (napi_get_typedarray_info(env, value, &type, &length, &ptr, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    return throw_type(env, msg);
  }
  *data = (uint8_t *)ptr;
  *len = length;
  return 1;
}

/* A safe non-negative integer, as a size_t. */
static int get_index(napi_env env, napi_value value, const char *type_msg, const char *range_msg,
                     size_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) return throw_type(env, type_msg);
  /* !(d >= 0) also rejects NaN; the upper bound keeps the integer test and the cast exact. */
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) return throw_range(env, range_msg);
  if ((uint64_t)d > (uint64_t)SIZE_MAX) return throw_range(env, range_msg);
  *out = (size_t)d;
  return 1;
}

/* ---- exported functions ---------------------------------------------------------------------- */

static napi_value Mask(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  uint8_t *src, *key, *dst;
  size_t src_len, key_len, dst_len, offset, length;
  kernel_set *k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&k) != napi_ok) return NULL;
  /* Missing arguments arrive as undefined and fail the type checks below. */
  if (!get_bytes(env, argv[0], "The \"source\" argument must be an instance of Uint8Array", &src, &src_len) ||
      !get_bytes(env, argv[1], "The \"mask\" argument must be an instance of Uint8Array", &key, &key_len) ||
      !get_bytes(env, argv[2], "The \"output\" argument must be an instance of Uint8Array", &dst, &dst_len) ||
      !get_index(env, argv[3], "The \"offset\" argument must be of type number",
                 "The \"offset\" argument must be a non-negative safe integer", &offset) ||
      !get_index(env, argv[4], "The \"length\" argument must be of type number",
                 "The \"length\" argument must be a non-negative safe integer", &length)) {
    return NULL;
  }
  if (key_len < 4) {
    throw_range(env, "The \"mask\" argument must be at least 4 bytes long");
    return NULL;
  }
  if (length > src_len) {
    throw_range(env, "The \"length\" argument must not exceed source.length");
    return NULL;
  }
  if (offset > dst_len || length > dst_len - offset) {
    throw_range(env, "offset + length must not exceed output.length");
    return NULL;
  }
  if (length != 0) {
    uintptr_t s = (uintptr_t)src, d = (uintptr_t)(dst + offset);
    if (s != d && s < d + length && d < s + length) {
      throw_range(env, "source and output must not partly overlap (the same bytes, in place, are allowed)");
      return NULL;
    }
    k->mask(src, key, dst + offset, length);
  }
  return NULL;
}

static napi_value Unmask(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint8_t *buf, *key;
  size_t buf_len, key_len;
  kernel_set *k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&k) != napi_ok) return NULL;
  if (!get_bytes(env, argv[0], "The \"buffer\" argument must be an instance of Uint8Array", &buf, &buf_len) ||
      !get_bytes(env, argv[1], "The \"mask\" argument must be an instance of Uint8Array", &key, &key_len)) {
    return NULL;
  }
  if (key_len < 4) {
    throw_range(env, "The \"mask\" argument must be at least 4 bytes long");
    return NULL;
  }
  if (buf_len != 0) k->mask(buf, key, buf, buf_len);
  return NULL;
}

static napi_value IsValidUTF8(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  uint8_t *buf;
  size_t len;
  kernel_set *k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&k) != napi_ok) return NULL;
  if (!get_bytes(env, argv[0], "The \"buffer\" argument must be an instance of Uint8Array", &buf, &len)) {
    return NULL;
  }
  if (napi_get_boolean(env, len == 0 || k->utf8(buf, len), &result) != napi_ok) return NULL;
  return result;
}

static napi_value Simd(napi_env env, napi_callback_info info) {
  napi_value result;
  kernel_set *k;
  if (napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&k) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, level_name(k->level), NAPI_AUTO_LENGTH, &result) != napi_ok) return NULL;
  return result;
}

static napi_value SetSimd(napi_env env, napi_callback_info info) {
  size_t argc = 1, n = 0;
  napi_value argv[1], result;
  char name[16];
  int ok = 0;
  kernel_set *k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&k) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok) {
    throw_type(env, "The \"name\" argument must be of type string");
    return NULL;
  }
  if (strcmp(name, "scalar") == 0) ok = use_level(k, WEFT_SIMD_SCALAR);
  else if (strcmp(name, "sse2") == 0) ok = use_level(k, WEFT_SIMD_SSE2);
  else if (strcmp(name, "avx2") == 0) ok = use_level(k, WEFT_SIMD_AVX2);
  else if (strcmp(name, "neon") == 0) ok = use_level(k, WEFT_SIMD_NEON);
  if (napi_get_boolean(env, ok, &result) != napi_ok) return NULL;
  return result;
}

static void free_kernels(void *k) {
  free(k);
}

NAPI_MODULE_INIT() {
  /* This instance's kernels: the best this CPU runs, freed when the instance's environment goes. */
  kernel_set *k = (kernel_set *)malloc(sizeof(kernel_set));
  if (k == NULL) {
    napi_throw_error(env, NULL, "weft: out of memory");
    return NULL;
  }
  k->mask = weft_mask_scalar;
  k->utf8 = weft_utf8_scalar;
  k->level = WEFT_SIMD_SCALAR;
  use_level(k, best_level());
  if (napi_add_env_cleanup_hook(env, free_kernels, k) != napi_ok) {
    free(k);
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"mask", NULL, Mask, NULL, NULL, NULL, napi_enumerable, k},
      {"unmask", NULL, Unmask, NULL, NULL, NULL, napi_enumerable, k},
      {"isValidUTF8", NULL, IsValidUTF8, NULL, NULL, NULL, napi_enumerable, k},
      {"simd", NULL, Simd, NULL, NULL, NULL, napi_enumerable, k},
      {"setSimd", NULL, SetSimd, NULL, NULL, NULL, napi_enumerable, k},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
