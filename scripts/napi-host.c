/*
 * A minimal N-API host for checking a prebuilt addon where no matching Node exists (the x64 musl build
 * on a glibc machine): compiled with musl-gcc and run by musl's dynamic loader, it dlopen()s the
 * addon, provides the few napi_* functions the addon imports (exported with -rdynamic), registers the
 * module and calls mask/unmask/isValidUTF8 on every kernel set the CPU runs, comparing each result with
 * the plain loops below. Used by scripts/test-prebuilds.sh:
 *
 *   musl-gcc -O1 -rdynamic -o napi-host scripts/napi-host.c && ./napi-host prebuilds/linux-x64/weft.musl.node
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAPI_VERSION 3
#include <node_api.h>

/* ---- values: what a napi_value points to in this host ------------------------------------------ */

enum kind { K_BYTES, K_NUMBER, K_STRING, K_BOOL, K_OBJECT };
struct value {
  enum kind kind;
  unsigned char *data;
  size_t len;
  double number;
  const char *string;
  int boolean;
};
struct call {
  size_t argc;
  napi_value argv[5];
  void *data;
};

#define MAX_PROPS 8
static struct {
  const char *name;
  napi_callback cb;
  void *data;
} props[MAX_PROPS];
static size_t nprops;
static const char *thrown;
static struct value v_true = {K_BOOL, 0, 0, 0, 0, 1}, v_false = {K_BOOL, 0, 0, 0, 0, 0};
static char string_out[64];
static struct value v_string = {K_STRING, 0, 0, 0, string_out, 0};

napi_status napi_define_properties(napi_env env, napi_value object, size_t n, const napi_property_descriptor *p) {
  (void)env, (void)object;
  for (size_t i = 0; i < n && nprops < MAX_PROPS; i++) {
    props[nprops].name = p[i].utf8name, props[nprops].cb = p[i].method, props[nprops++].data = p[i].data;
  }
  return napi_ok;
}
napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *self,
                             void **data) {
  struct call *c = (struct call *)info;
  (void)env, (void)self;
  if (argc != NULL) {
    for (size_t i = 0; i < *argc; i++) argv[i] = i < c->argc ? c->argv[i] : NULL;
    *argc = c->argc;
  }
  if (data != NULL) *data = c->data;
  return napi_ok;
}
napi_status napi_get_typedarray_info(napi_env env, napi_value v, napi_typedarray_type *type, size_t *length, void **data,
                                     napi_value *ab, size_t *offset) {
  struct value *x = (struct value *)v;
  (void)env, (void)ab, (void)offset;
  if (x == NULL || x->kind != K_BYTES) return napi_invalid_arg;
  *type = napi_uint8_array, *length = x->len, *data = x->data;
  return napi_ok;
}
napi_status napi_get_value_double(napi_env env, napi_value v, double *out) {
  struct value *x = (struct value *)v;
  (void)env;
  if (x == NULL || x->kind != K_NUMBER) return napi_number_expected;
  *out = x->number;
  return napi_ok;
}
napi_status napi_get_boolean(napi_env env, bool b, napi_value *out) {
  (void)env;
  *out = (napi_value)(b ? &v_true : &v_false);
  return napi_ok;
}
napi_status napi_create_string_utf8(napi_env env, const char *s, size_t len, napi_value *out) {
  (void)env, (void)len;
  snprintf(string_out, sizeof string_out, "%s", s);
  *out = (napi_value)&v_string;
  return napi_ok;
}
napi_status napi_get_value_string_utf8(napi_env env, napi_value v, char *buf, size_t size, size_t *out) {
  struct value *x = (struct value *)v;
  (void)env;
  if (x == NULL || x->kind != K_STRING) return napi_string_expected;
  snprintf(buf, size, "%s", x->string);
  *out = strlen(buf);
  return napi_ok;
}
napi_status napi_throw_type_error(napi_env env, const char *code, const char *msg) {
  (void)env, (void)code;
  thrown = msg;
  return napi_ok;
}
napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg) {
  (void)env, (void)code;
  thrown = msg;
  return napi_ok;
}
napi_status napi_throw_error(napi_env env, const char *code, const char *msg) {
  (void)env, (void)code;
  thrown = msg;
  return napi_ok;
}
/* The host never tears the environment down: the hook is accepted and not called. */
napi_status napi_add_env_cleanup_hook(napi_env env, void (*fun)(void *arg), void *arg) {
  (void)env, (void)fun, (void)arg;
  return napi_ok;
}

/* ---- calling the addon ---------------------------------------------------------------------- */

