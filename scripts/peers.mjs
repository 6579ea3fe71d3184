// `npm run peers -- [peer ...]`: the side-by-side harness of ../shared/peers against this
// checkout's build, in one command. The harness folder is read-only and its Thodare adapter
// predates `startApplication`'s `connectors` option, so it is copied (once) to a folder of its own,
// given its dependencies, and its adapter handed the bench connector directly; then every peer
// named runs (three repetitions each, a fresh database per repetition) and the tables print.
// PEERS_PG: an admin URL of a Postgres whose role may CREATE DATABASE (default: this machine's
// shared server); PEERS_RESULTS: where the results go (default: a folder under the temp dir).
// Besides the harness's peers: `thodare-no-read-models` and `thodare-http-no-read-models` (see below).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { harness, pg, root } from './peers-harness.mjs';

const source = resolve(root, '../shared/peers');
const results = process.env.PEERS_RESULTS ?? join(tmpdir(), `thodare-peers-results-${Date.now()}`);
const peers = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['thodare', 'thodare-http', 'dbos', 'openworkflow-c32'];

if (!existsSync(join(source, 'run-all.sh'))) {
  console.error(`no peers harness at ${source} (it comes with the team's shared folder)`);
  process.exit(2);
}
if (!existsSync(join(harness, 'node_modules'))) {
  cpSync(source, harness, { recursive: true });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: harness, stdio: 'inherit' });
}

/**
 * `text` with each pair's first text replaced by its second, or the script stops when the result
 * lacks `proof`: the harness's adapter no longer reads as these edits expect.
 */
function edited(text, edits, proof, what) {
  const result = edits.reduce((out, [shipped, patched]) => out.replace(shipped, patched), text);
  if (!result.includes(proof)) {
    console.error(`${adapter} no longer reads as this script expects: ${what} (README, "Side by side with other engines")`);
    process.exit(2);
  }
  return result;
}

const adapter = join(harness, 'adapters/thodare.mjs');
// The harness's adapter handed the bench connector through `startApplication` (see above).
const inProcess = edited(
  readFileSync(adapter, 'utf8'),
  [
    ["  const { registerConnectors } = d('connectors/connector-registry.js');\n", ''],
    ["const { startThodare } = d('main.js')", "const { startApplication: startThodare } = d('main.js')"],
    ['registerConnectors(defineConnector({', 'const benchStep = (defineConnector({'],
    ['roles: { api: true, worker: true } });', 'roles: { api: true, worker: true }, connectors: [benchStep] });'],
  ],
  'connectors: [benchStep]',
  'patch it by hand',
);
writeFileSync(adapter, inProcess);

// `thodare-no-read-models`: the same in process, with the worker keeping no read models
// (`THODARE_WORKER_PROJECTIONS=false`): what the run path costs alone, beside what the audit
// sealer, the run logs, analytics and event counts add in the same process (the others keep none).
const bare = edited(
  inProcess,
  [
    ['THODARE_SCHEMA: schema,', "THODARE_SCHEMA: schema, THODARE_WORKER_PROJECTIONS: 'false',"],
    ["name: 'thodare (in process, command bus)'", "name: 'thodare (in process, no read models)'"],
  ],
  "THODARE_WORKER_PROJECTIONS: 'false'",
  'the no-read-models adapter cannot be derived from it',
);
writeFileSync(join(harness, 'adapters/thodare-no-read-models.mjs'), bare);
// `thodare-http-no-read-models`: the same over HTTP, for the HTTP rows' share of the read models.
writeFileSync(
  join(harness, 'adapters/thodare-http-no-read-models.mjs'),
  "import { createThodare } from './thodare-no-read-models.mjs';\nexport const create = (pgUrl) => createThodare(pgUrl, { mode: 'http' });\n",
);

/** Each peer's medians from its newest results file. */
function latestMedians(folder) {
  const medians = new Map();
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
    const result = JSON.parse(readFileSync(join(folder, file), 'utf8'));
    medians.set(result.peer, result.median);
  }
  return medians;
}

/** The harness's rows, each with the direction that is better. */
const ROWS = [
  ['W3 runs/s', 'w3.runs_per_s', 'higher'],
  ['W3 p50 ms', 'w3.p50_ms', 'lower'],
  ['W3 p99 ms', 'w3.p99_ms', 'lower'],
  ['serial p50 ms', 'w3serial.p50_ms', 'lower'],
  ['serial p99 ms', 'w3serial.p99_ms', 'lower'],
  ['C100 ms', 'c100.total_ms', 'lower'],
  ['S1 lateness ms', 's1.lateness_ms', 'lower'],
  ['W3 Node CPU ms/run', 'w3.cpu.node_cpu_ms_per_run', 'lower'],
  ['W3 machine CPU ms/run', 'w3.cpu.machine_busy_ms_per_run', 'lower'],
  ['serial machine CPU ms/run', 'w3serial.cpu.machine_busy_ms_per_run', 'lower'],
  ['C100 Node CPU ms', 'c100.cpu.node_cpu_ms', 'lower'],
  ['C100 machine CPU ms', 'c100.cpu.machine_busy_ms', 'lower'],
];

/**
 * Every Thodare peer against every other engine, row by row, on the medians: where it is behind or
 * level, and whether it is ahead on every row ("ahead of every peer on every row, in the same
 * run", issue 14). Machine CPU comes from /proc/stat in steps of 10 ms, so level readings occur.
 */
function printVerdicts(medians) {
  const ours = [...medians.keys()].filter((peer) => peer.startsWith('thodare'));
  const others = [...medians.keys()].filter((peer) => !peer.startsWith('thodare'));
  if (ours.length === 0 || others.length === 0) return;
  console.log('\nThodare against each other engine, on the medians (behind or level: bold):\n');
  const pairs = ours.flatMap((a) => others.map((b) => [a, b]));
  console.log(`| row | ${pairs.map(([a, b]) => `${a} vs ${b}`).join(' | ')} |`);
  console.log(`|---|${pairs.map(() => '---').join('|')}|`);
  const short = new Map(pairs.map(([a, b]) => [`${a} vs ${b}`, []]));
  for (const [label, key, better] of ROWS) {
    const cells = pairs.map(([a, b]) => {
      const [x, y] = [medians.get(a)?.[key], medians.get(b)?.[key]];
      if (x == null || y == null) return '–';
      const ahead = better === 'higher' ? x > y : x < y;
      if (!ahead) short.get(`${a} vs ${b}`).push(`${label} (${x === y ? 'level' : 'behind'})`);
      const text = `${round(x)} / ${round(y)}`;
      return ahead ? text : `**${text}**`;
    });
    console.log(`| ${label} | ${cells.join(' | ')} |`);
  }
  console.log('');
  for (const [pair, rows] of short) console.log(`${pair}: ${rows.length === 0 ? 'ahead on every row' : `not ahead on ${rows.join(', ')}`}`);
}

function round(value) {
  if (Number.isInteger(value) || Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(value >= 10 ? 1 : 2);
}

const env = { ...process.env, PEERS_RESULTS: results };
execFileSync('bash', [join(harness, 'run-all.sh'), pg, ...peers], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync('node', [join(harness, 'summarize.mjs')], { cwd: root, env, stdio: 'inherit' });
printVerdicts(latestMedians(results));
console.log(`\nresults: ${results}`);
