'use strict';
// Code written against @types/ws must type-check against weft's own declarations (only the import changed).
const assert = require('assert');
const path = require('path');
const { spawnSync } = require('child_process');

describe('TypeScript declarations', function () {
  this.timeout(120000);
  it('compile a typical @types/ws program (tsc --noEmit)', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, '..', 'types', 'tsconfig.json')], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
  });
});
