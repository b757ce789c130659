'use strict';
// The CLI's argument parser (no process spawned).

const assert = require('assert');
const { parseArgs, UsageError } = require('../../dist/lib/cli/args');

describe('weft CLI arguments', function () {
  it('reads commands, long and short flags, --flag=value, grouped switches and repeated flags', function () {
    const a = parseArgs(['connect', 'wss://h/p', '-s', 'a', '--subprotocol=b', '-nP', '-w', '-1', '-H', 'X: 1', '--json']);
    assert.strictEqual(a.command, 'connect');
    assert.strictEqual(a.target, 'wss://h/p');
    assert.deepStrictEqual(a.values.subprotocol, ['a', 'b']);
    assert.deepStrictEqual(a.values.header, ['X: 1']);
    assert.strictEqual(a.values.noCheck, true);
    assert.strictEqual(a.values.showPingPong, true);
    assert.strictEqual(a.values.wait, '-1');
    assert.strictEqual(a.values.json, true);
  });

  it("takes wscat's -c URL and -l PORT forms", function () {
    assert.deepStrictEqual([parseArgs(['-c', 'ws://x']).command, parseArgs(['-c', 'ws://x']).target], ['connect', 'ws://x']);
    assert.deepStrictEqual([parseArgs(['-l', '8080']).command, parseArgs(['-l', '8080']).target], ['listen', '8080']);
    assert.strictEqual(parseArgs(['-schat', '-c', 'ws://x']).values.subprotocol[0], 'chat');
  });

  it('rejects what it cannot read with a UsageError', function () {
    const bad = [
      [],
      ['connect'],
      ['open', 'ws://x'],
      ['connect', 'ws://x', 'extra'],
      ['connect', 'ws://x', '--nope'],
      ['connect', 'ws://x', '-Z'],
      ['connect', 'ws://x', '--json=yes'],
      ['connect', 'ws://x', '--origin'],
      ['connect', 'ws://x', '-nx'],
      ['-c', 'ws://x', '-l', '80'],
    ];
    for (const argv of bad) assert.throws(() => parseArgs(argv), UsageError, argv.join(' '));
  });

  it('--help and --version need no command', function () {
    assert.strictEqual(parseArgs(['--help']).values.help, true);
    assert.strictEqual(parseArgs(['-V']).values.version, true);
  });
});
