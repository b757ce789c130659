'use strict';
/**
 * Child processes of the bench: Node servers driven over IPC, the C load generator driven by its
 * JSON lines, and /proc CPU readings for processes that cannot report their own.
 */
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const BENCH = path.join(__dirname, '..');
const BUILD = path.join(BENCH, '.build');
const LOADGEN = path.join(BUILD, 'loadgen');
const NOFILE = 65536;

/** Compiles the C load generator into bench/.build/ unless it is newer than its sources. */
function buildLoadgen(log = console.error) {
  const srcs = ['loadgen.c', 'loadgen/util.c', 'loadgen/client.c', 'loadgen/server.c', 'loadgen/paced.c'].map((f) => path.join(BENCH, f));
  const deps = srcs.concat(['loadgen/lg.h', 'loadgen/client.h'].map((f) => path.join(BENCH, f)));
  fs.mkdirSync(BUILD, { recursive: true });
  const newest = Math.max(...deps.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(LOADGEN) && fs.statSync(LOADGEN).mtimeMs > newest) return;
  const cc = process.env.CC || 'cc';
  try {
    execFileSync(cc, ['-O2', '-Wall', '-DHAVE_ZLIB', '-o', LOADGEN, ...srcs, '-lz', '-lpthread'], { stdio: 'inherit' });
  } catch {
    log('bench: building the load generator with zlib failed; building without (compressed rows will be n/a)');
    execFileSync(cc, ['-O2', '-Wall', '-o', LOADGEN, ...srcs, '-lpthread'], { stdio: 'inherit' });
  }
}

/**
 * glibc malloc settings for `--malloc=fixed`: buffers below 32 MiB always come from the heap, and the heap
 * is not trimmed until 256 MiB sit free at its top. By default glibc adapts both thresholds as buffers
 * come and go, so whether a 1 MiB message buffer reuses memory or is served fresh pages (256 page faults
 * and the kernel zeroing a MiB) depends on the allocation history: large-message rows turn bimodal.
 */
const FIXED_MALLOC = { MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(256 * 1024 * 1024) };
let fixedMalloc = false;

/** Applies FIXED_MALLOC to every Node process started from now on (the measured ones, all alike). */
function setFixedMalloc(on) {
  fixedMalloc = !!on;
}

/** Environment for an implementation: ws-js is ws with both native helpers switched off. */
function envFor(impl) {
  const env = { ...process.env };
  if (fixedMalloc) Object.assign(env, FIXED_MALLOC);
  delete env.WS_NO_BUFFER_UTIL;
  delete env.WS_NO_UTF_8_VALIDATE;
  // weft runs with its default transport (the TCP handle for plain TCP), weft-stream on net.Socket's
  // stream layer, weft-native on the TCP handle asked for explicitly — whatever the caller's env.
  delete env.WEFT_TRANSPORT;
  delete env.WEFT_ACCEPT;
  if (impl === 'weft-native') env.WEFT_TRANSPORT = 'native';
  // weft-accept: `port` mode servers accept on the listening handle (the `accept: 'handle'` option).
  if (impl === 'weft-accept') env.WEFT_ACCEPT = 'handle';
  if (impl === 'weft-stream') env.WEFT_TRANSPORT = 'stream';
  if (impl === 'ws-js') {
    env.WS_NO_BUFFER_UTIL = '1';
    env.WS_NO_UTF_8_VALIDATE = '1';
  }
  return env;
}

/**
 * Node with a raised fd limit: Node cannot call setrlimit, so a shell raises it and execs node
 * (exec keeps the IPC fd the harness passed in). We run as root in the bench box, so the hard
 * limit can be raised too.
 */
