'use strict';
// Scale-out on a real Redis (`npm run test:scale`, not part of `npm test`): a redis-server started here,
// three weft server processes with clients on each, cross-process delivery, ordering per publisher and
// topic, exactly one copy each (the publisher's echo is ignored), an outage (local delivery goes on and
// is reported; nothing published meanwhile arrives later) and the restart (subscriptions restored, those
// made during the outage included).

const assert = require('assert');
const net = require('net');
const path = require('path');
const { fork, spawn, spawnSync } = require('child_process');
const { once } = require('events');
const WsClient = require('ws');
const Redis = require('ioredis');

const WORKER = path.join(__dirname, 'worker.js');
const NAMES = ['A', 'B', 'C'];

/** Resolves when `predicate()` holds (the suite's timeout is the only limit). */
async function until(predicate) {
  while (!(await predicate())) await new Promise((r) => setTimeout(r, 10));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('scale-out on Redis (real redis-server, several weft processes)', function () {
  this.timeout(60000);

  let redisPort;
  let redis = null; // the redis-server child process
  let probe = null; // an ioredis client of this process, for PUBSUB NUMSUB
  const workers = {}; // name -> { child, port, events: [] }
  const clients = [];

  async function startRedis() {
    const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`redis-server exited (${code}): ${out}`);
    });
    await Promise.race([until(() => out.includes('Ready to accept connections')), exited]);
    exited.catch(() => {});
    return child;
  }

  async function stopRedis() {
    if (redis === null) return;
    const child = redis;
    redis = null;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    }
  }

  function startWorker(name) {
    // C runs on ioredis 5 (the oldest major the peer range allows), A and B on the current one.
    const env = { ...process.env, REDIS_PORT: String(redisPort), WORKER_NAME: name, IOREDIS_PACKAGE: name === 'C' ? 'ioredis5' : '' };
    const child = fork(WORKER, [], { env, stdio: 'inherit' });
    const w = { child, port: 0, events: [], closing: false };
    child.on('exit', (code, signal) => {
      if (!w.closing) throw new Error(`worker ${name} exited (${code === null ? signal : code})`);
    });
    child.on('message', (m) => {
      w.events.push(m);
      if (m.event === 'listening') w.port = m.port;
    });
    workers[name] = w;
    return w;
  }

  /** How many events of `kind` worker `name` has reported so far. */
  const count = (name, kind, code) => workers[name].events.filter((e) => e.event === kind && (code === undefined || e.code === code)).length;

  async function numsub(channel) {
    const [, n] = await probe.pubsub('NUMSUB', channel);
    return Number(n);
  }

  /** A ws client on worker `name` that collects the data messages it gets (acks resolve requests). */
  async function client(name) {
    const c = new WsClient(`ws://127.0.0.1:${workers[name].port}`);
    clients.push(c);
    c.received = [];
    c.pending = new Map();
    c.nextId = 0;
    c.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.ack !== undefined) {
        // Fire-and-forget requests carry id -1: nobody waits for their ack.
        const done = c.pending.get(m.ack);
        c.pending.delete(m.ack);
        if (done !== undefined) done();
      } else {
        c.received.push(m);
      }
    });
    c.request = (msg) =>
      new Promise((resolve) => {
        const id = c.nextId++;
        c.pending.set(id, resolve);
        c.send(JSON.stringify({ ...msg, id }));
      });
    await once(c, 'open');
    return c;
  }

  before(async function () {
    const check = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (check.error || check.status !== 0) {
      throw new Error(
        'redis-server is not installed, and test:scale needs a real one. Install it with `apt-get install -y redis-server` ' +
          '(or put redis-server on PATH), then run `npm run test:scale` again.',
      );
    }
    redisPort = await freePort();
    redis = await startRedis();
    probe = new Redis({ host: '127.0.0.1', port: redisPort, retryStrategy: () => 50, maxRetriesPerRequest: null });
    probe.on('error', () => {});
    for (const name of NAMES) startWorker(name);
    await until(() => NAMES.every((n) => workers[n].port !== 0 && count(n, 'ready') === 1));
  });

  after(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await Promise.all(
      Object.values(workers).map(async (w) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return;
        const gone = once(w.child, 'exit');
        w.closing = true;
        w.child.send({ cmd: 'close' });
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }),
    );
    if (probe !== null) probe.disconnect();
    await stopRedis();
  });

  let a1, a2, b1, c1;

  it('start-up is quiet on ioredis 5 and 6: no error on any process, though topics were subscribed before Redis was up', async () => {
    const versions = NAMES.map((n) => workers[n].events.find((e) => e.event === 'started').ioredis.split('.')[0]);
    assert.deepStrictEqual(versions, ['6', '6', '5']);
    for (const n of NAMES) assert.deepStrictEqual(workers[n].events.filter((e) => e.event === 'error'), [], `worker ${n}`);
    // And the early topics are subscribed in Redis on every process.
    assert.strictEqual(await numsub('scale:boot'), 3);
    assert.strictEqual(await numsub('scale:boot:connecting'), 3);
  });

  it('a publish on one process reaches the subscribers on every process, once each, in order', async () => {
    a1 = await client('A');
    a2 = await client('A');
    b1 = await client('B');
    c1 = await client('C');
    for (const c of [a1, a2, b1, c1]) await c.request({ op: 'sub', topic: 'room' });
    // Every process has subscribed the channel in Redis.
    await until(async () => (await numsub('scale:room')) === 3);

    for (let n = 0; n < 100; n++) a1.send(JSON.stringify({ op: 'pub', topic: 'room', data: JSON.stringify({ p: 'a1', n }), id: -1 }));
    workers.B.child.send({ cmd: 'publish', topic: 'room', data: JSON.stringify({ p: 'B', n: 0 }) });
    await until(() => [a2, b1, c1].every((c) => c.received.length === 101) && a1.received.length === 1);
    const fromA1 = Array.from({ length: 100 }, (_, n) => ({ p: 'a1', n }));
    for (const c of [a2, b1, c1]) {
      assert.deepStrictEqual(
        c.received.filter((m) => m.p === 'a1'),
        fromA1,
        'all of them, in order, no duplicate',
      );
      assert.deepStrictEqual(c.received.filter((m) => m.p === 'B'), [{ p: 'B', n: 0 }]);
    }
    assert.deepStrictEqual(a1.received, [{ p: 'B', n: 0 }], 'the sender is excluded');
  });

  it('concurrent publishers on different processes: each one’s messages stay in order everywhere', async () => {
    for (const c of [a1, a2, b1, c1]) c.received.length = 0;
    const N = 200;
    for (let n = 0; n < N; n++) {
      a1.send(JSON.stringify({ op: 'pub', topic: 'room', data: JSON.stringify({ p: 'a1', n }), id: -1 }));
      b1.send(JSON.stringify({ op: 'pub', topic: 'room', data: JSON.stringify({ p: 'b1', n }), id: -1 }));
      c1.send(JSON.stringify({ op: 'pub', topic: 'room', data: JSON.stringify({ p: 'c1', n }), id: -1 }));
    }
    const expected = (p) => Array.from({ length: N }, (_, n) => ({ p, n }));
    await until(() => a2.received.length === 3 * N && a1.received.length === 2 * N && b1.received.length === 2 * N && c1.received.length === 2 * N);
    for (const c of [a1, a2, b1, c1]) {
      for (const p of ['a1', 'b1', 'c1']) {
        if (c === { a1, b1, c1 }[p]) continue;
        assert.deepStrictEqual(c.received.filter((m) => m.p === p), expected(p));
      }
    }
    assert.strictEqual(a1.received.filter((m) => m.p === 'a1').length, 0);
  });

  it('Redis goes away: local delivery goes on and the outage is reported; after the restart subscriptions are restored', async () => {
    for (const c of [a1, a2, b1, c1]) c.received.length = 0;
    await stopRedis();
    await until(() => NAMES.every((n) => count(n, 'down') === 1));

    // A publish during the outage: delivered on its own process at once, reported, not forwarded.
    await a1.request({ op: 'pub', topic: 'room', data: JSON.stringify({ p: 'outage', n: 0 }) });
    await until(() => a2.received.length === 1);
    assert.deepStrictEqual(a2.received, [{ p: 'outage', n: 0 }]);
    await until(() => count('A', 'error', 'WEFT_ERR_PUBSUB_UNAVAILABLE') === 1);
    // A second publish in the same outage is not reported again (one report per outage).
    await a1.request({ op: 'pub', topic: 'room', data: JSON.stringify({ p: 'outage', n: 1 }) });
    await until(() => a2.received.length === 2);
    // A subscription made during the outage.
    const c2 = await client('C');
    await c2.request({ op: 'sub', topic: 'late' });

    redis = await startRedis();
    await until(() => NAMES.every((n) => count(n, 'ready') === 2));
    assert.strictEqual(count('A', 'error', 'WEFT_ERR_PUBSUB_UNAVAILABLE'), 1);
    assert.strictEqual(await numsub('scale:room'), 3);
    assert.strictEqual(await numsub('scale:late'), 1);

    // Delivery across processes again; the outage's messages never arrive elsewhere (at most once).
    workers.B.child.send({ cmd: 'publish', topic: 'room', data: JSON.stringify({ p: 'after', n: 0 }) });
    workers.A.child.send({ cmd: 'publish', topic: 'late', data: JSON.stringify({ p: 'late', n: 0 }) });
    await until(() => c1.received.length === 1 && a1.received.length === 1 && c2.received.length === 1);
    assert.deepStrictEqual(c1.received, [{ p: 'after', n: 0 }]);
    assert.deepStrictEqual(b1.received, [{ p: 'after', n: 0 }]);
    assert.deepStrictEqual(c2.received, [{ p: 'late', n: 0 }]);
  });

  it('150,000 topics survive a Redis restart: restored in batches, the process stays up', async function () {
    this.timeout(180000);
    const TOPICS = 150000;
    for (const c of clients) c.received.length = 0;
    const many = await client('C');
    await many.request({ op: 'subMany', prefix: 'many:', count: TOPICS });
    await until(async () => (await numsub(`scale:many:${TOPICS - 1}`)) === 1);
    const readyBefore = count('C', 'ready');
    const downBefore = count('C', 'down');

    await stopRedis();
    await until(() => count('C', 'down') === downBefore + 1);
    redis = await startRedis();
    // Restoring them all in one SUBSCRIBE threw past ~120k topics and killed the worker (the suite
    // fails on a worker's exit).
    await until(() => NAMES.every((n) => count(n, 'ready') === readyBefore + 1));
    const [, first, , middle, , last] = await probe.pubsub('NUMSUB', 'scale:many:0', `scale:many:${TOPICS >> 1}`, `scale:many:${TOPICS - 1}`);
    assert.deepStrictEqual([first, middle, last].map(Number), [1, 1, 1]);
    const channels = await probe.pubsub('CHANNELS', 'scale:many:*');
    assert.strictEqual(channels.length, TOPICS);

    workers.B.child.send({ cmd: 'publish', topic: `many:${TOPICS - 1}`, data: JSON.stringify({ p: 'many', n: 0 }) });
    await until(() => many.received.length === 1);
    assert.deepStrictEqual(many.received, [{ p: 'many', n: 0 }]);
  });

  it("the adapter stays the caller's: wss.close() leaves it up; after pubsub.close() the process ends by itself", async () => {
    const w = workers.C;
    w.closing = true;
    const exited = once(w.child, 'exit');
    w.child.send({ cmd: 'close' });
    const [code, signal] = await exited;
    assert.deepStrictEqual([code, signal], [0, null], 'exited on its own');
    const closed = w.events.find((e) => e.event === 'server closed');
    assert.strictEqual(closed.adapterReady, true, 'wss.close() left the adapter connected');
  });
});
