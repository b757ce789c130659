/**
 * The permessage-deflate steps of the opening handshake, for server.ts and client.ts to call. They
 * follow ws 8.23 step by step: which option values turn the extension on (server default off, client
 * default on), when the header is parsed, and the exact error messages of a rejected negotiation.
 */
import { format, parse } from '../protocol/extension';
import { DEFAULT_MAX_PAYLOAD } from '../protocol/constants';
import { PerMessageDeflate } from './permessage-deflate';
import type { PerMessageDeflateOptions } from './negotiation';

/** The socket options these helpers read: ws's `perMessageDeflate` and `maxPayload`. */
export interface DeflateHandshakeOptions {
  /** `true` for defaults, an options object, or falsy to turn the extension off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Largest message in bytes (0: none); also bounds inflated messages. Default 100 MiB. */
  maxPayload?: number;
}

/** The result of a successful negotiation. */
export interface DeflateNegotiation {
  /** The instance to keep in `ws._extensions['permessage-deflate']`; its `codec()` goes to the core. */
  extension: PerMessageDeflate;
  /** The `Sec-WebSocket-Extensions` header value to send (the server's response, or the client's offer). */
  header: string;
}

/** An Error that rejects the opening handshake; `statusCode` is the HTTP status a server answers with. */
export interface HandshakeRejection extends Error {
  statusCode: number;
}

/** ws's server message for every extension negotiation failure (HTTP 400). */
export const SERVER_EXTENSION_ERROR = 'Invalid or unacceptable Sec-WebSocket-Extensions header';

/**
 * ws merges its defaults under the user's options with a spread: an option present but `undefined`
 * overrides the default. Own enumerable keys only, like the spread.
 */
function option<T>(options: object, key: string, fallback: T): T {
  return Object.prototype.propertyIsEnumerable.call(options, key)
    ? ((options as Record<string, unknown>)[key] as T)
    : fallback;
}

/** The extension options as ws builds them: the user's object (or nothing for `true`), then role and limit. */
function extensionOptions(value: unknown, isServer: boolean, maxPayload: number | undefined): PerMessageDeflateOptions {
  return { ...(value as PerMessageDeflateOptions), isServer, maxPayload };
}

/**
 * Server side (RFC 7692 §5.1, as ws's `handleUpgrade`). `offersHeader` is the request's
 * `Sec-WebSocket-Extensions` value; `options` the server's options (merged or as the user gave them:
 * `perMessageDeflate` defaults to false, `maxPayload` to 100 MiB).
 *
 * Returns null when the extension is off, the header absent, or no permessage-deflate offer is in it
 * (other extensions are ignored). Returns `{ extension, header }` on success: send
 * `Sec-WebSocket-Extensions: ${header}` in the 101 response. Throws a HandshakeRejection (status 400,
 * message 'Invalid or unacceptable Sec-WebSocket-Extensions header', the reason in `cause`) when the
 * header does not parse or no offer is acceptable — ws answers 400 in both cases.
 */
export function negotiateServer(
  offersHeader: string | undefined,
  options: DeflateHandshakeOptions,
): DeflateNegotiation | null {
  const value = option<unknown>(options, 'perMessageDeflate', false);
  if (!value || offersHeader === undefined) return null;
  const extension = new PerMessageDeflate(
    extensionOptions(value, true, option<number | undefined>(options, 'maxPayload', DEFAULT_MAX_PAYLOAD)),
  );
  let params;
  try {
    const offers = parse(offersHeader);
    const mine = offers[PerMessageDeflate.extensionName];
    if (mine === undefined) return null;
    params = extension.accept(mine);
  } catch (cause) {
    throw rejection(SERVER_EXTENSION_ERROR, 400, cause);
  }
  // §5.1: the response carries the one accepted configuration.
  return { extension, header: format({ [PerMessageDeflate.extensionName]: [params] }) };
}

/**
 * Client side, before the request (RFC 7692 §5.1, as ws's `initAsClient`). `options` are the
 * WebSocket's options as the user gave them (or merged): `perMessageDeflate` defaults to true,
 * `maxPayload` to 100 MiB. Returns null when the extension is off, else the instance to keep until the
 * response and the `Sec-WebSocket-Extensions` header value to send.
 */
export function clientOffer(options: DeflateHandshakeOptions): DeflateNegotiation | null {
  const value = option<unknown>(options, 'perMessageDeflate', true);
  if (!value) return null;
  const extension = new PerMessageDeflate(
    extensionOptions(value, false, option<number | undefined>(options, 'maxPayload', DEFAULT_MAX_PAYLOAD)),
  );
  return { extension, header: format({ [PerMessageDeflate.extensionName]: extension.offer() }) };
}

/**
 * Client side, on the 101 response (RFC 7692 §5.2, as ws). `responseHeader` is the response's
 * `Sec-WebSocket-Extensions` value, `offered` the instance from `clientOffer` (null if none was
 * offered). Returns the negotiated instance, or null when the server declined (no header). Throws an
 * Error with ws's message, for the client to abort the handshake with:
 * - 'Server sent a Sec-WebSocket-Extensions header but no extension was requested'
 * - 'Invalid Sec-WebSocket-Extensions header' (unparsable header, or parameters we cannot accept)
 * - 'Server indicated an extension that was not requested'
 */
export function acceptClientResponse(
  responseHeader: string | undefined,
  offered: PerMessageDeflate | null,
): PerMessageDeflate | null {
  if (responseHeader === undefined) return null;
  if (offered === null) {
    throw rejection('Server sent a Sec-WebSocket-Extensions header but no extension was requested', 0, undefined);
  }
  let extensions;
  try {
    extensions = parse(responseHeader);
  } catch (cause) {
    throw rejection('Invalid Sec-WebSocket-Extensions header', 0, cause);
  }
  const names = Object.keys(extensions);
  // §5.2 / RFC 6455 §9.1: the server may only answer with extensions the client offered.
  if (names.length !== 1 || names[0] !== PerMessageDeflate.extensionName) {
    throw rejection('Server indicated an extension that was not requested', 0, undefined);
  }
  try {
    offered.accept(extensions[PerMessageDeflate.extensionName]);
  } catch (cause) {
    throw rejection('Invalid Sec-WebSocket-Extensions header', 0, cause);
  }
  return offered;
}

function rejection(message: string, statusCode: number, cause: unknown): HandshakeRejection {
  const err = new Error(message) as HandshakeRejection;
  err.statusCode = statusCode;
  if (cause !== undefined) (err as Error & { cause: unknown }).cause = cause;
  return err;
}
