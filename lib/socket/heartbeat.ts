/**
 * Opt-in heartbeat (what ws users hand-roll with setInterval + ping + isAlive): after `interval` ms
 * without any received data a connection is pinged; if nothing at all arrives within `timeout` ms more,
 * it is terminated (the local close code is then 1006). Any received byte counts as life.
 *
 * One shared wheel per (interval, timeout) pair ticks a few times per interval and sweeps its members:
 * 10,000 idle sockets cost one timer, not 10,000. The timer is unref'd and stops when the wheel is empty,
 * so it never keeps a process — or a closed socket — alive.
 */

/** `heartbeat: { interval, timeout }` on a server or client. */
export interface HeartbeatOptions {
  /** Ping after this much silence (ms). */
  interval: number;
  /** Terminate when nothing arrives this long after the ping (ms). */
  timeout: number;
}

/** What the wheel needs from a connection. */
export interface HeartbeatMember {
  /** @internal The open connection's driver: it sets `heard` on every received chunk; the wheel clears it. */
  _driver: { heard: boolean } | null;
  /**
   * @internal Sweeps of silence: n ≥ 0 with no ping outstanding; -1 - n when n sweeps have passed since
   * the ping (one number, not two, for every connection that may join a wheel).
   */
  _heartbeatTicks: number;
  ping(): void;
  terminate(): void;
}

/** Sweeps per interval: the heartbeat fires within a quarter interval of the deadline. */
const TICKS_PER_INTERVAL = 4;

/** One timer for every connection with the same heartbeat settings. */
export class HeartbeatWheel {
  readonly interval: number;
  readonly timeout: number;
  readonly tickMs: number;
  /** @internal */
  private readonly idleTicks: number;
  /** @internal */
  private readonly timeoutTicks: number;
  readonly members: Set<HeartbeatMember>;
  /** @internal */
  private timer: NodeJS.Timeout | null;
  /** @internal Run the sweep on a real timer (false in tests that call tick() themselves). */
  private readonly automatic: boolean;

  constructor(options: HeartbeatOptions, automatic = true) {
    this.interval = options.interval;
    this.timeout = options.timeout;
    this.tickMs = Math.max(1, Math.floor(Math.min(options.interval, options.timeout) / TICKS_PER_INTERVAL));
    this.idleTicks = Math.max(1, Math.round(options.interval / this.tickMs));
    this.timeoutTicks = Math.max(1, Math.round(options.timeout / this.tickMs));
    this.members = new Set();
    this.timer = null;
    this.automatic = automatic;
  }

  /** Starts watching a connection (call when it opens). */
  add(member: HeartbeatMember): void {
    if (member._driver !== null) member._driver.heard = false;
    member._heartbeatTicks = 0;
    this.members.add(member);
    if (this.timer === null && this.automatic) {
      this.timer = setInterval(sweep, this.tickMs, this);
      this.timer.unref();
    }
  }

  /** Stops watching a connection (call when it closes). */
  delete(member: HeartbeatMember): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** One sweep: ping the silent, terminate those silent since their ping for `timeout`. */
  tick(): void {
    for (const m of this.members) {
      const driver = m._driver;
      if (driver !== null && driver.heard) {
        // Life: anything arrived since the last sweep (a pong, or any other frame).
        driver.heard = false;
        m._heartbeatTicks = 0;
        continue;
      }
      const ticks = m._heartbeatTicks;
      if (ticks < 0) {
        // Pinged: -1 - ticks sweeps have passed since.
        m._heartbeatTicks = ticks - 1;
        if (-ticks >= this.timeoutTicks) {
          this.delete(m);
          m.terminate();
        }
        continue;
      }
      if (ticks + 1 >= this.idleTicks) {
        m._heartbeatTicks = -1;
        m.ping();
      } else {
        m._heartbeatTicks = ticks + 1;
      }
    }
  }
}

function sweep(wheel: HeartbeatWheel): void {
  wheel.tick();
}

const wheels = new Map<string, HeartbeatWheel>();

/** The shared wheel for these settings (validated: positive finite numbers). */
export function wheelFor(options: HeartbeatOptions): HeartbeatWheel {
  const { interval, timeout } = options;
  if (!(interval > 0) || !(timeout > 0) || !Number.isFinite(interval) || !Number.isFinite(timeout)) {
    throw new RangeError('heartbeat.interval and heartbeat.timeout must be positive numbers of milliseconds');
  }
  const key = `${interval}/${timeout}`;
  let wheel = wheels.get(key);
  if (wheel === undefined) {
    wheel = new HeartbeatWheel(options);
    wheels.set(key, wheel);
  }
  return wheel;
}
