/**
 * `PerMessageDeflate` (RFC 7692), with ws 8.23's public shape, and weft's `Codec` for the core.
 *
 * Negotiation is in negotiation.ts, the zlib work in zlib-pipe.ts; this class joins them. An instance
 * costs a few fields until a message is actually compressed or inflated: zlib streams are created on
 * first use, dropped after each message when no context is taken over, and all released by `cleanup()`.
 */
import type { ChunksCallback, Codec, CodecCallback } from '../protocol/codec';
import type { ExtensionParams } from '../protocol/extension';
import { getLimiter, type Limiter } from './limiter';
import {
  acceptAsClient,
  acceptAsServer,
  buildOffer,
  normalizeParams,
  type DeflateParams,
  type OfferParams,
  type PerMessageDeflateOptions,
} from './negotiation';
import { INLINE_MAX, ZlibPipe } from './zlib-pipe';

export type { DeflateParams, OfferParams, PerMessageDeflateOptions } from './negotiation';

/** zlib's default (and largest) LZ77 window: what a side uses when no `*_max_window_bits` was agreed. */
const DEFAULT_WINDOW_BITS = 15;

/**
 * The permessage-deflate extension for one connection: negotiation (`offer`/`accept`), then per-frame
 * `compress`/`decompress` through zlib, throttled by the process-wide limiter. Implements the core's
 * `Codec`, so `codec()` returns the instance itself.
 */
export class PerMessageDeflate implements Codec {
  /** The extension's registered name (RFC 7692 §5). */
  static readonly extensionName = 'permessage-deflate';

  /** @internal The options as given (ws reads `_options`). */
  readonly _options: PerMessageDeflateOptions;
  /** @internal Server role. */
  readonly _isServer: boolean;
  /** @internal Messages below this size are sent uncompressed when our side has no context takeover. */
  readonly _threshold: number;
  /** @internal Largest inflated message, 0 for none. */
  readonly _maxPayload: number;
  /** The negotiated parameters after `accept()`, else null. */
  params: DeflateParams | null;

  /** @internal */
  private inflater: ZlibPipe | null;
  /** @internal */
  private deflater: ZlibPipe | null;
  /** @internal */
  private readonly limiter: Limiter;
  /** @internal Requests up to this size skip the thread pool (0: never; set by `codec(true)`). */
  private inlineMax: number;

  /**
   * `new PerMessageDeflate({ clientMaxWindowBits, clientNoContextTakeover, concurrencyLimit = 10,
   * isServer = false, maxPayload = 0, serverMaxWindowBits, serverNoContextTakeover, threshold = 1024,
   * zlibDeflateOptions, zlibInflateOptions })`.
   */
  constructor(options?: PerMessageDeflateOptions) {
    const opts = options || {};
    this._options = opts;
    this._isServer = !!opts.isServer;
    this._threshold = opts.threshold !== undefined ? opts.threshold : 1024;
    this._maxPayload = (opts.maxPayload as number) | 0;
    this.params = null;
    this.inflater = null; // created on the first compressed message: an idle connection holds no zlib
    this.deflater = null;
    this.inlineMax = 0;
    // As ws: the first instance in the process fixes the limiter's concurrency.
    this.limiter = getLimiter(opts.concurrencyLimit !== undefined ? opts.concurrencyLimit : 10);
  }

  /** @internal The live inflate stream or null (ws's `_inflate`, read by tests). */
  get _inflate(): unknown {
    return this.inflater === null ? null : this.inflater.stream;
  }

  /** @internal The live deflate stream or null (ws's `_deflate`). */
  get _deflate(): unknown {
    return this.deflater === null ? null : this.deflater.stream;
  }

  /** The parameters a client offers (RFC 7692 §5.1); format them with `extension.format`. */
  offer(): OfferParams {
    return buildOffer(this._options);
  }

