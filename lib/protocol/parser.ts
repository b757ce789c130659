/**
 * The incremental frame parser (RFC 6455 §5): bytes in, messages and control frames out through a
 * handler, synchronously. No streams, no sockets, no timers. Fed arbitrary chunks (down to one byte).
 *
 * Data path for one message: the header is read straight from the chunk (a 14-byte scratch is used only
 * when a header straddles chunks) → lengths are checked against the limits the moment they are known →
 * the payload is taken as `subarray` views of the incoming chunks → unmasked in place → text is checked
 * for UTF-8 as it arrives (fail fast) → the views are joined once, when the message ends.
 */
import {
  EMPTY_BUFFER,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  isValidStatusCode,
} from './constants';
import { violation, type WsError } from './errors';
import type { Codec } from './codec';
import { isValidUTF8, maskFrame as maskInto, unmaskFrame as unmask } from '../util/buffer';
import { kMaxLength } from 'buffer';
import { emptyArray } from '../util/array';
import { Utf8Validator } from '../util/utf8';
import { keyAt } from './frame';
import { ParserLimits, type ParserHandler, type ParserOptions } from './parser-options';

export { ParserLimits, type ParserHandler, type ParserOptions } from './parser-options';

// Parser states, numeric for V8.
const HEADER = 0;
const PAYLOAD = 1;
const STOPPED = 2;

// Bits of `flags`: the input is held back (an inflate is pending, the consumer suspended us), and the
// bookkeeping of input queued meanwhile.
/** Waiting for the codec to answer for the frame handed over. */
const INFLATING = 1;
/** `suspend()`: one message per turn; input waits until `resume()`. */
const SUSPENDED = 2;
/** `push()` returned false: the handler hears `onDrain()` once the queue is under the high-water mark. */
const BLOCKED = 4;
/** `finish()` was called: no more input comes; `onFinish()` follows once the queue is processed. */
const ENDED = 8;
const FINISH_REPORTED = 16;
/** Inside `drain()` (a handler that resumes us from within leaves the loop to it). */
const DRAINING = 32;
const WAITING = INFLATING | SUSPENDED;
// Bits of `flags` about messages.
/** `fragments` binaryType: keep one Buffer per frame instead of joining. */
const FRAGMENTS = 64;
/** The message being received is compressed (RSV1 on its first frame). */
const COMPRESSED = 128;
/** The text message being received is checked piece by piece (in `rare.utf8`). */
const STREAMING_UTF8 = 256;

/**
 * Bytes of input the parser holds back (while an inflate is pending or events are deferred) before
 * `push()` asks its caller to stop feeding; with one more transport chunk on top, that bounds the queue.
 */
export const INPUT_HIGH_WATER = 16 * 1024;

/** The least payload still expected (and already received) for `bulkReadSize()` to suggest a read of its own. */
export const BULK_READ_MIN = 64 * 1024;

/**
 * The parser's state that most connections never need: made the first time one of these is (a header
 * or a control frame split across reads, text arriving in pieces, input held back, an inflate).
 */
class RareState {
  /** Scratch for a header that straddles chunks; the parser's `hdrFill` bytes of it are valid. */
  hdr: Buffer | null = null;
  /** Control frame payload, gathered here when it straddles chunks. */
  ctrl: Buffer | null = null;
  /** Streaming UTF-8 state, used when a text message arrives in more than one piece. */
  utf8: Utf8Validator | null = null;
  /** Input held back while an inflate is pending or the consumer asked to wait. */
  readonly pending: Buffer[] = [];
  /** Bytes in `pending`. */
  pendingBytes = 0;
  /** The codec's callback, bound once per parser. */
  inflated: ((err: Error | null, data?: Buffer) => void) | null = null;
  /** A large frame's payload, copied (and unmasked) into place as its pieces arrive (see payloadPiece). */
  sink: Buffer | null = null;
}

/** Frames this large (payload bytes) that arrive in pieces are gathered into their buffer (see openSink). */
const SINK_MIN = 64 * 1024;
/** ...and no larger than a Buffer can be (with maxPayload 0 a peer may announce up to 2^53 - 1 bytes). */
const SINK_MAX = kMaxLength;

