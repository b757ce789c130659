'use strict';
/**
 * The rows of the bench table. Each row is measured for each implementation in `impls`,
 * interleaved (weft ws ws-js weft ws ws-js ...) for `rounds` rounds (the run's default unless set).
 *
 * kind:
 *   'server'  a Node server (bench/servers/<server>.js) under load from the C load generator;
 *             figure = server CPU (process.cpuUsage) over the window / ops the server counted
 *   'memory'  a fresh Node server per round; RSS and heapUsed after GC at 0 and at N connections
 *   'client'  a Node client (bench/clients/client.js) against the fixed C echo server;
 *             figure = client CPU over the window / messages it counted
 *
 * ws-js (ws with WS_NO_BUFFER_UTIL/WS_NO_UTF_8_VALIDATE) is only run where bufferutil can matter,
 * i.e. where masked payload bytes pass through the implementation. Fanout (server frames are not
 * masked), connect and idle rows would only repeat the ws column at the cost of run time.
 *
 * inflight: 4 messages per connection for small payloads ("several in flight"), 2 at 1 MiB so that
 * 50 connections do not park 200 MiB in the server's buffers.
 */
const ALL = ['weft', 'ws', 'ws-js'];
const TWO = ['weft', 'ws'];

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

const clientEcho = (name, label, args) => ({
  name,
  label,
  kind: 'client',
  impls: ALL,
  client: ['--mode=echo', '--conns=50', ...args],
  unit: 'msg',
});

const ROWS = [
  echo('echo-32', 'echo 32 B binary', ['--size=32', '--inflight=4']),
  echo('echo-1k-bin', 'echo 1 KiB binary', ['--size=1024', '--inflight=4']),
  echo('echo-1k-text', 'echo 1 KiB text', ['--size=1024', '--inflight=4', '--text']),
  echo('echo-64k', 'echo 64 KiB binary', ['--size=65536', '--inflight=4']),
  echo('echo-1m', 'echo 1 MiB binary', ['--size=1048576', '--inflight=2']),
  echo('deflate-1k', 'compressed echo 1 KiB text', ['--size=1024', '--inflight=4', '--deflate'], {
    serverArgs: ['--deflate'],
    deflate: true,
  }),
  echo('deflate-16k', 'compressed echo 16 KiB text', ['--size=16384', '--inflight=4', '--deflate'], {
    serverArgs: ['--deflate'],
    deflate: true,
  }),
  echo('connect', 'connect + upgrade + close (20 at a time)', ['--mode=connect', '--conns=20'], {
    impls: TWO,
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
    conns: 10000,
    lg: ['--mode=idle', '--conns=10000'],
    rounds: 3,
    setupS: 3,
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
  clientEcho('client-echo-1k-bin', 'client: echo 1 KiB binary', ['--size=1024', '--inflight=4']),
  clientEcho('client-echo-1k-text', 'client: echo 1 KiB text', ['--size=1024', '--inflight=4', '--text']),
  clientEcho('client-echo-64k', 'client: echo 64 KiB binary', ['--size=65536', '--inflight=4']),
  clientEcho('client-echo-1m', 'client: echo 1 MiB binary', ['--size=1048576', '--inflight=2']),
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
  return row.setupS ?? (row.kind === 'client' ? 0.6 : 0.4);
}

module.exports = { ROWS, ALL, overhead };
