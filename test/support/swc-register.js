/* eslint-disable -- plain CommonJS that node loads before any TypeScript can be compiled */
'use strict';
// Lets a child process `require` the TypeScript sources directly (as jest does), so crash tests
// can spawn real worker processes without a build: `node -r ./test/support/swc-register.js x.ts`.
const fs = require('node:fs');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const config = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '.swcrc.jest.json'), 'utf8'));

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...config, swcrc: false, filename });
  module._compile(code, filename);
};
