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

  it("an idle connection on the native transport: one flags word, no native-only driver state, no addresses read", async () => {
    const [a] = await serverSockets(1, { transport: 'native' });
    const t = a._driver.transport;
    assert.notStrictEqual(t, null, 'adopted');
    // The transport's own fields: its booleans, read mode, state and cork count are bits of `flags`
    // (named by accessors); a head, an idle timer, the final byte counts wait in `rare`, made when needed.
    assert.deepStrictEqual(Object.keys(t).sort(), ['flags', 'handle', 'owner', 'queue', 'queueCbs', 'queuedBytes', 'rare', 'server', 'shell', 'writingBytes']);
    assert.strictEqual(t.rare, null);
    assert.strictEqual(t.state, 0);
    assert.strictEqual(t.corked, 0);
    assert.strictEqual(t.head, null);
    assert.strictEqual(t.idleTimer, null);
    assert.strictEqual(t.readMode, 'copy');
    assert.strictEqual(t.allowHalfOpen, true, "an http.Server's socket");
    assert.strictEqual(t.ownerEnds, true);
    assert.strictEqual(t.readEnded, false);
    assert.strictEqual(t.ending, false);
    assert.strictEqual(t.highWaterMark, a._socket.writableHighWaterMark);
    // Paused input, a held FIN, a watched 'drain': made when first needed.
    assert.strictEqual(a._driver.native, null);
    // The addresses are read when asked, and kept where net.Socket keeps them.
    const shell = a._socket;
    assert.strictEqual(shell._peername, undefined);
    assert.strictEqual(shell.remoteAddress.replace('::ffff:', ''), '127.0.0.1');
    assert.strictEqual(shell._peername.address, shell.remoteAddress);
    assert.strictEqual(shell.remotePort, clients[0]._socket.localPort);
    assert.strictEqual(shell.localPort, wss.address().port);
    assert.strictEqual(shell._sockname.port, wss.address().port);
    a.pause();
    a.resume();
    assert.strictEqual(a._driver.native, null, 'a pause with nothing read meanwhile makes nothing');
    // The rare state, once made, reads the same; the byte counts outlive the handle.
    shell.setTimeout(60000);
    assert.notStrictEqual(t.idleTimer, null);
    shell.setTimeout(0);
    assert.strictEqual(t.idleTimer, null);
    const echoed = new Promise((r) => clients[0].once('message', r));
    a.send('x');
    await echoed;
    const closed = new Promise((r) => a.once('close', r));
    clients[0].close();
    await closed;
    assert.strictEqual(t.state, 2);
    assert.ok(shell.bytesWritten >= 3 && shell.bytesRead > 0);
    assert.strictEqual(shell.bytesRead, t.rare.finalBytesRead);
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
