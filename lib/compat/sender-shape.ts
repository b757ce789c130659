/**
 * ws's `_sender` shape on a weft WebSocket, for integrations that write pre-framed bytes (engine.io's
 * `ws._sender.sendFrame(frames, cb)`): created on first use, so idle connections do not pay for it.
 */
import type { Driver } from '../socket/driver';
import type { WriteCallback } from '../protocol/writer';

/** ws's `_sender` shape, for integrations that write pre-framed bytes. */
export class SenderCompat {
  private readonly driver: Driver;
  constructor(driver: Driver) {
    this.driver = driver;
  }
  /** Writes whole frames (e.g. from `Sender.frame`) in order with everything else sent. */
  sendFrame(list: Buffer[], cb?: WriteCallback): void {
    const conn = this.driver.conn;
    if (list.length === 1) conn.sendRaw(list[0], null, cb);
    else if (list.length === 2) conn.sendRaw(list[0], list[1], cb);
    else conn.sendRaw(Buffer.concat(list), null, cb);
  }
  /** The socket the frames are written to. */
  get _socket(): Driver['socket'] {
    return this.driver.socket;
  }
  get _bufferedBytes(): number {
    return this.driver.conn.queuedBytes;
  }

  /** ws's Sender state: 0 (DEFAULT), 1 (DEFLATING: a message is being compressed), 2 (GET_BLOB_DATA). */
  get _state(): number {
    return this.driver.conn.sendWaitState;
  }
}
