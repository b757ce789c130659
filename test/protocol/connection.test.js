'use strict';
// The connection state machine: auto-pong, the close handshake (RFC 6455 §7), failing the connection.
const assert = require('assert');
const { cframe, connect, hex } = require('./helpers');
const { ReadyState } = require('../../dist/lib/protocol/constants');

const TEXT = 1, CLOSE = 8, PING = 9;
const closeFrame = (code, reason = '') => {
  const p = Buffer.alloc(2 + Buffer.byteLength(reason));
  p.writeUInt16BE(code, 0);
  p.write(reason, 2);
  return p;
};

describe('Connection (RFC 6455 §5.5, §7)', () => {
  describe('§5.5.2 ping → automatic pong', () => {
    it('answers a ping with a pong carrying the same payload, then reports the ping', () => {
      const { sink, conn } = connect();
      conn.receiveData(cframe({ opcode: PING, payload: 'hey' }));
      assert.deepStrictEqual(sink.writtenHex(), ['8a03686579']);
      assert.deepStrictEqual(sink.trace, [['ping', '686579']]);
    });

    it('does not answer when autoPong is false', () => {
      const { sink, conn } = connect({ autoPong: false });
      conn.receiveData(cframe({ opcode: PING, payload: 'hey' }));
      assert.deepStrictEqual(sink.written, []);
      assert.deepStrictEqual(sink.trace, [['ping', '686579']]);
    });

    it('does not answer after our close frame went out (only while OPEN)', () => {
      const { sink, conn } = connect();
      conn.close(1000);
      conn.receiveData(cframe({ opcode: PING, payload: 'x' }));
      assert.deepStrictEqual(sink.writtenHex(), ['880203e8']);
    });

    it('terminates when more than maxPendingAutoPongs pongs await their flush', () => {
      const { sink, conn } = connect({ maxPendingAutoPongs: 2 });
      sink.write = (a, b, cb) => sink.written.push(a); // never flushes: the callbacks never run
      for (let i = 0; i < 3; i++) conn.receiveData(cframe({ opcode: PING }));
      assert.strictEqual(sink.written.length, 2);
      assert.strictEqual(sink.terminated, 1);
    });

    it('a client masks its automatic pong', () => {
      const { sink, conn } = connect({ isServer: false, generateMask: (k) => k.fill(0) });
      conn.receiveData(hex('890161'));
      assert.deepStrictEqual(sink.writtenHex(), ['8a810000000061']);
    });
  });

  describe('§7.1.2 / §7.1.3 the closing handshake', () => {
    it('we close first: close frame out, CLOSING, end() only after the peer answers', () => {
      const { sink, conn } = connect();
      conn.close(1000, 'bye');
      assert.strictEqual(conn.readyState, ReadyState.CLOSING);
      assert.deepStrictEqual(sink.writtenHex(), ['880503e8627965']);
      assert.strictEqual(sink.ended, 0);
      conn.receiveData(cframe({ opcode: CLOSE, payload: closeFrame(1000, 'ok') }));
      assert.deepStrictEqual(sink.trace, [['end'], ['close', 1000, '6f6b']]);
      assert.strictEqual(sink.written.length, 1, 'no second close frame');
    });

    it('the peer closes first: we echo its status and reason, then end()', () => {
      const { sink, conn } = connect();
      conn.receiveData(cframe({ opcode: CLOSE, payload: closeFrame(4001, 'x') }));
      assert.deepStrictEqual(sink.writtenHex(), ['88030fa178']);
      assert.deepStrictEqual(sink.trace, [['end'], ['close', 4001, '78']]);
      assert.strictEqual(conn.closeCode, 4001);
      assert.strictEqual(conn.closeReason.toString(), 'x');
    });

    it('a close frame without status reports 1005 and is answered with an empty close frame', () => {
      const { sink, conn } = connect();
      conn.receiveData(cframe({ opcode: CLOSE }));
      assert.deepStrictEqual(sink.writtenHex(), ['8800']);
      assert.deepStrictEqual(sink.trace, [['end'], ['close', 1005, '']]);
    });

    it('close() without a code sends an empty close frame', () => {
      const { sink, conn } = connect();
      conn.close();
      assert.deepStrictEqual(sink.writtenHex(), ['8800']);
    });

    it('only one close frame is ever sent', () => {
      const { sink, conn } = connect();
      conn.close(1000);
      conn.close(1001);
      conn.receiveData(cframe({ opcode: CLOSE, payload: closeFrame(1000) }));
      assert.strictEqual(sink.written.length, 1);
    });

    it('the close status defaults to 1006 when no close frame arrived', () => {
      const { conn } = connect();
      assert.strictEqual(conn.closeCode, 1006);
    });

    it('data after a close frame is ignored', () => {
      const { sink, conn } = connect();
      conn.receiveData(Buffer.concat([cframe({ opcode: CLOSE }), cframe({ opcode: TEXT, payload: 'late' })]));
      assert.deepStrictEqual(sink.trace, [['end'], ['close', 1005, '']]);
    });

    it('messages still arrive while CLOSING, before the peer close frame', () => {
      const { sink, conn } = connect();
      conn.close(1000);
      conn.receiveData(cframe({ opcode: TEXT, payload: 'a' }));
      assert.deepStrictEqual(sink.trace, [['message', 'text', '61']]);
    });

    it('end() waits for our close frame to be flushed', () => {
      const { sink, conn } = connect();
      let flush;
      sink.write = (a, b, cb) => { sink.written.push(a); flush = cb; };
      conn.close(1000);
      conn.receiveData(cframe({ opcode: CLOSE, payload: closeFrame(1000) }));
      assert.strictEqual(sink.ended, 0);
      flush();
      assert.strictEqual(sink.ended, 1);
    });
  });

  describe('§7.4 status codes', () => {
    it('accepts every code that may be sent and rejects every other', () => {
      const valid = (c) => (c >= 1000 && c <= 1014 && ![1004, 1005, 1006].includes(c)) || (c >= 3000 && c <= 4999);
      for (const code of [0, 999, 1000, 1001, 1003, 1004, 1005, 1006, 1007, 1011, 1012, 1014, 1015, 1016, 2000, 2999, 3000, 4999, 5000, 65535]) {
        const { sink, conn } = connect();
        conn.receiveData(cframe({ opcode: CLOSE, payload: closeFrame(code) }));
        const last = sink.trace[sink.trace.length - 1];
        if (valid(code)) assert.deepStrictEqual(last, ['close', code, ''], `code ${code}`);
        else assert.deepStrictEqual(last, ['error', 'WS_ERR_INVALID_CLOSE_CODE', 1002], `code ${code}`);
      }
    });

    it('rejects a close reason that is not UTF-8 with 1007', () => {
      const { sink, conn } = connect();
      conn.receiveData(cframe({ opcode: CLOSE, payload: Buffer.concat([closeFrame(1000), Buffer.from([0xff])]) }));
      assert.deepStrictEqual(sink.trace, [['end'], ['error', 'WS_ERR_INVALID_UTF8', 1007]]);
      assert.deepStrictEqual(sink.writtenHex(), ['880203ef']);
    });

    it('close() validates like ws: code, reason type, reason length', () => {
      const { conn } = connect();
      assert.throws(() => conn.close(1005), { name: 'TypeError', message: 'First argument must be a valid error code number' });
      assert.throws(() => conn.close(1000, { length: 1 }), { name: 'TypeError', message: 'Second argument must be a string or a Uint8Array' });
      assert.strictEqual(conn.closeSent, false, 'nothing is sent when the arguments are rejected');
      assert.throws(() => conn.close(1000, 'x'.repeat(124)), { name: 'RangeError', message: 'The message must not be greater than 123 bytes' });
      conn.close(1000, 'é'.repeat(61) + 'x'); // 123 bytes exactly
      assert.strictEqual(conn.closeSent, true);
    });
  });

  describe('§7.1.7 failing the connection', () => {
    it('sends exactly one close frame with the violation status, then reports the error, then end()s', () => {
      const { sink, conn } = connect();
      conn.receiveData(cframe({ opcode: 3 }));
      assert.deepStrictEqual(sink.writtenHex(), ['880203ea']);
      assert.deepStrictEqual(sink.trace, [['end'], ['error', 'WS_ERR_INVALID_OPCODE', 1002]]);
      assert.strictEqual(conn.failed, true);
    });

    it('after our own close, a violation sends no second close frame', () => {
      const { sink, conn } = connect();
      conn.close(1000);
      conn.receiveData(cframe({ opcode: 3 }));
      assert.strictEqual(sink.written.length, 1);
      assert.deepStrictEqual(sink.trace, [['end'], ['error', 'WS_ERR_INVALID_OPCODE', 1002]]);
    });
  });
});
