/**
 * Protocol constants shared by the core and the faces above it (RFC 6455).
 * Nothing here does I/O; everything is a plain value or a Symbol.
 */

/** The GUID that RFC 6455 §1.3 appends to Sec-WebSocket-Key before hashing. */
export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** WebSocket readyState values, as the W3C API and ws number them. */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** The names of the ready states, indexed by value (used in error messages). */
export const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/** The binary types a WebSocket can deliver binary messages as. */
export const BINARY_TYPES: readonly string[] =
  typeof Blob === 'function'
    ? ['nodebuffer', 'arraybuffer', 'fragments', 'blob']
    : ['nodebuffer', 'arraybuffer', 'fragments'];

/** ws 8.23 defaults for the limits the core enforces. */
export const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;
export const DEFAULT_MAX_FRAGMENTS = 16384;
export const DEFAULT_MAX_BUFFERED_CHUNKS = 262144;
export const DEFAULT_MAX_PENDING_AUTO_PONGS = 60;
export const DEFAULT_CLOSE_TIMEOUT = 30000;

/** Largest control frame payload (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** Largest close reason: 125 bytes less the 2-byte status code. */
export const MAX_CLOSE_REASON = 123;

/** One shared empty buffer, so that "no payload" never allocates. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** ws stores the close status of a protocol error under this (private) symbol; so does weft. */
export const kStatusCode: unique symbol = Symbol('status-code');

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455 §7.4): 1000–1014 less the
 * reserved 1004/1005/1006, and the registered/private range 3000–4999.
 */
export function isValidStatusCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}
