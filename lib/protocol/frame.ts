/**
 * Frame serialization (RFC 6455 §5.2): header encoding, client mask keys, and whole frames built with
 * as few allocations and copies as the role allows.
 */
import { randomFillSync } from 'crypto';
import { EMPTY_BUFFER } from './constants';
import { maskFrame as maskInto, maskInPlace } from '../util/buffer';

/** Fills `key` (4 bytes) with a mask key, synchronously. ws's `generateMask` option has this shape. */
export type MaskGenerator = (key: Buffer) => void;

/** Size of a frame header for `length` payload bytes, including the 4-byte key when masked. */
export function headerSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header at `target[0..]` and returns its size. With `maskKey`, the key follows the
 * length (the caller masks the payload).
 */
export function writeHeader(
  target: Buffer,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  length: number,
  maskKey: Buffer | null,
): number {
  target[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let size = 2;
  if (length < 126) {
    target[1] = length;
  } else if (length < 0x10000) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
    size = 4;
  } else {
    target[1] = 127;
    // §5.2: a 64-bit length with the most significant bit clear; JS numbers stop at 2^53 anyway.
    target.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    target.writeUInt32BE(length >>> 0, 6);
    size = 10;
  }
  if (maskKey !== null) {
    target[1] |= 0x80;
    target[size] = maskKey[0];
    target[size + 1] = maskKey[1];
    target[size + 2] = maskKey[2];
    target[size + 3] = maskKey[3];
    size += 4;
  }
  return size;
}

// Mask keys come from a pool of crypto-random bytes refilled 8 KiB at a time: one syscall per 2048 frames.
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolPos = POOL_SIZE;

/** The default MaskGenerator: 4 bytes from a crypto-random pool (RFC 6455 §5.3 wants them unpredictable). */
export function randomMask(key: Buffer): void {
  if (poolPos === POOL_SIZE) {
    randomFillSync(pool, 0, POOL_SIZE);
    poolPos = 0;
  }
  key[0] = pool[poolPos];
  key[1] = pool[poolPos + 1];
  key[2] = pool[poolPos + 2];
  key[3] = pool[poolPos + 3];
  poolPos += 4;
}

/**
 * Frames of our own making up to this size are built in one buffer: a text message encoded straight into
 * its frame, a frame shared by many sockets (publish), zlib's output joined. Above it the header and the
 * chunks go out together (corked, one writev), without a copy.
 */
export const MERGE_LIMIT = 16 * 1024;

/**
 * A caller's unmasked Buffer up to this size is copied behind its header (one buffer, one write); above it
 * the header and the caller's buffer go out in one writev. The copy itself is cheap; the buffer it needs is
 * not: past a few hundred bytes each merged frame draws the Buffer pool down (a new 8 KiB pool every few
 * frames) and from 4 KiB on it is an ArrayBuffer of its own, external memory the GC has to sweep. Server
 * echo without the kernel (bench/path.js), weft/ws with a 16 KiB limit → this one: 1 KiB 1.10 → 0.95,
 * 2 KiB 1.31 → 0.95, 4 KiB 1.80 → 0.92; 32 B is merged either way.
 */
export const COPY_LIMIT = 512;

/** Options of `buildFrameFromChunks`. */
export interface BuildOptions {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  /** The mask key for a client frame, or null for a server frame. */
  maskKey: Buffer | null;
}

/** The header of an unmasked frame whose payload (`length` bytes) is written after it. */
export function frameHeader(length: number, opcode: number, fin: boolean, rsv1: boolean): Buffer {
  const header = Buffer.allocUnsafe(headerSize(length, false));
  writeHeader(header, opcode, fin, rsv1, length, null);
  return header;
}

/**
 * An unmasked frame in one new buffer: the header, then `data` copied behind it (a payload up to
 * COPY_LIMIT, or a frame to share between sockets whatever its size).
 */
export function mergedFrame(data: Buffer, opcode: number, fin: boolean, rsv1: boolean): Buffer {
  const length = data.length;
  const hsize = headerSize(length, false);
  const frame = Buffer.allocUnsafe(hsize + length);
  writeHeader(frame, opcode, fin, rsv1, length, null);
  if (length !== 0) data.copy(frame, hsize);
  return frame;
}

