/**
 * Writing a frame to a byte stream: bytes only, no knowledge of frames.
 */
import type { Duplex } from 'stream';

/**
 * Writes `first` and then, when given, `second` right behind it (a header and its payload): corked so
 * the two leave in one writev; `cb` runs once both are flushed.
 */
export function writePair(
  socket: Duplex,
  first: Buffer,
  second: Buffer | null,
  cb: ((err?: Error | null) => void) | undefined,
): void {
  if (second === null) {
    socket.write(first, cb);
    return;
  }
  socket.cork();
  socket.write(first);
  socket.write(second, cb);
  socket.uncork();
}
