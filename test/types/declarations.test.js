'use strict';
// The TypeScript declarations as users consume them: test/types/run.js compiles the files under
// test/types in temporary consumer projects (strict tsc, four module modes, the browser condition),
// with TypeScript 5 and, when installed, the native TypeScript 7 compiler (tsgo); the compat/ files
// also against ws + @types/ws. One test per compiler and project.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { run, hasTsgo, MODES } = require('./run');

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
  it('the entries re-export every name of the WebSocket namespace (lib/websocket.ts)', () => {
    const src = fs.readFileSync(path.join(root, 'lib', 'websocket.ts'), 'utf8');
    const ns = src.slice(src.indexOf('export declare namespace WebSocket {'));
    const types = [...ns.matchAll(/^ {2}(?:type|interface) (\w+)/gm)].map((m) => m[1]);
    const values = [...ns.matchAll(/^ {2}const (\w+)/gm)].map((m) => m[1]);
    assert.ok(types.length > 30 && values.length > 10);
    const cjs = fs.readFileSync(path.join(root, 'types', 'index.d.ts'), 'utf8');
    const esm = fs.readFileSync(path.join(root, 'wrapper.d.mts'), 'utf8');
    const wrapper = fs.readFileSync(path.join(root, 'wrapper.mjs'), 'utf8');
    // The server's two names are the class itself in both entries, not aliases of a type (so that
    // `declare module 'weft' { interface Server {...} }` merges into it, as with @types/ws); in ESM,
    // `Server` is a type only, as ws's ESM entry has no such value.
    const SERVER = {
      Server: [/^ {2}class Server</m, /^export type \{ WebSocketServer as Server \} from '\.\/dist\/lib\/server\.js';$/m],
      WebSocketServer: [/^ {2}const WebSocketServer: typeof Server;$/m, /^export \{ WebSocketServer \} from '\.\/dist\/lib\/server\.js';$/m],
    };
    for (const name of types) {
      if (SERVER[name]) {
        assert.ok(SERVER[name][0].test(cjs), `types/index.d.ts: ${name}`);
        assert.ok(SERVER[name][1].test(esm), `wrapper.d.mts: ${name}`);
        continue;
      }
      assert.ok(cjs.includes(`export import ${name} = WebSocketClass.${name};`), `types/index.d.ts: ${name}`);
      assert.ok(new RegExp(`export type ${name}\\b`).test(esm), `wrapper.d.mts: ${name}`);
    }
    // The ESM entry's values are exactly wrapper.mjs's.
    const exported = wrapper.slice(wrapper.indexOf('export const {'), wrapper.indexOf('} = WebSocket;'));
    for (const name of values) {
      const inWrapper = new RegExp(`\\b${name},`).test(exported);
      const declared = new RegExp(`export declare const ${name}:|^export \\{ ${name} \\} from`, 'm').test(esm);
      assert.strictEqual(declared, inWrapper, `wrapper.d.mts: const ${name}`);
    }
  });

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
