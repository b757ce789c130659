'use strict';
// The TypeScript declarations as users consume them: test/types/run.js compiles the files under
// test/types in temporary consumer projects (strict tsc, four module modes, the browser condition),
// with TypeScript 5 and, when installed, the native TypeScript 7 compiler (tsgo); the compat/ files
// also against ws + @types/ws. One test per compiler and project.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { run, hasTsgo, MODES } = require('../types/run');

const root = path.join(__dirname, '..', '..');
// The declarations of what the entries expose (the files a user's editor shows).
const PUBLIC = [
  'types/index.d.ts',
  'wrapper.d.mts',
  'browser.d.ts',
  ...['websocket', 'server', 'client', 'pair', 'peer', 'stream', 'websocket-stream'].map((f) => `dist/lib/${f}.d.ts`),
  ...['hub', 'memory', 'redis', 'topics'].map((f) => `dist/lib/pubsub/${f}.d.ts`),
  'dist/lib/compat/receiver.d.ts',
  'dist/lib/compat/sender.d.ts',
  'dist/lib/deflate/permessage-deflate.d.ts',
  ...['event-target', 'conveniences', 'connection-options', 'heartbeat', 'message-iterator'].map((f) => `dist/lib/socket/${f}.d.ts`),
  'dist/lib/types/events.d.ts',
  ...fs.readdirSync(path.join(root, 'lib', 'websocket-node')).map((f) => `dist/lib/websocket-node/${f.replace(/\.ts$/, '.d.ts')}`),
];

describe('published declarations', () => {
  it('name no private or underscore member (they are @internal, stripped)', () => {
    const found = [];
    for (const file of PUBLIC) {
      const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        // `#private;` is TypeScript's opaque marker for ES private fields: it names nothing.
        if (/^\s*(?:(?:readonly|static|get|set|protected|private)\s+)*(?:private\s|_\w+\s*[(:?<])/.test(line)) {
          found.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    assert.deepStrictEqual(found, []);
  });
});

const compilers = hasTsgo() ? ['tsc', 'tsgo'] : ['tsc'];
const projects = [
  ...Object.keys(MODES).map((m) => `weft ${m}`),
  'ws+@types/ws commonjs',
  'ws+@types/ws nodenext',
  'weft browser',
];

describe('TypeScript declarations (test/types)', function () {
  this.timeout(600000);
  let results;
  before(async () => {
    results = await run(compilers);
  });
  for (const compiler of compilers) {
    for (const name of projects) {
      it(`${compiler}: ${name}`, () => {
        const r = results.find((x) => x.compiler === compiler && x.name === name);
        assert.ok(r, 'project was compiled');
        assert.ok(r.ok, r.output);
      });
    }
  }
});
