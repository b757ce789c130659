/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1): building the client's offer, validating the
 * parameters of offers and responses, and choosing what to accept. Pure functions over the parsed
 * `Sec-WebSocket-Extensions` values; they reproduce ws 8.23's choices and its error messages (the
 * tests check them against ws's own PerMessageDeflate on the same inputs).
 */
import type { ZlibOptions } from 'zlib';
import type { ExtensionParams } from '../protocol/extension';

/** Options of a PerMessageDeflate instance, as ws 8.23 names them. */
export interface PerMessageDeflateOptions {
  /** Window size (8–15) to ask of the client, `true` to say we support the parameter, `false` not to offer it. */
  clientMaxWindowBits?: boolean | number;
  /** Ask the client (or, as a client, promise) to reset its compression context after each message. */
  clientNoContextTakeover?: boolean;
  /** Most zlib jobs in flight in the whole process (the first instance decides; default 10). */
  concurrencyLimit?: number;
  /** Server role (set by the server, not the user). */
  isServer?: boolean;
  /** Largest inflated message in bytes (0: no limit); set from the socket's `maxPayload`. */
  maxPayload?: number;
  /** Window size (8–15) for the server's compressor, or `false` to refuse the parameter. */
  serverMaxWindowBits?: boolean | number;
  /** Reset the server's compression context after each message (or refuse to when `false`). */
  serverNoContextTakeover?: boolean;
  /** With no context takeover on our side, messages smaller than this (bytes) go uncompressed (default 1024). */
  threshold?: number;
  /** Options for zlib's DeflateRaw (windowBits is set from the negotiation). */
  zlibDeflateOptions?: ZlibOptions;
  /** Options for zlib's InflateRaw (windowBits is set from the negotiation). */
  zlibInflateOptions?: ZlibOptions;
}

/**
 * Negotiated parameters (RFC 7692 §7.1): each present parameter maps to `true` (no value) or its
 * window size. The object is the accepted offer (server) or the server's response (client), as in ws.
 */
export interface DeflateParams {
  server_no_context_takeover?: true;
  client_no_context_takeover?: true;
  server_max_window_bits?: number | true;
  client_max_window_bits?: number | true;
  [param: string]: number | true | undefined;
}

/** The parameters of one offer as the client writes them (values may be `true`, a number, or as given). */
export type OfferParams = Record<string, unknown>;

const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';

function invalidValue(key: string, value: unknown): TypeError {
  return new TypeError(`Invalid value for parameter "${key}": ${value}`);
}

/** A window size parameter value: an integer 8–15 written in any form `+value` understands (as ws). */
function windowBits(key: string, value: string | true): number {
  const num = +value;
  // RFC 7692 §7.1.2.1/§7.1.2.2: the value is a decimal integer in 8..15 (ws reads it with unary +).
  if (!Number.isInteger(num) || num < 8 || num > 15) throw invalidValue(key, value);
  return num;
}

/**
 * Validates every configuration (offer or response) and turns each parameter's value list into its
 * single value, in place: window sizes become numbers. Throws ws's errors: `Parameter "x" must have
 * only a single value`, `Invalid value for parameter "x": v` (TypeError), `Unknown parameter "x"`.
 * Every configuration is checked, also those that will not be chosen.
 */
export function normalizeParams(configurations: ExtensionParams[], isServer: boolean): DeflateParams[] {
  for (const params of configurations) {
    const out = params as unknown as DeflateParams;
    for (const key of Object.keys(params)) {
      const values = params[key];
      // RFC 7692 §7: a negotiation offer or response with the same parameter twice is to be declined.
      if (values.length > 1) throw new Error(`Parameter "${key}" must have only a single value`);
      const value = values[0];
      if (key === CLIENT_MAX_WINDOW_BITS) {
        // §7.1.2.2: the client may offer it without a value; a server response must carry one.
        if (value !== true) out[key] = windowBits(key, value);
        else if (!isServer) throw invalidValue(key, value);
        else out[key] = true;
      } else if (key === SERVER_MAX_WINDOW_BITS) {
        // §7.1.2.1: always with a value.
        out[key] = windowBits(key, value);
      } else if (key === CLIENT_NO_CONTEXT_TAKEOVER || key === SERVER_NO_CONTEXT_TAKEOVER) {
        // §7.1.1: these take no value.
        if (value !== true) throw invalidValue(key, value);
        out[key] = true;
      } else {
        // §7.1: an unknown parameter makes the offer (or response) invalid.
        throw new Error(`Unknown parameter "${key}"`);
      }
    }
  }
  return configurations as unknown as DeflateParams[];
}

