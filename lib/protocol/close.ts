/**
 * Close frames (RFC 6455 §5.5.1, §7.4): building the payload with ws's argument checks, and the
 * human-readable descriptions of the standard status codes.
 */
import { EMPTY_BUFFER, MAX_CLOSE_REASON, isValidStatusCode } from './constants';

/**
 * Builds a close frame payload from a status code and reason, throwing as ws does:
 * TypeError `First argument must be a valid error code number` for a code that may not be sent,
 * TypeError `Second argument must be a string or a Uint8Array` for a reason of another type,
 * RangeError `The message must not be greater than 123 bytes` for a long reason.
 * No code gives an empty payload (the peer then reports 1005).
 */
export function closePayload(code?: number, reason?: string | Uint8Array): Buffer {
  if (code === undefined) return EMPTY_BUFFER;
  if (typeof code !== 'number' || !isValidStatusCode(code)) {
    throw new TypeError('First argument must be a valid error code number');
  }
  let length = 2;
  let text: string | undefined;
  let bytes: Uint8Array | undefined;
  // As ws: a reason without length (undefined, '', an empty buffer, or a value that has no length) is none.
  if (reason !== undefined && reason !== null && (reason as { length?: number }).length) {
    if (typeof reason === 'string') {
      text = reason;
      length += Buffer.byteLength(reason);
    } else if (reason instanceof Uint8Array) {
      bytes = reason;
      length += reason.length;
    } else {
      throw new TypeError('Second argument must be a string or a Uint8Array');
    }
  }
  if (length - 2 > MAX_CLOSE_REASON) {
    throw new RangeError('The message must not be greater than 123 bytes');
  }
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt16BE(code, 0);
  if (text !== undefined) buf.write(text, 2);
  else if (bytes !== undefined) buf.set(bytes, 2);
  return buf;
}

/** Descriptions of the close codes RFC 6455 and the IANA registry define (WebSocket-Node's `closeDescription`). */
export const CLOSE_DESCRIPTIONS: Readonly<Record<number, string>> = Object.freeze({
  1000: 'Normal connection closure',
  1001: 'Remote peer is going away',
  1002: 'Protocol error',
  1003: 'Unprocessable input',
  1004: 'Reserved',
  1005: 'Reason not provided',
  1006: 'Abnormal closure, no further detail available',
  1007: 'Invalid data received',
  1008: 'Policy violation',
  1009: 'Message too big',
  1010: 'Extension requested by client is required',
  1011: 'Internal Server Error',
  1012: 'Service restart',
  1013: 'Try again later',
  1014: 'Bad gateway',
  1015: 'TLS Handshake Failed',
});

/** A description of `code`: the standard text, or the range it falls in. */
export function describeCloseCode(code: number): string {
  const known = CLOSE_DESCRIPTIONS[code];
  if (known !== undefined) return known;
  if (code >= 3000 && code <= 3999) return 'Registered by library, framework or application';
  if (code >= 4000 && code <= 4999) return 'Private use';
  return 'Unknown close code';
}
