{
  # weft's optional native addon (plain N-API, C only). Built by `node-gyp-build` at install time
  # and loaded by lib/util/native.ts; everything works without it.
  "targets": [
    {
      "target_name": "weft",
      "sources": [
        "native/binding.c",
        "native/cpu.c",
        "native/mask.c",
        "native/utf8.c"
      ],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      # -O3 for the kernels; no -mavx2 here: AVX2 code is enabled per function with target
      # attributes and only called after a run-time CPU check, so the addon runs on any x86-64.
      "cflags": ["-O3", "-std=gnu99", "-fvisibility=hidden", "-Wall", "-Wextra"],
      "cflags!": ["-O2", "-Os"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "GCC_C_LANGUAGE_STANDARD": "gnu99",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "OTHER_CFLAGS": ["-Wall", "-Wextra"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": {
          "Optimization": 2,
          "FavorSizeOrSpeed": 1
        }
      }
    }
  ]
}
