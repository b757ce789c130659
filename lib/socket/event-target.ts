/**
 * The W3C face of a WebSocket: `Event`, `MessageEvent`, `CloseEvent`, `ErrorEvent`, the
 * `addEventListener`/`removeEventListener` pair and the `onopen`/`onmessage`/`onclose`/`onerror`
 * attributes, shaped as ws 8.23 has them.
 *
 * It is a mixin: `applyEventTarget(WebSocket.prototype)` installs it on any EventEmitter subclass,
 * and nothing here imports websocket.ts. Each W3C listener is registered on the emitter as a small
 * wrapper that builds the event object when the emitter fires, so an event object exists only when
 * someone listens for one: code that uses `.on('message')` alone never pays for a `MessageEvent`.
 *
 * The event classes are not part of the package's public entry (ws does not export them either).
 */
import type { EventEmitter } from 'events';

const kType = Symbol('weft-type');
const kTarget = Symbol('weft-target');
const kData = Symbol('weft-data');

/** What a MessageEvent carries: text as a string, binary as a Buffer, ArrayBuffer, Buffer[] or Blob. */
export type MessageData = string | Buffer | ArrayBuffer | Buffer[] | Blob;
const kCode = Symbol('weft-code');
const kReason = Symbol('weft-reason');
const kWasClean = Symbol('weft-was-clean');
const kError = Symbol('weft-error');
const kMessage = Symbol('weft-message');

/** On a wrapper: the listener (function or `{ handleEvent }` object) it calls. */
const kListener = Symbol('weft-listener');
/** On a wrapper: true when an `on*` attribute installed it (such wrappers are invisible to add/removeEventListener). */
const kForOnEventAttribute = Symbol('weft-for-on-event-attribute');

/** A plain event (`open`): a type and the object it was fired at. */
export class Event {
  /** @internal */ [kType]: string;
  /** @internal */ [kTarget]: unknown;

  /** Creates an event of the given type; `target` stays null until the event is fired. */
  constructor(type: string) {
    this[kType] = type;
    this[kTarget] = null;
  }

  /**
   * The object the event was fired at (the WebSocket), or null before it was fired. Typed `any`: this
   * mixin cannot name the WebSocket class (it sits below it), and users read `event.target.send(...)`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get target(): any {
    return this[kTarget];
  }

  /** The event's name: 'open', 'message', 'close' or 'error'. */
  get type(): string {
    return this[kType];
  }
}

/** What `new MessageEvent(type, init)` accepts. */
export interface MessageEventInit {
  /** The message: a string for text, the binaryType's value for binary (default null). */
  data?: unknown;
}

/** The event of a received message. */
export class MessageEvent extends Event {
  /** @internal */ [kData]: unknown;

  /** Creates a message event carrying `init.data` (null when absent). */
  constructor(type: string, init: MessageEventInit = {}) {
    super(type);
    this[kData] = init.data === undefined ? null : init.data;
  }

  /** Text as a string; binary as the WebSocket delivered it (Buffer, ArrayBuffer, Buffer[] or Blob). */
  get data(): MessageData {
    return this[kData] as MessageData;
  }
}

/** What `new CloseEvent(type, init)` accepts. */
export interface CloseEventInit {
  /** The close status (default 0). */
  code?: number;
  /** The close reason, decoded (default ''). */
  reason?: string;
  /** Whether the closing handshake completed (default false). */
  wasClean?: boolean;
}

/** The event of a closed connection. */
export class CloseEvent extends Event {
  /** @internal */ [kCode]: number;
  /** @internal */ [kReason]: string;
  /** @internal */ [kWasClean]: boolean;

  /** Creates a close event; absent fields take the W3C defaults (0, '', false). */
  constructor(type: string, init: CloseEventInit = {}) {
    super(type);
    this[kCode] = init.code === undefined ? 0 : init.code;
    this[kReason] = init.reason === undefined ? '' : init.reason;
    this[kWasClean] = init.wasClean === undefined ? false : init.wasClean;
  }

