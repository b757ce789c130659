/** `weft listen PORT`: a WebSocket server on the command line that prints what clients send. */
import * as https from 'https';
import type { AddressInfo } from 'net';
import WebSocket = require('../../index');
import { numberOption, UsageError, type ParsedArgs } from './args';
import { makeConsole } from './console';
import { readOptionFile } from './connect';
import { EXIT, exit } from './exit';
import { binaryEncoding, encodeInput, formatMessage, type FormatOptions } from './format';
import { parseSlash, PingTimer, runSlash } from './slash';

/** One connected client. */
interface Client {
  id: number;
  ws: WebSocket;
  timer: PingTimer;
}

/** How long a shutdown waits for clients to answer the close before dropping them. */
const SHUTDOWN_GRACE_MS = 2000;

/** Runs `weft listen`. Throws UsageError before anything is opened. */
export function listen(args: ParsedArgs): void {
  const v = args.values;
  if (!/^\d+$/.test(args.target) || Number(args.target) > 65535) {
    throw new UsageError(`not a port: ${args.target}`);
  }
  const port = Number(args.target);
  const fmt: FormatOptions = { json: v.json === true, binary: binaryEncoding(v.binary) };
  const accepted = (v.subprotocol as string[] | undefined) ?? [];
  const slash = v.slash === true;
  const quiet = v.quiet === true;
  const showPingPong = v.showPingPong === true;
  const maxPayload = numberOption(v, 'maxPayload', 'max-payload', 0, Number.MAX_SAFE_INTEGER);
  const cert = readOptionFile(v.cert, 'cert');
  const key = readOptionFile(v.key, 'key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('listen needs both --cert and --key for wss:');

  const options: WebSocket.ServerOptions = {};
  if (accepted.length > 0) {
    // the first protocol the client offers that is on the list; none: the handshake has no subprotocol
    options.handleProtocols = (offered: Set<string>) => {
      for (const p of offered) if (accepted.includes(p)) return p;
      return false;
    };
  }
  if (maxPayload !== undefined) options.maxPayload = maxPayload;
  let tlsServer: https.Server | undefined;
  if (cert && key) {
    tlsServer = https.createServer({ cert, key, passphrase: v.passphrase as string | undefined });
    options.server = tlsServer;
  } else {
    options.port = port;
    if (v.host !== undefined) options.host = v.host as string;
  }
  const wss = new WebSocket.WebSocketServer(options);
  if (tlsServer) tlsServer.listen(port, v.host as string | undefined);

  const clients = new Map<WebSocket, Client>();
  let nextId = 1;
  let stopping = false;
  let allClosed: (() => void) | null = null;
  const cli = makeConsole({
    interactive: v.interactive === true || process.stdin.isTTY === true,
    historyFile: v.historyFile as string | undefined,
    onInterrupt: shutdown,
  });
  const label = (c: Client, text: string): string => (cli.interactive ? `#${c.id} ${text}` : text);

  function shutdown(): void {
    if (stopping) {
      exit(EXIT.INTERRUPTED);
      return;
    }
    stopping = true;
    cli.stop();
    for (const { ws } of clients.values()) ws.close(1001, 'server shutting down');
    const done = (): void => {
      for (const { ws } of clients.values()) ws.terminate();
      wss.close();
      if (tlsServer) tlsServer.close();
      exit(EXIT.OK);
    };
    if (clients.size === 0) done();
    else {
      const timer = setTimeout(done, SHUTDOWN_GRACE_MS);
      allClosed = () => {
        clearTimeout(timer);
        done();
      };
    }
  }
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.stdout.on('error', shutdown);

  function onLine(line: string): void {
    if (cli.interactive && line === '') return;
    try {
      const cmd = slash ? parseSlash(line) : null;
      const open = [...clients.values()].filter((c) => c.ws.readyState === WebSocket.OPEN);
      if (open.length === 0) throw new Error('no client connected: not sent');
      if (cmd !== null) {
        for (const c of open) runSlash(c.ws, cmd, c.timer);
        return;
      }
      const { data, binary } = encodeInput(line, fmt.binary);
      for (const c of open) c.ws.send(data, { binary });
    } catch (err) {
      cli.error(`error: ${(err as Error).message}`);
    }
  }

  function onListening(): void {
    const addr = (tlsServer ? tlsServer.address() : wss.address()) as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const extra = cli.interactive ? ' (press CTRL+C to quit)' : '';
    cli.info(`listening on ${tlsServer ? 'wss' : 'ws'}://${host}:${addr.port}${extra}`);
    cli.start(onLine, () => {
      // Ctrl-D at the prompt quits; the end of piped input leaves the server running
      if (cli.interactive) shutdown();
    });
  }
  if (tlsServer) tlsServer.on('listening', onListening);
  else wss.on('listening', onListening);

  const onServerError = (err: Error): void => {
    cli.error(`error: ${err.message}`);
    exit(EXIT.CONNECT_FAILED);
  };
  wss.on('error', onServerError);
  if (tlsServer) tlsServer.on('error', onServerError);

  wss.on('connection', (ws: WebSocket, req) => {
    const c: Client = { id: nextId++, ws, timer: new PingTimer() };
    clients.set(ws, c);
    if (stopping) ws.close(1001, 'server shutting down');
    if (!quiet) {
      const sub = ws.protocol ? ` (subprotocol: ${ws.protocol})` : '';
      cli.info(`client #${c.id} connected from ${req.socket.remoteAddress}:${req.socket.remotePort}${sub}`);
    }
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      cli.message(label(c, formatMessage(data, isBinary, fmt)));
    });
    ws.on('ping', (data: Buffer) => {
      if (showPingPong) cli.info(`< #${c.id} ping ${data.toString()}`.trimEnd());
    });
    ws.on('pong', (data: Buffer) => {
      const text = data.toString();
      const ms = c.timer.pong(text);
      if (ms !== undefined) cli.info(`< #${c.id} pong ${text}`.trimEnd() + ` (${ms.toFixed(3)} ms)`);
      else if (showPingPong) cli.info(`< #${c.id} pong ${text}`.trimEnd());
    });
    ws.on('error', (err: Error) => cli.error(`client #${c.id} error: ${err.message}`));
    ws.on('close', (code: number, reason: Buffer) => {
      clients.delete(ws);
      if (!quiet) {
        const r = reason.length > 0 ? `, reason: ${JSON.stringify(reason.toString())}` : '';
        cli.info(`client #${c.id} disconnected (code: ${code}${r})`);
      }
      if (clients.size === 0 && allClosed !== null) allClosed();
    });
  });
}
