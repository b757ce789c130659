'use strict';
// Chromium's own WebSocketStream as the peer of weft servers (`npm run test:browser`): echo of text and
// binary, close codes both ways, the `closed` values, an abnormal closure, and receive-side
// backpressure (a page that does not read stalls the weft server's writes). One server route echoes
// with plain message events, another through weft's WebSocketStream.from(ws).
const assert = require('assert');
const WebSocket = require('../..');
const { launchChromium, startWeft } = require('./harness');

/**
 * The page-side helper (serialised into the page): `window.S` opens Chromium WebSocketStreams by id
 * and reads, writes and closes them, describing what it sees in values that cross page.evaluate.
 */
function streamHelper() {
  const streams = new Map();
  const describe = (value) => {
    if (typeof value === 'string') return { kind: 'string', text: value };
    const name = Object.prototype.toString.call(value).slice(8, -1);
    const u8 = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { kind: name, length: u8.length, bytes: u8.length <= 64 ? Array.from(u8) : null, first: u8[0], last: u8[u8.length - 1] };
  };
  const settled = (promise) =>
    promise.then(
      (value) => ({ ok: true, value }),
      (err) => ({ ok: false, name: err && err.name, message: err && err.message, closeCode: err && err.closeCode, reason: err && err.reason }),
    );
  window.S = {
    supported: () => typeof WebSocketStream === 'function',
    async open(id, url, options) {
      const wss = new WebSocketStream(url, options);
      const entry = { wss, closed: settled(wss.closed) };
      streams.set(id, entry);
      const opened = await settled(wss.opened);
      if (!opened.ok) return opened;
      entry.reader = opened.value.readable.getReader();
      entry.writer = opened.value.writable.getWriter();
      return { ok: true, protocol: opened.value.protocol, extensions: opened.value.extensions };
    },
    async write(id, chunk) {
      const { writer } = streams.get(id);
      if (chunk.text !== undefined) return settled(writer.write(chunk.text));
      const bytes = new Uint8Array(chunk.bytes);
      return settled(writer.write(chunk.as === 'arraybuffer' ? bytes.buffer : bytes));
    },
    async read(id) {
      const r = await settled(streams.get(id).reader.read());
      if (!r.ok) return r;
      return r.value.done ? { ok: true, done: true } : { ok: true, done: false, ...describe(r.value.value) };
    },
    /** Reads `count` binary messages; returns the first byte of each. */
    async readMany(id, count) {
      const firsts = [];
      for (let i = 0; i < count; i++) {
        const { value, done } = await streams.get(id).reader.read();
        if (done) break;
        firsts.push(describe(value).first);
      }
      return firsts;
    },
    /** Starts `count` writes of `size` bytes (each filled with its index) without waiting for them. */
    writeMany(id, count, size, from = 0) {
      const entry = streams.get(id);
      if (from === 0) entry.resolved = 0;
      for (let i = from; i < from + count; i++) entry.writer.write(new Uint8Array(size).fill(i & 0xff)).then(() => entry.resolved++, () => {});
    },
    resolved(id) {
      return streams.get(id).resolved;
    },
    close(id, info) {
      try {
        streams.get(id).wss.close(info);
        return { ok: true };
      } catch (err) {
        return { ok: false, name: err.name };
      }
    },
    closed(id) {
      return streams.get(id).closed;
    },
    closeAll() {
      for (const { wss } of streams.values()) {
        try {
          wss.close();
        } catch {}
      }
      streams.clear();
    },
  };
}

/** The most 64 KiB messages a flood sends while waiting for the other side's buffers to fill (128 MiB). */
const MAX_FLOOD = 2048;

/**
 * Polls `count()` (writes completed so far) every 50 ms until it reaches `target` or has not moved for
 * 500 ms (a quiet period, not a check: a flood that stalled); resolves with its last value.
 */
async function settle(count, target) {
  let last = await count();
  let quiet = 0;
  while (last < target && quiet < 10) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await count();
    if (now === last) quiet++;
    else {
      quiet = 0;
      last = now;
    }
  }
  return last;
}

