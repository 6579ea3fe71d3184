/* eslint-disable -- plain CommonJS that node loads before any TypeScript can be compiled */
'use strict';
// Lets a child process `require` the TypeScript sources directly (as jest does), so crash tests
// can spawn real worker processes without a build: `node -r ./test/support/swc-register.js x.ts`.
//
// Every spawned worker loads the same few hundred files, so each file's output is cached by what
// determines it (swc's version, the config, the file's name and its exact source): an edited
// file is compiled afresh, an unchanged one is read back instead of compiled again.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const configText = fs.readFileSync(path.join(ROOT, '.swcrc.jest.json'), 'utf8');
const config = JSON.parse(configText);
const swcVersion = require('@swc/core/package.json').version;
const cacheDir = path.join(ROOT, 'node_modules', '.cache', 'thodare-swc-register');

let swc;
function compile(source, filename) {
  swc ??= require('@swc/core');
  return swc.transformSync(source, { ...config, swcrc: false, filename }).code;
}

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(`${swcVersion}\0${configText}\0${filename}\0`).update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = compile(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      // Written aside and renamed: processes starting together never read a half-written file.
      const temp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(temp, code);
      fs.renameSync(temp, cached);
    } catch {
      // An unwritable cache only costs the next process a compile.
    }
  }
  module._compile(code, filename);
};
