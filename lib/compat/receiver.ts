/**
 * `Receiver`: ws's exported frame parser shape (a Writable fed with `write(buffer)`, emitting
 * `message`/`ping`/`pong`/`conclude`/`error`), as a thin adapter over the core's FrameParser. weft's own
 * WebSocket drives the parser directly and pays none of this stream's cost.
 *
 * A write's callback runs once the parser is done with the chunk: after any inflate it started and any
 * event deferred by `allowSynchronousEvents: false`, so the stream hands over the next chunk only then,
 * and a violation found later (in inflated bytes, say) reaches the stream as that write's error.
 */
import { Writable } from 'stream';
import { EMPTY_BUFFER, Opcode } from '../protocol/constants';
import type { Codec, CodecCallback } from '../protocol/codec';
import type { WsError } from '../protocol/errors';
import { FrameParser } from '../protocol/parser';
import { binaryMessage } from '../util/convert';

/** ws's Receiver options (an options object since ws 8.20). */
export interface ReceiverOptions {
  allowSynchronousEvents?: boolean;
  binaryType?: 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
  extensions?: Record<string, unknown>;
  isServer?: boolean;
  maxBufferedChunks?: number;
  maxFragments?: number;
  maxPayload?: number;
  skipUTF8Validation?: boolean;
}

type WriteCb = (err?: Error | null) => void;

/** What may sit under `extensions['permessage-deflate']`: weft's PerMessageDeflate, or anything with ws's `decompress`. */
interface DeflateLike {
  codec?: () => Codec;
  decompress?: (data: Buffer, fin: boolean, cb: CodecCallback) => void;
}

/**
 * Stands between the parser and the negotiated codec to learn when an inflate answers: the parser
 * continues with its queued input inside that answer, after which the pending write may complete.
 */
class InflateWatch implements Codec {
  /** True from a decompress request until its answer. */
  busy: boolean;
  private readonly receiver: Receiver;
  private readonly inner: Codec;
  private parserCb: CodecCallback | null;
  private readonly answered: CodecCallback;

  constructor(receiver: Receiver, inner: Codec) {
    this.receiver = receiver;
    this.inner = inner;
    this.busy = false;
    this.parserCb = null;
    this.answered = this.onAnswer.bind(this);
  }

  decompress(data: Buffer, fin: boolean, cb: CodecCallback): void {
    this.busy = true;
    this.parserCb = cb;
    this.inner.decompress(data, fin, this.answered);
  }

  compress(data: Buffer, fin: boolean, cb: CodecCallback): void {
    this.inner.compress(data, fin, cb);
  }

  shouldCompress(length: number): boolean {
    return this.inner.shouldCompress(length);
  }

  cleanup(): void {
    this.inner.cleanup();
  }

  private onAnswer(err: Error | null, data?: Buffer): void {
    this.busy = false;
    const cb = this.parserCb as CodecCallback;
    this.parserCb = null;
    cb(err, data);
    this.receiver.settle();
  }
}

/** ws's Receiver: a Writable that parses the frames written to it. */
export class Receiver extends Writable {
  /** @internal ws's fields, as ws names them (integrations read them). */
  _allowSynchronousEvents: boolean;
  /** @internal */
  _extensions: Record<string, unknown>;
  /** @internal */
  _isServer: boolean;
  /** @internal */
  _maxPayload: number;
  /** @internal */
  _maxFragments: number;
  /** @internal */
  _maxBufferedChunks: number;
  /** @internal */
  _skipUTF8Validation: boolean;
  /** @internal */
  private type: string;
  /** @internal */
  private readonly parser: FrameParser;
  /** @internal */
  private readonly watch: InflateWatch | null;
  /** @internal */
  private cb: WriteCb | null;
  /** @internal */
  private failed: Error | null;
  /** @internal An event is waiting for its own turn (`allowSynchronousEvents: false`). */
  private deferred: boolean;
  /** @internal Inside `_write`'s call into the parser: completion is decided when it returns. */
  private writing: boolean;

