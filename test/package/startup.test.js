'use strict';
// What loading weft costs a process that uses only the ws face: Node's http2 module and its web streams
// are loaded when first needed (an HTTP/2 session, a WebSocketStream), not by `require('weft')` or
// `import 'weft'` (they were a third and a sixth of weft's load time). Each case runs in a fresh process,
// since Node keeps every built-in it has loaded.
const assert = require('assert');
const path = require('path');
const { pathToFileURL } = require('url');
const { spawn, spawnSync } = require('child_process');
const http2 = require('http2');
const { once } = require('events');
const weft = require('../..');

const root = path.join(__dirname, '..', '..');
const LAZY = ['http2', 'internal/http2/core', 'internal/webstreams/readablestream', 'internal/webstreams/writablestream'];

/** The built-in modules a fresh `node` process has loaded once the async `body` has run (CommonJS or ESM). */
function builtinsAfter(body, type = 'commonjs') {
  const code = `(async () => {\n${body}\n})().then(() => process.stdout.write(JSON.stringify(process.moduleLoadList)), (e) => { console.error(e); process.exit(3); });`;
  const args = type === 'module' ? ['--input-type=module', '-e', code] : ['-e', code];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20000 });
  assert.strictEqual(r.status, 0, r.stderr);
  const names = JSON.parse(r.stdout).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  return new Set(names);
}

function assertNotLoaded(loaded) {
  assert.ok(loaded.has('net') && loaded.has('http'), 'the list holds the built-ins weft does load');
  for (const m of LAZY) assert.ok(!loaded.has(m), `${m} was loaded`);
}

describe('startup: what loading weft loads', function () {
  this.timeout(30000);

  it("require('weft') loads neither http2 nor web streams", () => {
    assertNotLoaded(builtinsAfter(`require(${JSON.stringify(root)});`));
  });

  it('the ESM entry loads neither', () => {
    assertNotLoaded(builtinsAfter(`await import(${JSON.stringify(pathToFileURL(path.join(root, 'wrapper.mjs')).href)});`, 'module'));
  });

  it('a server and a client exchanging a message over HTTP/1.1 load neither', () => {
    const loaded = builtinsAfter(`
      const { WebSocket, WebSocketServer } = require(${JSON.stringify(root)});
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => wss.on('listening', resolve));
      wss.on('connection', (s) => s.send('hi'));
      const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port);
      const got = await new Promise((resolve) => ws.on('message', (m) => resolve(String(m))));
      if (got !== 'hi') throw new Error('got ' + got);
      ws.close();
      await new Promise((resolve) => wss.close(resolve));`);
    assertNotLoaded(loaded);
  });

  it('a WebSocketStream loads web streams when it opens, and works', () => {
    const loaded = builtinsAfter(`
      const { WebSocketServer, WebSocketStream } = require(${JSON.stringify(root)});
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => wss.on('listening', resolve));
      wss.on('connection', (s) => s.on('message', (m) => s.send(m, { binary: false })));
      const stream = new WebSocketStream('ws://127.0.0.1:' + wss.address().port);
      const { readable, writable } = await stream.opened;
      const writer = writable.getWriter();
      await writer.write('ping');
      const { value } = await readable.getReader().read();
      if (value !== 'ping') throw new Error('got ' + value);
      stream.close();
      await new Promise((resolve) => wss.close(resolve));`);
    assert.ok(loaded.has('internal/webstreams/readablestream'));
    assert.ok(!loaded.has('http2'));
  });

  it('an HTTP/2 client loads http2 when it connects, and its WebSocket works over h2', async () => {
    // The server runs here (this process has http2 loaded); the client in a fresh process, spawned
    // asynchronously so that this one can answer it.
    const server = http2.createServer();
    const wss = new weft.WebSocketServer({ server });
    const versions = [];
    wss.on('connection', (s, req) => {
      versions.push(req.httpVersion);
      s.on('message', (m) => s.send(`echo ${m}`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const code = `
      const { WebSocket } = require(${JSON.stringify(root)});
      const before = process.moduleLoadList.includes('NativeModule http2');
      const ws = new WebSocket('ws://127.0.0.1:${server.address().port}/', { http2: true });
      ws.on('open', () => ws.send('hi'));
      ws.on('message', (m) => {
        const after = process.moduleLoadList.includes('NativeModule http2');
        process.stdout.write(JSON.stringify({ before, after, got: String(m) }));
        ws.close();
      });
      ws.on('error', (e) => { console.error(e); process.exit(3); });`;
    const child = spawn(process.execPath, ['-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const [status] = await once(child, 'close'); // (after its output is read to the end)
    await new Promise((resolve) => wss.close(resolve));
    server.close();
    assert.strictEqual(status, 0, err);
    assert.deepStrictEqual(JSON.parse(out), { before: false, after: true, got: 'echo hi' });
    assert.deepStrictEqual(versions, ['2.0'], 'the WebSocket rode an HTTP/2 stream');
  });
});