function spawnNode(nodeArgs, { impl, ipc = false, stdin = 'ignore' } = {}) {
  const quoted = nodeArgs.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');
  const cmd = `ulimit -Hn ${NOFILE} 2>/dev/null; ulimit -n ${NOFILE} 2>/dev/null; exec '${process.execPath}' ${quoted}`;
  return spawn('sh', ['-c', cmd], {
    env: envFor(impl),
    stdio: [stdin, 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
}

/** Keeps the last few KB of a stream, for error messages. */
function tail(stream) {
  const t = { text: '' };
  stream.on('data', (d) => {
    t.text = (t.text + d).slice(-4000);
  });
  return t;
}

/** Rejects if `promise` takes longer than `ms`. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts a bench server (bench/servers/<script>.js) and resolves once it listens.
 * Returns { port, info, pid, request(cmd) -> Promise<reply>, stop() }.
 */
async function startServer(script, impl, extraArgs = [], nodeFlags = []) {
  const file = path.join(BENCH, 'servers', `${script}.js`);
  const child = spawnNode([...nodeFlags, '--expose-gc', file, `--impl=${impl}`, ...extraArgs], { impl, ipc: true });
  const errTail = tail(child.stderr);
  tail(child.stdout);
  const waiting = new Map();
  let nextId = 1;
  let exited = false;
  const ready = new Promise((resolve, reject) => {
    child.on('message', (msg) => {
      if (msg.ready) return resolve(msg);
      const w = waiting.get(msg.id);
      if (w) {
        waiting.delete(msg.id);
        w(msg);
      }
    });
    child.on('exit', (code, signal) => {
      exited = true;
      const err = new Error(`${impl} ${script} server exited (${code ?? signal}): ${errTail.text.trim().slice(-1500)}`);
      reject(err);
      for (const [, w] of waiting) w({ error: err.message });
      waiting.clear();
    });
  });
  const info = await within(ready, 15000, `${impl} ${script} server start`);
  return {
    port: info.port,
    info,
    pid: child.pid,
    child,
    request(cmd, extra = {}) {
      if (exited) return Promise.resolve({ error: 'server exited' });
      const id = nextId++;
      const p = new Promise((resolve) => waiting.set(id, resolve));
      child.send({ ...extra, id, cmd });
      return within(p, 120000, `${impl} server '${cmd}'`);
    },
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      try {
        child.send({ cmd: 'exit' });
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
  };
}

/**
 * Reads a child's stdout as JSON lines: `onEvent(ev)` is awaited for each {"event":...} line, in
 * order; the last other line is the result. Resolves with { result, code } when the child exits.
 */
function readLines(child, onEvent, onError) {
  return new Promise((resolve) => {
    let buf = '';
    let last = null;
    let chain = Promise.resolve();
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (!msg.event) {
          last = msg;
          continue;
        }
        chain = chain.then(() => onEvent(msg, child)).catch((err) => {
          child.kill('SIGKILL');
          onError(err);
        });
      }
    });
    child.on('exit', (code) => chain.then(() => resolve({ result: last, code })));
  });
}

/**
 * Runs the C load generator. `onEvent(ev)` is awaited for each {"event":...} line, in order (the
 * harness opens/closes the server's window there); for `idle`, once the 'ready' handler resolves,
 * the load generator is told to close its connections. Resolves with the final JSON line.
 */
async function runLoadgen(args, onEvent = async () => {}) {
  const child = spawn(LOADGEN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const errTail = tail(child.stderr);
  let failure = null;
  const handler = async (ev) => {
    await onEvent(ev);
    if (ev.event === 'ready') child.stdin.end('close\n');
  };
  const { result, code } = await readLines(child, handler, (err) => (failure = err));
  if (failure) throw failure;
  if (!result) throw new Error(`loadgen exited ${code} without a result: ${errTail.text.trim()}`);
  return result;
}

/** Runs a Node bench client (bench/clients/client.js); same line protocol as the load generator. */
async function runClient(impl, args, onEvent = async () => {}, nodeFlags = []) {
  const child = spawnNode([...nodeFlags, path.join(BENCH, 'clients', 'client.js'), `--impl=${impl}`, ...args], { impl });
  const errTail = tail(child.stderr);
  let failure = null;
  const { result, code } = await readLines(child, onEvent, (err) => (failure = err));
  if (failure) throw failure;
  if (!result) throw new Error(`${impl} client exited ${code}: ${errTail.text.trim().slice(-1500)}`);
  return result;
}

/** Starts the C echo server; resolves with { port, pid, stop() }. */
function startCServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(LOADGEN, ['--mode=server', '--port=0', '--max-time=3600'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), pid: child.pid, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`C server exited ${code}`)));
  });
}

/** utime + stime of a process in seconds, from /proc (resolution: one clock tick, 10 ms). */
function procCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // fields 14 and 15 of proc(5)
  } catch {
    return NaN;
  }
}

/**
 * The server side of the TCP connections on `port`, from `ss -tim` (Linux): the median receive buffer
 * (skmem rb: how far the kernel's autotuning let it grow) and how many sockets hold more than 64 KiB of
 * unread bytes at that moment. null when ss is missing.
 */
function serverSockets(port) {
  let out;
  try {
    out = execFileSync('ss', ['-tim', `( sport = :${port} )`], { encoding: 'utf8', timeout: 5000 });
  } catch {
    return null;
  }
  const rb = [...out.matchAll(/\brb(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  const recvQ = [...out.matchAll(/^ESTAB\s+(\d+)/gm)].map((m) => Number(m[1]));
  if (rb.length === 0) return null;
  return { sockets: recvQ.length, rcvBufMedian: rb[rb.length >> 1], fullRecvQ: recvQ.filter((q) => q > 65536).length };
}

module.exports = { BUILD, LOADGEN, buildLoadgen, within, envFor, startServer, runLoadgen, runClient, startCServer, procCpuSeconds, spawnNode, serverSockets, setFixedMalloc };
