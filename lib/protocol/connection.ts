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
import { FrameParser, type ReceiveState } from './parser';
import { FrameWriter, type FrameOutput, type WriteCallback } from './writer';

/** What a Connection reports to, and writes through. */
export interface Sink extends FrameOutput {
  /** A whole data message (text arrives as a Buffer, already validated). */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void;
  /** A ping arrived (the automatic pong, if due, has been queued already). */
  onPing(data: Buffer): void;
  /** A pong arrived. */
  onPong(data: Buffer): void;
  /**
   * Optional: an automatic pong is due. Return true when the sink sends it itself (ws's WebSocket calls
   * its own `pong()`, so code that overrides that method decides), calling `done` once it is flushed;
   * false to have it written here.
   */
  autoPong?(data: Buffer, done: (err?: Error | null) => void): boolean;
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

/** Close-handshake progress (RFC 6455 §7), as flags: the two close frames can cross in either order. */
const CLOSE_SENT = 1; // our close frame is queued (at most one is ever sent)
const CLOSE_FLUSHED = 2; // ... and handed to the transport
const CLOSE_RECEIVED = 4; // the peer's close frame arrived
const FAILED = 8; // a protocol violation failed the connection (our close frame names it)

function orDefault(value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : value | 0;
}

/** One WebSocket connection's protocol state, after the opening handshake. */
export class Connection {
  /**
   * OPEN until a close frame is sent or received or the transport starts going away, CLOSING until the
   * transport is gone, then CLOSED. The one record of the connection's state: the WebSocket face reads
   * it, and changes it only through the verbs below.
   */
  private state: number;
  private readonly parser: FrameParser;
  private readonly writer: FrameWriter;
  private readonly sink: Sink;
  /** CLOSE_SENT | CLOSE_FLUSHED | CLOSE_RECEIVED | FAILED. */
  private closeState: number;
  /** The transport is gone (`endOfInput`): queued input is still processed, but nothing is written. */
  inputEnded: boolean;
  /** The status to report for the close: the peer's, 1005 without one, 1006 when none arrived. */
  closeCode: number;
  /** The peer's close reason (a copy, so it pins no input buffer). */
  closeReason: Buffer;

  autoPong: boolean;
  private autoPongsQueued: number;
  /** Bound on first use (an idle connection that never pongs or closes pays for no closure). */
  private autoPongFlushed: WriteCallback | null;
  private closeFrameFlushed: WriteCallback | null;

  constructor(sink: Sink, options: ConnectionOptions) {
    this.state = ReadyState.OPEN;
    this.sink = sink;
    const codec = options.codec || null;
    // (Role and limits are kept once for every connection that has the same: see ParserLimits.)
    this.parser = new FrameParser(this, {
      isServer: options.isServer,
      maxPayload: orDefault(options.maxPayload, DEFAULT_MAX_PAYLOAD),
      maxFragments: orDefault(options.maxFragments, DEFAULT_MAX_FRAGMENTS),
      maxBufferedChunks: orDefault(options.maxBufferedChunks, DEFAULT_MAX_BUFFERED_CHUNKS),
      skipUTF8Validation: !!options.skipUTF8Validation,
      fragments: !!options.fragments,
      assemble: options.assemble,
      maxFrameSize: options.maxFrameSize,
      maxPendingAutoPongs: orDefault(options.maxPendingAutoPongs, DEFAULT_MAX_PENDING_AUTO_PONGS),
      codec,
    });
    this.writer = new FrameWriter(sink, {
      mask: !options.isServer,
      generateMask: options.generateMask,
      codec,
    });
    this.closeState = 0;
    this.inputEnded = false;
    this.closeCode = 1006;
    this.closeReason = EMPTY_BUFFER;
    this.autoPong = options.autoPong !== false;
    this.autoPongsQueued = 0;
    this.autoPongFlushed = null;
    this.closeFrameFlushed = null;
  }

  /** Server role (frames in are masked, frames out are not). */
  get isServer(): boolean {
    return this.parser.limits.isServer;
  }

  /** The negotiated codec (permessage-deflate), or null. */
  get extension(): Codec | null {
    return this.parser.codec;
  }

