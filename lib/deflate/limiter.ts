/**
 * The process-wide limiter on zlib work. zlib jobs run on libuv's thread pool; letting hundreds of
 * connections inflate at once fragments memory badly (ws #1202), so every permessage-deflate instance
 * in the process shares one queue with a fixed number of jobs in flight. As in ws, the concurrency
 * comes from the first instance ever constructed (`concurrencyLimit`, default 10).
 *
 * Jobs are objects with a `runJob()` method (one per zlib direction, re-queued for each request), not
 * closures: queueing a job allocates nothing.
 */

/** A unit of zlib work. `runJob` starts it; the job calls `limiter.done()` exactly once when it ends. */
export interface LimiterJob {
  runJob(): void;
}

/** A FIFO of jobs with at most `concurrency` of them running at once. */
export class Limiter {
  /** Most jobs allowed to run at once (`Infinity` when constructed with 0 or nothing, as ws does). */
  readonly concurrency: number;
  /** Jobs running now. */
  pending: number;
  /** Highest value `pending` has reached (tests read it to check the limit held). */
  peak: number;
  private queue: LimiterJob[];
  /** Index of the next job in `queue`: a moving head instead of `shift()`, which is O(n) on big queues. */
  private head: number;
  /** Re-entrancy guard: `done()` called from inside `runJob()` must not start a nested loop. */
  private running: boolean;

  constructor(concurrency?: number) {
    this.concurrency = concurrency || Infinity;
    this.pending = 0;
    this.peak = 0;
    this.queue = [];
    this.head = 0;
    this.running = false;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Queues a job; it starts at once when a slot is free. */
  add(job: LimiterJob): void {
    this.queue.push(job);
    this.run();
  }

  /** A job has finished: frees its slot and starts the next waiting job. */
  done(): void {
    this.pending--;
    this.run();
  }

  private run(): void {
    if (this.running) return;
    this.running = true;
    while (this.pending < this.concurrency && this.head < this.queue.length) {
      const job = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as LimiterJob; // drop the reference for the GC
      if (this.head === this.queue.length) {
        // Drained: reset in place so the array does not grow without bound.
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        // Mostly consumed: compact once in a while (amortised O(1) per job).
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.pending++;
      if (this.pending > this.peak) this.peak = this.pending;
      job.runJob();
    }
    this.running = false;
  }
}

let shared: Limiter | null = null;

/**
 * The process-wide limiter, created on first call with `concurrency` (later values are ignored, as in
 * ws where the first PerMessageDeflate decides).
 */
export function getLimiter(concurrency?: number): Limiter {
  if (shared === null) shared = new Limiter(concurrency === undefined ? 10 : concurrency);
  return shared;
}
