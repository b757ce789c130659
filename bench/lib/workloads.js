'use strict';
/**
 * The rows of the bench table. Each row is measured for each implementation in `impls`,
 * interleaved (weft ws ws-js weft ws ws-js ...) for `rounds` rounds (the run's default unless set).
 *
 * kind:
 *   'server'  a Node server (bench/servers/<server>.js) under load from the C load generator;
 *             figure = server CPU (process.cpuUsage) over the window / ops the server counted
 *             (the 'c' floor: the C server's CPU from /proc / the echoes the load generator counted)
 *   'memory'  a fresh Node server per round; RSS and heapUsed after GC at 0 and at N connections
 *   'client'  a Node client (bench/clients/client.js) against the fixed C echo server;
 *             figure = client CPU over the window / messages it counted
 *
 * ws-js (ws with WS_NO_BUFFER_UTIL/WS_NO_UTF_8_VALIDATE) is only run where bufferutil can matter,
 * i.e. where masked payload bytes pass through the implementation. Fanout (server frames are not
 * masked), connect and idle rows would only repeat the ws column at the cost of run time; so did the
 * compressed rows (zlib's time: ws-js 187 µs / 1.18 ms vs ws 191 µs / 1.21 ms in the run of 0cd263b)
 * and, nearly, the client's 1 KiB rows (32 B, 64 KiB and 1 MiB keep it), which keeps a whole
 * `npm run bench` well under 10 minutes.
 *
 * inflight: 4 messages per connection for small payloads ("several in flight"), 2 at 1 MiB so that
 * 50 connections do not park 200 MiB in the server's buffers.
 *
 * Two pacings of the same echo (see bench/README.md):
 *   echo-*         one epoll thread, K messages in flight per connection; each read's replies leave
 *                  together, so the server tends to find several messages per wakeup ("batched")
 *   paced-echo-*   --pacing=threads: one blocking thread per connection, one message in flight, the
 *                  next sent the moment its own echo is back ("independent"); the server wakes for one
 *                  or a few messages at a time, and Node's per-wakeup cost dominates small messages
 *   client-paced-* the Node client with one message in flight per connection against the C server
 *
 * spread: the row's per-implementation spread over rounds (min–max CPU/op and p50, reads per op,
 * ops per wakeup) is printed in its own table; `node bench/run.js --large` runs these rows 7 times.
 */
const ALL = ['weft', 'ws', 'ws-js'];
const TWO = ['weft', 'ws'];
/**
 * The floors, on the echo rows where both echo correctly (every echo is checked byte by byte):
 *   net  a bare net.Socket echo with no library (bench/servers/net-echo.js): the floor of a server on
 *        Node's stream layer
 *   c    the C epoll echo server (bench/loadgen/server.c, via bench/servers/c-echo.js): the same
 *        syscalls with no runtime at all, what is left of the cost once Node is taken away
 * Neither validates UTF-8 on the text rows, nor negotiates permessage-deflate (no compressed rows).
 */
const FLOORS = ['net', 'c'];
const FLOOR = ['weft', 'ws', ...FLOORS];
/**
 * Floors of the connect and idle rows, run only when --impls names them (they would push a whole run
 * past 10 minutes): net (as above) and handle, the same bare echo on Node's TCP handles with no
 * net.Server, net.Socket or http.Server at all (bench/servers/handle-echo.js): what accepting and holding
 * a connection costs on Node once its stream layer is gone.
 */
const ON_REQUEST = ['net', 'handle'];

const echo = (name, label, lg, extra = {}) => ({
  name,
  label,
  kind: 'server',
  server: 'echo',
  impls: ALL,
  lg: ['--mode=echo', '--conns=50', ...lg],
  opsField: 'ops',
  unit: 'msg',
  ...extra,
});

const clientEcho = (name, label, args, extra = {}) => ({
  name,
  label,
  kind: 'client',
  impls: ALL,
  client: ['--mode=echo', '--conns=50', ...args],
  unit: 'msg',
  ...extra,
});

const paced = (name, label, lg, extra = {}) =>
  echo(name, label, ['--pacing=threads', ...lg], { impls: FLOOR, spread: true, ...extra });

/**
 * Warmup of the 1 MiB rows (s): a row's first second is every connection's first messages sent at once
 * (100 MiB at 50 x 2 in flight) and malloc growing its heap for them. With the default 0.3 s, the
 * client's 1 MiB echo measured weft/ws 1.10 and 1.28 in two runs, 0.76 with a 4 s window and 0.65 with
 * a 1.5 s warmup, ws's own figure moving little: the short window measured the start, not the load.
 */
const LARGE_WARMUP = 1;

