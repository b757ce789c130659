'use strict';
// The premise of every suite here: the `ws` that socket.io, engine.io, engine.io-client and
// @fastify/websocket load is this checkout of weft, while the repository's own `ws` devDependency (the
// reference peer of the differential tests) stays the real ws.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { weft, repoRoot } = require('./support');

const dependents = ['engine.io', 'engine.io-client', 'socket.io-adapter', '@fastify/websocket'];

describe('which ws the packages under test load', function () {
  for (const name of dependents) {
    it(`${name}'s require('ws') is weft`, function () {
      const from = path.join(__dirname, 'node_modules', name);
      assert.ok(fs.existsSync(from), `${name} is installed`);
      const resolved = fs.realpathSync(require.resolve('ws', { paths: [from] }));
      assert.strictEqual(resolved, path.join(__dirname, 'ws-is-weft', 'index.js'));
      const loaded = require(resolved);
      assert.strictEqual(loaded, weft);
      // A weft-only export: real ws has no WebSocketPair.
      assert.strictEqual(typeof loaded.WebSocketPair, 'function');
    });
  }

  it("import('ws') from this project is weft's ESM entry, with the same classes", async function () {
    const esm = await import('ws');
    assert.strictEqual(esm.default, weft);
    assert.strictEqual(esm.WebSocket, weft.WebSocket);
    assert.strictEqual(esm.WebSocketServer, weft.WebSocketServer);
  });

  it("the repository's own ws devDependency is still the real ws", function () {
    const resolved = require.resolve('ws', { paths: [repoRoot] });
    assert.strictEqual(resolved, path.join(repoRoot, 'node_modules', 'ws', 'index.js'));
    const real = require(resolved);
    assert.notStrictEqual(real, weft);
    assert.strictEqual(real.WebSocketPair, undefined);
    assert.strictEqual(require(path.join(repoRoot, 'node_modules', 'ws', 'package.json')).name, 'ws');
  });
});