  /** The close status: the peer's, 1005 if its close frame had none, 1006 if none arrived. */
  get code(): number {
    return this[kCode];
  }

  /** The close reason as a string. */
  get reason(): string {
    return this[kReason];
  }

  /** True when the closing handshake completed: a close frame was both sent and received. */
  get wasClean(): boolean {
    return this[kWasClean];
  }
}

/** What `new ErrorEvent(type, init)` accepts. */
export interface ErrorEventInit {
  /** The error (default null). */
  error?: unknown;
  /** Its message (default ''). */
  message?: string;
}

/** The event of a failed connection (ws's shape: it carries the Error). */
export class ErrorEvent extends Event {
  /** @internal */ [kError]: unknown;
  /** @internal */ [kMessage]: string;

  /** Creates an error event; absent fields default to null and ''. */
  constructor(type: string, init: ErrorEventInit = {}) {
    super(type);
    this[kError] = init.error === undefined ? null : init.error;
    this[kMessage] = init.message === undefined ? '' : init.message;
  }

  /** The Error that failed the connection. */
  get error(): unknown {
    return this[kError];
  }

  /** The error's message. */
  get message(): string {
    return this[kMessage];
  }
}

// ws's event attributes are enumerable accessors on the prototypes (so `for...in` lists them); match it.
for (const [cls, names] of [
  [Event, ['target', 'type']],
  [MessageEvent, ['data']],
  [CloseEvent, ['code', 'reason', 'wasClean']],
  [ErrorEvent, ['error', 'message']],
] as const) {
  for (const name of names) {
    const desc = Object.getOwnPropertyDescriptor(cls.prototype, name) as PropertyDescriptor;
    Object.defineProperty(cls.prototype, name, { ...desc, enumerable: true });
  }
}

/** The event types a WebSocket fires. */
export type WebSocketEventType = 'open' | 'message' | 'close' | 'error';

/**
 * A DOM-style listener: a function, or an object whose `handleEvent` is called. Its parameter is
 * checked bivariantly (as DOM listener types are), so listeners written for `@types/ws`'s narrower
 * event shapes (a MessageEvent whose `data` is no Blob) are accepted.
 */
export type EventListenerLike<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | { handleEvent(event: E): void };

/** An `on*` attribute's handler: called with the WebSocket as `this` (parameter checked bivariantly). */
export type EventHandler<This, E> = { bivarianceHack(this: This, event: E): void }['bivarianceHack'];

/** An event as its listeners see it: its `target` is the object it was fired at (the WebSocket). */
export type TargetedEvent<E, Target> = Omit<E, 'target'> & { readonly target: Target };

/** The event object each type is fired with. */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  close: CloseEvent;
  error: ErrorEvent;
}

/** Options of `addEventListener` (ws honours `once` only). */
export interface AddEventListenerOptions {
  /** Remove the listener after its first call. */
  once?: boolean;
}

/**
 * The members `applyEventTarget` installs, for declaration merging on the class it is applied to
 * (`interface WebSocket extends EventTargetMixin {}`).
 */
export interface EventTargetMixin {
  /**
   * Adds a W3C listener for 'open', 'message', 'close' or 'error' (other types are ignored). The
   * same listener added twice for one type is called once.
   */
  addEventListener<K extends WebSocketEventType>(
    type: K,
    listener: EventListenerLike<TargetedEvent<WebSocketEventMap[K], this>>,
    options?: AddEventListenerOptions,
  ): void;
  /** Removes a listener added with `addEventListener` (never one set through an `on*` attribute). */
  removeEventListener<K extends WebSocketEventType>(
    type: K,
    listener: EventListenerLike<TargetedEvent<WebSocketEventMap[K], this>>,
  ): void;
  /** The 'open' handler, or null. Setting a non-function removes it. */
  onopen: EventHandler<this, TargetedEvent<Event, this>> | null;
  /** The 'message' handler, or null. Setting a non-function removes it. */
  onmessage: EventHandler<this, TargetedEvent<MessageEvent, this>> | null;
  /** The 'close' handler, or null. Setting a non-function removes it. */
  onclose: EventHandler<this, TargetedEvent<CloseEvent, this>> | null;
  /** The 'error' handler, or null. Setting a non-function removes it. */
  onerror: EventHandler<this, TargetedEvent<ErrorEvent, this>> | null;
}

