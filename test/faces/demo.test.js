'use strict';
// The `npm start` demo: the page is served, its chat protocol works with real clients, counters arrive
// through the stats topic, and a taken port ends in one line naming PORT.
const assert = require('assert');
const http = require('http');
const net = require('net');
const path = require('path');
const { once } = require('events');
const { spawnSync } = require('child_process');
const WebSocket = require('../..');
const { startDemo } = require('../../dist/demo/main');

/** The next JSON message on `ws` that satisfies `test`. */
function next(ws, test = () => true) {
  return new Promise((resolve) => {
    const onMessage = (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString());
      if (!test(msg)) return;
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
  });
}

describe('demo (npm start)', () => {
  let server;
  let url;
  before(async () => {
    server = await startDemo(0);
    url = `ws://127.0.0.1:${server.address().port}/chat`;
  });
  after((done) => {
    for (const ws of server.wss.clients) ws.terminate();
    server.closeAllConnections();
    server.close(() => done());
  });

  /** A connected client and its welcome. */
  async function join() {
    const ws = new WebSocket(url);
    const welcome = await next(ws, (m) => m.type === 'welcome');
    return { ws, welcome };
  }

  it('serves the chat page, which connects with ws: or wss: as the page itself was loaded', async () => {
    const res = await new Promise((resolve) => http.get(`http://127.0.0.1:${server.address().port}/`, resolve));
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.strictEqual(res.statusCode, 200);
    assert.ok(body.includes("`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/chat`"));
  });

  it('welcomes with an id and a name; chat goes to everyone with the sender\'s id and name; renames are announced', async () => {
    const a = await join();
    const b = await join();
    assert.strictEqual(a.welcome.text, 'welcome to weft');
    assert.notStrictEqual(a.welcome.id, b.welcome.id);
    assert.strictEqual(b.welcome.name, `guest-${b.welcome.id}`);

    const renamed = next(b.ws, (m) => m.type === 'system' && m.text.includes(' is now '));
    a.ws.send(JSON.stringify({ type: 'name', name: '  alice  ' }));
    assert.strictEqual((await renamed).text, `${a.welcome.name} is now alice`);

    const atA = next(a.ws, (m) => m.type === 'chat');
    const atB = next(b.ws, (m) => m.type === 'chat');
    a.ws.send(JSON.stringify({ type: 'chat', text: 'hello from a ✓' }));
    const expected = { type: 'chat', id: a.welcome.id, name: 'alice', text: 'hello from a ✓' };
    assert.deepStrictEqual(await atA, expected);
    assert.deepStrictEqual(await atB, expected);

    // Plain text counts as a chat message.
    const plain = next(a.ws, (m) => m.type === 'chat');
    b.ws.send('plain words');
    assert.deepStrictEqual(await plain, { type: 'chat', id: b.welcome.id, name: b.welcome.name, text: 'plain words' });

    const left = next(a.ws, (m) => m.type === 'system' && m.text.endsWith(' left'));
    b.ws.close();
    assert.strictEqual((await left).text, `${b.welcome.name} left`);
    a.ws.close();
  });

  it('publishes live counters on the stats topic: connections and messages per second', async () => {
    const a = await join();
    const b = await join();
    // One report first: it closes the window that may hold earlier tests' messages.
    await next(a.ws, (m) => m.type === 'stats');
    a.ws.send('one');
    a.ws.send('two');
    b.ws.send('three');
    // The first report that counts the three messages (a report may land between two of them).
    let seen = 0;
    let stats;
    while (seen < 3) {
      stats = await next(a.ws, (m) => m.type === 'stats');
      seen += stats.messagesPerSecond;
    }
    assert.strictEqual(seen, 3);
    assert.strictEqual(stats.connections, 2);
    b.ws.close();
    await once(b.ws, 'close');
    // The server drops b from its count once its socket closes: a later report says 1.
    const after = await next(a.ws, (m) => m.type === 'stats' && m.connections !== 2);
    assert.strictEqual(after.connections, 1);
    a.ws.close();
  });

  it('echoes binary to its sender only, and closes with 4000 on /close', async () => {
    const a = await join();
    const back = new Promise((resolve) => a.ws.on('message', (d, isBinary) => isBinary && resolve(d)));
    a.ws.send(Buffer.from([1, 2, 3]));
    assert.deepStrictEqual([...(await back)], [1, 2, 3]);
    const closed = once(a.ws, 'close');
    a.ws.send('/close');
    assert.deepStrictEqual((await closed).map(String), ['4000', 'closed on request']);
  });

  it('refuses upgrades on other paths', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/other`);
    const [err] = await once(ws, 'error');
    assert.ok(err);
  });

  it('a taken port: exits 1 with one line suggesting PORT=…', async () => {
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    const port = blocker.address().port;
    try {
      const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'demo', 'main.js')], {
        env: { ...process.env, PORT: String(port) },
        encoding: 'utf8',
        timeout: 20000,
      });
      assert.strictEqual(r.status, 1, r.stdout + r.stderr);
      assert.strictEqual(r.stdout, '');
      assert.strictEqual(r.stderr, `weft demo: port ${port} is in use; pick another with PORT=${port + 1} npm start\n`);
    } finally {
      blocker.close();
    }
  });
});
