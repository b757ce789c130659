/**
 * The in-process pub/sub adapter: hubs of one process (several WebSocketServers, or tests standing in
 * for processes) joined by a bus.
 */
import { checkTopic, type PubSubAdapter, type PubSubReceiver } from './hub';

/**
 * A bus that joins several hubs in one process (several WebSocketServers, or tests standing in for
 * processes): give each server its own `new MemoryPubSub(bus)`. Delivery is synchronous and in order.
 */
export class MemoryBus {
  /** The nodes on this bus. */
  readonly nodes: Set<MemoryPubSub> = new Set();
}

const defaultBus = new MemoryBus();

/**
 * The in-process PubSubAdapter: a publish on one node reaches the other nodes of the same bus that have
 * subscribers to the topic (the default bus unless one is given). At most once, ordered per publisher
 * and topic, as the Redis adapter.
 */
export class MemoryPubSub implements PubSubAdapter {
  /** The bus this node is on. */
  readonly bus: MemoryBus;
  /** Topics this node receives. */
  readonly subscribed: Set<string>;
  /** @internal */
  private receiver: PubSubReceiver | null;

  constructor(bus: MemoryBus = defaultBus) {
    this.bus = bus;
    this.subscribed = new Set();
    this.receiver = null;
    bus.nodes.add(this);
  }

  /** @inheritdoc */
  attach(receiver: PubSubReceiver): void {
    if (this.receiver !== null) throw new Error('This adapter is already attached to a hub: give each server its own');
    this.receiver = receiver;
  }

  /** @inheritdoc */
  subscribe(topic: string): void {
    checkTopic(topic);
    this.subscribed.add(topic);
  }

  /** @inheritdoc */
  unsubscribe(topic: string): void {
    checkTopic(topic);
    this.subscribed.delete(topic);
  }

  /** @inheritdoc */
  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean): void {
    checkTopic(topic);
    for (const node of this.bus.nodes) {
      if (node !== this && node.receiver !== null && node.subscribed.has(topic)) {
        node.receiver.deliver(topic, payload, binary, compress);
      }
    }
  }

  /** Leaves the bus. */
  close(): Promise<void> {
    this.bus.nodes.delete(this);
    this.subscribed.clear();
    return Promise.resolve();
  }
}
