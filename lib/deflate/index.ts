/**
 * permessage-deflate (RFC 7692) for weft: the ws-compatible `PerMessageDeflate` class (which is also the
 * core's `Codec`), the handshake helpers for the server and the client, and the process-wide limiter.
 */
export { PerMessageDeflate } from './permessage-deflate';
export type { DeflateParams, OfferParams, PerMessageDeflateOptions } from './permessage-deflate';
export {
  SERVER_EXTENSION_ERROR,
  acceptClientResponse,
  clientOffer,
  negotiateServer,
  type DeflateHandshakeOptions,
  type DeflateNegotiation,
  type HandshakeRejection,
} from './handshake-steps';
export { Limiter, getLimiter, type LimiterJob } from './limiter';
