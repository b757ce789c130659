'use strict';
// The export shapes, CommonJS and ESM, as ws 8.23 has them.
const assert = require('assert');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..', '..');

describe('exports', () => {
  it('CommonJS: require("weft") is the WebSocket class with ws\'s statics', () => {
    const WebSocket = require(root);
    assert.strictEqual(typeof WebSocket, 'function');
    assert.strictEqual(WebSocket.WebSocket, WebSocket);
    assert.strictEqual(WebSocket.Server, WebSocket.WebSocketServer);
    for (const name of ['createWebSocketStream', 'Receiver', 'Sender', 'WebSocketServer', 'PerMessageDeflate']) {
      assert.strictEqual(typeof WebSocket[name], 'function', name);
    }
    assert.strictEqual(typeof WebSocket.extension.parse, 'function');
    assert.strictEqual(typeof WebSocket.extension.format, 'function');
    assert.strictEqual(typeof WebSocket.subprotocol.parse, 'function');
    assert.strictEqual(typeof WebSocket.Sender.frame, 'function');
    // Not exported, as in ws.
    for (const name of ['MessageEvent', 'CloseEvent', 'ErrorEvent', 'Event', 'EventTarget', 'GUID', 'Limiter']) {
      assert.strictEqual(WebSocket[name], undefined, name);
    }
  });

  it('CommonJS: ready-state constants are read-only and enumerable on the class and the prototype', () => {
    const WebSocket = require(root);
    const states = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
    for (const [name, value] of Object.entries(states)) {
      for (const target of [WebSocket, WebSocket.prototype]) {
        const d = Object.getOwnPropertyDescriptor(target, name);
        assert.strictEqual(d.value, value);
        assert.strictEqual(d.enumerable, true);
        assert.strictEqual(d.writable, false);
        assert.strictEqual(d.configurable, false);
      }
    }
  });

  it('package.json exports map: browser, import, require, each with the types of what it loads', () => {
    const pkg = require(path.join(root, 'package.json'));
    const dot = pkg.exports['.'];
    assert.deepStrictEqual(Object.keys(dot), ['browser', 'import', 'require']);
    assert.deepStrictEqual(dot.browser, { types: './browser.d.ts', default: './browser.js' });
    assert.deepStrictEqual(dot.import, { types: './wrapper.d.mts', default: './wrapper.mjs' });
    assert.deepStrictEqual(dot.require, { types: './types/index.d.ts', default: './dist/index.js' });
    assert.strictEqual(pkg.types, dot.require.types);
    assert.strictEqual(pkg.exports['./package.json'], './package.json');
    // node10 resolution reads no exports map: typesVersions gives weft/websocket-node its types.
    assert.deepStrictEqual(pkg.typesVersions['*']['websocket-node'], [pkg.exports['./websocket-node'].types.slice(2)]);
    const fs = require('fs');
    for (const file of [dot.browser.types, dot.import.types, dot.require.types, pkg.exports['./websocket-node'].types]) {
      assert.ok(fs.existsSync(path.join(root, file)), file);
      const glob = (f) => new RegExp(`^${f.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*/g, '[^/]*')}${f.endsWith('/') ? '' : '$'}`);
      const published = pkg.files.some((f) => glob(f).test(path.relative(root, path.join(root, file))));
      assert.ok(published, `${file} is in package.json "files"`);
    }
  });

  it('ESM: default and named exports (no Server, as ws)', () => {
    const script = `
      import WebSocket, * as ns from 'weft';
      import { WebSocket as W, WebSocketServer, createWebSocketStream, Receiver, Sender, extension, subprotocol } from 'weft';
      const names = Object.keys(ns).sort();
      console.log(JSON.stringify({
        names,
        same: W === WebSocket && WebSocketServer === WebSocket.WebSocketServer && Receiver === WebSocket.Receiver &&
          Sender === WebSocket.Sender && createWebSocketStream === WebSocket.createWebSocketStream &&
          extension === WebSocket.extension && subprotocol === WebSocket.subprotocol,
        open: WebSocket.OPEN,
      }));`;
    // Resolve 'weft' to this package through a self-reference (package "exports" + "name").
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.same, true);
    assert.strictEqual(out.open, 1);
    assert.ok(!out.names.includes('Server'));
    for (const n of ['WebSocket', 'WebSocketServer', 'createWebSocketStream', 'PerMessageDeflate', 'Receiver', 'Sender', 'extension', 'subprotocol', 'default']) {
      assert.ok(out.names.includes(n), n);
    }
  });
});

describe('exports: weft/websocket-node', () => {
  it('resolves by its subpath, CommonJS and ESM, with WebSocket-Node\'s names', () => {
    const mod = require('weft/websocket-node');
    for (const name of ['server', 'client', 'request', 'connection', 'w3cwebsocket', 'router']) {
      assert.strictEqual(typeof mod[name], 'function', name);
    }
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import { server, client, w3cwebsocket } from 'weft/websocket-node'; console.log([server, client, w3cwebsocket].every((f) => typeof f === 'function'))"], { cwd: root, encoding: 'utf8' });
    assert.strictEqual(r.stdout.trim(), 'true', r.stderr);
  });
});
