'use strict';
// `require('ws')` inside the packages under test: the repository's own CommonJS entry (dist/index.js).
module.exports = require('../../..');