  /** Automatic pongs queued and not yet flushed (ws's `_pendingAutoPongs`). */
  get pendingAutoPongs(): number {
    return this.autoPongsQueued;
  }

  /** OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    return this.state;
  }

  /** Our close frame has been queued. */
  get closeSent(): boolean {
    return (this.closeState & CLOSE_SENT) !== 0;
  }

  /** Our close frame has been handed to the transport (ws's `_closeFrameSent`). */
  get closeFlushed(): boolean {
    return (this.closeState & CLOSE_FLUSHED) !== 0;
  }

  /** The peer's close frame has arrived. */
  get closeReceived(): boolean {
    return (this.closeState & CLOSE_RECEIVED) !== 0;
  }

  /** A protocol violation failed the connection. */
  get failed(): boolean {
    return (this.closeState & FAILED) !== 0;
  }

  /**
   * Nothing is left of the closing handshake but ending the transport: our close frame is out, and the
   * peer's arrived (or the connection failed, when no answer is awaited).
   */
  get closeDone(): boolean {
    const s = this.closeState;
    return (s & CLOSE_FLUSHED) !== 0 && (s & (CLOSE_RECEIVED | FAILED)) !== 0;
  }

  /** Data messages no longer arrive: the peer's close frame came, or a violation stopped the parser. */
  get inputClosed(): boolean {
    return (this.closeState & (CLOSE_RECEIVED | FAILED)) !== 0;
  }

  /**
   * The transport is going away without (more of) a closing handshake: the peer ended or reset it, or
   * the face is destroying it (`terminate()`, `drop()`). OPEN becomes CLOSING; CLOSED comes with `closed()`.
   */
  transportEnding(): void {
    if (this.state === ReadyState.OPEN) this.state = ReadyState.CLOSING;
  }

  // --- the writer's verbs (frames in call order, whatever is queued ahead) ------------------------------

  /** Bytes accepted by send calls but not yet handed to the transport (waiting for zlib or a Blob). */
  get queuedBytes(): number {
    return this.writer.queuedBytes;
  }

  /** What the writer waits for (see FrameWriter.waitState). */
  get sendWaitState(): number {
    return this.writer.waitState;
  }

  /** A fragmented message is being sent (its last frame is not written yet): a raw frame must wait. */
  get sendingFragments(): boolean {
    return this.writer.inMessage;
  }

  /**
   * Masks frames, or not, against the role's rule until `maskByRole()` (ws's per-send `mask` option, for
   * testing peers).
   */
  maskFrames(masked: boolean): void {
    this.writer.masked = masked;
  }

  /** Back to the role's rule: clients mask, servers do not. */
  maskByRole(): void {
    this.writer.masked = !this.isServer;
  }

  /** Writes pre-framed bytes (a published frame, engine.io's `sendFrame`) in order with everything else. */
  sendRaw(first: Buffer, second: Buffer | null, cb?: WriteCallback): void {
    this.writer.sendRaw(first, second, cb);
  }

  /**
   * Reserves the next place in the outgoing order for bytes that arrive later (a Blob being read, a
   * shared deflate on zlib's pool): later sends wait behind it. Returns the ticket to fill it with.
   */
  reserve(size: number): number {
    return this.writer.reserve(size);
  }

  /** Fills a reserved place with a data message. */
  fulfil(ticket: number, data: Buffer, binary: boolean, fin: boolean, compress: boolean, cb?: WriteCallback): void {
    this.writer.fulfil(ticket, data, binary, fin, compress, cb);
  }

  /** Fills a reserved place with a control frame. */
  fulfilControl(ticket: number, opcode: number, payload: Buffer, cb?: WriteCallback): void {
    this.writer.fulfilControl(ticket, opcode, payload, cb);
  }

  /** Fills a reserved place with pre-framed bytes. */
  fulfilRaw(ticket: number, frames: Buffer, cb?: WriteCallback): void {
    this.writer.fulfilRaw(ticket, frames, cb);
  }

  /** Fills a reserved place with a frame given as its header and payload buffers (shared, never modified). */
  fulfilRawChunks(ticket: number, header: Buffer, chunks: readonly Buffer[], cb?: WriteCallback): void {
    this.writer.fulfilRawChunks(ticket, header, chunks, cb);
  }

