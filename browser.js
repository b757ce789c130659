'use strict';
// weft in a browser bundle (the package's "browser" condition): the platform's own WebSocket, which
// has the W3C API weft's Node class offers (onopen, onmessage, addEventListener, binaryType, send,
// close). The export is a subclass of it, so nothing is added to the global WebSocket; its instances
// are the platform's sockets. Server-side names exist (so shared code imports cleanly) and throw a
// clear error when used. browser.d.ts describes this.
const Native = typeof globalThis !== 'undefined' ? globalThis.WebSocket : undefined;

/** The error every server-only name throws. */
function unavailable(name) {
  return new Error(
    `weft: ${name} is not available in the browser (it needs Node.js); in a browser bundle weft is the platform's WebSocket`,
  );
}

/** A function that throws `unavailable(name)` when called or constructed. */
function serverOnly(name) {
  const stub = {
    [name]: function () {
      throw unavailable(name);
    },
  }[name];
  return stub;
}

let WebSocket;
if (typeof Native === 'function') {
  WebSocket = class WebSocket extends Native {};
} else {
  WebSocket = function WebSocket() {
    throw new Error("weft: this platform has no WebSocket implementation (globalThis.WebSocket is missing)");
  };
  for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
    Object.defineProperty(WebSocket, name, { value, enumerable: true });
  }
}

const statics = { WebSocket };
for (const name of [
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
]) {
  statics[name] = serverOnly(name);
}
// WHATWG's WebSocketStream: the platform's where it has one (Chromium does), else a stub that says so.
for (const name of ['WebSocketStream', 'WebSocketError']) {
  const own = typeof globalThis !== 'undefined' ? globalThis[name] : undefined;
  statics[name] =
    typeof own === 'function'
      ? own
      : {
          [name]: function () {
            throw new Error(`weft: ${name} is not available: this browser has no ${name} of its own`);
          },
        }[name];
}
statics.extension = { parse: serverOnly('extension.parse'), format: serverOnly('extension.format') };
statics.subprotocol = { parse: serverOnly('subprotocol.parse') };
for (const [name, value] of Object.entries(statics)) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true, writable: true, configurable: true });
}
// Data-only statics: reading them is the use.
for (const name of ['SendStatus', 'native']) {
  Object.defineProperty(WebSocket, name, {
    enumerable: true,
    configurable: true,
    get() {
      throw unavailable(name);
    },
  });
}

module.exports = WebSocket;
