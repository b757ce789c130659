/**
 * `Sec-WebSocket-Extensions` (RFC 6455 §9.1): parse and format.
 *
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" ( token | quoted-string ) ]
 *
 * The parser is a single forward pass over the characters driven by an explicit state (no regular
 * expressions), and it accepts, rejects and reports error indices exactly as ws 8.23's
 * `extension.parse` does — including ws's leniencies (optional whitespace around `;` and `,`,
 * the same extension offered more than once) and its strictness (no whitespace at index 0 or
 * around `=`, no empty quoted strings, only token characters inside quotes).
 */
import { isTokenChar } from './subprotocol';

/** The parameters of one extension offer: each name maps to its values, `true` for a bare flag. */
export type ExtensionParams = Record<string, Array<string | true>>;

/** A parsed header: each extension name maps to its offers (or responses), in header order. */
export type ExtensionOffers = Record<string, ExtensionParams[]>;

/** A parameter value `format` accepts: `true` is written as a bare flag, anything else as `name=value`. */
export type FormatValue = unknown;

/** The parameters `format` accepts for one offer: a value or an array of values per name. */
export type FormatParams = Record<string, FormatValue | FormatValue[]>;

/** What `format` accepts: per extension name, one parameter object or an array of them. */
export type FormatInput = Record<string, FormatParams | FormatParams[]>;

/** Parser states: which part of the grammar the current character belongs to. */
const State = {
  /** Reading an extension name. */
  NAME: 0,
  /** Reading a parameter name (after `;`). */
  PARAM: 1,
  /** Reading a parameter value (after `=`), unquoted, or after its closing quote. */
  VALUE: 2,
  /** Inside a quoted parameter value. */
  QUOTED: 3,
  /** Right after a backslash inside a quoted parameter value. */
  ESCAPE: 4,
} as const;
type StateValue = (typeof State)[keyof typeof State];

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

function unexpectedCharacter(index: number): SyntaxError {
  return new SyntaxError(`Unexpected character at index ${index}`);
}

/** Appends `value` to `dest[name]`, creating the list on first use. */
function append<T>(dest: Record<string, T[]>, name: string, value: T): void {
  const list: T[] | undefined = dest[name];
  if (list === undefined) dest[name] = [value];
  else list.push(value);
}

/** A parameter object with no prototype, so names like `__proto__` or `constructor` are plain keys. */
function newParams(): ExtensionParams {
  return Object.create(null) as ExtensionParams;
}

/** Drops the backslashes of quoted-pair escapes; every backslash in `value` starts one. */
function unescape(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) !== BACKSLASH) out += value[i];
  }
  return out;
}

/**
 * Parses a `Sec-WebSocket-Extensions` header value.
 *
 * Returns an object with no prototype mapping each extension name to the list of its offers in
 * header order; each offer maps parameter names to their values (a string, or `true` for a
 * parameter without a value), also with no prototype. Quoted values are returned unquoted and
 * unescaped.
 *
 * Throws `SyntaxError('Unexpected character at index N')` at the first character that cannot
 * continue the header, or `SyntaxError('Unexpected end of input')` if the value is empty or ends
 * in the middle of an element, after a separator, or in whitespace — the same error, at the same
 * index, as ws 8.23.
 */
