/**
 * The seam between the protocol core and a message compressor (permessage-deflate, RFC 7692). The core
 * never touches zlib: it hands payloads to a Codec and waits, in an explicit state, for the answer.
 */

/** Called once per request, synchronously or later, with the result or an Error (with `code`/status). */
export type CodecCallback = (err: Error | null, data?: Buffer) => void;

/** `compressChunks`' answer: one Buffer or several, `length` bytes in all; nobody may modify them. */
export type ChunksCallback = (err: Error | null, data?: Buffer | Buffer[], length?: number) => void;

/** A negotiated per-message compressor. */
export interface Codec {
  /**
   * Inflates one frame's payload of a compressed message. `fin` marks the message's last frame, after
   * which the codec may reset its context. The codec stops with a 1009 error as soon as the inflated
   * size of the message passes its limit.
   */
  decompress(data: Buffer, fin: boolean, cb: CodecCallback): void;
  /** Deflates one frame's payload of a message; `fin` marks the message's last frame. */
  compress(data: Buffer, fin: boolean, cb: CodecCallback): void;
  /** Optional: `compress` with the output in the pieces it was made in (not joined). */
  compressChunks?(data: Buffer, fin: boolean, cb: ChunksCallback): void;
  /** Whether a message of `length` bytes is worth compressing (ws: `threshold`). */
  shouldCompress(length: number): boolean;
  /** Releases every resource (zlib contexts) for good. */
  cleanup(): void;
}

/**
 * A codec that changes nothing, answering synchronously: it lets the core's tests exercise the RSV1 and
 * waiting paths without zlib.
 */
export class IdentityCodec implements Codec {
  /** Calls to decompress so far (tests read it). */
  decompressed = 0;
  /** Calls to compress so far (tests read it). */
  compressed = 0;

  decompress(data: Buffer, _fin: boolean, cb: CodecCallback): void {
    this.decompressed++;
    cb(null, data);
  }

  compress(data: Buffer, _fin: boolean, cb: CodecCallback): void {
    this.compressed++;
    cb(null, data);
  }

  shouldCompress(): boolean {
    return true;
  }

  cleanup(): void {
    // Nothing to release.
  }
}
