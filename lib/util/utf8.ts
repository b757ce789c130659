/**
 * Streaming, fail-fast UTF-8 validation for text that arrives in pieces (fragmented messages, chunked
 * payloads): each piece is validated as it comes, so invalid text is rejected (close 1007) at the
 * first piece that proves it, without buffering the message first.
 */
import { isValidUTF8 } from './buffer';

/**
 * Expected range of byte `pos` (1..3) of a character whose first byte is `lead`: the second byte
 * is narrowed after E0 (no overlongs), ED (no surrogates), F0 (no overlongs) and F4 (<= U+10FFFF).
 */
function continuationOk(lead: number, pos: number, byte: number): boolean {
  if (pos === 1) {
    if (lead === 0xe0) return byte >= 0xa0 && byte <= 0xbf;
    if (lead === 0xed) return byte >= 0x80 && byte <= 0x9f;
    if (lead === 0xf0) return byte >= 0x90 && byte <= 0xbf;
    if (lead === 0xf4) return byte >= 0x80 && byte <= 0x8f;
  }
  return (byte & 0xc0) === 0x80;
}

/** Length of the character a byte starts: 1 for ASCII, 2..4 for a valid lead, 0 if it cannot start one. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte < 0xc2) return 0; // continuation byte, or C0/C1 (always overlong)
  if (byte < 0xe0) return 2;
  if (byte < 0xf0) return 3;
  if (byte < 0xf5) return 4;
  return 0; // F5..FF
}

/**
 * Validates one text message pushed in pieces. The only state carried between pieces is an
 * unfinished character at the end of a piece: its first byte and how many of its (at most 4) bytes
 * have been seen. Everything before it is validated by the fast whole-buffer `isValidUTF8`.
 *
 * `push` returns false at the first piece after which the bytes seen cannot be the start of valid
 * UTF-8 (and keeps returning false until `end` or `reset`); `end` says whether the message also ended
 * on a character boundary.
 */
export class Utf8Validator {
  /** First byte of the character left unfinished by the previous piece (meaningful when `need` > 0). */
  private lead: number;
  /** Bytes of that character seen so far (1..3). */
  private have: number;
  /** Its full length (2..4), or 0 when the previous piece ended on a character boundary. */
  private need: number;
  /** The message is already known to be invalid. */
  private failed: boolean;

  constructor() {
    this.lead = 0;
    this.have = 0;
    this.need = 0;
    this.failed = false;
  }

  /** Validates the next piece; returns false as soon as the bytes seen prove the text invalid. */
  push(chunk: Buffer): boolean {
    if (this.failed) return false;
    const len = chunk.length;
    let start = 0;

    // 1. Finish the character carried over from the previous piece, checking each byte as it comes.
    if (this.need !== 0) {
      while (this.have < this.need && start < len) {
        if (!continuationOk(this.lead, this.have, chunk[start])) return this.fail();
        this.have++;
        start++;
      }
      if (this.have < this.need) return true;
      this.need = 0;
    }

    // 2. Set aside an unfinished character at the end: its lead is among the last 4 bytes, followed
    //    only by continuation bytes, and it needs more bytes than remain.
    let end = len;
    const stop = Math.max(start, len - 4);
    let k = len - 1;
    while (k >= stop && (chunk[k] & 0xc0) === 0x80) k--;
    if (k >= stop) {
      const lead = chunk[k];
      const need = sequenceLength(lead);
      const have = len - k;
      if (need > have) {
        // Fail fast: the bytes after the lead must already fit (e.g. E0 then >= A0).
        for (let p = 1; p < have; p++) {
          if (!continuationOk(lead, p, chunk[k + p])) return this.fail();
        }
        end = k;
        this.lead = lead;
        this.have = have;
        this.need = need;
      }
      // Otherwise (complete character, impossible lead, stray continuations) the bytes stay in the
      // middle, where the whole-buffer validator judges them.
    }

    // 3. Everything in between starts and ends on character boundaries if it is valid at all.
    if (end > start) {
      // A view is created only when something was trimmed; the common whole-piece case allocates nothing.
      const middle = start === 0 && end === len ? chunk : chunk.subarray(start, end);
      if (!isValidUTF8(middle)) return this.fail();
    }
    return true;
  }

  /** True when everything pushed ends on a character boundary; resets the state for the next message. */
  end(): boolean {
    const ok = !this.failed && this.need === 0;
    this.reset();
    return ok;
  }

  /** Forget any carried state. */
  reset(): void {
    this.lead = 0;
    this.have = 0;
    this.need = 0;
    this.failed = false;
  }

  /** Marks the message invalid and returns false (for `return this.fail()`). */
  private fail(): boolean {
    this.failed = true;
    this.need = 0;
    return false;
  }
}