/**
 * Removes the last `n` (≤ `length`) bytes of a payload held as `chunks` (RFC 7692's trailer, which can
 * straddle chunks), changing the array only, never the bytes. Returns the new length.
 */
export function dropTail(chunks: Buffer[], length: number, n: number): number {
  let left = n;
  while (left > 0) {
    const i = chunks.length - 1;
    const last = chunks[i];
    if (last.length <= left) {
      left -= last.length;
      chunks.length = i;
    } else {
      chunks[i] = last.subarray(0, last.length - left);
      left = 0;
    }
  }
  return length - n;
}

/** Scratch: the mask key rotated for a chunk's offset in the payload. */
const ROTATED = Buffer.alloc(4);

/** One new buffer: the header, then `chunks` (`length` bytes) copied or masked in. The chunks are only read. */
export function buildFrameFromChunks(chunks: readonly Buffer[], length: number, o: BuildOptions): Buffer {
  const key = o.maskKey;
  const hsize = headerSize(length, key !== null);
  const frame = Buffer.allocUnsafe(hsize + length);
  writeHeader(frame, o.opcode, o.fin, o.rsv1, length, key);
  let at = hsize;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    if (key === null) {
      chunk.copy(frame, at);
    } else if (chunk.length !== 0) {
      // §5.3: payload byte j is masked with key byte j % 4, counted from the payload's start.
      const r = (at - hsize) & 3;
      ROTATED[0] = key[r];
      ROTATED[1] = key[(r + 1) & 3];
      ROTATED[2] = key[(r + 2) & 3];
      ROTATED[3] = key[(r + 3) & 3];
      maskInto(chunk, ROTATED, frame, at, chunk.length);
    }
    at += chunk.length;
  }
  return frame;
}

/**
 * Builds one frame around a string without first encoding it to a separate Buffer: the text is encoded
 * straight into the frame (and masked in place for a client). Positional, as `maskedFrame`: a client
 * builds one per message.
 */
export function buildTextFrame(text: string, byteLength: number, opcode: number, fin: boolean, rsv1: boolean, maskKey: Buffer | null): Buffer {
  const hsize = headerSize(byteLength, maskKey !== null);
  const frame = Buffer.allocUnsafe(hsize + byteLength);
  writeHeader(frame, opcode, fin, rsv1, byteLength, maskKey);
  if (byteLength !== 0) {
    frame.write(text, hsize, byteLength, 'utf8');
    if (maskKey !== null) maskInPlace(frame, maskKey, hsize, byteLength);
  }
  return frame;
}

/**
 * A client's frame around `data`: one new buffer, the payload masked into it (the caller's bytes are only
 * read). Positional, as `mergedFrame` and `frameHeader` are: no options object or result array per message.
 */
export function maskedFrame(data: Buffer, opcode: number, fin: boolean, rsv1: boolean, maskKey: Buffer): Buffer {
  const length = data.length;
  const hsize = headerSize(length, true);
  const frame = Buffer.allocUnsafe(hsize + length);
  writeHeader(frame, opcode, fin, rsv1, length, maskKey);
  if (length !== 0) maskInto(data, maskKey, frame, hsize, length);
  return frame;
}

export { EMPTY_BUFFER };

/**
 * One scratch key for every parser: unmasking is synchronous, so sharing it is safe, and a connection
 * keeps its frame's key as one number instead of a Buffer of its own.
 */
const KEY_SCRATCH = Buffer.alloc(4);

/**
 * The mask key `key` (the 4 key bytes as a big-endian uint32) rotated so that a piece starting `offset`
 * bytes into the payload unmasks right (RFC 6455 §5.3: byte i uses key byte i % 4). Valid until the next call.
 */
export function keyAt(key: number, offset: number): Buffer {
  const r = (offset & 3) * 8;
  // Rotate left by r bits: the key byte for payload byte `offset` moves to the front.
  KEY_SCRATCH.writeUInt32BE((r === 0 ? key : ((key << r) | (key >>> (32 - r)))) >>> 0, 0);
  return KEY_SCRATCH;
}
