/** The exit statuses of `weft` (listed in `weft --help` and the README), and leaving the process cleanly. */

/** Exit statuses. */
export const EXIT = {
  /** Closed with 1000, 1001 or 1005; listen: stopped by SIGINT / SIGTERM. */
  OK: 0,
  /** A bad option, URL, port or file. */
  USAGE: 1,
  /** Could not connect (DNS, TCP, TLS, HTTP status, handshake); listen: could not listen. */
  CONNECT_FAILED: 2,
  /** The connection was lost without a closing handshake (1006). */
  ABNORMAL: 3,
  /** Closed with any other code. */
  CLOSE_ERROR: 4,
  /** The peer broke the protocol (a WS_ERR_* error): weft failed the connection (1002, 1007, 1009). */
  PROTOCOL_ERROR: 5,
  /** Interrupted twice. */
  INTERRUPTED: 130,
} as const;

/** The exit status for a connection that was open and closed with `code`. */
export function exitCodeForClose(code: number): number {
  if (code === 1000 || code === 1001 || code === 1005) return EXIT.OK;
  if (code === 1006) return EXIT.ABNORMAL;
  return EXIT.CLOSE_ERROR;
}

let exiting = false;

/** Exits with `code` once stdout and stderr have taken what was written to them. */
export function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || !stream.writable) done();
    else stream.write('', done);
  }
}
