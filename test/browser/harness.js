'use strict';
// Shared by the browser suites (`npm run test:browser`): launch headless Chromium, serve a test page,
// run weft servers the page's WebSockets connect to, and record what each side sees, in order.
//
// Nothing here skips: without Chromium the suites fail, naming the package to install.
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const WebSocket = require('../..');

/** Where Chromium is looked for: CHROMIUM_PATH, else Debian's `chromium` package. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Headless, offline, as root: the flags the machine notes say Chromium needs here. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long one side may stay silent while a test waits for its next event (a hang guard, not a check). */
const EVENT_WAIT_MS = 30000;

/**
 * Launches Chromium with a fresh profile directory; resolves with { context, close }.
 * Throws (failing the suite's before-all hook) when Chromium or playwright-core is missing.
 */
async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser tests need a real Chromium: ` +
        'install it with `apt-get update && apt-get install -y chromium` (Debian), ' +
        'or point CHROMIUM_PATH at a Chromium binary. Do not download one with playwright.',
    );
  }
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (err) {
    throw new Error(`playwright-core is not installed (${err.message}): run \`npm install\``);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`could not launch Chromium at ${CHROMIUM}: ${err.message}`);
  }
  return {
    context,
    async close() {
      try {
        await context.close();
      } finally {
        fs.rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The page-side half: `window.T` opens WebSockets and queues every event each one fires, in order,
 * converting message data to something that crosses page.evaluate (text as is, binary as base64).
 * Serialised into the test page below; it runs in the browser, not in Node.
 */
function pageHelper() {
  const sockets = new Map();
  const toBase64 = (u8) => {
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const fromBase64 = (b64) => {
    const s = atob(b64);
    const u8 = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i);
    return u8;
  };
  const describeData = async (data) => {
    if (typeof data === 'string') return { type: 'message', kind: 'text', text: data };
    if (data instanceof ArrayBuffer) return { type: 'message', kind: 'arraybuffer', b64: toBase64(new Uint8Array(data)) };
    if (data instanceof Blob) {
      return { type: 'message', kind: 'blob', size: data.size, b64: toBase64(new Uint8Array(await data.arrayBuffer())) };
    }
    return { type: 'message', kind: `unexpected ${Object.prototype.toString.call(data)}` };
  };
  window.T = {
    open(id, url, protocols, binaryType) {
      const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
      if (binaryType !== undefined) ws.binaryType = binaryType;
      const entry = { ws, items: [], waiters: [] };
      // Each item is a promise, pushed the moment its event fires: Blob reads finish later, order holds.
      const push = (p) => (entry.waiters.length ? entry.waiters.shift()(p) : entry.items.push(p));
      ws.onopen = () => push(Promise.resolve({ type: 'open', protocol: ws.protocol, extensions: ws.extensions }));
      ws.onmessage = (e) => push(describeData(e.data));
      ws.onerror = () => push(Promise.resolve({ type: 'error' }));
      ws.onclose = (e) => push(Promise.resolve({ type: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean }));
      sockets.set(id, entry);
    },
    next(id, waitMs) {
      const entry = sockets.get(id);
      const item = entry.items.length ? entry.items.shift() : new Promise((resolve) => entry.waiters.push(resolve));
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve({ type: 'nothing', waitedMs: waitMs }), waitMs);
      });
      return Promise.race([item, timeout]).finally(() => clearTimeout(timer));
    },
    send(id, msg) {
      const ws = sockets.get(id).ws;
      if (msg.text !== undefined) return ws.send(msg.text);
      const bytes = fromBase64(msg.b64);
      if (msg.as === 'arraybuffer') return ws.send(bytes.buffer);
      if (msg.as === 'blob') return ws.send(new Blob([bytes]));
      // 'view': a Uint8Array over the middle of a larger buffer; only the view's bytes may go out.
      const big = new Uint8Array(bytes.length + 16).fill(0xee);
      big.set(bytes, 8);
      return ws.send(big.subarray(8, 8 + bytes.length));
    },
    close(id, code, reason) {
      const ws = sockets.get(id).ws;
      if (code === undefined) ws.close();
      else if (reason === undefined) ws.close(code);
      else ws.close(code, reason);
    },
    state(id) {
      const ws = sockets.get(id).ws;
      return { readyState: ws.readyState, protocol: ws.protocol, extensions: ws.extensions };
    },
    closeAll() {
      for (const { ws } of sockets.values()) if (ws.readyState < 2) ws.close();
      sockets.clear();
    },
  };
}

