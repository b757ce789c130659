'use strict';
// 100,000 idle connections held by weft (`npm run test:scale`, not part of `npm test`; .ci/run runs it on
// the default transport and again with WEFT_TRANSPORT=native). Real peers: the C load generator
// (bench/loadgen.c, --mode=idle: opens its connections a bounded number at a time, upgrades them, checks
// each 101, holds them until its stdin says close, then closes each one with a close handshake).
//
// One process cannot hold 100,000 sockets where the open-files limit is 20,000 (CI's containers: the hard
// limit, not raisable), so the connections are sharded: the test reads `ulimit -Hn` and starts as many
// server processes (test/scale/idle-shard.js, each a WebSocketServer on its own port) as it takes to keep
// each under the limit, and as many load generator processes as the limit and the ephemeral port range
// need (each from its own source address, 127.0.0.2, 127.0.0.3, ...: ports are counted per
// source/destination pair). A machine with a higher limit runs fewer processes. The configuration used
// is printed.
//
// Asserted: every handshake completes and the servers count every connection (wss.clients.size summed
// over shards), on the transport asked for; during the hold all stay OPEN, nothing closes, no error, a
// fresh client gets an echo from every shard and every shard answers a ping over IPC promptly; the memory
// per connection (RSS and heap growth ÷ connections, after GC) is printed, with a generous bound as a
// leak check only; at the end the peers close, every close handshake completes (code 1000) and the
// servers' client sets empty. Nothing here asserts a timing except "answers within seconds".
//
// IDLE_SCALE_CONNS=N runs it with N connections instead (a quick check while working on it).

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { fork, spawn, spawnSync } = require('child_process');
const { once } = require('events');
const { WebSocket } = require('../..');
const { LOADGEN, buildLoadgen, within } = require('../../bench/lib/proc');

const ROOT = path.join(__dirname, '..', '..');
const SHARD = path.join(__dirname, 'idle-shard.js');
const TOTAL = Number(process.env.IDLE_SCALE_CONNS || 100000);
const HOLD_MS = 15000;
/** File descriptors each process keeps for itself besides the connections (Node's own, pipes, a spare client). */
const FD_SPARE = 1000;
/** Handshakes in flight per listening socket: well under Node's listen backlog (511) and somaxconn. */
const HANDSHAKES_PER_SHARD = 256;
/** Leak check only (not a performance bound): what one idle connection may cost a server. */
const MAX_BYTES_PER_CONN = 32 * 1024;
const NATIVE = process.env.WEFT_TRANSPORT !== 'stream';

const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The hard limit on open files of this process (and so of its children), from the shell's ulimit. */
function hardFdLimit() {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const v = String(r.stdout || '').trim();
  if (v === 'unlimited') return Infinity;
  const n = Number(v);
  if (r.status !== 0 || !Number.isInteger(n) || n <= 0) throw new Error(`cannot read the open-files limit (ulimit -Hn: ${JSON.stringify(v)} ${r.stderr || ''})`);
  return n;
}

/** How many ephemeral ports one source/destination pair has (ip_local_port_range). */
function ephemeralPorts() {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return hi - lo + 1;
  } catch {
    return 28232; // Linux's default range, 32768-60999
  }
}

/** The source address of peer process `k` (0, 1, ...): 127.0.0.2, 127.0.0.3, ... */
const source = (k) => `127.0.${(2 + k) >> 8}.${(2 + k) & 255}`;

/** Splits `n` into `k` parts that differ by at most one. */
const split = (n, k) => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));

/** Shards and peers for TOTAL connections under this machine's limits. */
function plan() {
  const fdLimit = hardFdLimit();
  const perProcess = Math.min(TOTAL, fdLimit - FD_SPARE);
  if (perProcess < 1000) throw new Error(`the open-files limit (${fdLimit}) is too low to hold ${TOTAL} connections in a few processes`);
  // A peer's connections share one source address and one destination, so each needs a port of its own:
  // keep them under half the range. connect() tries the ports of one parity first (bind() takes the
  // others), and once those are taken every further connect scans all of them in the kernel before it
  // finds a free one: past ~14,000 per pair here, connecting slowed from thousands a second to hundreds.
  const perPeer = Math.min(perProcess, Math.floor(ephemeralPorts() * 0.45));
  const shards = split(TOTAL, Math.ceil(TOTAL / perProcess)).map((conns) => ({ conns, peers: split(conns, Math.ceil(conns / perPeer)) }));
  return { fdLimit, perProcess, perPeer, shards };
}

