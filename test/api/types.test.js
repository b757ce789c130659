'use strict';
// The TypeScript declarations as users consume them: test/types/run.js compiles the files under
// test/types in temporary consumer projects (strict tsc, four module modes, the browser condition),
// with TypeScript 5 and, when installed, the native TypeScript 7 compiler (tsgo); the compat/ files
// also against ws + @types/ws. One test per compiler and project.
const assert = require('assert');
const { run, hasTsgo, MODES } = require('../types/run');

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
