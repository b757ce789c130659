/**
 * The connection state machine (RFC 6455 §7): one parser and one writer joined by the rules of the
 * close handshake, automatic pongs and failing the connection. Bytes in through `receiveData`, events
 * and bytes out through a Sink, synchronously. No sockets, no timers: the face above owns those.
 */
import {
  DEFAULT_MAX_BUFFERED_CHUNKS,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_AUTO_PONGS,
  EMPTY_BUFFER,
  Opcode,
  ReadyState,
  kStatusCode,
} from './constants';
import { closePayload } from './close';
import type { Codec } from './codec';
import type { WsError } from './errors';
import type { MaskGenerator } from './frame';
import { FrameParser } from './parser';
import { FrameWriter, type FrameOutput, type WriteCallback } from './writer';

/** What a Connection reports to, and writes through. */
export interface Sink extends FrameOutput {
  /** A whole data message (text arrives as a Buffer, already validated). */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void;
  /** A ping arrived (the automatic pong, if due, has been queued already). */
  onPing(data: Buffer): void;
  /** A pong arrived. */
  onPong(data: Buffer): void;
  /** The peer's close frame arrived (1005 when it had no status); our reply, if due, is queued. */
  onClose(code: number, reason: Buffer): void;
  /** A protocol violation: the close frame with its status is queued and nothing more will be parsed. */
  onError(err: WsError): void;
  /** Our close frame is flushed and the peer's arrived (or the connection failed): end the transport. */
  end(): void;
  /** The connection must be dropped at once (the peer floods pings faster than we can answer). */
  terminate(): void;
  /** With `assemble: false`: one data frame as it completes. */
  onFrame?(opcode: number, fin: boolean, payload: Buffer): void;
  /** `receiveData` had returned false (input is held back); the held input has shrunk: feed more. */
  onDrain?(): void;
  /** After `endOfInput()` returned false: the input that was held back has now been processed. */
  onFinish?(): void;
}

/** Options of a Connection. Limits use ws 8.23's defaults; 0 turns one off. */
export interface ConnectionOptions {
  isServer: boolean;
  maxPayload?: number;
  maxFragments?: number;
  maxBufferedChunks?: number;
  skipUTF8Validation?: boolean;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  /** Drop the connection when more automatic pongs than this await their flush (default 60). */
  maxPendingAutoPongs?: number;
  /** Deliver binary messages as their frames' payloads (`fragments` binaryType). */
  fragments?: boolean;
  /** Report data frames one by one (`onFrame`) instead of joining them into messages. */
  assemble?: boolean;
  /** Largest single frame payload; 0 = off. */
  maxFrameSize?: number;
  generateMask?: MaskGenerator | null;
  codec?: Codec | null;
}

function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : value | 0;
}

/** One WebSocket connection's protocol state, after the opening handshake. */
export class Connection {
  readonly isServer: boolean;
  /** OPEN until a close frame is sent or received, CLOSING until the transport is gone, then CLOSED. */
  readyState: number;
  readonly parser: FrameParser;
  readonly writer: FrameWriter;
  private readonly sink: Sink;

  /** Our close frame has been queued (at most one is ever sent). */
  closeSent: boolean;
  /** Our close frame has been flushed to the transport. */
  closeFlushed: boolean;
  /** The peer's close frame has arrived. */
  closeReceived: boolean;
  /** A protocol violation failed the connection. */
  failed: boolean;
  /** The transport is gone (`endOfInput`): queued input is still processed, but nothing is written. */
  inputEnded: boolean;
  /** The status to report for the close: the peer's, 1005 without one, 1006 when none arrived. */
  closeCode: number;
  /** The peer's close reason (a copy, so it pins no input buffer). */
  closeReason: Buffer;

  autoPong: boolean;
  private readonly maxPendingAutoPongs: number;
  private pendingAutoPongs: number;
  private codec: Codec | null;
  /** Bound on first use (an idle connection that never pongs or closes pays for no closure). */
  private autoPongFlushed: WriteCallback | null;
  private closeFrameFlushed: WriteCallback | null;

  constructor(sink: Sink, options: ConnectionOptions) {
    this.isServer = options.isServer;
    this.readyState = ReadyState.OPEN;
    this.sink = sink;
    this.codec = options.codec || null;
    this.parser = new FrameParser(this, {
      isServer: options.isServer,
      maxPayload: orDefault(options.maxPayload, DEFAULT_MAX_PAYLOAD),
      maxFragments: orDefault(options.maxFragments, DEFAULT_MAX_FRAGMENTS),
      maxBufferedChunks: orDefault(options.maxBufferedChunks, DEFAULT_MAX_BUFFERED_CHUNKS),
      skipUTF8Validation: !!options.skipUTF8Validation,
      fragments: !!options.fragments,
      assemble: options.assemble,
      maxFrameSize: options.maxFrameSize,
      codec: this.codec,
    });
    this.writer = new FrameWriter(sink, {
      mask: !options.isServer,
      generateMask: options.generateMask,
      codec: this.codec,
    });
    this.closeSent = false;
    this.closeFlushed = false;
    this.closeReceived = false;
    this.failed = false;
    this.inputEnded = false;
    this.closeCode = 1006;
    this.closeReason = EMPTY_BUFFER;
    this.autoPong = options.autoPong !== false;
    this.maxPendingAutoPongs = orDefault(options.maxPendingAutoPongs, DEFAULT_MAX_PENDING_AUTO_PONGS);
    this.pendingAutoPongs = 0;
    this.autoPongFlushed = null;
    this.closeFrameFlushed = null;
  }

  /** The negotiated codec (permessage-deflate), or null. */
  get extension(): Codec | null {
    return this.codec;
  }

