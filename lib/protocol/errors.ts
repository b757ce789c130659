/**
 * Protocol errors: each violation is an Error (or RangeError) with a stable `code` ('WS_ERR_*', as ws
 * names them) and the close status to send, stored under `kStatusCode` as ws does.
 */
import { kStatusCode } from './constants';

/** The machine-readable codes of protocol violations, exactly as ws 8 uses them. */
export type WsErrorCode =
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/** An Error raised by the core for a protocol violation. */
export interface WsError extends Error {
  code: WsErrorCode;
  [kStatusCode]: number;
}

/**
 * Builds a protocol error. `prefix` adds ws's "Invalid WebSocket frame: " lead-in, which ws omits only
 * for the 2^53 length error.
 */
export function protocolError(
  Ctor: ErrorConstructor | RangeErrorConstructor,
  message: string,
  prefix: boolean,
  statusCode: number,
  code: WsErrorCode,
): WsError {
  const err = new Ctor(prefix ? `Invalid WebSocket frame: ${message}` : message) as WsError;
  Error.captureStackTrace(err, protocolError);
  err.code = code;
  err[kStatusCode] = statusCode;
  return err;
}

/**
 * The violations the core reports, each built as ws builds it (message, "Invalid WebSocket frame: "
 * prefix or not, close status, code), so that one name stands for one error everywhere.
 */
export const violation = {
  rsv23: () => protocolError(RangeError, 'RSV2 and RSV3 must be clear', true, 1002, 'WS_ERR_UNEXPECTED_RSV_2_3'),
  rsv1: () => protocolError(RangeError, 'RSV1 must be clear', true, 1002, 'WS_ERR_UNEXPECTED_RSV_1'),
  opcode: (opcode: number) => protocolError(RangeError, `invalid opcode ${opcode}`, true, 1002, 'WS_ERR_INVALID_OPCODE'),
  fin: () => protocolError(RangeError, 'FIN must be set', true, 1002, 'WS_ERR_EXPECTED_FIN'),
  controlLength: (length: number) =>
    protocolError(RangeError, `invalid payload length ${length}`, true, 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'),
  expectedMask: () => protocolError(RangeError, 'MASK must be set', true, 1002, 'WS_ERR_EXPECTED_MASK'),
  unexpectedMask: () => protocolError(RangeError, 'MASK must be clear', true, 1002, 'WS_ERR_UNEXPECTED_MASK'),
  length53: () =>
    protocolError(
      RangeError,
      'Unsupported WebSocket frame: payload length > 2^53 - 1',
      false,
      1009,
      'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
    ),
  maxPayload: () => protocolError(RangeError, 'Max payload size exceeded', false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'),
  maxFrame: () => protocolError(RangeError, 'Max frame size exceeded', false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'),
  bufferedChunks: () => protocolError(RangeError, 'Too many buffered chunks', false, 1008, 'WS_ERR_TOO_MANY_BUFFERED_PARTS'),
  fragments: () => protocolError(RangeError, 'Too many message fragments', false, 1008, 'WS_ERR_TOO_MANY_BUFFERED_PARTS'),
  closeCode: (code: number) => protocolError(RangeError, `invalid status code ${code}`, true, 1002, 'WS_ERR_INVALID_CLOSE_CODE'),
  utf8: () => protocolError(Error, 'invalid UTF-8 sequence', true, 1007, 'WS_ERR_INVALID_UTF8'),
};
