/**
 * Cookies for WebSocket-Node's request: reading the `Cookie` header into `request.cookies`, and
 * checking and formatting the cookies `request.accept(protocol, origin, cookies)` sets (RFC 6265
 * §4.1.1 grammar, WebSocket-Node's error messages).
 */

/** A cookie the client sent. */
export interface Cookie {
  name: string;
  /** Decoded; null for a pair without `=`. */
  value: string | null;
}

/** A cookie to set in the 101 response. */
export interface SetCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  /** Must be a Date. */
  expires?: Date;
  /** Seconds (a positive number or numeric string). */
  maxage?: number | string;
  secure?: boolean;
  httponly?: boolean;
}

/** Control characters, space and `;`: stripped from names and values before they are checked. */
const CONTROL_SPACE_SEMICOLON = /[\x00-\x20\x3b]/g;
/** Not a token character (RFC 2616 §2.2): CTLs, space and the separators. */
const NOT_TOKEN = /[\x00-\x20\x22\x28\x29\x2c\x2f\x3a-\x3f\x40\x5b-\x5d\x7b\x7d\x7f]/;
/** Not a cookie-octet (RFC 6265 §4.1.1): %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
const NOT_COOKIE_OCTET = /[^\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]/;
/** A path or domain may hold any CHAR but CTLs and `;`. */
const NOT_PATH_CHAR = /[\x00-\x1f\x3b\x7f]/;

/** Reads a `Cookie` header: `a=1; b="two"` → `[{name:'a',value:'1'},{name:'b',value:'two'}]`. */
export function parseCookies(header: string | string[] | undefined): Cookie[] {
  if (typeof header !== 'string' || header === '') return [];
  const cookies: Cookie[] = [];
  for (const pair of header.split(/[;,] */)) {
    const eq = pair.indexOf('=');
    if (eq === -1) {
      cookies.push({ name: pair, value: null });
      continue;
    }
    let value = pair.slice(eq + 1).trim();
    if (value[0] === '"') value = value.slice(1, -1);
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // Not percent-encoded after all: keep it as sent.
    }
    cookies.push({ name: pair.slice(0, eq).trim(), value: decoded });
  }
  return cookies;
}

/**
 * One `Set-Cookie` value (without the header name) for `cookie`; `seen` holds the names already set
 * in this response. Throws an Error naming the problem (the caller rejects with 500).
 */
export function cookieLine(cookie: SetCookie, seen: Set<string>): string {
  if (!cookie || !cookie.name || !cookie.value) {
    throw new Error('Each cookie to set must at least provide a "name" and "value"');
  }
  const name = String(cookie.name).replace(CONTROL_SPACE_SEMICOLON, '');
  const value = String(cookie.value).replace(CONTROL_SPACE_SEMICOLON, '');
  if (seen.has(name)) throw new Error('You may not specify the same cookie name twice.');
  seen.add(name);

  let bad = NOT_TOKEN.exec(name);
  if (bad) throw new Error(`Illegal character ${bad[0]} in cookie name`);
  // A value may be wrapped in double quotes; what is inside must be cookie-octets either way.
  const quoted = value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"';
  bad = NOT_COOKIE_OCTET.exec(quoted ? value.slice(1, -1) : value);
  if (bad) throw new Error(`Illegal character ${bad[0]} in cookie value`);

  const parts = [`${name}=${value}`];
  if (cookie.path) {
    bad = NOT_PATH_CHAR.exec(cookie.path);
    if (bad) throw new Error(`Illegal character ${bad[0]} in cookie path`);
    parts.push(`Path=${cookie.path}`);
  }
  if (cookie.domain) {
    if (typeof cookie.domain !== 'string') throw new Error('Domain must be specified and must be a string.');
    bad = NOT_PATH_CHAR.exec(cookie.domain);
    if (bad) throw new Error(`Illegal character ${bad[0]} in cookie domain`);
    parts.push(`Domain=${cookie.domain.toLowerCase()}`);
  }
  if (cookie.expires) {
    if (!(cookie.expires instanceof Date)) throw new Error('Value supplied for cookie "expires" must be a vaild date object');
    parts.push(`Expires=${cookie.expires.toUTCString()}`);
  }
  if (cookie.maxage) {
    const seconds = typeof cookie.maxage === 'string' ? parseInt(cookie.maxage, 10) : cookie.maxage;
    if (Number.isNaN(seconds) || seconds <= 0) throw new Error('Value supplied for cookie "maxage" must be a non-zero number');
    parts.push(`Max-Age=${Math.round(seconds)}`);
  }
  if (cookie.secure) {
    if (typeof cookie.secure !== 'boolean') throw new Error('Value supplied for cookie "secure" must be of type boolean');
    parts.push('Secure');
  }
  if (cookie.httponly) {
    if (typeof cookie.httponly !== 'boolean') throw new Error('Value supplied for cookie "httponly" must be of type boolean');
    parts.push('HttpOnly');
  }
  return parts.join(';');
}
