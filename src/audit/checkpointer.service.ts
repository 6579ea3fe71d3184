import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { classifyDatabaseError } from '../database/pg-errors';
import { everyPeriod, type Periodic } from '../periodic';
import { signCheckpoint, type SignedCheckpoint } from './proof/checkpoint';
import { digestHex } from './proof/hash-chain';
import { MerkleFrontier } from './proof/merkle';
import { AuditSigningKeyProvider } from './audit-signing-key';
import { insertCheckpoints } from './audit-rows';

/** How often the checkpointer looks for organizations due a checkpoint. */
const LOOK_INTERVAL_MS = 1_000;

interface DueRow {
  organization_id: string;
  sequence: string;
  chain: Buffer;
  merkle_frontier: Buffer;
  number: number | null;
  hash: string | null;
}

/**
 * Signs checkpoints in worker processes: for each organization whose seal head moved past its
 * last checkpoint, and whose last checkpoint is at least the interval old, one checkpoint of
 * the head (sequence, chain head, Merkle root, previous checkpoint's hash). Several workers
 * may race: the (organization, number) key lets exactly one checkpoint of each number in.
 */
@Injectable()
export class CheckpointerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private timer: Periodic | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(AuditSigningKeyProvider) private readonly keys: AuditSigningKeyProvider,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { publicKey } = await this.keys.key();
    await this.pool.query('INSERT INTO audit_keys (key_id, algorithm, public_key) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING', [
      publicKey.keyId,
      publicKey.algorithm,
      publicKey.publicKey,
    ]);
    this.timer = everyPeriod(Math.min(LOOK_INTERVAL_MS, this.config.auditCheckpointIntervalMs), () => void this.tick());
  }

  async onApplicationShutdown(): Promise<void> {
    this.timer?.stop();
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.checkpointDue(this.config.auditCheckpointIntervalMs)
      .catch((error: unknown) => {
        if (classifyDatabaseError(error) !== 'unavailable') this.logger.warn({ err: error }, 'audit checkpoint pass failed');
      })
      .finally(() => (this.running = undefined));
  }

  /** One pass; `minAgeMs` 0 checkpoints every organization with unsealed-by-checkpoint events (tests, export). */
  async checkpointDue(minAgeMs: number): Promise<SignedCheckpoint[]> {
    const { rows } = await this.pool.query<DueRow>(
      `SELECT h.organization_id, h.sequence, h.chain, h.merkle_frontier, c.number, c.hash
       FROM audit_heads h
       LEFT JOIN LATERAL (
         SELECT number, sequence, hash, created_at FROM audit_checkpoints c
         WHERE c.organization_id = h.organization_id ORDER BY number DESC LIMIT 1
       ) c ON true
       WHERE h.sequence > coalesce(c.sequence, 0)
         AND (c.created_at IS NULL OR c.created_at::timestamptz <= now() - make_interval(secs => $1::float8 / 1000))
       LIMIT 1000`,
      // As text: a list of numbers alone is an array of another kind than every other statement's
      // parameters, and the first of these passes (a second after the start) deoptimised pg's
      // serializer, which all statements share: compiled again, 10-35 ms of CPU in a fresh process.
      [String(minAgeMs)],
    );
    if (rows.length === 0) return [];
    const { privateKey, publicKey } = await this.keys.key();
    const createdAt = new Date().toISOString();
    const checkpoints = rows.map((row) => {
      const sequence = Number(row.sequence);
      const checkpoint = signCheckpoint(
        {
          version: 1,
          organizationId: row.organization_id,
          number: (row.number ?? 0) + 1,
          sequence,
          chainHead: row.chain.toString('hex'),
          merkleRoot: digestHex(MerkleFrontier.decode(sequence, row.merkle_frontier).root()),
          previousHash: row.hash,
          keyId: publicKey.keyId,
          createdAt,
        },
        privateKey,
      );
      return { checkpoint, merkleFrontier: row.merkle_frontier };
    });
    return insertCheckpoints(this.pool, checkpoints);
  }
}
