'use strict';
// In a browser, weft is the platform's own WebSocket.
module.exports = typeof WebSocket === 'function' ? WebSocket : function () {
  throw new Error('weft: this platform has no WebSocket implementation');
};
