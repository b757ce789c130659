'use strict';
// browser.js, the entry bundlers pick under the "browser" condition, evaluated in a fresh vm context
// that has a stand-in for the platform WebSocket (a class with the W3C constants), as a bundle runs it.
// browser.d.ts is checked with tsc against a browser-style program.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..', '..');
const source = fs.readFileSync(path.join(root, 'browser.js'), 'utf8');

/** Runs browser.js in a new context; returns { exported, context }. */
function loadInBrowser({ withWebSocket = true } = {}) {
  const context = vm.createContext({});
  if (withWebSocket) {
    vm.runInContext(
      `globalThis.WebSocket = class WebSocket {
         constructor(url, protocols) { this.url = url; this.protocols = protocols; this.readyState = 0; }
         send(data) { this.sent = data; }
       };
       for (const [k, v] of [['CONNECTING', 0], ['OPEN', 1], ['CLOSING', 2], ['CLOSED', 3]]) {
         Object.defineProperty(WebSocket, k, { value: v, enumerable: true });
       }
       globalThis.ownNames = Object.getOwnPropertyNames(WebSocket).sort().join();`,
      context,
    );
  }
  const module = { exports: {} };
  vm.runInContext(`(function (module, exports) {${source}\n})`, context)(module, module.exports);
  return { exported: module.exports, context };
}

const serverOnly = [
  'WebSocketServer',
  'Server',
  'createWebSocketStream',
  'Receiver',
  'Sender',
  'PerMessageDeflate',
  'WebSocketPair',
  'PeerAdapter',
  'MemoryPubSub',
  'MemoryBus',
  'RedisPubSub',
];

describe('browser entry (browser.js)', () => {
  it("is the platform's WebSocket: constructs its sockets, shares its constants, is its own .WebSocket", () => {
    const { exported: W, context } = loadInBrowser();
    const ws = new W('wss://example.com/chat', ['chat']);
    assert.ok(ws instanceof context.WebSocket);
    assert.strictEqual(ws.url, 'wss://example.com/chat');
    assert.deepStrictEqual([...ws.protocols], ['chat']);
    ws.send('hi');
    assert.strictEqual(ws.sent, 'hi');
    assert.deepStrictEqual([W.CONNECTING, W.OPEN, W.CLOSING, W.CLOSED], [0, 1, 2, 3]);
    assert.strictEqual(W.WebSocket, W);
    assert.strictEqual(Object.getPrototypeOf(W), context.WebSocket);
  });

  it('adds nothing to the global WebSocket', () => {
    const { context } = loadInBrowser();
    assert.strictEqual(Object.getOwnPropertyNames(context.WebSocket).sort().join(), context.ownNames);
    assert.strictEqual(context.WebSocket.WebSocket, undefined);
    assert.strictEqual(context.WebSocket.WebSocketServer, undefined);
  });

  it('server-only names import cleanly and throw an error naming weft and the browser when used', () => {
    const { exported: W } = loadInBrowser();
    const message = (name) => new RegExp(`^weft: ${name.replace('.', '\\.')} is not available in the browser \\(it needs Node\\.js\\)`);
    for (const name of serverOnly) {
      assert.strictEqual(typeof W[name], 'function', name);
      assert.throws(() => new W[name]({ port: 8080 }), { message: message(name) });
      assert.throws(() => W[name](), { message: message(name) });
    }
    assert.throws(() => W.extension.parse('permessage-deflate'), { message: message('extension.parse') });
    assert.throws(() => W.subprotocol.parse('chat'), { message: message('subprotocol.parse') });
    assert.throws(() => W.SendStatus, { message: message('SendStatus') });
    assert.throws(() => W.native, { message: message('native') });
  });

  it('without a platform WebSocket: constructing throws a clear error', () => {
    const { exported: W } = loadInBrowser({ withWebSocket: false });
    assert.throws(() => new W('ws://localhost'), { message: /^weft: this platform has no WebSocket implementation/ });
    assert.strictEqual(W.OPEN, 1);
    assert.throws(() => new W.WebSocketServer(), { message: /^weft: WebSocketServer is not available in the browser/ });
  });

  it('browser.d.ts: a browser program type-checks, and server-only names do not (tsc --noEmit)', function () {
    this.timeout(120000);
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'test', 'types', 'browser', 'tsconfig.json')], {
      encoding: 'utf8',
    });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
  });
});
