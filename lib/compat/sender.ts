/**
 * `Sender`: ws's exported frame writer shape (`new Sender(socket, extensions, generateMask)`,
 * `Sender.frame(data, options)`, `send/ping/pong/close/sendFrame`), as a thin adapter over the core's
 * frame code. socket.io's adapter calls `Sender.frame` once per broadcast; engine.io calls `sendFrame`.
 *
 * One FrameWriter keeps every frame in call order: data waiting for compression or a Blob being read
 * holds back what was asked after it (a close included), as in ws. The `mask` argument sets the writer's
 * role for the call; frames that wait behind a compression go out with the role of the latest call (ws's
 * own WebSocket never mixes roles on one Sender).
 */
import type { Duplex } from 'stream';
import { MAX_CONTROL_PAYLOAD, Opcode } from '../protocol/constants';
import { closePayload } from '../protocol/close';
import { headerSize, randomMask, writeHeader, type MaskGenerator } from '../protocol/frame';
import { FrameWriter, type WriteCallback } from '../protocol/writer';
import type { Codec } from '../protocol/codec';
import { mask as maskInto } from '../util/buffer';
import { isBlob, toBuffer } from '../util/convert';
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
  /** Called with the error when a Blob cannot be read (ws's `onerror` slot; its WebSocket closes then). */
  onerror: ((err: Error) => void) | null;
  /** @internal ws's fields, as ws names them. */
  readonly _socket: Duplex;
  /** @internal */
  readonly _extensions: Record<string, unknown>;
  /** @internal */
  readonly _generateMask: MaskGenerator | undefined;
  /** @internal */
  private readonly writer: FrameWriter;

  constructor(socket: Duplex, extensions?: Record<string, unknown>, generateMask?: MaskGenerator) {
    this._socket = socket;
    this._extensions = extensions || {};
    this._generateMask = generateMask;
    this.onerror = null;
    const pmd = this._extensions['permessage-deflate'] as { codec?: () => Codec } | undefined;
    const codec = pmd !== undefined && typeof pmd.codec === 'function' ? pmd.codec() : null;
    this.writer = new FrameWriter(this, { mask: false, generateMask, codec });
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
    // A string is already a fresh copy here, masked in place whatever `readOnly` says (as ws).
    const merge = key !== null && !!options.readOnly && !skip && length !== 0 && typeof data !== 'string';
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

  /** @internal Bytes waiting behind a compression or a Blob read (ws's `_bufferedBytes`). */
  get _bufferedBytes(): number {
    return this.writer.queuedBytes;
  }

  /** Sends a data message (or fragment); a Blob is read first, and everything sent after it waits. */
  send(data: unknown, options: { binary?: boolean; compress?: boolean; fin?: boolean; mask?: boolean }, cb?: WriteCallback): void {
    const writer = this.writer;
    writer.masked = !!options.mask;
    const binary = !!options.binary;
    const fin = options.fin !== false;
    const compress = !!options.compress;
    if (isBlob(data)) {
      const ticket = writer.reserve(data.size);
      data.arrayBuffer().then(
        (ab) => this.blobRead(ticket, Buffer.from(ab), -1, binary, fin, compress, cb),
        (err: Error) => this.blobFailed(ticket, err, cb),
      );
      return;
    }
    writer.sendData(typeof data === 'string' ? data : toBuffer(data), binary, fin, compress, cb);
  }

  /** Sends a ping (≤ 125 bytes). */
  ping(data: unknown, mask: boolean, cb?: WriteCallback): void {
    this.control(Opcode.PING, data, mask, cb);
  }

  /** Sends a pong (≤ 125 bytes). */
  pong(data: unknown, mask: boolean, cb?: WriteCallback): void {
    this.control(Opcode.PONG, data, mask, cb);
  }

  /** Sends a close frame, with ws's argument checks; it goes out after everything sent before it. */
  close(code?: number, data?: string | Buffer, mask?: boolean, cb?: WriteCallback): void {
    const payload = closePayload(code, data);
    this.writer.masked = !!mask;
    this.writer.sendControl(Opcode.CLOSE, payload, cb);
  }

  /** Writes frames that are already built (e.g. by `Sender.frame`), in order with everything else. */
  sendFrame(list: Buffer[], cb?: WriteCallback): void {
    if (list.length === 1) this.writer.sendRaw(list[0], null, cb);
    else if (list.length === 2) this.writer.sendRaw(list[0], list[1], cb);
    else this.writer.sendRaw(Buffer.concat(list), null, cb);
  }

  /** @internal The writer's output: the socket. */
  write(first: Buffer, second: Buffer | null, cb?: WriteCallback): void {
    writePair(this._socket, first, second, cb);
  }

  /** @internal As ws's Sender writes an unmasked frame: the header, then the payload as given (corked). */
  writeSplit(header: Buffer, payload: Buffer | string, cb?: WriteCallback): void {
    const socket = this._socket;
    socket.cork();
    socket.write(header);
    socket.write(payload, cb);
    socket.uncork();
  }

  /** @internal A header and payload buffers, corked into one writev. */
  writeChunks(header: Buffer, chunks: readonly Buffer[], cb?: WriteCallback): void {
    const socket = this._socket;
    socket.cork();
    socket.write(header);
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i]);
    socket.write(chunks[last], cb);
    socket.uncork();
  }

  /** @internal */
  private control(opcode: number, data: unknown, mask: boolean, cb?: WriteCallback): void {
    const writer = this.writer;
    if (isBlob(data)) {
      if (data.size > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
      writer.masked = !!mask;
      const ticket = writer.reserve(data.size);
      data.arrayBuffer().then(
        (ab) => this.blobRead(ticket, Buffer.from(ab), opcode, false, true, false, cb),
        (err: Error) => this.blobFailed(ticket, err, cb),
      );
      return;
    }
    // As ws: no default payload here (undefined throws Buffer.from's TypeError); the WebSocket passes one.
    // (A string goes to the writer as it is: unmasked, ws writes it after the header without encoding it.)
    const payload = typeof data === 'string' ? data : toBuffer(data);
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
    writer.masked = !!mask;
    writer.sendControl(opcode, payload, cb);
  }

  /** @internal A Blob's bytes arrived: they take the place reserved for them (`opcode` -1: a data message). */
  private blobRead(
    ticket: number,
    bytes: Buffer,
    opcode: number,
    binary: boolean,
    fin: boolean,
    compress: boolean,
    cb: WriteCallback | undefined,
  ): void {
    if (this._socket.destroyed) {
      this.blobFailed(ticket, new Error('The socket was closed while the blob was being read'), cb);
      return;
    }
    if (opcode === -1) this.writer.fulfil(ticket, bytes, binary, fin, compress, cb);
    else this.writer.fulfilControl(ticket, opcode, bytes, cb);
  }

  /** @internal */
  private blobFailed(ticket: number, err: Error, cb: WriteCallback | undefined): void {
    this.writer.cancel(ticket);
    process.nextTick(blobError, this, err, cb);
  }
}

function blobError(sender: Sender, err: Error, cb: WriteCallback | undefined): void {
  if (cb) cb(err);
  if (sender.onerror !== null) sender.onerror(err);
}
