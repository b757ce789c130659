'use strict';
// The type test suite: compiles the files under test/types as a user's project does — `weft` resolved
// through node_modules (a symlink to this repository, so package.json's exports, types and
// typesVersions apply) — with strict tsc in four consumer modes (commonjs/node10, node16, nodenext
// ESM, bundler), plus the `browser` condition. negative/ files mark misuse with `// @ts-expect-error`:
// a misuse that compiles is an unused directive (TS2578) and fails the run. The compat/ files are
// also compiled against ws + @types/ws (import specifier 'weft' → 'ws'), so they measure
// compatibility, not weft's taste. `node test/types/run.js [tsc|tsgo]` runs it alone.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const repo = path.join(__dirname, '..', '..');
const dir = (...p) => path.join(__dirname, ...p);
const list = (sub) => fs.readdirSync(dir(sub)).filter((f) => /\.(ts|js)$/.test(f)).map((f) => path.join(sub, f));

const strict = { strict: true, noEmit: true, skipLibCheck: false, types: ['node'], lib: ['ES2022'], target: 'ES2022', moduleDetection: 'force' };
const MODES = {
  commonjs: { options: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }, esm: false },
  node16: { options: { module: 'node16', moduleResolution: 'node16' }, esm: false },
  nodenext: { options: { module: 'nodenext', moduleResolution: 'nodenext' }, esm: true },
  bundler: { options: { module: 'esnext', moduleResolution: 'bundler' }, esm: true },
};

/** The README's js/ts snippets, each wrapped in an async function with the names it uses but does not define. */
function readmeSnippets() {
  const text = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const prelude = {
    WebSocket: "const WebSocket = require('weft');",
    WebSocketServer: "const { WebSocketServer } = require('weft');",
    WebSocketStream: "const { WebSocketStream } = require('weft');",
    ws: "const ws = new (require('weft'))('ws://localhost:8080');",
    wss: "const wss = new (require('weft').WebSocketServer)({ port: 8080 });",
    wsServer: "const wsServer = new (require('weft').WebSocketServer)({ port: 8080 });",
    server: "const server = require('http').createServer();",
    httpServer: "const httpServer = require('http').createServer();",
    app: "/** @type {import('http').RequestListener} */ const app = () => {};",
    isAuthorized: "/** @param {import('http').IncomingMessage} req */ const isAuthorized = (req) => !!req.headers.authorization;",
    originIsAllowed: "/** @param {string | undefined} origin */ const originIsAllowed = (origin) => origin === 'https://example.com';",
    bigUpdate: "const bigUpdate = Buffer.alloc(1024);",
    resume: 'const resume = () => {};',
    pubsub: "const pubsub = new (require('weft').MemoryPubSub)();",
  };
  const out = [];
  const re = /^```(js|ts)\n([\s\S]*?)^```/gm;
  let m;
  while ((m = re.exec(text)) !== null) {
    const body = m[2];
    const line = text.slice(0, m.index).split('\n').length;
    const needs = Object.keys(prelude).filter((name) => {
      const used = new RegExp(`(^|[^.\\w'])${name}\\b`).test(body);
      const declared = new RegExp(`(const|let|var|function|class)\\s+(\\{[^}]*\\b${name}\\b[^}]*\\}|\\[[^\\]]*\\b${name}\\b[^\\]]*\\]|${name}\\b)`).test(body);
      return used && !declared;
    });
    // A TypeScript snippet is a whole module, compiled as written; a JavaScript one is a fragment.
    const code =
      m[1] === 'ts'
        ? `// README.md line ${line}\n${body}`
        : `// README.md line ${line}\n(async () => {\n${needs.map((n) => prelude[n]).join('\n')}\n${body}})();\n`;
    out.push({ name: `readme-${String(line).padStart(3, '0')}.${m[1]}`, code });
  }
  // Packages a README example uses that weft does not depend on (test/integrations/ runs them for
  // real): declared with the shape the example relies on, so that weft's side of it is still checked.
  out.push({
    name: 'readme-packages.d.ts',
    code: `declare module 'fastify' {
  interface App {
    server: import('http2').Http2SecureServer;
    get(path: string, handler: () => Promise<unknown>): void;
    listen(options: { port: number; host?: string }): Promise<string>;
  }
  function Fastify(options: { http2: true; https: import('http2').SecureServerOptions }): App;
  export = Fastify;
}
`,
  });
  return out;
}

