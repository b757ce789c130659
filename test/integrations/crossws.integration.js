'use strict';
// crossws's Node adapter (crossws/adapters/node) handed a weft WebSocketServer as its `wss` (it bundles
// its own copy of ws otherwise), created with the options the adapter gives its own, driven by weft clients.
const assert = require('assert');
const { weft, http, once, listen, closeServer, within } = require('./support');

describe("crossws's Node adapter on a weft WebSocketServer", function () {
  let nodeAdapter;
  let server;
  let wss;
  let port;
  let events;
  const clients = [];

  before(async function () {
    nodeAdapter = (await import('crossws/adapters/node')).default;
  });

  async function start(hooks = {}, adapterOptions = {}) {
    events = [];
    wss = new weft.WebSocketServer({ noServer: true, handleProtocols: () => false });
    const ws = nodeAdapter({
      wss,
      ...adapterOptions,
      hooks: {
        open(peer) {
          events.push(`open ${new URL(peer.request.url).pathname}`);
        },
        message(peer, message) {
          if (message.text() === 'binary please') peer.send(new Uint8Array([1, 2, 3, 0, 255]));
          else if (message.text().startsWith('join ')) {
            peer.subscribe(message.text().slice(5));
            peer.send('joined');
          } else if (message.text().startsWith('say ')) peer.publish('room', message.text().slice(4));
          else if (message.text() === 'close me') peer.close(4000, 'closed by crossws');
          else peer.send(message.uint8Array(), { compress: true });
        },
        close(peer, details) {
          events.push(`close ${details.code} ${details.reason}`);
        },
        error(peer, error) {
          events.push(`error ${error.message}`);
        },
        ...hooks,
      },
    });
    server = http.createServer((req, res) => res.end('not a websocket'));
    server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
    port = await listen(server);
    return ws;
  }

  function client(path = '/', protocols, options) {
    const ws = new weft.WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, options);
    clients.push(ws);
    return ws;
  }

  afterEach(async function () {
    for (const ws of clients.splice(0)) {
      ws.on('error', () => {}); // terminate() on a CONNECTING client emits one
      ws.terminate();
    }
    if (wss) wss.close();
    if (server) await closeServer(server);
    server = wss = null;
  });

  it('runs its hooks on weft sockets: open, text and binary both ways, close with code and reason', async function () {
    await start();
    const ws = client('/chat');
    await within(once(ws, 'open'), 5000, 'open');
    assert.strictEqual(wss.clients.size, 1);
    assert.ok([...wss.clients][0] instanceof weft.WebSocket, 'the adapter took the connection on weft');
    assert.deepStrictEqual(events, ['open /chat']);

    let got = once(ws, 'message');
    ws.send('héllo crossws');
    let [data, isBinary] = await within(got, 5000, 'the echo');
    // crossws sends back what message.uint8Array() gave: binary.
    assert.strictEqual(isBinary, true);
    assert.strictEqual(data.toString(), 'héllo crossws');

    got = once(ws, 'message');
    ws.send('binary please');
    [data, isBinary] = await within(got, 5000, 'the binary');
    assert.strictEqual(isBinary, true);
    assert.deepStrictEqual([...data], [1, 2, 3, 0, 255]);

    const closed = new Promise((resolve) => {
      const check = () => (events.length === 2 ? resolve() : setTimeout(check, 10));
      check();
    });
    ws.close(4001, 'client leaves');
    await within(closed, 5000, "the adapter's close hook");
    assert.deepStrictEqual(events, ['open /chat', 'close 4001 client leaves']);
  });

  it('peer.close(code, reason) reaches the client', async function () {
    await start();
    const ws = client();
    await within(once(ws, 'open'), 5000, 'open');
    const closed = once(ws, 'close');
    ws.send('close me');
    const [code, reason] = await within(closed, 5000, 'the close');
    assert.strictEqual(code, 4000);
    assert.strictEqual(reason.toString(), 'closed by crossws');
  });

  it('publishes to subscribed peers only, never back to the publisher', async function () {
    await start();
    const [a, b, c] = [client(), client(), client()];
    await Promise.all([a, b, c].map((ws) => within(once(ws, 'open'), 5000, 'open')));
    for (const ws of [a, b]) {
      const joined = once(ws, 'message');
      ws.send('join room');
      assert.strictEqual(String((await within(joined, 5000, 'joined'))[0]), 'joined');
    }
    const logs = [a, b, c].map((ws) => {
      const log = [];
      ws.on('message', (data) => log.push(String(data)));
      return log;
    });
    const heard = once(b, 'message');
    a.send('say hi room');
    await within(heard, 5000, 'the published message');
    // Each connection is ordered: a's echo of a later message proves nothing else was on its way to a.
    const echo = once(a, 'message');
    a.send('ping a');
    await within(echo, 5000, 'the echo');
    const echoC = once(c, 'message');
    c.send('ping c');
    await within(echoC, 5000, 'the echo');
    assert.deepStrictEqual(logs, [['ping a'], ['hi room'], ['ping c']]);
  });

  it('answers the upgrade with the Response an upgrade hook returns, as plain HTTP', async function () {
    let called = 0;
    await start({
      upgrade(request) {
        called++;
        if (request.headers.get('authorization') !== 'Bearer ok') {
          return new Response('who are you?', { status: 401, headers: { 'content-type': 'text/plain' } });
        }
      },
    });
    const ws = client('/private');
    const [, res] = await within(once(ws, 'unexpected-response'), 5000, 'unexpected-response');
    assert.strictEqual(res.statusCode, 401);
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.strictEqual(body, 'who are you?');
    assert.strictEqual(called, 1);
    assert.strictEqual(wss.clients.size, 0);

    const allowed = client('/private', undefined, { headers: { authorization: 'Bearer ok' } });
    await within(once(allowed, 'open'), 5000, 'open');
    assert.strictEqual(called, 2);
  });

  it('adds the headers and the subprotocol an upgrade hook returns to the 101 (through the server\'s "headers" event)', async function () {
    await start({
      upgrade() {
        return { headers: { 'x-crossws': 'on weft' }, protocol: 'chat.v2' };
      },
    });
    const ws = client('/', ['chat.v1', 'chat.v2']);
    const upgrade = once(ws, 'upgrade');
    await within(once(ws, 'open'), 5000, 'open');
    const [res] = await upgrade;
    assert.strictEqual(res.headers['x-crossws'], 'on weft');
    assert.strictEqual(res.headers['sec-websocket-protocol'], 'chat.v2');
    assert.strictEqual(ws.protocol, 'chat.v2');
  });

  it('turns permessage-deflate on for one upgrade when the hook asks (the server has it off)', async function () {
    await start({
      upgrade(request) {
        if (new URL(request.url).pathname === '/deflate') return { perMessageDeflate: true };
      },
    });
    const plain = client('/plain', undefined, { perMessageDeflate: true });
    await within(once(plain, 'open'), 5000, 'open');
    assert.strictEqual(plain.extensions, '');
    const deflated = client('/deflate', undefined, { perMessageDeflate: true });
    await within(once(deflated, 'open'), 5000, 'open');
    assert.strictEqual(deflated.extensions, 'permessage-deflate');
    const text = 'squeeze '.repeat(5000);
    const got = once(deflated, 'message');
    deflated.send(text);
    const [data] = await within(got, 5000, 'the echo');
    assert.strictEqual(data.toString(), text);
    // The server's own option is back as it was.
    assert.strictEqual(wss.options.perMessageDeflate, false);
  });

  it('closes cleanly while compressed messages are still arriving (the server closes a chatty client)', async function () {
    await start(
      {
        message(peer, message) {
          events.push(`message ${message.text().length}`);
          if (events.length === 2) peer.close(4000, 'enough');
        },
      },
      {},
    );
    wss.options.perMessageDeflate = { threshold: 0 };
    const ws = client('/', undefined, { perMessageDeflate: { threshold: 0 } });
    await within(once(ws, 'open'), 5000, 'open');
    assert.strictEqual(ws.extensions, 'permessage-deflate');
    const closed = once(ws, 'close');
    for (let i = 0; i < 20; i++) ws.send(`chatter ${i} `.repeat(200));
    const [code, reason] = await within(closed, 5000, "the client's close");
    assert.strictEqual(code, 4000);
    assert.strictEqual(reason.toString(), 'enough');
    await within(new Promise((resolve) => {
      const check = () => (events.some((e) => e.startsWith('close')) ? resolve() : setTimeout(check, 10));
      check();
    }), 5000, "the adapter's close hook");
    // Everything the client sent before it saw the close frame was read by the server, in order.
    const messages = events.filter((e) => e.startsWith('message'));
    assert.ok(messages.length >= 1 && messages.length <= 20);
    assert.deepStrictEqual(events.slice(0, 2), ['open /', messages[0]]);
    assert.strictEqual(events[events.length - 1], 'close 4000 enough', events.join(' | '));
  });

  it('peer.send() returns the bytes still buffered, messages being compressed included', async function () {
    const big = 'backpressure '.repeat(80000); // ~1 MiB, compressible
    let amounts;
    await start({
      message(peer) {
        amounts = [peer.send(big), peer.send(big)];
        peer.send('done');
      },
    });
    wss.options.perMessageDeflate = { threshold: 0 };
    const ws = client('/', undefined, { perMessageDeflate: true });
    await within(once(ws, 'open'), 5000, 'open');
    assert.strictEqual(ws.extensions, 'permessage-deflate');
    const got = [];
    const all = new Promise((resolve) => ws.on('message', (data) => {
      got.push(data.toString());
      if (got.length === 3) resolve();
    }));
    ws.send('go');
    await within(all, 10000, 'the three messages');
    assert.deepStrictEqual(got.map((m) => m.length), [big.length, big.length, 4]);
    // Compression runs off the calling turn: when send() returns, its message is still buffered (as
    // ws counts it), and the second send() counts both.
    assert.ok(amounts[0] >= big.length, `first send() returned ${amounts[0]}`);
    assert.ok(amounts[1] >= 2 * big.length, `second send() returned ${amounts[1]}`);
  });
});
