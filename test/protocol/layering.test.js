'use strict';
// Imports point down only. The protocol core must stay pure: no sockets, timers, zlib,
// streams or EventEmitter, and nothing from the layers above it.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..', 'lib');
const FORBIDDEN_NODE = ['net', 'tls', 'http', 'https', 'zlib', 'stream', 'events', 'timers', 'dgram', 'child_process', 'fs'];

function importsOf(file) {
  const src = fs.readFileSync(file, 'utf8');
  const out = [];
  const re = /(?:import|export)[^'";]*?from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  let m;
  while ((m = re.exec(src)) !== null) out.push(m[1] || m[2] || m[3]);
  return out;
}

describe('layering', () => {
  const files = fs.readdirSync(path.join(root, 'protocol')).filter((f) => f.endsWith('.ts'));

  it('lib/protocol exists and has its files', () => {
    for (const f of ['parser.ts', 'writer.ts', 'connection.ts', 'frame.ts', 'handshake.ts']) assert.ok(files.includes(f), f);
  });

  for (const f of files) {
    it(`lib/protocol/${f} imports only the core, lib/util and pure Node modules`, () => {
      for (const spec of importsOf(path.join(root, 'protocol', f))) {
        const bare = spec.replace(/^node:/, '');
        assert.ok(!FORBIDDEN_NODE.includes(bare), `${f} imports ${spec}`);
        if (spec.startsWith('.')) {
          const target = path.resolve(root, 'protocol', spec);
          const rel = path.relative(root, target);
          assert.ok(rel.startsWith('protocol') || rel.startsWith('util'), `${f} imports ${spec} (above the core)`);
        }
      }
    });
  }

  it('lib/util imports nothing from lib/', () => {
    const dir = path.join(root, 'util');
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      for (const spec of importsOf(path.join(dir, f))) {
        if (spec.startsWith('.')) {
          const rel = path.relative(root, path.resolve(dir, spec));
          assert.ok(rel.startsWith('util'), `util/${f} imports ${spec}`);
        }
      }
    }
  });
});