describe("weft ↔ Chromium's WebSocketStream", () => {
  let browser;
  let page;
  let weft;
  let nextId = 0;

  before(async () => {
    browser = await launchChromium();
    weft = await startWeft({ '/echo': {}, '/stream-echo': {}, '/plain': {} });
    // '/stream-echo': the weft side is a WebSocketStream over the accepted socket, piping back.
    weft.servers['/stream-echo'].on('connection', (ws) => {
      const stream = WebSocket.WebSocketStream.from(ws);
      stream.opened.then(({ readable, writable }) => readable.pipeTo(writable)).catch(() => {});
    });
    weft.servers['/echo'].on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    page = await browser.context.newPage();
    await page.goto(`${weft.origin}/`);
    await page.evaluate(`(${streamHelper.toString()})()`);
    assert.strictEqual(await page.evaluate(() => window.S.supported()), true, 'this Chromium has no WebSocketStream');
  });

  afterEach(async () => {
    if (page) await page.evaluate(() => window.S.closeAll());
    if (weft) weft.terminateAll();
  });

  after(async () => {
    if (page) await page.close();
    if (browser) await browser.close();
    if (weft) await weft.close();
  });

  const S = {
    open: (id, url, options) => page.evaluate(([i, u, o]) => window.S.open(i, u, o), [id, url, options]),
    write: (id, chunk) => page.evaluate(([i, c]) => window.S.write(i, c), [id, chunk]),
    read: (id) => page.evaluate((i) => window.S.read(i), id),
    readMany: (id, n) => page.evaluate(([i, c]) => window.S.readMany(i, c), [id, n]),
    writeMany: (id, n, size, from = 0) => page.evaluate(([i, c, z, f]) => window.S.writeMany(i, c, z, f), [id, n, size, from]),
    resolved: (id) => page.evaluate((i) => window.S.resolved(i), id),
    close: (id, info) => page.evaluate(([i, c]) => window.S.close(i, c), [id, info]),
    closed: (id) => page.evaluate((i) => window.S.closed(i), id),
  };

  async function connect(route) {
    const id = String(++nextId);
    const opened = await S.open(id, weft.url(route, id), {});
    assert.strictEqual(opened.ok, true, JSON.stringify(opened));
    const peer = await weft.accepted(id);
    return { id, peer, opened };
  }

  for (const route of ['/echo', '/stream-echo']) {
    it(`echo of text and binary through ${route}: strings and binary chunks come back`, async () => {
      const { id, opened } = await connect(route);
      assert.strictEqual(opened.protocol, '');
      assert.strictEqual((await S.write(id, { text: 'héllo 😀' })).ok, true);
      assert.deepStrictEqual(await S.read(id), { ok: true, done: false, kind: 'string', text: 'héllo 😀' });
      assert.strictEqual((await S.write(id, { bytes: [1, 2, 3], as: 'uint8array' })).ok, true);
      const bin = await S.read(id);
      // The explainer has binary chunks as Uint8Array (weft's WebSocketStream yields those); Chromium 156
      // still yields ArrayBuffer. Either way the message arrived as binary, with its bytes.
      assert.ok(['ArrayBuffer', 'Uint8Array'].includes(bin.kind), bin.kind);
      assert.deepStrictEqual(bin.bytes, [1, 2, 3]);
      assert.strictEqual((await S.write(id, { bytes: [9, 8], as: 'arraybuffer' })).ok, true);
      assert.deepStrictEqual((await S.read(id)).bytes, [9, 8]);
      assert.deepStrictEqual(await S.close(id, { closeCode: 1000, reason: 'done' }), { ok: true });
      assert.deepStrictEqual(await S.closed(id), { ok: true, value: { closeCode: 1000, reason: 'done' } });
    });
  }

  it('the weft side of /stream-echo sees the page\'s close code in its closed promise', async () => {
    const id = String(++nextId);
    const serverStream = new Promise((resolve) =>
      weft.servers['/plain'].once('connection', (ws) => resolve(WebSocket.WebSocketStream.from(ws))),
    );
    assert.strictEqual((await S.open(id, weft.url('/plain', id), {})).ok, true);
    const stream = await serverStream;
    const { writable } = await stream.opened;
    await writable.getWriter().write(new Uint8Array([4, 2]));
    assert.deepStrictEqual((await S.read(id)).bytes, [4, 2]);
    await S.close(id, { closeCode: 3210, reason: 'from the page' });
    assert.deepStrictEqual(await stream.closed, { closeCode: 3210, reason: 'from the page' });
    assert.deepStrictEqual(await S.closed(id), { ok: true, value: { closeCode: 3210, reason: 'from the page' } });
  });

  it('close codes from the page reach weft; close() without a code is 1005', async () => {
    const a = await connect('/plain');
    await S.close(a.id, { closeCode: 4321, reason: 'page bye' });
    let ev;
    do ev = await a.peer.next();
    while (ev.type !== 'close');
    assert.deepStrictEqual([ev.code, ev.reason], [4321, 'page bye']);
    assert.deepStrictEqual(await S.closed(a.id), { ok: true, value: { closeCode: 4321, reason: 'page bye' } });

    const b = await connect('/plain');
    await S.close(b.id);
    do ev = await b.peer.next();
    while (ev.type !== 'close');
    assert.strictEqual(ev.code, 1005);
    assert.deepStrictEqual(await S.closed(b.id), { ok: true, value: { closeCode: 1005, reason: '' } });
  });

  it('a weft close with a code ends the page\'s readable and resolves its closed', async () => {
    const { id, peer } = await connect('/plain');
    peer.ws.send('last words');
    peer.ws.close(4000, 'server done');
    assert.deepStrictEqual(await S.read(id), { ok: true, done: false, kind: 'string', text: 'last words' });
    assert.deepStrictEqual(await S.read(id), { ok: true, done: true });
    assert.deepStrictEqual(await S.closed(id), { ok: true, value: { closeCode: 4000, reason: 'server done' } });
  });

  it('a weft terminate() rejects the page\'s closed with a WebSocketError (1006)', async () => {
    const { id, peer } = await connect('/plain');
    peer.ws.terminate();
    const closed = await S.closed(id);
    assert.strictEqual(closed.ok, false);
    assert.strictEqual(closed.name, 'WebSocketError');
    assert.strictEqual(closed.closeCode, 1006);
  });

  it('receive backpressure: a page that does not read stalls weft\'s writes; reading gets them all in order', async () => {
    const CHUNK = 64 * 1024;
    const { id, peer } = await connect('/plain');
    // weft sends 16 at a time until its writes stop completing: how much the socket buffers between take
    // is the kernel's choice (loopback receive buffers autotune to tens of MiB), so a fixed count is no stall.
    let COUNT = 0;
    let written = 0;
    while (COUNT < MAX_FLOOD) {
      for (let i = COUNT; i < COUNT + 16; i++) peer.ws.send(Buffer.alloc(CHUNK, i & 0xff), () => written++);
      COUNT += 16;
      if ((await settle(() => written, COUNT)) < COUNT) break;
    }
    assert.ok(written < COUNT, `weft wrote ${written} of ${COUNT} to a page that reads nothing`);
    assert.ok(peer.ws.bufferedAmount > 0, 'weft holds the bytes the page did not take');
    const firsts = await S.readMany(id, COUNT);
    assert.deepStrictEqual(firsts, Array.from({ length: COUNT }, (_, i) => i & 0xff));
    assert.strictEqual(await settle(() => written, COUNT), COUNT);
    await S.close(id);
    assert.deepStrictEqual(await S.closed(id), { ok: true, value: { closeCode: 1005, reason: '' } });
  });

  it('weft WebSocketStream.from(ws) that does not read stalls the page\'s writes; reading gets them all in order', async () => {
    const CHUNK = 64 * 1024;
    const id = String(++nextId);
    const serverStream = new Promise((resolve) =>
      weft.servers['/plain'].once('connection', (ws) => resolve({ ws, stream: WebSocket.WebSocketStream.from(ws) })),
    );
    assert.strictEqual((await S.open(id, weft.url('/plain', id), {})).ok, true);
    const { ws, stream } = await serverStream;
    const { readable } = await stream.opened;
    // The page writes 16 at a time until its writes stop resolving: how much the socket buffers between
    // take is the kernel's choice (loopback buffers autotune to tens of MiB), so a fixed count is no stall.
    let COUNT = 0;
    let last = -1;
    while (COUNT < MAX_FLOOD) {
      await S.writeMany(id, 16, CHUNK, COUNT);
      COUNT += 16;
      last = await settle(() => S.resolved(id), COUNT);
      if (last < COUNT) break;
    }
    assert.ok(ws.isPaused, 'weft paused the socket');
    assert.ok(last < COUNT, `${last} of ${COUNT} page writes resolved while weft read nothing`);
    const reader = readable.getReader();
    for (let i = 0; i < COUNT; i++) {
      const { value } = await reader.read();
      assert.strictEqual(value.length, CHUNK);
      assert.strictEqual(value[0], i & 0xff, `message ${i} in order`);
    }
    stream.close({ closeCode: 1000 });
    assert.deepStrictEqual(await stream.closed, { closeCode: 1000, reason: '' });
    assert.strictEqual(await S.resolved(id), COUNT);
  });
});