function writeProject(root, name, options, files, { esm, ws = false, extra = [] } = {}) {
  const project = path.join(root, name);
  fs.mkdirSync(project, { recursive: true });
  if (esm) fs.writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }\n');
  const names = [];
  for (const rel of files) {
    let code = fs.readFileSync(dir(rel), 'utf8');
    if (ws) code = code.replace(/(from |declare module )'weft'/g, "$1'ws'");
    const base = rel.replace(/[\\/]/g, '-');
    fs.writeFileSync(path.join(project, base), code);
    names.push(base);
  }
  for (const { name: n, code } of extra) {
    fs.writeFileSync(path.join(project, n), code);
    names.push(n);
  }
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: names }, null, 2));
  return project;
}

function projects(root, compiler) {
  fs.mkdirSync(path.join(root, 'node_modules', '@types'), { recursive: true });
  const link = (target, at) => fs.symlinkSync(target, path.join(root, 'node_modules', at), 'junction');
  link(repo, 'weft');
  link(path.join(repo, 'node_modules', 'ws'), 'ws');
  link(path.join(repo, 'node_modules', '@types', 'node'), '@types/node');
  link(path.join(repo, 'node_modules', '@types', 'ws'), '@types/ws');

  const positive = [...list('compat'), ...list('weft')];
  const out = [];
  for (const [mode, { options, esm }] of Object.entries(MODES)) {
    const files = [...positive, 'negative/misuse.ts'];
    const extra = mode === 'commonjs' ? readmeSnippets() : [];
    const opts = { ...strict, ...options, ...(extra.length ? { allowJs: true, checkJs: true } : {}) };
    // TypeScript 7 has no node10 resolution: its commonjs mode resolves as bundlers do.
    if (compiler === 'tsgo' && opts.moduleResolution === 'node10') delete opts.moduleResolution;
    out.push({ name: `weft ${mode}`, dir: writeProject(root, `weft-${mode}`, opts, files, { esm, extra }) });
    // On its own: a positive file's `declare module 'weft' { interface Server {...} }` gives the ESM
    // entry's type-only `Server` a value meaning for the whole program (as it does with @types/ws).
    if (esm) out.push({ name: `weft ${mode} esm-only`, dir: writeProject(root, `weft-${mode}-esm-only`, opts, ['negative/esm-only.ts'], { esm }) });
  }
  for (const mode of ['commonjs', 'nodenext']) {
    const { options, esm } = MODES[mode];
    const opts = { ...strict, ...options };
    if (compiler === 'tsgo' && opts.moduleResolution === 'node10') delete opts.moduleResolution;
    out.push({ name: `ws+@types/ws ${mode}`, dir: writeProject(root, `ws-${mode}`, opts, list('compat'), { esm, ws: true }) });
  }
  const browser = { ...strict, module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['ES2022', 'DOM'], types: [] };
  out.push({ name: 'weft browser', dir: writeProject(root, 'browser', browser, list('browser'), { esm: true }) });
  return out;
}

function compile(compiler, project) {
  const bin =
    compiler === 'tsgo'
      ? path.join(path.dirname(require.resolve('@typescript/native-preview/package.json')), 'bin', 'tsgo')
      : require.resolve('typescript/bin/tsc');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, '-p', project.dir, '--pretty', 'false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ ...project, compiler, ok: code === 0, output: output.split(project.dir + path.sep).join('') }));
  });
}

/** Compiles every project with each compiler (two at a time); resolves with one result per run. */
async function run(compilers = ['tsc', 'tsgo']) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-types-'));
  try {
    const jobs = [];
    for (const compiler of compilers) for (const p of projects(path.join(root, compiler), compiler)) jobs.push([compiler, p]);
    const results = [];
    const worker = async () => {
      while (jobs.length > 0) {
        const [compiler, p] = jobs.shift();
        results.push(await compile(compiler, p));
      }
    };
    await Promise.all([worker(), worker()]);
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Whether the native TypeScript 7 compiler (tsgo) is installed. */
function hasTsgo() {
  try {
    require.resolve('@typescript/native-preview/package.json');
    return true;
  } catch {
    return false;
  }
}

module.exports = { run, hasTsgo, MODES };

if (require.main === module) {
  const compilers = process.argv.length > 2 ? process.argv.slice(2) : hasTsgo() ? ['tsc', 'tsgo'] : ['tsc'];
  const started = Date.now();
  run(compilers).then((results) => {
    let failed = 0;
    for (const r of results) {
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.compiler} ${r.name}`);
      if (!r.ok) {
        failed++;
        console.log(r.output.trim().replace(/^/gm, '    '));
      }
    }
    console.log(`${results.length - failed}/${results.length} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
}
