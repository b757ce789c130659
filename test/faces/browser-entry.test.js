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

// What the Node entry exports, sorted by what the browser entry makes of each name: a name added to the
// Node entry fails the test below until browser.js has an answer for it.
const nodeEntry = require(root);
const platformNames = ['WebSocketStream', 'WebSocketError']; // the browser's own, where it has them
const constants = Object.keys(nodeEntry).filter((n) => typeof nodeEntry[n] === 'number');
const namespaces = Object.keys(nodeEntry).filter(
  (n) => typeof nodeEntry[n] === 'object' && Object.values(nodeEntry[n]).every((v) => typeof v === 'function'),
);
const dataOnly = Object.keys(nodeEntry).filter((n) => typeof nodeEntry[n] === 'object' && !namespaces.includes(n));
const serverOnly = Object.keys(nodeEntry).filter(
  (n) => typeof nodeEntry[n] === 'function' && n !== 'WebSocket' && !platformNames.includes(n),
);

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
    assert.ok(serverOnly.includes('WebSocketServer') && serverOnly.includes('RedisPubSub'), serverOnly.join());
    for (const name of serverOnly) {
      assert.strictEqual(typeof W[name], 'function', name);
      assert.throws(() => new W[name]({ port: 8080 }), { message: message(name) });
      assert.throws(() => W[name](), { message: message(name) });
    }
    assert.deepStrictEqual(namespaces.sort(), ['extension', 'subprotocol']);
    for (const ns of namespaces) {
      assert.deepStrictEqual(Object.keys(W[ns]).sort(), Object.keys(nodeEntry[ns]).sort(), ns);
      for (const fn of Object.keys(nodeEntry[ns])) {
        assert.throws(() => W[ns][fn]('permessage-deflate'), { message: message(`${ns}.${fn}`) });
      }
    }
    assert.deepStrictEqual(dataOnly.sort(), ['SendStatus', 'native']);
    for (const name of dataOnly) assert.throws(() => W[name], { message: message(name) });
    for (const name of constants) assert.strictEqual(W[name], nodeEntry[name], name);
  });

  it("WebSocketStream and WebSocketError: the browser's own where it has them, else a clear error", () => {
    const bare = loadInBrowser().exported;
    for (const name of platformNames) {
      assert.strictEqual(typeof bare[name], 'function', name);
      assert.throws(() => new bare[name]('wss://example.com/'), { message: new RegExp(`^weft: ${name} is not available: this browser has no ${name}`) });
    }
    const context = vm.createContext({});
    vm.runInContext(
      `globalThis.WebSocket = class WebSocket {};
       globalThis.WebSocketStream = class WebSocketStream { constructor(url) { this.url = url; } };
       globalThis.WebSocketError = class WebSocketError extends Error {};`,
      context,
    );
    const module = { exports: {} };
    vm.runInContext(`(function (module, exports) {${source}\n})`, context)(module, module.exports);
    assert.strictEqual(module.exports.WebSocketStream, context.WebSocketStream);
    assert.strictEqual(module.exports.WebSocketError, context.WebSocketError);
    assert.strictEqual(new module.exports.WebSocketStream('wss://example.com/').url, 'wss://example.com/');
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
