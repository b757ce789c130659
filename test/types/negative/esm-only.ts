// ESM consumers: names the ESM entry (wrapper.mjs) does not export must not type-check as values, since
// Node throws on them (a SyntaxError at link time). `Server` is a type there, as in @types/ws (so that
// `declare module 'weft' { interface Server { ... } }` works), not a value. (Compiled in a project of its
// own: see run.js.)
import { Server } from 'weft';
import * as weft from 'weft';
// @ts-expect-error ws's ESM entry has no `Server` value (use WebSocketServer or WebSocket.Server)
void Server;
// @ts-expect-error nor has its module namespace
void weft.Server;
const typed: Server | null = null;
void typed;
