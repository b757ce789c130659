/**
 * Pure-TypeScript twins of the native helpers (native/*.c): same signatures, same results, same
 * errors. Used when the addon is absent or disabled, and by the dispatchers in buffer.ts for inputs
 * too small to be worth a native call.
 *
 * Argument rules (shared with the addon): buffers are Uint8Arrays (Buffers included); a wrong type
 * throws a TypeError with code ERR_INVALID_ARG_TYPE; an offset/length that is not a non-negative
 * safe integer or reaches outside a buffer, a mask shorter than 4 bytes, or a mask() whose source and
 * output ranges partly overlap (the same bytes, in place, are allowed), throws a RangeError with code
 * ERR_OUT_OF_RANGE.
 */
import { types } from 'util';

/** True when the platform stores the low byte of a word first (decides how a 32-bit key word is built). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Measured (bench/micro.js): at 128 B the Int32Array path and the byte loop tie; above it words win (3.7 vs 1.1 GB/s). */
const WORD_PATH_MIN = 128;

/** An Error with a stable `code`, as Node's own argument errors carry. */
function argError(Ctor: TypeErrorConstructor | RangeErrorConstructor, code: string, message: string): Error {
  const err = new Ctor(message) as Error & { code: string };
  err.code = code;
  return err;
}

/** Throws unless `value` is a Uint8Array (from this realm or another). */
function checkBytes(value: unknown, name: string): void {
  // instanceof is the fast path; util.types covers Uint8Arrays from other realms (vm contexts).
  if (!(value instanceof Uint8Array) && !types.isUint8Array(value)) {
    throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be an instance of Uint8Array`);
  }
}

/** Throws unless `value` is a non-negative safe integer. */
function checkIndex(value: unknown, name: string): void {
  if (typeof value !== 'number') {
    throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type number`);
  }
  // !(value >= 0) also rejects NaN.
  if (!(value >= 0) || value > Number.MAX_SAFE_INTEGER || Math.floor(value) !== value) {
    throw argError(RangeError, 'ERR_OUT_OF_RANGE', `The "${name}" argument must be a non-negative safe integer`);
  }
}

/** Throws unless `mask` holds at least the 4 key bytes. */
function checkMaskLength(mask: Uint8Array): void {
  if (mask.length < 4) {
    throw argError(RangeError, 'ERR_OUT_OF_RANGE', 'The "mask" argument must be at least 4 bytes long');
  }
}

/**
 * XORs `length` bytes of `source` with the 4-byte `mask` into `output` from `offset`:
 * `output[offset + i] = source[i] ^ mask[i & 3]`. `source` and `output` must not overlap unless they
 * are the same bytes (in place): a partial overlap throws, as in the addon, whose kernels would each
 * give another result.
 */
export function mask(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): void {
  checkBytes(source, 'source');
  checkBytes(mask, 'mask');
  checkBytes(output, 'output');
  checkIndex(offset, 'offset');
  checkIndex(length, 'length');
  checkMaskLength(mask);
  if (length > source.length) {
    throw argError(RangeError, 'ERR_OUT_OF_RANGE', 'The "length" argument must not exceed source.length');
  }
  if (offset > output.length || length > output.length - offset) {
    throw argError(RangeError, 'ERR_OUT_OF_RANGE', 'offset + length must not exceed output.length');
  }
  // Two property reads in the common case (different memory); byte offsets only when shared.
  if (length !== 0 && source.buffer === output.buffer) {
    const s = source.byteOffset;
    const d = output.byteOffset + offset;
    if (s !== d && s < d + length && d < s + length) {
      throw argError(RangeError, 'ERR_OUT_OF_RANGE', 'source and output must not partly overlap (the same bytes, in place, are allowed)');
    }
  }
  maskBytes(source, mask, output, offset, length);
}

/** XORs `buffer` in place with the 4-byte `mask`: `buffer[i] ^= mask[i & 3]`. */
export function unmask(buffer: Uint8Array, mask: Uint8Array): void {
  checkBytes(buffer, 'buffer');
  checkBytes(mask, 'mask');
  checkMaskLength(mask);
  maskBytes(buffer, mask, buffer, 0, buffer.length);
}

/**
 * The masking loop proper, arguments already checked (by `mask`/`unmask`, or by construction: the
 * dispatchers' `maskFrame`/`unmaskFrame` for buffers and ranges the protocol core made itself).
 */
