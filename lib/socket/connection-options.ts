/**
 * Per-connection options beyond ws's (WebSocket-Node's conveniences, backpressure) and what `send()`
 * reports. Read once per connection; `null` when none is set, so most connections pay nothing.
 */
import { EMPTY_BUFFER } from '../protocol/constants';
import type { Connection } from '../protocol/connection';
import type { WriteCallback } from '../protocol/writer';
import { isBlob, toBuffer } from '../util/convert';
import type { HeartbeatOptions } from './heartbeat';

/** What `send()` (and `publish()`) report, as uWebSockets numbers them. */
export const SendStatus = {
  /** Written (or queued) and the socket's buffer is within its limit. */
  BACKPRESSURE: 0,
  SENT: 1,
  /** Not sent: the connection is not open, or the backpressure limit was already exceeded. */
  DROPPED: 2,
} as const;
export type SendStatusValue = (typeof SendStatus)[keyof typeof SendStatus];

/**
 * weft's per-connection options, accepted by `new WebSocketServer(options)` (for every connection) and
 * `new WebSocket(url, options)`: the heartbeat, the backpressure limit, and WebSocket-Node's options.
 */
export interface ConnectionOptions {
  /**
   * Ping connections that stay silent for `interval` ms and terminate those still silent `timeout` ms
   * later (one shared timer per setting, not one per connection). Default: none.
   */
  heartbeat?: HeartbeatOptions;
  /**
   * Bytes a socket may hold unsent (0: no limit, ws's behaviour). A message that would take it past the
   * limit (payload counted uncompressed) is dropped, or closes the socket by `backpressurePolicy`.
   */
  maxBackpressure?: number;
  /** What a send past `maxBackpressure` does: 'drop' (default; `send()` returns DROPPED) or 'close'. */
  backpressurePolicy?: 'drop' | 'close';
  /** The close code of the 'close' policy: 1008 (policy violation, default) or 1013 (try again later). */
  backpressureCloseCode?: 1008 | 1013;
  /** WebSocket-Node: false emits a 'frame' event per received data frame instead of assembling messages. */
  assembleFragments?: boolean;
  /** WebSocket-Node: split outgoing uncompressed messages larger than `fragmentationThreshold`. */
  fragmentOutgoingMessages?: boolean;
  /** WebSocket-Node: the fragment size of `fragmentOutgoingMessages`, in bytes (default 16384). */
  fragmentationThreshold?: number;
  /** WebSocket-Node: the largest frame accepted, in bytes. */
  maxReceivedFrameSize?: number;
  /** WebSocket-Node: the largest message accepted, in bytes (overrides `maxPayload`). */
  maxReceivedMessageSize?: number;
  /** WebSocket-Node: false turns Nagle's algorithm back on (default true: frames go out at once). */
  disableNagleAlgorithm?: boolean;
}

/** The per-connection options as a connection holds them (read from ConnectionOptions). */
export interface ExtraOptions {
  /** Bytes one socket may hold unsent before further sends are dropped (0: no limit, ws's behaviour). */
  maxBackpressure: number;
  /** What a send past `maxBackpressure` does: 'drop' (default) or 'close' (with 1008). */
  backpressurePolicy: 'drop' | 'close';
  /** The close code of the 'close' policy: 1008 (policy violation, default) or 1013 (try again later). */
  backpressureCloseCode: number;
  /** false: emit a 'frame' event per received data frame instead of assembling messages. */
  assembleFragments?: boolean;
  /** Split outgoing messages larger than this many bytes into frames (0: never). */
  fragmentationThreshold: number;
  /** Aliases of weft's limits. */
  maxReceivedFrameSize?: number;
  maxReceivedMessageSize?: number;
  /** false turns Nagle's algorithm back on (default true: frames go out at once). */
  disableNagleAlgorithm?: boolean;
}

/** Collects WebSocket-Node-style options; null when none is set. */
export function extraOptions(o: Record<string, unknown>): ExtraOptions | null {
  if (
    o.assembleFragments === undefined &&
    !o.fragmentOutgoingMessages &&
    o.maxReceivedFrameSize === undefined &&
    o.maxReceivedMessageSize === undefined &&
    o.disableNagleAlgorithm === undefined &&
    !o.maxBackpressure
  ) {
    return null;
  }
  const threshold = o.fragmentationThreshold === undefined ? 0x4000 : Number(o.fragmentationThreshold);
  return {
    maxBackpressure: o.maxBackpressure ? Math.max(0, Number(o.maxBackpressure)) : 0,
    backpressurePolicy: o.backpressurePolicy === 'close' ? 'close' : 'drop',
    backpressureCloseCode: o.backpressureCloseCode === 1013 ? 1013 : 1008,
    assembleFragments: o.assembleFragments === undefined ? undefined : !!o.assembleFragments,
    fragmentationThreshold: o.fragmentOutgoingMessages ? Math.max(1, threshold | 0) : 0,
    maxReceivedFrameSize: o.maxReceivedFrameSize === undefined ? undefined : Number(o.maxReceivedFrameSize),
    maxReceivedMessageSize: o.maxReceivedMessageSize === undefined ? undefined : Number(o.maxReceivedMessageSize),
    disableNagleAlgorithm: o.disableNagleAlgorithm === undefined ? undefined : !!o.disableNagleAlgorithm,
  };
}

/**
 * THE maxBackpressure RULE (send and publish): a message goes out only if the bytes the socket already
 * holds plus the message's own (its payload, counted uncompressed) stay within `limit`. The message
 * that would cross the limit is the one the policy applies to — a single message larger than the limit
 * is never sent. Strings are measured without encoding them unless they are near the limit.
 */
export function exceedsLimit(buffered: number, data: unknown, limit: number): boolean {
  if (buffered >= limit) return true;
  const room = limit - buffered;
  if (typeof data === 'string') {
    // UTF-8 takes 1 to 3 bytes per UTF-16 unit: encode only when the bounds do not decide.
    if (data.length * 3 <= room) return false;
    if (data.length > room) return true;
    return Buffer.byteLength(data) > room;
  }
  return payloadSize(data) > room;
}

/** The byte length of a binary payload (0 for what is not one). */
function payloadSize(data: unknown): number {
  if (data === undefined || data === null) return 0;
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return data.byteLength;
  if (isBlob(data)) return data.size;
  if (Array.isArray(data)) {
    let n = 0;
    for (const part of data) n += payloadSize(part);
    return n;
  }
  return 0;
}

/**
 * WebSocket-Node's fragmentOutgoingMessages: sends a message larger than `threshold` as several frames
 * (uncompressed only). Returns false when the message is small enough to go as it is.
 */
export function sendFragmented(
  conn: Connection,
  data: unknown,
  binary: boolean,
  fin: boolean,
  compress: boolean,
  cb: WriteCallback | undefined,
  threshold: number,
): boolean {
  if (compress) return false;
  const bytes = typeof data === 'string' ? Buffer.from(data) : data === undefined || data === null ? EMPTY_BUFFER : toBuffer(data);
  if (bytes.length <= threshold) return false;
  for (let offset = 0; offset < bytes.length; offset += threshold) {
    const end = Math.min(bytes.length, offset + threshold);
    const last = end === bytes.length;
    conn.sendMessage(bytes.subarray(offset, end), binary, last && fin, false, last ? cb : undefined);
  }
  return true;
}
