'use strict';
// In a browser (or any runtime bundled for one), weft is the platform's own WebSocket: the same
// W3C API weft's Node class offers (onopen, onmessage, addEventListener, binaryType, send, close).
const Native = typeof globalThis !== 'undefined' ? globalThis.WebSocket : undefined;

if (typeof Native !== 'function') {
  module.exports = function WebSocket() {
    throw new Error('weft: this platform has no WebSocket implementation');
  };
} else {
  module.exports = Native;
  module.exports.WebSocket = Native;
}