  /**
   * Accepts a negotiation: as a server, `configurations` are the client's offers and the first
   * acceptable one is chosen (and completed with our parameters); as a client, they are the server's
   * response, which is checked against our offer. The configurations are validated and normalized in
   * place; the chosen one is stored in `params` and returned. Throws ws's Errors on invalid or
   * unacceptable parameters.
   */
  accept(configurations: ExtensionParams[]): DeflateParams {
    const normalized = normalizeParams(configurations, this._isServer);
    this.params = this._isServer ? acceptAsServer(this._options, normalized) : acceptAsClient(this._options, normalized);
    return this.params;
  }

  /** Releases both zlib streams and fails requests in flight or waiting; the instance is done for good. */
  cleanup(): void {
    // Pipes that were never used are created closed so that later requests fail instead of opening zlib.
    this.inflatePipe().cleanup();
    this.deflatePipe().cleanup();
  }

  /**
   * The core's view of this extension. `inline`: small messages are (de)compressed on the main thread
   * instead of through the thread pool (see INLINE_MAX), answers still coming in a later turn of the event loop; weft's
   * own connections ask for it, while the ws-compatible Receiver and Sender, and direct callers, get
   * ws's behaviour.
   */
  codec(inline = false): Codec {
    if (inline) this.inlineMax = INLINE_MAX;
    return this;
  }

  /**
   * Whether a message of `length` bytes is compressed (the core asks on a message's first frame when
   * the sender asked for compression). As ws 8.23: `threshold` only applies when our side resets its
   * context after each message; with context takeover every message is compressed, since even small
   * ones gain from the shared window.
   */
  shouldCompress(length: number): boolean {
    const params = this.params;
    if (params === null) return true;
    const noTakeover = this._isServer ? params.server_no_context_takeover : params.client_no_context_takeover;
    return noTakeover ? length >= this._threshold : true;
  }

  /**
   * Inflates one frame's payload of a compressed message (`fin`: its last frame, which gets the
   * 0x00 0x00 0xff 0xff tail). The inflated bytes of the message count against `maxPayload`: past it,
   * inflating stops at once and `cb` gets a RangeError with code WS_ERR_UNSUPPORTED_MESSAGE_LENGTH and
   * status 1009. Corrupt data: zlib's error (e.g. code Z_DATA_ERROR) with status 1007.
   */
  decompress(data: Buffer, fin: boolean, cb: CodecCallback): void {
    this.inflatePipe().request(data, fin, cb);
  }

  /**
   * Deflates one frame's payload of a message (`fin`: its last frame, whose trailing
   * 0x00 0x00 0xff 0xff is removed, RFC 7692 §7.2.1).
   */
  compress(data: Buffer, fin: boolean, cb: CodecCallback): void {
    this.deflatePipe().request(data, fin, cb);
  }

  /** @internal `compress` with zlib's output chunks not joined (Codec.compressChunks). */
  compressChunks(data: Buffer, fin: boolean, cb: ChunksCallback): void {
    this.deflatePipe().request(data, fin, cb, true);
  }

  // RFC 7692 §7.1: the server's parameters govern what the server compresses (and the client inflates),
  // the client's parameters what the client compresses (and the server inflates).

  /** @internal */
  private inflatePipe(): ZlibPipe {
    if (this.inflater === null) this.inflater = this.pipe(true, this._isServer ? 'client' : 'server');
    return this.inflater;
  }

  /** @internal */
  private deflatePipe(): ZlibPipe {
    if (this.deflater === null) this.deflater = this.pipe(false, this._isServer ? 'server' : 'client');
    return this.deflater;
  }

  /** @internal */
  private pipe(inflate: boolean, endpoint: 'client' | 'server'): ZlibPipe {
    const params = this.params || ({} as DeflateParams);
    const bits = params[`${endpoint}_max_window_bits`];
    return new ZlibPipe(this.limiter, {
      inflate,
      windowBits: typeof bits === 'number' ? bits : DEFAULT_WINDOW_BITS,
      noContextTakeover: !!params[`${endpoint}_no_context_takeover`],
      maxPayload: inflate ? this._maxPayload : 0,
      zlibOptions: inflate ? this._options.zlibInflateOptions : this._options.zlibDeflateOptions,
      inlineMax: this.inlineMax,
    });
  }
}
