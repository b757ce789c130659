/**
 * What the frame parser reports to, and the options it takes.
 */
import type { Codec } from './codec';
import type { WsError } from './errors';

/** Where the parsed frames go. */
export interface ParserHandler {
  /** @internal A complete data message: one Buffer, or the list of frame payloads in `fragments` mode. */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void;
  /** @internal A complete control frame (ping, pong or close, already validated). */
  onControl(opcode: number, data: Buffer): void;
  /** @internal A protocol violation; the parser has stopped and will ignore all further input. */
  onParseError(err: WsError): void;
  /**
   * @internal With `assemble: false`: one data frame (opcode 1/2 for a message's first frame, 0 after), delivered
   * as it completes instead of being joined into a message.
   */
  onFrame?(opcode: number, fin: boolean, payload: Buffer): void;
  /** Input held back had made `push()` return false; the queue is under its high-water mark again: feed more. */
  onDrain?(): void;
  /** After `finish()` returned false: everything queued has now been processed (or the parser stopped). */
  onFinish?(): void;
}

/** Options of the parser; limits are off when 0. */
export interface ParserOptions {
  /** Server role: frames must be masked. Client role: frames must not be. */
  isServer: boolean;
  /** Largest message (sum of its frames' payloads, and inflated size), in bytes. */
  maxPayload: number;
  /** Most data frames in one message. */
  maxFragments: number;
  /** Most chunks the parser may hold at once (payload pieces plus queued input). */
  maxBufferedChunks: number;
  /** Do not check text messages and close reasons for valid UTF-8. */
  skipUTF8Validation: boolean;
  /** Deliver binary messages as the list of their frames' payloads (ws's `fragments` binaryType). */
  fragments?: boolean;
  /** Join frames into messages (default). false: report each data frame through `onFrame`. */
  assemble?: boolean;
  /** Largest single frame payload (WebSocket-Node's maxReceivedFrameSize); 0 = off. */
  maxFrameSize?: number;
  /**
   * Not the parser's: the Connection's limit on automatic pongs awaiting their flush, kept in the same
   * shared ParserLimits (0 = off).
   */
  maxPendingAutoPongs?: number;
  /** The negotiated permessage-deflate codec, if any: it makes RSV1 legal on a message's first frame. */
  codec?: Codec | null;
}

/**
 * The core's role and limits, as the parser (and its Connection) keep them: the same for every
 * connection a server accepts, so one frozen object is shared by all of them (`ParserLimits.of`)
 * instead of eight fields per connection.
 */
export class ParserLimits {
  readonly isServer: boolean;
  readonly maxPayload: number;
  readonly maxFragments: number;
  readonly maxBufferedChunks: number;
  readonly skipUTF8: boolean;
  readonly assemble: boolean;
  readonly maxFrameSize: number;
  readonly maxPendingAutoPongs: number;

  private constructor(
    isServer: boolean,
    maxPayload: number,
    maxFragments: number,
    maxBufferedChunks: number,
    skipUTF8: boolean,
    assemble: boolean,
    maxFrameSize: number,
    maxPendingAutoPongs: number,
  ) {
    this.isServer = isServer;
    this.maxPayload = maxPayload;
    this.maxFragments = maxFragments;
    this.maxBufferedChunks = maxBufferedChunks;
    this.skipUTF8 = skipUTF8;
    this.assemble = assemble;
    this.maxFrameSize = maxFrameSize;
    this.maxPendingAutoPongs = maxPendingAutoPongs;
    Object.freeze(this);
  }

  /**
   * The shared limits for these options: one of the few kept from earlier calls when it holds the same
   * values (a server's connections all do), else a new one that joins them.
   */
  static of(options: ParserOptions): ParserLimits {
    const isServer = !!options.isServer;
    const maxPayload = options.maxPayload | 0;
    const maxFragments = options.maxFragments | 0;
    const maxBufferedChunks = options.maxBufferedChunks | 0;
    const skipUTF8 = !!options.skipUTF8Validation;
    const assemble = options.assemble !== false;
    const maxFrameSize = (options.maxFrameSize || 0) | 0;
    const maxPendingAutoPongs = (options.maxPendingAutoPongs || 0) | 0;
    for (let i = recent.length - 1; i >= 0; i--) {
      const l = recent[i];
      if (
        l.isServer === isServer &&
        l.maxPayload === maxPayload &&
        l.maxFragments === maxFragments &&
        l.maxBufferedChunks === maxBufferedChunks &&
        l.skipUTF8 === skipUTF8 &&
        l.assemble === assemble &&
        l.maxFrameSize === maxFrameSize &&
        l.maxPendingAutoPongs === maxPendingAutoPongs
      ) {
        return l;
      }
    }
    const limits = new ParserLimits(
      isServer,
      maxPayload,
      maxFragments,
      maxBufferedChunks,
      skipUTF8,
      assemble,
      maxFrameSize,
      maxPendingAutoPongs,
    );
    if (recent.length === RECENT) recent.shift();
    recent.push(limits);
    return limits;
  }
}

/** How many distinct sets of limits are kept for sharing (a process rarely has more than a few). */
const RECENT = 8;
const recent: ParserLimits[] = [];
