'use strict';
// The scale-out seam without a service: the in-process MemoryPubSub joining two servers, and a recording
// adapter that shows when a hub calls subscribe/unsubscribe/publish and that local delivery comes first.

const assert = require('assert');
const { once } = require('events');
const path = require('path');
const { spawnSync } = require('child_process');
const { MemoryPubSub, MemoryBus, RedisPubSub } = require('../..');
const { Resources, until } = require('./helpers');

/** An adapter that records every call and lets the test deliver "remote" messages. */
class RecordingAdapter {
  constructor() {
    this.calls = [];
    this.receiver = null;
  }
  attach(receiver) {
    this.calls.push(['attach']);
    this.receiver = receiver;
  }
  subscribe(topic) {
    this.calls.push(['subscribe', topic]);
  }
  unsubscribe(topic) {
    this.calls.push(['unsubscribe', topic]);
  }
  publish(topic, payload, binary, compress) {
    this.calls.push(['publish', topic, payload.toString(), binary, compress]);
    if (this.onPublish) this.onPublish();
  }
  close() {
    return Promise.resolve();
  }
}

describe('pub/sub: adapters', () => {
  const res = new Resources();
  afterEach(() => res.closeAll());

  it('a hub subscribes a topic on its first local subscriber, unsubscribes on its last, forwards every publish', async () => {
    const adapter = new RecordingAdapter();
    const wss = await res.server({ pubsub: adapter });
    const a = await res.client(wss);
    const b = await res.client(wss);
    a.server.subscribe('t');
    b.server.subscribe('t');
    b.server.subscribe('u');
    a.server.publish('t', 'hi');
    wss.publish('u', Buffer.from('bin'), { compress: true });
    a.server.unsubscribe('t');
    b.client.close();
    await once(b.server, 'close');
    assert.deepStrictEqual(adapter.calls, [
      ['attach'],
      ['subscribe', 't'],
      ['subscribe', 'u'],
      ['publish', 't', 'hi', false, false],
      ['publish', 'u', 'bin', true, true],
      ['unsubscribe', 't'],
      ['unsubscribe', 'u'],
    ]);
  });

  it('local delivery happens before the adapter is called (it never waits for it); remote messages reach local subscribers only', async () => {
    const adapter = new RecordingAdapter();
    const wss = await res.server({ pubsub: adapter });
    const a = await res.client(wss);
    const b = await res.client(wss);
    a.server.subscribe('t');
    b.server.subscribe('t');
    let writtenBeforeAdapter = null;
    adapter.onPublish = () => {
      // The frame is already in b's socket (corked until this turn of the loop has run its I/O callbacks).
      writtenBeforeAdapter = b.server._socket.writableLength;
    };
    a.server.publish('t', 'local first');
    assert.ok(writtenBeforeAdapter > 0, `b held ${writtenBeforeAdapter} bytes when the adapter was called`);
    adapter.onPublish = null;
    const before = adapter.calls.length;
    adapter.receiver.deliver('t', Buffer.from('from elsewhere'), false, false);
    assert.strictEqual(adapter.calls.length, before, 'a remote message is not forwarded again');
    await until(() => a.client.received.length === 1 && b.client.received.length === 2);
    assert.deepStrictEqual(a.client.received, [['from elsewhere', false]]);
    assert.deepStrictEqual(b.client.received, [['local first', false], ['from elsewhere', false]]);
  });

  it('MemoryPubSub joins servers on a bus: every node delivers, in order, never back to the publisher', async () => {
    const bus = new MemoryBus();
    const n1 = new MemoryPubSub(bus);
    const n2 = new MemoryPubSub(bus);
    const n3 = new MemoryPubSub(bus);
    const s1 = await res.server({ pubsub: n1 });
    const s2 = await res.server({ pubsub: n2 });
    const s3 = await res.server({ pubsub: n3 });
    const a = await res.client(s1);
    const a2 = await res.client(s1);
    const b = await res.client(s2);
    const c = await res.client(s3);
    a.server.subscribe('room');
    a2.server.subscribe('room');
    b.server.subscribe('room');
    c.server.subscribe('other');
    for (let i = 0; i < 20; i++) a.server.publish('room', `m${i}`);
    s2.publish('room', 'from s2');
    const expectA = Array.from({ length: 20 }, (_, i) => [`m${i}`, false]);
    await until(() => a2.client.received.length === 21 && b.client.received.length === 21 && a.client.received.length === 1);
    assert.deepStrictEqual(a2.client.received, [...expectA, ['from s2', false]]);
    assert.deepStrictEqual(b.client.received, [...expectA, ['from s2', false]]);
    assert.deepStrictEqual(a.client.received, [['from s2', false]], 'the sender is excluded on its own node only');
    c.client.ping();
    await once(c.client, 'pong');
    assert.deepStrictEqual(c.client.received, []);
    assert.ok(n3.subscribed.has('other') && !n3.subscribed.has('room'));
    await n2.close();
    s1.publish('room', 'after n2 left');
    await until(() => a2.client.received.length === 22);
    b.client.ping();
    await once(b.client, 'pong');
    assert.strictEqual(b.client.received.length, 21);
    await n1.close();
    await n3.close();
    assert.strictEqual(bus.nodes.size, 0);
  });

  it('an adapter serves one hub: a second server with the same adapter is refused on first use', async () => {
    const node = new MemoryPubSub(new MemoryBus());
    const s1 = await res.server({ pubsub: node });
    const s2 = await res.server({ pubsub: node });
    s1.publish('t', 'x');
    assert.throws(() => s2.publish('t', 'x'), /already attached/);
    await node.close();
  });

  it('a topic with a lone surrogate is refused (WEFT_ERR_INVALID_TOPIC) by every topic method and adapter', async () => {
    // "user:\uD800" has no UTF-8 form: sent to Redis it became "user:\uFFFD", another topic elsewhere.
    const bus = new MemoryBus();
    const a = await res.server({ pubsub: new MemoryPubSub(bus) });
    const b = await res.server({ pubsub: new MemoryPubSub(bus) });
    const publisher = await res.client(a);
    const victim = await res.client(b);
    victim.server.subscribe('user:\uFFFD');
    const invalid = { name: 'TypeError', code: 'WEFT_ERR_INVALID_TOPIC' };
    for (const topic of ['user:\uD800', 'user:\uDC00x', '\uD83D']) {
      assert.throws(() => publisher.server.subscribe(topic), invalid);
      assert.throws(() => publisher.server.unsubscribe(topic), invalid);
      assert.throws(() => publisher.server.isSubscribed(topic), invalid);
      assert.throws(() => publisher.server.publish(topic, 'x'), invalid);
      assert.throws(() => a.publish(topic, 'x'), invalid);
      assert.throws(() => a.subscriberCount(topic), invalid);
      const adapter = new MemoryPubSub(new MemoryBus());
      assert.throws(() => adapter.subscribe(topic), invalid);
      assert.throws(() => adapter.publish(topic, Buffer.from('x'), false, false), invalid);
      await adapter.close();
    }
    assert.throws(() => publisher.server.subscribe(42), invalid);
    // Well-formed topics, surrogate pairs included, work as before.
    assert.strictEqual(publisher.server.subscribe('emoji:\uD83D\uDE00'), true);
    assert.strictEqual(publisher.server.isSubscribed('emoji:\uD83D\uDE00'), true);
    // Nothing reached the subscriber of the U+FFFD topic; a real publish to it does.
    const got = once(victim.client, 'message');
    a.publish('user:\uFFFD', 'right topic');
    assert.strictEqual(String((await got)[0]), 'right topic');
  });

  it('RedisPubSub refuses the same topics before anything reaches Redis', async () => {
    const pubsub = new RedisPubSub({ redis: { lazyConnect: true } });
    pubsub.on('error', () => {});
    const invalid = { name: 'TypeError', code: 'WEFT_ERR_INVALID_TOPIC' };
    try {
      assert.throws(() => pubsub.subscribe('user:\uD800'), invalid);
      assert.throws(() => pubsub.unsubscribe('user:\uD800'), invalid);
      assert.throws(() => pubsub.publish('user:\uD800', Buffer.from('x'), false, false), invalid);
    } finally {
      await pubsub.close();
    }
  });

  it('RedisPubSub loads ioredis only when made, and says what to install when it is missing', () => {
    assert.strictEqual(typeof RedisPubSub, 'function');
    const script = `
      const weft = require('.');
      const loaded = Object.keys(require.cache).some((p) => /[\\\\/]ioredis[\\\\/]/.test(p));
      // Now make ioredis missing, as for a user who never installed it.
      const Module = require('module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'ioredis') throw Object.assign(new Error('not here'), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      let code = null, message = '';
      try { new weft.RedisPubSub(); } catch (err) { code = err.code; message = err.message; }
      console.log(JSON.stringify({ loaded, code, message }));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.loaded, false, 'requiring weft does not load ioredis');
    assert.strictEqual(out.code, 'WEFT_ERR_IOREDIS_MISSING');
    assert.match(out.message, /npm install ioredis/);
  });
});
