/**
 * `Receiver`: ws's exported frame parser shape (a Writable fed with `write(buffer)`, emitting
 * `message`/`ping`/`pong`/`conclude`/`error`), as a thin adapter over the core's FrameParser. weft's own
 * WebSocket drives the parser directly and pays none of this stream's cost.
 */
import { Writable } from 'stream';
import { EMPTY_BUFFER, Opcode } from '../protocol/constants';
import type { Codec } from '../protocol/codec';
import type { WsError } from '../protocol/errors';
import { FrameParser, type ParserHandler } from '../protocol/parser';
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

/** ws's Receiver: a Writable that parses the frames written to it. */
export class Receiver extends Writable implements ParserHandler {
  /** @internal How binary messages are emitted, as WebSocket's binaryType. */
  _binaryType: string;
  /** @internal */
  private readonly parser: FrameParser;
  /** @internal */
  private readonly allowSync: boolean;
  /** @internal */
  private cb: WriteCb | null;
  /** @internal */
  private failed: Error | null;

  constructor(options: ReceiverOptions = {}) {
    super();
    this._binaryType = options.binaryType || 'nodebuffer';
    this.allowSync = options.allowSynchronousEvents !== undefined ? !!options.allowSynchronousEvents : true;
    const extensions = options.extensions || {};
    const pmd = extensions['permessage-deflate'] as { codec?: () => Codec } | undefined;
    this.parser = new FrameParser(this, {
      isServer: !!options.isServer,
      maxPayload: (options.maxPayload || 0) | 0,
      maxFragments: (options.maxFragments || 0) | 0,
      maxBufferedChunks: (options.maxBufferedChunks || 0) | 0,
      skipUTF8Validation: !!options.skipUTF8Validation,
      fragments: this._binaryType === 'fragments' || this._binaryType === 'blob',
      codec: pmd && typeof pmd.codec === 'function' ? pmd.codec() : null,
    });
    this.cb = null;
    this.failed = null;
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCb): void {
    // As ws: once the close frame is parsed, further bytes are accepted and ignored.
    this.cb = cb;
    this.parser.push(chunk);
    if (this.cb === cb) {
      // Nothing is pending (an inflate or a deferred event would keep the callback for later).
      if (!this.parserWaiting()) {
        this.cb = null;
        cb(this.failed);
      }
    }
  }

  /** @internal */
  private parserWaiting(): boolean {
    return this.parser.queuedChunks !== 0;
  }

  /** @internal */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (!this.allowSync) {
      this.parser.suspend();
      setImmediate(deferredEmit, this, 'message', data, isBinary);
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
    this.emit('message', binaryMessage(data, this._binaryType), true);
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
    if (!this.allowSync) {
      this.parser.suspend();
      setImmediate(deferredEmit, this, event, data, false);
      return;
    }
    this.emit(event, data);
  }

  /** @internal */
  onParseError(err: WsError): void {
    this.failed = err;
    const cb = this.cb;
    if (cb !== null) {
      this.cb = null;
      cb(err);
    }
  }

  /** @internal Resumes after a deferred event and completes the pending write. */
  resumeAfterDeferred(): void {
    this.parser.resume();
    const cb = this.cb;
    if (cb !== null && !this.parserWaiting()) {
      this.cb = null;
      cb(this.failed);
    }
  }
}

function deferredEmit(receiver: Receiver, event: string, data: Buffer | Buffer[], isBinary: boolean): void {
  if (event === 'message') receiver.emitMessage(data, isBinary);
  else receiver.emit(event, data);
  receiver.resumeAfterDeferred();
}
