/**
 * The byte helpers the protocol core calls: masking and UTF-8 validation, each dispatching by input
 * size between the pure-TS twins (fallback.ts), the native addon found by native.ts and Node's own
 * `buffer.isUtf8`. A native call has a fixed cost of a few dozen nanoseconds, so small inputs stay in
 * JS; the cut-over points below were measured with bench/micro.js on the project's 2-core x86-64
 * machine (Node 20).
 */
import * as bufferModule from 'buffer';

import * as fallback from './fallback';
import {
  addonProblem,
  maskSource,
  nativeIsValidUTF8,
  nativeMask,
  nativeUnmask,
  utf8Source,
  type MaskFn,
  type UnmaskFn,
  type Utf8Fn,
} from './native';

/** One implementation of (some of) the helpers; entries of `implementations`. */
export interface Implementation {
  readonly mask?: MaskFn;
  readonly unmask?: UnmaskFn;
  readonly isValidUTF8?: Utf8Fn;
}

/** Node's simdutf-backed validator (Node >= 18.14 / 19.4), or undefined on older versions. */
const bufferIsUtf8 = (bufferModule as { isUtf8?: Utf8Fn }).isUtf8;

const jsMask: MaskFn = fallback.mask;
const jsUnmask: UnmaskFn = fallback.unmask;
const jsIsValidUTF8: Utf8Fn = fallback.isValidUTF8;

/* ---- masking ------------------------------------------------------------------------------------ */

// Measured (bench/micro.js --crossover): masking into a copy, JS wins below 64 B against weft's addon
// (~62 ns per call: 3 buffers + 2 numbers through N-API, with bounds checks) and below 56 B against
// bufferutil (~48 ns per call, it checks nothing).
const MASK_NATIVE_MIN = nativeMask === null ? Infinity : maskSource === 'weft' ? 64 : 56;
// Measured: in-place unmasking, JS wins below 56 B against weft's addon (~40 ns per call) and below
// 44 B against bufferutil (~35 ns per call).
const UNMASK_NATIVE_MIN = nativeUnmask === null ? Infinity : maskSource === 'weft' ? 56 : 44;

// Resolved once so each dispatcher calls one fixed target (monomorphic, no per-call lookup).
const bigMask: MaskFn = nativeMask ?? jsMask;
const bigUnmask: UnmaskFn = nativeUnmask ?? jsUnmask;

/**
 * `output[offset + i] = source[i] ^ mask[i & 3]` for `i < length` (a WebSocket frame mask). Throws a
 * TypeError/RangeError (codes ERR_INVALID_ARG_TYPE/ERR_OUT_OF_RANGE) on bad arguments.
 */
export function mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void {
  if (length < MASK_NATIVE_MIN) jsMask(source, mask, output, offset, length);
  else bigMask(source, mask, output, offset, length);
}

/** `buffer[i] ^= mask[i & 3]`, in place. Throws like `mask` on bad arguments. */
export function unmask(buffer: Buffer, mask: Buffer): void {
  if (buffer.length < UNMASK_NATIVE_MIN) jsUnmask(buffer, mask);
  else bigUnmask(buffer, mask);
}

// The core's own calls (its buffers, its ranges): no argument checks on the small path, where they cost
// twice the masking.