/**
 * What the mixin needs from the class it is applied to: an EventEmitter that fires ws's events and
 * can tell whether close frames went each way (for `wasClean`).
 */
export interface EventTargetHost extends EventEmitter {
  /** @internal */
  readonly _closeFrameReceived: boolean;
  /** @internal */
  readonly _closeFrameSent: boolean;
}

type Listener = EventListenerLike<never>;
/** The function registered on the emitter for one W3C listener. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
type EmitterListener = (...args: any[]) => void;
type Wrapper = EmitterListener & { [kListener]: Listener; [kForOnEventAttribute]: boolean };

/**
 * Calls one listener as the DOM's "inner invoke" does: a function with `this` = the target; an object
 * through its `handleEvent`, looked up at call time, with `this` = the object. Nothing is caught: as
 * in ws, an exception thrown by a listener propagates out of the emitter's `emit`.
 */
function invoke(listener: Listener, target: unknown, event: Event): void {
  if (typeof listener === 'function') {
    (listener as (this: unknown, e: Event) => void).call(target, event);
    return;
  }
  const handleEvent = (listener as { handleEvent?: unknown }).handleEvent;
  if (typeof handleEvent !== 'function') {
    throw new TypeError('The listener is neither a function nor an object with a handleEvent method');
  }
  handleEvent.call(listener, event);
}

/** Builds the emitter-side wrapper for a W3C listener of `type` (null for a type ws does not fire). */
function makeWrapper(type: string, listener: Listener): EmitterListener | null {
  switch (type) {
    case 'open':
      // WHATWG WebSockets, "the WebSocket connection is established", step 4: fire an event named
      // open at the WebSocket object. (Steps 1-3, readyState/extensions/protocol, are the emitter's.)
      return function onOpen(this: EventTargetHost): void {
        const event = new Event('open');
        event[kTarget] = this;
        invoke(listener, this, event);
      };
    case 'message':
      // WHATWG WebSockets, "a WebSocket message has been received": 2. Let dataForEvent be a
      // DOMString containing data if the type is text; for binary, the binaryType's object (the
      // emitter has converted it already). 3. Fire an event named message using MessageEvent, with
      // data initialized to dataForEvent. (Step 1, "if ready state is not OPEN, return", is not
      // applied: ws delivers what arrives before the peer's close frame in CLOSING too.)
      return function onMessage(this: EventTargetHost, data: unknown, isBinary: boolean): void {
        // Text arrives as one Buffer of validated UTF-8.
        const event = new MessageEvent('message', { data: isBinary ? data : String(data) });
        event[kTarget] = this;
        invoke(listener, this, event);
      };
    case 'close':
      // WHATWG WebSockets, "the WebSocket connection is closed": 3. Fire an event named close using
      // CloseEvent, with wasClean true if the connection closed cleanly (RFC 6455 §7.1.4: after the
      // closing handshake completed, i.e. a close frame was both sent and received), code the
      // connection close code, and reason the close reason, UTF-8 decoded without BOM (Buffer's
      // decoder keeps a leading U+FEFF, as "without BOM" requires).
      return function onClose(this: EventTargetHost, code: number, reason: Buffer): void {
        const event = new CloseEvent('close', {
          code,
          reason: reason.toString(),
          wasClean: this._closeFrameReceived && this._closeFrameSent,
        });
        event[kTarget] = this;
        invoke(listener, this, event);
      };
    case 'error':
      // WHATWG WebSockets, "the WebSocket connection is closed", step 2 fires error when the
      // connection was failed; ws fires it with the Error, as an ErrorEvent.
      return function onError(this: EventTargetHost, error: unknown): void {
        const event = new ErrorEvent('error', {
          error,
          message: error !== null && error !== undefined ? (error as { message?: string }).message : undefined,
        });
        event[kTarget] = this;
        invoke(listener, this, event);
      };
    default:
      return null;
  }
}

