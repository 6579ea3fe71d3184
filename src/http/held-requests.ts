import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError } from '../errors';
import { ConcurrencyLimit } from './concurrency-limit';

/** What a client is asked to wait before it tries to open another stream. */
const RETRY_AFTER_MS = 5_000;

/**
 * Requests that hold their connection open after they are admitted: run streams (SSE, for as long
 * as the run lasts, which can be days), NDJSON audit exports, and `?waitMs=` waits. Each holds a
 * socket (a file descriptor) and some memory. They are counted per organization and per process,
 * so that one organization, or one runaway client, cannot take every socket the process may open
 * and leave the other organizations' requests unanswered. The counts are this process's only: a
 * deployment of N API instances holds up to N times as many.
 */
@Injectable()
export class HeldRequests {
  private readonly held: ConcurrencyLimit;

  constructor(@Inject(CONFIG) private readonly config: Pick<Config, 'maxHeldRequestsPerOrg' | 'maxHeldRequests'>) {
    this.held = new ConcurrencyLimit(config.maxHeldRequestsPerOrg, config.maxHeldRequests);
  }

  /** A hold for one request of `organizationId`, or undefined when either limit is reached. Calling it releases the hold (once; later calls do nothing). */
  tryHold(organizationId: string): (() => void) | undefined {
    return this.held.tryTake(organizationId);
  }

  /** A hold for a request that cannot do without one (a stream); 429 `too_many_streams` when there is none to give. */
  hold(organizationId: string, what: string): () => void {
    const release = this.held.tryTake(organizationId);
    if (release) return release;
    const { maxHeldRequestsPerOrg: perOrganization, maxHeldRequests: perProcess } = this.config;
    throw new AppError(
      'too_many_streams',
      `Cannot open the ${what}: this organization already holds ${perOrganization} open streams and waits on this instance (THODARE_MAX_HELD_REQUESTS_PER_ORG), or the instance holds ${perProcess} (THODARE_MAX_HELD_REQUESTS). Close a stream you no longer read, or retry later.`,
      { retryAfterMs: RETRY_AFTER_MS },
    );
  }

  /** Requests held now: of one organization, or of the process. */
  count(organizationId?: string): number {
    return this.held.count(organizationId);
  }
}