  /**
   * Feeds bytes from the transport. Returns false when input is being held back (an inflate is pending
   * or events are deferred) past the parser's high-water mark: stop reading until the sink's `onDrain()`.
   */
  receiveData(chunk: Buffer): boolean {
    return this.parser.push(chunk);
  }

  /**
   * The transport closed: no more bytes in, none out. Messages and a close frame already received are
   * still delivered (RFC 6455 §5.5.1 lets the peer send data until its close frame). Returns true when
   * nothing is left to process; otherwise the sink hears `onFinish()` once the held input is done.
   */
  endOfInput(): boolean {
    this.inputEnded = true;
    if (this.readyState === ReadyState.OPEN) this.readyState = ReadyState.CLOSING;
    return this.parser.finish();
  }

  /** Sends a data message (or a fragment of one when `fin` is false). */
  sendMessage(data: Buffer | string, binary: boolean, fin: boolean, compress: boolean, cb?: WriteCallback): void {
    this.writer.sendData(data, binary, fin, compress, cb);
  }

  /** Sends a ping; the payload must be at most 125 bytes (the face checks and throws as ws does). */
  ping(data: Buffer, cb?: WriteCallback): void {
    this.writer.sendControl(Opcode.PING, data, cb);
  }

  /** Sends a pong. */
  pong(data: Buffer, cb?: WriteCallback): void {
    this.writer.sendControl(Opcode.PONG, data, cb);
  }

  /**
   * Starts (or completes) the closing handshake (RFC 6455 §7.1.2): sends our close frame once. Throws
   * ws's TypeError/RangeError for a code that may not be sent or a reason over 123 bytes.
   */
  close(code?: number, reason?: string | Uint8Array): void {
    const payload = closePayload(code, reason);
    if (this.closeSent) {
      if (this.closeFlushed && (this.closeReceived || this.failed)) this.sink.end();
      return;
    }
    this.sendClose(payload);
  }

  private sendClose(payload: Buffer): void {
    this.closeSent = true;
    this.readyState = ReadyState.CLOSING;
    this.closeFrameFlushed = this.onCloseFlushed.bind(this);
    this.writer.sendControl(Opcode.CLOSE, payload, this.closeFrameFlushed);
  }

  /** The transport is gone: nothing more is parsed or sent. */
  closed(): void {
    this.readyState = ReadyState.CLOSED;
    this.parser.stop();
  }

  // --- ParserHandler -----------------------------------------------------------------------------

  /** @internal */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    this.sink.onMessage(data, isBinary);
  }

  /** @internal */
  onFrame(opcode: number, fin: boolean, payload: Buffer): void {
    if (this.sink.onFrame !== undefined) this.sink.onFrame(opcode, fin, payload);
  }

  /** @internal */
  onControl(opcode: number, data: Buffer): void {
    if (opcode === Opcode.PING) {
      // §5.5.2: answer a ping with a pong carrying the same payload (while open, as ws 8.23 does).
      if (this.autoPong && this.readyState === ReadyState.OPEN) {
        if (this.maxPendingAutoPongs > 0 && this.pendingAutoPongs >= this.maxPendingAutoPongs) {
          this.sink.terminate();
        } else {
          this.pendingAutoPongs++;
          // Bound once per connection, on its first ping: no closure per pong.
          if (this.autoPongFlushed === null) this.autoPongFlushed = this.onAutoPongFlushed.bind(this);
          this.writer.sendControl(Opcode.PONG, data, this.autoPongFlushed);
        }
      }
      this.sink.onPing(data);
    } else if (opcode === Opcode.PONG) {
      this.sink.onPong(data);
    } else {
      // §7.1.5: the close status is the first two bytes; §5.5.1: reply with a close frame of our own,
      // echoing the status, unless ours went out first.
      this.closeReceived = true;
      let code = 1005;
      let reason = EMPTY_BUFFER;
      if (data.length >= 2) {
        code = data.readUInt16BE(0);
        // Copy the reason so it does not pin the (often 64 KiB) chunk it arrived in; unpooled, so that
        // it does not pin an 8 KiB pool slab either.
        if (data.length > 2) {
          reason = Buffer.allocUnsafeSlow(data.length - 2);
          data.copy(reason, 0, 2);
        }
      }
      this.closeCode = code;
      this.closeReason = reason;
      if (this.inputEnded) {
        // The transport is gone: there is nobody to answer.
      } else if (!this.closeSent) {
        this.sendClose(code === 1005 ? EMPTY_BUFFER : Buffer.from(data));
      } else if (this.closeFlushed) {
        this.sink.end();
      }
      this.sink.onClose(code, reason);
    }
  }

  /** @internal */
  onParseError(err: WsError): void {
    // §7.1.7: fail the connection: send a close frame with the status that names the violation.
    this.failed = true;
    if (this.inputEnded) {
      // The transport is gone: no close frame can be sent.
    } else if (!this.closeSent) {
      this.sendClose(closePayload(err[kStatusCode]));
    } else if (this.closeFlushed) {
      this.sink.end();
    }
    this.sink.onError(err);
  }

  /** @internal */
  onDrain(): void {
    if (this.sink.onDrain !== undefined) this.sink.onDrain();
  }

  /** @internal */
  onFinish(): void {
    if (this.sink.onFinish !== undefined) this.sink.onFinish();
  }

  private onAutoPongFlushed(): void {
    this.pendingAutoPongs--;
  }

  private onCloseFlushed(err?: Error | null): void {
    if (err) return;
    this.closeFlushed = true;
    if (this.closeReceived || this.failed) this.sink.end();
  }
}
