/** `weft connect URL`: a WebSocket client on the command line. */
import * as fs from 'fs';
import WebSocket = require('../../index');
import { numberOption, UsageError, type ParsedArgs } from './args';
import { makeConsole } from './console';
import { EXIT, exit, exitCodeForClose } from './exit';
import { binaryEncoding, encodeInput, formatMessage, type FormatOptions } from './format';
import { parseSlash, PingTimer, runSlash } from './slash';

/** Reads a PEM file named by an option, or throws a UsageError. */
export function readOptionFile(file: unknown, flag: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file as string);
  } catch (err) {
    throw new UsageError(`cannot read --${flag} ${file}: ${(err as Error).message}`);
  }
}

/** The client options the flags ask for. */
function clientOptions(v: ParsedArgs['values']): WebSocket.ClientOptions {
  const options: WebSocket.ClientOptions = {};
  const headers: Record<string, string> = {};
  for (const h of (v.header as string[] | undefined) ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header wants "NAME: VALUE", got ${JSON.stringify(h)}`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  options.headers = headers;
  if (v.origin !== undefined) options.origin = v.origin as string;
  if (v.auth !== undefined) options.auth = v.auth as string;
  if (v.noCheck) options.rejectUnauthorized = false;
  const ca = readOptionFile(v.ca, 'ca');
  if (ca) options.ca = ca;
  const cert = readOptionFile(v.cert, 'cert');
  if (cert) options.cert = cert;
  const key = readOptionFile(v.key, 'key');
  if (key) options.key = key;
  if (v.passphrase !== undefined) options.passphrase = v.passphrase as string;
  if (v.location) options.followRedirects = true;
  const maxRedirects = numberOption(v, 'maxRedirects', 'max-redirects', 0, 1000);
  if (maxRedirects !== undefined) options.maxRedirects = maxRedirects;
  const version = numberOption(v, 'protocolVersion', 'protocol', 8, 13);
  if (version !== undefined) {
    if (version !== 8 && version !== 13) throw new UsageError('--protocol must be 8 or 13');
    options.protocolVersion = version;
  }
  const timeout = numberOption(v, 'connectTimeout', 'connect-timeout', 0.001, 86400, false);
  if (timeout !== undefined) options.handshakeTimeout = Math.round(timeout * 1000);
  if (v.noDeflate) options.perMessageDeflate = false;
  if (v.http2) options.http2 = true;
  const maxPayload = numberOption(v, 'maxPayload', 'max-payload', 0, Number.MAX_SAFE_INTEGER);
  if (maxPayload !== undefined) options.maxPayload = maxPayload;
  return options;
}

/** Runs `weft connect`. Throws UsageError before anything is opened. */
export function connect(args: ParsedArgs): void {
  const v = args.values;
  const fmt: FormatOptions = { json: v.json === true, binary: binaryEncoding(v.binary) };
  const options = clientOptions(v);
  const protocols = (v.subprotocol as string[] | undefined) ?? [];
  const wait = numberOption(v, 'wait', 'wait', -1, 86400, false);
  const count = numberOption(v, 'count', 'count', 1, Number.MAX_SAFE_INTEGER);
  const execute = ((v.execute as string[] | undefined) ?? []).map((m) => {
    try {
      return encodeInput(m, fmt.binary);
    } catch (err) {
      throw new UsageError(`--execute: ${(err as Error).message}`);
    }
  });
  const slash = v.slash === true;
  const quiet = v.quiet === true;
  const showPingPong = v.showPingPong === true;
  // a bare host[:port] is a ws: URL, as wscat takes it
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(args.target) ? args.target : `ws://${args.target}`;

  let ws: WebSocket;
  try {
    ws = new WebSocket(url, protocols, options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  let opened = false;
  let received = 0;
  let interrupts = 0;
  let closeTimer: NodeJS.Timeout | undefined;
  let paused = false;
  let protocolError = false;
  const timer = new PingTimer();
  const cli = makeConsole({
    interactive: v.interactive === true || process.stdin.isTTY === true,
    historyFile: v.historyFile as string | undefined,
    onInterrupt: interrupt,
  });

  function closeNormally(): void {
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  }

  /** Closes after `seconds` (negative: only the peer closes). */
  function closeAfter(seconds: number): void {
    if (seconds < 0) return;
    if (closeTimer !== undefined) clearTimeout(closeTimer);
    closeTimer = setTimeout(closeNormally, seconds * 1000);
  }

  function interrupt(): void {
    interrupts++;
    if (interrupts === 1 && ws.readyState === WebSocket.OPEN) {
      closeNormally();
      return;
    }
    cli.stop();
    ws.terminate();
    exit(EXIT.INTERRUPTED);
  }
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.stdout.on('error', () => {
    // the reader went away (`| head -1`): stop printing, close normally
    cli.stop();
    closeNormally();
  });

  function onLine(line: string): void {
    if (cli.interactive && line === '') return;
    try {
      const cmd = slash ? parseSlash(line) : null;
      if (cmd !== null) {
        runSlash(ws, cmd, timer);
        return;
      }
      if (ws.readyState !== WebSocket.OPEN) throw new Error('not sent: the connection is closing');
      const { data, binary } = encodeInput(line, fmt.binary);
      // more buffered than the socket's high-water mark: read no further lines until it drains
      if (ws.send(data, { binary }) === WebSocket.SendStatus.BACKPRESSURE && !paused) {
        paused = true;
        cli.pause();
        ws.once('drain', () => {
          paused = false;
          cli.resume();
        });
      }
    } catch (err) {
      cli.error(`error: ${(err as Error).message}`);
    }
  }

  ws.on('open', () => {
    opened = true;
    if (!quiet) {
      const sub = ws.protocol ? ` (subprotocol: ${ws.protocol})` : '';
      cli.info(`connected to ${url}${sub}${cli.interactive ? ' (press CTRL+C to quit)' : ''}`);
    }
    if (execute.length > 0) {
      for (const { data, binary } of execute) ws.send(data, { binary });
      closeAfter(wait ?? 2);
    } else {
      cli.start(onLine, () => closeAfter(wait ?? 0));
    }
  });

  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    cli.message(formatMessage(data, isBinary, fmt));
    if (count !== undefined && ++received === count) closeNormally();
  });

  ws.on('ping', (data: Buffer) => {
    if (showPingPong) cli.info(`< ping ${data.toString()}`.trimEnd());
  });

  ws.on('pong', (data: Buffer) => {
    const text = data.toString();
    const ms = timer.pong(text);
    if (ms !== undefined) cli.info(`< pong ${text}`.trimEnd() + ` (${ms.toFixed(3)} ms)`);
    else if (showPingPong) cli.info(`< pong ${text}`.trimEnd());
  });

  ws.on('error', (err: Error & { code?: unknown }) => {
    const code = typeof err.code === 'string' ? err.code : '';
    if (opened && code.startsWith('WS_ERR_')) protocolError = true;
    cli.error(`error: ${err.message}${code ? ` (${code})` : ''}`);
  });

  ws.on('close', (code: number, reasonBuf: Buffer) => {
    if (closeTimer !== undefined) clearTimeout(closeTimer);
    cli.stop();
    if (!opened) {
      exit(interrupts > 0 ? EXIT.INTERRUPTED : EXIT.CONNECT_FAILED);
      return;
    }
    const reason = reasonBuf.toString();
    const status = protocolError ? EXIT.PROTOCOL_ERROR : exitCodeForClose(code);
    const text = `disconnected (code: ${code}${reason ? `, reason: ${JSON.stringify(reason)}` : ''})`;
    if (status !== EXIT.OK) cli.error(text);
    else if (!quiet) cli.info(text);
    exit(status);
  });
}
