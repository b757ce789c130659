/**
 * Corking per tick: a wire written to by a broadcast is corked on its first write in a tick and uncorked
 * with all the others on one process.nextTick, so several publishes in a tick leave in one writev per
 * connection.
 */
import type { Wire } from './wire';

/** Sockets this module corked in the current tick; all uncorked by one process.nextTick. */
const corked: Wire[] = [];
let flushScheduled = false;

/** Corks `socket` unless it is corked already (by us earlier in this tick, or by a handler's scope). */
export function corkOnce(socket: Wire): void {
  if (socket.writableCorked !== 0) return;
  socket.cork();
  corked.push(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushCorked);
  }
}

function flushCorked(): void {
  flushScheduled = false;
  // One uncork per cork we made; a socket destroyed meanwhile ignores it.
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}