export function maskBytes(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): void {
  let i = 0;
  // byteOffset is read only for large inputs: each read costs ~8 ns, as much as masking 8 bytes.
  if (length >= WORD_PATH_MIN) i = maskWords(source, mask, output, offset, length);
  if (i === 0) {
    const m0 = mask[0];
    const m1 = mask[1];
    const m2 = mask[2];
    const m3 = mask[3];
    // Four bytes per step with the key bytes in locals: no `i & 3` lookup per byte (~1.8x the plain loop).
    for (const end = length - 3; i < end; i += 4) {
      output[offset + i] = source[i] ^ m0;
      output[offset + i + 1] = source[i + 1] ^ m1;
      output[offset + i + 2] = source[i + 2] ^ m2;
      output[offset + i + 3] = source[i + 3] ^ m3;
    }
  }
  for (; i < length; i++) output[offset + i] = source[i] ^ mask[i & 3];
}

/**
 * Masks whole 32-bit words through Int32Array views (~3x the byte loop on large inputs; the two views
 * cost less than the bytes they save from WORD_PATH_MIN on). Needs source and output to share their
 * alignment mod 4, which in-place unmasking always does. Returns how many bytes it masked: 0 if the
 * alignments differ, else the head bytes plus the whole words.
 */
function maskWords(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): number {
  const srcStart = source.byteOffset;
  const dstStart = output.byteOffset + offset;
  if (((srcStart - dstStart) & 3) !== 0) return 0;
  let i = 0;
  const head = (4 - (srcStart & 3)) & 3;
  for (; i < head; i++) output[offset + i] = source[i] ^ mask[i & 3];
  const words = (length - head) >>> 2;
  const k0 = mask[i & 3];
  const k1 = mask[(i + 1) & 3];
  const k2 = mask[(i + 2) & 3];
  const k3 = mask[(i + 3) & 3];
  const key = LITTLE_ENDIAN ? k0 | (k1 << 8) | (k2 << 16) | (k3 << 24) : (k0 << 24) | (k1 << 16) | (k2 << 8) | k3;
  const src32 = new Int32Array(source.buffer, srcStart + head, words);
  // In place: one view serves both sides.
  const dst32 =
    source.buffer === output.buffer && srcStart === dstStart ? src32 : new Int32Array(output.buffer, dstStart + head, words);
  for (let w = 0; w < words; w++) dst32[w] = src32[w] ^ key;
  return head + words * 4;
}

/**
 * True if `buf` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no truncated sequence at the end.
 */
export function isValidUTF8(buf: Uint8Array): boolean {
  checkBytes(buf, 'buffer');
  return validateUtf8(buf, buf.length);
}

/** The validation loop proper over `buf[0..end)`, argument already checked. */
function validateUtf8(buf: Uint8Array, end: number): boolean {
  let i = 0;
  while (i < end) {
    const c = buf[i];
    if (c < 0x80) {
      i++;
      // ASCII runs: OR four bytes and test one high bit per step (~2.3x a byte-at-a-time loop).
      for (const end4 = end - 3; i < end4 && ((buf[i] | buf[i + 1] | buf[i + 2] | buf[i + 3]) & 0x80) === 0; ) i += 4;
      continue;
    }
    if (c < 0xc2) return false; // a continuation byte, or C0/C1 (always overlong)
    if (c < 0xe0) {
      if (end - i < 2 || (buf[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    if (c < 0xf0) {
      if (end - i < 3) return false;
      const b1 = buf[i + 1];
      // E0 80..9F would be overlong, ED A0..BF a surrogate.
      if (b1 < (c === 0xe0 ? 0xa0 : 0x80) || b1 > (c === 0xed ? 0x9f : 0xbf) || (buf[i + 2] & 0xc0) !== 0x80) {
        return false;
      }
      i += 3;
      continue;
    }
    if (c < 0xf5) {
      if (end - i < 4) return false;
      const b1 = buf[i + 1];
      // F0 80..8F would be overlong, F4 90..BF above U+10FFFF.
      if (
        b1 < (c === 0xf0 ? 0x90 : 0x80) ||
        b1 > (c === 0xf4 ? 0x8f : 0xbf) ||
        (buf[i + 2] & 0xc0) !== 0x80 ||
        (buf[i + 3] & 0xc0) !== 0x80
      ) {
        return false;
      }
      i += 4;
      continue;
    }
    return false; // F5..FF never appear in UTF-8
  }
  return true;
}
