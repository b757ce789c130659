#!/usr/bin/env node
'use strict';
// `weft connect URL` / `weft listen PORT`: see `weft --help`. The code is lib/cli/, compiled to dist/.
require('../dist/lib/cli/main.js').main(process.argv.slice(2));
