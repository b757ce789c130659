'use strict';
/**
 * What every bench server shares: loading the implementation under test by name, and answering the
 * harness over the IPC channel so that the harness (not the server) decides when the measured
 * window opens and closes.
 *
 *   harness -> {id, cmd: 'start'}  snapshot process.cpuUsage() and the op counters
 *   harness -> {id, cmd: 'stop'}   reply {cpuUs, userUs, systemUs, reads, sleeps, faults, ops, conns,
 *                                  errors, wallMs} for the window since 'start'; a server that counts
 *                                  no operations (c-echo.js) replies ops: null, opsFrom: 'loadgen'
 *   harness -> {id, cmd: 'mem'}    global.gc() a few times, reply {rss, heapUsed, heapTotal, newSpace,
 *                                  external, clients}; newSpace is V8's young generation as committed
 *   harness -> {id, cmd: 'snapshot', file}  write a V8 heap snapshot to `file` (bench/idle.js --breakdown)
 *   harness -> {id, cmd: 'exit'}   close and exit
 *
 * process.cpuUsage() is the whole process (main thread + libuv pool + GC threads), which is what a
 * server pays; it is read only at the window edges, so measuring costs two IPC messages per window.
 * What is measured is a "meter" (selfMeter() by default: this process); servers/c-echo.js passes one
 * that reads another process's counters from /proc instead.
 */
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');

/**
 * Loads 'weft' (this repo's dist/, or the checkout named by WEFT_ROOT: bench/idle.js --base compares
 * two builds), 'weft-stream' / 'weft-native' (the same, run with WEFT_TRANSPORT=stream / native by the
 * harness), 'weft-accept' (the same with WEFT_ACCEPT=handle) or 'ws' (ws-js is ws with WS_NO_* set by the harness).
 */
function load(impl) {
  // weft-stream, weft-native: weft with WEFT_TRANSPORT set (by the harness, bench/lib/proc.js envFor).
  if (impl === 'weft' || impl === 'weft-stream' || impl === 'weft-native' || impl === 'weft-accept') return require(process.env.WEFT_ROOT || ROOT);
  if (impl === 'ws' || impl === 'ws-js') return require('ws');
  throw new Error(`unknown implementation ${impl}`);
}

/** Parses --key=value / --flag arguments. */
function parseArgs(argv) {
  const out = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
  }
  return out;
}

/** Read-type syscalls of this process so far (Linux /proc/self/io `syscr`; NaN elsewhere). */
function readSyscalls() {
  try {
    const m = /^syscr:\s*(\d+)/m.exec(require('fs').readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Counters the servers bump on their hot paths: plain numbers on one object, nothing else. */
const stats = { ops: 0, conns: 0, errors: 0 };

async function memory() {
  // Several passes: the first frees young garbage, later ones let finalizers and weak refs settle.
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  const young = require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    newSpace: young ? young.space_size : NaN,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

/**
 * The measured process's counters over a window: this process. start() snapshots them, stop() returns
 * the differences as the 'stop' reply's fields. CPU is read last at the start and first at the stop,
 * so that reading the other counters stays (mostly) outside the window.
 */
function selfMeter() {
  let cpu0 = null;
  let reads0 = 0;
  let sleeps0 = 0;
  let faults0 = 0;
  return {
    start() {
      reads0 = readSyscalls();
      const ru = process.resourceUsage();
      sleeps0 = ru.voluntaryContextSwitches;
      faults0 = ru.minorPageFault;
      cpu0 = process.cpuUsage();
    },
    stop() {
      const d = process.cpuUsage(cpu0);
      // Voluntary context switches: times the process blocked (mostly the event loop waiting in
      // epoll), i.e. about one per wakeup. Reads: read syscalls (the socket reads, mostly).
      const ru = process.resourceUsage();
      return {
        // Minor page faults: fresh memory touched (a 1 MiB buffer on new pages costs 256 of them).
        faults: ru.minorPageFault - faults0,
        sleeps: ru.voluntaryContextSwitches - sleeps0,
        reads: readSyscalls() - reads0,
        cpuUs: d.user + d.system,
        userUs: d.user,
        systemUs: d.system,
      };
    },
    self: true, // 'snapshot' writes this process's heap: only meaningful when it is the one measured
    mem: async () => memory(),
  };
}

/**
 * Announces readiness to the harness and serves its commands.
 * @param {object} info  sent with the ready message (port, impl, extras)
 * @param {() => number} clients  how many clients the server holds now
 * @param {() => void} close  closes the server
 * @param {object} [meter]  what a window measures (selfMeter(): this process); its stop() fields
 *   override the reply's defaults, its mem() answers 'mem' (none: an error reply), and 'snapshot' is
 *   only served when it measures this process (meter.self)
 */
function serve(info, clients, close, meter = selfMeter()) {
  let ops0 = 0;
  let conns0 = 0;
  let t0 = 0;
  process.on('message', async (msg) => {
    let reply;
    switch (msg.cmd) {
      case 'start':
        ops0 = stats.ops;
        conns0 = stats.conns;
        t0 = performance.now();
        meter.start();
        reply = {};
        break;
      case 'stop': {
        const m = meter.stop();
        reply = {
          ops: stats.ops - ops0,
          conns: stats.conns - conns0,
          errors: stats.errors,
          wallMs: performance.now() - t0,
          ...m,
        };
        break;
      }
      case 'mem':
        reply = meter.mem ? { ...(await meter.mem()), clients: clients() } : { error: 'no memory reading for this server' };
        break;
      case 'snapshot':
        if (!meter.self) {
          reply = { error: 'no heap snapshot for this server (it measures another process)' };
          break;
        }
        await memory();
        require('v8').writeHeapSnapshot(msg.file);
        reply = { file: msg.file, clients: clients() };
        break;
      case 'exit':
        close();
        process.exit(0);
        return;
      default:
        reply = { error: `unknown command ${msg.cmd}` };
    }
    process.send({ id: msg.id, ...reply });
  });
  // The harness going away must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true, ...info });
}

module.exports = { load, parseArgs, stats, serve, selfMeter, memory, readSyscalls };
