/**
 * Empties an array that is filled and emptied over and over (a write queue, a message's pieces) and keeps
 * its backing store for the next use. `a.length = 0` drops the store (V8 then allocates a new one on the
 * next push, through a runtime call for the length setter); popping a few elements keeps it. Measured on
 * a 32 B echo (Node 20): the TCP-handle transport's write queue and the parser's pieces each accounted for
 * a sixth of all that was allocated per message. A long array is cut at once: popping it would cost more
 * than the new store.
 */
export function emptyArray(a: unknown[]): void {
  if (a.length > 8) a.length = 0;
  else while (a.length > 0) a.pop();
}
