/**
 * Loader for the optional native helpers. Never throws: whatever is missing is reported as null and
 * buffer.ts falls back to the pure-TS twins.
 *
 * Masking: unless WS_NO_BUFFER_UTIL is set (any non-empty value), weft's own addon (built from
 * native/ by node-gyp-build), else the `bufferutil` package. UTF-8: unless WS_NO_UTF_8_VALIDATE is
 * set, weft's addon, else the `utf-8-validate` package. These are the environment variables ws reads,
 * so existing deployments keep their meaning.
 */
import * as fs from 'fs';
import * as path from 'path';

/** `output[offset + i] = source[i] ^ mask[i & 3]` for `i < length`. */
export type MaskFn = (source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number) => void;
/** `buffer[i] ^= mask[i & 3]` in place. */
export type UnmaskFn = (buffer: Uint8Array, mask: Uint8Array) => void;
/** Strict UTF-8 validation of a whole buffer. */
export type Utf8Fn = (buffer: Uint8Array) => boolean;

/** weft's addon (native/binding.c). */
export interface WeftAddon {
  mask: MaskFn;
  unmask: UnmaskFn;
  isValidUTF8: Utf8Fn;
  /** Name of the kernel set in use: 'scalar' | 'sse2' | 'avx2' | 'neon'. */
  simd(): string;
  /** Switches the kernel set if this CPU supports it (for tests and benchmarks); returns whether it did. */
  setSimd(name: string): boolean;
}

/** Where the masking functions came from, or null if there is no native masking. */
export type MaskSource = 'weft' | 'bufferutil' | null;
/** Where the UTF-8 validator came from, or null if there is no native validator. */
export type Utf8Source = 'weft' | 'utf-8-validate' | null;

/** True when the environment variable is set to a non-empty value (ws's convention). */
function isSet(name: string): boolean {
  const value = process.env[name];
  return value !== undefined && value !== '';
}

/** True for a function implemented in C/C++ (bufferutil and utf-8-validate export a JS fallback when their build is missing). */
function isNativeFunction(fn: unknown): boolean {
  return typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/**
 * The package root: the nearest directory above this file that has binding.gyp. Compiled code runs
 * from dist/lib/util (three levels down), sources under ts-node from lib/util (two levels down).
 */
function packageRoot(): string | null {
  let dir = __dirname;
  for (let up = 0; up < 4; up++) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/** Why weft's addon is not loaded (set by loadWeft when it returns null). */
let weftProblem: string | undefined;

/**
 * The note scripts/install.js leaves when it could not build the addon: its reason, and whether a
 * warning about it was shown already (once per install, since npm hides install output).
 */
function installFailure(root: string): { reason: string; warn: () => void } | null {
  const file = path.join(root, 'build', 'install-failed.json');
  let note: { reason?: unknown; warned?: unknown };
  try {
    note = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (typeof note.reason !== 'string') return null;
  const reason = note.reason;
  return {
    reason,
    warn: () => {
      if (note.warned === true) return;
      process.emitWarning(`weft: ${reason}; using the pure-JS fallback (see native in the README)`, {
        code: 'WEFT_NO_ADDON',
      });
      try {
        fs.writeFileSync(file, JSON.stringify({ reason, warned: true }) + '\n');
      } catch {
        // A read-only install: the warning comes once per process instead.
      }
    },
  };
}

/** weft's addon through node-gyp-build (build/Release, build/Debug or prebuilds/), or null. */
function loadWeft(): WeftAddon | null {
  const root = packageRoot();
  if (root === null) {
    weftProblem = 'weft package directory not found';
    return null;
  }
  let addon: Partial<WeftAddon> | null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const load = require('node-gyp-build') as (dir: string) => unknown;
    addon = load(root) as Partial<WeftAddon> | null;
  } catch (err) {
    const failure = installFailure(root);
    if (failure !== null) {
      failure.warn();
      weftProblem = failure.reason;
    } else {
      const message = String((err as Error)?.message ?? err);
      weftProblem = message.startsWith('No native build was found')
        ? `no prebuilt addon for ${process.platform}-${process.arch}${libcTag(message)} and none built from source`
        : `addon failed to load: ${message.split('\n')[0]}`;
    }
    return null;
  }
  if (
    addon === null ||
    typeof addon !== 'object' ||
    typeof addon.mask !== 'function' ||
    typeof addon.unmask !== 'function' ||
    typeof addon.isValidUTF8 !== 'function'
  ) {
    weftProblem = 'the loaded addon lacks mask/unmask/isValidUTF8';
    return null;
  }
  return addon as WeftAddon;
}

/** " (musl)" from node-gyp-build's "libc=musl" on Linux, else "". */
function libcTag(message: string): string {
  const match = /\blibc=(\w+)/.exec(message);
  return process.platform === 'linux' && match !== null ? ` (${match[1]})` : '';
}

/** Optional peer packages: the module, or null if it is absent or fails to load. */
function tryRequire(id: string): unknown {
  try {
    return require(id);
  } catch {
    return null;
  }
}

const noBufferUtil = isSet('WS_NO_BUFFER_UTIL');
const noUtf8Validate = isSet('WS_NO_UTF_8_VALIDATE');

/** weft's own addon if it is built and at least one of the two variables allows it, else null. */
export const weftAddon: WeftAddon | null = noBufferUtil && noUtf8Validate ? null : loadWeft();
if (noBufferUtil && noUtf8Validate) weftProblem = 'WS_NO_BUFFER_UTIL and WS_NO_UTF_8_VALIDATE are set';

/** Why weft's addon is not in use, or undefined when it is loaded. */
export const addonProblem: string | undefined = weftProblem;

let maskFn: MaskFn | null = null;
let unmaskFn: UnmaskFn | null = null;
let maskFrom: MaskSource = null;
if (!noBufferUtil) {
  if (weftAddon !== null) {
    maskFn = weftAddon.mask;
    unmaskFn = weftAddon.unmask;
    maskFrom = 'weft';
  } else {
    const bu = tryRequire('bufferutil') as { mask?: unknown; unmask?: unknown } | null;
    if (bu !== null && isNativeFunction(bu.mask) && isNativeFunction(bu.unmask)) {
      maskFn = bu.mask as MaskFn;
      unmaskFn = bu.unmask as UnmaskFn;
      maskFrom = 'bufferutil';
    }
  }
}

let utf8Fn: Utf8Fn | null = null;
let utf8From: Utf8Source = null;
if (!noUtf8Validate) {
  if (weftAddon !== null) {
    utf8Fn = weftAddon.isValidUTF8;
    utf8From = 'weft';
  } else {
    const uv = tryRequire('utf-8-validate');
    if (isNativeFunction(uv)) {
      utf8Fn = uv as Utf8Fn;
      utf8From = 'utf-8-validate';
    }
  }
}

/** Native masking into a separate output, or null. */
export const nativeMask: MaskFn | null = maskFn;
/** Native in-place unmasking, or null. */
export const nativeUnmask: UnmaskFn | null = unmaskFn;
/** Which package `nativeMask`/`nativeUnmask` come from. */
export const maskSource: MaskSource = maskFrom;
/** Native whole-buffer UTF-8 validation, or null. */
export const nativeIsValidUTF8: Utf8Fn | null = utf8Fn;
/** Which package `nativeIsValidUTF8` comes from. */
export const utf8Source: Utf8Source = utf8From;