/** Builds the C load generator as the bench does (bench/lib/proc.js); a missing compiler is a failure. */
function loadgenBuilt() {
  const cc = process.env.CC || 'cc';
  const check = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (check.error || check.status !== 0) {
    throw new Error(
      `no C compiler (\`${cc}\`: ${check.error ? check.error.message : check.stderr}): the idle scale test builds its peers, ` +
        'the C load generator bench/loadgen.c. Install one (`apt-get install -y gcc`, or set CC), then run `npm run test:scale` again.',
    );
  }
  buildLoadgen();
  return LOADGEN;
}

describe(`${TOTAL.toLocaleString('en-US')} idle connections (${NATIVE ? 'native' : 'stream'} transport, sharded under the open-files limit)`, function () {
  this.timeout(600000);

  let layout;
  let loadgen;
  const shards = []; // { child, port, conns, exited, waiting, nextId, base: {mem, stats} }
  const peers = []; // { child, shard, conns, source, result, exited, stderr, ready, done }
  let failed = null; // the first step that failed: the later ones stop at once

  function step(fn) {
    return async function () {
      if (failed !== null) throw new Error(`not run: an earlier step failed (${failed})`);
      try {
        await fn.call(this);
      } catch (err) {
        failed = this.test.title;
        throw err;
      }
    };
  }

  function request(shard, cmd, ms = 30000) {
    if (shard.exited) return Promise.reject(new Error(`shard ${shard.index} exited (${shard.exited})`));
    const id = shard.nextId++;
    const answer = new Promise((resolve, reject) => shard.waiting.set(id, { resolve, reject }));
    shard.child.send({ id, cmd });
    return within(answer, ms, `shard ${shard.index} '${cmd}'`);
  }
  const all = (cmd, ms) => Promise.all(shards.map((s) => request(s, cmd, ms)));

  function startShard(index, conns) {
    const child = fork(SHARD, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const shard = { index, child, conns, port: 0, exited: null, waiting: new Map(), nextId: 1 };
    shards.push(shard);
    const listening = new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.event === 'listening') {
          shard.port = m.port;
          resolve();
        } else if (shard.waiting.has(m.id)) {
          const w = shard.waiting.get(m.id);
          shard.waiting.delete(m.id);
          w.resolve(m);
        }
      });
      child.on('exit', (code, signal) => {
        shard.exited = code === null ? signal : `code ${code}`;
        const err = new Error(`shard ${index} exited (${shard.exited})`);
        reject(err);
        for (const w of shard.waiting.values()) w.reject(err);
        shard.waiting.clear();
      });
    });
    listening.catch(() => {});
    return within(listening, 15000, `shard ${index} start`);
  }

  /** One peer process: `conns` idle connections from `source` to `shard`. Resolves at its 'ready'. */
  function startPeer(shard, conns, source, handshakes) {
    const args = [
      '--mode=idle',
      `--port=${shard.port}`,
      `--conns=${conns}`,
      `--bind=${source}`,
      `--handshakes=${handshakes}`,
      '--max-time=600',
      '--close-time=120',
    ];
    const child = spawn(loadgen, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = { child, shard, conns, source, result: null, exited: null, stderr: '' };
    peers.push(peer);
    child.stdin.on('error', () => {}); // it may be gone already when we say close
    child.stderr.on('data', (d) => (peer.stderr = (peer.stderr + d).slice(-2000)));
    let buf = '';
    peer.done = new Promise((resolve) => {
      // 'close', not 'exit': its last lines (the result) may still be in the pipe at 'exit'.
      child.on('close', (code, signal) => {
        peer.exited = code === null ? signal : code;
        resolve();
      });
    });
    peer.ready = new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = JSON.parse(line);
          if (m.event === 'ready') resolve(m);
          else if (m.mode !== undefined) peer.result = m;
        }
      });
      peer.done.then(() =>
        reject(new Error(`peer → shard ${shard.index} (${source}) exited before holding its ${conns} connections (${peer.exited}): ${JSON.stringify(peer.result)} ${peer.stderr}`)),
      );
    });
    peer.ready.catch(() => {});
    return peer.ready;
  }

  /** A fresh client: connects to `shard`, gets `text` echoed, closes. */
  async function echo(shard, text) {
    const ws = new WebSocket(`ws://127.0.0.1:${shard.port}/fresh`); // counted apart from the peers
    try {
      await within(once(ws, 'open'), 10000, `a fresh client's handshake with shard ${shard.index}`);
      ws.send(text);
      const [data, isBinary] = await within(once(ws, 'message'), 10000, `the echo from shard ${shard.index}`);
      assert.strictEqual(isBinary, false);
      assert.strictEqual(data.toString(), text);
      const closed = once(ws, 'close');
      ws.close(1000);
      const [code] = await within(closed, 10000, `the fresh client's close on shard ${shard.index}`);
      assert.strictEqual(code, 1000);
    } finally {
      ws.terminate();
    }
  }

  async function until(what, predicate, ms) {
    const deadline = Date.now() + ms;
    for (;;) {
      const last = await predicate();
      if (last === true) return;
      if (Date.now() > deadline) throw new Error(`${what} (after ${ms} ms: ${JSON.stringify(last)})`);
      await sleep(200);
    }
  }

  before(async function () {
    layout = plan();
    loadgen = loadgenBuilt();
    const nPeers = layout.shards.reduce((n, s) => n + s.peers.length, 0);
    console.log(
      `      open-files limit ${layout.fdLimit}: ${layout.shards.length} server process(es) of ≤ ${layout.perProcess} connections ` +
        `(${layout.shards.map((s) => s.conns).join(', ')}), ${nPeers} load generator process(es) of ≤ ${layout.perPeer} ` +
        `(sources ${source(0)}–${source(nPeers - 1)}), ${NATIVE ? 'native' : 'stream'} transport, hold ${HOLD_MS / 1000} s`,
    );
    await Promise.all(layout.shards.map((s, i) => startShard(i, s.conns)));
    // A first connection and echo on each (the code paths warmed), then the baseline.
    await Promise.all(shards.map((s) => echo(s, `warm-up ${s.index}`)));
    await until('the warm-up clients are gone', async () => (await all('stats')).every((st) => st.clients === 0) || 'not yet', 10000);
    const mem = await all('mem');
    const stats = await all('stats');
    shards.forEach((s, i) => (s.base = { mem: mem[i], stats: stats[i] }));
  });

  after(async () => {
    for (const p of peers) if (p.exited === null) p.child.kill('SIGKILL');
    await Promise.all(peers.map((p) => within(p.done, 10000, 'a peer to exit').catch(() => {})));
    await Promise.all(
      shards.map(async (s) => {
        if (s.exited !== null) return;
        const gone = once(s.child, 'exit');
        s.child.send({ cmd: 'exit' });
        const t = setTimeout(() => s.child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }),
    );
  });

  let tOpen = 0;

  it(
    `${TOTAL.toLocaleString('en-US')} peers open: every handshake completes and the servers count every connection`,
    step(async function () {
      const t0 = Date.now();
      const starts = [];
      for (const [i, s] of layout.shards.entries()) {
        const handshakes = Math.max(16, Math.floor(HANDSHAKES_PER_SHARD / s.peers.length));
        // A source address of its own for each peer process: connect() finds a free port fast while
        // its source has few connections, and slows to a crawl (a scan of the range per connect) when
        // 100,000 share one source.
        for (const conns of s.peers) starts.push(startPeer(shards[i], conns, source(starts.length), handshakes));
      }
      const ready = await Promise.all(starts);
      ready.forEach((r, i) => assert.strictEqual(r.open, peers[i].conns, `peer ${i} opened all its connections`));
      await until(
        'the servers count every connection',
        async () => {
          const st = await all('stats');
          return st.every((x, i) => x.peers === shards[i].conns) || st.map((x) => x.peers);
        },
        30000,
      );
      tOpen = (Date.now() - t0) / 1000;
      const st = await all('stats');
      st.forEach((x, i) => {
        const s = shards[i];
        assert.strictEqual(x.clients, s.conns, `shard ${i}: clients`);
        assert.strictEqual(x.peers, s.conns, `shard ${i}: the peers' connections`);
        assert.strictEqual(x.open, s.conns, `shard ${i}: all OPEN`);
        assert.strictEqual(x.connections - s.base.stats.connections, s.conns, `shard ${i}: connection events`);
        assert.strictEqual(x.native, NATIVE ? s.conns : 0, `shard ${i}: connections on the ${NATIVE ? 'native' : 'stream'} transport`);
        assert.strictEqual(x.closes, s.base.stats.closes, `shard ${i}: nothing closed`);
        assert.strictEqual(x.errors, 0, `shard ${i}: ${x.firstError}`);
      });
      const total = st.reduce((n, x) => n + x.clients, 0);
      assert.strictEqual(total, TOTAL);
      console.log(`      ${total} connections open in ${tOpen.toFixed(1)} s (${Math.round(TOTAL / tOpen)} handshakes/s)`);
    }),
  );

  it(
    'memory per idle connection (server RSS and heap growth after GC ÷ connections): printed, with a leak bound',
    step(async function () {
      const mem = await all('mem', 120000);
      let rss = 0;
      let heap = 0;
      mem.forEach((m, i) => {
        assert.strictEqual(m.clients, shards[i].conns);
        rss += m.rss - shards[i].base.mem.rss;
        heap += m.heapUsed - shards[i].base.mem.heapUsed;
      });
      const perShard = mem.map((m, i) => kib((m.rss - shards[i].base.mem.rss) / shards[i].conns)).join(', ');
      console.log(
        `      memory per idle connection (${NATIVE ? 'native' : 'stream'} transport): RSS ${kib(rss / TOTAL)}, heap ${kib(heap / TOTAL)} ` +
          `(RSS per shard: ${perShard}; server RSS in all ${(mem.reduce((n, m) => n + m.rss, 0) / 2 ** 20).toFixed(0)} MiB)`,
      );
      assert.ok(rss / TOTAL < MAX_BYTES_PER_CONN, `RSS per connection ${kib(rss / TOTAL)}`);
      assert.ok(heap / TOTAL < MAX_BYTES_PER_CONN, `heap per connection ${kib(heap / TOTAL)}`);
    }),
  );

  it(
    `all of them stay OPEN for ${HOLD_MS / 1000} s: nothing dropped, no error; meanwhile a fresh client gets an echo from every shard and every event loop answers`,
    step(async function () {
      await all('stats'); // the event-loop delay measured from here (not the GCs of the memory reading)
      const t0 = Date.now();
      let echoed = false;
      let maxPing = 0;
      let maxLoop = 0;
      let ticks = 0;
      while (Date.now() - t0 < HOLD_MS) {
        await sleep(1000);
        ticks++;
        // Every shard's event loop: an IPC round trip, timed.
        await Promise.all(
          shards.map(async (s) => {
            const t = process.hrtime.bigint();
            await request(s, 'ping', 10000);
            maxPing = Math.max(maxPing, Number(process.hrtime.bigint() - t) / 1e6);
          }),
        );
        if (!echoed && Date.now() - t0 >= HOLD_MS / 2) {
          await Promise.all(shards.map((s) => echo(s, `echo from shard ${s.index} with ${s.conns} idle connections`)));
          echoed = true;
        }
        const st = await all('stats');
        st.forEach((x, i) => {
          const s = shards[i];
          maxLoop = Math.max(maxLoop, x.loop.max);
          assert.strictEqual(x.peers, s.conns, `shard ${i}: the peers' connections held`);
          assert.strictEqual(x.open, s.conns, `shard ${i}: all OPEN`);
          assert.strictEqual(x.errors, 0, `shard ${i}: ${x.firstError}`);
          assert.strictEqual(x.closes, s.base.stats.closes, `shard ${i}: no peer closed`);
          assert.strictEqual(x.connections - s.base.stats.connections, s.conns, `shard ${i}: no other peer came`);
        });
        for (const p of peers) assert.strictEqual(p.exited, null, `a peer exited during the hold: ${JSON.stringify(p.result)}`);
      }
      assert.ok(echoed);
      await until('the fresh clients are gone', async () => (await all('stats')).every((x, i) => x.clients === shards[i].conns) || 'not yet', 10000);
      const st = await all('stats');
      st.forEach((x, i) => {
        const s = shards[i];
        assert.strictEqual(x.open, s.conns);
        assert.strictEqual(x.closes, s.base.stats.closes, `shard ${i}: no peer closed`);
        assert.deepStrictEqual(x.fresh, { connections: 2, closes: 2, closeCodes: { 1000: 2 } }, `shard ${i}: the fresh clients (warm-up and hold)`);
      });
      console.log(`      held ${TOTAL} for ${((Date.now() - t0) / 1000).toFixed(1)} s (${ticks} checks); slowest IPC ping ${maxPing.toFixed(1)} ms, event-loop delay max ${maxLoop.toFixed(1)} ms`);
      assert.ok(maxPing < 5000, `a shard took ${maxPing.toFixed(0)} ms to answer a ping`);
    }),
  );

  it(
    'the peers close: every close handshake completes and the servers’ client sets empty',
    step(async function () {
      const t0 = Date.now();
      for (const p of peers) p.child.stdin.end('close\n');
      await within(Promise.all(peers.map((p) => p.done)), 180000, 'the peers to finish closing');
      for (const p of peers) {
        const r = p.result;
        assert.ok(r !== null, `peer → shard ${p.shard.index} printed no result (${p.exited}): ${p.stderr}`);
        assert.deepStrictEqual(
          { exit: p.exited, opened: r.opened, closed_clean: r.closed_clean, errors: r.errors, first_error: r.first_error },
          { exit: 0, opened: p.conns, closed_clean: p.conns, errors: 0, first_error: '' },
          `peer → shard ${p.shard.index} from ${p.source}`,
        );
      }
      await until('the servers’ client sets empty', async () => (await all('stats')).every((x) => x.clients === 0) || 'not yet', 60000);
      const st = await all('stats');
      st.forEach((x, i) => {
        const s = shards[i];
        assert.strictEqual(x.closes - s.base.stats.closes, s.conns, `shard ${i}: a close event for each`);
        assert.deepStrictEqual(x.closeCodes, { 1000: x.closes }, `shard ${i}: close codes`);
        assert.strictEqual(x.errors, 0, `shard ${i}: ${x.firstError}`);
      });
      console.log(`      all closed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }),
  );
});
