'use strict';
// Imports point down only (docs/ARCHITECTURE.md draws the layers). Every folder of lib/ has a rule for
// what it may import at run time; `import type` is erased by the compiler and may name any layer (a
// machinery module may describe the face that calls it). The protocol core also stays pure: no
// sockets, timers, zlib, streams or EventEmitter.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', 'lib');
const FORBIDDEN_IN_CORE = ['net', 'tls', 'http', 'https', 'http2', 'zlib', 'stream', 'events', 'timers', 'dgram', 'child_process', 'fs'];

/** What each folder may import at run time, besides itself and Node's modules. */
const RULES = {
  util: [],
  protocol: ['util'],
  transport: ['util'],
  deflate: ['protocol', 'util'],
  socket: ['protocol', 'deflate', 'transport', 'util'],
  compat: ['socket', 'protocol', 'deflate', 'transport', 'util'],
  pubsub: ['socket', 'protocol', 'util'],
  // Declarations only (the typed events of the faces): nothing at run time.
  types: [],
};

/** Runtime imports of a TypeScript file (type-only imports and re-exports are left out). */
function runtimeImports(file) {
  const src = fs.readFileSync(file, 'utf8');
  const out = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  let m;
  while ((m = re.exec(src)) !== null) {
    if (m[4] !== undefined) {
      if (m[2]) continue; // import type / export type
      // `import { type A, type B }` is type-only too.
      const names = m[3].replace(/^\{|\}$/g, '').split(',').map((x) => x.trim()).filter(Boolean);
      if (m[3].startsWith('{') && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
      out.push(m[4]);
    } else out.push(m[5] || m[6] || m[7]);
  }
  return out;
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []);
}

describe('layering: imports point down only', () => {
  it('every machinery folder has a rule (a new folder needs one here)', () => {
    const faces = new Set(['websocket-node', 'cli', 'http2']);
    for (const d of fs.readdirSync(root, { withFileTypes: true })) {
      if (d.isDirectory() && !faces.has(d.name)) assert.ok(d.name in RULES, `lib/${d.name}/ has no layering rule`);
    }
  });

  for (const [folder, allowed] of Object.entries(RULES)) {
    it(`lib/${folder}/ imports only ${allowed.length ? allowed.map((a) => `${a}/`).join(', ') : 'itself'} at run time`, () => {
      const dir = path.join(root, folder);
      for (const file of walk(dir)) {
        for (const spec of runtimeImports(file)) {
          const bare = spec.replace(/^node:/, '');
          if (folder === 'protocol') {
            assert.ok(!FORBIDDEN_IN_CORE.includes(bare), `${path.relative(root, file)} imports ${spec}`);
          }
          if (!spec.startsWith('.')) continue;
          const target = path.relative(root, path.resolve(path.dirname(file), spec));
          const top = target.split(path.sep)[0];
          assert.ok(top === folder || allowed.includes(top), `${path.relative(root, file)} imports ${spec} (lib/${target})`);
        }
      }
    });
  }

  it('the core has its files', () => {
    const files = fs.readdirSync(path.join(root, 'protocol'));
    for (const f of ['parser.ts', 'writer.ts', 'connection.ts', 'frame.ts', 'handshake.ts']) assert.ok(files.includes(f), f);
  });

  it('only the command line imports the package entry', () => {
    for (const file of walk(root)) {
      if (file.includes(`${path.sep}cli${path.sep}`)) continue;
      for (const spec of runtimeImports(file)) {
        const target = path.resolve(path.dirname(file), spec);
        assert.notStrictEqual(path.relative(path.join(root, '..'), target), 'index', `${path.relative(root, file)} imports the package entry`);
      }
    }
  });
});
