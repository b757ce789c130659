/**
 * WebSocket-Node's `w3cwebsocket` (W3CWebSocket): the browser-style client, constructed as
 * WebSocket-Node constructs it — `new W3CWebSocket(url, protocols, origin, headers, requestOptions,
 * clientConfig)` — and otherwise weft's own WebSocket with its W3C face (onopen/onmessage/onclose/
 * onerror, addEventListener, readyState, protocol, bufferedAmount) over weft's client handshake.
 */
import { WebSocket, type SendOptions, type SendStatusValue } from '../websocket';
import type { WriteCallback } from '../protocol/writer';
import type { BufferLike } from '../types/events';
import { ReadyState } from '../protocol/constants';
import { clientOptions, normalizeProtocols } from './client';
import { checkKeepalive, clientDefaults, withDefaults, type ClientConfig } from './options';

/**
 * A browser-style WebSocket client. Binary messages arrive as ArrayBuffer by default (`binaryType`
 * 'arraybuffer'; 'blob' is accepted too). Never throws an unheard 'error': failures are reported
 * through onerror/onclose.
 */
export class W3CWebSocket extends WebSocket {
  /**
   * Connects to `url`. `clientConfig` takes WebSocket-Node's client settings (`assembleFragments` is
   * forced on, as the W3C API needs whole messages).
   */
  constructor(
    url: string,
    protocols?: string | string[] | null,
    origin?: string | null,
    headers?: Record<string, unknown> | null,
    requestOptions?: Record<string, unknown> | null,
    clientConfig?: ClientConfig | null,
  ) {
    super(url, normalizeProtocols(protocols), w3cOptions(url, origin, headers, requestOptions, clientConfig));
    this._binaryType = 'arraybuffer';
    // A W3C socket reports failures as events; an EventEmitter 'error' nobody hears would throw.
    this.on('error', noop);
  }

  /** 'arraybuffer' (default) or 'blob'; anything else throws a SyntaxError. */
  override get binaryType(): 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob' {
    return super.binaryType;
  }

  override set binaryType(type: 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob') {
    if (type !== 'arraybuffer' && type !== 'blob') {
      throw new SyntaxError('just "arraybuffer" type allowed for "binaryType" attribute');
    }
    super.binaryType = type;
  }

  /**
   * Sends text (a string or String object) or binary data (Buffer, ArrayBuffer, a view, Blob).
   * Throws unless the connection is open, as WebSocket-Node's W3C client does.
   */
  override send(data: unknown, options?: SendOptions | WriteCallback, cb?: WriteCallback): SendStatusValue | void {
    if (this.readyState !== ReadyState.OPEN) throw new Error('cannot call send() while not connected');
    return super.send((data instanceof String ? String(data) : data) as BufferLike, options as SendOptions, cb);
  }

  /**
   * Closes the connection; without a code, with 1000 (WebSocket-Node's W3C client sends 1000 and its
   * description, where weft's WebSocket would send an empty close frame).
   */
  override close(code?: number, reason?: string | Buffer): void {
    if (code === undefined && this.readyState === ReadyState.OPEN) super.close(1000, 'Normal connection closure');
    else super.close(code, reason);
  }
}

function noop(): void {}

/** weft client options for a W3C socket: the WebSocket-Node client's, with pings answered by weft. */
function w3cOptions(
  url: string,
  origin: string | null | undefined,
  headers: Record<string, unknown> | null | undefined,
  requestOptions: Record<string, unknown> | null | undefined,
  clientConfig: ClientConfig | null | undefined,
): Record<string, unknown> {
  const defaults = clientDefaults();
  const config = {
    ...withDefaults(defaults, clientConfig),
    tlsOptions: { ...defaults.tlsOptions, ...(clientConfig && clientConfig.tlsOptions) },
    assembleFragments: true,
  };
  if (config.webSocketVersion !== 8 && config.webSocketVersion !== 13) {
    throw new Error('Requested webSocketVersion is not supported. Allowed values are 8 and 13.');
  }
  checkKeepalive(config);
  const secure = /^wss:/i.test(url);
  const options = clientOptions(config, secure, origin, headers, requestOptions);
  // No connection face sits on top to answer pings: weft does.
  options.autoPong = true;
  return options;
}
