/**
 * `createWebSocketStream(ws)`: a Duplex over one WebSocket, with ws 8.23's semantics. Each message
 * read becomes one chunk; each chunk written becomes one message. Ending the writable side closes
 * the WebSocket with a closing handshake; destroying the stream terminates it.
 */
import { Duplex, type DuplexOptions } from 'stream';
import type { WebSocket } from './websocket';
import type { BufferLike } from './types/events';

/** The ready states this file tests (numbered as the WebSocket's). */
const CONNECTING = 0;
const CLOSED = 3;

/**
 * Returns a Duplex joined to `ws`. `options` are Duplex options, except that `autoDestroy`,
 * `emitClose`, `objectMode` and `writableObjectMode` are forced off: the stream's life follows the
 * WebSocket's, and its own 'close' comes after the WebSocket's.
 *
 * - Reading: every message is pushed as one chunk, text included as its Buffer (as a string with
 *   `readableObjectMode`, or decoded by the `encoding` option). When the stream's buffer is full the
 *   WebSocket is paused; reading resumes it. The WebSocket's 'close' ends the readable side.
 * - Writing: every chunk is sent as one message: binary, or text when `decodeStrings: false` lets a
 *   string through. Writes made while the WebSocket is CONNECTING wait for 'open'.
 * - `end()` starts the closing handshake (`ws.close()`); the stream finishes once the socket has.
 * - `destroy()` terminates the WebSocket; an 'error' from the WebSocket destroys the stream with it.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  // Set when the WebSocket failed: it is closing itself, so destroying the stream must not cut it short.
  let wsFailed = false;

  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read: readFromSocket,
    write: writeMessage,
    final: closeOnFinal,
    destroy: terminateOnDestroy,
  });
  const textAsString = duplex.readableObjectMode;

  ws.on('message', (data: unknown, isBinary: boolean) => {
    const chunk = !isBinary && textAsString ? String(data) : data;
    // Backpressure: the stream's buffer is full, so stop reading the socket until _read asks again.
    if (!duplex.push(chunk)) ws.pause();
  });

  ws.once('error', (err: Error) => {
    if (duplex.destroyed) return;
    wsFailed = true;
    duplex.destroy(err);
  });

  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  function readFromSocket(this: Duplex): void {
    if (ws.isPaused) ws.resume();
  }

  function writeMessage(
    this: Duplex,
    chunk: unknown,
    encoding: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    if (ws.readyState === CONNECTING) {
      // Writable hands us one chunk at a time, so at most one write waits here.
      ws.once('open', () => writeMessage.call(this, chunk, encoding, callback));
      return;
    }
    ws.send(chunk as BufferLike, callback);
  }

  function closeOnFinal(this: Duplex, callback: (err?: Error | null) => void): void {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => closeOnFinal.call(this, callback));
      return;
    }
    const socket = ws._socket;
    const driver = ws._driver;
    // Never connected: there is nothing to finish, and 'finish' is not emitted (as in ws).
    if (socket === null || driver === null) return;
    if (driver.wire.writableFinished) {
      callback();
      // Both sides are done: the readable side ended first, so release the stream now.
      if (this.readableEnded) this.destroy();
      return;
    }
    // The stream finishes when the closing handshake has ended the socket's writable side.
    socket.once('finish', () => callback());
    ws.close();
  }

  function terminateOnDestroy(this: Duplex, err: Error | null, callback: (err?: Error | null) => void): void {
    if (ws.readyState === CLOSED) {
      callback(err);
      process.nextTick(emitStreamClose, this);
      return;
    }
    let reported = false;
    ws.once('error', (wsErr: Error) => {
      reported = true;
      callback(wsErr);
    });
    ws.once('close', () => {
      if (!reported) callback(err);
      process.nextTick(emitStreamClose, this);
    });
    if (!wsFailed) ws.terminate();
  }

  duplex.on('end', onStreamEnd);
  duplex.on('error', onStreamError);
  return duplex;
}

/** 'close' on the stream, a tick after the WebSocket's (emitClose is off, so this is the only one). */
function emitStreamClose(stream: Duplex): void {
  stream.emit('close');
}

/** The readable side ended: if the writable side is done too, nothing is left, so destroy. */
function onStreamEnd(this: Duplex): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

/**
 * An error on the stream (a failed write, say) destroys it, since autoDestroy is off. If the user has
 * no 'error' listener of their own, the error is re-emitted so that it is not swallowed.
 */
function onStreamError(this: Duplex, err: Error): void {
  this.removeListener('error', onStreamError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}
