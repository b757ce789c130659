'use strict';
// Helpers shared by the interop suites. `weft` is this checkout (what every `ws` in this folder's
// node_modules resolves to as well).
const assert = require('assert');
const http = require('http');
const path = require('path');

const weft = require('../..');

/** Resolves with the arguments of the next `event` of an EventEmitter. */
function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

/** Resolves with the next `type` event of an EventTarget (a W3C WebSocket). */
function nextEvent(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

/** Listens on an ephemeral loopback port (or `port`), resolves with the port. */
function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Rejects after `ms` with `what` in the message, so a hang shows what was awaited. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `size` bytes that do not compress (a fixed xorshift sequence, so a failure is reproducible). */
function noise(size, seed = 0x9e3779b9) {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Asserts that `value` is the weft module's WebSocket (not ws's, not a W3C one). */
function assertWeftSocket(value, where) {
  assert.ok(value instanceof weft.WebSocket, `${where} is not a weft WebSocket: ${value && value.constructor && value.constructor.name}`);
}

const repoRoot = path.join(__dirname, '..', '..');

module.exports = { weft, http, once, nextEvent, listen, closeServer, within, noise, assertWeftSocket, repoRoot };
