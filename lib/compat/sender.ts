/**
 * `Sender`: ws's exported frame writer shape (`new Sender(socket, extensions, generateMask)`,
 * `Sender.frame(data, options)`, `send/ping/pong/close/sendFrame`), as a thin adapter over the core's
 * frame code. socket.io's adapter calls `Sender.frame` once per broadcast; engine.io calls `sendFrame`.
 */
import type { Duplex } from 'stream';
import { EMPTY_BUFFER, MAX_CONTROL_PAYLOAD, Opcode } from '../protocol/constants';
import { closePayload } from '../protocol/close';
import { headerSize, randomMask, writeHeader, type MaskGenerator } from '../protocol/frame';
import { FrameWriter, type WriteCallback } from '../protocol/writer';
import type { Codec } from '../protocol/codec';
import { mask as maskInto } from '../util/buffer';
import { toBuffer } from '../util/convert';
import { writePair } from '../transport/write';

/** Options of `Sender.frame`, as ws names them. */
export interface FrameOptions {
  fin?: boolean;
  generateMask?: MaskGenerator;
  mask?: boolean;
  maskBuffer?: Buffer;
  opcode: number;
  readOnly?: boolean;
  rsv1?: boolean;
}

const MASK_BUFFER = Buffer.alloc(4);

/** ws's Sender. */
export class Sender {
  /** Called with an error the socket reports while writing (ws's `onerror` slot). */
  onerror: ((err: Error) => void) | null;
  /** @internal */
  private readonly socket: Duplex;
  /** @internal */
  private readonly masked: FrameWriter;
  /** @internal */
  private readonly plain: FrameWriter;

  constructor(socket: Duplex, extensions?: Record<string, unknown>, generateMask?: MaskGenerator) {
    this.socket = socket;
    this.onerror = null;
    const out = { write: (first: Buffer, second: Buffer | null, cb?: WriteCallback) => this.write(first, second, cb) };
    const pmd = extensions ? (extensions['permessage-deflate'] as { codec(): Codec } | undefined) : undefined;
    const codec = pmd !== undefined ? pmd.codec() : null;
    this.masked = new FrameWriter(out, { mask: true, generateMask, codec });
    this.plain = new FrameWriter(out, { mask: false, codec });
  }

  /**
   * Frames `data` the way ws's `Sender.frame` does: `[header, data]` (unmasked, or masked in place
   * unless `readOnly`), `[frame]` (masked into one new buffer when `readOnly`), or `[header]` when empty.
   */
  static frame(data: Buffer | string, options: FrameOptions): Buffer[] {
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    const length = payload.length;
    let key: Buffer | null = null;
    if (options.mask) {
      key = options.maskBuffer || MASK_BUFFER;
      (options.generateMask || randomMask)(key);
    }
    // A zero key leaves the bytes as they are: skip the pass, as ws does.
    const skip = key !== null && (key[0] | key[1] | key[2] | key[3]) === 0;
    const merge = key !== null && !!options.readOnly && !skip && length !== 0;
    const hsize = headerSize(length, key !== null);
    const target = Buffer.allocUnsafe(merge ? hsize + length : hsize);
    writeHeader(target, options.opcode, !!options.fin, !!options.rsv1, length, key);
    if (length === 0) return [target];
    if (key === null || skip) return [target, payload];
    if (merge) {
      maskInto(payload, key, target, hsize, length);
      return [target];
    }
    maskInto(payload, key, payload, 0, length);
    return [target, payload];
  }

  /** Sends a data message (or fragment). */
  send(data: unknown, options: { binary?: boolean; compress?: boolean; fin?: boolean; mask?: boolean }, cb?: WriteCallback): void {
    const writer = options.mask ? this.masked : this.plain;
    const payload = typeof data === 'string' ? data : toBuffer(data);
    writer.sendData(payload, !!options.binary, options.fin !== false, !!options.compress, cb);
  }

  /** Sends a ping (≤ 125 bytes). */
  ping(data: unknown, mask: boolean, cb?: WriteCallback): void {
    this.control(Opcode.PING, data, mask, cb);
  }

  /** Sends a pong (≤ 125 bytes). */
  pong(data: unknown, mask: boolean, cb?: WriteCallback): void {
    this.control(Opcode.PONG, data, mask, cb);
  }

  /** Sends a close frame, with ws's argument checks. */
  close(code?: number, data?: string | Buffer, mask?: boolean, cb?: WriteCallback): void {
    const payload = closePayload(code, data);
    (mask ? this.masked : this.plain).sendControl(Opcode.CLOSE, payload, cb);
  }

  /** Writes frames that are already built (e.g. by `Sender.frame`). */
  sendFrame(list: Buffer[], cb?: WriteCallback): void {
    if (list.length === 1) this.write(list[0], null, cb);
    else if (list.length === 2) this.write(list[0], list[1], cb);
    else this.write(Buffer.concat(list), null, cb);
  }

  /** @internal */
  private control(opcode: number, data: unknown, mask: boolean, cb?: WriteCallback): void {
    const payload =
      data === undefined || data === null ? EMPTY_BUFFER : typeof data === 'string' ? Buffer.from(data) : toBuffer(data);
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
    (mask ? this.masked : this.plain).sendControl(opcode, payload, cb);
  }

  /** @internal */
  private write(first: Buffer, second: Buffer | null, cb?: WriteCallback): void {
    writePair(this.socket, first, second, cb);
  }
}