const TEST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>weft browser tests</title></head>
<body><script>(${pageHelper.toString()})();</script></body></html>`;

/** The Node-side half: every event one weft WebSocket emits, queued in order. */
class Peer {
  constructor(ws, req) {
    this.ws = ws;
    this.req = req;
    this.items = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => this._push({ type: 'message', data, isBinary }));
    ws.on('ping', (data) => this._push({ type: 'ping', data }));
    ws.on('pong', (data) => this._push({ type: 'pong', data }));
    ws.on('error', (error) => this._push({ type: 'error', error }));
    ws.on('close', (code, reason) => this._push({ type: 'close', code, reason: reason.toString() }));
  }

  _push(item) {
    if (this.waiters.length) this.waiters.shift()(item);
    else this.items.push(item);
  }

  /** The next event this weft socket emitted (or `{ type: 'nothing' }` after a long silence). */
  next() {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve({ type: 'nothing', waitedMs: EVENT_WAIT_MS });
      }, EVENT_WAIT_MS);
      const waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
      this.waiters.push(waiter);
    });
  }
}

/**
 * An http server on 127.0.0.1 serving the test page at `/`, with one weft WebSocketServer (noServer)
 * per route: `routes` maps a path to that server's options. Browser sockets carry `?id=` so a test
 * can pick up the weft end of the connection it opened: `accepted(id)` resolves with its Peer.
 */
async function startWeft(routes) {
  const servers = {};
  const accepted = new Map();
  const deferred = (id) => {
    if (!accepted.has(id)) {
      let resolve;
      const promise = new Promise((r) => (resolve = r));
      accepted.set(id, { promise, resolve });
    }
    return accepted.get(id);
  };
  const peers = [];
  const onConnection = (ws, req) => {
    const peer = new Peer(ws, req);
    peers.push(peer);
    deferred(new URL(req.url, 'http://x').searchParams.get('id')).resolve(peer);
  };
  for (const [route, options] of Object.entries(routes)) {
    servers[route] = new WebSocket.WebSocketServer({ ...options, noServer: true });
    servers[route].on('connection', onConnection);
  }
  const http_ = http.createServer((req, res) => {
    if (new URL(req.url, 'http://x').pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(TEST_PAGE);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  http_.on('upgrade', (req, socket, head) => {
    const wss = servers[new URL(req.url, 'http://x').pathname];
    if (!wss) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise((resolve) => http_.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${http_.address().port}`;
  return {
    origin,
    servers,
    url: (route, id) => `ws://127.0.0.1:${http_.address().port}${route}?id=${id}`,
    accepted: (id) => deferred(String(id)).promise,
    /** Terminates every weft socket still open (a failed test may leave some). */
    terminateAll() {
      for (const peer of peers) peer.ws.terminate();
    },
    /** Terminates what is still open, then closes the WebSocketServers and the http server. */
    async close() {
      for (const peer of peers) peer.ws.terminate();
      await Promise.all(Object.values(servers).map((wss) => new Promise((resolve) => wss.close(() => resolve()))));
      http_.closeAllConnections();
      await new Promise((resolve) => http_.close(() => resolve()));
    },
  };
}

/** Wraps a Playwright page holding the test page: the browser ends of WebSockets, by id. */
class BrowserSockets {
  constructor(page) {
    this.page = page;
    this.count = 0;
  }

  /** Opens `new WebSocket(url, protocols)` in the page; returns its id (events queue from now on). */
  async open(url, { protocols, binaryType, id } = {}) {
    await this.page.evaluate(([i, u, p, b]) => window.T.open(i, u, p, b), [id, url, protocols, binaryType]);
    return id;
  }

  /** The next event the browser socket fired: open | message | error | close (or nothing, after a long wait). */
  next(id) {
    return this.page.evaluate(([i, ms]) => window.T.next(i, ms), [id, EVENT_WAIT_MS]);
  }

  sendText(id, text) {
    return this.page.evaluate(([i, t]) => window.T.send(i, { text: t }), [id, text]);
  }

  /** Sends bytes from the browser as an ArrayBuffer ('arraybuffer'), a Blob ('blob') or a Uint8Array view ('view'). */
  sendBytes(id, buf, as) {
    return this.page.evaluate(([i, b64, a]) => window.T.send(i, { b64, as: a }), [id, buf.toString('base64'), as]);
  }

  close(id, code, reason) {
    return this.page.evaluate(([i, c, r]) => window.T.close(i, c, r), [id, code, reason]);
  }

  state(id) {
    return this.page.evaluate((i) => window.T.state(i), id);
  }

  closeAll() {
    return this.page.evaluate(() => window.T.closeAll());
  }
}

/** Random text whose UTF-8 encoding is exactly `bytes` long, mixing 1-, 2-, 3- and 4-byte characters. */
function textOfBytes(bytes) {
  const chars = ['a', 'Z', 'é', 'ß', '€', 'ह', '😀', '𝄞'];
  const pick = crypto.randomBytes(bytes);
  const out = [];
  let length = 0;
  for (let i = 0; bytes - length > 4; i++) {
    const c = chars[pick[i] & 7];
    out.push(c);
    length += Buffer.byteLength(c);
  }
  while (length < bytes) {
    out.push('x');
    length++;
  }
  return out.join('');
}

/** Message sizes around the frame-length encodings: 7-bit max, 16-bit min/max, 64-bit min, ~1 MiB. */
const SIZES = [0, 125, 126, 65535, 65536, 1024 * 1024 + 3];

module.exports = { launchChromium, startWeft, BrowserSockets, textOfBytes, SIZES, CHROMIUM };