/** The receiving side's limits and progress, as ws's `Receiver` fields show them (read-only). */
export interface ReceiveState {
  readonly maxPayload: number;
  readonly maxFragments: number;
  readonly maxBufferedChunks: number;
  readonly skipUTF8Validation: boolean;
  /** Payload bytes of the message being received so far. */
  readonly messageBytes: number;
  /**
   * Where parsing stands, in ws's Receiver `_state` numbers: 5 an inflate is pending, 6 an event is
   * deferred (allowSynchronousEvents: false), 4 inside a frame's payload, 0 between frames (weft reads a
   * header in one step: ws's 1–3 never show).
   */
  readonly step: number;
}

/**
 * The RFC 6455 frame parser. Construct once per connection; call `push(chunk)` with every chunk the
 * transport delivers.
 */
export class FrameParser {
  /** Handler that receives messages, control frames and errors. */
  handler: ParserHandler;
  /** Role and limits: shared by every parser made with the same options (a server's connections). */
  readonly limits: ParserLimits;
  /** The negotiated permessage-deflate codec, or null. */
  readonly codec: Codec | null;

  private state: number;
  /** Bytes of a header that straddles chunks, kept in `rare.hdr` (0: none). */
  private hdrFill: number;

  // The frame being read.
  private fin: boolean;
  private opcode: number;
  private masked: boolean;
  /** The current frame's pieces are kept masked and unmasked as they are joined (see payloadPiece). */
  private deferMask: boolean;
  private payloadLength: number;
  private remaining: number;
  /** The frame's mask key, its 4 bytes as a big-endian uint32. */
  private mask: number;
  /** Index in `parts` where the current frame's payload starts. */
  private frameStart: number;

  // The message being assembled.
  private msgOpcode: number;
  private readonly parts: Buffer[];
  private msgBytes: number;
  private numFragments: number;

  /** Input held back (INFLATING, SUSPENDED, ...) and message bits (FRAGMENTS, COMPRESSED, STREAMING_UTF8). */
  private flags: number;
  /** What few connections need (see RareState): null until then. */
  private rare: RareState | null;

  constructor(handler: ParserHandler, options: ParserOptions) {
    this.handler = handler;
    this.limits = ParserLimits.of(options);
    this.codec = options.codec || null;
    this.state = HEADER;
    this.hdrFill = 0;
    this.fin = false;
    this.opcode = 0;
    this.masked = false;
    this.deferMask = false;
    this.payloadLength = 0;
    this.remaining = 0;
    this.mask = 0;
    this.frameStart = 0;
    this.msgOpcode = 0;
    this.parts = [];
    this.msgBytes = 0;
    this.numFragments = 0;
    this.flags = options.fragments ? FRAGMENTS : 0;
    this.rare = null;
  }

  /** `fragments` binaryType: keep one Buffer per frame instead of joining (may change between messages). */
  get fragments(): boolean {
    return (this.flags & FRAGMENTS) !== 0;
  }

  set fragments(on: boolean) {
    if (on) this.flags |= FRAGMENTS;
    else this.flags &= ~FRAGMENTS;
  }

  /** Largest message in bytes (0: no limit). */
  get maxPayload(): number {
    return this.limits.maxPayload;
  }

  /** Most data frames in one message (0: no limit). */
  get maxFragments(): number {
    return this.limits.maxFragments;
  }

  /** Most chunks held at once (0: no limit). */
  get maxBufferedChunks(): number {
    return this.limits.maxBufferedChunks;
  }

  /** Text and close reasons are not checked for UTF-8. */
  get skipUTF8(): boolean {
    return this.limits.skipUTF8;
  }

  private rareState(): RareState {
    if (this.rare === null) this.rare = new RareState();
    return this.rare;
  }

