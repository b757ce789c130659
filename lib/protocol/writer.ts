/**
 * The frame writer: turns messages and control frames into bytes for an output, in order. Compression
 * may answer later; while it is busy, every later frame (control frames too, as in ws) waits in a queue
 * so that the bytes leave in the order they were asked for.
 */
import { EMPTY_BUFFER, Opcode } from './constants';
import type { Codec } from './codec';
import {
  COPY_LIMIT,
  MERGE_LIMIT,
  buildFrameFromChunks,
  buildTextFrame,
  frameHeader,
  headerSize,
  maskedFrame,
  mergedFrame,
  randomMask,
  type MaskGenerator,
} from './frame';

/** Called once the bytes of a frame have been handed to (and flushed by) the transport. */
export type WriteCallback = (err?: Error | null) => void;

/** Where the writer's bytes go. `second`, when given, must be written right after `first` (corked). */
export interface FrameOutput {
  write(first: Buffer, second: Buffer | null, cb: WriteCallback | undefined): void;
  /**
   * Optional: `header`, then `chunks` as they are (shared: never modified), in one corked writev; `cb`
   * once all are flushed. Without it, the chunks are joined and go through `write`.
   */
  writeChunks?(header: Buffer, chunks: readonly Buffer[], cb: WriteCallback | undefined): void;
  /** Whether the output is gone for good (a destroyed socket): a compression that ends then fails. */
  isClosed?(): boolean;
  /**
   * Optional, for ws's Sender class only: every unmasked frame with a payload goes out as its header and
   * then the payload as given (a string stays a string), two writes, as ws's Sender writes them.
   */
  writeSplit?(header: Buffer, payload: Buffer | string, cb: WriteCallback | undefined): void;
}

/** Options of the writer. */
export interface WriterOptions {
  /** Mask every frame (the client role). */
  mask: boolean;
  /** Mask key source; defaults to a crypto-random pool. */
  generateMask?: MaskGenerator | null;
  /** The negotiated permessage-deflate codec, if any. */
  codec?: Codec | null;
}

/** One mask key buffer for every writer: frames are built synchronously, one at a time. */
const KEY = Buffer.alloc(4);

/** `custom` fills a key of its own (zeros at first), copied into KEY. */
function ownKeyGenerator(custom: MaskGenerator): MaskGenerator {
  const own = Buffer.alloc(4);
  return (key: Buffer): void => {
    custom(own);
    key[0] = own[0];
    key[1] = own[1];
    key[2] = own[2];
    key[3] = own[3];
  };
}

// Kinds of queued operations.
const DATA = 0;
const CONTROL = 1;
const RAW = 2;
/** A place held for bytes that are not there yet (a Blob being read): everything after it waits. */
const HOLD = 3;

/** One operation waiting behind a compression in flight (rare path: allocated only then). */
class Queued {
  constructor(
    public kind: number,
    public data: Buffer | string,
    readonly second: Buffer | null,
    public opcode: number,
    public fin: boolean,
    public compress: boolean,
    public cb: WriteCallback | undefined,
    readonly ticket: number = 0,
    public size: number = 0,
    /** The masking in force when it was asked for: it goes out with that, not with the setting of later. */
    public masked: boolean = false,
  ) {}

  /** RAW: the payload buffers written after `data` (fulfilRawChunks). */
  list: readonly Buffer[] | null = null;
}

/**
 * What a writer needs only once it compresses, holds a place or queues: made the first time (an idle
 * connection, or one that sends uncompressed, never has one).
 */
class Backlog {
  /** Operations waiting behind a compression or a hold. */
  readonly queue: Queued[] = [];
  /** Payload bytes of the message being compressed now (counted in the writer's `queuedBytes`). */
  pendingSize = 0;
  /** The frame being compressed, waiting for the codec. */
  pendingFin = false;
  pendingOpcode = 0;
  pendingMasked = false;
  pendingCb: WriteCallback | undefined = undefined;
  /** The codec's callback, bound once per writer. */
  compressed: ((err: Error | null, data?: Buffer | Buffer[], length?: number) => void) | null = null;
  /** The hold that is blocking the writer now (0: none), and the last ticket handed out. */
  activeHold = 0;
  activeHoldSize = 0;
  activeHoldMasked = false;
  tickets = 0;
}

