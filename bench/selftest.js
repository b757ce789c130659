'use strict';
/**
 * Self-check of the measuring tools (not of weft): the C load generator, the C echo server and the
 * Node bench client must stay correct when TCP hands them bytes in arbitrary pieces. A re-chunking
 * proxy sits between the two sides and splits every read into random pieces (1 byte .. a few KB,
 * each written on a later turn of the event loop), so frame headers, handshake heads and payloads
 * arrive split everywhere. Every run must report zero errors and a non-zero count.
 *
 *   node bench/selftest.js          (~30 s; no timing is asserted, only correctness)
 */
const net = require('net');
const P = require('./lib/proc');

/** A TCP proxy to `port` that re-chunks both directions at random. */
function chunkingProxy(port) {
  let seed = 12345;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n; // high bits: the low bits of an LCG cycle with a short period
  };
  const pieces = (buf) => {
    const out = [];
    for (let off = 0; off < buf.length; ) {
      const n = 1 + rand(rand(4) === 0 ? 4096 : 16); // mostly tiny pieces, sometimes big ones
      out.push(buf.subarray(off, off + n));
      off += n;
    }
    return out;
  };
  const relay = (from, to) => {
    let queue = Promise.resolve();
    from.on('data', (d) => {
      from.pause(); // keep order and apply backpressure while the pieces trickle out
      queue = queue.then(async () => {
        for (const p of pieces(d)) {
          if (to.destroyed) return;
          to.write(p);
          if (rand(3) === 0) await new Promise((r) => setImmediate(r));
        }
        from.resume();
      });
    });
    from.on('end', () => queue.then(() => to.end()));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    relay(down, up);
    relay(up, down);
    up.on('error', () => down.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, server })));
}

let passed = 0;
let failed = 0;

function check(name, res, countField = 'messages') {
  const count = res[countField];
  const ok = res.errors === 0 && count > 0;
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${countField}=${count} errors=${res.errors}${res.first_error ? ` (${res.first_error})` : ''}`);
}

async function main() {
  P.buildLoadgen();
  const cserver = await P.startCServer();
  const proxy = await chunkingProxy(cserver.port);
  const t = ['--warmup=0.1', '--duration=0.4', '--max-time=30'];
  try {
    for (const size of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      for (const text of [false, true]) {
        const a = [`--port=${proxy.port}`, '--conns=5', '--inflight=3', `--size=${size}`, ...(text ? ['--text'] : []), ...t];
        check(`loadgen echo ${size} B ${text ? 'text' : 'binary'} via chunking proxy`, await P.runLoadgen(a));
      }
    }
    for (const size of [0, 125, 70000]) {
      const a = [`--port=${proxy.port}`, '--conns=5', '--pacing=threads', `--size=${size}`, ...t];
      check(`loadgen --pacing=threads echo ${size} B via chunking proxy`, await P.runLoadgen(a));
    }
    check('loadgen connect via chunking proxy', await P.runLoadgen([`--port=${proxy.port}`, '--mode=connect', '--conns=4', ...t]));
    const idle = await P.runLoadgen([`--port=${proxy.port}`, '--mode=idle', '--conns=50', '--prime', '--size=300', '--max-time=30']);
    check('loadgen idle --prime via chunking proxy', idle, 'opened');
    for (const size of [1, 126, 65536]) {
      const res = await P.runClient('ws', [`--port=${proxy.port}`, '--conns=4', '--inflight=2', `--size=${size}`, '--warmup=0.1', '--duration=0.4']);
      check(`node client (ws) echo ${size} B against the C server via chunking proxy`, res);
    }
    // The floor servers must echo correctly whatever the chunking, and close cleanly (connect cycles).
    for (const [script, impl, what] of [['net-echo', 'net', 'net.Socket floor'], ['handle-echo', 'handle', 'TCP-handle floor']]) {
      const s = await P.startServer(script, impl);
      const px = await chunkingProxy(s.port);
      try {
        for (const size of [0, 125, 126, 65536, 70000]) {
          const a = [`--port=${px.port}`, '--conns=5', '--inflight=3', `--size=${size}`, ...t];
          check(`loadgen echo ${size} B (${what} server) via chunking proxy`, await P.runLoadgen(a));
        }
        const a = [`--port=${px.port}`, '--conns=5', '--pacing=threads', '--size=1000', '--text', ...t];
        check(`loadgen --pacing=threads echo 1000 B text (${what} server) via chunking proxy`, await P.runLoadgen(a));
        check(`loadgen connect cycles (${what} server)`, await P.runLoadgen(['--mode=connect', `--port=${s.port}`, '--conns=5', ...t]));
      } finally {
        px.server.close();
        await s.stop();
      }
    }
    // Compressed frames and fanout need a real WebSocket server behind the proxy: ws.
    for (const [script, extra, lg, name, field] of [
      ['echo', ['--deflate'], ['--deflate', '--size=3000', '--conns=4', '--inflight=2'], 'loadgen compressed echo (ws server)', 'messages'],
      ['broadcast', [], ['--mode=fanout', '--conns=30', '--size=40'], 'loadgen fanout (ws broadcast server)', 'publishes'],
      ['broadcast', [], ['--mode=fanout', '--conns=30', '--publishers=4', '--inflight=2', '--size=40'], 'loadgen fanout, 4 publishers (ws broadcast server)', 'publishes'],
    ]) {
      const s = await P.startServer(script, 'ws', extra);
      const px = await chunkingProxy(s.port);
      try {
        check(`${name} via chunking proxy`, await P.runLoadgen([`--port=${px.port}`, ...lg, ...t]), field);
      } finally {
        px.server.close();
        await s.stop();
      }
    }
  } finally {
    proxy.server.close();
    cserver.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