export function parse(header: string): ExtensionOffers {
  const offers = Object.create(null) as ExtensionOffers;
  let params = newParams();
  let state: StateValue = State.NAME;
  let extensionName = '';
  let paramName = '';
  // [start, end) delimits the current name or value; -1 means "not seen yet".
  let start = -1;
  let end = -1;
  // Whether the current quoted value contains an escape after its first character.
  let mustUnescape = false;
  let i = 0;

  for (; i < header.length; i++) {
    const code = header.charCodeAt(i);

    switch (state) {
      case State.NAME:
        if (isTokenChar(code)) {
          if (end !== -1) throw unexpectedCharacter(i);
          if (start === -1) start = i;
        } else if ((code === SP || code === HTAB) && i !== 0) {
          if (start !== -1 && end === -1) end = i;
        } else if (code === SEMICOLON || code === COMMA) {
          if (start === -1) throw unexpectedCharacter(i);
          if (end === -1) end = i;
          const name = header.slice(start, end);
          if (code === COMMA) {
            // An extension without parameters.
            append(offers, name, newParams());
          } else {
            extensionName = name;
            state = State.PARAM;
          }
          start = end = -1;
        } else {
          throw unexpectedCharacter(i);
        }
        break;

      case State.PARAM:
        if (isTokenChar(code)) {
          if (end !== -1) throw unexpectedCharacter(i);
          if (start === -1) start = i;
        } else if (code === SP || code === HTAB) {
          if (start !== -1 && end === -1) end = i;
        } else if (code === SEMICOLON || code === COMMA) {
          if (start === -1) throw unexpectedCharacter(i);
          if (end === -1) end = i;
          // A parameter without a value.
          append<string | true>(params, header.slice(start, end), true);
          if (code === COMMA) {
            append(offers, extensionName, params);
            params = newParams();
            state = State.NAME;
          }
          start = end = -1;
        } else if (code === EQUALS && start !== -1 && end === -1) {
          // No whitespace is allowed between a parameter name and `=`.
          paramName = header.slice(start, i);
          state = State.VALUE;
          start = end = -1;
        } else {
          throw unexpectedCharacter(i);
        }
        break;

      case State.VALUE:
        if (isTokenChar(code)) {
          if (end !== -1) throw unexpectedCharacter(i);
          if (start === -1) start = i;
        } else if (code === DQUOTE && start === -1) {
          // A quote is only allowed straight after `=`.
          state = State.QUOTED;
        } else if ((code === SP || code === HTAB) && start !== -1) {
          // Whitespace may follow a value but not precede it.
          if (end === -1) end = i;
        } else if ((code === SEMICOLON || code === COMMA) && start !== -1) {
          if (end === -1) end = i;
          let value = header.slice(start, end);
          if (mustUnescape) {
            value = unescape(value);
            mustUnescape = false;
          }
          append<string | true>(params, paramName, value);
          if (code === COMMA) {
            append(offers, extensionName, params);
            params = newParams();
            state = State.NAME;
          } else {
            state = State.PARAM;
          }
          start = end = -1;
        } else {
          throw unexpectedCharacter(i);
        }
        break;

      case State.QUOTED:
        if (isTokenChar(code)) {
          if (start === -1) start = i;
        } else if (code === DQUOTE && start !== -1) {
          // Closing quote; an empty quoted string is rejected at this quote.
          end = i;
          state = State.VALUE;
        } else if (code === BACKSLASH) {
          state = State.ESCAPE;
        } else {
          throw unexpectedCharacter(i);
        }
        break;

      default: // State.ESCAPE: only a token character may be escaped.
        if (!isTokenChar(code)) throw unexpectedCharacter(i);
        // An escape before the first character just moves the start past the backslash.
        if (start === -1) start = i;
        else mustUnescape = true;
        state = State.QUOTED;
        break;
    }
  }

  const last = i === 0 ? -1 : header.charCodeAt(i - 1);
  if (
    start === -1 ||
    state === State.QUOTED ||
    state === State.ESCAPE ||
    last === SP ||
    last === HTAB
  ) {
    throw new SyntaxError('Unexpected end of input');
  }

  if (end === -1) end = i;
  const token = header.slice(start, end);
  if (state === State.NAME) {
    append(offers, token, newParams());
  } else {
    if (state === State.PARAM) append<string | true>(params, token, true);
    else append<string | true>(params, paramName, mustUnescape ? unescape(token) : token);
    append(offers, extensionName, params);
  }
  return offers;
}

/**
 * Formats extensions as a `Sec-WebSocket-Extensions` header value, the way ws 8.23's
 * `extension.format` does: offers are joined with `, `, an extension name and its parameters with
 * `; `; a parameter whose value is `true` is written as a bare name, any other value as
 * `name=value` (stringified, never quoted). A single parameter object may stand for a list of one,
 * and a single value for a list of one.
 *
 *   format({ 'permessage-deflate': [{ client_max_window_bits: [true], server_max_window_bits: [10] }] })
 *   // 'permessage-deflate; client_max_window_bits; server_max_window_bits=10'
 */
export function format(extensions: FormatInput): string {
  const parts: string[] = [];
  for (const name of Object.keys(extensions)) {
    const entry = extensions[name];
    const configurations: FormatParams[] = Array.isArray(entry) ? entry : [entry];
    const offers: string[] = [];
    for (const params of configurations) {
      let offer = name;
      for (const key of Object.keys(params)) {
        const entryValues = params[key];
        const values: FormatValue[] = Array.isArray(entryValues) ? entryValues : [entryValues];
        const written: string[] = [];
        for (const value of values) written.push(value === true ? key : `${key}=${value}`);
        offer += '; ' + written.join('; ');
      }
      offers.push(offer);
    }
    parts.push(offers.join(', '));
  }
  return parts.join(', ');
}