  /** Gives a reserved place up: what waited behind it goes on. */
  cancel(ticket: number): void {
    this.writer.cancel(ticket);
  }

  /** The transport is gone while a place was reserved: its callback and every one behind it get `err`. */
  abandon(ticket: number, cb: WriteCallback | undefined, err: Error): void {
    this.writer.abandon(ticket, cb, err);
  }

  // --- the parser's verbs ---------------------------------------------------------------------------

  /** Holds parsing after the current event (an event deferred to a later turn); `resumeInput()` goes on. */
  suspendInput(): void {
    this.parser.suspend();
  }

  /** Goes on parsing after `suspendInput()`. */
  resumeInput(): void {
    this.parser.resume();
  }

  /** Binary messages as their frames' payloads (`fragments`/`blob` binaryType) or joined (default). */
  set deliverFragments(on: boolean) {
    this.parser.fragments = on;
  }

  /** The receiving side's limits and progress, a snapshot (ws's `_receiver` fields). */
  receiveState(): ReceiveState {
    return this.parser.receiveState();
  }

  /** Bytes received and held back, not yet parsed (an inflate is pending or events are deferred). */
  get heldBytes(): number {
    return this.parser.queuedBytes;
  }

  /** See FrameParser.bulkReadSize: bytes the next read could take into a buffer of their own (0: none). */
  bulkReadSize(): number {
    return this.parser.bulkReadSize();
  }

  /** See FrameParser.readInto: the payload buffer's next bytes, for a read to land in place (or null). */
  readInto(): Buffer | null {
    return this.parser.readInto();
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
    this.transportEnding();
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
    if ((this.closeState & CLOSE_SENT) !== 0) {
      if (this.closeDone) this.sink.end();
      return;
    }
    this.sendClose(payload);
  }

  private sendClose(payload: Buffer): void {
    this.closeState |= CLOSE_SENT;
    this.state = ReadyState.CLOSING;
    this.closeFrameFlushed = this.onCloseFlushed.bind(this);
    this.writer.sendControl(Opcode.CLOSE, payload, this.closeFrameFlushed);
  }

  /** The transport is gone: nothing more is parsed or sent. */
  closed(): void {
    this.state = ReadyState.CLOSED;
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
      if (this.autoPong && this.state === ReadyState.OPEN) {
        const max = this.parser.limits.maxPendingAutoPongs;
        if (max > 0 && this.autoPongsQueued >= max) {
          this.sink.terminate();
        } else {
          this.autoPongsQueued++;
          // Bound once per connection, on its first ping: no closure per pong.
          if (this.autoPongFlushed === null) this.autoPongFlushed = this.onAutoPongFlushed.bind(this);
          const sink = this.sink;
          if (sink.autoPong === undefined || !sink.autoPong(data, this.autoPongFlushed)) {
            this.writer.sendControl(Opcode.PONG, data, this.autoPongFlushed);
          }
        }
      }
      this.sink.onPing(data);
    } else if (opcode === Opcode.PONG) {
      this.sink.onPong(data);
    } else {
      // §7.1.5: the close status is the first two bytes; §5.5.1: reply with a close frame of our own,
      // echoing the status, unless ours went out first.
      this.closeState |= CLOSE_RECEIVED;
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
      } else if ((this.closeState & CLOSE_SENT) === 0) {
        this.sendClose(code === 1005 ? EMPTY_BUFFER : Buffer.from(data));
      } else if ((this.closeState & CLOSE_FLUSHED) !== 0) {
        this.sink.end();
      }
      this.sink.onClose(code, reason);
    }
  }

  /** @internal */
  onParseError(err: WsError): void {
    // §7.1.7: fail the connection: send a close frame with the status that names the violation.
    this.closeState |= FAILED;
    if (this.inputEnded) {
      // The transport is gone: no close frame can be sent.
    } else if ((this.closeState & CLOSE_SENT) === 0) {
      this.sendClose(closePayload(err[kStatusCode]));
    } else if ((this.closeState & CLOSE_FLUSHED) !== 0) {
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
    this.autoPongsQueued--;
  }

  private onCloseFlushed(err?: Error | null): void {
    if (err) return;
    this.closeState |= CLOSE_FLUSHED;
    if (this.closeDone) this.sink.end();
  }
}
