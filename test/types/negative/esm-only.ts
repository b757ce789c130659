// ESM consumers: names the ESM entry (wrapper.mjs) does not export must not type-check, since Node
// throws on them (a SyntaxError at link time).
// @ts-expect-error ws's ESM entry has no `Server` (use WebSocketServer or WebSocket.Server)
import { Server } from 'weft';
void Server;