/** Serializes frames for one connection. */
export class FrameWriter {
  private readonly out: FrameOutput;
  /**
   * Mask the frames (the client role). Mutable for ws's per-send `mask` option: the face flips it around
   * one synchronous send; a frame that has to wait (behind a compression or a hold) keeps the setting it
   * was asked with.
   */
  masked: boolean;
  private readonly generateMask: MaskGenerator;
  private codec: Codec | null;

  /** The data message being sent in fragments: its opcode is replaced by CONTINUATION after the first. */
  private fragmenting: boolean;
  /** Whether the message being sent is compressed (decided on its first frame, as RFC 7692 §6 wants). */
  private compressing: boolean;

  /** A compression or a hold is in flight: later operations wait in the backlog's queue. */
  private busy: boolean;
  /** Payload bytes being compressed or waiting in the queue (part of ws's `bufferedAmount`). */
  queuedBytes: number;
  /** Compression, holds and the queue (see Backlog): null until one is needed. */
  private backlog: Backlog | null;

  constructor(out: FrameOutput, options: WriterOptions) {
    this.out = out;
    this.masked = options.mask;
    const custom = options.generateMask;
    // As ws: a custom generator fills a key of the writer's own, not another connection's last key.
    this.generateMask = custom ? ownKeyGenerator(custom) : randomMask;
    this.codec = options.codec || null;
    this.fragmenting = false;
    this.compressing = false;
    this.busy = false;
    this.queuedBytes = 0;
    this.backlog = null;
  }

  /**
   * What the writer waits for, in ws's Sender terms (`_sender._state`): 0 nothing, 1 the codec (a message
   * being compressed), 2 a reserved place (a Blob being read, a frame compressed elsewhere).
   */
  get waitState(): number {
    if (!this.busy) return 0;
    const backlog = this.backlog;
    return backlog !== null && backlog.activeHold !== 0 ? 2 : 1;
  }

  private makeBacklog(): Backlog {
    if (this.backlog === null) this.backlog = new Backlog();
    return this.backlog;
  }

  /**
   * Holds a place in the output for `size` bytes that will come later (a Blob being read). Everything
   * sent after it waits until `fulfil`/`fulfilControl`/`cancel` is called with the returned ticket.
   */
  reserve(size: number): number {
    const backlog = this.makeBacklog();
    const ticket = ++backlog.tickets;
    if (this.busy) {
      this.enqueue(new Queued(HOLD, EMPTY_BUFFER, null, 0, true, false, undefined, ticket, size));
    } else {
      this.busy = true;
      backlog.activeHold = ticket;
      backlog.activeHoldSize = size;
      backlog.activeHoldMasked = this.masked;
      this.queuedBytes += size;
    }
    return ticket;
  }

  /** Supplies the data message for a reserved place; it goes out in its turn. */
  fulfil(ticket: number, data: Buffer, binary: boolean, fin: boolean, compress: boolean, cb?: WriteCallback): void {
    this.settle(ticket, DATA, data, binary ? Opcode.BINARY : Opcode.TEXT, fin, compress, cb);
  }

  /** Supplies a control frame for a reserved place. */
  fulfilControl(ticket: number, opcode: number, payload: Buffer, cb?: WriteCallback): void {
    this.settle(ticket, CONTROL, payload, opcode, true, false, cb);
  }

  /** Supplies whole frames for a reserved place (a broadcast compressed off the main thread). */
  fulfilRaw(ticket: number, frames: Buffer, cb?: WriteCallback): void {
    this.settle(ticket, RAW, frames, 0, true, false, cb);
  }

  /** Supplies a frame for a reserved place as its header and payload buffers (shared, never modified). */
  fulfilRawChunks(ticket: number, header: Buffer, chunks: readonly Buffer[], cb?: WriteCallback): void {
    this.settle(ticket, RAW, header, 0, true, false, cb, chunks);
  }

  /** Whether a fragmented message is being sent (its next frame must be a continuation). */
  get inMessage(): boolean {
    return this.fragmenting;
  }

