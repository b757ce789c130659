'use strict';
// publish() under backpressure, with a deliberately slow reader (a raw TCP client that stops reading
// after the handshake) next to a fast one: the same per-socket rules as send(), reported per publish.

const assert = require('assert');
const { once } = require('events');
const { Resources, until } = require('./helpers');

const CHUNK = Buffer.alloc(64 * 1024, 7);

describe('pub/sub: backpressure', () => {
  const res = new Resources();
  afterEach(() => res.closeAll());

  async function setup(options) {
    const wss = await res.server(options);
    const slow = await res.raw(wss, { stall: true });
    const fast = await res.client(wss);
    slow.server.subscribe('t');
    fast.server.subscribe('t');
    return { wss, slow, fast };
  }

  /**
   * Publishes CHUNK `n` times, yielding every `every` publishes so the fast reader reads (what one tick
   * writes stays corked, and counts against the limit, until the tick ends); sums the results. With
   * `fast`, each yield lasts until that reader has taken what it was sent (bufferedAmount under 64 KiB):
   * on a loaded machine one turn of the loop is not always enough, and a reader that falls 512 KiB
   * behind is dropped like the slow one.
   */
  async function flood(wss, n, onEach, every = 8, fast = null) {
    const total = { sent: 0, backpressure: 0, dropped: 0 };
    for (let i = 0; i < n; i++) {
      const r = wss.publish('t', CHUNK);
      total.sent += r.sent;
      total.backpressure += r.backpressure;
      total.dropped += r.dropped;
      if (onEach) onEach(r, i);
      if (i % every === every - 1) {
        await new Promise((r) => setImmediate(r));
        if (fast !== null) await until(() => fast.server.bufferedAmount < CHUNK.length, () => `the fast reader holds ${fast.server.bufferedAmount} B`);
      }
    }
    return total;
  }

  it('maxBackpressure: past the limit the slow reader is dropped and reported; its memory stays bounded; the fast one gets everything', async () => {
    const limit = 512 * 1024;
    const { wss, slow, fast } = await setup({ maxBackpressure: limit });
    // Counted from the start: the kernel may take the whole backlog (and 'drain' fire) before the reader resumes.
    let drains = 0;
    slow.server.on('drain', () => drains++);
    let maxHeld = 0;
    const n = 400; // 25 MiB offered to the slow reader
    const total = await flood(
      wss,
      n,
      () => {
        maxHeld = Math.max(maxHeld, slow.server.bufferedAmount);
      },
      8,
      fast,
    );
    assert.ok(total.dropped > n / 2, JSON.stringify(total));
    assert.strictEqual(total.sent + total.backpressure + total.dropped, 2 * n);
    // Bounded: at most the limit plus the one frame that crossed it.
    assert.ok(maxHeld <= limit + CHUNK.length + 16, `held ${maxHeld}`);
    assert.ok(maxHeld > 0);
    assert.strictEqual(slow.server.readyState, 1, "policy 'drop' keeps the socket open");
    await until(() => fast.client.received.length === n, () => `the fast reader got ${fast.client.received.length} of ${n} (${JSON.stringify(total)})`);
    // The slow reader starts reading: 'drain' says it is under its limit again, and it gets messages again.
    slow.raw.socket.resume();
    await until(() => drains > 0 && slow.server.bufferedAmount === 0, () => `drains ${drains}, the slow reader's bufferedAmount ${slow.server.bufferedAmount}`);
    assert.deepStrictEqual(wss.publish('t', 'after drain'), { sent: 2, backpressure: 0, dropped: 0 });
  });

  it('maxBackpressure applies to the message that would cross it: a publish larger than the limit reaches no one', async () => {
    const limit = 512 * 1024;
    const wss = await res.server({ maxBackpressure: limit });
    const a = await res.client(wss);
    const b = await res.client(wss);
    a.server.subscribe('t');
    b.server.subscribe('t');
    // Both sockets hold nothing: before, any single message passed, however large.
    assert.deepStrictEqual(wss.publish('t', Buffer.alloc(4 * limit)), { sent: 0, backpressure: 0, dropped: 2 });
    assert.strictEqual(a.server.bufferedAmount, 0);
    assert.deepStrictEqual(wss.publish('t', 'small'), { sent: 2, backpressure: 0, dropped: 0 });
    await until(() => a.client.received.length === 1 && b.client.received.length === 1);
    assert.deepStrictEqual(a.client.received, [['small', false]]);
  });

  it("backpressurePolicy 'close': the slow reader is closed with 1008, the others go on", async () => {
    const { wss, slow, fast } = await setup({ maxBackpressure: 256 * 1024, backpressurePolicy: 'close' });
    let closedAt = -1;
    const n = 300;
    await flood(
      wss,
      n,
      (r, i) => {
        if (closedAt === -1 && r.dropped === 1) closedAt = i;
      },
      1,
    );
    assert.ok(closedAt >= 0, 'the limit was reached');
    assert.strictEqual(slow.server.readyState, 2, 'closing');
    // The reader reads again: behind what was queued before the limit comes the close frame, 1008.
    slow.raw.resume();
    await until(() => slow.raw.frames.some((f) => f.opcode === 8));
    const closeFrame = slow.raw.frames.find((f) => f.opcode === 8);
    assert.strictEqual(closeFrame.payload.readUInt16BE(0), 1008);
    assert.strictEqual(slow.raw.frames.indexOf(closeFrame), slow.raw.frames.length - 1, 'nothing after it');
    slow.raw.socket.destroy();
    await once(slow.server, 'close');
    assert.strictEqual(wss.subscriberCount('t'), 1, 'the closed reader left the topic');
    await until(() => fast.client.received.length === n, () => `the fast reader got ${fast.client.received.length} of ${n} (${JSON.stringify(total)})`);
    assert.deepStrictEqual(wss.publish('t', 'still here'), { sent: 1, backpressure: 0, dropped: 0 });
  });

  it('without maxBackpressure: ws behaviour, nothing dropped, backpressure reported honestly', async () => {
    const { wss, slow } = await setup({});
    const total = await flood(wss, 200);
    assert.strictEqual(total.dropped, 0);
    assert.ok(total.backpressure > 0, JSON.stringify(total));
    assert.ok(slow.server.bufferedAmount > 4 * 1024 * 1024, 'everything was queued');
  });

  it('each subscriber has its own limit (maxBackpressure read per socket)', async () => {
    const wss = await res.server({ maxBackpressure: 256 * 1024 });
    const slowA = await res.raw(wss, { stall: true });
    const slowB = await res.raw(wss, { stall: true });
    slowA.server.subscribe('t');
    slowB.server.subscribe('t');
    // Fill A alone until a chunk no longer fits under its limit.
    for (let i = 0; i < 200 && slowA.server.send(CHUNK) !== 2; i++);
    await new Promise((r) => setImmediate(r));
    const aBefore = slowA.server.bufferedAmount;
    assert.ok(aBefore + CHUNK.length > 256 * 1024, `A holds ${aBefore}`);
    const r = wss.publish('t', CHUNK);
    assert.strictEqual(r.dropped, 1, JSON.stringify(r));
    assert.strictEqual(r.sent + r.backpressure, 1);
    assert.strictEqual(slowA.server.bufferedAmount, aBefore, 'nothing more held for A');
  });
});
