'use strict';
// Runs the core and native suites again with the native paths switched off (WS_NO_BUFFER_UTIL,
// WS_NO_UTF_8_VALIDATE), as a user without the addon gets them: the pure-JS fallback must pass alone.
const { rerun } = require('./support/rerun');

rerun('again with WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1 (pure-JS fallback)', { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' }, [
  'test/protocol',
  'test/native',
  'test/fuzz',
]);