  /**
   * Gives up a reserved place because the output is gone: `cb` and the callbacks of everything queued
   * behind the place get `err`, in order, and nothing more is written.
   */
  abandon(ticket: number, cb: WriteCallback | undefined, err: Error): void {
    const backlog = this.backlog;
    if (backlog === null) return;
    if (ticket === backlog.activeHold) {
      backlog.activeHold = 0;
      this.queuedBytes -= backlog.activeHoldSize;
      backlog.activeHoldSize = 0;
      if (cb) cb(err);
      this.failQueue(err);
      return;
    }
    // Still behind something else: it fails with the rest of the queue, in its place.
    for (const op of backlog.queue) {
      if (op.kind === HOLD && op.ticket === ticket) {
        op.kind = RAW;
        op.data = EMPTY_BUFFER;
        op.list = null;
        op.cb = cb;
        return;
      }
    }
  }

  /** Gives up a reserved place (the data could not be read): what waits behind it moves on. */
  cancel(ticket: number): void {
    this.settle(ticket, RAW, EMPTY_BUFFER, 0, true, false, undefined);
  }

  private settle(
    ticket: number,
    kind: number,
    data: Buffer,
    opcode: number,
    fin: boolean,
    compress: boolean,
    cb: WriteCallback | undefined,
    list: readonly Buffer[] | null = null,
  ): void {
    const backlog = this.backlog;
    if (backlog === null) return;
    if (ticket === backlog.activeHold) {
      backlog.activeHold = 0;
      this.queuedBytes -= backlog.activeHoldSize;
      backlog.activeHoldSize = 0;
      this.busy = false;
      const role = this.masked;
      this.masked = backlog.activeHoldMasked;
      if (kind === DATA) this.sendData(data, opcode === Opcode.BINARY, fin, compress, cb);
      else if (kind === CONTROL) this.writeFrame(data, opcode, true, false, cb);
      else if (list !== null) this.writeList(data, list, cb);
      else if (data.length !== 0) this.out.write(data, null, cb);
      this.masked = role;
      this.flushQueue();
      return;
    }
    for (const op of backlog.queue) {
      if (op.kind === HOLD && op.ticket === ticket) {
        const size = list === null ? data.length : data.length + listLength(list);
        this.queuedBytes += size - op.size;
        op.size = size;
        op.kind = kind === RAW ? RAW : kind;
        op.data = data;
        op.list = list;
        op.opcode = opcode;
        op.fin = fin;
        op.compress = compress;
        op.cb = cb;
        return;
      }
    }
  }

  /** The mask key for the next frame, or null in the server role. */
  private nextKey(): Buffer | null {
    if (!this.masked) return null;
    this.generateMask(KEY);
    return KEY;
  }

  /**
   * Sends a data message, or one fragment of it when `fin` is false (the next call continues it).
   * `compress` asks for compression; it applies only when a codec was negotiated and it wants this size.
   */
  sendData(data: Buffer | string, binary: boolean, fin: boolean, compress: boolean, cb?: WriteCallback): void {
    if (this.busy) {
      this.enqueue(new Queued(DATA, data, null, binary ? Opcode.BINARY : Opcode.TEXT, fin, compress, cb));
      return;
    }
    let opcode: number = binary ? Opcode.BINARY : Opcode.TEXT;
    if (this.fragmenting) {
      opcode = Opcode.CONTINUATION;
    } else {
      const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      this.compressing = compress && this.codec !== null && this.codec.shouldCompress(length);
    }
    this.fragmenting = !fin;

    if (this.compressing) {
      // RFC 7692 §6: RSV1 goes on the first frame of a compressed message only.
      const backlog = this.makeBacklog();
      this.busy = true;
      backlog.pendingFin = fin;
      backlog.pendingCb = cb;
      backlog.pendingOpcode = opcode;
      backlog.pendingMasked = this.masked;
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      backlog.pendingSize = bytes.length;
      this.queuedBytes += bytes.length;
      // One bound callback per writer (made on the first compression), not a closure per message.
      if (backlog.compressed === null) backlog.compressed = this.onCompressed.bind(this);
      const codec = this.codec as Codec;
      // The output in zlib's chunks when the codec can give it so: a large message is not joined.
      if (codec.compressChunks !== undefined) codec.compressChunks(bytes, fin, backlog.compressed);
      else codec.compress(bytes, fin, backlog.compressed);
      return;
    }
    this.writeFrame(data, opcode, fin, false, cb);
    if (fin && this.backlog !== null && this.backlog.queue.length !== 0) this.flushQueue();
  }

