/**
 * What a connection's bytes travel through, as the driver and the face use it: a net.Socket, a TLS
 * socket, an HTTP/2 stream or the in-memory pair (any Duplex has this shape). Bytes only.
 */
export interface Wire {
  /** Bytes handed to the wire and not yet taken by the kernel (or the peer, in memory). */
  readonly writableLength: number;
  /** Past this many buffered bytes a sender is asked to wait for 'drain'. */
  readonly writableHighWaterMark: number;
  /** Nesting depth of `cork()`: writes made meanwhile leave together on the last `uncork()`. */
  readonly writableCorked: number;
  /** The FIN has been handed to the kernel (everything written before it too). */
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  /** Stops reading (the kernel's buffer fills, and TCP's flow control holds the peer). */
  pause(): unknown;
  resume(): unknown;
  /** Sends the FIN after what is buffered. */
  end(): unknown;
  /** Closes at once; what is still buffered here is dropped. */
  destroy(): unknown;
}