  /** A snapshot of the limits and of the message in progress. */
  receiveState(): ReceiveState {
    return {
      maxPayload: this.maxPayload,
      maxFragments: this.maxFragments,
      maxBufferedChunks: this.maxBufferedChunks,
      skipUTF8Validation: this.skipUTF8,
      messageBytes: this.msgBytes,
      step: (this.flags & INFLATING) !== 0 ? 5 : (this.flags & SUSPENDED) !== 0 ? 6 : this.state === PAYLOAD ? 4 : 0,
    };
  }

  /**
   * How many of the next bytes are the current data frame's payload, when that is worth a read buffer of
   * their own (at least BULK_READ_MIN), else 0. Never more than the frame's bytes already received: what a
   * peer can make the reader set aside is bounded by what it has actually sent. 0 while input is held back.
   */
  bulkReadSize(): number {
    if (this.state !== PAYLOAD || this.opcode >= Opcode.CLOSE || (this.flags & WAITING) !== 0) return 0;
    const left = this.remaining;
    if (left < BULK_READ_MIN) return 0;
    const received = this.payloadLength - left;
    return received < BULK_READ_MIN ? 0 : left < received ? left : received;
  }

  /**
   * Where the next read may land, for a transport that reads into a buffer it is handed (the 'native'
   * one): a view of the current frame's payload buffer from the next byte due to its end, so the kernel
   * copies the bytes straight into place — no read buffer, no copy (payloadPiece finds them there and
   * only unmasks them in place). Only once about half of a large frame is here (all but BULK_READ_MIN of
   * it: a first read's frame header must not make the rest wait for a read of its own), when its payload
   * buffer is made anyway (see openSink: what a peer can make the reader allocate stays bounded by what
   * it sent), for at least BULK_READ_MIN bytes, and never while input is held back. null otherwise.
   * The chunk such a read yields must be the next input pushed.
   */
  readInto(): Buffer | null {
    if (this.state !== PAYLOAD || this.opcode >= Opcode.CLOSE || (this.flags & WAITING) !== 0) return null;
    const left = this.remaining;
    if (left < BULK_READ_MIN) return null;
    const rare = this.rare;
    let sink = rare !== null ? rare.sink : null;
    if (sink === null) {
      const length = this.payloadLength;
      if (length < SINK_MIN || length > SINK_MAX || left - BULK_READ_MIN > length - left) return null;
      sink = this.gatherFrame();
      this.rareState().sink = sink;
    }
    const at = this.payloadLength - left;
    return sink.subarray(at, at + left);
  }

  /** True once a close frame was parsed or a violation found: further input is ignored. */
  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /** Stops parsing for good (the connection is going away). */
  stop(): void {
    this.state = STOPPED;
    const rare = this.rare;
    if (rare !== null) {
      rare.pending.length = 0;
      rare.pendingBytes = 0;
    }
    this.parts.length = 0;
    if (rare !== null) rare.sink = null;
  }

  /**
   * Holds further processing after the current message until `resume()`: the consumer wants one message
   * per turn (ws's `allowSynchronousEvents: false`). Input that arrives meanwhile is queued.
   */
  suspend(): void {
    this.flags |= SUSPENDED;
  }

  /** Continues after `suspend()`, processing queued input. */
  resume(): void {
    if ((this.flags & SUSPENDED) === 0) return;
    this.flags &= ~SUSPENDED;
    this.drain();
  }

  /** Number of input chunks held back (while suspended or inflating). */
  get queuedChunks(): number {
    return this.rare === null ? 0 : this.rare.pending.length;
  }

  /** Bytes of input held back (while suspended or inflating). */
  get queuedBytes(): number {
    return this.rare === null ? 0 : this.rare.pendingBytes;
  }

  /**
   * Feeds bytes. Reports through the handler, synchronously (or after the codec answers). Returns false
   * when the input held back has passed INPUT_HIGH_WATER: the caller should stop feeding (pause its
   * source) until the handler's `onDrain()`.
   */
  push(chunk: Buffer): boolean {
    if (this.state === STOPPED) return true;
    if ((this.flags & WAITING) !== 0 || (this.rare !== null && this.rare.pending.length !== 0)) {
      if (this.tooManyChunks()) return true;
      const rare = this.rareState();
      rare.pending.push(chunk);
      rare.pendingBytes += chunk.length;
    } else {
      this.run(chunk, 0);
    }
    if (this.rare === null || this.rare.pendingBytes <= INPUT_HIGH_WATER) return true;
    this.flags |= BLOCKED;
    return false;
  }

