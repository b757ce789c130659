/**
 * How the CLI shows messages and turns input lines into messages: JSON pretty-printing, binary frames as
 * hex / base64 / utf8.
 */
import { UsageError } from './args';

/** The encodings `--binary` takes. */
export type BinaryEncoding = 'hex' | 'base64' | 'utf8';

/** Checks a `--binary` value. */
export function binaryEncoding(raw: unknown): BinaryEncoding | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'hex' || raw === 'base64' || raw === 'utf8') return raw;
  throw new UsageError('--binary must be hex, base64 or utf8');
}

/** Output settings shared by connect and listen. */
export interface FormatOptions {
  json: boolean;
  binary: BinaryEncoding | undefined;
}

/** A received message as text: binary in the --binary encoding (hex by default), JSON pretty if asked. */
export function formatMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean, opts: FormatOptions): string {
  const buf = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.from(data as ArrayBuffer);
  if (isBinary) return buf.toString(opts.binary ?? 'hex');
  const text = buf.toString('utf8');
  if (opts.json) {
    const trimmed = text.trimStart();
    // only objects and arrays: a bare number or string shows the same either way
    if (trimmed[0] === '{' || trimmed[0] === '[') {
      try {
        return JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not JSON after all: shown as is
      }
    }
  }
  return text;
}

/** A line of input as the message to send: text, or binary decoded from --binary's encoding. */
export function encodeInput(line: string, binary: BinaryEncoding | undefined): { data: string | Buffer; binary: boolean } {
  if (binary === undefined) return { data: line, binary: false };
  if (binary === 'hex') {
    const hex = line.replace(/\s+/g, '');
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`not hex: ${line}`);
    return { data: Buffer.from(hex, 'hex'), binary: true };
  }
  if (binary === 'base64') {
    const b64 = line.trim();
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new Error(`not base64: ${line}`);
    return { data: Buffer.from(b64, 'base64'), binary: true };
  }
  return { data: Buffer.from(line, 'utf8'), binary: true };
}
