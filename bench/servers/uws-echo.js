'use strict';
/**
 * uWebSockets.js as a reference server for the echo, connect and idle rows: what users switch to when
 * ws is too slow. It is not on npm and not a dependency: the harness runs it only with `--impls=...,uws`
 * and `UWS_PATH` set to a uWebSockets.js build (a directory or file that `require` loads, exporting
 * `App`). Without it the column reads "n/a" with the reason.
 *
 *   UWS_PATH=/path/to/uWebSockets.js node --expose-gc bench/servers/uws-echo.js --impl=uws
 *
 * The handler is the echo every server here runs. uWS's defaults differ from ws's where it matters for
 * the rows: its payload limit (16 KiB) is raised past the 1 MiB rows, its per-socket backpressure limit
 * (past which it drops a send) raised so that no echo is dropped, and its idle timeout and automatic
 * pings turned off (ws has neither), so idle connections stay idle.
 */
const { parseArgs, stats, serve, selfMeter } = require('./common');

const args = parseArgs(process.argv.slice(2));
if (!process.env.UWS_PATH) {
  // (The harness reports the first line of stderr as the reason for the n/a.)
  console.error('no uWebSockets.js: set UWS_PATH to a build of it');
  process.exit(1);
}
const uWS = require(process.env.UWS_PATH);

let clients = 0;
let listenSocket = null;

const app = uWS.App().ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024 * 1024,
  maxBackpressure: 1024 * 1024 * 1024,
  idleTimeout: 0,
  sendPingsAutomatically: false,
  open: () => {
    stats.conns++;
    clients++;
  },
  close: () => {
    clients--;
  },
  message: (ws, message, isBinary) => {
    stats.ops++;
    ws.send(message, isBinary);
  },
});

/** uWS reads with recv(2), which /proc/self/io's read count leaves out: its reads per op are unknown. */
function readsUnknown(meter) {
  return { ...meter, stop: () => ({ ...meter.stop(), reads: NaN }) };
}

app.listen('127.0.0.1', Number(args.port || 0), (token) => {
  if (!token) throw new Error('uws: listen failed');
  listenSocket = token;
  serve(
    { port: uWS.us_socket_local_port(token), impl: 'uws' },
    () => clients,
    () => uWS.us_listen_socket_close(listenSocket),
    readsUnknown(selfMeter()),
  );
});