/** The W3C listener behind an emitter listener, if it is one of our wrappers. */
function isWrapper(fn: unknown): fn is Wrapper {
  return typeof fn === 'function' && (fn as Partial<Wrapper>)[kListener] !== undefined;
}

/**
 * DOM "add an event listener", ws's way: the wrapper goes on the emitter with `on` (or `once`).
 * `attribute` marks the wrapper of an `on*` attribute, which the duplicate check ignores.
 */
function addListener(
  target: EventTargetHost,
  type: string,
  listener: Listener | null | undefined,
  once: boolean,
  attribute: boolean,
): void {
  // DOM, add an event listener: 2. If listener's callback is null, then return.
  if (listener === null || listener === undefined) return;
  // 4. If the event listener list does not already contain one with the same type and callback
  // (our only "capture" is false), append it. Handlers set through on* attributes do not count.
  if (!attribute) {
    for (const fn of target.listeners(type)) {
      if (isWrapper(fn) && fn[kListener] === listener && !fn[kForOnEventAttribute]) return;
    }
  }
  const wrapper = makeWrapper(type, listener) as Wrapper | null;
  if (wrapper === null) return;
  wrapper[kListener] = listener;
  wrapper[kForOnEventAttribute] = attribute;
  if (once) target.once(type, wrapper);
  else target.on(type, wrapper);
}

function addEventListener(
  this: EventTargetHost,
  type: string,
  listener: Listener | null | undefined,
  options?: AddEventListenerOptions,
): void {
  const once = options !== null && typeof options === 'object' && !!options.once;
  addListener(this, type, listener, once, false);
}

function removeEventListener(this: EventTargetHost, type: string, listener: Listener): void {
  // DOM, remove an event listener: remove the one with the same type and callback. `listeners()`
  // returns `once` wrappers unwrapped, and removeListener finds them from the unwrapped function.
  for (const fn of this.listeners(type)) {
    if (isWrapper(fn) && fn[kListener] === listener && !fn[kForOnEventAttribute]) {
      this.removeListener(type, fn);
      return;
    }
  }
}

/** Installs `on<type>` as ws has it: an enumerable accessor pair over an attribute-marked wrapper. */
function defineHandlerAttribute(proto: object, type: WebSocketEventType): void {
  Object.defineProperty(proto, `on${type}`, {
    configurable: true,
    enumerable: true,
    get(this: EventTargetHost): Listener | null {
      for (const fn of this.listeners(type)) {
        if (isWrapper(fn) && fn[kForOnEventAttribute]) return fn[kListener];
      }
      return null;
    },
    set(this: EventTargetHost, handler: unknown): void {
      for (const fn of this.listeners(type)) {
        if (isWrapper(fn) && fn[kForOnEventAttribute]) {
          this.removeListener(type, fn);
          break;
        }
      }
      // Only a function is an event handler (WebIDL EventHandler); anything else just clears it.
      // As in ws, the new handler runs after the listeners already added (it does not keep the old
      // handler's place, as a browser would).
      if (typeof handler !== 'function') return;
      addListener(this, type, handler as Listener, false, true);
    },
  });
}

/**
 * Installs the W3C event API on `proto`, the prototype of an EventEmitter subclass that fires ws's
 * 'open', 'message' (data, isBinary), 'close' (code, reason: Buffer) and 'error' (err) events:
 * `addEventListener`, `removeEventListener` and the `onopen`/`onmessage`/`onclose`/`onerror`
 * attributes. Listeners are called with `this` set to the instance.
 */
export function applyEventTarget(proto: EventTargetHost): void {
  // Plain assignments, so the methods are enumerable as ws's are.
  const target = proto as unknown as Record<string, unknown>;
  target.addEventListener = addEventListener;
  target.removeEventListener = removeEventListener;
  for (const type of ['open', 'error', 'close', 'message'] as const) defineHandlerAttribute(proto, type);
}
