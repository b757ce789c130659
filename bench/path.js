'use strict';
/**
 * The library's own CPU per echoed message, without the kernel: weft and ws on an in-memory socket.
 *
 *   node bench/path.js [--size=32] [--role=server|client|both] [--batch=1] [--read=65536] [--rounds=7]
 *                      [--detail]   every round's µs/msg, minor page faults per message and system share
 *                      [--base=../other-checkout]   adds weft built there (its dist/): weft/base, before/after
 *
 * A fake socket (a Duplex whose writes complete at once and go nowhere) carries a chunk holding
 * `batch` frames, cut into reads of at most `--read` bytes (Node reads 64 KiB at a time), as from TCP; the 'message' handler sends each message back, as the
 * bench servers and clients do. CPU per message (process.cpuUsage, user + system) is what the library
 * and Node's stream layer cost between the read and the write syscalls — the part a library can change.
 * With one message per chunk (the independent pacing) the per-chunk costs (stream events, corking,
 * write requests) weigh most. Implementations are interleaved over rounds; medians and weft/ws are
 * printed. Requires `npm run build` (uses dist/).
 *
 * At 1 MiB (`--size=1048576 --role=server --detail`) this shows, without any socket, the rounds where
 * each message buffer lands on fresh pages (≈ 256 minor faults per MiB, the kernel zeroing them: CPU per
 * message ×2–10) beside rounds that reuse memory (a few faults); with glibc's thresholds fixed
 * (MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456) the fault-bound rounds go away.
 */
const { Duplex } = require('stream');
const path = require('path');
const crypto = require('crypto');

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    return m ? [m[1], m[2] === undefined ? true : m[2]] : [a, true];
  }),
);
const SIZE = Number(args.size || 32);
const BATCH = Number(args.batch || 1);
const READ = Number(args.read || 65536);
const ROUNDS = Number(args.rounds || 7);
const SLICE_MS = Number(args.ms || 300);
const ROLES = args.role && args.role !== 'both' ? [args.role] : ['server', 'client'];

const impls = {
  weft: require(path.join(__dirname, '..')),
  ws: require('ws'),
};
if (args.base) impls.base = require(path.resolve(String(args.base)));

/** A Duplex standing in for a net.Socket: writes complete synchronously, reads are pushed by hand. */
class FakeSocket extends Duplex {
  constructor() {
    super({ allowHalfOpen: false });
    this.bytesOut = 0;
  }

  _read() {}

  _write(chunk, enc, cb) {
    this.bytesOut += chunk.length;
    cb();
  }

  _writev(chunks, cb) {
    for (const c of chunks) this.bytesOut += c.chunk.length;
    cb();
  }

  setNoDelay() {}
  setTimeout() {}
  setKeepAlive() {}
}

function frame(payload, masked) {
  const len = payload.length;
  const hlen = (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
  const out = Buffer.allocUnsafe(hlen + len);
  out[0] = 0x82;
  let off = 2;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
    off = 4;
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(len, 6);
    off = 10;
  }
  if (masked) {
    out[1] |= 0x80;
    const key = crypto.randomBytes(4);
    key.copy(out, off);
    off += 4;
    for (let i = 0; i < len; i++) out[off + i] = payload[i] ^ key[i & 3];
  } else {
    payload.copy(out, off);
  }
  return out;
}

/** One implementation in one role, ready to take chunks. */
function setup(name, role) {
  const WebSocket = impls[name];
  const socket = new FakeSocket();
  const ws = new WebSocket(null, undefined, {});
  // Client role: unmasked frames in, masked frames out (what a client after its handshake does).
  if (role === 'client') ws._isServer = false;
  ws.setSocket(socket, Buffer.alloc(0), { maxPayload: 100 * 1024 * 1024 });
  let count = 0;
  ws.on('message', (data, isBinary) => {
    count++;
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', (err) => {
    throw err;
  });
  const payload = crypto.randomBytes(SIZE);
  const one = frame(payload, role === 'server');
  const all = Buffer.concat(Array.from({ length: BATCH }, () => one));
  const reads = [];
  for (let off = 0; off < all.length; off += READ) reads.push(all.subarray(off, off + READ));
  return {
    /**
     * Feeds chunks for about `ms` milliseconds; returns CPU µs per message. The event loop turns after
     * every few chunks, so the ticks a read and a write schedule run as they would between reads.
     */
    async run(ms) {
      const before = count;
      const faults0 = process.resourceUsage().minorPageFault;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      while (performance.now() - t0 < ms) {
        for (let i = 0; i < 4; i++) {
          for (const r of reads) socket.push(Buffer.from(r)); // a fresh buffer per read, as from TCP
        }
        await new Promise(setImmediate);
      }
      const d = process.cpuUsage(cpu0);
      this.faultsPerMsg = (process.resourceUsage().minorPageFault - faults0) / (count - before);
      this.sysShare = d.system / (d.user + d.system);
      if (count === before) throw new Error(`${name} ${role}: no message was echoed`);
      return (d.user + d.system) / (count - before);
    },
  };
}

function median(xs) {
  const v = xs.slice().sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

async function main() {
  console.log(`echo of ${SIZE} B, ${BATCH} message(s) per chunk, reads of ${READ} B, ${ROUNDS} interleaved rounds of ${SLICE_MS} ms`);
  const base = impls.base !== undefined;
  console.log(`| role | weft µs/msg | ws µs/msg | weft/ws | (per-round ratios min–max) |${base ? ' base µs/msg | weft/base | (min–max) |' : ''}`);
  console.log(`|---|--:|--:|--:|--:|${base ? '--:|--:|--:|' : ''}`);
  for (const role of ROLES) {
    const sides = { weft: setup('weft', role), ws: setup('ws', role) };
    if (base) sides.base = setup('base', role);
    await new Promise(setImmediate); // the sockets start flowing on the next tick
    for (const s of Object.values(sides)) await s.run(200); // warm up the JIT
    const res = { weft: [], ws: [], base: [] };
    const faults = { weft: [], ws: [], base: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of Object.keys(sides)) {
        res[name].push(await sides[name].run(SLICE_MS));
        if (args.detail) faults[name].push(`${Math.round(sides[name].faultsPerMsg)}f/${Math.round(sides[name].sysShare * 100)}%sys`);
      }
    }
    if (args.detail) console.log(JSON.stringify({ weft: res.weft.map(Math.round), ws: res.ws.map(Math.round), faults }));
    const ratios = res.weft.map((w, i) => w / res.ws[i]);
    const mw = median(res.weft);
    const ms = median(res.ws);
    let extra = '';
    if (base) {
      const mb = median(res.base);
      const rb = res.weft.map((w, i) => w / res.base[i]);
      extra = ` ${mb.toFixed(3)} | **${(mw / mb).toFixed(3)}** | ${Math.min(...rb).toFixed(2)}–${Math.max(...rb).toFixed(2)} |`;
    }
    console.log(
      `| ${role} | ${mw.toFixed(3)} | ${ms.toFixed(3)} | **${(mw / ms).toFixed(2)}** | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} |${extra}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
