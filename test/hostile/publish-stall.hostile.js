'use strict';
// One large compressed publish must not freeze the server's event loop: 16 MiB published with
// compress: true to subscribers of seven window sizes (each size needs a deflate of its own). The server
// runs in a child process and reports its longest event-loop delay from the publish until every
// subscriber has the message; printed and bounded.

const assert = require('assert');
const crypto = require('crypto');
const path = require('path');
const { fork } = require('child_process');
const { once } = require('events');
const WsClient = require('ws');

function next(child) {
  return new Promise((resolve) => child.once('message', resolve));
}

describe('hostile: a 16 MiB compressed publish', function () {
  this.timeout(120000);

  it("stalls the server's event loop for well under 250 ms, and every subscriber gets the message", async () => {
    const child = fork(path.join(__dirname, 'support', 'publish-server.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { port } = await next(child);
    const clients = [];
    for (let bits = 9; bits <= 15; bits++) {
      const c = new WsClient(`ws://127.0.0.1:${port}`, {
        perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: bits },
        maxPayload: 64 * 1024 * 1024,
      });
      clients.push(c);
      await once(c, 'open');
    }
    await new Promise((r) => setTimeout(r, 100)); // the server has subscribed them all
    const received = Promise.all(clients.map((c) => once(c, 'message')));
    const published = next(child);
    child.send({ type: 'publish' });
    const { result, sha } = await published;
    const messages = await received;
    const reported = next(child);
    child.send({ type: 'report' });
    const { publishMs, maxDelayMs } = await reported;
    child.disconnect();
    for (const c of clients) c.terminate();

    assert.strictEqual(result.sent + result.backpressure, clients.length);
    for (const [data, isBinary] of messages) {
      assert.strictEqual(isBinary, false);
      assert.strictEqual(crypto.createHash('sha256').update(data).digest('hex'), sha);
    }
    console.log(`      16 MiB compressed publish, 7 window sizes: publish() ${publishMs.toFixed(1)} ms, server's longest event-loop delay ${maxDelayMs.toFixed(1)} ms`);
    assert.ok(maxDelayMs < 250, `the server's event loop stalled for ${maxDelayMs.toFixed(1)} ms`);
  });
});
