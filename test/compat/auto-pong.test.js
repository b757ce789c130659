'use strict';
// ws answers a ping by calling the socket's own `pong()`: code that replaces that method decides what
// is sent (graphql-ws's tests silence a client this way to check that a server drops it). Differential:
// the same script on a ws client and on a weft client, each against a ws server that pings them.
const assert = require('assert');
const { once } = require('events');
const ws = require('ws');
const weft = require('../..');

/** A `lib` client of a ws server; `prepare(client, log)` runs on open; the server pings `pings` times. */
async function pinged(lib, clientOptions, prepare, pings = 2) {
  const wss = new ws.WebSocketServer({ port: 0 });
  await once(wss, 'listening');
  const client = new lib.WebSocket(`ws://127.0.0.1:${wss.address().port}`, clientOptions);
  const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
  const log = [];
  prepare(client, log);
  client.on('ping', (data) => log.push(`client ping ${data}`));
  server.on('pong', (data) => log.push(`server pong ${data}`));
  const closed = once(client, 'close').then(([code]) => log.push(`client close ${code}`));
  for (let i = 1; i <= pings; i++) server.ping(String(i));
  // A round trip after the pings: a ping the client ignored has had its chance to be answered.
  const echoed = Promise.race([once(client, 'message'), closed]);
  await new Promise((resolve) => server.send('x', resolve));
  await echoed;
  // Then a message from the client: it is written after any pong the client sent, so once the server
  // has it, the server has seen those pongs (a fixed wait lost that race on a loaded machine).
  if (client.readyState === lib.WebSocket.OPEN) {
    const received = Promise.race([once(server, 'message'), closed]);
    client.send('y');
    await received;
  } else {
    await closed; // dropped: its close event is on the way
  }
  log.push(`readyState ${client.readyState}`);
  client.terminate();
  await closed;
  await new Promise((resolve) => wss.close(resolve));
  return log;
}

async function same(clientOptions, prepare, pings) {
  const theirs = await pinged(ws, clientOptions, prepare, pings);
  const mine = await pinged(weft, clientOptions, prepare, pings);
  assert.deepStrictEqual(mine, theirs);
  return mine;
}

describe('automatic pongs go through the socket\'s own pong(), as in ws', function () {
  this.timeout(10000);

  it('untouched: every ping is answered', async () => {
    const log = await same({}, () => {});
    assert.deepStrictEqual(log, ['client ping 1', 'client ping 2', 'server pong 1', 'server pong 2', 'readyState 1', 'client close 1006']);
  });

  it('pong() replaced by a no-op: no pong is sent', async () => {
    const log = await same({}, (client) => {
      client.pong = () => {};
    });
    assert.deepStrictEqual(log, ['client ping 1', 'client ping 2', 'readyState 1', 'client close 1006']);
  });

  it('pong() wrapped: the wrapper sees each automatic pong (payload, mask) and the pong goes out', async () => {
    const log = await same({}, (client, log) => {
      const pong = client.pong;
      client.pong = function (data, mask, cb) {
        log.push(`pong(${data}, ${mask}, ${typeof cb})`);
        return pong.call(this, data, mask, cb);
      };
    });
    assert.deepStrictEqual(log, [
      'pong(1, true, function)',
      'client ping 1',
      'pong(2, true, function)',
      'client ping 2',
      'server pong 1',
      'server pong 2',
      'readyState 1',
      'client close 1006',
    ]);
  });

  it('a silenced pong() never completes: past maxPendingAutoPongs the client drops the connection', async () => {
    const log = await same({ maxPendingAutoPongs: 2 }, (client) => {
      client.pong = () => {};
    }, 3);
    // (The third ping is still emitted: the drop comes first, then the event, as in ws.)
    assert.deepStrictEqual(log, ['client ping 1', 'client ping 2', 'client ping 3', 'client close 1006', 'readyState 3']);
  });
});