  /** The codec answered for the frame handed over in sendData(): one Buffer, or several (compressChunks). */
  private onCompressed(err: Error | null, data?: Buffer | Buffer[], length?: number): void {
    const backlog = this.backlog as Backlog;
    const cb = backlog.pendingCb;
    backlog.pendingCb = undefined;
    this.busy = false;
    this.queuedBytes -= backlog.pendingSize;
    backlog.pendingSize = 0;
    const out = this.out;
    if (out.isClosed !== undefined && out.isClosed()) {
      // The transport was destroyed meanwhile: this frame and every one waiting behind it fail, in order.
      err = new Error('The socket was closed while data was being compressed');
    }
    if (err) {
      // The codec failed (it was closed under us): report it and drop what waits behind it.
      if (cb) cb(err);
      this.failQueue(err);
      return;
    }
    const opcode = backlog.pendingOpcode;
    const role = this.masked;
    this.masked = backlog.pendingMasked;
    const rsv1 = opcode !== Opcode.CONTINUATION;
    if (Array.isArray(data)) this.writeChunkFrame(data, length === undefined ? listLength(data) : length, opcode, backlog.pendingFin, rsv1, cb);
    else this.writeFrame(data as Buffer, opcode, backlog.pendingFin, rsv1, cb);
    this.masked = role;
    this.flushQueue();
  }

  /** Sends a ping, pong or close frame (payload ≤ 125 bytes, checked by the caller). */
  sendControl(opcode: number, payload: Buffer | string, cb?: WriteCallback): void {
    if (this.busy) {
      this.enqueue(new Queued(CONTROL, payload, null, opcode, true, false, cb));
      return;
    }
    this.writeFrame(payload, opcode, true, false, cb);
  }

  /** Writes bytes that are already whole frames (a frame-once broadcast, engine.io's `sendFrame`), in order. */
  sendRaw(first: Buffer, second: Buffer | null, cb?: WriteCallback): void {
    // Whole frames must not land between the fragments of a message being sent (RFC 6455 §5.4):
    // they wait, like everything else, until that message's last fragment has gone out.
    if (this.busy || this.fragmenting) {
      this.enqueue(new Queued(RAW, first, second, 0, true, false, cb));
      return;
    }
    this.out.write(first, second, cb);
  }

  private writeFrame(data: Buffer | string, opcode: number, fin: boolean, rsv1: boolean, cb: WriteCallback | undefined) {
    const maskKey = this.nextKey();
    if (maskKey === null && this.out.writeSplit !== undefined) {
      this.writeSplitFrame(data, typeof data === 'string' ? Buffer.byteLength(data) : data.length, opcode, fin, rsv1, cb);
      return;
    }
    if (maskKey !== null) {
      // A client's frame is always one new buffer, the payload masked (or text encoded) straight into it.
      const frame = typeof data === 'string'
        ? buildTextFrame(data, Buffer.byteLength(data), opcode, fin, rsv1, maskKey)
        : maskedFrame(data, opcode, fin, rsv1, maskKey);
      this.out.write(frame, null, cb);
      return;
    }
    if (typeof data === 'string') {
      const length = Buffer.byteLength(data);
      if (length <= MERGE_LIMIT) {
        // Encode the text straight into the frame: one allocation, one copy.
        this.out.write(buildTextFrame(data, length, opcode, fin, rsv1, null), null, cb);
        return;
      }
      data = Buffer.from(data);
    }
    // Up to COPY_LIMIT copied behind its header (one buffer); larger, the header and then the caller's
    // buffer as it is.
    if (data.length > COPY_LIMIT) this.out.write(frameHeader(data.length, opcode, fin, rsv1), data, cb);
    else this.out.write(mergedFrame(data, opcode, fin, rsv1), null, cb);
  }

