'use strict';
// Helpers shared by the client test files.

// once(emitter, event): the next event's arguments; unlike events.once, an 'error' meanwhile does not
// reject (several tests wait for 'close' after an expected 'error').
const { once } = require('./server');

/**
 * Records a client's 'open', 'error' and 'close' in order, with the readyState seen at each; resolves
 * at 'close'. `withMessage: false` leaves the error message out of the trace.
 */
function outcome(ws, { withMessage = true } = {}) {
  return new Promise((resolve) => {
    const events = [];
    let error = null;
    ws.on('open', () => events.push('open'));
    ws.on('error', (err) => {
      error = err;
      events.push(withMessage ? `error(${ws.readyState}): ${err.message}` : `error(${ws.readyState})`);
    });
    ws.on('close', (code) => {
      events.push(`close(${ws.readyState}): ${code}`);
      resolve({ events, error, code });
    });
  });
}

module.exports = { once, outcome };