  /**
   * No more input will come. Returns true when nothing is left to process; otherwise the handler
   * hears `onFinish()` once the queued input has been processed (after a pending inflate, say).
   */
  finish(): boolean {
    this.flags |= ENDED;
    if (!this.idle()) return false;
    this.flags |= FINISH_REPORTED;
    return true;
  }

  private idle(): boolean {
    return (
      this.state === STOPPED ||
      ((this.flags & WAITING) === 0 && (this.rare === null || this.rare.pending.length === 0))
    );
  }

  /**
   * After queued input was processed: tell the handler to feed more (once the queue is back under the
   * high-water mark, so that new input arrives while the rest is still being worked through), or that
   * all input is done.
   */
  private settled(): void {
    if ((this.flags & BLOCKED) !== 0 && this.queuedBytes <= INPUT_HIGH_WATER) {
      this.flags &= ~BLOCKED;
      if (this.handler.onDrain !== undefined) this.handler.onDrain();
    }
    if ((this.flags & (ENDED | FINISH_REPORTED)) === ENDED && this.idle()) {
      this.flags |= FINISH_REPORTED;
      if (this.handler.onFinish !== undefined) this.handler.onFinish();
    }
  }

  /** Processes queued input until it runs out or the parser has to wait again. */
  private drain(): void {
    if ((this.flags & DRAINING) !== 0) return; // a handler resumed us from inside run(): the outer loop continues
    this.flags |= DRAINING;
    const rare = this.rare;
    if (rare !== null) {
      const pending = rare.pending;
      while (pending.length !== 0 && (this.flags & WAITING) === 0 && this.state !== STOPPED) {
        const chunk = pending.shift() as Buffer;
        rare.pendingBytes -= chunk.length;
        this.run(chunk, 0);
      }
    }
    this.flags &= ~DRAINING;
    this.settled();
  }

  private tooManyChunks(): boolean {
    const max = this.limits.maxBufferedChunks;
    if (max > 0 && this.queuedChunks + this.parts.length >= max) {
      this.fail(violation.bufferedChunks());
      return true;
    }
    return false;
  }

  /** The byte loop. No closures, no try/catch: errors go through `fail()` and end the loop. */
  private run(chunk: Buffer, pos: number): void {
    const len = chunk.length;
    while (pos < len) {
      if (this.state === HEADER) {
        let used: number;
        if (this.hdrFill === 0) {
          used = this.parseHeader(chunk, pos, len - pos);
          if (used === 0) {
            // A header straddles chunks: keep its first bytes (at most 13) in the scratch.
            const rare = this.rareState();
            if (rare.hdr === null) rare.hdr = Buffer.allocUnsafe(14);
            this.hdrFill = chunk.copy(rare.hdr, 0, pos, len);
            return;
          }
        } else {
          const hdr = (this.rare as RareState).hdr as Buffer;
          const before = this.hdrFill;
          const take = Math.min(14 - before, len - pos);
          chunk.copy(hdr, before, pos, pos + take);
          used = this.parseHeader(hdr, 0, before + take);
          if (used === 0) {
            this.hdrFill = before + take;
            return;
          }
          if (used > 0) {
            this.hdrFill = 0;
            used -= before;
          }
        }
        if (used < 0) return;
        pos += used;
        if (this.remaining === 0) this.frameDone(EMPTY_BUFFER);
      } else if (this.state === PAYLOAD) {
        const n = Math.min(this.remaining, len - pos);
        const piece = pos === 0 && n === len ? chunk : chunk.subarray(pos, pos + n);
        pos += n;
        this.payloadPiece(piece);
      } else {
        return;
      }
      if ((this.flags & WAITING) !== 0) {
        if (pos < len && !this.stopped) {
          const rare = this.rareState();
          rare.pending.unshift(chunk.subarray(pos));
          rare.pendingBytes += len - pos;
        }
        return;
      }
    }
  }

