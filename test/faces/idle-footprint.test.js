'use strict';
// What an idle server connection holds (bench/idle.js measures it): the limits every connection of a
// server shares are one object, the state few connections need is not made until it is needed, and
// the WebSocket's listener table is the compact kind — which must still look up like Node's own
// `{ __proto__: null }` (nothing inherited, whatever the event's name).
const assert = require('assert');
const weft = require('../..');

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new weft.WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('idle connection footprint', () => {
  let wss;
  const clients = [];
  afterEach((done) => {
    for (const c of clients.splice(0)) c.terminate();
    if (wss) wss.close(() => done());
    else done();
    wss = null;
  });

  async function serverSockets(n, options = {}) {
    wss = new weft.WebSocketServer({ port: 0, ...options });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${wss.address().port}`;
    const accepted = [];
    wss.on('connection', (ws) => accepted.push(ws));
    for (let i = 0; i < n; i++) clients.push(await open(url));
    while (accepted.length < n) await new Promise((r) => setImmediate(r));
    return accepted;
  }

  it("a server's connections share one limits object; none holds rare state while idle", async () => {
    const [a, b] = await serverSockets(2, { maxPayload: 4096 });
    const pa = a._driver.conn.parser;
    const pb = b._driver.conn.parser;
    assert.strictEqual(pa.limits, pb.limits);
    assert.ok(Object.isFrozen(pa.limits));
    assert.strictEqual(pa.maxPayload, 4096);
    assert.strictEqual(pa.rare, null);
    assert.strictEqual(a._driver.conn.writer.backlog, null);
    assert.strictEqual(a._rare, null);
    assert.strictEqual(a._exts, null);
    // The on-demand members read as before.
    assert.strictEqual(a.extensions, '');
    assert.strictEqual(a._url, undefined);
    assert.strictEqual(a._req, null);
    assert.strictEqual(a._protocolVersion, 13);
    assert.strictEqual(a._autoPong, true);
    assert.strictEqual(a._bufferedAmount, 0);
    assert.deepStrictEqual(a._extensions, {});
    assert.strictEqual(a._rare, null);
  });

  it('different limits are not shared', async () => {
    const [a] = await serverSockets(1, { maxPayload: 1000 });
    const limits = a._driver.conn.parser.limits;
    for (const c of clients.splice(0)) c.terminate();
    await new Promise((r) => wss.close(r));
    const [b] = await serverSockets(1, { maxPayload: 2000 });
    assert.notStrictEqual(b._driver.conn.parser.limits, limits);
    assert.strictEqual(b._driver.conn.parser.maxPayload, 2000);
    assert.strictEqual(limits.maxPayload, 1000);
  });

  it('the listener table inherits nothing, as Node\'s own', async () => {
    const [ws] = await serverSockets(1);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      assert.strictEqual(ws.listenerCount(name), 0, name);
      assert.strictEqual(ws.emit(name), false, name);
      let heard = 0;
      const listener = () => heard++;
      ws.on(name, listener);
      assert.strictEqual(ws.emit(name), true, name);
      assert.strictEqual(heard, 1, name);
      ws.removeListener(name, listener);
      assert.strictEqual(ws.listenerCount(name), 0, name);
    }
    assert.ok(!('constructor' in ws._events));
    assert.deepStrictEqual(ws.eventNames().filter((n) => n !== 'close'), []);
  });

  it('a client keeps its URL and request in the rare state', async () => {
    wss = new weft.WebSocketServer({ port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const url = `ws://127.0.0.1:${wss.address().port}/`;
    const ws = new weft.WebSocket(url);
    clients.push(ws);
    assert.strictEqual(ws.url, url);
    assert.ok(ws._req !== null);
    await new Promise((r) => ws.once('open', r));
    assert.strictEqual(ws._req, null);
    assert.strictEqual(ws.url, url);
  });
});
