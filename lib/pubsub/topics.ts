/**
 * The topic members of a WebSocket: `subscribe`, `unsubscribe`, `isSubscribed`, `topics`, `publish`.
 * WebSocket.prototype gets them in websocket.ts; a connection pays only for its two slots (`_topics`,
 * `_hub`), both null until it subscribes.
 */
import { ReadyState } from '../protocol/constants';
import type { WebSocket } from '../websocket';
import { Hub, checkTopic, hubOf, processHub, type HubOwner, type PublishOptions, type PublishResult } from './hub';

type Subscriber = WebSocket;

/** The topic members every WebSocket has. */
export interface TopicMethods {
  /** Subscribes to `topic`; returns false if already subscribed (or if the socket is closed). */
  subscribe(topic: string): boolean;
  /** Unsubscribes from `topic`; returns false if it was not subscribed. */
  unsubscribe(topic: string): boolean;
  /** Whether this socket is subscribed to `topic`. */
  isSubscribed(topic: string): boolean;
  /** A copy of the topics this socket is subscribed to. */
  readonly topics: Set<string>;
  /**
   * Publishes to every subscriber of `topic` except this socket (on every node, with an adapter).
   * Returns what happened on this process.
   */
  publish(topic: string, data: unknown, options?: PublishOptions): PublishResult;
}

/**
 * The hub a socket publishes through: its server's (the server puts itself in `ws._hub`; the slot is
 * replaced with the hub on first use), or, for a server-role socket that belongs to no server, the
 * process-wide hub. Topics are a server feature: a client socket's frames would need a mask each.
 */
function socketHub(ws: Subscriber): Hub {
  const slot = ws._hub;
  if (slot instanceof Hub) return slot;
  if (!ws._isServer) throw new Error('Topics are a server feature: this is a client WebSocket');
  const hub = slot !== null ? hubOf(slot as HubOwner) : processHub();
  ws._hub = hub;
  return hub;
}

const socketMethods = {
  subscribe(this: Subscriber, topic: string): boolean {
    checkTopic(topic);
    // A closed socket would never leave again.
    if (this.readyState === ReadyState.CLOSED) return false;
    return socketHub(this).subscribe(this, topic);
  },
  unsubscribe(this: Subscriber, topic: string): boolean {
    checkTopic(topic);
    if (this._topics === null) return false;
    return socketHub(this).unsubscribe(this, topic);
  },
  isSubscribed(this: Subscriber, topic: string): boolean {
    checkTopic(topic);
    return this._topics !== null && this._topics.has(topic);
  },
  publish(this: Subscriber, topic: string, data: unknown, options?: PublishOptions): PublishResult {
    return socketHub(this).publish(topic, data, options, this);
  },
};

function topicsGetter(this: Subscriber): Set<string> {
  return new Set(this._topics === null ? undefined : this._topics);
}

/** A closed socket leaves its topics (before its 'close' event). */
export function leaveTopics(ws: Subscriber): void {
  if (ws._topics !== null) socketHub(ws).leaveAll(ws);
}

/** Installs the topic members on a WebSocket prototype. */
export function applyTopics(proto: object): void {
  for (const [name, fn] of Object.entries(socketMethods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(proto, 'topics', { get: topicsGetter, configurable: true, enumerable: false });
}
