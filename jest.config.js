// Two projects: `unit` never touches a database; `integration` (test/integration, test/e2e, test/browser)
// talks to a real Postgres — DATABASE_URL when set, otherwise an embedded one the global
// setup starts once for the whole run. Each integration test file creates its own schema.
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc.jest.json`, 'utf8'));
const transform = { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] };

module.exports = {
  testTimeout: 60_000,
  // Two test files at a time: most wait on timers, child processes and the database rather than
  // burn CPU (on a 2-core machine the files' own times summed to 569 s in a run of 286 s). Three
  // at a time were no faster (334 s within the same hour) and loaded the machine past what the
  // cost tests allow (sse-idle-cost counted 64.6 transactions a second against 20 alone). Each
  // file has its own schema; tests that read up to the server's open-transaction horizon wait for it.
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      transform,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
    },
    {
      displayName: 'integration',
      transform,
      testEnvironment: 'node',
      // test/browser: the web console in Debian's chromium (playwright-core) against a real app.
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/browser/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      slowTestThreshold: 30,
    },
  ],
};