/** `mask()` for the core's frames. */
export function maskFrame(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void {
  if (length < MASK_NATIVE_MIN) fallback.maskBytes(source, mask, output, offset, length);
  else bigMask(source, mask, output, offset, length);
}

/** `unmask()` for the core's frames. */
export function unmaskFrame(buffer: Buffer, mask: Buffer): void {
  if (buffer.length < UNMASK_NATIVE_MIN) fallback.maskBytes(buffer, mask, buffer, 0, buffer.length);
  else bigUnmask(buffer, mask);
}

/** Masks `buffer[start, start + length)` in place. */
export function maskInPlace(buffer: Buffer, mask: Buffer, start: number, length: number): void {
  if (length < UNMASK_NATIVE_MIN) {
    for (let i = 0; i < length; i++) buffer[start + i] ^= mask[i & 3];
  } else {
    bigUnmask(buffer.subarray(start, start + length), mask);
  }
}

/* ---- UTF-8 -------------------------------------------------------------------------------------- */

/** Where the large-input UTF-8 validator comes from. */
type Utf8Path = 'weft' | 'buffer.isUtf8' | 'utf-8-validate' | 'js';

// Measured: buffer.isUtf8 (simdutf, AVX-512 on this machine) beats weft's addon at every size on mixed
// text (22 vs 17 GB/s at 64 KiB) and below 16 KiB on ASCII (~20 ns vs ~35 ns per call), and ties it
// above; so where it exists it takes everything past the JS threshold and weft's validator is not used.
const bigIsValidUTF8: Utf8Fn = bufferIsUtf8 ?? nativeIsValidUTF8 ?? jsIsValidUTF8;
const bigUtf8Path: Utf8Path = bufferIsUtf8 !== undefined ? 'buffer.isUtf8' : utf8Source ?? 'js';
// Measured: JS beats isUtf8 (~20 ns per call) below ~40 B of ASCII but only below ~20 B of mixed text,
// so 24 B; against weft's addon or utf-8-validate (~25-30 ns per call) the even point is ~32 B.
const UTF8_NATIVE_MIN = bufferIsUtf8 !== undefined ? 24 : nativeIsValidUTF8 !== null ? 32 : Infinity;

/**
 * True if `buf` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF, no truncated sequence). Throws a TypeError if `buf` is not a Uint8Array.
 */
export function isValidUTF8(buf: Buffer): boolean {
  if (buf.length < UTF8_NATIVE_MIN) return jsIsValidUTF8(buf);
  return bigIsValidUTF8(buf);
}

/* ---- introspection ------------------------------------------------------------------------------ */

/**
 * What is active: `mask` is the implementation used for masking above the JS threshold, `utf8` the
 * one used for large UTF-8 inputs. For `npm start`'s self-check and the README.
 */
export const nativePaths: {
  readonly mask: 'weft' | 'bufferutil' | 'js';
  readonly utf8: Utf8Path;
} = Object.freeze({ mask: maskSource ?? 'js', utf8: bigUtf8Path });

/** What `require('weft').native` reports: which implementation does the work, and why not the addon. */
export interface NativeStatus {
  /** Masking/unmasking of large payloads: weft's addon, the `bufferutil` package, or plain JS. */
  readonly mask: 'addon' | 'bufferutil' | 'js';
  /** UTF-8 validation of large text: Node's `buffer.isUtf8`, weft's addon, `utf-8-validate`, or plain JS. */
  readonly utf8: 'isUtf8' | 'addon' | 'utf-8-validate' | 'js';
  /** Why weft's addon does not do the masking, when it does not. */
  readonly reason?: string;
}

/** The public face of `nativePaths` (index.ts exports it as `native`). */
export const nativeStatus: NativeStatus = Object.freeze({
  mask: maskSource === 'weft' ? 'addon' : maskSource ?? 'js',
  utf8: bigUtf8Path === 'buffer.isUtf8' ? 'isUtf8' : bigUtf8Path === 'weft' ? 'addon' : bigUtf8Path,
  ...(maskSource === 'weft'
    ? {}
    : { reason: process.env.WS_NO_BUFFER_UTIL ? 'WS_NO_BUFFER_UTIL is set' : addonProblem ?? 'weft addon not loaded' }),
});

/** Each available implementation on its own (tests run one suite against all of them). */
export const implementations: {
  readonly js: Required<Implementation>;
  readonly weft?: Implementation;
  readonly bufferutil?: Implementation;
  readonly 'utf-8-validate'?: Implementation;
  readonly 'buffer.isUtf8'?: Implementation;
} = buildImplementations();

/** Collects the loaded functions by source; frozen so tests cannot swap an implementation by accident. */
function buildImplementations(): typeof implementations {
  const all: Record<string, Implementation> = {
    js: { mask: jsMask, unmask: jsUnmask, isValidUTF8: jsIsValidUTF8 },
  };
  const add = (name: string, key: keyof Implementation, fn: unknown): void => {
    if (typeof fn === 'function') all[name] = { ...all[name], [key]: fn };
  };
  add(maskSource ?? '', 'mask', nativeMask);
  add(maskSource ?? '', 'unmask', nativeUnmask);
  add(utf8Source ?? '', 'isValidUTF8', nativeIsValidUTF8);
  add('buffer.isUtf8', 'isValidUTF8', bufferIsUtf8);
  delete all[''];
  for (const name of Object.keys(all)) Object.freeze(all[name]);
  return Object.freeze(all) as typeof implementations;
}
