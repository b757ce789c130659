/**
 * A deliberately narrow reader of an HTTP/1.1 request head, for the WebSocket upgrades a server accepts
 * on its listening handle (transport/accept.ts). It takes only the common, well-formed shape of an
 * opening handshake — `GET <origin-form> HTTP/1.1`, then `name: value` lines of visible ASCII, CRLF line
 * ends, a Host, and `Connection: upgrade` with an `Upgrade` header — and returns null for anything else:
 * the caller then hands the bytes to Node's own HTTP parser, which answers them exactly as it always
 * does (400, 431, 426, the 'upgrade' event, ...). So nothing here decides an error; it only recognises
 * what needs no HTTP machinery. Pure: bytes in, a description out.
 */

/** A request head this reader took. Header names and values are as sent (Node's `rawHeaders`). */
export interface RequestHead {
  method: 'GET';
  url: string;
  /** Name, value, name, value, ... in the order sent. */
  rawHeaders: string[];
}

const CR = 13;
const LF = 10;
const SP = 32;
const COLON = 58;

/** RFC 9110 tchar: the bytes of a header name (a token). */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/**
 * Reads the head in `buf[0, end)`: `end` is the index after its blank line (CRLF CRLF). Returns null unless it is a plain WebSocket
 * upgrade request in the narrow shape above, with at most `maxHeaders` header lines.
 */
export function readUpgradeHead(buf: Buffer, end: number, maxHeaders: number): RequestHead | null {
  // The request line: exactly "GET", one space, an origin-form target of visible ASCII, one space, HTTP/1.1.
  if (end < 18 || buf[0] !== 71 || buf[1] !== 69 || buf[2] !== 84 || buf[3] !== SP || buf[4] !== 47) return null;
  let i = 5;
  while (i < end && buf[i] > SP && buf[i] < 127) i++;
  if (buf[i] !== SP) return null;
  const url = buf.toString('latin1', 4, i);
  i++;
  if (end - i < 10 || buf.toString('latin1', i, i + 10) !== 'HTTP/1.1\r\n') return null;
  i += 10;

  const rawHeaders: string[] = [];
  let host = false;
  let upgrade = false;
  let connectionUpgrade = false;
  // Header lines up to the blank one.
  while (true) {
    if (buf[i] === CR) break; // the blank line (headEnd found it: CRLF)
    const nameStart = i;
    while (i < end && buf[i] < 128 && TOKEN[buf[i]] === 1) i++;
    if (i === nameStart || buf[i] !== COLON) return null;
    const name = buf.toString('latin1', nameStart, i);
    i++;
    while (buf[i] === SP) i++;
    const valueStart = i;
    // Visible ASCII and single spaces inside; no tab, no control, no obs-text, no trailing space.
    while (i < end && buf[i] >= SP && buf[i] < 127) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) return null;
    if (i > valueStart && buf[i - 1] === SP) return null;
    const value = buf.toString('latin1', valueStart, i);
    i += 2;
    if (rawHeaders.length >= maxHeaders * 2) return null;
    rawHeaders.push(name, value);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') host = true;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgrade = true;
        break;
      case 10:
        if (name.toLowerCase() === 'connection' && hasUpgradeToken(value)) connectionUpgrade = true;
        break;
      case 14:
        // A body (Content-Length) is Node's to frame.
        if (name.toLowerCase() === 'content-length') return null;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return null;
        break;
    }
  }
  if (i + 2 !== end || !host || !upgrade || !connectionUpgrade) return null;
  return { method: 'GET', url, rawHeaders };
}

/** Whether a Connection header value lists the `upgrade` option (comma-separated, any case). */
function hasUpgradeToken(value: string): boolean {
  const parts = value.split(',');
  for (let k = 0; k < parts.length; k++) if (parts[k].trim().toLowerCase() === 'upgrade') return true;
  return false;
}
