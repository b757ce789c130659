'use strict';
// The opt-in heartbeat: deterministic sweeps driven by hand, plus one real-time check.
const assert = require('assert');
const { once } = require('events');
const { WebSocketPair } = require('../../dist/lib/pair');
const { HeartbeatWheel, wheelFor } = require('../../dist/lib/socket/heartbeat');

const tickAndFlush = async (wheel, n = 1) => {
  for (let i = 0; i < n; i++) {
    wheel.tick();
    // Let the frames cross the in-memory transport.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }
};

function pairWithWheel(clientOptions = {}) {
  const pair = new WebSocketPair();
  const [client, server] = Object.values(pair);
  const wheel = new HeartbeatWheel({ interval: 100, timeout: 100 }, false); // 25 ms per sweep, 4 sweeps each
  server._heartbeat = wheel;
  if (clientOptions.autoPong === false) client._autoPong = false;
  client.accept();
  server.accept();
  return { client, server, wheel };
}

describe('heartbeat', () => {
  it('pings after `interval` of silence and terminates (1006) when nothing answers within `timeout`', async () => {
    const { client, server, wheel } = pairWithWheel({ autoPong: false });
    let pings = 0;
    client.on('ping', () => pings++);
    await tickAndFlush(wheel, 3);
    assert.strictEqual(pings, 0, 'no ping before the interval');
    await tickAndFlush(wheel, 1);
    assert.strictEqual(pings, 1, 'one ping at the interval');
    const closed = once(server, 'close');
    await tickAndFlush(wheel, 4);
    const [code] = await closed;
    assert.strictEqual(code, 1006);
    assert.strictEqual(wheel.members.size, 0);
  });

  it('a pong keeps the connection alive', async () => {
    const { client, server, wheel } = pairWithWheel();
    let pings = 0;
    client.on('ping', () => pings++);
    await tickAndFlush(wheel, 20);
    assert.ok(pings >= 3, `pinged ${pings} times`);
    assert.strictEqual(server.readyState, 1);
    server.close();
    await once(server, 'close');
    assert.strictEqual(wheel.members.size, 0, 'a closed socket leaves the wheel');
  });

  it('any received data counts as life: no ping while messages flow', async () => {
    const { client, server, wheel } = pairWithWheel({ autoPong: false });
    let pings = 0;
    client.on('ping', () => pings++);
    for (let i = 0; i < 12; i++) {
      client.send('still here');
      await tickAndFlush(wheel, 1);
    }
    assert.strictEqual(pings, 0);
    assert.strictEqual(server.readyState, 1);
    server.terminate();
  });

  it('one shared wheel per setting; its timer stops when empty (nothing keeps the process alive)', () => {
    const a = wheelFor({ interval: 1000, timeout: 500 });
    const b = wheelFor({ interval: 1000, timeout: 500 });
    assert.strictEqual(a, b);
    assert.notStrictEqual(a, wheelFor({ interval: 2000, timeout: 500 }));
    assert.throws(() => wheelFor({ interval: 0, timeout: 1 }), RangeError);
    const member = { _driver: null, ping() {}, terminate() {} };
    a.add(member);
    assert.ok(a.timer !== null && a.timer.hasRef() === false, 'unref\'d timer');
    a.delete(member);
    assert.strictEqual(a.timer, null);
  });

  it('real time: a silent peer is dropped', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    server._heartbeat = wheelFor({ interval: 40, timeout: 40 }); // on one end only: the other stays silent
    client._autoPong = false;
    client.accept();
    server.accept();
    const [code] = await once(server, 'close');
    assert.strictEqual(code, 1006);
  });
});
