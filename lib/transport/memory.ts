/**
 * An in-memory transport: two connected Duplex ends, bytes only. What one end writes, the other reads,
 * in order, with backpressure (a write completes when the peer has room), and half-close / destroy
 * reaching the peer as a TCP connection's would. It knows nothing of frames.
 * A write takes a copy of its bytes at once, as a kernel socket buffer does: the writer may reuse its
 * buffer as soon as `write()` returns, and the reader owns what it reads.
 */
import { Duplex } from 'stream';

type Callback = (err?: Error | null) => void;

/** One end of an in-memory connection. */
export class MemoryEnd extends Duplex {
  /** The other end (set by `memoryPair`). */
  peer: MemoryEnd | null;
  /** Bytes written by the peer, not yet pushed to this end's readers (null marks the peer's end()). */
  private inboxChunk: Buffer | null | undefined;
  private inboxCb: Callback | null;
  /** The peer's write whose bytes filled this end's buffer: it completes when this end reads again. */
  private blocked: Callback | null;
  /** A delivery is scheduled on the next tick. */
  private scheduled: boolean;
  /** Address-like fields some integrations read from a socket. */
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor() {
    super({ allowHalfOpen: false });
    this.peer = null;
    this.inboxChunk = undefined;
    this.inboxCb = null;
    this.blocked = null;
    this.scheduled = false;
    this.remoteAddress = 'memory';
    this.remotePort = 0;
  }

  /** Copies the bytes before they are queued (the caller keeps its buffer; the peer owns its copy). */
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (chunk instanceof Uint8Array) chunk = Buffer.from(chunk);
    return super.write(chunk, encoding as BufferEncoding, cb as Callback);
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Callback): void {
    const peer = this.peer;
    if (peer === null || peer.destroyed) {
      cb(Object.assign(new Error('write after the peer closed'), { code: 'EPIPE' }));
      return;
    }
    peer.deliver(chunk, cb);
  }

  /** @internal */
  override _final(cb: Callback): void {
    const peer = this.peer;
    if (peer !== null && !peer.destroyed) peer.deliver(null, cb);
    else cb();
  }

  /** @internal */
  override _read(): void {
    // The reader has room again: the write that filled the buffer completes now (backpressure).
    const blocked = this.blocked;
    if (blocked !== null) {
      this.blocked = null;
      blocked();
    }
  }

  /** @internal */
  override _destroy(err: Error | null, cb: Callback): void {
    this.release();
    const peer = this.peer;
    if (peer !== null && !peer.destroyed) {
      // The peer sees the connection go away: end of input, then close (as after a TCP reset).
      process.nextTick(endPeer, peer);
    }
    cb(err);
  }

  /**
   * @internal Takes bytes from the peer. They reach this end's readers on a later tick, as a socket's
   * would: a send never re-enters the receiver synchronously.
   */
  deliver(chunk: Buffer | null, cb: Callback): void {
    // Writable hands over one chunk at a time (the next waits for cb), so one slot is enough.
    this.inboxChunk = chunk;
    this.inboxCb = cb;
    if (!this.scheduled) this.schedule();
  }

  private schedule(): void {
    this.scheduled = true;
    process.nextTick(flush, this);
  }

  /** @internal */
  flushInbox(): void {
    this.scheduled = false;
    const chunk = this.inboxChunk;
    if (chunk === undefined || this.destroyed) {
      this.release();
      return;
    }
    const room = this.push(chunk);
    if (chunk === null || room) {
      this.release();
      return;
    }
    // Full: the chunk is queued in the readable buffer; its writer waits until this end reads.
    this.inboxChunk = undefined;
    this.blocked = this.inboxCb;
    this.inboxCb = null;
  }

  private release(): void {
    const blocked = this.blocked;
    this.blocked = null;
    if (blocked !== null) blocked();
    const cb = this.inboxCb;
    this.inboxChunk = undefined;
    this.inboxCb = null;
    if (cb !== null) cb();
  }

  /** Sockets have these; the driver calls them when present. No-ops in memory. */
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
}

function flush(end: MemoryEnd): void {
  end.flushInbox();
}

function endPeer(peer: MemoryEnd): void {
  if (peer.destroyed) return;
  peer.push(null);
  peer.destroy();
}

/** Creates two connected in-memory ends. */
export function memoryPair(): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
