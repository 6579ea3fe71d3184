// `node scripts/peers-jit.mjs [peer]`: one pass of the peers harness's order (10 warm-up runs, a W3
// burst of 300, 50 serial W3 runs, C100, S1) against one peer in a fresh process and database, with
// what V8's optimising compiler did in each phase beside the phase's figures. The harness's rows
// are measured in a fresh process, so a phase's CPU includes the TurboFan compiles of the code that
// first gets hot in it; this says how much. Run `npm run peers -- <peer>` once first: it makes the
// harness copy and the adapters this script loads ($TMPDIR/thodare-peers). PEERS_PG: as for
// `npm run peers`. Prints JSON.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harness, pg, root } from './peers-harness.mjs';

const PHASE = '@@phase ';
const RESULT = '@@result ';

if (process.argv[2] === '--child') await measure(process.argv[3]);
else await observe(process.argv[2] ?? 'thodare');

/** The parent: runs the pass in a child under `--trace-opt --trace-deopt` and sorts V8's lines by phase. */
async function observe(peer) {
  if (!existsSync(join(harness, 'adapters', `${peer}.mjs`))) {
    console.error(`no adapter ${peer} in ${harness}: run \`npm run peers -- ${peer}\` once first`);
    process.exit(2);
  }
  const child = spawn(process.execPath, ['--trace-opt', '--trace-deopt', fileURLToPath(import.meta.url), '--child', peer], {
    env: { ...process.env, THODARE_MAIN: root, THODARE_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const phases = {};
  let phase = 'start';
  let figures;
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith(PHASE)) phase = line.slice(PHASE.length);
      else if (line.startsWith(RESULT)) figures = JSON.parse(line.slice(RESULT.length));
      else tally((phases[phase] ??= { compiles: 0, compileMs: 0, deopts: 0, byFunction: {} }), line);
    }
  });
  const code = await new Promise((done) => child.on('close', done));
  if (code !== 0 || !figures) {
    console.error(`the pass failed (exit ${code})`);
    process.exit(1);
  }
  const v8 = Object.fromEntries(
    Object.entries(phases).map(([name, p]) => [
      name,
      {
        compiles: p.compiles,
        compileMs: round(p.compileMs),
        deopts: p.deopts,
        costliest: Object.entries(p.byFunction).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([fn, ms]) => `${fn} ${round(ms)} ms`),
      },
    ]),
  );
  console.log(JSON.stringify({ peer, ...figures, v8, what: 'compileMs: the TurboFan compiles finished in the phase, as V8 times them (mostly on its background threads, counted in the process CPU)' }, null, 2));
}

/** One line of V8's trace: a finished TurboFan compile (its three timed stages) or a deoptimisation. */
function tally(p, line) {
  const compiled = /^\[completed compiling .*<JSFunction (?:(\S+) )?\(sfi.*took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
  if (compiled) {
    const ms = Number(compiled[2]) + Number(compiled[3]) + Number(compiled[4]);
    const fn = compiled[1] || '(anonymous)';
    p.compiles += 1;
    p.compileMs += ms;
    p.byFunction[fn] = (p.byFunction[fn] ?? 0) + ms;
  } else if (line.startsWith('[bailout (kind: deopt')) p.deopts += 1;
}

/** The child: the harness's order, each phase announced on stdout (V8 writes its trace there too). */
async function measure(peer) {
  const pgLib = createRequire(join(root, 'package.json'))('pg');
  const { create } = await import(join(harness, 'adapters', `${peer}.mjs`));
  const { warmup, w3, w3serial, c100, s1, withCpu } = await import(join(harness, 'workloads.mjs'));
  const admin = new pgLib.Client(pg);
  await admin.connect();
  const database = `jit_${process.pid}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const at = (phase) => console.log(PHASE + phase);
  try {
    const engine = await create(pg.replace(/\/[^/]*$/, `/${database}`));
    try {
      at('warmup');
      await warmup(engine, 10);
      at('w3');
      const burst = await withCpu(() => w3(engine, { n: 300 }), 300);
      at('w3serial');
      const serial = await withCpu(() => w3serial(engine, { n: 50 }), 50);
      at('c100');
      const chain = await withCpu(() => c100(engine), 1);
      at('s1');
      const sleep = await s1(engine);
      at('end');
      console.log(
        RESULT +
          JSON.stringify({
            w3: { runsPerSec: burst.runs_per_s, nodeCpuMsPerRun: burst.cpu.node_cpu_ms_per_run, machineCpuMsPerRun: burst.cpu.machine_busy_ms_per_run },
            w3serial: { p50Ms: serial.p50_ms, p99Ms: serial.p99_ms, nodeCpuMsPerRun: serial.cpu.node_cpu_ms_per_run, machineCpuMsPerRun: serial.cpu.machine_busy_ms_per_run },
            c100: { ms: chain.total_ms, nodeCpuMs: chain.cpu.node_cpu_ms, machineCpuMs: chain.cpu.machine_busy_ms },
            s1: { latenessMs: sleep.lateness_ms },
          }),
      );
    } finally {
      await engine.shutdown();
    }
  } finally {
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
  }
  process.exit(0);
}

function round(ms) {
  return Math.round(ms * 10) / 10;
}