  /**
   * Reads a frame header from `buf[off..off+avail)`. Returns the header length when it is complete,
   * 0 when more bytes are needed (whatever can be checked already has been), or -1 after a violation.
   */
  private parseHeader(buf: Buffer, off: number, avail: number): number {
    const b0 = buf[off];
    // RFC 6455 §5.2: RSV2 and RSV3 must be 0 unless an extension defines them (none does here).
    if ((b0 & 0x30) !== 0) {
      return this.fail(violation.rsv23());
    }
    const rsv1 = (b0 & 0x40) !== 0;
    // RFC 7692 §6: RSV1 marks a compressed message, legal only when permessage-deflate was negotiated.
    if (rsv1 && this.codec === null) return this.failRsv1();

    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (opcode === Opcode.CONTINUATION) {
      if (rsv1) return this.failRsv1();
      // §5.4: a continuation frame needs a fragmented message in progress.
      if (this.msgOpcode === 0) return this.failOpcode(opcode);
    } else if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      // §5.4: no new data message may start inside a fragmented one.
      if (this.msgOpcode !== 0) return this.failOpcode(opcode);
    } else if (opcode === Opcode.CLOSE || opcode === Opcode.PING || opcode === Opcode.PONG) {
      // §5.5: control frames are never fragmented, never compressed.
      if (!fin) {
        return this.fail(violation.fin());
      }
      if (rsv1) return this.failRsv1();
    } else {
      // §5.2: opcodes 3–7 and 0xB–0xF are reserved.
      return this.failOpcode(opcode);
    }
    if (avail < 2) return 0;

    const b1 = buf[off + 1];
    let length = b1 & 0x7f;
    if (opcode >= Opcode.CLOSE && (length > MAX_CONTROL_PAYLOAD || (opcode === Opcode.CLOSE && length === 1))) {
      return this.fail(violation.controlLength(length));
    }
    const masked = (b1 & 0x80) !== 0;
    const limits = this.limits;
    // §5.1: a client masks every frame, a server masks none.
    if (limits.isServer) {
      if (!masked) {
        return this.fail(violation.expectedMask());
      }
    } else if (masked) {
      return this.fail(violation.unexpectedMask());
    }

    let size = 2;
    if (length === 126) {
      if (avail < 4) return 0;
      length = buf.readUInt16BE(off + 2);
      size = 4;
    } else if (length === 127) {
      if (avail < 10) return 0;
      const high = buf.readUInt32BE(off + 2);
      // §5.2: the most significant bit must be 0; beyond 2^53 - 1 a JS number cannot count the bytes.
      if (high > 0x1fffff) {
        return this.fail(violation.length53());
      }
      length = high * 0x100000000 + buf.readUInt32BE(off + 6);
      size = 10;
    }

    // Limits are checked the moment the length is known, before a byte of payload is held.
    if (opcode < Opcode.CLOSE && limits.maxFrameSize > 0 && length > limits.maxFrameSize) {
      return this.fail(violation.maxFrame());
    }
    if (opcode < Opcode.CLOSE && length > 0 && limits.maxPayload > 0 && this.msgBytes + length > limits.maxPayload) {
      return this.fail(violation.maxPayload());
    }

    if (masked) {
      if (avail < size + 4) return 0;
      this.mask = buf.readUInt32BE(off + size);
      size += 4;
    }

