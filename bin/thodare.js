#!/usr/bin/env node
'use strict';
// The compiled CLI lives in dist/ (built by `npm install` through the `prepare` script).
let cli;
try {
  cli = require('../dist/src/cli/thodare.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli/thodare.js')) {
    process.stderr.write('thodare: not built yet; run `npm run build` first\n');
    process.exit(1);
  }
  throw error;
}
cli.main(process.argv);
