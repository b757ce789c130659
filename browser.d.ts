// Types of the `browser` entry (browser.js): the platform's own WebSocket (the DOM's, with `lib: ["dom"]`),
// also as the `WebSocket` property. None of the Node API (servers, topics, options) exists there.
type NativeWebSocket = typeof globalThis extends { WebSocket: infer W } ? W : never;
declare const WebSocket: NativeWebSocket & { readonly WebSocket: NativeWebSocket };
export = WebSocket;
