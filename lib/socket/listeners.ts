/**
 * A compact listener table for an EventEmitter that lives as long as a connection.
 *
 * Node makes an emitter's `_events` with `{ __proto__: null }`, which V8 keeps in dictionary mode: a
 * hash table of about 190 bytes once three events have listeners ('message', 'error', 'close': what
 * nearly every server socket has). An object made by a constructor whose prototype is an empty
 * null-prototype object looks up the same — nothing is inherited, not even `constructor` — but V8 gives
 * it a hidden class, shared by every table that gains the same events in the same order: about 50 bytes.
 * Only the table's representation changes; EventEmitter's own code adds, removes and emits as before
 * (removing a connection's last listener brings Node's own kind of table back).
 */
import type { EventEmitter } from 'events';

interface ListenerTableConstructor {
  new (): Record<string, unknown>;
}

function ListenerTable(): void {}
ListenerTable.prototype = Object.create(null);

/** Gives a new emitter (no listener yet) the compact table. */
export function compactListeners(emitter: EventEmitter): void {
  const e = emitter as unknown as { _events: object; _eventsCount: number };
  if (e._eventsCount === 0) e._events = new (ListenerTable as unknown as ListenerTableConstructor)();
}
