/**
 * `Sec-WebSocket-Protocol` (RFC 6455 §4.1, §4.2.1 item 8, §11.3.4): a comma-separated list of
 * subprotocol names, each an RFC 7230 `token`. Parsed with a single forward pass over the
 * characters (no regular expressions), reporting errors at exactly the index ws reports them.
 */

/**
 * RFC 7230 §3.2.6 `tchar`, indexed by char code (0..127): `!#$%&'*+-.^_`|~`, DIGIT, ALPHA.
 * A lookup table rather than comparisons because it is read once per character of every header.
 */
export const TOKEN_CHARS: Uint8Array = buildTokenChars();

function buildTokenChars(): Uint8Array {
  const table = new Uint8Array(128);
  const specials = "!#$%&'*+-.^_`|~";
  for (let i = 0; i < specials.length; i++) table[specials.charCodeAt(i)] = 1;
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1; // 0-9
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1; // A-Z
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1; // a-z
  return table;
}

/** Whether the UTF-16 code unit `code` is an RFC 7230 `tchar`. */
export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARS[code] === 1;
}

/** Whether `value` is a non-empty RFC 7230 `token` (the shape of a subprotocol or extension name). */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isTokenChar(value.charCodeAt(i))) return false;
  }
  return true;
}

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;

function unexpectedCharacter(index: number): SyntaxError {
  return new SyntaxError(`Unexpected character at index ${index}`);
}

function addProtocol(protocols: Set<string>, protocol: string): void {
  if (protocols.has(protocol)) {
    throw new SyntaxError(`The "${protocol}" subprotocol is duplicated`);
  }
  protocols.add(protocol);
}

/**
 * Parses a `Sec-WebSocket-Protocol` header value into the set of offered subprotocols, in order.
 *
 * Accepts what ws 8.23's `subprotocol.parse` accepts and throws what it throws:
 * - `SyntaxError('Unexpected character at index N')` for a character that is neither a token
 *   character nor, in the right place, a comma or optional whitespace (whitespace is not allowed at
 *   index 0, nor inside a name);
 * - `SyntaxError('Unexpected end of input')` for an empty value, a trailing comma or trailing
 *   whitespace;
 * - `SyntaxError('The "X" subprotocol is duplicated')` when a name repeats (case-sensitively).
 */
export function parse(header: string): Set<string> {
  const protocols = new Set<string>();
  // [start, end) delimits the current name; -1 means "not seen yet".
  let start = -1;
  let end = -1;
  let i = 0;

  for (; i < header.length; i++) {
    const code = header.charCodeAt(i);

    if (isTokenChar(code)) {
      // A name character after the whitespace that ended the name ("a b").
      if (end !== -1) throw unexpectedCharacter(i);
      if (start === -1) start = i;
    } else if ((code === SP || code === HTAB) && i !== 0) {
      // Optional whitespace around names; it ends a name that has started.
      if (start !== -1 && end === -1) end = i;
    } else if (code === COMMA) {
      if (start === -1) throw unexpectedCharacter(i);
      if (end === -1) end = i;
      addProtocol(protocols, header.slice(start, end));
      start = end = -1;
    } else {
      throw unexpectedCharacter(i);
    }
  }

  const last = i === 0 ? -1 : header.charCodeAt(i - 1);
  if (start === -1 || last === SP || last === HTAB) {
    throw new SyntaxError('Unexpected end of input');
  }
  addProtocol(protocols, header.slice(start, end === -1 ? i : end));
  return protocols;
}
