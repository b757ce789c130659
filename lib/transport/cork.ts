/**
 * Corking per turn of the event loop: a wire written to by a broadcast is corked on its first write and
 * uncorked with all the others by one `setImmediate`, after the I/O callbacks of the current turn — so
 * the publishes of one turn leave in one writev per connection, whether they came from one callback or
 * from several sockets' reads (many publishers at once). A turn's writes are held at most until that
 * turn's check phase: a process that has I/O pending is not made to wait for more.
 */
import type { Wire } from './wire';

/** Sockets this module corked in the current turn; all uncorked by one setImmediate. */
const corked: Wire[] = [];
let flushScheduled = false;

/** Corks `socket` unless it is corked already (by us earlier in this turn, or by a handler's scope). */
export function corkOnce(socket: Wire): void {
  if (socket.writableCorked !== 0) return;
  socket.cork();
  corked.push(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}

function flushCorked(): void {
  flushScheduled = false;
  // One uncork per cork we made; a socket destroyed meanwhile ignores it.
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}