    // The header is complete: commit the frame.
    this.fin = fin;
    this.opcode = opcode;
    this.masked = masked;
    this.payloadLength = length;
    this.remaining = length;
    if (opcode < Opcode.CLOSE) {
      if (opcode !== Opcode.CONTINUATION) {
        this.msgOpcode = opcode;
        this.flags = rsv1 ? this.flags | COMPRESSED : this.flags & ~COMPRESSED;
      }
      this.msgBytes += length;
      this.frameStart = this.parts.length;
    } else if (this.rare !== null) {
      this.rare.ctrl = null;
    }
    this.state = length === 0 ? HEADER : PAYLOAD;
    return size;
  }

  /** One piece of the current frame's payload (a view of the input: unmasked in place). */
  private payloadPiece(piece: Buffer): void {
    const n = piece.length;
    const offset = this.payloadLength - this.remaining;
    this.remaining -= n;
    if (this.masked) {
      // A data frame that arrives in pieces and needs no early look at its bytes (binary, compressed,
      // or unchecked text) is unmasked when it is joined: one pass that copies and unmasks at once,
      // instead of unmasking every piece in place and copying it again.
      if (offset === 0) {
        this.deferMask =
          n !== this.payloadLength &&
          this.opcode < Opcode.CLOSE &&
          (this.msgOpcode === Opcode.BINARY || (this.flags & COMPRESSED) !== 0 || this.limits.skipUTF8);
      }
      if (!this.deferMask) unmask(piece, keyAt(this.mask, offset)); // §5.3, in place
    }

    if (this.opcode >= Opcode.CLOSE) {
      if (n === this.payloadLength) {
        this.state = HEADER;
        this.frameDone(piece);
        return;
      }
      // A control payload (≤ 125 bytes) split across chunks is gathered into one small buffer.
      const rare = this.rareState();
      if (rare.ctrl === null) rare.ctrl = Buffer.allocUnsafe(this.payloadLength);
      piece.copy(rare.ctrl, offset);
      if (this.remaining === 0) {
        this.state = HEADER;
        this.frameDone(rare.ctrl);
      }
      return;
    }

    const rare = this.rare;
    if (rare !== null && rare.sink !== null) {
      this.intoSink(rare.sink, piece, offset);
    } else if (this.remaining !== 0 && this.payloadLength >= SINK_MIN && this.payloadLength <= SINK_MAX && this.remaining <= this.payloadLength / 2) {
      this.openSink(piece, offset);
    } else {
      if (this.tooManyChunks()) return;
      this.keepPiece(piece, n);
    }

    // Text is checked as it arrives, unless the whole message is this one piece (checked once at the end).
    if (
      this.msgOpcode === Opcode.TEXT &&
      (this.flags & COMPRESSED) === 0 &&
      !this.limits.skipUTF8 &&
      ((this.flags & STREAMING_UTF8) !== 0 || n !== this.payloadLength || !this.fin || this.parts.length !== 1)
    ) {
      // (The fast path is taken only for a piece that is the whole message, so no earlier piece skipped this.)
      this.flags |= STREAMING_UTF8;
      if (!this.validator().push(piece)) return this.failUtf8();
    }

    if (this.remaining === 0) {
      this.state = HEADER;
      const sinkNow = this.rare !== null ? this.rare.sink : null;
      if (sinkNow !== null) {
        (this.rare as RareState).sink = null;
        this.deferMask = false;
        this.parts.push(sinkNow);
      } else if (this.deferMask) {
        this.joinMasked();
      }
      this.frameDone(EMPTY_BUFFER);
    }
  }

  /** Holds one piece of the current frame in `parts`. */
  private keepPiece(piece: Buffer, n: number): void {
    // A piece that is a small part of its input chunk, of a message that goes on past it, would keep the
    // whole chunk (up to 64 KiB) alive until the message ends: keep a copy instead, so that what a
    // message in progress holds follows its payload bytes (a peer sending 1-byte fragments, one per read,
    // would otherwise pin 64 KiB per byte).
    if ((this.remaining !== 0 || !this.fin) && piece.buffer.byteLength >= n << 3) piece = Buffer.from(piece);
    this.parts.push(piece);
  }

  /**
   * Half of a large frame is here: its payload buffer is made now, the pieces held so far are copied in
   * (unmasked), and the rest is copied in as it arrives. The reads the pieces came in are then garbage
   * within a turn or two instead of living until the frame ends: held across a garbage collection or two,
   * they are freed in large batches, and a process that moves large messages ends up trimming and
   * regrowing its malloc heap — fresh, zeroed pages for every read and every joined message (a 1 MiB
   * echo cost 2–8× its CPU in such runs, page faults showing it). Waiting for half bounds what a frame
   * holds to twice the bytes that have arrived, so a peer cannot make the server allocate a payload
   * it only announced.
   */
  private openSink(piece: Buffer, offset: number): void {
    const sink = this.gatherFrame();
    this.rareState().sink = sink;
    this.intoSink(sink, piece, offset);
  }

  /** The current frame's payload buffer, with the pieces held so far moved into it (out of `parts`). */
  private gatherFrame(): Buffer {
    const sink = Buffer.allocUnsafe(this.payloadLength);
    const parts = this.parts;
    const start = this.frameStart;
    let at = 0;
    for (let i = start; i < parts.length; i++) {
      this.intoSink(sink, parts[i], at);
      at += parts[i].length;
    }
    parts.length = start;
    return sink;
  }

  /**
   * Copies (unmasking when deferred) one piece into the frame's payload buffer — or, for a piece read
   * in place (see readInto), only unmasks it where it is.
   */
  private intoSink(sink: Buffer, piece: Buffer, offset: number): void {
    if (piece.buffer === sink.buffer && piece.byteOffset === sink.byteOffset + offset) {
      if (this.deferMask) unmask(piece, keyAt(this.mask, offset));
    } else if (this.deferMask) maskInto(piece, keyAt(this.mask, offset), sink, offset, piece.length);
    else piece.copy(sink, offset);
  }

  /** Joins the still-masked pieces of the frame just completed into one unmasked buffer (one pass). */
  private joinMasked(): void {
    const joined = this.gatherFrame();
    this.deferMask = false;
    this.parts.push(joined);
  }

  private validator(): Utf8Validator {
    const rare = this.rareState();
    if (rare.utf8 === null) rare.utf8 = new Utf8Validator();
    return rare.utf8;
  }

  /** The current frame is complete (`data` is the payload of a control frame). */
  private frameDone(data: Buffer): void {
    const opcode = this.opcode;
    if (opcode >= Opcode.CLOSE) {
      this.controlFrame(opcode, data);
      return;
    }

    const limits = this.limits;
    if (limits.maxFragments > 0 && ++this.numFragments > limits.maxFragments) {
      this.fail(violation.fragments());
      return;
    }

    if ((this.flags & COMPRESSED) !== 0) {
      // Hand this frame's compressed bytes to the codec and wait: nothing re-enters until it answers.
      const start = this.frameStart;
      const parts = this.parts;
      let compressed: Buffer;
      if (parts.length - start === 1) compressed = parts[start];
      else if (parts.length === start) compressed = EMPTY_BUFFER;
      else compressed = Buffer.concat(parts.slice(start));
      parts.length = start;
      this.msgBytes -= compressed.length;
      this.flags |= INFLATING;
      // One bound callback per parser (made on the first inflate), not one closure per inflate.
      const rare = this.rareState();
      if (rare.inflated === null) rare.inflated = this.onInflated.bind(this);
      (this.codec as Codec).decompress(compressed, this.fin, rare.inflated);
      return;
    }

    if (!limits.assemble) {
      this.frameOut(opcode);
      return;
    }
    if ((this.flags & FRAGMENTS) !== 0 && this.parts.length - this.frameStart > 1) this.joinFrame();
    if (this.fin) this.messageDone();
  }

  /** `assemble: false`: hand the frame just completed to the handler on its own, keeping nothing. */
  private frameOut(opcode: number): void {
    const parts = this.parts;
    const fin = this.fin;
    if (fin && this.msgOpcode === Opcode.TEXT && !this.limits.skipUTF8) {
      const ok = (this.flags & STREAMING_UTF8) !== 0 ? this.validator().end() : parts.length === 0 || isValidUTF8(parts[0]);
      if (!ok) {
        this.failUtf8();
        return;
      }
    }
    const payload = parts.length === 1 ? parts[0] : parts.length === 0 ? EMPTY_BUFFER : Buffer.concat(parts);
    emptyArray(parts);
    this.frameStart = 0;
    if (fin) {
      this.msgOpcode = 0;
      this.flags &= ~(COMPRESSED | STREAMING_UTF8);
      this.msgBytes = 0;
      this.numFragments = 0;
    }
    if (this.handler.onFrame !== undefined) this.handler.onFrame(opcode, fin, payload);
  }

  /** In `fragments` mode, one Buffer per frame: join the pieces of the frame just completed. */
  private joinFrame(): void {
    const parts = this.parts;
    const start = this.frameStart;
    const joined = Buffer.concat(parts.slice(start));
    parts.length = start;
    parts.push(joined);
  }

  /** The codec answered for the frame handed over in frameDone(). */
  private onInflated(err: Error | null, data?: Buffer): void {
    if (this.state === STOPPED) return;
    this.flags &= ~INFLATING;
    this.inflatedFrame(err, data);
    if ((this.flags & SUSPENDED) === 0 && this.state !== STOPPED) this.drain();
    else this.settled();
  }

  private inflatedFrame(err: Error | null, data: Buffer | undefined): void {
    if (err) {
      this.fail(err as WsError);
      return;
    }
    const out = data as Buffer;
    if (out.length !== 0) {
      // The codec enforces maxPayload on what it inflates; count what it returned for the message total.
      this.msgBytes += out.length;
      const maxPayload = this.limits.maxPayload;
      if (maxPayload > 0 && this.msgBytes > maxPayload) {
        this.fail(violation.maxPayload());
        return;
      }
      this.parts.push(out);
      if (this.msgOpcode === Opcode.TEXT && !this.limits.skipUTF8) {
        this.flags |= STREAMING_UTF8;
        if (!this.validator().push(out)) {
          this.failUtf8();
          return;
        }
      }
    }
    if (!this.limits.assemble) this.frameOut(this.opcode); // no control frame can come between: the parser waited
    else if (this.fin) this.messageDone();
  }

  /** A whole data message has arrived. */
  private messageDone(): void {
    const parts = this.parts;
    const isBinary = this.msgOpcode === Opcode.BINARY;

    if (!isBinary && !this.limits.skipUTF8) {
      // §8.1: text must be valid UTF-8, also when its last code point was split across frames.
      const ok = (this.flags & STREAMING_UTF8) !== 0
        ? this.validator().end()
        : parts.length === 0 || isValidUTF8(parts[0]);
      if (!ok) {
        this.failUtf8();
        return;
      }
    }

    let data: Buffer | Buffer[];
    if (isBinary && (this.flags & FRAGMENTS) !== 0) {
      data = parts.slice();
    } else if (parts.length === 1) {
      data = parts[0];
    } else if (parts.length === 0) {
      data = EMPTY_BUFFER;
    } else {
      data = Buffer.concat(parts, this.msgBytes);
    }

    emptyArray(parts);
    this.msgOpcode = 0;
    this.flags &= ~(COMPRESSED | STREAMING_UTF8);
    this.msgBytes = 0;
    this.numFragments = 0;
    this.frameStart = 0;
    this.handler.onMessage(data, isBinary);
  }

  /** A complete control frame (RFC 6455 §5.5). */
  private controlFrame(opcode: number, data: Buffer): void {
    if (opcode === Opcode.CLOSE) {
      if (data.length !== 0) {
        // §7.1.5/§7.4: the first two bytes are the status code, and it must be one that may be sent.
        const code = data.readUInt16BE(0);
        if (!isValidStatusCode(code)) {
          this.fail(violation.closeCode(code));
          return;
        }
        // §5.5.1: the reason is UTF-8.
        if (!this.limits.skipUTF8 && data.length > 2 && !isValidUTF8(data.subarray(2))) {
          this.failUtf8();
          return;
        }
      }
      // §5.5.1: nothing after a close frame is processed.
      this.stop();
    }
    this.handler.onControl(opcode, data);
  }

  private failUtf8(): void {
    this.fail(violation.utf8());
  }

  private failRsv1(): number {
    return this.fail(violation.rsv1());
  }

  private failOpcode(opcode: number): number {
    return this.fail(violation.opcode(opcode));
  }

  /** Stops parsing for good and reports the violation. Returns -1 for parseHeader's convenience. */
  private fail(err: WsError): number {
    this.stop();
    this.flags &= ~INFLATING;
    this.handler.onParseError(err);
    return -1;
  }
}