  /**
   * A frame whose payload is `chunks`: unmasked and large, a header then the chunks as they are (no
   * copy); else one new buffer (small: merged; a client's: masked into it, never in place).
   */
  private writeChunkFrame(chunks: Buffer[], length: number, opcode: number, fin: boolean, rsv1: boolean, cb: WriteCallback | undefined) {
    const maskKey = this.nextKey();
    const out = this.out;
    // (A large output split over zlib's chunks still leaves as they are, below: no multi-MiB join.)
    if (maskKey === null && out.writeSplit !== undefined && (chunks.length === 1 || length <= MERGE_LIMIT)) {
      this.writeSplitFrame(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length), length, opcode, fin, rsv1, cb);
      return;
    }
    if (maskKey === null && length > MERGE_LIMIT && out.writeChunks !== undefined) {
      out.writeChunks(frameHeader(length, opcode, fin, rsv1), chunks, cb);
      return;
    }
    out.write(buildFrameFromChunks(chunks, length, { opcode, fin, rsv1, maskKey }), null, cb);
  }

  /** An unmasked frame for an output that takes the header and the payload apart (see FrameOutput.writeSplit). */
  private writeSplitFrame(payload: Buffer | string, length: number, opcode: number, fin: boolean, rsv1: boolean, cb: WriteCallback | undefined) {
    const header = frameHeader(length, opcode, fin, rsv1);
    const out = this.out;
    if (length === 0) out.write(header, null, cb);
    else (out.writeSplit as NonNullable<FrameOutput['writeSplit']>)(header, payload, cb);
  }

  /** A pre-framed header and its payload buffers (joined only for an output without writeChunks). */
  private writeList(header: Buffer, list: readonly Buffer[], cb: WriteCallback | undefined): void {
    const out = this.out;
    if (out.writeChunks !== undefined) out.writeChunks(header, list, cb);
    else out.write(Buffer.concat([header, ...list]), null, cb);
  }

  private enqueue(op: Queued): void {
    if (op.kind !== HOLD) {
      op.size = (typeof op.data === 'string' ? Buffer.byteLength(op.data) : op.data.length) + (op.second !== null ? op.second.length : 0);
    }
    this.queuedBytes += op.size;
    op.masked = this.masked;
    this.makeBacklog().queue.push(op);
  }

  /** Replays queued operations in order until one starts a compression again. */
  private flushQueue(): void {
    const backlog = this.backlog;
    if (backlog === null) return;
    const queue = backlog.queue;
    const role = this.masked;
    while (queue.length !== 0 && !this.busy) {
      // Pre-framed bytes wait while a fragmented message is in progress (they resume after its end).
      if (queue[0].kind === RAW && this.fragmenting) break;
      const op = queue.shift() as Queued;
      if (op.kind === HOLD) {
        // Its bytes have not arrived: it becomes the active hold and stops the line again.
        this.busy = true;
        backlog.activeHold = op.ticket;
        backlog.activeHoldSize = op.size;
        backlog.activeHoldMasked = op.masked;
        break;
      }
      this.queuedBytes -= op.size;
      this.masked = op.masked;
      if (op.kind === DATA) {
        this.sendData(op.data, op.opcode === Opcode.BINARY, op.fin, op.compress, op.cb);
      } else if (op.kind === CONTROL) {
        this.writeFrame(op.data, op.opcode, true, false, op.cb);
      } else if (op.list !== null) {
        this.writeList(op.data as Buffer, op.list, op.cb);
      } else if (op.data.length !== 0 || op.second !== null) {
        this.out.write(op.data as Buffer, op.second, op.cb);
      }
    }
    this.masked = role;
  }

  private failQueue(err: Error): void {
    const queue = this.backlog === null ? [] : this.backlog.queue.splice(0);
    this.queuedBytes = 0;
    for (const op of queue) if (op.cb) op.cb(err);
  }

  /** Size a frame of `length` bytes takes on the wire in this role (for bufferedAmount accounting). */
  frameSize(length: number): number {
    return headerSize(length, this.masked) + length;
  }
}

/** Bytes in a list of buffers. */
function listLength(list: readonly Buffer[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += list[i].length;
  return n;
}

export { EMPTY_BUFFER };
