'use strict';
// The `npm start` demo: the page is served and its chat endpoint works with a real client.
const assert = require('assert');
const http = require('http');
const { once } = require('events');
const WebSocket = require('../..');
const { startDemo } = require('../../dist/demo/main');

describe('demo (npm start)', () => {
  let server;
  before(async () => { server = await startDemo(0); });
  after((done) => { server.closeAllConnections(); server.close(() => done()); });

  it('serves the chat page', async () => {
    const res = await new Promise((resolve) => http.get(`http://127.0.0.1:${server.address().port}/`, resolve));
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.strictEqual(res.statusCode, 200);
    assert.match(body, /new WebSocket\(`ws:\/\/\$\{location\.host\}\/chat`\)/);
  });

  it('broadcasts text to every client and echoes binary to its sender', async () => {
    const url = `ws://127.0.0.1:${server.address().port}/chat`;
    const a = new WebSocket(url);
    const b = new WebSocket(url);
    const [[welcomeA], [welcomeB]] = await Promise.all([once(a, 'message'), once(b, 'message')]);
    assert.strictEqual(welcomeA.toString(), 'welcome to weft');
    assert.strictEqual(welcomeB.toString(), 'welcome to weft');
    const atB = once(b, 'message');
    a.send('hello from a');
    assert.strictEqual((await atB)[0].toString(), 'hello from a');
    // a's own text broadcast may arrive before the binary echo: wait for the binary one.
    const back = new Promise((resolve) => a.on('message', (d, isBinary) => isBinary && resolve(d)));
    a.send(Buffer.from([1, 2, 3]));
    assert.deepStrictEqual([...(await back)], [1, 2, 3]);
    const closed = once(a, 'close');
    a.send('/close');
    assert.deepStrictEqual((await closed).map(String), ['4000', 'closed on request']);
    b.close();
  });

  it('refuses upgrades on other paths', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/other`);
    const [err] = await once(ws, 'error');
    assert.ok(err);
  });
});
