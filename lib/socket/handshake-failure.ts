/**
 * Failing a client's opening handshake, as ws does: the request is aborted (or the upgraded stream
 * destroyed), then the WebSocket emits 'error' and 'close'. Used by the WebSocket face and by the client
 * handshakes over HTTP/1.1 (client.ts) and HTTP/2 (http2/client.ts).
 */
import type { ClientRequest } from 'http';
import type { Duplex } from 'stream';
import { ReadyState } from '../protocol/constants';
import type { WebSocket } from '../websocket';

/**
 * Fails the opening handshake: aborts the request (or destroys the stream), then emits 'error' and
 * 'close' as ws does.
 */
export function abortHandshake(ws: WebSocket, stream: ClientRequest | Duplex | null, message: string): void {
  ws._handshakeState = ReadyState.CLOSING;
  const err = new Error(message);
  Error.captureStackTrace(err, abortHandshake);
  const req = stream as (ClientRequest & { [kAborted]?: boolean }) | null;
  if (req !== null && typeof (req as ClientRequest).setHeader === 'function') {
    req[kAborted] = true;
    req.destroy();
    if (req.socket && !req.socket.destroyed) req.socket.destroy();
    process.nextTick(emitErrorAndClose, ws, err);
  } else if (stream !== null) {
    (stream as Duplex).destroy(err);
    (stream as Duplex).once('error', (e: Error) => ws.emit('error', e));
    (stream as Duplex).once('close', () => ws.emitClose());
  } else {
    process.nextTick(emitErrorAndClose, ws, err);
  }
}

/** @internal Marks a request that was aborted on purpose (its 'error' is then ignored). */
export const kAborted = Symbol('weft-aborted');

/** @internal */
export function emitErrorAndClose(ws: WebSocket, err: Error): void {
  ws._handshakeState = ReadyState.CLOSING;
  ws._emitError(err);
  ws.emitClose();
}