  constructor(options: ReceiverOptions = {}) {
    super();
    this._allowSynchronousEvents =
      options.allowSynchronousEvents !== undefined ? !!options.allowSynchronousEvents : true;
    this.type = options.binaryType || 'nodebuffer';
    this._extensions = options.extensions || {};
    this._isServer = !!options.isServer;
    this._maxPayload = options.maxPayload! | 0;
    this._maxFragments = options.maxFragments! | 0;
    this._maxBufferedChunks = options.maxBufferedChunks! | 0;
    this._skipUTF8Validation = !!options.skipUTF8Validation;
    const pmd = this._extensions['permessage-deflate'] as DeflateLike | undefined;
    let codec: Codec | null = null;
    if (pmd && typeof pmd.codec === 'function') codec = pmd.codec();
    else if (pmd && typeof pmd.decompress === 'function') codec = pmd as unknown as Codec;
    this.watch = codec !== null ? new InflateWatch(this, codec) : null;
    this.parser = new FrameParser(this, {
      isServer: this._isServer,
      maxPayload: this._maxPayload,
      maxFragments: this._maxFragments,
      maxBufferedChunks: this._maxBufferedChunks,
      skipUTF8Validation: this._skipUTF8Validation,
      fragments: keepsFrames(this.type),
      codec: this.watch,
    });
    this.cb = null;
    this.failed = null;
    this.deferred = false;
    this.writing = false;
  }

  /** @internal How binary messages are emitted, as WebSocket's binaryType; may change between messages. */
  get _binaryType(): string {
    return this.type;
  }

  /** @internal */
  set _binaryType(type: string) {
    this.type = type;
    this.parser.fragments = keepsFrames(type);
  }

  /** @internal Payload bytes of the message being received so far (ws's `_totalPayloadLength`). */
  get _totalPayloadLength(): number {
    return this.parser.receiveState().messageBytes;
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCb): void {
    // As ws: once the close frame is parsed, further bytes are accepted and ignored.
    this.cb = cb;
    this.writing = true;
    this.parser.push(chunk);
    this.writing = false;
    this.settle();
  }

  /** @internal Completes the pending write once the parser has nothing of it left to do. */
  settle(): void {
    const cb = this.cb;
    if (cb === null || this.writing) return;
    if (this.failed === null && !this.parser.stopped) {
      if (this.deferred || this.parser.queuedChunks !== 0) return;
      if (this.watch !== null && this.watch.busy) return;
    }
    this.cb = null;
    cb(this.failed);
  }

  /** @internal */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (!this._allowSynchronousEvents) {
      this.defer('message', data, isBinary);
      return;
    }
    this.emitMessage(data, isBinary);
  }

  /** @internal */
  emitMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) {
      this.emit('message', data, false);
      return;
    }
    this.emit('message', binaryMessage(data, this.type), true);
  }

  /** @internal */
  onControl(opcode: number, data: Buffer): void {
    if (opcode === Opcode.CLOSE) {
      // ws: 'conclude' with 1005 and an empty buffer when the frame had no status.
      const code = data.length >= 2 ? data.readUInt16BE(0) : 1005;
      const reason = data.length > 2 ? data.subarray(2) : EMPTY_BUFFER;
      this.emit('conclude', code, reason);
      this.end();
      return;
    }
    const event = opcode === Opcode.PING ? 'ping' : 'pong';
    if (!this._allowSynchronousEvents) {
      this.defer(event, data, false);
      return;
    }
    this.emit(event, data);
  }

  /** @internal */
  onParseError(err: WsError): void {
    this.failed = err;
    const cb = this.cb;
    if (cb !== null) {
      if (this.writing) return; // _write completes it with the error
      this.cb = null;
      cb(err);
      return;
    }
    this.destroy(err);
  }

  /** @internal */
  private defer(event: string, data: Buffer | Buffer[], isBinary: boolean): void {
    this.deferred = true;
    this.parser.suspend();
    setImmediate(deferredEmit, this, event, data, isBinary);
  }

  /** @internal Runs after a deferred event: the parser continues, then the pending write may complete. */
  resumeAfterDeferred(): void {
    this.deferred = false;
    this.parser.resume();
    this.settle();
  }
}

function keepsFrames(binaryType: string): boolean {
  return binaryType === 'fragments' || binaryType === 'blob';
}

function deferredEmit(receiver: Receiver, event: string, data: Buffer | Buffer[], isBinary: boolean): void {
  if (event === 'message') receiver.emitMessage(data, isBinary);
  else receiver.emit(event, data);
  receiver.resumeAfterDeferred();
}
