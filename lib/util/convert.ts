/**
 * Conversions between the data types ws accepts and delivers: Buffer, ArrayBuffer, views, Blob.
 */

/** Whether `value` is a Blob (or a File), where the platform has them. */
export function isBlob(value: unknown): value is Blob {
  return (
    typeof Blob === 'function' &&
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Blob).arrayBuffer === 'function' &&
    typeof (value as Blob).type === 'string' &&
    typeof (value as Blob).stream === 'function' &&
    ((value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Blob' ||
      (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'File')
  );
}

/**
 * Turns what `send()` accepts into a Buffer without copying where a view will do: Buffers as they are,
 * ArrayBuffers and views wrapped, anything else (arrays, array-likes) through `Buffer.from`, as ws does.
 */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof SharedArrayBuffer === 'function' && data instanceof SharedArrayBuffer) return Buffer.from(data);
  return Buffer.from(data as Uint8Array);
}

/** An ArrayBuffer holding exactly `buf`'s bytes (the backing store itself when `buf` spans all of it). */
export function toArrayBuffer(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** Joins message fragments into one Buffer. */
export function concat(list: Buffer[], total?: number): Buffer {
  if (list.length === 1) return list[0];
  return Buffer.concat(list, total);
}

/**
 * A binary message as the binaryType asks for it (ws's rules): 'nodebuffer' one Buffer, 'arraybuffer'
 * an ArrayBuffer, 'fragments' the frames' Buffers, 'blob' a Blob. `data` is one Buffer, or the list of
 * frame payloads when the parser kept them apart ('fragments' and 'blob').
 */
export function binaryMessage(data: Buffer | Buffer[], binaryType: string): unknown {
  if (binaryType === 'nodebuffer') return Array.isArray(data) ? concat(data) : data;
  if (binaryType === 'arraybuffer') return toArrayBuffer(Array.isArray(data) ? concat(data) : data);
  if (binaryType === 'blob') return new Blob(Array.isArray(data) ? data : [data]);
  return data;
}
