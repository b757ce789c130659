/**
 * Async iteration over a WebSocket's messages: `for await (const [data, isBinary] of ws)`. Each value is
 * the pair a 'message' listener receives (and what `events.on(ws, 'message')` yields), so binaryType
 * applies and text arrives as a Buffer, as with ws. Iteration ends when the connection closes (after
 * every message received before), throws the connection's error if it failed, and ends at once on a
 * socket that is already closed. When the consumer falls behind, the socket stops being read until it
 * catches up, so the peer meets TCP backpressure. Leaving the loop early (break/return) stops listening
 * and resumes reading; it does not close the connection.
 */
import type { WebSocket } from '../websocket';

/**
 * One received message: its data (text as a Buffer; binary per binaryType: a Buffer, an ArrayBuffer,
 * fragments or a Blob) and whether it was binary.
 */
export type Message = [data: Buffer | ArrayBuffer | Buffer[] | Blob, isBinary: boolean];

/** Messages queued before the socket stops being read. */
const HIGH_WATER_MARK = 16;
const CLOSED = 3;

type Waiter = { resolve: (result: IteratorResult<Message, undefined>) => void; reject: (err: unknown) => void };

class MessageIterator implements AsyncIterableIterator<Message> {
  private readonly ws: WebSocket;
  private readonly queue: Message[] = [];
  private waiter: Waiter | null = null;
  private ended = false;
  private error: unknown = null;
  private paused = false;
  private readonly onMessage: (data: Message[0], isBinary: boolean) => void;
  private readonly onError: (err: unknown) => void;
  private readonly onClose: () => void;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.onMessage = (data, isBinary) => this.push([data, isBinary]);
    this.onError = (err) => this.fail(err);
    this.onClose = () => this.end();
    if (ws.readyState === CLOSED) {
      this.ended = true;
      return;
    }
    ws.on('message', this.onMessage);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    const queue = this.queue;
    if (queue.length > 0) {
      const value = queue.shift() as Message;
      if (this.paused && queue.length < HIGH_WATER_MARK) {
        this.paused = false;
        this.ws.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.error !== null) {
      const err = this.error;
      this.error = null;
      this.ended = true;
      return Promise.reject(err);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Message, undefined>> {
    this.detach();
    this.ended = true;
    this.error = null;
    this.queue.length = 0;
    if (this.paused) {
      this.paused = false;
      this.ws.resume();
    }
    this.settle({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  private push(message: Message): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    if (!this.paused && this.queue.length >= HIGH_WATER_MARK) {
      this.paused = true;
      this.ws.pause();
    }
  }

  private fail(err: unknown): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      this.ended = true;
      waiter.reject(err);
      return;
    }
    this.error = err;
  }

  private end(): void {
    this.detach();
    this.ended = true;
    this.paused = false;
    this.settle({ value: undefined, done: true });
  }

  private settle(result: IteratorResult<Message, undefined>): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve(result);
    }
  }

  private detach(): void {
    const ws = this.ws;
    ws.removeListener('message', this.onMessage);
    ws.removeListener('error', this.onError);
    ws.removeListener('close', this.onClose);
  }
}

/** The iterator behind `ws[Symbol.asyncIterator]()`. */
export function messageIterator(ws: WebSocket): AsyncIterableIterator<Message> {
  return new MessageIterator(ws);
}
