/** The `--slash` commands (/ping, /pong, /close) and the round-trip timing of /ping. */
import WebSocket = require('../../index');

/** A `--slash` command. */
export type SlashCommand =
  | { kind: 'ping'; data: string }
  | { kind: 'pong'; data: string }
  | { kind: 'close'; code: number | undefined; reason: string };

/**
 * Parses `/ping [data]`, `/pong [data]`, `/close [code [reason]]`. Returns null when the line is not a
 * command (so it is sent as a message); throws on a malformed command.
 */
export function parseSlash(line: string): SlashCommand | null {
  const m = /^\/(\w+)(?:\s+(.*))?$/.exec(line);
  if (m === null) return null;
  const [, word, rest = ''] = m;
  if (word === 'ping' || word === 'pong') return { kind: word, data: rest };
  if (word === 'close') {
    const cm = /^(\d+)?\s*(.*)$/.exec(rest.trim());
    const code = cm && cm[1] !== undefined ? Number(cm[1]) : undefined;
    const reason = cm ? cm[2] : '';
    if (code === undefined && reason !== '') throw new Error('usage: /close [CODE [REASON]]');
    return { kind: 'close', code, reason };
  }
  throw new Error(`unknown command /${word} (try /ping, /pong, /close)`);
}

/** Round-trip times of the pings sent with `/ping`: a pong is matched to the oldest ping with its payload. */
export class PingTimer {
  private readonly sent: { data: string; at: bigint }[] = [];

  /** Records a ping just sent. */
  ping(data: string): void {
    this.sent.push({ data, at: process.hrtime.bigint() });
  }

  /** The round trip in milliseconds if `data` answers a recorded ping, else undefined (an unsolicited pong). */
  pong(data: string): number | undefined {
    const i = this.sent.findIndex((p) => p.data === data);
    if (i === -1) return undefined;
    const [{ at }] = this.sent.splice(i, 1);
    return Number(process.hrtime.bigint() - at) / 1e6;
  }
}

/** Runs a command on `ws`; a /ping is recorded in `timer`. Throws what ws.ping/pong/close throw. */
export function runSlash(ws: WebSocket, cmd: SlashCommand, timer: PingTimer): void {
  if (cmd.kind === 'ping') {
    ws.ping(cmd.data);
    timer.ping(cmd.data);
  } else if (cmd.kind === 'pong') {
    ws.pong(cmd.data);
  } else {
    ws.close(cmd.code, cmd.reason);
  }
}