const ROWS = [
  echo('echo-32', 'echo 32 B binary', ['--size=32', '--inflight=4'], { impls: [...ALL, ...FLOORS] }),
  echo('echo-1k-bin', 'echo 1 KiB binary', ['--size=1024', '--inflight=4']),
  echo('echo-1k-text', 'echo 1 KiB text', ['--size=1024', '--inflight=4', '--text']),
  echo('echo-64k', 'echo 64 KiB binary', ['--size=65536', '--inflight=4'], { impls: [...ALL, ...FLOORS], spread: true }),
  echo('echo-1m', 'echo 1 MiB binary', ['--size=1048576', '--inflight=2'], { impls: [...ALL, ...FLOORS], spread: true, warmupS: LARGE_WARMUP }),
  paced('paced-echo-32', 'independent pacing: echo 32 B binary', ['--size=32']),
  paced('paced-echo-1k-text', 'independent pacing: echo 1 KiB text', ['--size=1024', '--text']),
  paced('paced-echo-64k', 'independent pacing: echo 64 KiB binary', ['--size=65536']),
  paced('paced-echo-1m', 'independent pacing: echo 1 MiB binary', ['--size=1048576'], { warmupS: LARGE_WARMUP }),
  echo('deflate-1k', 'compressed echo 1 KiB text', ['--size=1024', '--inflight=4', '--deflate'], {
    serverArgs: ['--deflate'],
    deflate: true,
    impls: TWO,
  }),
  echo('deflate-16k', 'compressed echo 16 KiB text', ['--size=16384', '--inflight=4', '--deflate'], {
    serverArgs: ['--deflate'],
    deflate: true,
    impls: TWO,
  }),
  echo('connect', 'connect + upgrade + close (20 at a time)', ['--mode=connect', '--conns=20'], {
    impls: TWO,
    onRequest: ON_REQUEST,
    opsField: 'conns',
    unit: 'cycle',
  }),
  {
    name: 'fanout-1k',
    label: 'broadcast 32 B to 1,000 subscribers',
    kind: 'server',
    server: 'broadcast',
    impls: TWO,
    lg: ['--mode=fanout', '--conns=1000', '--inflight=2', '--size=32'],
    opsField: 'ops',
    unit: 'delivery',
    setupS: 0.5,
  },
  {
    // Several publishers, each with one publish in flight and no regard for the others: publishes reach
    // the server through different sockets' reads, as in a chat room with many talkers.
    name: 'fanout-1k-8pub',
    label: 'broadcast 32 B to 1,000 subscribers from 8 publishers',
    kind: 'server',
    server: 'broadcast',
    impls: TWO,
    lg: ['--mode=fanout', '--conns=1000', '--publishers=8', '--inflight=1', '--size=32'],
    opsField: 'ops',
    unit: 'delivery',
    rounds: 3,
    setupS: 0.5,
  },
  {
    name: 'fanout-10k',
    label: 'broadcast 32 B to 10,000 subscribers',
    kind: 'server',
    server: 'broadcast',
    impls: TWO,
    lg: ['--mode=fanout', '--conns=10000', '--inflight=2', '--size=32'],
    opsField: 'ops',
    unit: 'delivery',
    rounds: 3,
    setupS: 2.5,
  },
  {
    name: 'idle-10k',
    label: 'idle connections (10,000)',
    kind: 'memory',
    server: 'echo',
    impls: TWO,
    onRequest: ON_REQUEST,
    conns: 10000,
    lg: ['--mode=idle', '--conns=10000'],
    rounds: 3,
    setupS: 1,
  },
  {
    name: 'idle-1k-deflate',
    label: 'compressed connections (1,000, one 1 KiB message each)',
    kind: 'memory',
    server: 'echo',
    serverArgs: ['--deflate'],
    deflate: true,
    impls: TWO,
    conns: 1000,
    lg: ['--mode=idle', '--conns=1000', '--prime', '--size=1024', '--deflate'],
    rounds: 3,
    setupS: 1.5,
  },
  clientEcho('client-echo-32', 'client: echo 32 B binary', ['--size=32', '--inflight=4']),
  clientEcho('client-echo-1k-bin', 'client: echo 1 KiB binary', ['--size=1024', '--inflight=4'], { impls: TWO }),
  clientEcho('client-echo-1k-text', 'client: echo 1 KiB text', ['--size=1024', '--inflight=4', '--text'], { impls: TWO }),
  clientEcho('client-echo-64k', 'client: echo 64 KiB binary', ['--size=65536', '--inflight=4']),
  clientEcho('client-echo-1m', 'client: echo 1 MiB binary', ['--size=1048576', '--inflight=2'], { spread: true, warmupS: LARGE_WARMUP }),
  clientEcho('client-paced-echo-32', 'client, independent pacing: echo 32 B binary', ['--size=32', '--inflight=1'], { impls: TWO, spread: true }),
  clientEcho('client-paced-echo-1m', 'client, independent pacing: echo 1 MiB binary', ['--size=1048576', '--inflight=1'], {
    impls: TWO,
    spread: true,
    warmupS: LARGE_WARMUP,
  }),
  {
    name: 'client-connect',
    label: 'client: connect + upgrade + close (20 at a time)',
    kind: 'client',
    impls: TWO,
    client: ['--mode=connect', '--conns=20'],
    unit: 'cycle',
  },
];

/** Seconds one measurement takes beyond warmup + window (spawn, connect, drain, close). */
function overhead(row) {
  return row.setupS ?? 0.15;
}

/** `--large`: the rows whose runs spread most (large messages), measured 7 times. */
const LARGE = ['echo-64k', 'echo-1m', 'paced-echo-64k', 'paced-echo-1m', 'client-echo-1m', 'client-paced-echo-1m'];

module.exports = { ROWS, ALL, FLOORS, LARGE, overhead };