static napi_value call(const char *name, size_t argc, struct value *args) {
  struct call c = {argc, {0}, NULL};
  for (size_t i = 0; i < argc; i++) c.argv[i] = (napi_value)&args[i];
  for (size_t i = 0; i < nprops; i++) {
    if (strcmp(props[i].name, name) == 0) {
      c.data = props[i].data;
      return props[i].cb(NULL, (napi_callback_info)&c);
    }
  }
  fprintf(stderr, "addon has no %s\n", name);
  exit(1);
}
static struct value bytes(unsigned char *p, size_t n) { return (struct value){K_BYTES, p, n, 0, 0, 0}; }
static struct value number(double d) { return (struct value){K_NUMBER, 0, 0, d, 0, 0}; }
static struct value string(const char *s) { return (struct value){K_STRING, 0, 0, 0, s, 0}; }

/* Strict RFC 3629 validation, one byte at a time. */
static int utf8_ok(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i], need, lo = 0x80, hi = 0xbf;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) need = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4) need = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else return 0;
    if (n - i <= need) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (unsigned k = 2; k <= need; k++) if ((s[i + k] & 0xc0) != 0x80) return 0;
    i += need + 1;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: napi-host <addon.node>\n"), 2;
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (lib == NULL) return fprintf(stderr, "dlopen: %s\n", dlerror()), 1;
  napi_value (*init)(napi_env, napi_value) = (napi_value(*)(napi_env, napi_value))dlsym(lib, "napi_register_module_v1");
  if (init == NULL) return fprintf(stderr, "no napi_register_module_v1\n"), 1;
  struct value exports = {K_OBJECT, 0, 0, 0, 0, 0};
  init(NULL, (napi_value)&exports);

  static const char *text = "weft \xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ";
  static const char *kernels[] = {"scalar", "sse2", "avx2", "neon"};
  static unsigned char src[70000], out[70010], ref[70010], txt[70000];
  size_t sizes[] = {0, 1, 3, 4, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4096, 65537};
  unsigned long checks = 0, failures = 0, seed = 12345;
  char used[64] = "";
  for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)((seed = seed * 1103515245 + 12345) >> 16);
  for (size_t i = 0; i < sizeof txt; i++) txt[i] = (unsigned char)text[i % strlen(text)];

  for (size_t k = 0; k < 4; k++) {
    struct value name = string(kernels[k]);
    if (((struct value *)call("setSimd", 1, &name))->boolean != 1) continue;
    strcat(used, used[0] ? ", " : ""), strcat(used, kernels[k]);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      for (size_t shift = 0; shift < 4; shift += 3) {
        size_t n = sizes[s];
        unsigned char key[4] = {(unsigned char)(n * 7 + 1), 0x5a, 0xa5, (unsigned char)shift};
        memset(out, 0, sizeof out), memset(ref, 0, sizeof ref);
        struct value a[5] = {bytes(src + shift, n), bytes(key, 4), bytes(out, n + 5), number((double)shift), number((double)n)};
        call("mask", 5, a);
        for (size_t i = 0; i < n; i++) ref[shift + i] = src[shift + i] ^ key[i & 3];
        if (memcmp(out, ref, n + 5) != 0) failures++, fprintf(stderr, "FAIL %s mask n=%zu\n", kernels[k], n);
        struct value u[2] = {bytes(out + shift, n), bytes(key, 4)};
        call("unmask", 2, u);
        if (memcmp(out + shift, src + shift, n) != 0) failures++, fprintf(stderr, "FAIL %s unmask n=%zu\n", kernels[k], n);
        unsigned char *t = txt + shift;
        unsigned char saved = n ? t[n - 1 - shift % n] : 0;
        for (int bad = 0; bad < 2; bad++) {
          if (bad && n) t[n - 1 - shift % n] = 0xff;
          struct value v = bytes(t, n);
          int got = ((struct value *)call("isValidUTF8", 1, &v))->boolean;
          if (got != utf8_ok(t, n)) failures++, fprintf(stderr, "FAIL %s utf8 n=%zu bad=%d\n", kernels[k], n, bad);
        }
        if (n) t[n - 1 - shift % n] = saved;
        checks += 4;
      }
    }
    struct value short_key[2] = {bytes(src, 8), bytes(src, 3)};
    thrown = NULL;
    call("unmask", 2, short_key);
    if (thrown == NULL || strstr(thrown, "at least 4 bytes") == NULL) failures++, fprintf(stderr, "FAIL %s short mask not rejected\n", kernels[k]);
    checks++;
  }
  if (failures) return fprintf(stderr, "%s: %lu of %lu checks failed\n", argv[1], failures, checks), 1;
  printf("%s: loaded by musl's dynamic loader; kernels %s: %lu checks agree with the reference loops\n", argv[1], used, checks);
  return 0;
}