/** Whether the server, configured by `opts`, can accept this (normalized) offer. */
function acceptable(opts: PerMessageDeflateOptions, offer: DeflateParams): boolean {
  // §7.1.1.1: the client asks for server_no_context_takeover; we decline when told never to reset.
  if (opts.serverNoContextTakeover === false && offer.server_no_context_takeover) return false;
  // §7.1.2.1: the client limits our window; decline when we refuse the parameter or need a larger window.
  const serverBits = offer.server_max_window_bits;
  if (serverBits) {
    if (opts.serverMaxWindowBits === false) return false;
    if (typeof opts.serverMaxWindowBits === 'number' && opts.serverMaxWindowBits > (serverBits as number)) return false;
  }
  // §7.1.2.2: we want to limit the client's window, which needs its client_max_window_bits; when the
  // offer gives a value, the client uses no larger window, so ours may not exceed it.
  if (typeof opts.clientMaxWindowBits === 'number') {
    const clientBits = offer.client_max_window_bits;
    if (!clientBits) return false;
    if (clientBits !== true && opts.clientMaxWindowBits > clientBits) return false;
  }
  return true;
}

/**
 * Server side (RFC 7692 §5.1): picks the first acceptable offer and completes it with our own
 * parameters; the returned object (the offer, updated) is what goes into the response. Throws
 * `Error('None of the extension offers can be accepted')` when none can.
 */
export function acceptAsServer(opts: PerMessageDeflateOptions, offers: DeflateParams[]): DeflateParams {
  let accepted: DeflateParams | undefined;
  for (const offer of offers) {
    if (acceptable(opts, offer)) {
      accepted = offer;
      break;
    }
  }
  if (accepted === undefined) throw new Error('None of the extension offers can be accepted');

  // §7.1.1.1/§7.1.1.2: the server may add either no_context_takeover parameter on its own.
  if (opts.serverNoContextTakeover) accepted.server_no_context_takeover = true;
  if (opts.clientNoContextTakeover) accepted.client_no_context_takeover = true;
  // §7.1.2.1: the server may limit its own window even when the client did not ask.
  if (typeof opts.serverMaxWindowBits === 'number') accepted.server_max_window_bits = opts.serverMaxWindowBits;
  // §7.1.2.2: client_max_window_bits in the response needs a value; a bare offer is simply not echoed.
  if (typeof opts.clientMaxWindowBits === 'number') {
    accepted.client_max_window_bits = opts.clientMaxWindowBits;
  } else if (accepted.client_max_window_bits === true || opts.clientMaxWindowBits === false) {
    delete accepted.client_max_window_bits;
  }
  return accepted;
}

/**
 * Client side (RFC 7692 §5.2): checks the server's response (its first element, as ws) against what
 * we offered. Throws `Unexpected parameter "client_no_context_takeover"` or `Unexpected or invalid
 * parameter "client_max_window_bits"` as ws does.
 */
export function acceptAsClient(opts: PerMessageDeflateOptions, response: DeflateParams[]): DeflateParams {
  const params = response[0];
  // §7.1.1.2: the server may demand client_no_context_takeover unless we said we cannot honour it.
  if (opts.clientNoContextTakeover === false && params.client_no_context_takeover) {
    throw new Error('Unexpected parameter "client_no_context_takeover"');
  }
  const bits = params.client_max_window_bits;
  if (!bits) {
    // We asked for a window size limit of our own: apply it even though the server did not echo it.
    if (typeof opts.clientMaxWindowBits === 'number') params.client_max_window_bits = opts.clientMaxWindowBits;
  } else if (
    // §7.1.2.2: the server may only use client_max_window_bits if we offered it, and within our limit.
    opts.clientMaxWindowBits === false ||
    (typeof opts.clientMaxWindowBits === 'number' && (bits as number) > opts.clientMaxWindowBits)
  ) {
    throw new Error('Unexpected or invalid parameter "client_max_window_bits"');
  }
  return params;
}

/**
 * The offer a client sends (RFC 7692 §5.1), in ws's parameter order: both no_context_takeover flags,
 * then the window sizes; `client_max_window_bits` is offered bare by default (§7.1.2.2: it says we
 * support the parameter).
 */
export function buildOffer(opts: PerMessageDeflateOptions): OfferParams {
  const params: OfferParams = {};
  if (opts.serverNoContextTakeover) params[SERVER_NO_CONTEXT_TAKEOVER] = true;
  if (opts.clientNoContextTakeover) params[CLIENT_NO_CONTEXT_TAKEOVER] = true;
  if (opts.serverMaxWindowBits) params[SERVER_MAX_WINDOW_BITS] = opts.serverMaxWindowBits;
  if (opts.clientMaxWindowBits) params[CLIENT_MAX_WINDOW_BITS] = opts.clientMaxWindowBits;
  else if (opts.clientMaxWindowBits == null) params[CLIENT_MAX_WINDOW_BITS] = true;
  return params;
}
